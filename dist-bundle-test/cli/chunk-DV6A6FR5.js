import {
  BilinearResampler,
  blurBatch,
  f32,
  nchw,
  reduceChannels,
  resizeBilinear,
  resizeNearest,
  sliceBatch,
  upsampleMaps
} from "./chunk-NAOYI6IT.js";
import {
  softmax
} from "./chunk-R7SGPERG.js";
import {
  buildGradientGraph,
  pruneGraph
} from "./chunk-P6HER42Z.js";
import {
  GraphBuilder
} from "./chunk-X2V5Z5UO.js";
import {
  attrInt,
  attrInts,
  windowGeometry
} from "./chunk-75463JA6.js";
import {
  normalSource
} from "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError,
  unknownNameError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/explain/target.js
function checkScore(score) {
  if (score === "logit" || score === "prob")
    return score;
  if (score === "probability")
    return "prob";
  throw new ConvLensError("INVALID_ARGUMENT", `Unknown score "${score}".`, 'Use "logit" (pre-softmax score, the default) or "prob" (softmax probability).');
}
var squash = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, "");
function classIndex(model, spec, classes) {
  if (typeof spec === "number" || /^\s*-?\d+\s*$/.test(spec)) {
    const k2 = Number(spec);
    if (!Number.isInteger(k2) || k2 < 0 || k2 >= classes) {
      throw new ConvLensError("INVALID_ARGUMENT", `Target class ${spec} is out of range: model "${model.name}" has ${classes} classes (0-${classes - 1}).`, "Pass a class index in range or a label (`convlens predict` shows the labels).");
    }
    return k2;
  }
  const labels = model.labels.slice(0, classes);
  let k = labels.indexOf(spec);
  if (k < 0)
    k = labels.findIndex((l) => l.toLowerCase() === spec.toLowerCase());
  if (k < 0)
    k = labels.findIndex((l) => squash(l) === squash(spec) && squash(spec) !== "");
  if (k < 0)
    throw unknownNameError("class label", spec, labels);
  return k;
}
var PREDICTED = -1;
function presetTargets(model, spec, n, classes) {
  const out = new Int32Array(n);
  if (Array.isArray(spec) && spec.length !== n) {
    throw new ConvLensError("INVALID_ARGUMENT", `${spec.length} targets given for ${n} images.`, "Give one target for all images or exactly one per image.");
  }
  for (let i = 0; i < n; i++) {
    const s = Array.isArray(spec) ? spec[i] : spec;
    out[i] = s === void 0 || s === "predicted" ? PREDICTED : classIndex(model, s, classes);
  }
  return out;
}
function resolveTargets(model, spec, logits) {
  const n = logits.dims[0];
  const classes = logits.dims[logits.dims.length - 1];
  const data = logits.data;
  const out = presetTargets(model, spec, n, classes);
  for (let i = 0; i < n; i++) {
    if (out[i] !== PREDICTED)
      continue;
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (data[i * classes + k] > data[i * classes + best])
        best = k;
    out[i] = best;
  }
  return out;
}
function targetScores(logits, targets, score) {
  const n = logits.dims[0];
  const classes = logits.dims[logits.dims.length - 1];
  const data = logits.data;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i % targets.length];
    const row = data.subarray(i * classes, (i + 1) * classes);
    out[i] = score === "logit" ? row[t] : softmax(row)[t];
  }
  return out;
}

// dist/methods/explain/types.js
var METHOD_NAMES = [
  "gradient",
  "saliency",
  "input-x-gradient",
  "smoothgrad",
  "smoothgrad-sq",
  "vargrad",
  "integrated-gradients",
  "occlusion",
  "cam",
  "gradcam",
  "gradcam++",
  "scorecam",
  "layercam",
  "guided-backprop",
  "deconvnet",
  "guided-gradcam"
];

// dist/methods/explain/session.js
var PROB = "convlens_explain_probability";
var TARGET = "convlens_explain_target";
var TOTAL = "convlens_explain_score";
var CHOSEN = "convlens_explain_chosen_target";
var graphs = /* @__PURE__ */ new WeakMap();
function scoredGraph(model, base, score) {
  const forward = base.clone();
  const b = GraphBuilder.over(forward, { strict: false });
  const classes = classCount(model);
  const target = b.input(TARGET, "int64", [model.input.shape[0], 1]);
  const top = b.op("ArgMax", [model.output], { axis: -1, keepdims: 1 });
  const chosen = b.op("Where", [b.op("Less", [target, b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) }, "zero")]), top, target], {}, { outputs: [CHOSEN] });
  const columns = b.constant({ dtype: "int64", dims: [1, classes], data: BigInt64Array.from({ length: classes }, (_, k) => BigInt(k)) }, "classes");
  const mask = b.op("Cast", [b.op("Equal", [columns, chosen])], { to: 1 });
  const scores = score === "prob" ? b.op("Softmax", [model.output], { axis: -1 }, { outputs: [PROB] }) : model.output;
  b.op("ReduceSum", [b.op("Mul", [scores, mask]), b.ints([0, 1])], { keepdims: 1 }, { outputs: [TOTAL] });
  b.build();
  return forward;
}
async function scoreGradients(model, x, targets, req) {
  model.checkInput(x);
  if (targets.length !== x.dims[0])
    throw new ConvLensError("INVALID_ARGUMENT", `${targets.length} targets given for ${x.dims[0]} inputs.`);
  const ruleSet = req.ruleSet ?? "standard";
  const { graph: base, sizeKey } = model.staticGraph(x.dims);
  const key = `${model.id}|explain|${req.score}|${ruleSet}|wrt=${req.wrt.join(",")}|out=${(req.outputs ?? []).join(",")}${sizeKey}`;
  let cache2 = graphs.get(model);
  if (!cache2)
    graphs.set(model, cache2 = /* @__PURE__ */ new Map());
  let meta = cache2.get(key);
  if (!meta) {
    const outputs = [.../* @__PURE__ */ new Set([...req.outputs ?? [], model.output, CHOSEN])];
    meta = buildGradientGraph(scoredGraph(model, base, req.score), { seed: { scalar: TOTAL }, wrt: [...new Set(req.wrt)], outputs, ruleSet });
    cache2.set(key, meta);
  }
  const graph = meta.graph;
  const compiled = await model.engine.compile(key, () => graph);
  const fetch = [.../* @__PURE__ */ new Set([...req.wrt.map((w) => meta.gradientOutputs[w]), ...req.outputs ?? [], model.output, CHOSEN])];
  const targetTensor = { dtype: "int64", dims: [targets.length, 1], data: BigInt64Array.from(targets, (t) => BigInt(t)) };
  const out = await compiled.run({ [model.input.name]: x, [TARGET]: targetTensor }, fetch);
  const gradients = {};
  for (const w of req.wrt)
    gradients[w] = out[meta.gradientOutputs[w]];
  const values = {};
  for (const o of req.outputs ?? [])
    values[o] = out[o];
  const chosen = out[CHOSEN].data;
  return { gradients, values, logits: out[model.output], targets: Int32Array.from(chosen, Number) };
}
function classCount(model) {
  const shape = model.facts(model.output).shape;
  const k = shape?.[shape.length - 1];
  if (typeof k !== "number")
    throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${model.name}" output "${model.output}" has no static class dimension.`);
  return k;
}
async function forwardScores(model, x, targets, score) {
  const out = await model.run(x);
  return targetScores(out[model.output], targets, score);
}
function defaultBatchSize(model) {
  const { channels, size } = model.profile.input;
  const per = channels * size[0] * size[1];
  return Math.max(1, Math.min(64, 2 ** Math.round(Math.log2(24e5 / per))));
}
var Work = class {
  job;
  phase;
  total;
  done = 0;
  constructor(job, phase, total) {
    this.job = job;
    this.phase = phase;
    this.total = total;
  }
  /** Call before each engine run: throws CANCELLED when aborted. */
  check() {
    throwIfCancelled(this.job.signal, this.phase);
  }
  step(units = 1) {
    this.done += units;
    this.job.onProgress?.({ done: Math.min(this.done, this.total), total: this.total, phase: this.phase });
  }
  grow(units) {
    this.total += units;
  }
};
async function forChunks(count, size, work, fn) {
  for (let s = 0; s < count; s += size) {
    work?.check();
    await fn(s, Math.min(count, s + size));
    work?.step();
  }
}
async function batchedScoreGradients(model, x, targets, req, size, work) {
  const n = x.dims[0];
  if (n <= size) {
    work?.check();
    const r = await scoreGradients(model, x, targets, req);
    work?.step();
    return r;
  }
  const parts = [];
  await forChunks(n, size, work, async (s, e) => {
    parts.push(await scoreGradients(model, sliceBatch(x, s, e), targets.subarray(s, e), req));
  });
  const join = (pick) => {
    const out = {};
    for (const k of Object.keys(pick(parts[0])))
      out[k] = concatBatch(parts.map((p) => pick(p)[k]));
    return out;
  };
  const targetsOut = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    targetsOut.set(p.targets, o);
    o += p.targets.length;
  }
  return { gradients: join((p) => p.gradients), values: join((p) => p.values), logits: concatBatch(parts.map((p) => p.logits)), targets: targetsOut };
}
function inputGradientPass(model, score, ruleSet = "standard") {
  return { key: `input-gradient|${ruleSet}`, phase: ruleSet === "standard" ? "gradient" : ruleSet, request: { score, wrt: [model.input.name], ruleSet } };
}
function layerGradientPass(score, layer) {
  return { key: `layer-gradient|${layer}`, phase: `gradient at ${layer}`, request: { score, wrt: [layer], outputs: [layer] } };
}
function runPass(model, x, targets, pass, size, job) {
  const work = new Work(job, pass.phase, Math.ceil(x.dims[0] / size));
  return batchedScoreGradients(model, x, targets, pass.request, size, work);
}
function concatBatch(ts) {
  const total = ts.reduce((a, t) => a + t.data.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const t of ts) {
    data.set(t.data, o);
    o += t.data.length;
  }
  return { dtype: "float32", dims: [ts.reduce((a, t) => a + t.dims[0], 0), ...ts[0].dims.slice(1)], data };
}
async function scoreInputs(model, count, size, fill, targetOf, score, work) {
  const [c, h, w] = model.inputDims();
  const per = c * h * w;
  const out = new Float64Array(count);
  await forChunks(count, size, work, async (s, e) => {
    const data = new Float32Array((e - s) * per);
    const targets = new Int32Array(e - s);
    for (let i = s; i < e; i++) {
      fill(i, data.subarray((i - s) * per, (i - s + 1) * per));
      targets[i - s] = targetOf(i);
    }
    const scores = await forwardScores(model, { dtype: "float32", dims: [e - s, c, h, w], data }, targets, score);
    out.set(scores, s);
  });
  return out;
}

// dist/methods/explain/gradients.js
async function inputGradient(ctx, ruleSet = "standard") {
  const pass = inputGradientPass(ctx.model, ctx.score, ruleSet);
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  return r.gradients[ctx.model.input.name];
}
async function gradient(ctx) {
  const g = await inputGradient(ctx);
  return { raw: g, map: reduceChannels(g, "sum"), signed: true, params: {} };
}
async function saliency(ctx) {
  const reduce = ctx.options.saliency?.reduce ?? "max";
  const g = await inputGradient(ctx);
  const [n, , h, w] = nchw(g);
  const map = reduceChannels(g, reduce === "max" ? "abs-max" : "abs-sum");
  return { raw: f32([n, 1, h, w], map), map: map.slice(), signed: false, params: { reduce } };
}
async function inputXGradient(ctx) {
  const g = await inputGradient(ctx);
  const gd = g.data;
  const xd = ctx.x.data;
  const out = new Float32Array(gd.length);
  for (let i = 0; i < out.length; i++)
    out[i] = gd[i] * xd[i];
  const raw = f32(g.dims, out);
  return { raw, map: reduceChannels(raw, "sum"), signed: true, params: {} };
}
async function guidedBackprop(ctx) {
  const g = await inputGradient(ctx, "guided");
  return { raw: g, map: reduceChannels(g, "sum"), signed: true, params: { ruleSet: "guided" } };
}
async function deconvnet(ctx) {
  const g = await inputGradient(ctx, "deconvnet");
  return { raw: g, map: reduceChannels(g, "sum"), signed: true, params: { ruleSet: "deconvnet" } };
}

