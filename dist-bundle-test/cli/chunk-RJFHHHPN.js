import {
  buildGradientGraph,
  pruneGraph
} from "./chunk-P6HER42Z.js";
import {
  resizeForModel
} from "./chunk-JFQ3PAZH.js";
import {
  GraphBuilder
} from "./chunk-X2V5Z5UO.js";
import {
  readFileOrExplain
} from "./chunk-4WR5QSMB.js";
import {
  gaussian
} from "./chunk-Y3QEK5WU.js";
import {
  resizeImage,
  toRgb
} from "./chunk-TUXGXZTB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/synthesize/graph.js
function modelInputSize(model) {
  const s = model.input.shape;
  return typeof s[2] === "number" && typeof s[3] === "number" ? [s[2], s[3]] : void 0;
}
function modelChannels(model) {
  const c = model.input.shape[1];
  if (c === 1)
    return 1;
  if (c === 3 || c === void 0 || typeof c === "string")
    return 3;
  throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${model.name}" takes ${c} input channels; image synthesis needs 1 (gray) or 3 (RGB).`);
}
function appendPreprocessing(b, u, imageChannels, prep, modelCh, name) {
  const mix = [];
  const LUMA = [0.299, 0.587, 0.114];
  for (let o = 0; o < modelCh; o++) {
    const row = new Array(imageChannels).fill(0);
    if (imageChannels === 1)
      row[0] = 1;
    else if (modelCh === 1)
      LUMA.forEach((v, i) => row[i] = v);
    else
      row[prep.channels === "bgr" ? 2 - o : o] = 1;
    mix.push(row);
  }
  const [lo, hi] = prep.range;
  const w = new Float32Array(modelCh * imageChannels);
  const bias = new Float32Array(modelCh);
  for (let o = 0; o < modelCh; o++) {
    const src = prep.channels === "bgr" ? 2 - o : o;
    const mean = prep.mean[src] ?? prep.mean[0] ?? 0;
    const std = prep.std[src] ?? prep.std[0] ?? 1;
    const a = (hi - lo) * (prep.invert ? -1 : 1) / std;
    const c = (lo + (prep.invert ? hi - lo : 0) - mean) / std;
    for (let i = 0; i < imageChannels; i++)
      w[o * imageChannels + i] = a * mix[o][i];
    bias[o] = c;
  }
  const W = b.constant({ dtype: "float32", dims: [modelCh, imageChannels, 1, 1], data: w }, "prep_w");
  const B = b.constant({ dtype: "float32", dims: [modelCh], data: bias }, "prep_b");
  return b.op("Conv", [u, W, B], { kernel_shape: [1, 1] }, name ? { outputs: [name] } : {});
}
function neededNodes(graph, values) {
  const needed = new Set(values);
  const kept = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (!node.outputs.some((o) => o && needed.has(o)))
      continue;
    kept.push(node);
    for (const i of node.inputs)
      if (i)
        needed.add(i);
  }
  return kept.reverse();
}
function composeGraph(model, shape, param, layers, warp) {
  const g = model.graph;
  const b = new GraphBuilder();
  b.graph.name = `${g.name}_synthesis`;
  for (const n of g.valueNames())
    if (n !== model.input.name)
      b.uniqueName(n);
  for (const n of g.nodes)
    if (n.name)
      b.uniqueName(n.name);
  const nodes = neededNodes(g, layers);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  for (const [name, t] of g.initializers)
    if (used.has(name))
      b.initializer(name, t);
  const { batch: N, channels: C, height: H, width: W } = shape;
  const theta = b.input("synth:theta", "float32", param.shape(shape));
  const image = b.op("Identity", [param.build(b, theta, shape)], {}, { outputs: ["synth:image"] });
  let u = image;
  let warpIndex;
  let warpWeight;
  if (warp) {
    const outHW = warp.height * warp.width;
    warpIndex = b.input("synth:warp_index", "int64", [4, outHW]);
    warpWeight = b.input("synth:warp_weight", "float32", [4, outHW]);
    const flat = b.op("Reshape", [u, b.ints([N, C, H * W])]);
    const fill = b.constant({ dtype: "float32", dims: [N, C, 1], data: new Float32Array(N * C).fill(warp.fill ?? 0.5) }, "warp_fill");
    const padded = b.op("Concat", [flat, fill], { axis: 2 });
    const taps = b.op("Gather", [padded, warpIndex], { axis: 2 });
    const mixed = b.op("ReduceSum", [b.op("Mul", [taps, warpWeight]), b.ints([2])], { keepdims: 0 });
    u = b.op("Reshape", [mixed, b.ints([N, C, warp.height, warp.width])], {}, { outputs: ["synth:warped"] });
  }
  const modelInput = appendPreprocessing(b, u, C, model.meta.preprocessing, modelChannels(model), model.input.name);
  try {
    for (const node of nodes)
      b.addNode({ ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } });
  } catch (e) {
    const [mh, mw] = warp ? [warp.height, warp.width] : [H, W];
    const fixed = modelInputSize(model);
    throw new ConvLensError("SHAPE_MISMATCH", `Model "${model.name}" cannot run on ${mh}x${mw} inputs up to layer${layers.length > 1 ? "s" : ""} ${layers.join(", ")}: ${e.message}`, fixed ? `The model takes ${fixed[0]}x${fixed[1]} images; objectives on layers after a flatten or dense layer need that size (--size ${fixed[0]}).` : "Choose an earlier (convolutional) layer or another size.", { cause: e });
  }
  return { b, theta, image, modelInput, ...warpIndex ? { warpIndex, warpWeight } : {} };
}
var metas = /* @__PURE__ */ new Map();
var SynthesisSession = class _SynthesisSession {
  spec;
  compiled;
  meta;
  feeds;
  fetch;
  constructor(spec, compiled, meta, feeds, fetch) {
    this.spec = spec;
    this.compiled = compiled;
    this.meta = meta;
    this.feeds = feeds;
    this.fetch = fetch;
  }
  /** `fetch`: model layers to output as well (e.g. the logits, to report the prediction). */
  static async create(spec, fetch = []) {
    const { model, shape, param, objective, warp } = spec;
    const fetched = fetch.map((f) => model.resolveLayer(f));
    const key = `${model.id}|synth|${shape.batch}x${shape.channels}x${shape.height}x${shape.width}|${param.key}|${warp ? `warp${warp.height}x${warp.width}f${warp.fill ?? 0.5}` : "nowarp"}|${objective.key}|fetch:${fetched.join(",")}`;
    let meta = metas.get(key);
    const compiled = await model.engine.compile(key, () => {
      const layers = [.../* @__PURE__ */ new Set([...objective.layers(model), ...fetched])];
      const c = composeGraph(model, shape, param, layers, warp);
      const terms = {};
      const feedNames = [];
      const ctx = {
        b: c.b,
        model,
        image: c.image,
        batch: shape.batch,
        layer: (name) => model.resolveLayer(name),
        logits: () => model.output,
        input: (name, dims) => {
          const n = c.b.input(`target:${name}`, "float32", dims);
          feedNames.push(n);
          return n;
        },
        report: (label, scalar) => {
          if (terms[label])
            return;
          terms[label] = c.b.op("Identity", [scalar], {}, { outputs: [c.b.uniqueName(`term:${label}`)] });
        },
        scope: ""
      };
      const value = c.b.op("Identity", [objective.build(ctx)], {}, { outputs: ["synth:objective"] });
      const graph = c.b.build();
      const gg = buildGradientGraph(graph, { seed: { scalar: value }, wrt: [c.theta], outputs: [value, c.image, ...Object.values(terms), ...fetched] });
      meta = { grad: gg.gradientOutputs[c.theta], value, terms, feeds: feedNames, warp: !!warp };
      metas.set(key, meta);
      return gg.graph;
    });
    meta ??= metas.get(key);
    const feeds = {};
    const given = objective.feeds();
    for (const n of meta.feeds) {
      const t = given.get(n.slice("target:".length));
      if (!t)
        throw new Error(`internal: no value for objective input "${n}"`);
      feeds[n] = t;
    }
    return new _SynthesisSession(spec, compiled, meta, feeds, fetched);
  }
  /** Objective, gradient and image at `theta` (with this step's warp, if the graph has one). */
  async step(theta, warp) {
    const feeds = { ...this.feeds, "synth:theta": { dtype: "float32", dims: this.spec.param.shape(this.spec.shape), data: theta } };
    if (this.meta.warp) {
      if (!warp)
        throw new Error("internal: this synthesis graph needs a warp every step");
      const n = warp.weights.length / 4;
      feeds["synth:warp_index"] = { dtype: "int64", dims: [4, n], data: warp.indices };
      feeds["synth:warp_weight"] = { dtype: "float32", dims: [4, n], data: warp.weights };
    }
    const out = await this.compiled.run(feeds);
    const terms = {};
    for (const [label, name] of Object.entries(this.meta.terms))
      terms[label] = out[name].data[0];
    const values = {};
    for (const f of this.fetch)
      values[f] = out[f];
    return { value: out[this.meta.value].data[0], grad: out[this.meta.grad].data, image: out["synth:image"].data, terms, values };
  }
};
async function extractFeatures(model, images, requests) {
  const [N, C, H, W] = images.dims;
  const layers = requests.map((r) => model.resolveLayer(r.layer));
  const key = `${model.id}|features|${N}x${C}x${H}x${W}|${requests.map((r, i) => `${layers[i]}${r.gram ? ":gram" : ""}`).join(",")}`;
  const outNames = [];
  const compiled = await model.engine.compile(key, () => {
    const c = composeGraph(model, { batch: N, channels: C, height: H, width: W }, IDENTITY, layers);
    requests.forEach((r, i) => {
      const name = r.gram ? gramMatrix(c.b, layers[i]) : layers[i];
      c.b.output(name);
    });
    const g = c.b.build();
    return pruneGraph(g);
  });
  for (const o of compiled.graph.outputs)
    outNames.push(o.name);
  const out = await compiled.run({ "synth:theta": images });
  return requests.map((r, i) => {
    const name = r.gram ? outNames.find((o) => o.startsWith(`gram:${layers[i]}`)) : layers[i];
    return out[name];
  });
}
function gramMatrix(b, layer, name) {
  const [N, C, H, W] = b.staticShape(layer);
  const f = b.op("Reshape", [layer, b.ints([N, C, H * W])]);
  const ft = b.op("Transpose", [f], { perm: [0, 2, 1] });
  const g = b.op("MatMul", [f, ft]);
  return b.op("Mul", [g, b.scalar(1 / (H * W))], {}, { outputs: [name ?? b.uniqueName(`gram:${layer}`)] });
}
var IDENTITY = {
  key: "identity",
  kind: "pixel",
  shape: (s) => [s.batch, s.channels, s.height, s.width],
  init: () => {
    throw new Error("identity parameterization has no init");
  },
  build: (b, theta) => b.op("Identity", [theta]),
  toImage: (t) => t
};
function appendModelCopy(b, model, input, layers, prefix, initPrefix) {
  const g = model.graph;
  const resolved = layers.map((l) => model.resolveLayer(l));
  const nodes = neededNodes(g, resolved);
  const rename = (v) => {
    if (!v)
      return v;
    if (v === model.input.name)
      return input;
    if (g.initializers.has(v))
      return `${initPrefix}${v}`;
    return `${prefix}${v}`;
  };
  for (const n of nodes)
    for (const i of n.inputs) {
      const t = g.initializers.get(i);
      if (t && !b.has(`${initPrefix}${i}`))
        b.initializer(`${initPrefix}${i}`, t);
    }
  for (const n of nodes)
    b.addNode({ ...n, name: `${prefix}${n.name}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename), attrs: { ...n.attrs } });
  return Object.fromEntries(layers.map((l, i) => [l, rename(resolved[i])]));
}

// dist/methods/synthesize/params.js
var COLOR_SVD_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0, -0.05],
  [0.27, -0.09, 0.03]
];
var MAX_NORM = Math.max(...[0, 1, 2].map((j) => Math.hypot(...COLOR_SVD_SQRT.map((r) => r[j]))));
var COLOR_CORRELATION = COLOR_SVD_SQRT.map((r) => r.map((v) => v / MAX_NORM));
function decorrelate(b, x) {
  const w = Float32Array.from(COLOR_CORRELATION.flat());
  return b.op("Conv", [x, b.constant({ dtype: "float32", dims: [3, 3, 1, 1], data: w }, "color_corr")], { kernel_shape: [1, 1] });
}
function invert3(m) {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det]
  ];
}
function pixelParam(o = {}) {
  const range = o.range ?? "clip";
  const decor = range === "sigmoid" && (o.decorrelate ?? false);
  const sd = o.sd ?? (range === "clip" ? 0.05 : 0.1);
  const size = (s) => s.batch * s.channels * s.height * s.width;
  const p = {
    key: `pixel-${range}${decor ? "-decorrelated" : ""}`,
    kind: "pixel",
    shape: (s) => [s.batch, s.channels, s.height, s.width],
    init(s, rand, start) {
      const n = size(s);
      if (start) {
        if (start.length !== n)
          throw new ConvLensError("SHAPE_MISMATCH", `The start image has ${start.length} values; ${n} are needed.`);
        if (range === "clip")
          return Float32Array.from(start);
        const logits = Float32Array.from(start, (v) => {
          const c = Math.min(0.999, Math.max(1e-3, v));
          return Math.log(c / (1 - c));
        });
        if (!decor || s.channels !== 3)
          return logits;
        const inv = invert3(COLOR_CORRELATION);
        const plane = s.height * s.width;
        const out2 = new Float32Array(n);
        for (let i = 0; i < s.batch; i++)
          for (let c = 0; c < 3; c++)
            for (let q = 0; q < plane; q++) {
              let v = 0;
              for (let j = 0; j < 3; j++)
                v += inv[c][j] * logits[(i * 3 + j) * plane + q];
              out2[(i * 3 + c) * plane + q] = v;
            }
        return out2;
      }
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++)
        out[i] = (range === "clip" ? 0.5 : 0) + sd * gaussian(rand);
      if (range === "clip")
        for (let i = 0; i < n; i++)
          out[i] = Math.min(1, Math.max(0, out[i]));
      return out;
    },
    build(b, theta, s) {
      if (range === "clip")
        return b.op("Identity", [theta]);
      return b.op("Sigmoid", [decor && s.channels === 3 ? decorrelate(b, theta) : theta]);
    },
    clip: range === "clip",
    blur(theta, s, sigma) {
      gaussianBlurPlanes(theta, s.batch * s.channels, s.height, s.width, sigma);
    }
  };
  if (!decor)
    p.toImage = range === "clip" ? (t) => t : (t) => Float32Array.from(t, (v) => 1 / (1 + Math.exp(-v)));
  return p;
}
function fourierParam(o = {}) {
  const decay = o.decay ?? 1;
  const decor = o.decorrelate ?? true;
  const sd = o.sd ?? 0.01;
  const K = (w) => Math.floor(w / 2) + 1;
  const freq = (h, w) => {
    const k = K(w);
    const f = new Float32Array(h * k);
    for (let y = 0; y < h; y++) {
      const fy = (y <= (h - 1) / 2 ? y : y - h) / h;
      for (let x = 0; x < k; x++)
        f[y * k + x] = Math.hypot(fy, x / w);
    }
    return f;
  };
  return {
    key: `fourier-d${decay}${decor ? "-decorrelated" : ""}`,
    kind: "fourier",
    shape: (s) => [s.batch, s.channels, s.height, 2 * K(s.width)],
    init(s, rand, start) {
      if (start)
        throw new ConvLensError("INVALID_ARGUMENT", "The Fourier parameterization cannot start from an image.", "Start from an image with the pixel parameterization (--param pixel), or from noise.");
      const n = s.batch * s.channels * s.height * 2 * K(s.width);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++)
        out[i] = sd * gaussian(rand);
      return out;
    },
    build(b, theta, s) {
      const { height: H, width: W } = s;
      const k = K(W);
      const f = freq(H, W);
      const scale = new Float32Array(H * 2 * k);
      const norm = Math.sqrt(H * W);
      for (let y = 0; y < H; y++)
        for (let x2 = 0; x2 < k; x2++) {
          const v2 = norm / Math.max(f[y * k + x2], 1 / Math.max(H, W)) ** decay;
          scale[y * 2 * k + x2] = v2;
          scale[y * 2 * k + k + x2] = v2;
        }
      const scaled = b.op("Mul", [theta, b.constant({ dtype: "float32", dims: [H, 2 * k], data: scale }, "spectrum_scale")]);
      const mx = new Float32Array(2 * k * 2 * W);
      for (let kx = 0; kx < k; kx++) {
        const wgt = (kx === 0 || W % 2 === 0 && kx === W / 2 ? 1 : 2) / (H * W * 4);
        for (let x2 = 0; x2 < W; x2++) {
          const a = 2 * Math.PI * kx * x2 / W;
          const c = wgt * Math.cos(a);
          const sn = wgt * Math.sin(a);
          mx[kx * 2 * W + x2] = c;
          mx[kx * 2 * W + W + x2] = sn;
          mx[(k + kx) * 2 * W + x2] = -sn;
          mx[(k + kx) * 2 * W + W + x2] = c;
        }
      }
      const v = b.op("MatMul", [scaled, b.constant({ dtype: "float32", dims: [2 * k, 2 * W], data: mx }, "idft_x")]);
      const [re, im] = b.opN("Split", [v, b.ints([W, W])], { axis: 3 }, { outputs: 2 });
      const stacked = b.op("Concat", [re, im], { axis: 2 });
      const my = new Float32Array(H * 2 * H);
      for (let y = 0; y < H; y++)
        for (let ky = 0; ky < H; ky++) {
          const a = 2 * Math.PI * ky * y / H;
          my[y * 2 * H + ky] = Math.cos(a);
          my[y * 2 * H + H + ky] = -Math.sin(a);
        }
      let x = b.op("MatMul", [b.constant({ dtype: "float32", dims: [H, 2 * H], data: my }, "idft_y"), stacked]);
      if (decor && s.channels === 3)
        x = decorrelate(b, x);
      return b.op("Sigmoid", [x]);
    },
    blur(theta, s, sigma) {
      const k = K(s.width);
      const f = freq(s.height, s.width);
      const per = s.height * 2 * k;
      for (let i = 0; i < s.batch * s.channels; i++)
        for (let y = 0; y < s.height; y++)
          for (let x = 0; x < k; x++) {
            const g = Math.exp(-2 * Math.PI * Math.PI * sigma * sigma * f[y * k + x] ** 2);
            theta[i * per + y * 2 * k + x] *= g;
            theta[i * per + y * 2 * k + k + x] *= g;
          }
    }
  };
}
function gaussianBlurPlanes(data, planes, h, w, sigma) {
  if (!(sigma > 0))
    return;
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++)
    s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++)
    k[i] /= s;
  const tmp = new Float32Array(h * w);
  for (let p = 0; p < planes; p++) {
    const o = p * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (let i = -r; i <= r; i++)
          v += k[i + r] * data[o + y * w + Math.min(w - 1, Math.max(0, x + i))];
        tmp[y * w + x] = v;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (let i = -r; i <= r; i++)
          v += k[i + r] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
        data[o + y * w + x] = v;
      }
  }
}

// dist/methods/synthesize/render.js
import * as gifencModule from "gifenc";
var gifenc = "GIFEncoder" in gifencModule ? gifencModule : gifencModule.default;
var { GIFEncoder, applyPalette, quantize } = gifenc;
function toRaw(data, dims, k = 0) {
  const [, c, h, w] = dims;
  const channels = c === 1 ? 1 : 3;
  const out = new Uint8Array(h * w * channels);
  const plane = h * w;
  for (let ch = 0; ch < channels; ch++)
    for (let p = 0; p < plane; p++)
      out[p * channels + ch] = Math.max(0, Math.min(255, Math.round(data[(k * c + ch) * plane + p] * 255)));
  return { width: w, height: h, channels, data: out };
}
function tensorImage(t, k = 0) {
  return toRaw(t.data, t.dims, k);
}
function fromRaw(img, channels = img.channels) {
  const { width: w, height: h } = img;
  const out = new Float32Array(channels * h * w);
  for (let p = 0; p < h * w; p++) {
    if (channels === 1) {
      out[p] = (img.channels === 1 ? img.data[p] : 0.299 * img.data[p * 3] + 0.587 * img.data[p * 3 + 1] + 0.114 * img.data[p * 3 + 2]) / 255;
    } else {
      for (let c = 0; c < 3; c++)
        out[c * h * w + p] = (img.channels === 1 ? img.data[p] : img.data[p * 3 + c]) / 255;
    }
  }
  return { dtype: "float32", dims: [1, channels, h, w], data: out };
}
function displaySize(img, target = 224) {
  const k = Math.max(1, Math.floor(target / Math.max(img.width, img.height)));
  if (k === 1)
    return img;
  return resizeImage(img, img.width * k, img.height * k, img.width <= 64 ? "nearest" : "bilinear");
}
function perturbationImage(delta, dims, k = 0, scale) {
  const [, c, h, w] = dims;
  const per = c * h * w;
  let m = scale ?? 0;
  if (!scale)
    for (let i = 0; i < per; i++)
      m = Math.max(m, Math.abs(delta[k * per + i]));
  m = m || 1;
  const shifted = new Float32Array(per);
  for (let i = 0; i < per; i++)
    shifted[i] = 0.5 + 0.5 * delta[k * per + i] / m;
  return { image: toRaw(shifted, [1, c, h, w]), scale: m };
}
function encodeGif(frames, delay = 120, hold = 1e3) {
  const gif = GIFEncoder();
  frames.forEach((f, i) => {
    const rgb = toRgb(f);
    const rgba = new Uint8Array(rgb.width * rgb.height * 4);
    for (let p = 0; p < rgb.width * rgb.height; p++) {
      rgba[p * 4] = rgb.data[p * 3];
      rgba[p * 4 + 1] = rgb.data[p * 3 + 1];
      rgba[p * 4 + 2] = rgb.data[p * 3 + 2];
      rgba[p * 4 + 3] = 255;
    }
    const palette = quantize(rgba, 256);
    const index = applyPalette(rgba, palette);
    gif.writeFrame(index, rgb.width, rgb.height, { palette, delay: i === frames.length - 1 ? hold : delay, ...i === 0 ? { repeat: 0 } : {} });
  });
  gif.finish();
  return gif.bytes();
}

// dist/methods/synthesize/io.js
import sharp from "sharp";
async function decodeImageTensor(bytes, source, channels, o = {}) {
  try {
    let img = sharp(bytes, { failOn: "error" }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace("srgb");
    if (o.size)
      img = img.resize(o.size[1], o.size[0], { fit: "fill", kernel: "lanczos3" });
    else if (o.maxSide)
      img = img.resize(o.maxSide, o.maxSide, { fit: "inside", kernel: "lanczos3" });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return fromRaw({ width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }, channels);
  } catch (e) {
    throw new ConvLensError("INPUT_UNREADABLE", `Cannot decode ${source} as an image: ${e.message}.`, "Use a PNG, JPEG or WebP file.", { cause: e });
  }
}
async function readImageTensor(path, channels, o = {}) {
  return decodeImageTensor(readFileOrExplain(path, "image"), `"${path}"`, channels, o);
}
async function decodeModelImage(bytes, source, model) {
  return fromRaw(await resizeForModel(bytes, model.meta.preprocessing, source), modelChannels(model));
}
async function readModelImage(path, model) {
  return decodeModelImage(readFileOrExplain(path, "image"), `"${path}"`, model);
}
function stack(images) {
  const [, c, h, w] = images[0].dims;
  for (const t of images)
    if (t.dims.join("x") !== images[0].dims.join("x"))
      throw new ConvLensError("SHAPE_MISMATCH", `Images differ in size: [${t.dims.join(", ")}] vs [${images[0].dims.join(", ")}].`);
  const per = c * h * w;
  const data = new Float32Array(images.length * per);
  images.forEach((t, i) => data.set(t.data, i * per));
  return { dtype: "float32", dims: [images.length, c, h, w], data };
}
function summaryJson(value) {
  return `${JSON.stringify(value, (_k, v) => typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v instanceof Float32Array ? Array.from(v) : v, 2)}
`;
}
function parseNamedImage(spec) {
  let rest = spec;
  let weight = 1;
  const w = /:(\d*\.?\d+)$/.exec(rest);
  if (w) {
    weight = Number(w[1]);
    rest = rest.slice(0, w.index);
  }
  const eq = rest.indexOf("=");
  const name = eq > 0 ? rest.slice(0, eq) : rest.replace(/^.*[\\/]/, "").replace(/\.\w+$/, "");
  const path = eq > 0 ? rest.slice(eq + 1) : rest;
  return { name, path, weight };
}

export {
  modelInputSize,
  modelChannels,
  appendPreprocessing,
  SynthesisSession,
  extractFeatures,
  gramMatrix,
  appendModelCopy,
  pixelParam,
  fourierParam,
  toRaw,
  tensorImage,
  displaySize,
  perturbationImage,
  encodeGif,
  readImageTensor,
  readModelImage,
  stack,
  summaryJson,
  parseNamedImage
};
