import {
  ascend,
  classLogit,
  classLogits,
  direction,
  imageMatch,
  l1,
  l2,
  parseObjective,
  parseTransforms,
  standardTransforms,
  sum,
  tv,
  weighted
} from "./chunk-UGNQJFIR.js";
import {
  SynthesisSession,
  extractFeatures,
  fourierParam,
  modelChannels,
  modelInputSize,
  pixelParam
} from "./chunk-RJFHHHPN.js";
import {
  softmax
} from "./chunk-R7SGPERG.js";
import {
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/synthesize/featviz.js
function expandObjective(model, spec) {
  const s = spec.trim();
  const all = /^(class|logit):\*$/i.exec(s);
  if (all)
    return { objective: classLogits(model.labels.map((_, k) => k), model.labels.length), batch: model.labels.length };
  return { objective: parseObjective(s) };
}
function resolveParam(p) {
  if (p === void 0 || p === "fourier")
    return fourierParam();
  if (p === "pixel")
    return pixelParam({ range: "sigmoid", decorrelate: true });
  if (typeof p === "string")
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown parameterization "${p}".`, "Use fourier or pixel.");
  return p;
}
function defaultSize(model) {
  return modelInputSize(model) ?? [128, 128];
}
async function featureVisualization(model, o) {
  const t0 = performance.now();
  if (typeof o.objective === "string" && /^(class|logit):\*$/i.test(o.objective.trim()) && o.batch === void 0 && typeof (o.start ?? "noise") === "string" && model.labels.length > synthesisBatchSize(model, o.size ?? defaultSize(model))) {
    return classVisualization(model, { ...o, start: o.start });
  }
  let objective;
  let batch = o.batch;
  if (typeof o.objective === "string") {
    const e = expandObjective(model, o.objective);
    objective = e.objective;
    batch ??= e.batch;
  } else
    objective = o.objective;
  batch ??= o.start && typeof o.start !== "string" ? o.start.dims[0] : 1;
  const [H, W] = o.size ?? defaultSize(model);
  const channels = modelChannels(model);
  const shape = { batch, channels, height: H, width: W };
  const param = resolveParam(o.param);
  const transforms = typeof o.transforms === "string" ? parseTransforms(o.transforms, Math.min(H, W)) : o.transforms ?? standardTransforms(Math.min(H, W));
  const pen = o.penalties ?? {};
  const terms = [objective];
  const bg = o.background ?? 0.5;
  if (pen.l1)
    terms.push(weighted(pen.l1, l1(bg)));
  if (pen.l2)
    terms.push(weighted(pen.l2, l2(bg)));
  if (pen.tv)
    terms.push(weighted(pen.tv, tv()));
  const full = sum(...terms);
  const warp = transforms.length ? { height: modelInputSize(model)?.[0] ?? H, width: modelInputSize(model)?.[1] ?? W, fill: bg } : void 0;
  const session = await SynthesisSession.create({ model, shape, param, objective: full, ...warp ? { warp } : {} }, [model.output]);
  const seed = o.seed ?? 0;
  const rand = seededRandom(seed);
  let theta;
  if (o.start && typeof o.start !== "string") {
    if (o.start.dims.join("x") !== [batch, channels, H, W].join("x")) {
      throw new ConvLensError("SHAPE_MISMATCH", `Start images have shape [${o.start.dims.join(", ")}]; [${batch}, ${channels}, ${H}, ${W}] are needed.`);
    }
    theta = param.kind === "pixel" ? param.init(shape, rand, o.start.data) : await fitParam(model, shape, param, o.start, rand);
  } else {
    theta = param.init(shape, rand);
    if (o.start === "zero") {
      if (param.kind === "pixel")
        theta = param.init(shape, rand, new Float32Array(theta.length).fill(bg));
      else
        theta.fill(0);
    }
  }
  const steps = o.steps ?? 256;
  const lr = o.lr ?? 0.05;
  const r = await ascend(session, theta, {
    steps,
    lr,
    optimizer: o.optimizer ?? "adam",
    transforms,
    seed: seed + 1,
    frames: o.frames ?? 8,
    ...o.regularizers ? { regularizers: o.regularizers } : {},
    ...o.signal ? { signal: o.signal } : {},
    ...o.onProgress ? { onProgress: o.onProgress } : {},
    phase: "visualizing"
  });
  const images = { dtype: "float32", dims: [batch, channels, H, W], data: r.image };
  const predictions = await predictImages(model, images);
  return {
    images,
    frames: r.frames,
    history: r.history,
    predictions,
    objective: typeof o.objective === "string" ? o.objective : objective.key,
    params: { steps, lr, optimizer: o.optimizer ?? "adam", param: param.key, transforms, seed, size: [H, W], batch, penalties: pen, background: bg, regularizers: o.regularizers ?? {}, ms: Math.round(performance.now() - t0) }
  };
}
var BYTES_PER_ACTIVATION = 4 * 4;
var CLASS_BATCH_MEMORY = 1 << 30;
function activationsPerImage(model, size) {
  const b = model.builder();
  const [h0, w0] = model.profile.input.size;
  const scale = size[0] * size[1] / (h0 * w0);
  let total = 0;
  const g = model.profile.input.fixed ? void 0 : model.profile.input.size;
  for (const n of model.graph.nodes) {
    for (const o of n.outputs) {
      if (!o)
        continue;
      let shape;
      try {
        shape = b.factsOf(o).shape;
      } catch {
        continue;
      }
      if (!shape || b.factsOf(o).value)
        continue;
      total += shape.slice(1).reduce((a, d, i) => a * (typeof d === "number" ? d : g && i >= 1 ? g[i - 1] : 1), 1);
    }
  }
  return Math.ceil(total * scale);
}
function synthesisBatchSize(model, size, budget = CLASS_BATCH_MEMORY) {
  return Math.max(1, Math.min(64, Math.floor(budget / (activationsPerImage(model, size) * BYTES_PER_ACTIVATION))));
}
async function classVisualization(model, o = {}) {
  const t0 = performance.now();
  const K = model.profile.classes;
  const classes = [...o.classes ?? Array.from({ length: K }, (_, k) => k)];
  if (!classes.length)
    throw new ConvLensError("INVALID_ARGUMENT", "No classes to visualize.", `Pick classes from 0 to ${K - 1}, e.g. 0-9.`);
  const size = o.size ?? defaultSize(model);
  const limit = o.batchSize ?? synthesisBatchSize(model, size);
  const batches = Math.ceil(classes.length / limit);
  const per = Math.ceil(classes.length / batches);
  const steps = o.steps ?? 256;
  const parts = [];
  for (let bi = 0; bi < batches; bi++) {
    throwIfCancelled(o.signal, "the class visualization");
    const cls = classes.slice(bi * per, (bi + 1) * per);
    const r = await featureVisualization(model, {
      ...o,
      objective: classLogits(cls, K),
      batch: cls.length,
      frames: bi === 0 ? o.frames ?? 8 : 0,
      onProgress: (p) => o.onProgress?.({ ...p, done: bi * steps + p.done, total: batches * steps, phase: `${classes.length} classes, batch ${bi + 1}/${batches}` })
    });
    parts.push(r);
    await o.onBatch?.({ classes: cls, result: r, batch: bi, batches });
  }
  const [, C, H, W] = parts[0].images.dims;
  const data = new Float32Array(classes.length * C * H * W);
  let at = 0;
  for (const r of parts) {
    data.set(r.images.data, at);
    at += r.images.data.length;
  }
  const first = parts[0];
  return {
    ...first,
    images: { dtype: "float32", dims: [classes.length, C, H, W], data },
    predictions: parts.flatMap((r) => r.predictions),
    objective: o.classes ? `class:${classes.join(",")}` : "class:*",
    params: { ...first.params, batch: per, classes: classes.length, batches, ms: Math.round(performance.now() - t0) },
    classes,
    batchSize: per,
    batches
  };
}
function parseClassList(spec, labels) {
  const out = [];
  const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    const one = /^\d+$/.test(part) ? Number(part) : void 0;
    let ks;
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a)
        throw new ConvLensError("INVALID_ARGUMENT", `Class range "${part}" runs backwards.`, "Write ranges low-high, e.g. 0-9.");
      ks = Array.from({ length: b - a + 1 }, (_, i) => a + i);
    } else if (one !== void 0)
      ks = [one];
    else {
      const k = labels.findIndex((l) => norm(l) === norm(part));
      if (k < 0)
        throw new ConvLensError("UNKNOWN_NAME", `No class "${part}".`, "Give class indices (0-9,285) or labels as the model names them.");
      ks = [k];
    }
    for (const k of ks) {
      if (k >= labels.length)
        throw new ConvLensError("INVALID_ARGUMENT", `Class ${k} does not exist: the model has ${labels.length} classes (0-${labels.length - 1}).`);
      if (!out.includes(k))
        out.push(k);
    }
  }
  if (!out.length)
    throw new ConvLensError("INVALID_ARGUMENT", `No classes in "${spec}".`, "E.g. --classes 0-9,285.");
  return out;
}
async function predictImages(model, images) {
  const fixed = modelInputSize(model);
  const [, , H, W] = images.dims;
  if (fixed && (fixed[0] !== H || fixed[1] !== W))
    return [];
  const [logits] = await extractFeatures(model, images, [{ layer: model.output }]);
  const n = images.dims[0];
  const K = logits.data.length / n;
  const out = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from(logits.data.subarray(i * K, (i + 1) * K));
    const p = softmax(z);
    let best = 0;
    for (let k = 1; k < K; k++)
      if (p[k] > p[best])
        best = k;
    out.push({ index: best, label: model.labels[best] ?? `class ${best}`, probability: p[best], logits: z });
  }
  return out;
}
async function fitParam(model, shape, param, target, rand) {
  const session = await SynthesisSession.create({ model, shape, param, objective: imageMatch(target) });
  const theta = param.init(shape, rand);
  await ascend(session, theta, { steps: 200, lr: 0.1, optimizer: "adam", phase: "fitting the start image" });
  return theta;
}
async function facetVisualization(model, classImages, o) {
  const k = o.facets ?? 4;
  const layer = model.resolveLayer(o.layer ?? model.lastSpatialLayer());
  const [n, C, H, W] = classImages.dims;
  if (n < k)
    throw new ConvLensError("INVALID_ARGUMENT", `${n} images cannot make ${k} facets.`, "Give more images of the class or ask for fewer facets.");
  throwIfCancelled(o.signal, "the facet visualization");
  const feats = [];
  for (let s = 0; s < n; s += 64) {
    const m = Math.min(64, n - s);
    const part = { dtype: "float32", dims: [m, C, H, W], data: classImages.data.subarray(s * C * H * W, (s + m) * C * H * W) };
    const [f] = await extractFeatures(model, part, [{ layer }]);
    const [, D2] = f.dims;
    const per = f.data.length / m;
    const sp = per / D2;
    for (let i = 0; i < m; i++) {
      const v = new Float32Array(D2);
      for (let d = 0; d < D2; d++) {
        let acc = 0;
        for (let p = 0; p < sp; p++)
          acc += f.data[i * per + d * sp + p];
        v[d] = acc / sp;
      }
      feats.push(v);
    }
  }
  const { assign, centres } = kmeans(feats, k, o.seed ?? 0);
  const D = feats[0].length;
  const mean = new Float32Array(D);
  for (const f of feats)
    for (let d = 0; d < D; d++)
      mean[d] += f[d] / feats.length;
  const clusters = Array.from({ length: k }, (_, c) => assign.flatMap((a, i) => a === c ? [i] : []));
  const start = new Float32Array(k * C * H * W);
  clusters.forEach((members, c) => {
    for (const i of members)
      for (let q = 0; q < C * H * W; q++)
        start[c * C * H * W + q] += classImages.data[i * C * H * W + q] / members.length;
  });
  const w = o.facetWeight ?? 1;
  const terms = [];
  centres.forEach((centre, c) => {
    const dir = new Float32Array(D);
    let norm = 0;
    for (let d = 0; d < D; d++)
      norm += (dir[d] = centre[d] - mean[d]) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < D; d++)
      dir[d] /= norm;
    terms.push(classLogit(o.target, c), weighted(w, direction(layer, dir, c, `facet${c}`)));
  });
  const result = await featureVisualization(model, {
    ...o,
    objective: sum(...terms),
    batch: k,
    size: [H, W],
    param: o.param ?? "pixel",
    start: { dtype: "float32", dims: [k, C, H, W], data: start }
  });
  return { ...result, clusters, layer, objective: `facets(${o.target}, ${k}, ${layer})` };
}
function kmeans(points, k, seed) {
  const rand = seededRandom(seed + 17);
  const D = points[0].length;
  const dist = (a, b) => {
    let s = 0;
    for (let d = 0; d < D; d++)
      s += (a[d] - b[d]) ** 2;
    return s;
  };
  const centres = [Float32Array.from(points[Math.floor(rand() * points.length)])];
  while (centres.length < k) {
    const d2 = points.map((p) => Math.min(...centres.map((c) => dist(p, c))));
    const total = d2.reduce((a, b) => a + b, 0);
    let r = rand() * total;
    let pick = 0;
    for (; pick < points.length - 1; pick++)
      if ((r -= d2[pick]) <= 0)
        break;
    centres.push(Float32Array.from(points[pick]));
  }
  let assign = new Array(points.length).fill(0);
  for (let it = 0; it < 50; it++) {
    const next = points.map((p) => {
      let best = 0;
      for (let c = 1; c < k; c++)
        if (dist(p, centres[c]) < dist(p, centres[best]))
          best = c;
      return best;
    });
    const changed = next.some((a, i) => a !== assign[i]);
    assign = next;
    for (let c = 0; c < k; c++) {
      const members = points.filter((_, i) => assign[i] === c);
      if (!members.length) {
        centres[c] = Float32Array.from(points[Math.floor(rand() * points.length)]);
        continue;
      }
      const m = new Float32Array(D);
      for (const p of members)
        for (let d = 0; d < D; d++)
          m[d] += p[d] / members.length;
      centres[c] = m;
    }
    if (!changed && it > 0)
      break;
  }
  return { assign, centres };
}

export {
  defaultSize,
  featureVisualization,
  synthesisBatchSize,
  classVisualization,
  parseClassList,
  facetVisualization
};