// dist/methods/explain/layers.js
function ancestorsOfOutput(model) {
  const needed = /* @__PURE__ */ new Set([model.output]);
  for (let k = model.graph.nodes.length - 1; k >= 0; k--) {
    const n = model.graph.nodes[k];
    if (n.outputs.some((o) => needed.has(o))) {
      for (const i of n.inputs)
        if (i)
          needed.add(i);
    }
  }
  return needed;
}
function spatialLayer(model, layer) {
  const name = layer === void 0 ? model.lastSpatialLayer() : model.resolveLayer(layer);
  const shape = name === model.input.name ? void 0 : model.facts(name).shape;
  const spatialNames = () => model.pickableValues().filter((p) => p.shape.length === 4 && typeof p.shape[2] === "number" && p.shape[2] * (p.shape[3] || 1) > 1).map((p) => p.name).slice(-6).join(", ");
  if (name === model.input.name) {
    throw new ConvLensError("INVALID_ARGUMENT", `"${name}" is the model input, not a layer; CAM-type methods read a feature map inside the model.`, `Pick a convolutional layer, e.g. ${spatialNames()}.`);
  }
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== "number")) {
    throw new ConvLensError("INVALID_ARGUMENT", `Layer "${name}" has shape [${shape?.join(", ") ?? "?"}]; CAM-type methods need a spatial feature map [N, C, H, W].`, `Pick a convolutional layer, e.g. ${spatialNames()}.`);
  }
  const [, c, h, w] = shape;
  if (h * w === 1) {
    throw new ConvLensError("INVALID_ARGUMENT", `Layer "${name}" is 1x1 spatially ([${shape.join(", ")}]): a map there has one pixel.`, `Pick a layer before global pooling, e.g. ${spatialNames()}.`);
  }
  if (!ancestorsOfOutput(model).has(name)) {
    throw new ConvLensError("INVALID_ARGUMENT", `The model output "${model.output}" does not depend on layer "${name}".`, `Pick a layer on the path to the output, e.g. ${spatialNames()}.`);
  }
  return { name, channels: c, height: h, width: w };
}
var PASS_THROUGH = /* @__PURE__ */ new Set(["Flatten", "Reshape", "Squeeze", "Identity", "Dropout"]);
function camHead(model) {
  const producers = /* @__PURE__ */ new Map();
  for (const n of model.graph.nodes)
    for (const o of n.outputs)
      if (o)
        producers.set(o, n);
  const constant = (name) => model.graph.initializers.get(name) ?? model.builder().valueOf(name);
  const describe = [];
  const fail = (why) => {
    throw new ConvLensError("MODEL_UNSUPPORTED", `cam needs a model that ends in global average pooling followed by one dense layer (Zhou et al.); model "${model.name}" does not: ${why}.`, "Use gradcam instead: it works on any CNN, and on GAP + dense models it equals CAM up to a positive scale.");
  };
  let node = producers.get(model.output);
  if (node?.op === "Add") {
    const mm = node.inputs.map((i) => producers.get(i)).find((p) => p?.op === "MatMul");
    if (mm)
      node = mm;
  }
  if (!node || node.op !== "Gemm" && node.op !== "MatMul")
    fail(`its output "${model.output}" comes from ${node ? `a ${node.op} node` : "no node"}, not a dense layer`);
  const dense = node;
  const w = constant(dense.inputs[1]);
  if (!w || w.dims.length !== 2)
    fail(`the dense layer "${dense.name}" has no constant 2-D weight matrix`);
  const transA = dense.attrs["transA"]?.value ?? 0;
  if (transA)
    fail(`the dense layer "${dense.name}" transposes its input`);
  const transB = dense.op === "Gemm" ? dense.attrs["transB"]?.value ?? 0 : 0;
  const alpha = dense.op === "Gemm" ? Number(dense.attrs["alpha"]?.value ?? 1) : 1;
  const [r, c] = w.dims;
  const classes = transB ? r : c;
  const channels = transB ? c : r;
  let v = dense.inputs[0];
  for (let guard = 0; guard < 16; guard++) {
    const p = producers.get(v);
    if (!p)
      fail(`nothing pools feature maps before the dense layer "${dense.name}"`);
    describe.push(p.op);
    if (PASS_THROUGH.has(p.op)) {
      v = p.inputs[0];
      continue;
    }
    const isGap = p.op === "GlobalAveragePool" || p.op === "ReduceMean" && sameSet(p.attrs["axes"]?.value ?? [], [2, 3], [-2, -1]);
    if (!isGap)
      fail(`the dense layer "${dense.name}" reads ${describe.join(" <- ")} (${p.op} "${p.name}"), not a global average pool`);
    const layer = p.inputs[0];
    const shape = model.facts(layer).shape;
    if (!shape || shape.length !== 4 || shape[1] !== channels)
      fail(`the pooled value "${layer}" has shape [${shape?.join(", ") ?? "?"}], not [N, ${channels}, H, W]`);
    const src = w.data;
    const weights = new Float32Array(classes * channels);
    for (let k = 0; k < classes; k++)
      for (let ch = 0; ch < channels; ch++)
        weights[k * channels + ch] = alpha * (transB ? src[k * channels + ch] : src[ch * classes + k]);
    return { layer, weights, classes, channels };
  }
  return fail("the head is too deep to follow");
}
function sameSet(axes, a, b) {
  const s = [...axes].sort();
  return s.length === 2 && s[0] === a[0] && s[1] === a[1] || s[0] === b[0] && s[1] === b[1] && s.length === 2;
}

// dist/methods/explain/cam.js
function chosenLayer(ctx) {
  return ctx.memo.once("layer", async () => spatialLayer(ctx.model, ctx.options.layer));
}
async function layerGradient(ctx, layer) {
  const pass = layerGradientPass(ctx.score, layer);
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  return { activations: r.values[layer], gradients: r.gradients[layer] };
}
function layerActivations(ctx, layer) {
  return ctx.memo.once(`activations|${layer}`, async () => {
    throwIfCancelled(ctx.job.signal, "explain");
    const out = await ctx.model.run(ctx.x, [layer]);
    return out[layer];
  });
}
function weightedSum(a, weights, relu) {
  const [n, k, h, w] = nchw(a);
  const hw = h * w;
  const ad = a.data;
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    const o = i * hw;
    for (let ch = 0; ch < k; ch++) {
      const wt = weights[i * k + ch];
      if (wt === 0)
        continue;
      const base = (i * k + ch) * hw;
      for (let p = 0; p < hw; p++)
        out[o + p] += wt * ad[base + p];
    }
  }
  if (relu) {
    for (let p = 0; p < out.length; p++)
      if (!(out[p] > 0))
        out[p] = 0;
  }
  return f32([n, 1, h, w], out);
}
function camResult(ctx, raw, layer, params = {}, signed = false) {
  const [, , h, w] = nchw(ctx.x);
  return { raw, map: upsampleMaps(raw, h, w, "bilinear"), signed, params: { layer: layer.name, ...params }, layer };
}
async function cam(ctx) {
  const head = camHead(ctx.model);
  const layer = spatialLayer(ctx.model, head.layer);
  const notes = [];
  if (ctx.options.layer !== void 0 && ctx.model.resolveLayer(ctx.options.layer) !== head.layer) {
    notes.push(`cam is defined at the globally pooled layer "${head.layer}" only; --layer ${ctx.options.layer} applies to the other CAM methods`);
  }
  if (ctx.score === "prob")
    notes.push("cam weights are the dense layer's class weights (a logit quantity); the probability score does not apply");
  const a = await layerActivations(ctx, head.layer);
  const [n, k] = nchw(a);
  const weights = new Float32Array(n * k);
  for (let i = 0; i < n; i++)
    weights.set(head.weights.subarray(ctx.targets[i] * k, (ctx.targets[i] + 1) * k), i * k);
  const r = camResult(ctx, weightedSum(a, weights, false), layer, { weights: "dense class weights", relu: false });
  return { ...r, notes };
}
async function layerSignals(ctx) {
  const layer = await chosenLayer(ctx);
  const { activations, gradients } = await layerGradient(ctx, layer.name);
  const [n, k, h, w] = nchw(gradients);
  return { layer, activations, n, k, h, w, hw: h * w, ad: activations.data, gd: gradients.data };
}
async function gradcam(ctx) {
  const { layer, activations, n, k, h, w, gd } = await layerSignals(ctx);
  const alphas = new Float64Array(n * k);
  for (let p = 0; p < n * k; p++) {
    let s = 0;
    for (let i = p * h * w; i < (p + 1) * h * w; i++)
      s += gd[i];
    alphas[p] = s / (h * w);
  }
  return camResult(ctx, weightedSum(activations, alphas, true), layer, { weights: "spatial mean of gradients", relu: true });
}
async function gradcamPlusPlus(ctx) {
  const { layer, activations, n, k, hw, ad, gd } = await layerSignals(ctx);
  const eps = 1e-7;
  const weights = new Float64Array(n * k);
  for (let p = 0; p < n * k; p++) {
    let sumA = 0;
    for (let i = p * hw; i < (p + 1) * hw; i++)
      sumA += ad[i];
    let wsum = 0;
    for (let i = p * hw; i < (p + 1) * hw; i++) {
      const g = gd[i];
      if (g === 0)
        continue;
      const g2 = g * g;
      const aij = g2 / (2 * g2 + sumA * g2 * g + eps);
      if (g > 0)
        wsum += g * aij;
    }
    weights[p] = wsum;
  }
  return camResult(ctx, weightedSum(activations, weights, true), layer, { weights: "alpha-weighted positive gradients (pytorch-grad-cam closed form)", relu: true });
}
async function layercam(ctx) {
  const { layer, n, k, h, w, hw, ad, gd } = await layerSignals(ctx);
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < k; ch++) {
      const base = (i * k + ch) * hw;
      for (let p = 0; p < hw; p++) {
        const g = gd[base + p];
        if (g > 0)
          out[i * hw + p] += g * ad[base + p];
      }
    }
  }
  for (let p = 0; p < out.length; p++)
    if (!(out[p] > 0))
      out[p] = 0;
  return camResult(ctx, f32([n, 1, h, w], out), layer, { weights: "positive gradients per location", relu: true });
}
async function guidedGradcam(ctx) {
  const interpolate = ctx.options.guidedGradcam?.interpolate ?? "bilinear";
  const gc = await ctx.memo.method("gradcam");
  const gb = await inputGradient(ctx, "guided");
  const [n, c, h, w] = nchw(gb);
  const [, , lh, lw] = nchw(gc.raw);
  const hw = h * w;
  const up = new Float32Array(n * hw);
  const src = gc.raw.data;
  for (let i = 0; i < n; i++) {
    const plane = src.subarray(i * lh * lw, (i + 1) * lh * lw);
    if (interpolate === "bilinear")
      resizeBilinear(plane, lh, lw, h, w, false, up, i * hw);
    else
      resizeNearest(plane, lh, lw, h, w, up, i * hw);
  }
  const gd = gb.data;
  const out = new Float32Array(gd.length);
  const map = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * hw;
      for (let p = 0; p < hw; p++) {
        const v = gd[base + p] * up[i * hw + p];
        out[base + p] = v;
        map[i * hw + p] += v;
      }
    }
  }
  return { raw: f32(gb.dims, out), map, signed: true, params: { layer: gc.layer.name, interpolate }, layer: gc.layer };
}

