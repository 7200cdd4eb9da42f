import {
  SynthesisSession,
  extractFeatures,
  modelInputSize,
  pixelParam
} from "./chunk-RJFHHHPN.js";
import {
  softmax
} from "./chunk-R7SGPERG.js";
import {
  gaussian,
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/synthesize/adversarial.js
function crossEntropy(onehot, sign) {
  return {
    key: `xent(${onehot.dims.join("x")},${sign})`,
    label: "cross-entropy",
    layers: (m) => [m.output],
    build(ctx) {
      const b = ctx.b;
      const y = ctx.input(`${ctx.scope}onehot`, [...onehot.dims]);
      const logp = b.op("LogSoftmax", [ctx.logits()], { axis: 1 });
      const ce = b.op("Neg", [b.op("ReduceSum", [b.op("Mul", [logp, y])], { keepdims: 0 })]);
      ctx.report("cross-entropy", ce);
      return sign === 1 ? ce : b.op("Neg", [ce]);
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}onehot`, onehot]])
  };
}
function resolveClass(model, c) {
  if (typeof c === "number" || /^\d+$/.test(c)) {
    const k2 = Number(c);
    if (k2 < 0 || k2 >= model.labels.length)
      throw new ConvLensError("INVALID_ARGUMENT", `Class ${k2} does not exist: the model has ${model.labels.length} classes.`);
    return k2;
  }
  const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");
  const k = model.labels.findIndex((l) => norm(l) === norm(c));
  if (k < 0)
    throw new ConvLensError("UNKNOWN_NAME", `No class "${c}" in model "${model.name}".`, `Classes: ${model.labels.slice(0, 12).join(", ")}.`);
  return k;
}
function project(x0, x, per, norm, eps) {
  for (let s = 0; s < x.length; s += per) {
    if (norm === "linf") {
      for (let i = s; i < s + per; i++)
        x[i] = Math.min(1, Math.max(0, Math.min(x0[i] + eps, Math.max(x0[i] - eps, x[i]))));
    } else {
      for (let rep = 0; rep < 3; rep++) {
        let n = 0;
        for (let i = s; i < s + per; i++)
          n += (x[i] - x0[i]) ** 2;
        n = Math.sqrt(n);
        const k = n > eps ? eps / n : 1;
        for (let i = s; i < s + per; i++)
          x[i] = Math.min(1, Math.max(0, x0[i] + (x[i] - x0[i]) * k));
      }
    }
  }
}
function direction(g, per, norm) {
  const d = new Float32Array(g.length);
  for (let s = 0; s < g.length; s += per) {
    if (norm === "linf")
      for (let i = s; i < s + per; i++)
        d[i] = Math.sign(g[i]);
    else {
      let n = 0;
      for (let i = s; i < s + per; i++)
        n += g[i] * g[i];
      n = Math.sqrt(n) || 1;
      for (let i = s; i < s + per; i++)
        d[i] = g[i] / n;
    }
  }
  return d;
}
async function attack(model, images, o = {}) {
  const method = o.method ?? "pgd";
  const norm = o.norm ?? "linf";
  const eps = o.epsilon ?? (norm === "linf" ? 8 / 255 : 1);
  const steps = method === "fgsm" ? 1 : o.steps ?? 40;
  const stepSize = method === "fgsm" ? eps : o.stepSize ?? 2.5 * eps / steps;
  if (!(eps > 0))
    throw new ConvLensError("INVALID_ARGUMENT", `The budget epsilon must be > 0, got ${eps}.`);
  const [N, C, H, W] = images.dims;
  const fixed = modelInputSize(model);
  if (fixed && (fixed[0] !== H || fixed[1] !== W))
    throw new ConvLensError("SHAPE_MISMATCH", `The images are ${H}x${W}; the model takes ${fixed[0]}x${fixed[1]}.`);
  const per = C * H * W;
  const x0 = Float32Array.from(images.data);
  const K = model.labels.length;
  const shape = { batch: N, channels: C, height: H, width: W };
  const param = pixelParam({ range: "clip" });
  const clean = await logitsOf(model, shape, x0);
  const cleanPred = rows(clean, N, K).map((z) => top(model, z));
  const target = o.target !== void 0 ? resolveClass(model, o.target) : void 0;
  const labels = o.labels ?? cleanPred.map((p) => p.index);
  const onehot = new Float32Array(N * K);
  for (let i = 0; i < N; i++)
    onehot[i * K + (target ?? labels[i])] = 1;
  const session = await SynthesisSession.create({ model, shape, param, objective: crossEntropy({ dtype: "float32", dims: [N, K], data: onehot }, target === void 0 ? 1 : -1) }, [model.output]);
  const x = Float32Array.from(x0);
  if (method === "pgd" && o.randomStart) {
    const rand = seededRandom(o.seed ?? 0);
    for (let i = 0; i < x.length; i++)
      x[i] = x0[i] + (norm === "linf" ? (2 * rand() - 1) * eps : gaussian(rand) * eps / Math.sqrt(per));
    project(x0, x, per, norm, eps);
  }
  const history = [];
  for (let s = 0; s < steps; s++) {
    throwIfCancelled(o.signal, "the attack");
    const r = await session.step(x);
    history.push(r.terms["cross-entropy"] ?? -r.value);
    const d = direction(r.grad, per, norm);
    for (let i = 0; i < x.length; i++)
      x[i] += stepSize * d[i];
    project(x0, x, per, norm, eps);
    o.onProgress?.({ done: s + 1, total: steps, phase: method.toUpperCase(), metrics: { "cross-entropy": history[history.length - 1] } });
  }
  const adv = await logitsOf(model, shape, x);
  const perImage = [];
  const delta = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++)
    delta[i] = x[i] - x0[i];
  rows(adv, N, K).forEach((z, i) => {
    const p = softmax(z);
    const a = top(model, z);
    let linf = 0;
    let l2 = 0;
    for (let q = i * per; q < (i + 1) * per; q++) {
      linf = Math.max(linf, Math.abs(delta[q]));
      l2 += delta[q] ** 2;
    }
    perImage.push({
      original: cleanPred[i],
      adversarial: a,
      originalClassProbability: p[labels[i]],
      ...target !== void 0 ? { targetProbability: p[target] } : {},
      success: target !== void 0 ? a.index === target : a.index !== labels[i],
      linf,
      l2: Math.sqrt(l2)
    });
  });
  return {
    images: { dtype: "float32", dims: [N, C, H, W], data: x },
    perturbation: { dtype: "float32", dims: [N, C, H, W], data: delta },
    perImage,
    params: { method, norm, epsilon: eps, stepSize, steps, target: target ?? null, randomStart: !!o.randomStart, seed: o.seed ?? 0 },
    history
  };
}
async function logitsOf(model, shape, x) {
  const [z] = await extractFeatures(model, { dtype: "float32", dims: [shape.batch, shape.channels, shape.height, shape.width], data: x }, [{ layer: model.output }]);
  return z.data;
}
function rows(z, n, k) {
  return Array.from({ length: n }, (_, i) => z.subarray(i * k, (i + 1) * k));
}
function top(model, z) {
  const p = softmax(z);
  let best = 0;
  for (let k = 1; k < p.length; k++)
    if (p[k] > p[best])
      best = k;
  return { index: best, label: model.labels[best] ?? `class ${best}`, probability: p[best] };
}

export {
  attack
};
