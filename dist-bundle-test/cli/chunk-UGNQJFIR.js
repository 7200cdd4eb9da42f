import {
  gramMatrix
} from "./chunk-RJFHHHPN.js";
import {
  createOptimizer
} from "./chunk-UHZBCOBN.js";
import {
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/synthesize/objectives.js
var none = () => /* @__PURE__ */ new Map();
function leaf(key, layers, build, label) {
  return { key, layers, build, feeds: none, ...label ? { label } : {} };
}
function sumAll(b, x) {
  return b.op("ReduceSum", [x], { keepdims: 0 });
}
function pickBatch(b, x, batch) {
  if (batch === void 0)
    return x;
  return b.op("Slice", [x, b.ints([batch]), b.ints([batch + 1]), b.ints([0])]);
}
function shapeOf(ctx, name) {
  return ctx.b.staticShape(name);
}
function meanPerImage(b, x) {
  const rank = b.shapeOf(x).length;
  if (rank === 1)
    return x;
  return b.op("ReduceMean", [x], { axes: Array.from({ length: rank - 1 }, (_, i) => i + 1), keepdims: 0 });
}
function channelCheck(ctx, layer, c) {
  const s = shapeOf(ctx, layer);
  if (!(c >= 0 && c < s[1]))
    throw new ConvLensError("INVALID_ARGUMENT", `Layer "${layer}" has ${s[1]} channels; channel ${c} does not exist.`, `Use a channel from 0 to ${s[1] - 1}.`);
  return s;
}
function channel(layer, c, batch) {
  return leaf(`channel(${layer},${c},${batch ?? "*"})`, (m) => [m.resolveLayer(layer)], (ctx) => {
    const L = ctx.layer(layer);
    channelCheck(ctx, L, c);
    const sl = ctx.b.op("Slice", [L, ctx.b.ints([c]), ctx.b.ints([c + 1]), ctx.b.ints([1])]);
    return sumAll(ctx.b, meanPerImage(ctx.b, pickBatch(ctx.b, sl, batch)));
  });
}
function neuron(layer, c, y, x, batch) {
  return leaf(`neuron(${layer},${c},${y ?? "c"},${x ?? "c"},${batch ?? "*"})`, (m) => [m.resolveLayer(layer)], (ctx) => {
    const L = ctx.layer(layer);
    const s = channelCheck(ctx, L, c);
    if (s.length !== 4)
      return channel(layer, c, batch).build(ctx);
    const yy = y ?? Math.floor(s[2] / 2);
    const xx = x ?? Math.floor(s[3] / 2);
    if (yy < 0 || yy >= s[2] || xx < 0 || xx >= s[3])
      throw new ConvLensError("INVALID_ARGUMENT", `Unit (${yy}, ${xx}) is outside layer "${layer}" (${s[2]}x${s[3]}).`);
    const sl = ctx.b.op("Slice", [L, ctx.b.ints([c, yy, xx]), ctx.b.ints([c + 1, yy + 1, xx + 1]), ctx.b.ints([1, 2, 3])]);
    return sumAll(ctx.b, pickBatch(ctx.b, sl, batch));
  });
}
function layerL2(layer, batch) {
  return leaf(`l2layer(${layer},${batch ?? "*"})`, (m) => [m.resolveLayer(layer)], (ctx) => {
    const L = pickBatch(ctx.b, ctx.layer(layer), batch);
    return sumAll(ctx.b, meanPerImage(ctx.b, ctx.b.op("Mul", [L, L])));
  });
}
function classIndex(model, cls) {
  if (typeof cls === "number") {
    if (!(Number.isInteger(cls) && cls >= 0 && cls < model.labels.length))
      throw new ConvLensError("INVALID_ARGUMENT", `Class ${cls} does not exist: the model has ${model.labels.length} classes.`);
    return cls;
  }
  const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");
  const i = model.labels.findIndex((l) => norm(l) === norm(cls));
  if (i >= 0)
    return i;
  if (/^\d+$/.test(cls))
    return classIndex(model, Number(cls));
  throw new ConvLensError("UNKNOWN_NAME", `No class "${cls}" in model "${model.name}".`, `Classes: ${model.labels.slice(0, 12).join(", ")}${model.labels.length > 12 ? ", ..." : ""}.`);
}
function classLogit(cls, batch) {
  return leaf(`logit(${cls},${batch ?? "*"})`, (m) => [m.output], (ctx) => {
    const k = classIndex(ctx.model, cls);
    const z = ctx.logits();
    const sl = ctx.b.op("Slice", [z, ctx.b.ints([k]), ctx.b.ints([k + 1]), ctx.b.ints([1])]);
    return sumAll(ctx.b, pickBatch(ctx.b, sl, batch));
  });
}
function classLogits(classes, numClasses) {
  const onehot = new Float32Array(classes.length * numClasses);
  classes.forEach((k, n) => {
    if (!(Number.isInteger(k) && k >= 0 && k < numClasses))
      throw new ConvLensError("INVALID_ARGUMENT", `Class ${k} does not exist: the model has ${numClasses} classes.`, `Use classes from 0 to ${numClasses - 1}.`);
    onehot[n * numClasses + k] = 1;
  });
  const fed = { dtype: "float32", dims: [classes.length, numClasses], data: onehot };
  return {
    key: `classlogits(${classes.length}x${numClasses})`,
    label: "class logits",
    layers: (m) => [m.output],
    build(ctx) {
      const y = ctx.input(`${ctx.scope}classes`, [classes.length, numClasses]);
      return sumAll(ctx.b, ctx.b.op("Mul", [ctx.logits(), y]));
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}classes`, fed]])
  };
}
function classProb(cls, batch) {
  return leaf(`prob(${cls},${batch ?? "*"})`, (m) => [m.output], (ctx) => {
    const k = classIndex(ctx.model, cls);
    const p = ctx.b.op("Softmax", [ctx.logits()], { axis: 1 });
    const sl = ctx.b.op("Slice", [p, ctx.b.ints([k]), ctx.b.ints([k + 1]), ctx.b.ints([1])]);
    return sumAll(ctx.b, pickBatch(ctx.b, sl, batch));
  });
}
function direction(layer, vector, batch, tag = "v") {
  const C = vector.length;
  return {
    key: `direction(${layer},${tag},${C},${batch ?? "*"})`,
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const L = ctx.layer(layer);
      const s = shapeOf(ctx, L);
      if (s[1] !== C)
        throw new ConvLensError("INVALID_ARGUMENT", `The direction has ${C} values; layer "${layer}" has ${s[1]} channels.`);
      const vin = ctx.input(`${ctx.scope}direction`, [1, C]);
      const v = s.length === 4 ? ctx.b.op("Reshape", [vin, ctx.b.ints([1, C, 1, 1])]) : vin;
      const dot = ctx.b.op("ReduceSum", [ctx.b.op("Mul", [pickBatch(ctx.b, L, batch), v]), ctx.b.ints([1])], { keepdims: 0 });
      return sumAll(ctx.b, meanPerImage(ctx.b, dot));
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}direction`, { dtype: "float32", dims: [1, C], data: vector }]])
  };
}
function diversity(layer) {
  return leaf(`diversity(${layer})`, (m) => [m.resolveLayer(layer)], (ctx) => {
    const b = ctx.b;
    const L = ctx.layer(layer);
    const N = ctx.batch;
    if (N < 2)
      return b.scalar(0);
    const g = gramMatrix(b, L);
    const norm = b.op("Sqrt", [b.op("Max", [b.op("ReduceSum", [b.op("Mul", [g, g]), b.ints([1, 2])], { keepdims: 1 }), b.scalar(1e-10)])]);
    const gn = b.op("Div", [g, norm]);
    const total = b.op("ReduceSum", [gn, b.ints([0])], { keepdims: 0 });
    const sim = b.op("Div", [b.op("Sub", [sumAll(b, b.op("Mul", [total, total])), b.scalar(N)]), b.scalar(N)]);
    return b.op("Neg", [sim]);
  });
}
function l1(c = 0.5) {
  return leaf(`l1(${c})`, () => [], (ctx) => ctx.b.op("Neg", [ctx.b.op("ReduceMean", [ctx.b.op("Abs", [ctx.b.op("Sub", [ctx.image, ctx.b.scalar(c)])])], { keepdims: 0 })]), "l1");
}
function l2(c = 0.5) {
  return leaf(`l2(${c})`, () => [], (ctx) => {
    const d = ctx.b.op("Sub", [ctx.image, ctx.b.scalar(c)]);
    return ctx.b.op("Neg", [ctx.b.op("Sqrt", [ctx.b.op("Add", [ctx.b.op("ReduceMean", [ctx.b.op("Mul", [d, d])], { keepdims: 0 }), ctx.b.scalar(1e-12)])])]);
  }, "l2");
}
function tv(beta = 1) {
  return leaf(`tv(${beta})`, () => [], (ctx) => {
    const b = ctx.b;
    const [, , H, W] = shapeOf(ctx, ctx.image);
    const dy = b.op("Sub", [b.op("Slice", [ctx.image, b.ints([1]), b.ints([H]), b.ints([2])]), b.op("Slice", [ctx.image, b.ints([0]), b.ints([H - 1]), b.ints([2])])]);
    const dx = b.op("Sub", [b.op("Slice", [ctx.image, b.ints([1]), b.ints([W]), b.ints([3])]), b.op("Slice", [ctx.image, b.ints([0]), b.ints([W - 1]), b.ints([3])])]);
    const f = (d) => beta === 1 ? b.op("Abs", [d]) : b.op("Mul", [d, d]);
    const s = b.op("Add", [b.op("ReduceSum", [f(dy)], { keepdims: 0 }), b.op("ReduceSum", [f(dx)], { keepdims: 0 })]);
    return b.op("Neg", [b.op("Mul", [s, b.scalar(1 / (H * W))])]);
  }, "tv");
}
function imageMatch(target) {
  return {
    key: `imagematch(${target.dims.join("x")})`,
    layers: () => [],
    build(ctx) {
      const t = ctx.input(`${ctx.scope}image`, [...target.dims]);
      const d = ctx.b.op("Sub", [ctx.image, t]);
      return ctx.b.op("Neg", [ctx.b.op("ReduceMean", [ctx.b.op("Mul", [d, d])], { keepdims: 0 })]);
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}image`, target]])
  };
}
function featureMatch(layer, target, label = "content") {
  return {
    key: `featurematch(${layer},${target.dims.join("x")})`,
    label,
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const b = ctx.b;
      const L = ctx.layer(layer);
      const s = shapeOf(ctx, L);
      if (s.slice(1).join("x") !== target.dims.slice(1).join("x")) {
        throw new ConvLensError("SHAPE_MISMATCH", `Target features for "${layer}" have shape [${target.dims.join(", ")}]; the layer gives [${s.join(", ")}].`, "Compute the targets at the same image size.");
      }
      const t = ctx.input(`${ctx.scope}features`, [...target.dims]);
      const axes = b.ints(Array.from({ length: s.length - 1 }, (_, i) => i + 1));
      const d = b.op("Sub", [L, t]);
      const num = b.op("ReduceSum", [b.op("Mul", [d, d]), axes], { keepdims: 0 });
      const den = b.op("Add", [b.op("ReduceSum", [b.op("Mul", [t, t]), axes], { keepdims: 0 }), b.scalar(1e-8)]);
      return b.op("Neg", [sumAll(b, b.op("Div", [num, den]))]);
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}features`, target]])
  };
}
function gramMatch(layer, target, label = "style") {
  return {
    key: `grammatch(${layer},${target.dims.join("x")})`,
    label,
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const b = ctx.b;
      const L = ctx.layer(layer);
      const g = gramMatrix(b, L);
      const t = ctx.input(`${ctx.scope}gram`, [...target.dims]);
      const d = b.op("Sub", [g, t]);
      const num = b.op("ReduceSum", [b.op("Mul", [d, d]), b.ints([1, 2])], { keepdims: 0 });
      const den = b.op("Add", [b.op("ReduceSum", [b.op("Mul", [t, t]), b.ints([1, 2])], { keepdims: 0 }), b.scalar(1e-12)]);
      return b.op("Neg", [sumAll(b, b.op("Div", [num, den]))]);
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}gram`, target]])
  };
}
function guide(layer, guideFeatures) {
  const [C, M] = guideFeatures.dims;
  return {
    key: `guide(${layer},${C}x${M})`,
    label: "guide",
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const b = ctx.b;
      const L = ctx.layer(layer);
      const [N, c, H, W] = shapeOf(ctx, L);
      if (c !== C)
        throw new ConvLensError("SHAPE_MISMATCH", `The guide's features have ${C} channels; layer "${layer}" has ${c}.`);
      const g = ctx.input(`${ctx.scope}guide`, [C, M]);
      const f = b.op("Transpose", [b.op("Reshape", [L, b.ints([N, C, H * W])])], { perm: [0, 2, 1] });
      const sim = b.op("MatMul", [f, g]);
      const best = b.op("ReduceMax", [sim], { axes: [2], keepdims: 0 });
      return sumAll(b, b.op("ReduceMean", [best], { axes: [1], keepdims: 0 }));
    },
    feeds: (scope = "") => /* @__PURE__ */ new Map([[`${scope}guide`, guideFeatures]])
  };
}
function weighted(w, o) {
  return {
    key: `${w}*${o.key}`,
    ...o.label ? { label: o.label } : {},
    layers: (m) => o.layers(m),
    build: (ctx) => ctx.b.op("Mul", [o.build(ctx), ctx.b.scalar(w)]),
    feeds: (scope) => o.feeds(scope)
  };
}
function sum(...terms) {
  if (terms.length === 1)
    return terms[0];
  return {
    key: `sum(${terms.map((t) => t.key).join(";")})`,
    layers: (m) => [...new Set(terms.flatMap((t) => t.layers(m)))],
    build(ctx) {
      const parts = terms.map((t, i) => {
        const v = t.build({ ...ctx, scope: `${ctx.scope}${i}.` });
        return { v, label: t.label };
      });
      const byLabel = /* @__PURE__ */ new Map();
      for (const p of parts)
        if (p.label)
          byLabel.set(p.label, [...byLabel.get(p.label) ?? [], p.v]);
      for (const [label, vs] of byLabel)
        ctx.report(label, vs.length === 1 ? vs[0] : ctx.b.op("Sum", vs));
      return ctx.b.op("Sum", parts.map((p) => p.v));
    },
    feeds(scope = "") {
      const out = /* @__PURE__ */ new Map();
      terms.forEach((t, i) => {
        for (const [k, v] of t.feeds(`${scope}${i}.`))
          out.set(k, v);
      });
      return out;
    }
  };
}
function parseObjective(spec) {
  const terms = spec.split("+").map((s) => s.trim()).filter(Boolean);
  if (!terms.length)
    throw new ConvLensError("INVALID_ARGUMENT", "Empty objective.", 'Examples: class:7, class:"tabby cat", channel:<layer>:5, layer:<layer>, neuron:<layer>:7 (layers as `convlens summary` lists them).');
  return sum(...terms.map(parseTerm));
}
function parseTerm(t) {
  let w = 1;
  const m = /^(-?[\d.]+(?:e-?\d+)?)\s*\*\s*(.*)$/i.exec(t);
  if (m) {
    w = Number(m[1]);
    t = m[2];
  }
  let batch;
  const at = /@(\d+)$/.exec(t);
  if (at) {
    batch = Number(at[1]);
    t = t.slice(0, at.index);
  }
  const parts = t.split(":");
  const kind = parts[0].toLowerCase();
  const int = (s, what) => {
    const n = Number(s);
    if (s === void 0 || !Number.isInteger(n) || n < 0)
      throw new ConvLensError("INVALID_ARGUMENT", `Objective "${t}": ${what} must be an integer >= 0.`);
    return n;
  };
  let o;
  switch (kind) {
    case "class":
    case "logit":
      o = classLogit(/^\d+$/.test(parts.slice(1).join(":")) ? Number(parts[1]) : parts.slice(1).join(":"), batch);
      break;
    case "prob":
      o = classProb(/^\d+$/.test(parts.slice(1).join(":")) ? Number(parts[1]) : parts.slice(1).join(":"), batch);
      break;
    case "channel":
      o = channel(parts[1], int(parts[2], "the channel"), batch);
      break;
    case "neuron":
      o = neuron(parts[1], int(parts[2], "the channel"), parts[3] !== void 0 ? int(parts[3], "y") : void 0, parts[4] !== void 0 ? int(parts[4], "x") : void 0, batch);
      break;
    case "layer":
    case "dream":
      o = layerL2(parts[1], batch);
      break;
    case "diversity":
      o = diversity(parts[1]);
      break;
    default:
      throw new ConvLensError("INVALID_ARGUMENT", `Unknown objective "${t}".`, "Use class:<label or index>, prob:<class>, channel:<layer>:<c>, neuron:<layer>:<c>[:y:x], layer:<layer>, diversity:<layer>; weights as 0.5*term, terms joined with +.");
  }
  if (!parts[1] && kind !== "diversity")
    throw new ConvLensError("INVALID_ARGUMENT", `Objective "${t}" needs a ${kind === "class" || kind === "logit" || kind === "prob" ? "class" : "layer"}.`);
  return w === 1 ? o : weighted(w, o);
}