// dist/methods/explain/integrated-gradients.js
function quadrature(rule, steps) {
  const alphas = new Float64Array(steps);
  const weights = new Float64Array(steps);
  switch (rule) {
    case "gausslegendre": {
      const { nodes, weights: w } = gaussLegendre(steps);
      for (let i = 0; i < steps; i++) {
        alphas[i] = 0.5 * (nodes[i] + 1);
        weights[i] = 0.5 * w[i];
      }
      break;
    }
    case "riemann-trapezoid":
      if (steps < 2)
        throw new ConvLensError("INVALID_ARGUMENT", "The trapezoid rule needs at least 2 steps.");
      for (let i = 0; i < steps; i++) {
        alphas[i] = i / (steps - 1);
        weights[i] = (i === 0 || i === steps - 1 ? 0.5 : 1) / (steps - 1);
      }
      break;
    case "riemann-left":
    case "riemann-right":
    case "riemann-middle": {
      const shift = rule === "riemann-left" ? 0 : rule === "riemann-right" ? 1 : 0.5;
      for (let i = 0; i < steps; i++) {
        alphas[i] = (i + shift) / steps;
        weights[i] = 1 / steps;
      }
      break;
    }
    default:
      throw new ConvLensError("INVALID_ARGUMENT", `Unknown integration rule "${rule}".`, "Use gausslegendre, riemann-trapezoid, riemann-left, riemann-right or riemann-middle.");
  }
  return { alphas, weights };
}
var RULES = /* @__PURE__ */ new Map();
var MAX_RULES = 16;
function gaussLegendre(n) {
  let rule = RULES.get(n);
  if (!rule) {
    rule = computeGaussLegendre(n);
    if (RULES.size >= MAX_RULES)
      RULES.delete(RULES.keys().next().value);
    RULES.set(n, rule);
  }
  return { nodes: rule.nodes.slice(), weights: rule.weights.slice() };
}
function computeGaussLegendre(n) {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (n === 1)
        p0 = 1;
      dp = n * (z * p1 - p0) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15)
        break;
    }
    if (n === 1) {
      z = 0;
      dp = 1;
    }
    const w = 2 / ((1 - z * z) * dp * dp);
    nodes[i] = -z;
    nodes[n - 1 - i] = z;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  return { nodes, weights };
}
function blackImage(model) {
  const [c, h, w] = model.inputDims();
  const prep = model.meta.preprocessing;
  const data = new Float32Array(c * h * w);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < c; ch++) {
    const mean = prep.mean[ch] ?? prep.mean[0] ?? 0;
    const std = prep.std[ch] ?? prep.std[0] ?? 1;
    data.fill((lo + (prep.invert ? hi - lo : 0) - mean) / std, ch * h * w, (ch + 1) * h * w);
  }
  return f32([1, c, h, w], data);
}
function resolveBaseline(model, x, baseline, blurSigma) {
  const [n, c, h, w] = nchw(x);
  const per = c * h * w;
  let one;
  if (baseline === "zero")
    one = f32([1, c, h, w]);
  else if (baseline === "black")
    one = blackImage(model);
  else if (baseline === "blurred")
    return blurBatch(x, blurSigma);
  else if (typeof baseline === "object" && baseline && "dims" in baseline) {
    const d = baseline.dims;
    const ok = d.length === 4 && (d[0] === 1 || d[0] === n) && d[1] === c && d[2] === h && d[3] === w || d.length === 3 && d[0] === c && d[1] === h && d[2] === w;
    if (!ok || baseline.dtype !== "float32") {
      throw new ConvLensError("SHAPE_MISMATCH", `The baseline has shape [${d.join(", ")}] (${baseline.dtype}); it must be float32 [1, ${c}, ${h}, ${w}], [${n}, ${c}, ${h}, ${w}] or [${c}, ${h}, ${w}].`, "Save it in the model input space, like a preprocessed .npy input.");
    }
    if (d.length === 4 && d[0] === n)
      return baseline;
    one = f32([1, c, h, w], baseline.data);
  } else {
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown baseline "${String(baseline)}".`, "Use black, zero, blurred, or a tensor (.npy in the CLI).");
  }
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++)
    out.set(one.data, i * per);
  return f32([n, c, h, w], out);
}
async function integratedGradients(ctx) {
  const o = ctx.options.integratedGradients ?? {};
  const steps = o.steps ?? 50;
  const rule = o.rule ?? "gausslegendre";
  const baselineSpec = o.baseline ?? "black";
  const [n, c, h, w] = nchw(ctx.x);
  const blurSigma = o.blurSigma ?? Math.max(h, w) / 10;
  if (!Number.isInteger(steps) || steps < 1)
    throw new ConvLensError("INVALID_ARGUMENT", `Integrated Gradients steps must be a positive integer, got ${steps}.`);
  const { alphas, weights } = quadrature(rule, steps);
  const base = resolveBaseline(ctx.model, ctx.x, baselineSpec, blurSigma);
  const per = c * h * w;
  const xd = ctx.x.data;
  const bd = base.data;
  const avg = new Float64Array(n * per);
  const total = n * steps;
  const name = ctx.model.input.name;
  const work = new Work(ctx.job, "integrated-gradients", Math.ceil(total / ctx.batchSize) + 1);
  await forChunks(total, ctx.batchSize, work, async (s, e) => {
    const data = new Float32Array((e - s) * per);
    const targets = new Int32Array(e - s);
    for (let k = s; k < e; k++) {
      const img = Math.floor(k / steps);
      const a = alphas[k % steps];
      const dst = (k - s) * per;
      const src = img * per;
      for (let p = 0; p < per; p++)
        data[dst + p] = bd[src + p] + a * (xd[src + p] - bd[src + p]);
      targets[k - s] = ctx.targets[img];
    }
    const g = (await scoreGradients(ctx.model, f32([e - s, c, h, w], data), targets, { score: ctx.score, wrt: [name] })).gradients[name].data;
    for (let k = s; k < e; k++) {
      const img = Math.floor(k / steps);
      const wt = weights[k % steps];
      const src = (k - s) * per;
      const dst = img * per;
      for (let p = 0; p < per; p++)
        avg[dst + p] += wt * g[src + p];
    }
  });
  const attr = new Float32Array(n * per);
  for (let p = 0; p < attr.length; p++)
    attr[p] = (xd[p] - bd[p]) * avg[p];
  work.check();
  const both = new Float32Array(2 * n * per);
  both.set(xd, 0);
  both.set(bd, n * per);
  const targets2 = new Int32Array(2 * n);
  targets2.set(ctx.targets, 0);
  targets2.set(ctx.targets, n);
  const scores = await forwardScores(ctx.model, f32([2 * n, c, h, w], both), targets2, ctx.score);
  work.step();
  const completeness = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let p = i * per; p < (i + 1) * per; p++)
      sum += attr[p];
    const diff = scores[i] - scores[n + i];
    const gap = sum - diff;
    completeness.push({ sum, scoreDifference: diff, gap, relativeGap: Math.abs(gap) / Math.max(Math.abs(diff), 1e-12) });
  }
  const raw = f32(ctx.x.dims, attr);
  const params = { steps, rule, baseline: typeof baselineSpec === "string" ? baselineSpec : "given tensor" };
  if (baselineSpec === "blurred")
    params["blurSigma"] = blurSigma;
  return { raw, map: reduceChannels(raw, "sum"), signed: true, params, completeness };
}

// dist/engine/graph/incremental.js
var UNARY = /* @__PURE__ */ new Set([
  "Relu",
  "LeakyRelu",
  "PRelu",
  "Elu",
  "Selu",
  "Celu",
  "Sigmoid",
  "HardSigmoid",
  "HardSwish",
  "Tanh",
  "Softplus",
  "Softsign",
  "Mish",
  "Gelu",
  "Erf",
  "Clip",
  "Identity",
  "Dropout",
  "Neg",
  "Abs",
  "Exp",
  "Log",
  "Sqrt",
  "Reciprocal",
  "Floor",
  "Ceil",
  "Round",
  "Sign",
  "BatchNormalization",
  "LRN"
]);
var VARIADIC = /* @__PURE__ */ new Set(["Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Pow"]);
var WINDOWED = /* @__PURE__ */ new Set(["Conv", "MaxPool", "AveragePool"]);
var LOWEST = -34028234663852886e22;
var MIN_TRUNCATED_SIDE = 7;
function planIncremental(model, o) {
  const facts = GraphBuilder.over(model.clone(), { strict: false });
  const inShape = facts.shapeOf(o.input);
  if (inShape.length !== 4 || !inShape.slice(1).every((d) => typeof d === "number")) {
    throw new ConvLensError("MODEL_UNSUPPORTED", `Input "${o.input}" has shape [${inShape.join(", ")}]; incremental inference needs an NCHW image of static size.`);
  }
  const [, c, h, w] = inShape;
  const tau = o.tau ?? 1;
  const fullFraction = o.fullFraction ?? 0.8;
  const b = new GraphBuilder();
  b.strict = false;
  b.graph.name = `${model.name}_incremental`;
  b.graph.opset = model.opset;
  b.graph.extraOpsets = model.extraOpsets.map((e) => ({ ...e }));
  for (const n of model.nodes)
    if (n.name)
      b.uniqueName(n.name);
  for (const v of model.valueNames())
    if (!model.initializers.has(v))
      b.uniqueName(v);
  for (const [name, t] of model.initializers)
    b.initializer(name, t);
  for (const p of o.passInputs ?? []) {
    const info = model.inputs.find((i) => i.name === p);
    if (!info)
      throw new Error(`pass-through input "${p}" is not a graph input`);
    b.input(p, info.dtype, info.shape);
  }
  const tables = /* @__PURE__ */ new Map();
  const gathers = [];
  const fullOps = [];
  const states = /* @__PURE__ */ new Map();
  let incrementalMacs = 0;
  let bruteMacs = 0;
  const patchInput = b.input("incremental/patch", "float32", ["B", c, o.window[0], o.window[1]]);
  const counts = [o.offsets[0].length, o.offsets[1].length];
  const windowAxis = (a) => {
    const n = counts[a];
    const ax = { size: a === 0 ? h : w, patch: o.window[a], lo: new Int32Array(n), hi: new Int32Array(n), start: new Int32Array(n) };
    o.offsets[a].forEach((p, k) => {
      if (!Number.isInteger(p) || p < 0 || p + o.window[a] > ax.size)
        throw new ConvLensError("INVALID_ARGUMENT", `Window offset ${p} does not fit a ${o.window[a]}-pixel window in ${ax.size} pixels.`);
      ax.lo[k] = ax.start[k] = p;
      ax.hi[k] = p + o.window[a] - 1;
    });
    return ax;
  };
  states.set(o.input, { kind: "patch", name: patchInput, source: o.input, channels: c, axes: [windowAxis(0), windowAxis(1)] });
  const stateOf = (name) => name ? states.get(name) ?? { kind: "const" } : { kind: "const" };
  const shape4 = (name) => {
    const s = facts.factsOf(name).shape;
    return s && s.length === 4 && s.slice(1).every((d) => typeof d === "number") ? s : void 0;
  };
  const tableOf = (p) => {
    let t = tables.get(p.source);
    if (!t) {
      t = { input: b.uniqueName(`incremental/table/${p.source}`), value: p.source, mapSize: [p.axes[0].size, p.axes[1].size], channels: p.channels };
      b.input(t.input, "float32", [p.axes[0].size * p.axes[1].size + 2, p.channels]);
      tables.set(p.source, t);
    }
    return t.input;
  };
  const rowsOf = (p) => {
    if (!p.rows) {
      const nhwc = b.op("Transpose", [p.name], { perm: [0, 2, 3, 1] });
      const flat = b.op("Reshape", [nhwc, b.ints([-1, p.channels])]);
      p.rows = b.op("Concat", [tableOf(p), flat], { axis: 0 }, { name: b.uniqueName(`incremental/rows/${p.source}`) });
    }
    return p.rows;
  };
  const gather = (p, readStart, readSize, pad) => {
    const idx = b.input(b.uniqueName(`incremental/index/${p.source}`), "int32", ["B", readSize[0], readSize[1]]);
    gathers.push({
      input: idx,
      table: tableOf(p),
      mapSize: [p.axes[0].size, p.axes[1].size],
      patchStart: [p.axes[0].start, p.axes[1].start],
      patchSize: [p.axes[0].patch, p.axes[1].patch],
      readStart,
      readSize,
      pad
    });
    const g = b.op("Gather", [rowsOf(p), idx], { axis: 0 });
    return b.op("Transpose", [g], { perm: [0, 3, 1, 2] });
  };
  const materialize = (p) => {
    if (!p.full) {
      p.full = p.axes.every((ax) => ax.patch === ax.size && ax.start.every((s) => s === 0)) ? p.name : gather(p, [new Int32Array(counts[0]), new Int32Array(counts[1])], [p.axes[0].size, p.axes[1].size], "zero");
    }
    return p.full;
  };
  const place = (size, lo, hi) => {
    const count = lo.length;
    let need = 1;
    for (let k = 0; k < count; k++)
      need = Math.max(need, hi[k] - lo[k] + 1);
    const cap = tau >= 1 ? size : Math.min(size, Math.max(MIN_TRUNCATED_SIDE, Math.ceil(tau * size)));
    const patch = Math.min(need, cap);
    const ax = { size, patch, lo: new Int32Array(lo), hi: new Int32Array(hi), start: new Int32Array(count) };
    for (let k = 0; k < count; k++) {
      const l = lo[k];
      const r = hi[k];
      if (l > r)
        continue;
      if (r - l + 1 <= patch)
        ax.start[k] = Math.min(l, size - patch);
      else {
        const s = Math.max(0, Math.min(size - patch, Math.round((l + r) / 2 - (patch - 1) / 2)));
        ax.start[k] = s;
        ax.lo[k] = Math.max(l, s);
        ax.hi[k] = Math.min(r, s + patch - 1);
      }
    }
    return ax;
  };
  const union = (axes) => {
    const count = axes[0].lo.length;
    const lo = new Int32Array(count).fill(2 ** 30);
    const hi = new Int32Array(count).fill(-1);
    for (const ax of axes) {
      for (let k = 0; k < count; k++) {
        if (ax.lo[k] > ax.hi[k])
          continue;
        lo[k] = Math.min(lo[k], ax.lo[k]);
        hi[k] = Math.max(hi[k], ax.hi[k]);
      }
    }
    return { lo, hi };
  };
  const nearlyFull = (axes) => axes[0].patch * axes[1].patch >= fullFraction * axes[0].size * axes[1].size;
  const macsOf = (node, outSpatial) => {
    if (node.op === "Conv") {
      const wt = facts.shapeOf(node.inputs[1]);
      const out = shape4(node.outputs[0]);
      if (!out)
        return 0;
      return wt.reduce((a, d) => a * d, 1) * (outSpatial ?? out[2] * out[3]);
    }
    if (node.op === "Gemm" || node.op === "MatMul") {
      const wt = facts.factsOf(node.inputs[1]).shape;
      return wt && wt.every((d) => typeof d === "number") ? wt.reduce((a, d) => a * d, 1) : 0;
    }
    return 0;
  };
  const runFull = (node, reason) => {
    const inputs = node.inputs.map((i) => {
      const s = stateOf(i);
      return s.kind === "patch" ? materialize(s) : s.kind === "full" ? s.name : i;
    });
    if (reason)
      fullOps.push({ node: node.name, op: node.op, reason });
    b.addNode({ ...node, inputs, outputs: [...node.outputs], attrs: { ...node.attrs } });
    for (const out of node.outputs)
      if (out)
        states.set(out, { kind: "full", name: out });
    const m = macsOf(node, void 0);
    incrementalMacs += m;
  };
  const emitPatch = (node, inputs, attrs, state) => {
    const out = node.outputs[0];
    const name = b.uniqueName(`incremental/patch/${out}`);
    b.addNode({ ...node, name: b.uniqueName(`incremental/${node.name}`), inputs, outputs: [name], attrs });
    states.set(out, { ...state, kind: "patch", name, source: out });
  };
  const constOk = (name, spatialOk = false) => {
    if (!name)
      return true;
    const s = stateOf(name);
    if (s.kind !== "const")
      return false;
    const shape = facts.factsOf(name).shape;
    if (!shape)
      return false;
    if (spatialOk)
      return true;
    const r = shape.length;
    return (r < 1 || shape[r - 1] === 1) && (r < 2 || shape[r - 2] === 1) && (r < 4 || shape[0] === 1);
  };
  for (const node of model.nodes) {
    const ins = node.inputs.map(stateOf);
    if (ins.every((s) => s.kind === "const")) {
      b.addNode({ ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } });
      continue;
    }
    bruteMacs += macsOf(node, void 0);
    const first = ins[0];
    const outs = node.outputs.filter(Boolean);
    if (ins.some((s) => s.kind === "full")) {
      runFull(node);
      continue;
    }
    const out = node.outputs[0];
    const outShape = shape4(out);
    if (outs.length !== 1 || !outShape || node.domain) {
      runFull(node, outs.length !== 1 ? "several outputs" : "output is not a static NCHW map");
      continue;
    }
    if (UNARY.has(node.op)) {
      const perChannel = node.op === "BatchNormalization" || node.op === "LRN";
      if (first.kind !== "patch" || !node.inputs.slice(1).every((i) => constOk(i, perChannel))) {
        runFull(node, "parameters vary over the image");
        continue;
      }
      emitPatch(node, [first.name, ...node.inputs.slice(1)], { ...node.attrs }, { kind: "patch", channels: outShape[1], axes: first.axes });
      continue;
    }
    if (WINDOWED.has(node.op)) {
      const inShape4 = shape4(node.inputs[0]);
      let reason;
      if (first.kind !== "patch" || !inShape4)
        reason = "input is not a patch";
      else if (node.op === "Conv" && !node.inputs.slice(1).every((i) => constOk(i, true)))
        reason = "weights are not constant";
      else if (node.op === "AveragePool" && attrInt(node, "ceil_mode", 0) === 1)
        reason = "AveragePool with ceil_mode divides border windows by their size";
      else if (node.op === "AveragePool" && attrInt(node, "count_include_pad", 0) === 0 && (attrInts(node, "pads") ?? []).some((p) => p !== 0))
        reason = "AveragePool without count_include_pad divides border windows by their size";
      if (reason || first.kind !== "patch" || !inShape4) {
        runFull(node, reason);
        continue;
      }
      const kernel = node.op === "Conv" ? facts.shapeOf(node.inputs[1]).slice(2) : attrInts(node, "kernel_shape");
      if (kernel.length !== 2) {
        runFull(node, "not a 2-D window");
        continue;
      }
      const g = windowGeometry(node, inShape4.slice(2), kernel);
      const pointwise = g.kernel.every((k) => k === 1) && g.strides.every((s) => s === 1) && g.padBegin.every((p) => p === 0) && g.padEnd.every((p) => p === 0);
      if (pointwise) {
        emitPatch(node, [first.name, ...node.inputs.slice(1)], { ...node.attrs }, { kind: "patch", channels: outShape[1], axes: first.axes });
        incrementalMacs += macsOf(node, first.axes[0].patch * first.axes[1].patch);
        continue;
      }
      const axes = [0, 1].map((a) => {
        const src = first.axes[a];
        const ext = (g.kernel[a] - 1) * g.dilations[a] + 1;
        const s = g.strides[a];
        const size = outShape[2 + a];
        const count = counts[a];
        const lo = new Int32Array(count);
        const hi = new Int32Array(count);
        for (let k = 0; k < count; k++) {
          if (src.lo[k] > src.hi[k]) {
            lo[k] = 1;
            hi[k] = 0;
            continue;
          }
          lo[k] = Math.max(0, Math.ceil((src.lo[k] + g.padBegin[a] - ext + 1) / s));
          hi[k] = Math.min(size - 1, Math.floor((src.hi[k] + g.padBegin[a]) / s));
        }
        return place(size, lo, hi);
      });
      if (nearlyFull(axes)) {
        runFull(node);
        continue;
      }
      const readStart = axes.map((ax, a) => ax.start.map((st) => st * g.strides[a] - g.padBegin[a]));
      const readSize = axes.map((ax, a) => (ax.patch - 1) * g.strides[a] + (g.kernel[a] - 1) * g.dilations[a] + 1);
      const patchIn = gather(first, readStart, readSize, node.op === "MaxPool" ? "lowest" : "zero");
      const attrs = { ...node.attrs, pads: { type: "ints", value: [0, 0, 0, 0] } };
      delete attrs["auto_pad"];
      delete attrs["ceil_mode"];
      if (node.op !== "Conv")
        attrs["kernel_shape"] = { type: "ints", value: [...kernel] };
      emitPatch(node, [patchIn, ...node.inputs.slice(1)], attrs, { kind: "patch", channels: outShape[1], axes });
      incrementalMacs += macsOf(node, axes[0].patch * axes[1].patch);
      continue;
    }
    const concat = node.op === "Concat" && (attrInt(node, "axis", 0) % 4 + 4) % 4 === 1;
    if (VARIADIC.has(node.op) || concat) {
      const patches = ins.filter((s) => s.kind === "patch");
      const ok = node.inputs.every((i, k) => ins[k].kind === "patch" || !concat && constOk(i)) && patches.every((p) => p.axes[0].size === outShape[2] && p.axes[1].size === outShape[3]);
      if (!ok) {
        runFull(node, "an operand varies over the image");
        continue;
      }
      const same = patches.every((p) => p.axes === patches[0].axes);
      let axes;
      if (same)
        axes = patches[0].axes;
      else {
        axes = [0, 1].map((a) => {
          const u = union(patches.map((p) => p.axes[a]));
          return place(outShape[2 + a], u.lo, u.hi);
        });
        if (nearlyFull(axes)) {
          runFull(node);
          continue;
        }
      }
      const inputs = node.inputs.map((i, k) => {
        const s = ins[k];
        if (s.kind !== "patch")
          return i;
        return s.axes === axes ? s.name : gather(s, [axes[0].start, axes[1].start], [axes[0].patch, axes[1].patch], "zero");
      });
      emitPatch(node, inputs, { ...node.attrs }, { kind: "patch", channels: outShape[1], axes });
      continue;
    }
    runFull(node, "no patch rule for this op");
  }
  const final = stateOf(o.output);
  const output = final.kind === "patch" ? materialize(final) : final.kind === "full" ? final.name : o.output;
  if (output !== o.output)
    b.op("Identity", [output], {}, { outputs: [o.output] });
  b.output(o.output);
  const graph = pruneGraph(b.build(), false);
  const used = new Set(graph.inputs.map((i) => i.name));
  const tableList = [...tables.values()].filter((t) => used.has(t.input));
  return {
    graph,
    cacheGraph: cacheGraph(model, o.output, tableList),
    patchInput,
    output: o.output,
    window: [o.window[0], o.window[1]],
    offsets: o.offsets,
    tables: tableList,
    gathers: gathers.filter((g) => used.has(g.input)),
    macs: { incremental: incrementalMacs, bruteForce: bruteMacs },
    fullOps,
    tau
  };
}
function cacheGraph(model, output, tables) {
  const g = model.clone();
  const b = GraphBuilder.over(g, { strict: false });
  g.outputs = [];
  b.output(output);
  for (const t of tables) {
    const [h, w] = t.mapSize;
    const nhwc = b.op("Transpose", [t.value], { perm: [0, 2, 3, 1] });
    const flat = b.op("Reshape", [nhwc, b.ints([h * w, t.channels])]);
    const padRows = new Float32Array(2 * t.channels);
    padRows.fill(LOWEST, t.channels);
    const pads = b.constant({ dtype: "float32", dims: [2, t.channels], data: padRows }, "incremental_pad_rows");
    b.op("Concat", [flat, pads], { axis: 0 }, { outputs: [t.input] });
    b.output(t.input);
  }
  return pruneGraph(b.build());
}
function gatherIndices(plan, windows) {
  const feeds = {};
  const n = windows.length;
  for (const g of plan.gathers) {
    const [H, W] = g.mapSize;
    const [rh, rw] = g.readSize;
    const [ph, pw] = g.patchSize;
    const padRow = g.pad === "zero" ? H * W : H * W + 1;
    const patchBase = H * W + 2;
    const idx = new Int32Array(n * rh * rw);
    let o = 0;
    for (let bi = 0; bi < n; bi++) {
      const [ky, kx] = windows[bi];
      const ry = g.readStart[0][ky];
      const rx = g.readStart[1][kx];
      const sy = g.patchStart[0][ky];
      const sx = g.patchStart[1][kx];
      const batchBase = patchBase + bi * ph * pw;
      for (let i = 0; i < rh; i++) {
        const y = ry + i;
        const inY = y >= 0 && y < H;
        const py = y - sy;
        const inPatchY = py >= 0 && py < ph;
        for (let j = 0; j < rw; j++) {
          const x = rx + j;
          if (!inY || x < 0 || x >= W)
            idx[o++] = padRow;
          else {
            const px = x - sx;
            idx[o++] = inPatchY && px >= 0 && px < pw ? batchBase + py * pw + px : y * W + x;
          }
        }
      }
    }
    feeds[g.input] = { dtype: "int32", dims: [n, rh, rw], data: idx };
  }
  return feeds;
}

// dist/engine/graph/target-head.js
var PER_CHANNEL = /* @__PURE__ */ new Set(["Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Identity", "Dropout", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization"]);
function targetHead(graph, output) {
  const producers = graph.producers();
  const consumers = graph.consumers();
  const facts = GraphBuilder.over(graph.clone(), { strict: false });
  const classes = facts.factsOf(output).shape;
  if (!classes || classes.length !== 2 || typeof classes[1] !== "number")
    return void 0;
  const chain = [];
  let value = output;
  let classLayer;
  for (; ; ) {
    const node = producers.get(value);
    if (!node || node.outputs.filter(Boolean).length !== 1)
      return void 0;
    if (value !== output && (consumers.get(value)?.length ?? 0) !== 1)
      return void 0;
    if (graph.outputs.some((o) => o.name === value) && value !== output)
      return void 0;
    if (node.op === "Gemm" || node.op === "MatMul" || node.op === "Conv") {
      classLayer = node;
      break;
    }
    const shape2 = facts.factsOf(node.inputs[0]).shape;
    if (node.op === "Flatten") {
      if (attrInt(node, "axis", 1) !== 1 || !shape2 || !shape2.slice(2).every((d) => d === 1))
        return void 0;
    } else if (node.op === "Add" && shape2?.length === 2) {
      const bias = facts.valueOf(node.inputs[1]);
      if (!bias || bias.dims[bias.dims.length - 1] !== classes[1])
        return void 0;
    } else if (!PER_CHANNEL.has(node.op) || !node.inputs.slice(1).every((i) => !i || facts.valueOf(i)))
      return void 0;
    chain.push(node);
    value = node.inputs[0];
  }
  if (classLayer.op === "Conv" && attrInt(classLayer, "group", 1) !== 1)
    return void 0;
  if (classLayer.op === "Gemm" && attrInt(classLayer, "transA", 0) !== 0)
    return void 0;
  if (!classLayer.inputs.slice(1).every((i) => !i || facts.valueOf(i)))
    return void 0;
  const g = graph.clone();
  const dropped = new Set([classLayer, ...chain].map((n) => graph.nodes.indexOf(n)));
  g.nodes = g.nodes.filter((_, k) => !dropped.has(k));
  g.outputs = [];
  const b = GraphBuilder.over(g, { strict: false });
  const target = b.input(b.uniqueName("convlens_target"), "int64", [1]);
  const row = (name, axis) => b.op("Gather", [name, target], { axis });
  const inputs = [...classLayer.inputs];
  if (classLayer.op === "Conv") {
    inputs[1] = row(inputs[1], 0);
    if (inputs[2])
      inputs[2] = row(inputs[2], 0);
  } else if (classLayer.op === "MatMul") {
    inputs[1] = row(inputs[1], 1);
  } else {
    inputs[1] = row(inputs[1], attrInt(classLayer, "transB", 0) ? 0 : 1);
    const bias = inputs[2] ? facts.valueOf(inputs[2]) : void 0;
    if (inputs[2] && bias && bias.dims[bias.dims.length - 1] === classes[1])
      inputs[2] = row(inputs[2], bias.dims.length - 1);
  }
  let x = b.op(classLayer.op, inputs, { ...classLayer.attrs });
  for (const node of chain.reverse()) {
    const rest = node.inputs.slice(1).map((i) => {
      if (!i)
        return i;
      if (node.op === "BatchNormalization")
        return row(i, 0);
      if (node.op === "Add")
        return row(i, facts.valueOf(i).dims.length - 1);
      return i;
    });
    x = b.op(node.op, [x, ...rest], { ...node.attrs });
  }
  const out = b.op("Identity", [x], {}, { outputs: [b.uniqueName("convlens_target_logit")] });
  b.output(out);
  const shape = b.factsOf(out).shape;
  if (shape && (shape.length !== 2 || shape[1] !== 1))
    throw new ConvLensError("MODEL_UNSUPPORTED", `Reducing "${output}" to one class gave shape [${shape.join(", ")}].`);
  return { graph: pruneGraph(b.build()), target, output: out };
}

// dist/methods/explain/scoring.js
var cache = /* @__PURE__ */ new WeakMap();
function scoringGraph(model, score) {
  let m = cache.get(model);
  if (!m)
    cache.set(model, m = /* @__PURE__ */ new Map());
  let s = m.get(score);
  if (!s) {
    let head;
    try {
      head = score === "logit" ? targetHead(model.graph, model.output) : void 0;
    } catch {
      head = void 0;
    }
    s = head ? { graph: head.graph, output: head.output, target: head.target, scores: (out) => Float64Array.from(out.data) } : { graph: model.graph, output: model.output, scores: (out, target) => targetScores(out, Int32Array.of(target), score) };
    m.set(score, s);
  }
  return s;
}

// dist/methods/explain/incremental.js
var plans = /* @__PURE__ */ new WeakMap();
function incrementalPlan(model, key, score, request) {
  let cache2 = plans.get(model);
  if (!cache2)
    plans.set(model, cache2 = /* @__PURE__ */ new Map());
  const fullKey = `${key}|${score}`;
  let hit = cache2.get(fullKey);
  if (!hit) {
    const scoring = scoringGraph(model, score);
    const plan = planIncremental(scoring.graph, { ...request, input: model.input.name, output: scoring.output, passInputs: scoring.target ? [scoring.target] : [] });
    hit = { plan, scoring, key: fullKey };
    cache2.set(fullKey, hit);
  }
  return hit;
}
function planSpeedup(plan) {
  return plan.macs.incremental > 0 ? plan.macs.bruteForce / plan.macs.incremental : Infinity;
}
async function incrementalScores(model, scored, base, windows, fill, target, batchSize, work) {
  const { plan, scoring } = scored;
  const cache2 = await model.engine.compile(`${model.id}|incremental-cache|${scored.key}`, () => plan.cacheGraph);
  const compiled = await model.engine.compile(`${model.id}|incremental|${scored.key}`, () => plan.graph);
  const shared = scoring.target ? { [scoring.target]: { dtype: "int64", dims: [1], data: BigInt64Array.of(BigInt(target)) } } : {};
  work?.check();
  const cached = await cache2.run({ [model.input.name]: base, ...shared });
  const clean = scoring.scores(cached[plan.output], target)[0];
  for (const t of plan.tables)
    shared[t.input] = cached[t.input];
  const accepted = new Set(compiled.inputNames);
  const c = base.dims[1];
  const per = c * plan.window[0] * plan.window[1];
  const scores = new Float64Array(windows.length);
  await forChunks(windows.length, batchSize, work, async (s, e) => {
    const batch = windows.slice(s, e);
    const patches = new Float32Array(batch.length * per);
    for (let i = 0; i < batch.length; i++)
      fill(s + i, patches.subarray(i * per, (i + 1) * per));
    const feeds = { ...shared, ...gatherIndices(plan, batch), [plan.patchInput]: { dtype: "float32", dims: [batch.length, c, plan.window[0], plan.window[1]], data: patches } };
    for (const k of Object.keys(feeds))
      if (!accepted.has(k))
        delete feeds[k];
    const out = await compiled.run(feeds, [plan.output]);
    scores.set(scoring.scores(out[plan.output], target), s);
  });
  return { clean, scores };
}

// dist/methods/explain/occlusion.js
function windowOffsets(size, window, stride) {
  const out = [];
  for (let o = 0; o + window <= size; o += stride)
    out.push(o);
  if (out.length === 0 || out[out.length - 1] + window < size)
    out.push(size - window);
  return out;
}
var pair = (v) => Array.isArray(v) ? v : [v, v];
async function occlusion(ctx) {
  const o = ctx.options.occlusion ?? {};
  const [n, c, h, w] = nchw(ctx.x);
  const [wh, ww] = pair(o.window ?? Math.max(2, Math.round(Math.min(h, w) / 7)));
  const [sh, sw] = pair(o.stride ?? [Math.ceil(wh / 2), Math.ceil(ww / 2)]);
  const fill = o.fill ?? "zero";
  for (const [what, v, max] of [["window height", wh, h], ["window width", ww, w], ["stride", sh, h], ["stride", sw, w]]) {
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new ConvLensError("INVALID_ARGUMENT", `Occlusion ${what} must be an integer from 1 to ${max}, got ${v}.`);
  }
  if (sh > wh && wh < h || sw > ww && ww < w) {
    throw new ConvLensError("INVALID_ARGUMENT", `Occlusion stride ${sh}x${sw} is larger than the window ${wh}x${ww}: some pixels would never be occluded.`, "Use a stride no larger than the window (as Captum requires).");
  }
  if (!["zero", "mean", "blur"].includes(fill))
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown occlusion fill "${fill}".`, "Use zero, mean or blur.");
  const blurSigma = o.blurSigma ?? Math.max(wh, ww) / 2;
  const ys = windowOffsets(h, wh, sh);
  const xs = windowOffsets(w, ww, sw);
  const windows = ys.length * xs.length;
  const per = c * h * w;
  const hw = h * w;
  const xd = ctx.x.data;
  let fillPlane;
  if (fill === "blur")
    fillPlane = blurBatch(ctx.x, blurSigma).data;
  else {
    fillPlane = new Float32Array(n * per);
    if (fill === "mean") {
      for (let p = 0; p < n * c; p++) {
        let s = 0;
        for (let i = 0; i < hw; i++)
          s += xd[p * hw + i];
        fillPlane.fill(s / hw, p * hw, (p + 1) * hw);
      }
    }
  }
  const run = await occlusionDrops(ctx, o, ys, xs, [wh, ww], fillPlane);
  const drops = run.drops;
  const sum = new Float64Array(n * hw);
  const count = new Float64Array(hw);
  for (const y0 of ys)
    for (const x0 of xs)
      for (let y = y0; y < y0 + wh; y++)
        for (let x = x0; x < x0 + ww; x++)
          count[y * w + x]++;
  for (let k = 0; k < n * windows; k++) {
    const img = Math.floor(k / windows);
    const win = k % windows;
    const y0 = ys[Math.floor(win / xs.length)];
    const x0 = xs[win % xs.length];
    const drop = drops[k];
    for (let y = y0; y < y0 + wh; y++)
      for (let x = x0; x < x0 + ww; x++)
        sum[img * hw + y * w + x] += drop;
  }
  const map = new Float32Array(n * hw);
  for (let i = 0; i < map.length; i++)
    map[i] = sum[i] / count[i % hw];
  const params = { window: [wh, ww], stride: [sh, sw], fill, windows, ...run.params };
  if (fill === "blur")
    params["blurSigma"] = blurSigma;
  return { raw: f32([n, 1, h, w], map), map: map.slice(), signed: true, params, notes: run.notes };
}
var OCCLUSION_MODES = ["incremental", "brute-force", "approximate"];
var APPROXIMATE_DEFAULTS = { tau: 0.75, drillDown: 0.5 };
var MIN_WINDOW_MACS = 1e7;
var MIN_SPEEDUP = 1.3;
async function occlusionDrops(ctx, o, ys, xs, size, fillPlane) {
  if (o.mode !== void 0 && !OCCLUSION_MODES.includes(o.mode)) {
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown occlusion mode "${String(o.mode)}".`, `Use ${OCCLUSION_MODES.join(", ")}.`);
  }
  const approximate = o.mode === "approximate";
  for (const [what, v] of [["tau", o.tau], ["drillDown", o.drillDown]]) {
    if (v === void 0)
      continue;
    if (!approximate)
      throw new ConvLensError("INVALID_ARGUMENT", `Occlusion ${what} applies only to mode "approximate".`, 'Add mode: "approximate", or leave it out for the exact result.');
    if (!(typeof v === "number" && v > 0 && v <= 1))
      throw new ConvLensError("INVALID_ARGUMENT", `Occlusion ${what} must be a number in (0, 1], got ${String(v)}.`);
  }
  if (o.mode === "brute-force")
    return { drops: await bruteForceDrops(ctx, ys, xs, size, fillPlane), params: { mode: "brute-force" }, notes: [] };
  const tau = approximate ? o.tau ?? APPROXIMATE_DEFAULTS.tau : 1;
  let scored;
  try {
    scored = occlusionPlan(ctx, ys, xs, size, tau);
  } catch (e) {
    if (o.mode !== void 0)
      throw e;
    return { drops: await bruteForceDrops(ctx, ys, xs, size, fillPlane), params: { mode: "brute-force" }, notes: [`ran brute force: incremental inference cannot plan this model (${e.message})`] };
  }
  const speedup = planSpeedup(scored.plan);
  const estimate = Number(speedup.toFixed(2));
  const fallbacks = scored.plan.fullOps.filter((f) => f.reason).map((f) => `${f.node} (${f.op}): ${f.reason}`);
  const notes = fallbacks.length ? [`incremental inference ran these ops on full maps: ${fallbacks.join("; ")}`] : [];
  if (o.mode === void 0 && (speedup < MIN_SPEEDUP || scored.plan.macs.bruteForce < MIN_WINDOW_MACS)) {
    const why = speedup < MIN_SPEEDUP ? `it would save little on this model (estimated ${estimate}x)` : "the model is too small for it to pay off";
    return { drops: await bruteForceDrops(ctx, ys, xs, size, fillPlane), params: { mode: "brute-force" }, notes: [...notes, `ran brute force: ${why}`] };
  }
  if (!approximate)
    return { drops: await incrementalDrops(ctx, scored, ys, xs, size, fillPlane), params: { mode: "incremental", estimatedSpeedup: estimate }, notes };
  const drillDown = o.drillDown ?? APPROXIMATE_DEFAULTS.drillDown;
  const r = await approximateDrops(ctx, scored, ys, xs, size, fillPlane, drillDown);
  return { drops: r.drops, params: { mode: "approximate", tau, drillDown, evaluatedWindows: r.evaluated, estimatedSpeedup: estimate }, notes };
}
async function bruteForceDrops(ctx, ys, xs, [wh, ww], fillPlane) {
  const [n, c, h, w] = nchw(ctx.x);
  const positions = [];
  for (const y0 of ys)
    for (const x0 of xs)
      positions.push([y0, x0]);
  const windows = positions.length;
  const per = c * h * w;
  const hw = h * w;
  const xd = ctx.x.data;
  const work = new Work(ctx.job, "occlusion", Math.ceil(n * windows / ctx.batchSize) + 1);
  work.check();
  const clean = await forwardScores(ctx.model, ctx.x, ctx.targets, ctx.score);
  work.step();
  const scores = await scoreInputs(ctx.model, n * windows, ctx.batchSize, (k, into) => {
    const img = Math.floor(k / windows);
    const [y0, x0] = positions[k % windows];
    into.set(xd.subarray(img * per, (img + 1) * per));
    for (let ch = 0; ch < c; ch++) {
      const base = ch * hw;
      const src = img * per + base;
      for (let y = y0; y < y0 + wh; y++)
        into.set(fillPlane.subarray(src + y * w + x0, src + y * w + x0 + ww), base + y * w + x0);
    }
  }, (k) => ctx.targets[Math.floor(k / windows)], ctx.score, work);
  for (let k = 0; k < n * windows; k++)
    scores[k] = clean[Math.floor(k / windows)] - scores[k];
  return scores;
}
async function incrementalDrops(ctx, scored, ys, xs, size, fillPlane) {
  const n = ctx.x.dims[0];
  const windows = ys.length * xs.length;
  const all = Array.from({ length: windows }, (_, k) => [Math.floor(k / xs.length), k % xs.length]);
  const work = new Work(ctx.job, "occlusion", n * (Math.ceil(windows / ctx.batchSize) + 1));
  const drops = new Float64Array(n * windows);
  for (let img = 0; img < n; img++) {
    const r = await scoreWindows(ctx, scored, img, all, ys, xs, size, fillPlane, work);
    for (let k = 0; k < windows; k++)
      drops[img * windows + k] = r[k];
  }
  return drops;
}
async function scoreWindows(ctx, scored, img, windows, ys, xs, [wh, ww], fillPlane, work) {
  const [, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const base = f32([1, c, h, w], ctx.x.data.slice(img * per, (img + 1) * per));
  const r = await incrementalScores(ctx.model, scored, base, windows, (i, into) => windowContent(fillPlane, img * per, c, h, w, ys[windows[i][0]], xs[windows[i][1]], wh, ww, into), ctx.targets[img], ctx.batchSize, work);
  work.step();
  return r.scores.map((v) => r.clean - v);
}
function coarseIndices(count) {
  const out = [];
  for (let i = 0; i < count; i += 2)
    out.push(i);
  if (out[out.length - 1] !== count - 1)
    out.push(count - 1);
  return out;
}
async function approximateDrops(ctx, scored, ys, xs, size, fillPlane, drillDown) {
  const n = ctx.x.dims[0];
  const windows = ys.length * xs.length;
  const cy = coarseIndices(ys.length);
  const cx = coarseIndices(xs.length);
  const coarse = cy.flatMap((iy) => cx.map((ix) => [iy, ix]));
  const refine = drillDown >= 1 || coarse.length === windows;
  const others = windows - coarse.length;
  const picked = refine ? others : Math.ceil(drillDown * others);
  const runs = refine ? Math.ceil(windows / ctx.batchSize) + 1 : Math.ceil(coarse.length / ctx.batchSize) + Math.ceil(picked / ctx.batchSize) + 2;
  const work = new Work(ctx.job, "occlusion", n * runs);
  const drops = new Float64Array(n * windows);
  const bracket = (coarseIdx, count) => {
    const a = new Int32Array(count);
    const b = new Int32Array(count);
    const t = new Float64Array(count);
    let j = 0;
    for (let i = 0; i < count; i++) {
      while (coarseIdx[j + 1] !== void 0 && coarseIdx[j + 1] <= i)
        j++;
      a[i] = coarseIdx[j];
      b[i] = coarseIdx[Math.min(j + 1, coarseIdx.length - 1)];
      t[i] = b[i] === a[i] ? 0 : (i - a[i]) / (b[i] - a[i]);
    }
    return { a, b, t };
  };
  const by = bracket(cy, ys.length);
  const bx = bracket(cx, xs.length);
  for (let img = 0; img < n; img++) {
    const at = (iy, ix) => img * windows + iy * xs.length + ix;
    const first = refine ? Array.from({ length: windows }, (_, k) => [Math.floor(k / xs.length), k % xs.length]) : coarse;
    const d1 = await scoreWindows(ctx, scored, img, first, ys, xs, size, fillPlane, work);
    first.forEach(([iy, ix], i) => drops[at(iy, ix)] = d1[i]);
    if (refine)
      continue;
    const isCoarseY = new Set(cy);
    const isCoarseX = new Set(cx);
    const candidates = [];
    for (let iy = 0; iy < ys.length; iy++) {
      for (let ix = 0; ix < xs.length; ix++) {
        if (isCoarseY.has(iy) && isCoarseX.has(ix))
          continue;
        const [ya, yb, ty] = [by.a[iy], by.b[iy], by.t[iy]];
        const [xa, xb, tx] = [bx.a[ix], bx.b[ix], bx.t[ix]];
        const q = [drops[at(ya, xa)], drops[at(ya, xb)], drops[at(yb, xa)], drops[at(yb, xb)]];
        drops[at(iy, ix)] = (1 - ty) * ((1 - tx) * q[0] + tx * q[1]) + ty * ((1 - tx) * q[2] + tx * q[3]);
        candidates.push({ w: [iy, ix], priority: Math.max(...q.map(Math.abs)) });
      }
    }
    candidates.sort((p, q) => q.priority - p.priority);
    const chosen = candidates.slice(0, picked).map((c) => c.w);
    const d2 = await scoreWindows(ctx, scored, img, chosen, ys, xs, size, fillPlane, work);
    chosen.forEach(([iy, ix], i) => drops[at(iy, ix)] = d2[i]);
  }
  return { drops, evaluated: refine ? windows : coarse.length + picked };
}
function occlusionPlan(ctx, ys, xs, [wh, ww], tau) {
  const [, , h, w] = nchw(ctx.x);
  const key = `occlusion|${h}x${w}|${wh}x${ww}|${ys.join(",")}|${xs.join(",")}|tau=${tau}`;
  return incrementalPlan(ctx.model, key, ctx.score, { window: [wh, ww], offsets: [ys, xs], tau });
}
function windowContent(planes, offset, c, h, w, y0, x0, wh, ww, into) {
  let o = 0;
  for (let ch = 0; ch < c; ch++)
    for (let y = y0; y < y0 + wh; y++)
      for (let x = x0; x < x0 + ww; x++)
        into[o++] = planes[offset + ch * h * w + y * w + x];
}

// dist/methods/explain/scorecam.js
var SCORECAM_MODES = ["incremental", "brute-force"];
var LOCAL_FRACTION = 0.5;
var SIZE_STEP = 1 / 8;
var MIN_GROUP = 8;
var MIN_SPEEDUP2 = 2;
var MIN_FORWARD_MACS = 1e7;
async function scorecam(ctx) {
  const mode = ctx.options.scorecam?.mode ?? "incremental";
  if (!SCORECAM_MODES.includes(mode))
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown Score-CAM mode "${String(mode)}".`, `Use ${SCORECAM_MODES.join(" or ")}.`);
  const layer = await chosenLayer(ctx);
  const a = await layerActivations(ctx, layer.name);
  const [n, k, lh, lw] = nchw(a);
  const [, , h, w] = nchw(ctx.x);
  const hw = h * w;
  const r = await scoreCamChannelScores(ctx, a, mode);
  const scores = r.scores;
  const weights = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = scores.subarray(i * k, (i + 1) * k);
    if (ctx.score === "logit") {
      let max = -Infinity;
      for (const v of row)
        max = Math.max(max, v);
      let sum = 0;
      for (let j = 0; j < k; j++)
        sum += weights[i * k + j] = Math.exp(row[j] - max);
      for (let j = 0; j < k; j++)
        weights[i * k + j] /= sum;
    } else
      weights.set(row, i * k);
  }
  const raw = weightedSum(a, weights, true);
  const map = new Float32Array(n * hw);
  const rd = raw.data;
  for (let i = 0; i < n; i++)
    resizeBilinear(rd.subarray(i * lh * lw, (i + 1) * lh * lw), lh, lw, h, w, false, map, i * hw);
  return {
    raw,
    map,
    signed: false,
    layer,
    params: { layer: layer.name, channels: k, maskedInputs: r.maskedInputs, mode, ...r.params, weights: ctx.score === "logit" ? "softmax over channels of the target logit" : "target probability", relu: true }
  };
}
function scoreCamChannelScores(run, a, mode) {
  return mode === "brute-force" ? bruteForceScores(run, a) : fastScores(run, a);
}
function shapes(ctx, a) {
  const [n, k, lh, lw] = nchw(a);
  const [, c, h, w] = nchw(ctx.x);
  return { n, k, lh, lw, c, h, w, hw: h * w, per: c * h * w, ad: a.data, xd: ctx.x.data };
}
function planeRange(up, row) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < up.H; y++) {
    up.rowInto(y, row, 0);
    for (let x = 0; x < up.W; x++) {
      lo = Math.min(lo, row[x]);
      hi = Math.max(hi, row[x]);
    }
  }
  return { lo, span: Math.fround(hi - lo) };
}
async function bruteForceScores(ctx, a) {
  const { n, k, lh, lw, c, h, w, hw, per, ad, xd } = shapes(ctx, a);
  const mins = new Float32Array(n * k);
  const spans = new Float32Array(n * k);
  const live = [];
  const plane = new Float32Array(hw);
  const up = new BilinearResampler(lh, lw, h, w, true);
  for (let p = 0; p < n * k; p++) {
    const s = planeRange(up.load(ad.subarray(p * lh * lw, (p + 1) * lh * lw)), plane);
    mins[p] = s.lo;
    spans[p] = s.span;
    if (s.span > 0)
      live.push(p);
  }
  const work = new Work(ctx.job, "scorecam", Math.ceil(live.length / ctx.batchSize) + 1);
  const scores = new Float64Array(n * k);
  const dead = Array.from({ length: n * k }, (_, p) => p).filter((p) => !(spans[p] > 0));
  if (dead.length) {
    work.check();
    const targets = [...new Set(dead.map((p) => ctx.targets[Math.floor(p / k)]))];
    const zeroScores = await forwardScores(ctx.model, f32([targets.length, c, h, w]), Int32Array.from(targets), ctx.score);
    const byTarget = new Map(targets.map((t, i) => [t, zeroScores[i]]));
    for (const p of dead)
      scores[p] = byTarget.get(ctx.targets[Math.floor(p / k)]);
  }
  work.step();
  const liveScores = await scoreInputs(ctx.model, live.length, ctx.batchSize, (i, into) => {
    const p = live[i];
    const img = Math.floor(p / k);
    resizeBilinear(ad.subarray(p * lh * lw, (p + 1) * lh * lw), lh, lw, h, w, true, plane);
    const lo = mins[p];
    const inv = 1 / (spans[p] + 1e-8);
    for (let q = 0; q < hw; q++)
      plane[q] = (plane[q] - lo) * inv;
    for (let ch = 0; ch < c; ch++)
      for (let q = 0; q < hw; q++)
        into[ch * hw + q] = xd[img * per + ch * hw + q] * plane[q];
  }, (i) => ctx.targets[Math.floor(live[i] / k)], ctx.score, work);
  live.forEach((p, i) => scores[p] = liveScores[i]);
  return { scores, maskedInputs: live.length, params: {} };
}
async function fastScores(ctx, a) {
  const { n, k, lh, lw, c, h, w, hw, per, ad, xd } = shapes(ctx, a);
  const scoring = scoringGraph(ctx.model, ctx.score);
  const up = new BilinearResampler(lh, lw, h, w, true);
  const row = new Float32Array(w);
  const scores = new Float64Array(n * k);
  const load = (img, j) => void up.load(ad.subarray((img * k + j) * lh * lw, (img * k + j + 1) * lh * lw));
  const perImage = Array.from({ length: n }, (_, img) => {
    const alias = /* @__PURE__ */ new Map();
    const firstOfMap = /* @__PURE__ */ new Map();
    const dead = [];
    const masks = [];
    for (let j = 0; j < k; j++) {
      const p = img * k + j;
      const src = ad.subarray(p * lh * lw, (p + 1) * lh * lw);
      const key = mapKey(src);
      const twin = firstOfMap.get(key);
      if (twin !== void 0) {
        alias.set(j, twin);
        continue;
      }
      firstOfMap.set(key, j);
      load(img, j);
      const { lo, span } = planeRange(up, row);
      if (!(span > 0)) {
        dead.push(j);
        continue;
      }
      masks.push({ channel: j, lo, inv: 1 / (span + 1e-8), box: supportBox(up, h, w, lo) });
    }
    return { alias, dead, masks };
  });
  const plans2 = /* @__PURE__ */ new Map();
  const groupsOf = (masks) => {
    const local = /* @__PURE__ */ new Map();
    const rest = [];
    const [qh, qw] = [Math.max(1, Math.ceil(h * SIZE_STEP)), Math.max(1, Math.ceil(w * SIZE_STEP))];
    for (const m of masks) {
      const sh = Math.ceil((m.box[2] - m.box[0] + 1) / qh) * qh;
      const sw = Math.ceil((m.box[3] - m.box[1] + 1) / qw) * qw;
      if (sh > LOCAL_FRACTION * h || sw > LOCAL_FRACTION * w)
        rest.push(m);
      else {
        const key = `${sh}x${sw}`;
        const g = local.get(key);
        if (g)
          g.push(m);
        else
          local.set(key, [m]);
      }
    }
    for (const [key, g] of [...local]) {
      const [sh, sw] = key.split("x").map(Number);
      if (g.length < MIN_GROUP || !localPlanWorthIt(ctx.model, ctx.score, sh, sw, h, w, plans2)) {
        rest.push(...g);
        local.delete(key);
      }
    }
    return { local, rest };
  };
  const grouped = perImage.map((im) => groupsOf(im.masks));
  let runs = 0;
  for (const g of grouped) {
    runs += Math.ceil(g.rest.length / ctx.batchSize) + 1;
    for (const l of g.local.values())
      runs += Math.ceil(l.length / ctx.batchSize) + 1;
  }
  const work = new Work(ctx.job, "scorecam", runs);
  const session = await scoringSession(ctx.model, scoring);
  let incremental = 0;
  for (let img = 0; img < n; img++) {
    const target = ctx.targets[img];
    const { alias, dead } = perImage[img];
    const { local, rest } = grouped[img];
    const fillMasked = (m, into, box = [0, 0, h - 1, w - 1]) => {
      load(img, m.channel);
      const [y0, x0, y1, x1] = box;
      const bw = x1 - x0 + 1;
      const plane = (y1 - y0 + 1) * bw;
      for (let y = y0; y <= y1; y++) {
        up.rowInto(y, row, 0);
        for (let x = x0; x <= x1; x++) {
          const mask = Math.fround((row[x] - m.lo) * m.inv);
          const src = img * per + y * w + x;
          const dst = (y - y0) * bw + (x - x0);
          for (let ch = 0; ch < c; ch++)
            into[ch * plane + dst] = xd[src + ch * hw] * mask;
        }
      }
    };
    work.check();
    const zero = f32([1, c, h, w]);
    const zeroScore = (await runScoring(session, scoring, ctx.model, zero, target))[0];
    work.step();
    for (const j of dead)
      scores[img * k + j] = zeroScore;
    for (const [key, group] of local) {
      const [sh, sw] = key.split("x").map(Number);
      const scored = plans2.get(key);
      const windows = group.map((m) => [Math.min(m.box[0], h - sh), Math.min(m.box[1], w - sw)]);
      const r = await incrementalScores(ctx.model, scored, zero, windows, (i, into) => {
        const [y0, x0] = windows[i];
        fillMasked(group[i], into, [y0, x0, y0 + sh - 1, x0 + sw - 1]);
      }, target, ctx.batchSize, work);
      work.step();
      group.forEach((m, i) => scores[img * k + m.channel] = r.scores[i]);
      incremental += group.length;
    }
    await forChunks(rest.length, ctx.batchSize, work, async (s, e) => {
      const data = new Float32Array((e - s) * per);
      for (let i = s; i < e; i++)
        fillMasked(rest[i], data.subarray((i - s) * per, (i - s + 1) * per));
      const out = await runScoring(session, scoring, ctx.model, f32([e - s, c, h, w], data), target);
      for (let i = s; i < e; i++)
        scores[img * k + rest[i].channel] = out[i - s];
    });
    for (const [j, twin] of alias)
      scores[img * k + j] = scores[img * k + twin];
  }
  const maskedInputs = perImage.reduce((s, im) => s + im.masks.length, 0);
  const duplicates = perImage.reduce((s, im) => s + im.alias.size, 0);
  return { scores, maskedInputs, params: { incrementalMasks: incremental, duplicateChannels: duplicates, targetOnly: scoring.target !== void 0 } };
}
function localPlanWorthIt(model, score, sh, sw, h, w, plans2) {
  const offsets = (size, win) => Array.from({ length: size - win + 1 }, (_, i) => i);
  const key = `${sh}x${sw}`;
  let scored;
  try {
    scored = incrementalPlan(model, `scorecam|${h}x${w}|${key}`, score, { window: [sh, sw], offsets: [offsets(h, sh), offsets(w, sw)] });
  } catch {
    return false;
  }
  if (scored.plan.macs.bruteForce < MIN_FORWARD_MACS || planSpeedup(scored.plan) < MIN_SPEEDUP2)
    return false;
  plans2.set(key, scored);
  return true;
}
function mapKey(src) {
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096)
    s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}
