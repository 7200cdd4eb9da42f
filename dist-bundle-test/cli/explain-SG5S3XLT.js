import {
  METHODS,
  METHOD_NAMES,
  Work,
  blackImage,
  checkScore,
  defaultBatchSize,
  explain,
  resolveMethods,
  scoreInputs
} from "./chunk-DV6A6FR5.js";
import {
  blurBatch,
  nchw
} from "./chunk-NAOYI6IT.js";
import "./chunk-R7SGPERG.js";
import {
  loadInputs
} from "./chunk-TB3I72ED.js";
import {
  encodeNpy,
  parseNpy
} from "./chunk-H7NAK5QP.js";
import {
  OutputFiles,
  defaultOut
} from "./chunk-SEMCHPMJ.js";
import {
  choiceOption,
  cliJob,
  intIn,
  modelInfo,
  nonNegativeInt,
  openModel,
  positiveInt,
  withCommon
} from "./chunk-OMSJE7ZP.js";
import "./chunk-4KDPQESB.js";
import {
  Model,
  shortLayerName
} from "./chunk-P6HER42Z.js";
import "./chunk-2RDMIJXC.js";
import {
  encodePng
} from "./chunk-JFQ3PAZH.js";
import "./chunk-X2V5Z5UO.js";
import "./chunk-75463JA6.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  normalSource,
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  panelsSpec,
  renderChart
} from "./chunk-A36QIBQV.js";
import {
  colormap,
  describeRange,
  gridFigure,
  overlay,
  parseRange,
  renderHeatmap,
  resizeImage
} from "./chunk-TUXGXZTB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/interfaces/cli/commands/explain.js
import { basename } from "node:path";
import { InvalidArgumentError } from "commander";