// dist/methods/synthesize/transforms.js
var pad = (px, fill = "constant") => ({ kind: "pad", px, fill });
var jitter = (px) => ({ kind: "jitter", px });
var randomScale = (factors) => ({ kind: "scale", factors });
var randomRotate = (degrees) => ({ kind: "rotate", degrees });
var roll = (px) => ({ kind: "roll", px });
function standardTransforms(size) {
  const k = size / 224;
  const px = (v) => Math.max(1, Math.round(v * k));
  return [
    pad(px(12)),
    jitter(px(8)),
    randomScale(Array.from({ length: 11 }, (_, i) => 1 + (i - 5) / 50)),
    randomRotate([...Array.from({ length: 21 }, (_, i) => i - 10), 0, 0, 0, 0, 0]),
    jitter(px(4))
  ];
}
function parseTransforms(spec, size) {
  const s = spec.trim().toLowerCase();
  if (s === "none" || s === "")
    return [];
  if (s === "standard")
    return standardTransforms(size);
  return s.split(",").map((part) => {
    const [kind, ...args] = part.trim().split(":");
    const nums = args.map(Number);
    const bad = () => {
      throw new ConvLensError("INVALID_ARGUMENT", `Cannot read transform "${part}".`, 'Use pad:PX[:constant|reflect|edge|wrap], jitter:PX, roll:PX, scale:LO:HI, rotate:DEG, or "standard" / "none".');
    };
    if (nums.slice(0, kind === "pad" ? 1 : nums.length).some((n) => !Number.isFinite(n)))
      bad();
    switch (kind) {
      case "pad":
        return pad(nums[0] ?? bad(), args[1] ?? "constant");
      case "jitter":
        return jitter(nums[0] ?? bad());
      case "scale": {
        const lo = nums[0] ?? bad();
        const hi = nums[1] ?? lo;
        return randomScale(Array.from({ length: 11 }, (_, i) => lo + (hi - lo) * i / 10));
      }
      case "roll":
        return roll(nums[0] ?? bad());
      case "rotate": {
        const d = Math.round(nums[0] ?? bad());
        return randomRotate(Array.from({ length: 2 * d + 1 }, (_, i) => i - d));
      }
      default:
        return bad();
    }
  });
}
var IDENTITY = [1, 0, 0, 0, 1, 0];
function then(p, q) {
  const [a, b, c, d, e, f] = p;
  const [A, B, C, D, E, F] = q;
  return [A * a + B * d, A * b + B * e, A * c + B * f + C, D * a + E * d, D * b + E * e, D * c + E * f + F];
}
function sampleWarp(transforms, h, w, outH, outW, rand) {
  const maps = [];
  let H = h;
  let W = w;
  let fill = "constant";
  for (const t of transforms) {
    switch (t.kind) {
      case "pad": {
        const p = Math.round(t.px);
        if (t.fill)
          fill = t.fill;
        maps.push([1, 0, -p, 0, 1, -p]);
        H += 2 * p;
        W += 2 * p;
        break;
      }
      case "jitter": {
        const d2 = Math.min(Math.round(t.px), H - 1, W - 1);
        const oy = Math.floor(rand() * (d2 + 1));
        const ox = Math.floor(rand() * (d2 + 1));
        maps.push([1, 0, oy, 0, 1, ox]);
        H -= d2;
        W -= d2;
        break;
      }
      case "scale": {
        const f2 = t.factors[Math.floor(rand() * t.factors.length)] ?? 1;
        const nh = Math.max(1, Math.round(H * f2));
        const nw = Math.max(1, Math.round(W * f2));
        const sy = H / nh;
        const sx = W / nw;
        maps.push([sy, 0, 0.5 * sy - 0.5, 0, sx, 0.5 * sx - 0.5]);
        H = nh;
        W = nw;
        break;
      }
      case "roll": {
        const d2 = Math.round(t.px);
        const oy = Math.floor(rand() * (2 * d2 + 1)) - d2;
        const ox = Math.floor(rand() * (2 * d2 + 1)) - d2;
        fill = "wrap";
        maps.push([1, 0, -oy, 0, 1, -ox]);
        break;
      }
      case "rotate": {
        const deg = t.degrees[Math.floor(rand() * t.degrees.length)] ?? 0;
        const a2 = deg * Math.PI / 180;
        const c2 = Math.cos(a2);
        const s = Math.sin(a2);
        const cy = (H - 1) / 2;
        const cx = (W - 1) / 2;
        maps.push([c2, -s, cy - c2 * cy + s * cx, s, c2, cx - s * cy - c2 * cx]);
        break;
      }
    }
  }
  let m = [H / outH, 0, 0.5 * (H / outH) - 0.5, 0, W / outW, 0.5 * (W / outW) - 0.5];
  for (let k = maps.length - 1; k >= 0; k--)
    m = then(m, maps[k]);
  if (!maps.length && H === outH && W === outW)
    m = IDENTITY;
  const [a, b, c, d, e, f] = m;
  const n = outH * outW;
  const indices = new BigInt64Array(4 * n);
  const low = new Int32Array(indices.buffer);
  const weights = new Float32Array(4 * n);
  const FILL = h * w;
  const resolve = (v, size) => {
    if (v >= 0 && v < size)
      return v;
    switch (fill) {
      case "edge":
        return Math.min(size - 1, Math.max(0, v));
      case "wrap":
        return (v % size + size) % size;
      case "reflect": {
        if (size === 1)
          return 0;
        const period = 2 * (size - 1);
        let r = (v % period + period) % period;
        if (r >= size)
          r = period - r;
        return r;
      }
      default:
        return -1;
    }
  };
  const tap = (k, p, yy, xx, wt) => {
    const ry = resolve(yy, h);
    const rx = resolve(xx, w);
    low[2 * (k * n + p)] = ry < 0 || rx < 0 ? FILL : ry * w + rx;
    weights[k * n + p] = wt;
  };
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const y = a * oy + b * ox + c;
      const x = d * oy + e * ox + f;
      const y0 = Math.floor(y + 1e-9);
      const x0 = Math.floor(x + 1e-9);
      const ty = Math.max(0, y - y0);
      const tx = Math.max(0, x - x0);
      const p = oy * outW + ox;
      tap(0, p, y0, x0, (1 - ty) * (1 - tx));
      tap(1, p, y0, x0 + 1, (1 - ty) * tx);
      tap(2, p, y0 + 1, x0, ty * (1 - tx));
      tap(3, p, y0 + 1, x0 + 1, ty * tx);
    }
  }
  return { indices, weights };
}