function supportBox(up, h, w, lo) {
  const rowLive = (y, x02, x12) => {
    for (let x = x02; x <= x12; x++)
      if (up.at(y, x) !== lo)
        return true;
    return false;
  };
  const colLive = (x, y02, y12) => {
    for (let y = y02; y <= y12; y++)
      if (up.at(y, x) !== lo)
        return true;
    return false;
  };
  let y0 = 0;
  while (y0 < h && !rowLive(y0, 0, w - 1))
    y0++;
  if (y0 === h)
    return [h, w, -1, -1];
  let y1 = h - 1;
  while (!rowLive(y1, 0, w - 1))
    y1--;
  let x0 = 0;
  while (!colLive(x0, y0, y1))
    x0++;
  let x1 = w - 1;
  while (!colLive(x1, y0, y1))
    x1--;
  return [y0, x0, y1, x1];
}
async function scoringSession(model, scoring) {
  return model.engine.compile(`${model.id}|scoring|${scoring.output}`, () => scoring.graph);
}
async function runScoring(session, scoring, model, x, target) {
  const feeds = { [model.input.name]: x };
  if (scoring.target)
    feeds[scoring.target] = { dtype: "int64", dims: [1], data: BigInt64Array.of(BigInt(target)) };
  const out = await session.run(feeds, [scoring.output]);
  return scoring.scores(out[scoring.output], target);
}