// dist/methods/metrics/deletion-insertion.js
function auc(xs, ys) {
  let s = 0;
  for (let i = 1; i < xs.length; i++)
    s += (xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1]) / 2;
  return s;
}
function pixelOrder(map, seed = 0) {
  const rand = seededRandom(seed);
  const n = map.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++)
    keys[i] = rand();
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => map[b] - map[a] || keys[a] - keys[b]);
  return Int32Array.from(idx);
}
function canvasOf(model, x, kind, sigma) {
  const [n, c, h, w] = nchw(x);
  const per = c * h * w;
  const hw = h * w;
  const xd = x.data;
  if (kind === "blur")
    return blurBatch(x, sigma).data;
  const out = new Float32Array(n * per);
  if (kind === "black") {
    const one = blackImage(model).data;
    for (let i = 0; i < n; i++)
      out.set(one, i * per);
  } else if (kind === "mean") {
    for (let p = 0; p < n * c; p++) {
      let s = 0;
      for (let i = 0; i < hw; i++)
        s += xd[p * hw + i];
      out.fill(s / hw, p * hw, (p + 1) * hw);
    }
  } else if (kind !== "zero") {
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown canvas "${kind}".`, "Use black, zero, blur or mean.");
  }
  return out;
}
async function deletionInsertion(model, x, targets, maps, o = {}) {
  const [n, c, h, w] = nchw(x);
  const steps = o.steps ?? 50;
  if (!Number.isInteger(steps) || steps < 1)
    throw new ConvLensError("INVALID_ARGUMENT", `Curve steps must be a positive integer, got ${steps}.`);
  for (const m of maps) {
    if (m.dims.length !== 3 || m.dims[0] !== n || m.dims[1] !== h || m.dims[2] !== w) {
      throw new ConvLensError("SHAPE_MISMATCH", `A map has shape [${m.dims.join(", ")}]; deletion/insertion needs [${n}, ${h}, ${w}] (one map per image at input resolution).`);
    }
  }
  const score = o.score ?? "prob";
  const sigma = o.blurSigma ?? Math.max(h, w) / 10;
  const hw = h * w;
  const per = c * hw;
  const xd = x.data;
  const delFill = canvasOf(model, x, o.deletionFill ?? "black", sigma);
  const insStart = canvasOf(model, x, o.insertionStart ?? "blur", sigma);
  const counts = Array.from({ length: steps + 1 }, (_, k) => Math.round(k / steps * hw));
  const fractions = counts.map((k) => k / hw);
  const orders = maps.map((m) => Array.from({ length: n }, (_, i) => pixelOrder(m.data.subarray(i * hw, (i + 1) * hw), (o.seed ?? 0) + i)));
  const perMap = n * 2 * (steps + 1);
  const total = maps.length * perMap;
  const decode = (k) => {
    const m = Math.floor(k / perMap);
    let r = k % perMap;
    const i = Math.floor(r / (2 * (steps + 1)));
    r %= 2 * (steps + 1);
    return { m, i, ins: r > steps, s: r % (steps + 1) };
  };
  const batch = o.batchSize ?? defaultBatchSize(model);
  const work = new Work(o, "deletion/insertion", Math.ceil(total / batch));
  const scores = await scoreInputs(model, total, batch, (k, into) => {
    const { m, i, ins, s } = decode(k);
    const from = ins ? insStart : xd;
    const to = ins ? xd : delFill;
    into.set(from.subarray(i * per, (i + 1) * per));
    const order = orders[m][i];
    for (let r = 0; r < counts[s]; r++) {
      const p = order[r];
      for (let ch = 0; ch < c; ch++)
        into[ch * hw + p] = to[i * per + ch * hw + p];
    }
  }, (k) => targets[decode(k).i], score, work);
  return maps.map((_, m) => {
    const deletion = [];
    const insertion = [];
    for (let i = 0; i < n; i++) {
      const base = m * perMap + i * 2 * (steps + 1);
      deletion.push(Array.from(scores.subarray(base, base + steps + 1)));
      insertion.push(Array.from(scores.subarray(base + steps + 1, base + 2 * (steps + 1))));
    }
    const deletionAuc = deletion.map((ys) => auc(fractions, ys));
    const insertionAuc = insertion.map((ys) => auc(fractions, ys));
    const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
    return { fractions, deletion, insertion, deletionAuc, insertionAuc, meanDeletionAuc: mean(deletionAuc), meanInsertionAuc: mean(insertionAuc) };
  });
}
function randomMaps(n, h, w, seed = 1) {
  const rand = seededRandom(seed);
  const data = new Float32Array(n * h * w);
  for (let i = 0; i < data.length; i++)
    data[i] = rand();
  return { dtype: "float32", dims: [n, h, w], data };
}

// dist/methods/metrics/similarity.js
function ranks(values) {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i2) => i2).sort((a, b) => values[a] - values[b]);
  const out = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]])
      j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      out[order[k]] = r;
    i = j + 1;
  }
  return out;
}
function pearson(a, b) {
  const n = a.length;
  if (n !== b.length)
    throw new ConvLensError("INVALID_ARGUMENT", `Cannot correlate ${n} values with ${b.length}.`);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
function spearman(a, b) {
  return pearson(ranks(a), ranks(b));
}
function ssim(a, b, width, height, o = {}) {
  const win = o.window ?? 7;
  const range = o.dataRange ?? 1;
  if (a.length !== width * height || b.length !== width * height)
    throw new ConvLensError("INVALID_ARGUMENT", `SSIM needs two ${width}x${height} images.`);
  if (width < win || height < win)
    throw new ConvLensError("INVALID_ARGUMENT", `SSIM with a ${win}x${win} window needs images of at least ${win}x${win}, got ${width}x${height}.`);
  const np = win * win;
  const covNorm = np / (np - 1);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  const W = width + 1;
  const tables = [new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1))];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const va = a[y * width + x];
      const vb = b[y * width + x];
      const vals = [va, vb, va * va, vb * vb, va * vb];
      for (let t = 0; t < 5; t++) {
        const T = tables[t];
        T[(y + 1) * W + x + 1] = vals[t] + T[y * W + x + 1] + T[(y + 1) * W + x] - T[y * W + x];
      }
    }
  }
  const box = (T, y, x) => T[(y + win) * W + x + win] - T[y * W + x + win] - T[(y + win) * W + x] + T[y * W + x];
  let total = 0;
  let count = 0;
  for (let y = 0; y + win <= height; y++) {
    for (let x = 0; x + win <= width; x++) {
      const ux = box(tables[0], y, x) / np;
      const uy = box(tables[1], y, x) / np;
      const vx = covNorm * (box(tables[2], y, x) / np - ux * ux);
      const vy = covNorm * (box(tables[3], y, x) / np - uy * uy);
      const vxy = covNorm * (box(tables[4], y, x) / np - ux * uy);
      total += (2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}
function normalizedMagnitude(values) {
  const out = new Float64Array(values.length);
  let max = 0;
  for (let i = 0; i < out.length; i++)
    max = Math.max(max, out[i] = Math.abs(values[i]));
  if (max > 0)
    for (let i = 0; i < out.length; i++)
      out[i] /= max;
  return out;
}

// dist/methods/metrics/sanity.js
var PARAMETERIZED = /* @__PURE__ */ new Set(["Conv", "ConvTranspose", "Gemm", "MatMul"]);
function randomizableLayers(model) {
  return model.graph.nodes.filter((n) => PARAMETERIZED.has(n.op) && n.inputs[1] && model.graph.initializers.get(n.inputs[1])?.dtype === "float32").map((n) => n.name).reverse();
}
function randomizeLayer(graph, layer, rand) {
  const node = graph.nodes.find((n) => n.name === layer);
  if (!node)
    throw new ConvLensError("UNKNOWN_NAME", `No layer named "${layer}" to randomize.`);
  for (const input of node.inputs.slice(1, 3)) {
    const t = input ? graph.initializers.get(input) : void 0;
    if (!t || t.dtype !== "float32")
      continue;
    const src = t.data;
    let mean = 0;
    for (const v of src)
      mean += v;
    mean /= src.length;
    let variance = 0;
    for (const v of src)
      variance += (v - mean) ** 2;
    const std = Math.sqrt(variance / Math.max(1, src.length)) || 0;
    const data = new Float32Array(src.length);
    for (let i = 0; i < data.length; i++)
      data[i] = std * rand();
    graph.initializers.set(input, { dtype: "float32", dims: [...t.dims], data });
  }
}
function compare(a, b) {
  const [n, h, w] = a.dims;
  const hw = h * w;
  const out = { spearman: [], spearmanAbs: [], ssim: [] };
  for (let i = 0; i < n; i++) {
    const x = a.data.subarray(i * hw, (i + 1) * hw);
    const y = b.data.subarray(i * hw, (i + 1) * hw);
    out.spearman.push(spearman(x, y));
    out.spearmanAbs.push(spearman(Float64Array.from(x, Math.abs), Float64Array.from(y, Math.abs)));
    out.ssim.push(h >= 7 && w >= 7 ? ssim(normalizedMagnitude(x), normalizedMagnitude(y), w, h) : NaN);
  }
  return out;
}
async function randomizationCheck(model, x, options) {
  const requested = resolveMethods(options.methods);
  const layers = options.layers ?? randomizableLayers(model);
  const known = new Set(randomizableLayers(model));
  for (const l of layers) {
    if (!known.has(l))
      throw new ConvLensError("UNKNOWN_NAME", `"${l}" is not a layer with weights to randomize.`, `Layers with weights, output first: ${[...known].join(", ")}.`);
  }
  if (layers.length === 0)
    throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${model.name}" has no Conv/Gemm/MatMul layers with constant weights to randomize.`);
  const { onProgress, ...rest } = options;
  const report = (done, phase) => onProgress?.({ done, total: layers.length + 1, phase });
  report(0, "sanity: trained model");
  const original = await explain(model, x, { ...rest, methods: requested });
  const methods = original.attributions.map((a) => a.method);
  const targets = Array.from(original.targets);
  const rand = normalSource(options.seed ?? 0);
  const graph = model.graph.clone();
  const steps = [];
  for (const [k, layer] of layers.entries()) {
    throwIfCancelled(options.signal, "the sanity check");
    report(k + 1, `sanity: randomized down to ${layer}`);
    randomizeLayer(graph, layer, rand);
    const randomized = new Model(graph.clone(), model.engine, `${model.name} (randomized down to ${layer})`);
    const e = await explain(randomized, x, { ...rest, methods, target: targets });
    const scores = {};
    const maps = {};
    e.attributions.forEach((a, i) => {
      scores[a.method] = compare(original.attributions[i].map, a.map);
      maps[a.method] = a.map;
    });
    steps.push({ layer, scores, maps });
  }
  report(layers.length + 1, "sanity: done");
  return { methods, layers, original, steps };
}
function meanScore(values) {
  const ok = values.filter((v) => Number.isFinite(v));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}