// dist/methods/synthesize/optimize.js
function frameSteps(steps, count) {
  const out = /* @__PURE__ */ new Set();
  if (count <= 0)
    return out;
  if (count === 1)
    return /* @__PURE__ */ new Set([steps]);
  for (let i = 0; i < count; i++)
    out.add(Math.round(i * steps / (count - 1)));
  return out;
}
function percentileOf(a, p) {
  const s = Float32Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(p / 100 * (s.length - 1))))];
}
function applyRegularizers(theta, grad, param, shape, step, r) {
  const grey = param.clip ? 0.5 : 0;
  if (r.decay)
    for (let i = 0; i < theta.length; i++)
      theta[i] = grey + (theta[i] - grey) * (1 - r.decay);
  if (r.blur && r.blur.every > 0 && (step + 1) % r.blur.every === 0) {
    if (!param.blur)
      throw new ConvLensError("INVALID_ARGUMENT", `The ${param.kind} parameterization cannot be blurred.`);
    param.blur(theta, shape, r.blur.sigma);
  }
  if (r.clipNormPercentile || r.clipContributionPercentile) {
    if (param.kind !== "pixel")
      throw new ConvLensError("INVALID_ARGUMENT", "Norm and contribution clipping need the pixel parameterization.", "Use --param pixel.");
    const { batch: N, channels: C, height: H, width: W } = shape;
    const plane = H * W;
    for (let i = 0; i < N; i++) {
      const norm = new Float32Array(plane);
      const contrib = new Float32Array(plane);
      for (let c = 0; c < C; c++) {
        const o = (i * C + c) * plane;
        for (let p = 0; p < plane; p++) {
          const d = theta[o + p] - grey;
          norm[p] += d * d;
          contrib[p] += d * grad[o + p];
        }
      }
      for (let p = 0; p < plane; p++)
        contrib[p] = Math.abs(contrib[p]);
      const tn = r.clipNormPercentile ? percentileOf(norm, r.clipNormPercentile) : -1;
      const tc = r.clipContributionPercentile ? percentileOf(contrib, r.clipContributionPercentile) : -1;
      for (let p = 0; p < plane; p++) {
        if (norm[p] < tn || contrib[p] < tc)
          for (let c = 0; c < C; c++)
            theta[(i * C + c) * plane + p] = grey;
      }
    }
  }
  if (param.clip)
    for (let i = 0; i < theta.length; i++)
      theta[i] = Math.min(1, Math.max(0, theta[i]));
}
async function ascend(session, theta, o) {
  const { param, shape } = session.spec;
  const name = o.optimizer ?? "adam";
  if (name === "lbfgs")
    return lbfgs(session, theta, o);
  const rand = seededRandom(o.seed ?? 0);
  const warpSize = session.spec.warp;
  const warpAt = () => warpSize ? sampleWarp(o.transforms ?? [], shape.height, shape.width, warpSize.height, warpSize.width, rand) : void 0;
  const adam = name === "adam" ? createOptimizer({ type: "adam" }, /* @__PURE__ */ new Map([["theta", [theta.length]]])) : void 0;
  const params = /* @__PURE__ */ new Map([["theta", theta]]);
  const keep = frameSteps(o.steps, o.frames ?? 0);
  const frames = [];
  const history = [];
  const neg = new Float32Array(theta.length);
  const total = o.progressTotal ?? o.steps;
  const offset = o.progressOffset ?? 0;
  let last;
  for (let step = 0; step <= o.steps; step++) {
    throwIfCancelled(o.signal, o.phase ?? "the synthesis");
    const r = await session.step(theta, warpAt());
    last = r;
    if (!Number.isFinite(r.value)) {
      throw new ConvLensError("RUNTIME_FAILURE", `The objective became ${r.value} at step ${step}.`, "Lower the learning rate (--lr) or add a regularizer.");
    }
    if (keep.has(step))
      frames.push({ step, image: Float32Array.from(r.image) });
    if (step === o.steps)
      break;
    history.push({ step, value: r.value, terms: r.terms });
    const g = r.grad;
    if (adam) {
      for (let i = 0; i < g.length; i++)
        neg[i] = -g[i];
      adam.update(params, /* @__PURE__ */ new Map([["theta", neg]]), o.lr);
    } else if (name === "sgd") {
      for (let i = 0; i < g.length; i++)
        theta[i] += o.lr * g[i];
    } else {
      let s = 0;
      for (let i = 0; i < g.length; i++)
        s += Math.abs(g[i]);
      const k = o.lr / (s / g.length + 1e-8);
      for (let i = 0; i < g.length; i++)
        theta[i] += k * g[i];
    }
    applyRegularizers(theta, g, param, shape, step, o.regularizers ?? {});
    o.onProgress?.({ done: offset + step + 1, total, phase: o.phase ?? "optimizing", metrics: { objective: r.value, ...r.terms } });
  }
  return { theta, image: Float32Array.from(last.image), history, frames, final: last };
}
async function lbfgs(session, theta, o) {
  if (session.spec.warp)
    throw new ConvLensError("INVALID_ARGUMENT", "L-BFGS needs a deterministic objective: it cannot be combined with random transforms.", "Use --optimizer adam, or no transforms.");
  const m = o.history ?? 10;
  const n = theta.length;
  const S = [];
  const Y = [];
  const rho = [];
  const keep = frameSteps(o.steps, o.frames ?? 0);
  const frames = [];
  const history = [];
  const total = o.progressTotal ?? o.steps;
  const offset = o.progressOffset ?? 0;
  const evaluate = async (x) => {
    const r = await session.step(x);
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++)
      g[i] = -r.grad[i];
    return { f: -r.value, g, r };
  };
  const dot = (a, b) => {
    let s = 0;
    for (let i = 0; i < n; i++)
      s += a[i] * b[i];
    return s;
  };
  let cur = await evaluate(theta);
  if (keep.has(0))
    frames.push({ step: 0, image: Float32Array.from(cur.r.image) });
  for (let it = 0; it < o.steps; it++) {
    throwIfCancelled(o.signal, o.phase ?? "the synthesis");
    history.push({ step: it, value: -cur.f, terms: cur.r.terms });
    const q = Float64Array.from(cur.g);
    const alpha = [];
    for (let k = S.length - 1; k >= 0; k--) {
      let a = 0;
      for (let i = 0; i < n; i++)
        a += S[k][i] * q[i];
      a *= rho[k];
      alpha[k] = a;
      for (let i = 0; i < n; i++)
        q[i] -= a * Y[k][i];
    }
    let gamma = 1;
    if (S.length)
      gamma = dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]);
    for (let i = 0; i < n; i++)
      q[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      let bta = 0;
      for (let i = 0; i < n; i++)
        bta += Y[k][i] * q[i];
      bta *= rho[k];
      for (let i = 0; i < n; i++)
        q[i] += S[k][i] * (alpha[k] - bta);
    }
    const d = Float32Array.from(q, (v) => -v);
    let gd = dot(cur.g, d);
    if (!(gd < 0)) {
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++)
        d[i] = -cur.g[i];
      gd = dot(cur.g, d);
    }
    let t = S.length ? 1 : Math.min(1, 1 / (cur.g.reduce((a, v) => a + Math.abs(v), 0) / n + 1e-12)) * o.lr;
    let next;
    const trial = new Float32Array(n);
    for (let ls = 0; ls < 12; ls++) {
      for (let i = 0; i < n; i++)
        trial[i] = theta[i] + t * d[i];
      const e = await evaluate(trial);
      if (Number.isFinite(e.f) && e.f <= cur.f + 1e-4 * t * gd) {
        next = e;
        break;
      }
      t *= 0.5;
    }
    if (!next)
      break;
    const s = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = trial[i] - theta[i];
      y[i] = next.g[i] - cur.g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-10) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    theta.set(trial);
    cur = next;
    if (keep.has(it + 1))
      frames.push({ step: it + 1, image: Float32Array.from(cur.r.image) });
    o.onProgress?.({ done: offset + it + 1, total, phase: o.phase ?? "optimizing", metrics: { loss: cur.f, ...cur.r.terms } });
  }
  const { param } = session.spec;
  if (param.clip) {
    for (let i = 0; i < n; i++)
      theta[i] = Math.min(1, Math.max(0, theta[i]));
    cur = await evaluate(theta);
  }
  if (keep.has(o.steps) && frames[frames.length - 1]?.step !== o.steps)
    frames.push({ step: o.steps, image: Float32Array.from(cur.r.image) });
  return { theta, image: Float32Array.from(cur.r.image), history, frames, final: cur.r };
}

export {
  layerL2,
  classLogit,
  classLogits,
  direction,
  l1,
  l2,
  tv,
  imageMatch,
  featureMatch,
  gramMatch,
  guide,
  weighted,
  sum,
  parseObjective,
  roll,
  standardTransforms,
  parseTransforms,
  ascend
};