// dist/methods/explain/smoothgrad.js
function stats(ctx) {
  return ctx.memo.once("smoothgrad-stats", async () => {
    const o = ctx.options.smoothgrad ?? {};
    const samples = o.samples ?? 50;
    const noise = o.noise ?? 0.15;
    const seed = o.seed ?? 0;
    if (!Number.isInteger(samples) || samples < 1)
      throw new ConvLensError("INVALID_ARGUMENT", `SmoothGrad samples must be a positive integer, got ${samples}.`);
    if (!(noise >= 0))
      throw new ConvLensError("INVALID_ARGUMENT", `SmoothGrad noise must be >= 0 (a fraction of the input range), got ${noise}.`);
    const [n, c, h, w] = nchw(ctx.x);
    const per = c * h * w;
    const xd = ctx.x.data;
    const sigmas = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = i * per; p < (i + 1) * per; p++) {
        lo = Math.min(lo, xd[p]);
        hi = Math.max(hi, xd[p]);
      }
      sigmas[i] = noise * (hi - lo);
    }
    const sum = new Float64Array(n * per);
    const sumSq = new Float64Array(n * per);
    const total = n * samples;
    const normal = normalSource(seed);
    const name = ctx.model.input.name;
    const work = new Work(ctx.job, "smoothgrad", Math.ceil(total / ctx.batchSize));
    await forChunks(total, ctx.batchSize, work, async (s, e) => {
      const data = new Float32Array((e - s) * per);
      const targets = new Int32Array(e - s);
      for (let k = s; k < e; k++) {
        const img = Math.floor(k / samples);
        const sigma = sigmas[img];
        const dst = (k - s) * per;
        for (let p = 0; p < per; p++)
          data[dst + p] = xd[img * per + p] + sigma * normal();
        targets[k - s] = ctx.targets[img];
      }
      const r = await scoreGradients(ctx.model, f32([e - s, c, h, w], data), targets, { score: ctx.score, wrt: [name] });
      const g = r.gradients[name].data;
      for (let k = s; k < e; k++) {
        const img = Math.floor(k / samples);
        const src = (k - s) * per;
        const dst = img * per;
        for (let p = 0; p < per; p++) {
          const v = g[src + p];
          sum[dst + p] += v;
          sumSq[dst + p] += v * v;
        }
      }
    });
    const mean = new Float32Array(n * per);
    const meanSquare = new Float32Array(n * per);
    const variance = new Float32Array(n * per);
    for (let p = 0; p < mean.length; p++) {
      const m = sum[p] / samples;
      mean[p] = m;
      meanSquare[p] = sumSq[p] / samples;
      variance[p] = Math.max(0, sumSq[p] / samples - m * m);
    }
    return { mean, meanSquare, variance, params: { samples, noise, noiseIs: "fraction of each image's value range (max - min)", seed } };
  });
}
async function smoothgrad(ctx) {
  const s = await stats(ctx);
  const raw = f32(ctx.x.dims, s.mean);
  return { raw, map: reduceChannels(raw, "sum"), signed: true, params: s.params };
}
async function smoothgradSquared(ctx) {
  const s = await stats(ctx);
  const raw = f32(ctx.x.dims, s.meanSquare);
  return { raw, map: reduceChannels(raw, "sum"), signed: false, params: s.params };
}
async function vargrad(ctx) {
  const s = await stats(ctx);
  const raw = f32(ctx.x.dims, s.variance);
  return { raw, map: reduceChannels(raw, "sum"), signed: false, params: s.params };
}