// dist/render/attribution.js
var CAM_METHODS = /* @__PURE__ */ new Set(["cam", "gradcam", "gradcam++", "scorecam", "layercam"]);
var OUTLIER_PERCENT = 2;
function defaultRange(method, signed) {
  if (CAM_METHODS.has(method) && !signed)
    return { mode: "minmax" };
  const keep = method === "occlusion" ? 100 : 100 - OUTLIER_PERCENT;
  return signed ? { mode: "symmetric", percentile: keep } : { mode: "percentile", low: 0, high: keep };
}
function displayStyle(method, signed, o = {}) {
  const isCam = CAM_METHODS.has(method);
  const view = o.view && o.view !== "auto" ? o.view : isCam ? "overlay" : "heatmap";
  const range = o.range ?? defaultRange(method, signed);
  const opacity = o.opacity ?? (isCam ? 0.5 : 0.7);
  if (signed)
    return { view, colormap: o.diverging ?? "rdbu", range, interpolation: isCam ? "bilinear" : "nearest", opacity };
  if (isCam)
    return { view, colormap: o.colormap ?? (view === "overlay" ? "turbo" : "inferno"), range, interpolation: "bilinear", opacity };
  return { view, colormap: o.colormap ?? "inferno", range, interpolation: "nearest", opacity };
}
function renderAttribution(attr, index, display, o = {}) {
  const [, h, w] = attr.map.dims;
  const style = displayStyle(attr.method, attr.signed, o);
  const size = o.size ?? Math.max(w, h);
  const W = w >= h ? size : Math.round(size * w / h);
  const H = h >= w ? size : Math.round(size * h / w);
  const map = attr.map.data.subarray(index * h * w, (index + 1) * h * w);
  const heat = renderHeatmap(map, w, h, { colormap: style.colormap, range: style.range, width: W, height: H, interpolation: style.interpolation });
  if (style.view === "overlay") {
    const base = resizeImage(display, W, H, "nearest");
    return { ...heat, image: overlay(base, heat.image, style.opacity), style };
  }
  return { ...heat, style };
}