// dist/methods/explain/index.js
var METHODS = {
  gradient: { run: gradient, layer: false, title: "Gradient", description: "d score / d input, signed" },
  saliency: { run: saliency, layer: false, title: "Saliency", description: "max over channels of |d score / d input| (Simonyan et al.)" },
  "input-x-gradient": { run: inputXGradient, layer: false, title: "Input x gradient", description: "input times gradient" },
  smoothgrad: { run: smoothgrad, layer: false, title: "SmoothGrad", description: "mean gradient over noisy copies (Smilkov et al.)" },
  "smoothgrad-sq": { run: smoothgradSquared, layer: false, title: "SmoothGrad\xB2", description: "mean squared gradient over noisy copies" },
  vargrad: { run: vargrad, layer: false, title: "VarGrad", description: "variance of the gradient over noisy copies (Adebayo et al.)" },
  "integrated-gradients": { run: integratedGradients, layer: false, title: "Integrated gradients", description: "path integral of gradients from a baseline (Sundararajan et al.)" },
  occlusion: { run: occlusion, layer: false, title: "Occlusion", description: "score drop when a sliding window is filled (Zeiler & Fergus)" },
  cam: { run: cam, layer: true, title: "CAM", description: "class weights x GAP feature maps (Zhou et al.)" },
  gradcam: { run: gradcam, layer: true, title: "Grad-CAM", description: "ReLU(sum of channels weighted by mean gradient) (Selvaraju et al.)" },
  "gradcam++": { run: gradcamPlusPlus, layer: true, title: "Grad-CAM++", description: "higher-order gradient weights (Chattopadhay et al.)" },
  scorecam: { run: scorecam, layer: true, title: "Score-CAM", description: "channels weighted by the score of the input they mask (Wang et al.)" },
  layercam: { run: layercam, layer: true, title: "LayerCAM", description: "ReLU(sum of positive gradients x activations) (Jiang et al.)" },
  "guided-backprop": { run: guidedBackprop, layer: false, title: "Guided backprop", description: "gradient with guided ReLUs (Springenberg et al.)" },
  deconvnet: { run: deconvnet, layer: false, title: "Deconvnet", description: "backward pass with deconvnet ReLUs (Zeiler & Fergus)" },
  "guided-gradcam": { run: guidedGradcam, layer: true, title: "Guided Grad-CAM", description: "guided backprop x upsampled Grad-CAM" }
};
var ALIASES = {
  grad: "gradient",
  gradients: "gradient",
  vanilla: "gradient",
  "vanilla-gradient": "gradient",
  ixg: "input-x-gradient",
  "input-x-grad": "input-x-gradient",
  "inputxgradient": "input-x-gradient",
  "input-times-gradient": "input-x-gradient",
  "smoothgrad-squared": "smoothgrad-sq",
  "smoothgrad-square": "smoothgrad-sq",
  "smoothgrad-sq": "smoothgrad-sq",
  ig: "integrated-gradients",
  "integrated-gradient": "integrated-gradients",
  "grad-cam": "gradcam",
  "grad-cam++": "gradcam++",
  "gradcam-plus-plus": "gradcam++",
  gradcampp: "gradcam++",
  "score-cam": "scorecam",
  "layer-cam": "layercam",
  guided: "guided-backprop",
  "guided-backpropagation": "guided-backprop",
  guidedbackprop: "guided-backprop",
  "guided-grad-cam": "guided-gradcam",
  deconv: "deconvnet"
};
function resolveMethod(name) {
  const key = name.trim().toLowerCase().replace(/_/g, "-");
  if (METHOD_NAMES.includes(key))
    return key;
  const alias = ALIASES[key];
  if (alias)
    return alias;
  throw unknownNameError("attribution method", name, METHOD_NAMES);
}
function resolveMethods(names) {
  const out = [];
  for (const part of names.flatMap((n) => n.split(",")).map((s) => s.trim()).filter(Boolean)) {
    const m = resolveMethod(part);
    if (!out.includes(m))
      out.push(m);
  }
  if (out.length === 0)
    throw new ConvLensError("INVALID_ARGUMENT", "No attribution method given.", `Choose from: ${METHOD_NAMES.join(", ")}.`);
  return out;
}
function leadingPass(model, methods, score, layer) {
  for (const m of methods) {
    switch (m) {
      case "gradient":
      case "saliency":
      case "input-x-gradient":
        return inputGradientPass(model, score);
      case "guided-backprop":
        return inputGradientPass(model, score, "guided");
      case "deconvnet":
        return inputGradientPass(model, score, "deconvnet");
      case "gradcam":
      case "gradcam++":
      case "layercam":
      case "guided-gradcam":
        return layerGradientPass(score, spatialLayer(model, layer).name);
      default:
    }
  }
  return void 0;
}
async function explain(model, x, options) {
  model.checkInput(x);
  const methods = resolveMethods(options.methods);
  const score = checkScore(options.score ?? "logit");
  const batchSize = options.batchSize ?? defaultBatchSize(model);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConvLensError("INVALID_ARGUMENT", `Batch size must be a positive integer, got ${batchSize}.`);
  if (methods.some((m) => METHODS[m].layer && m !== "cam"))
    spatialLayer(model, options.layer);
  else if (options.layer !== void 0)
    model.resolveLayer(options.layer);
  throwIfCancelled(options.signal, "explain");
  const memoValues = /* @__PURE__ */ new Map();
  const lead = leadingPass(model, methods, score, options.layer);
  let led;
  if (lead) {
    const preset = presetTargets(model, options.target, x.dims[0], classCount(model));
    try {
      const r = await runPass(model, x, preset, lead, batchSize, options);
      memoValues.set(lead.key, Promise.resolve(r));
      led = r;
    } catch (e) {
      if (!(e instanceof ConvLensError) || !SKIPPABLE.has(e.code) || methods.length === 1)
        throw e;
    }
  }
  const logits = led?.logits ?? (await model.run(x))[model.output];
  const targets = led?.targets ?? resolveTargets(model, options.target, logits);
  const classes = logits.dims[1];
  const ld = logits.data;
  const images = Array.from({ length: x.dims[0] }, (_, i) => {
    const row = ld.subarray(i * classes, (i + 1) * classes);
    const p = softmax(row);
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (row[k] > row[best])
        best = k;
    const t = targets[i];
    const label = (k) => model.labels[k] ?? `class ${k}`;
    return {
      predicted: { index: best, label: label(best), probability: p[best], logit: row[best] },
      target: { index: t, label: label(t), score: score === "logit" ? row[t] : p[t], probability: p[t], logit: row[t] }
    };
  });
  const ctx = {
    model,
    x,
    targets,
    score,
    batchSize,
    job: options,
    options,
    memo: void 0
  };
  const memo = {
    once(key, compute) {
      let p = memoValues.get(key);
      if (!p)
        memoValues.set(key, p = compute());
      return p;
    },
    method(name) {
      return memo.once(`method|${name}`, () => METHODS[name].run(ctx));
    }
  };
  ctx.memo = memo;
  const [, , h, w] = nchw(x);
  const attributions = [];
  const skipped = [];
  for (const method of methods) {
    throwIfCancelled(options.signal, "explain");
    const t0 = performance.now();
    let r;
    try {
      r = await memo.method(method);
    } catch (e) {
      if (!(e instanceof ConvLensError) || !SKIPPABLE.has(e.code) || methods.length === 1)
        throw e;
      skipped.push({ method, reason: e.message, ...e.hint ? { hint: e.hint } : {} });
      continue;
    }
    const timeMs = performance.now() - t0;
    attributions.push({
      method,
      params: r.params,
      ...r.layer ? { layer: r.layer } : {},
      raw: r.raw,
      map: f32([x.dims[0], h, w], r.map),
      signed: r.signed,
      ...r.completeness ? { completeness: r.completeness } : {},
      notes: r.notes ?? [],
      timeMs
    });
  }
  if (!attributions.length) {
    const first = skipped[0];
    throw new ConvLensError("MODEL_UNSUPPORTED", `No method applies to model "${model.name}": ${skipped.map((s) => `${s.method}: ${s.reason}`).join("; ")}`, first.hint);
  }
  return { model: model.name, score, inputShape: [...x.dims], images, targets, attributions, skipped, batchSize };
}
var SKIPPABLE = /* @__PURE__ */ new Set(["MODEL_UNSUPPORTED", "SHAPE_MISMATCH"]);

export {
  checkScore,
  defaultBatchSize,
  Work,
  scoreInputs,
  blackImage,
  METHOD_NAMES,
  METHODS,
  resolveMethods,
  explain
};