// dist/render/figures.js
var fmt = (v) => {
  const a = Math.abs(v);
  if (a === 0)
    return "0";
  if (a >= 100 || a < 0.01)
    return v.toExponential(1).replace("e+", "e");
  return v.toPrecision(2);
};
function rangeCaption(min, max, style) {
  return style.range.mode === "symmetric" ? `\xB1${fmt(max)}` : `${fmt(min)} to ${fmt(max)}`;
}
function methodTitle(m) {
  return METHODS[m].title;
}
function defaultTileSize(display) {
  const side = Math.max(display.width, display.height);
  return side >= 112 ? Math.min(side, 224) : side * Math.ceil(112 / side);
}
function legendsFor(styles) {
  const out = [];
  const seen = /* @__PURE__ */ new Set();
  for (const s of styles) {
    const key = `${s.colormap}|${s.range.mode === "symmetric"}`;
    if (seen.has(key))
      continue;
    seen.add(key);
    if (s.range.mode === "symmetric")
      out.push({ colormap: s.colormap, label: "signed maps", low: "negative", middle: "0", high: "positive" });
    else
      out.push({ colormap: s.colormap, label: s.view === "overlay" ? "overlays (CAMs)" : "unsigned maps", low: "low", high: "high" });
  }
  return out;
}
async function explanationGrid(e, items, o = {}) {
  const size = o.size ?? defaultTileSize(items[0].display);
  const styles = /* @__PURE__ */ new Map();
  const rows = items.map((item, i) => {
    const cells = [resizeImage(item.display, size, size, "nearest")];
    const captions = [void 0];
    for (const a of e.attributions) {
      const r = renderAttribution(a, i, item.display, { ...o, size });
      styles.set(a, r.style);
      cells.push(r.image);
      captions.push(rangeCaption(r.min, r.max, r.style));
    }
    const img = e.images[i];
    const lines = [item.name, `pred: ${img.predicted.label} (${(img.predicted.probability * 100).toFixed(1)}%)`];
    if (img.target.index !== img.predicted.index)
      lines.push(`target: ${img.target.label} (${(img.target.probability * 100).toFixed(1)}%)`);
    return { lines, cells, captions };
  });
  const used = [...styles.values()];
  const kind = (st) => st.range.mode === "symmetric" ? "signed maps" : st.view === "overlay" ? "overlays" : "unsigned maps";
  const ranges = [...new Set(e.attributions.map((a) => `${kind(styles.get(a))} ${describeRange(styles.get(a).range)}`))];
  return gridFigure({
    title: o.title ?? `${e.model}: ${e.images.every((_, i) => e.images[i].target.index === e.images[i].predicted.index) ? "predicted class" : "target class"}, score = ${e.score === "logit" ? "logit" : "probability"}`,
    columns: ["Input", ...e.attributions.map((a) => a.layer ? `${methodTitle(a.method)}
@${shortLayerName(a.layer.name)}` : methodTitle(a.method))],
    rows,
    legends: legendsFor(used),
    notes: [`Each tile uses its own range (caption): ${ranges.join("; ")}.`]
  });
}
async function faithfulnessChart(curves, o = {}) {
  const mean = (rows) => rows[0].map((_, k) => rows.reduce((a, r) => a + r[k], 0) / rows.length);
  const names = Object.keys(curves);
  const label = (name) => METHODS[name] ? methodTitle(name) : name;
  const yTitle = o.score === "logit" ? "target logit" : "target probability";
  const spec = panelsSpec([
    {
      title: "Deletion (lower AUC is better)",
      xTitle: "fraction of pixels removed",
      yTitle,
      xDomain: [0, 1],
      series: names.map((n) => ({ name: `${label(n)} (AUC ${curves[n].meanDeletionAuc.toFixed(3)})`, x: curves[n].fractions, y: mean(curves[n].deletion), dashed: n === o.reference }))
    },
    {
      title: "Insertion (higher AUC is better)",
      xTitle: "fraction of pixels inserted",
      yTitle,
      xDomain: [0, 1],
      series: names.map((n) => ({ name: `${label(n)} (AUC ${curves[n].meanInsertionAuc.toFixed(3)})`, x: curves[n].fractions, y: mean(curves[n].insertion), dashed: n === o.reference }))
    }
  ], o.title);
  return renderChart(spec);
}
async function sanityChart(r, o = {}) {
  const xLabels = ["none", ...r.layers];
  const all = r.steps.flatMap((s) => r.methods.flatMap((m) => [...s.scores[m].spearman, ...s.scores[m].spearmanAbs, ...s.scores[m].ssim])).filter(Number.isFinite);
  const yDomain = [Math.min(-0.2, Math.floor(Math.min(...all) * 5) / 5), 1];
  const series = (pick) => r.methods.map((m) => ({ name: methodTitle(m), x: xLabels.map((_, i) => i), y: [1, ...r.steps.map((s) => meanScore(s.scores[m][pick]))] }));
  const spec = panelsSpec([
    { title: "Rank correlation (signed)", xTitle: "randomized down to", yTitle: "Spearman rho", series: series("spearman"), xLabels, yDomain },
    { title: "Rank correlation (absolute value)", xTitle: "randomized down to", yTitle: "Spearman rho of |map|", series: series("spearmanAbs"), xLabels, yDomain },
    { title: "SSIM", xTitle: "randomized down to", yTitle: "SSIM of |map|", series: series("ssim"), xLabels, yDomain }
  ], o.title ?? "Model randomization (cascading, output layer first): similarity to the trained model's maps", true);
  return renderChart(spec);
}
async function sanityGrid(r, item, index = 0, o = {}) {
  const size = o.size ?? defaultTileSize(item.display);
  const styles = [];
  const rows = r.methods.map((m, mi) => {
    const a = r.original.attributions[mi];
    const cells = [];
    const captions = [];
    const draw = (attr) => {
      const d = renderAttribution(attr, index, item.display, { ...o, size });
      styles.push(d.style);
      cells.push(d.image);
      captions.push(rangeCaption(d.min, d.max, d.style));
    };
    draw(a);
    for (const s of r.steps)
      draw({ ...a, map: s.maps[m] });
    return { lines: [methodTitle(m)], cells, captions };
  });
  return gridFigure({
    title: `Sanity check on ${item.name}: maps as layers are randomized from the output down`,
    columns: ["trained", ...r.layers.map((l) => `randomized
to ${l}`)],
    rows,
    legends: legendsFor(styles),
    notes: ["Maps that still look the same after randomization do not depend on what the model learned (Adebayo et al. 2018)."]
  });
}

// dist/interfaces/cli/commands/explain.js
var fraction = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError("expected a number from 0 to 1");
  return n;
};
var size2 = (v) => {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1 || m[2] !== void 0 && Number(m[2]) < 1)
    throw new InvalidArgumentError("expected N or HxW, e.g. 8 or 16x16");
  return [Number(m[1]), Number(m[2] ?? m[1])];
};
var oneOf = (what, v, allowed) => {
  if (v === void 0)
    return void 0;
  if (!allowed.includes(v))
    throw new ConvLensError("INVALID_ARGUMENT", `Unknown ${what} "${v}".`, `Use one of: ${allowed.join(", ")}.`);
  return v;
};
function stems(sources) {
  const seen = /* @__PURE__ */ new Map();
  return sources.map((s) => {
    const base = basename(s).replace(/\.[^.#]+(#|$)/, "$1").replace(/#/g, "-").replace(/[^\w.-]+/g, "_") || "input";
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base}-${k}`;
  });
}
function define(command) {
  withCommon(command.addHelpText("after", `
Methods: ${METHOD_NAMES.join(", ")}
A method the model rules out (cam without GAP + dense) is skipped with the reason; the others still run.

Examples:
  convlens explain samples/fashion-mnist/*.png --method saliency,integrated-gradients,gradcam --out out
  convlens explain samples/photos/chelsea.png --model squeezenet --method gradcam,scorecam --layer fires.6 --target tabby --score prob`)).argument("<inputs...>", "image files or .npy tensors (NCHW or CHW float32)").option("--method <names>", "methods, comma-separated (see the list below)", "saliency,gradcam,guided-backprop").option("-l, --layer <name>", "layer for CAM-type methods (default: the model profile's CAM layer, the last spatial layer before global pooling)").option("-t, --target <class>", "class index or label to explain (default: each image's predicted class)").option("--score <kind>", "logit (pre-softmax, default) or prob (softmax probability)", "logit").option("-o, --out <dir>", "output folder", defaultOut("explain")).option("--npy", "also write each method's raw result as <method>.npy (before normalization or upsampling)").option("--json", "print the run summary JSON to stdout").option("--batch-size <n>", "samples per engine run for batched methods (1-4096)", intIn(1, 4096)).option("--view <view>", "auto (CAMs overlaid, others as heatmaps), heatmap or overlay", "auto").option("--opacity <a>", "heatmap opacity in overlays (default 0.5 for CAMs, 0.7 for pixel maps)", fraction).option("--colormap <name>", "colormap for unsigned maps (inferno, viridis, magma, plasma, cividis, turbo, gray)").option("--diverging <name>", "colormap for signed maps (rdbu, puor, piyg, prgn, brbg)").option("--range <spec>", "value range drawn: minmax, percentile[:LO:HI], symmetric[:P] or fixed:MIN:MAX (default per method)").option("--size <px>", "tile size in pixels (16-2048; default: 4x for 28 px inputs)", intIn(16, 2048)).option("--no-images", "skip the per-image PNGs (grid and summary only)").option("--reduce <how>", "saliency: max (default) or sum of |gradient| over channels").option("--samples <n>", "smoothgrad/vargrad: noisy samples per image (1-10000, default 50)", intIn(1, 1e4)).option("--noise <f>", "smoothgrad/vargrad: noise std as a fraction of the input range (default 0.15)", fraction).option("--steps <n>", "integrated-gradients: path steps (1-1000, default 50)", intIn(1, 1e3)).option("--baseline <b>", "integrated-gradients: black (default), zero, blurred, or a .npy file").option("--ig-rule <rule>", "integrated-gradients: gausslegendre (default), riemann-trapezoid, riemann-left, riemann-right, riemann-middle").option("--window <n|HxW>", "occlusion: window size (default: image side / 7)", size2).option("--stride <n|HxW>", "occlusion: stride (default: half the window)", size2).option("--fill <fill>", "occlusion: zero (default), mean or blur").addOption(choiceOption("--occlusion-mode <mode>", "occlusion: incremental (exact, recomputes only what a window changes), brute-force (the reference) or approximate (default: incremental where it pays off)", ["incremental", "brute-force", "approximate"])).option("--tau <f>", "occlusion approximate: largest patch as a fraction of its feature map (default 0.75)", fraction).option("--drill-down <f>", "occlusion approximate: fraction of the remaining windows scored after the first pass (default 0.5)", fraction).addOption(choiceOption("--scorecam-mode <mode>", "scorecam: incremental (default: each distinct mask once, target logit only) or brute-force", ["incremental", "brute-force"])).option("--interpolate <mode>", "guided-gradcam: bilinear (default) or nearest upsampling of Grad-CAM").option("--seed <n>", "random seed (SmoothGrad noise, sanity-check weights)", nonNegativeInt).option("--faithfulness", "deletion/insertion curves and AUCs per method (+ a random ranking), plotted").option("--curve-steps <n>", "points per deletion/insertion curve", positiveInt, 50).option("--sanity", "model-randomization sanity check (cascading, output layer first), plotted").action(async (inputs, opts) => {
    const out = new OutputFiles(opts.out);
    const t0 = performance.now();
    const methods = resolveMethods([opts.method]);
    const score = checkScore(opts.score);
    const view = oneOf("view", opts.view, ["auto", "heatmap", "overlay"]);
    if (opts.colormap)
      colormap(opts.colormap);
    if (opts.diverging && !colormap(opts.diverging).diverging) {
      throw new ConvLensError("INVALID_ARGUMENT", `"${opts.diverging}" is not a diverging colormap.`, "Use rdbu, rdbu-rev, puor, piyg, prgn or brbg for signed maps.");
    }
    const range = opts.range ? parseRange(opts.range) : void 0;
    const { engine, model } = openModel(opts);
    const job = cliJob(opts, "explain");
    let finished = false;
    const finish = () => {
      if (!finished)
        job.done();
      finished = true;
    };
    try {
      const { batch, items } = await loadInputs(inputs, model);
      const tLoaded = performance.now();
      let baseline;
      if (opts.baseline !== void 0) {
        baseline = opts.baseline.toLowerCase().endsWith(".npy") ? parseNpy(readFileOrExplain(opts.baseline, "baseline .npy"), `"${opts.baseline}"`) : oneOf("baseline", opts.baseline, ["black", "zero", "blurred"]);
      }
      const options = {
        methods,
        score,
        ...opts.target !== void 0 ? { target: opts.target } : {},
        ...opts.layer !== void 0 ? { layer: opts.layer } : {},
        ...opts.batchSize ? { batchSize: opts.batchSize } : {},
        saliency: { ...opts.reduce ? { reduce: oneOf("saliency reduction", opts.reduce, ["max", "sum"]) } : {} },
        smoothgrad: { ...opts.samples ? { samples: opts.samples } : {}, ...opts.noise !== void 0 ? { noise: opts.noise } : {}, ...opts.seed !== void 0 ? { seed: opts.seed } : {} },
        integratedGradients: {
          ...opts.steps ? { steps: opts.steps } : {},
          ...baseline !== void 0 ? { baseline } : {},
          ...opts.igRule ? { rule: oneOf("integration rule", opts.igRule, ["gausslegendre", "riemann-trapezoid", "riemann-left", "riemann-right", "riemann-middle"]) } : {}
        },
        occlusion: {
          ...opts.window ? { window: opts.window } : {},
          ...opts.stride ? { stride: opts.stride } : {},
          ...opts.fill ? { fill: oneOf("occlusion fill", opts.fill, ["zero", "mean", "blur"]) } : {},
          ...opts.occlusionMode ? { mode: opts.occlusionMode } : {},
          ...opts.tau !== void 0 ? { tau: opts.tau } : {},
          ...opts.drillDown !== void 0 ? { drillDown: opts.drillDown } : {}
        },
        scorecam: { ...opts.scorecamMode ? { mode: opts.scorecamMode } : {} },
        guidedGradcam: { ...opts.interpolate ? { interpolate: oneOf("interpolation", opts.interpolate, ["bilinear", "nearest"]) } : {} },
        signal: job.signal,
        onProgress: job.onProgress
      };
      const e = await explain(model, batch, options);
      const tExplained = performance.now();
      for (const a of e.attributions)
        for (const note of a.notes)
          if (!opts.quiet)
            process.stderr.write(`note: ${note}
`);
      for (const s of e.skipped)
        if (!opts.quiet)
          process.stderr.write(`skipped ${s.method}: ${s.reason}${s.hint ? `
  ${s.hint}` : ""}
`);
      const names = stems(items.map((it) => it.source));
      const display = { view, ...opts.opacity !== void 0 ? { opacity: opts.opacity } : {}, ...opts.colormap ? { colormap: opts.colormap } : {}, ...opts.diverging ? { diverging: opts.diverging } : {}, ...range ? { range } : {}, ...opts.size ? { size: opts.size } : {} };
      const tileSize = opts.size ?? defaultTileSize(items[0].display);
      const figureItems = items.map((it, i) => ({ name: basename(it.source), display: items[i].display }));
      out.write("grid.png", await explanationGrid(e, figureItems, { ...display, size: tileSize }));
      const files = {};
      for (const a of e.attributions) {
        files[a.method] = [];
        if (!opts.images)
          continue;
        for (let i = 0; i < items.length; i++) {
          const file = `${names[i]}.${a.method.replace(/\+/g, "p")}.png`;
          out.write(file, await encodePng(renderAttribution(a, i, items[i].display, { ...display, size: tileSize }).image));
          files[a.method].push(file);
        }
      }
      if (opts.npy)
        for (const a of e.attributions)
          out.write(`${a.method.replace(/\+/g, "p")}.npy`, encodeNpy(a.raw));
      const tRendered = performance.now();
      let faithfulness;
      let tFaith = tRendered;
      if (opts.faithfulness) {
        const [n, , h, w] = batch.dims;
        const maps = [...e.attributions.map((a) => a.map), randomMaps(n, h, w, opts.seed ?? 1)];
        const curves = await deletionInsertion(model, batch, e.targets, maps, { steps: opts.curveSteps, score: "prob", ...opts.batchSize ? { batchSize: opts.batchSize } : {}, signal: job.signal, onProgress: job.onProgress });
        const byMethod = {};
        e.attributions.forEach((a, i) => byMethod[a.method] = curves[i]);
        byMethod["random"] = curves[curves.length - 1];
        const chart = await faithfulnessChart(byMethod, { title: `Deletion and insertion (${model.name}, ${n} image${n > 1 ? "s" : ""}, mean curves)`, reference: "random" });
        out.write("faithfulness.png", chart.png);
        out.write("faithfulness.svg", chart.svg);
        faithfulness = {
          score: "prob",
          steps: opts.curveSteps,
          deletionFill: "black",
          insertionStart: "blur",
          order: "pixels by attribution value, largest first (ties in seeded random order)",
          chart: "faithfulness.png",
          methods: Object.fromEntries(Object.entries(byMethod).map(([m, c]) => [m, { meanDeletionAuc: c.meanDeletionAuc, meanInsertionAuc: c.meanInsertionAuc, deletionAuc: c.deletionAuc, insertionAuc: c.insertionAuc, fractions: c.fractions, deletion: c.deletion, insertion: c.insertion }]))
        };
        tFaith = performance.now();
      }
      let sanity;
      let tSanity = tFaith;
      if (opts.sanity) {
        const r = await randomizationCheck(model, batch, { ...options, target: Array.from(e.targets), ...opts.seed !== void 0 ? { seed: opts.seed } : {} });
        const chart = await sanityChart(r);
        out.write("sanity.png", chart.png);
        out.write("sanity.svg", chart.svg);
        out.write("sanity-grid.png", await sanityGrid(r, figureItems[0], 0, { ...display, size: tileSize }));
        sanity = {
          cascade: r.layers,
          randomization: "weights and biases redrawn from N(0, std of the trained values), output layer first, cumulative",
          charts: ["sanity.png", "sanity-grid.png"],
          methods: Object.fromEntries(r.methods.map((m) => [m, r.steps.map((s) => ({ randomizedDownTo: s.layer, spearman: meanScore(s.scores[m].spearman), spearmanAbs: meanScore(s.scores[m].spearmanAbs), ssim: meanScore(s.scores[m].ssim), perImage: s.scores[m] }))]))
        };
        tSanity = performance.now();
      }
      const summary = {
        command: "explain",
        model: { ...modelInfo(model, opts), input: model.input.shape, output: model.output },
        score,
        target: opts.target ?? "predicted",
        batchSize: e.batchSize,
        inputs: items.map((it, i) => ({ source: it.source, prediction: e.images[i].predicted, target: e.images[i].target })),
        methods: e.attributions.map((a) => {
          const style = displayStyle(a.method, a.signed, display);
          return {
            method: a.method,
            params: a.params,
            ...a.layer ? { layer: { name: a.layer.name, shape: [a.layer.channels, a.layer.height, a.layer.width] } } : {},
            raw: { shape: a.raw.dims, ...opts.npy ? { file: `${a.method.replace(/\+/g, "p")}.npy` } : {} },
            signed: a.signed,
            display: { view: style.view, colormap: style.colormap, range: describeRange(style.range), opacity: style.view === "overlay" ? style.opacity : void 0 },
            images: files[a.method],
            timeMs: Math.round(a.timeMs * 10) / 10,
            ...a.completeness ? { completeness: a.completeness } : {},
            ...a.notes.length ? { notes: a.notes } : {}
          };
        }),
        ...e.skipped.length ? { skipped: e.skipped } : {},
        grid: "grid.png",
        ...faithfulness ? { faithfulness } : {},
        ...sanity ? { sanity } : {},
        timingsMs: {
          load: Math.round(tLoaded - t0),
          explain: Math.round(tExplained - tLoaded),
          render: Math.round(tRendered - tExplained),
          ...faithfulness ? { faithfulness: Math.round(tFaith - tRendered) } : {},
          ...sanity ? { sanity: Math.round(tSanity - tFaith) } : {},
          total: Math.round(performance.now() - t0)
        },
        warnings: model.meta.warnings
      };
      const text = `${JSON.stringify(summary, (_k, v) => typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v, 2)}
`;
      out.write("summary.json", text);
      finish();
      if (opts.json)
        process.stdout.write(text);
      else if (!opts.quiet) {
        e.images.forEach((img, i) => process.stdout.write(`${items[i].source}: predicted ${img.predicted.label} (${(img.predicted.probability * 100).toFixed(1)}%), explaining ${img.target.label}
`));
        for (const a of e.attributions) {
          let line = `  ${a.method.padEnd(22)} ${a.timeMs.toFixed(0).padStart(6)} ms`;
          if (a.completeness)
            line += `   completeness gap ${(Math.max(...a.completeness.map((c) => c.relativeGap)) * 100).toFixed(2)}% (max over images)`;
          process.stdout.write(`${line}
`);
        }
        if (faithfulness) {
          process.stdout.write("  deletion AUC (lower is better) / insertion AUC (higher is better):\n");
          for (const [m, c] of Object.entries(faithfulness["methods"])) {
            process.stdout.write(`    ${m.padEnd(22)} ${c.meanDeletionAuc.toFixed(3)} / ${c.meanInsertionAuc.toFixed(3)}
`);
          }
        }
      }
      out.report(opts);
    } finally {
      finish();
      await engine.dispose();
    }
  });
}
export {
  define
};
