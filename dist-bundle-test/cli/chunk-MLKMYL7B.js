import {
  resizeImages
} from "./chunk-3PCOP5KM.js";
import {
  ascend,
  featureMatch,
  gramMatch,
  sum,
  tv,
  weighted
} from "./chunk-UGNQJFIR.js";
import {
  SynthesisSession,
  extractFeatures,
  pixelParam
} from "./chunk-RJFHHHPN.js";
import {
  Model,
  decodeModel,
  encodeModel,
  writeMetadata
} from "./chunk-P6HER42Z.js";
import {
  GraphBuilder
} from "./chunk-X2V5Z5UO.js";
import {
  gaussian,
  heNormal,
  seededRandom
} from "./chunk-Y3QEK5WU.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/models/zoo/texture-backbone.js
function textureBackbone(o = {}) {
  const filters = o.filters ?? 128;
  const scales = o.scales ?? 5;
  const k = o.kernel ?? 5;
  const size = o.size ?? 256;
  const rand = seededRandom(o.seed ?? 2017);
  const b = new GraphBuilder();
  b.graph.name = "texture_backbone";
  let x = b.input("input", "float32", ["N", 3, size, size]);
  const outputs = [];
  const color = b.op("AveragePool", [x], { kernel_shape: [4, 4], strides: [4, 4] }, { name: "color", outputs: ["color"] });
  for (let s = 1; s <= scales; s++) {
    if (s > 1)
      x = b.op("AveragePool", [x], { kernel_shape: [2, 2], strides: [2, 2] }, { name: `pool${s}`, outputs: [`pool${s}`] });
    const n = 3 * k * k;
    const w = new Float32Array(filters * n);
    for (let f = 0; f < filters; f++) {
      let mean = 0;
      for (let i = 0; i < n; i++)
        mean += w[f * n + i] = gaussian(rand);
      mean /= n;
      let norm = 0;
      for (let i = 0; i < n; i++)
        norm += (w[f * n + i] -= mean) ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < n; i++)
        w[f * n + i] /= norm;
    }
    const W = b.initializer(`conv${s}.weight`, { dtype: "float32", dims: [filters, 3, k, k], data: w });
    const pad = Math.floor(k / 2);
    const c = b.op("Conv", [x, W], { kernel_shape: [k, k], pads: [pad, pad, pad, pad] }, { name: `conv${s}`, outputs: [`conv${s}`] });
    outputs.push(b.op("Relu", [c], {}, { name: `scale${s}`, outputs: [`scale${s}`] }));
  }
  for (const out of outputs)
    b.output(out);
  b.output(color);
  const g = b.build();
  writeMetadata(g, {
    labels: [],
    preprocessing: { size: [size, size], channels: "rgb", range: [0, 1], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: "stretch" },
    description: `Random multi-scale texture backbone (Ustyuzhaninov et al. 2017, pyramid variant): ${scales} scales x ${filters} random ${k}x${k} filters, seed ${o.seed ?? 2017}; any input size`
  });
  return g;
}
function textureLayers(scales = 5) {
  return ["color", ...Array.from({ length: scales }, (_, i) => `scale${i + 1}`)];
}
var TEXTURE_CONTENT_LAYERS = ["color", "scale1"];

// dist/methods/synthesize/style.js
var backbones = /* @__PURE__ */ new WeakMap();
function builtinTextureBackbone(engine) {
  let m = backbones.get(engine);
  if (!m)
    backbones.set(engine, m = new Model(textureBackbone(), engine, "texture-backbone"));
  return m;
}
function backboneProblem(model) {
  const p = model.profile;
  if (p.input.channels !== 3)
    return `model "${model.name}" takes ${p.input.kind === "gray" ? "gray" : `${p.input.channels}-channel`} images, and colour styles need an RGB network`;
  if (p.styleLayers.length < 2)
    return `model "${model.name}" has ${p.styleLayers.length} spatial layer${p.styleLayers.length === 1 ? "" : "s"} before global pooling to take style statistics from; two or more are needed`;
  return void 0;
}
function resizeTo(t, H, W) {
  const [n, c, h, w] = t.dims;
  if (h === H && w === W)
    return t;
  return { dtype: "float32", dims: [n, c, H, W], data: resizeImages(t.data, t.dims, H, W) };
}
function rgb(t, what) {
  const [n, c, h, w] = t.dims;
  if (n !== 1)
    throw new ConvLensError("INVALID_ARGUMENT", `The ${what} must be one image, got ${n}.`);
  if (c === 3)
    return t;
  if (c !== 1)
    throw new ConvLensError("INVALID_ARGUMENT", `The ${what} has ${c} channels.`);
  const data = new Float32Array(3 * h * w);
  for (let k = 0; k < 3; k++)
    data.set(t.data, k * h * w);
  return { dtype: "float32", dims: [1, 3, h, w], data };
}
function transferLuminance(result, colours, plane) {
  const out = new Float32Array(result.length);
  for (let p = 0; p < plane; p++) {
    const [r, g, b] = [result[p], result[plane + p], result[2 * plane + p]];
    const [cr, cg, cb] = [colours[p], colours[plane + p], colours[2 * plane + p]];
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    const i = 0.596 * cr - 0.274 * cg - 0.322 * cb;
    const q = 0.211 * cr - 0.523 * cg + 0.312 * cb;
    out[p] = Math.min(1, Math.max(0, y + 0.956 * i + 0.621 * q));
    out[plane + p] = Math.min(1, Math.max(0, y - 0.272 * i - 0.647 * q));
    out[2 * plane + p] = Math.min(1, Math.max(0, y - 1.106 * i + 1.703 * q));
  }
  return out;
}
async function styleTargets(backbone, styles, layers, outSize, styleScale = 1) {
  const total = styles.reduce((a, s) => a + (s.weight ?? 1), 0);
  if (!(total > 0))
    throw new ConvLensError("INVALID_ARGUMENT", "Style blend weights must add up to more than 0.");
  const blended = [];
  let dims = [];
  for (const s of styles) {
    const img = rgb(s.image, "style image");
    const [, , h, w] = img.dims;
    const k = styleScale * Math.max(outSize[0], outSize[1]) / Math.max(h, w);
    const sized = resizeTo(img, Math.max(16, Math.round(h * k)), Math.max(16, Math.round(w * k)));
    const grams = await extractFeatures(backbone, sized, layers.map((layer) => ({ layer, gram: true })));
    dims = grams.map((g) => [...g.dims]);
    grams.forEach((g, i) => {
      const acc = blended[i] ??= new Float32Array(g.data.length);
      const wgt = (s.weight ?? 1) / total;
      for (let q = 0; q < acc.length; q++)
        acc[q] += wgt * g.data[q];
    });
  }
  return blended.map((data, i) => ({ dtype: "float32", dims: dims[i], data }));
}
async function styleTransfer(engine, o) {
  const t0 = performance.now();
  if (!o.styles.length)
    throw new ConvLensError("INVALID_ARGUMENT", "No style image given.", "Pass at least one style (texture) image.");
  const backbone = o.backbone ?? builtinTextureBackbone(engine);
  const builtin = !o.backbone;
  if (o.backbone && !o.styleLayers) {
    const problem = backboneProblem(o.backbone);
    if (problem)
      throw new ConvLensError("MODEL_UNSUPPORTED", `Model "${o.backbone.name}" cannot be the style network: ${problem}.`, "Use an RGB CNN (e.g. --model squeezenet), the random texture network (--backbone texture), or name the layers (--style-layers).");
  }
  const styleLayers = (o.styleLayers ?? (builtin ? textureLayers() : backbone.profile.styleLayers)).map((l) => backbone.resolveLayer(l));
  if (!styleLayers.length)
    throw new ConvLensError("INVALID_ARGUMENT", "Which layers carry the style?", "Name them (--style-layers): early-to-mid convolutional layers, e.g. the first of each resolution.");
  const content = o.content ? rgb(o.content, "content image") : void 0;
  const contentLayers = (o.contentLayers ?? (builtin ? TEXTURE_CONTENT_LAYERS : backbone.profile.contentLayers.length ? backbone.profile.contentLayers : styleLayers.slice(-1))).map((l) => backbone.resolveLayer(l));
  const first = rgb(o.styles[0].image, "style image");
  const [H, W] = o.size ?? (content ? [content.dims[2], content.dims[3]] : [first.dims[2], first.dims[3]]);
  const contentSized = content ? resizeTo(content, H, W) : void 0;
  const shape = { batch: 1, channels: 3, height: H, width: W };
  const grams = await styleTargets(backbone, o.styles, styleLayers, [H, W], o.styleScale ?? 1);
  const lw = o.styleLayerWeights ?? styleLayers.map(() => 1);
  const lsum = lw.reduce((a, b) => a + b, 0);
  const sw = o.styleWeight ?? 1;
  const terms = styleLayers.map((l, i) => weighted(sw * lw[i] / lsum, gramMatch(l, grams[i], "style")));
  const cw = o.contentWeight ?? (content ? builtin ? 0.1 : 0.03 : 0);
  if (contentSized && cw > 0) {
    const feats = await extractFeatures(backbone, contentSized, contentLayers.map((layer) => ({ layer })));
    contentLayers.forEach((l, i) => terms.push(weighted(cw / contentLayers.length, featureMatch(l, feats[i], "content"))));
  }
  const tvw = o.tvWeight ?? 0.5;
  if (tvw > 0)
    terms.push(weighted(tvw, tv(2)));
  const param = pixelParam({ range: "clip" });
  const session = await SynthesisSession.create({ model: backbone, shape, param, objective: sum(...terms) });
  const init = o.init ?? (content ? "content" : "noise");
  let theta;
  if (init === "content") {
    if (!contentSized)
      throw new ConvLensError("INVALID_ARGUMENT", 'init "content" needs a content image.');
    theta = Float32Array.from(contentSized.data);
  } else if (init === "style")
    theta = Float32Array.from(resizeTo(first, H, W).data);
  else {
    const rand = seededRandom(o.seed ?? 0);
    theta = Float32Array.from({ length: 3 * H * W }, () => Math.min(1, Math.max(0, 0.5 + 0.2 * gaussian(rand))));
  }
  const optimizer = o.optimizer ?? "lbfgs";
  const steps = o.steps ?? (optimizer === "lbfgs" ? 100 : 300);
  const r = await ascend(session, theta, {
    steps,
    lr: o.lr ?? (optimizer === "lbfgs" ? 1 : 0.02),
    optimizer,
    frames: o.frames ?? 6,
    phase: content ? "style transfer" : "texture synthesis",
    ...o.signal ? { signal: o.signal } : {},
    ...o.onProgress ? { onProgress: o.onProgress } : {}
  });
  let image = r.image;
  if (o.keepColors && contentSized) {
    image = transferLuminance(image, contentSized.data, H * W);
    for (const f of r.frames)
      f.image = transferLuminance(f.image, contentSized.data, H * W);
  }
  return {
    image: { dtype: "float32", dims: [1, 3, H, W], data: image },
    frames: r.frames,
    history: r.history,
    params: {
      backbone: builtin ? "texture (random multi-scale filters)" : backbone.name,
      size: [H, W],
      styleLayers,
      styleLayerWeights: lw,
      contentLayers: content ? contentLayers : [],
      contentWeight: content ? cw : 0,
      styleWeight: sw,
      tvWeight: tvw,
      styleScale: o.styleScale ?? 1,
      blend: o.styles.map((s) => s.weight ?? 1),
      keepColors: !!o.keepColors,
      optimizer,
      steps,
      init,
      seed: o.seed ?? 0,
      ms: Math.round(performance.now() - t0)
    }
  };
}

// dist/models/zoo/style-net.js
var STYLE_NET_KEY = "convlens.style_net";
function styleNet(o) {
  const S = o.styles;
  if (!(S >= 1))
    throw new ConvLensError("INVALID_ARGUMENT", "A style network needs at least one style.");
  const c = o.width ?? 16;
  const blocks = o.blocks ?? 3;
  const size = o.size ?? 128;
  const rand = seededRandom(o.seed ?? 0);
  const b = new GraphBuilder();
  b.graph.name = "style_net";
  const x0 = b.input("image", "float32", ["N", 3, size, size]);
  const style = b.input("style", "float32", ["N", S]);
  const conv = (x2, name, cout, k, stride = 1) => {
    const cin2 = b.shapeOf(x2)[1];
    const p = Math.floor(k / 2);
    const padded = p ? b.op("Pad", [x2, b.ints([0, 0, p, p, 0, 0, p, p])], { mode: "reflect" }, { name: `${name}.pad` }) : x2;
    const w = b.initializer(`${name}.weight`, heNormal(rand, [cout, cin2, k, k], cin2 * k * k));
    const bias = b.initializer(`${name}.bias`, { dtype: "float32", dims: [cout], data: new Float32Array(cout) });
    return b.op("Conv", [padded, w, bias], { kernel_shape: [k, k], strides: [stride, stride] }, { name, outputs: [name] });
  };
  const cin = (x2, name) => {
    const C = b.shapeOf(x2)[1];
    const ones = b.constant({ dtype: "float32", dims: [C], data: new Float32Array(C).fill(1) }, "ones");
    const zeros = b.constant({ dtype: "float32", dims: [C], data: new Float32Array(C) }, "zeros");
    const n = b.op("InstanceNormalization", [x2, ones, zeros], { epsilon: 1e-5 }, { name: `${name}.in` });
    const G = b.initializer(`${name}.gamma`, { dtype: "float32", dims: [S, C], data: new Float32Array(S * C).fill(1) });
    const B = b.initializer(`${name}.beta`, { dtype: "float32", dims: [S, C], data: new Float32Array(S * C) });
    const shape = b.ints([-1, C, 1, 1]);
    const g2 = b.op("Reshape", [b.op("MatMul", [style, G]), shape]);
    const be = b.op("Reshape", [b.op("MatMul", [style, B]), shape]);
    return b.op("Add", [b.op("Mul", [n, g2]), be], {}, { name, outputs: [name] });
  };
  const relu = (x2) => b.op("Relu", [x2]);
  let x = relu(cin(conv(x0, "conv1", c, 9), "norm1"));
  x = relu(cin(conv(x, "conv2", 2 * c, 3, 2), "norm2"));
  x = relu(cin(conv(x, "conv3", 4 * c, 3, 2), "norm3"));
  for (let r = 1; r <= blocks; r++) {
    const y = relu(cin(conv(x, `res${r}.conv1`, 4 * c, 3), `res${r}.norm1`));
    x = b.op("Add", [x, cin(conv(y, `res${r}.conv2`, 4 * c, 3), `res${r}.norm2`)], {}, { name: `res${r}`, outputs: [`res${r}`] });
  }
  const up = (v, name) => b.op("Resize", [v, "", b.constant({ dtype: "float32", dims: [4], data: Float32Array.of(1, 1, 2, 2) }, "scales2")], { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" }, { name });
  x = relu(cin(conv(up(x, "up1"), "conv4", 2 * c, 3), "norm4"));
  x = relu(cin(conv(up(x, "up2"), "conv5", c, 3), "norm5"));
  const out = b.op("Sigmoid", [conv(x, "conv6", 3, 9)], {}, { name: "stylized", outputs: ["stylized"] });
  b.output(out);
  const g = b.build();
  g.metadata.set(STYLE_NET_KEY, JSON.stringify({ styles: S, width: c, blocks, size }));
  return g;
}
function anySize(g) {
  const out = g.clone();
  out.inputs = out.inputs.map((i) => i.name === "image" ? { ...i, shape: ["N", 3, "H", "W"] } : i);
  out.outputs = out.outputs.map((o) => ({ name: o.name, dtype: o.dtype, shape: ["N", 3, "H", "W"] }));
  out.valueInfo.clear();
  return out;
}

// dist/methods/synthesize/stylize.js
function styleNetInfo(g) {
  const raw = g.metadata.get(STYLE_NET_KEY);
  if (!raw)
    throw new ConvLensError("MODEL_UNSUPPORTED", `"${g.name}" is not a ConvLens style network (no ${STYLE_NET_KEY} metadata).`, "Train one with `convlens style-train`.");
  const m = JSON.parse(raw);
  return { styles: m.styles, names: m.styleNames ?? Array.from({ length: m.styles }, (_, i) => `style ${i}`) };
}
function loadStyleNet(bytes, source) {
  const g = decodeModel(bytes, { source });
  styleNetInfo(g);
  return g;
}
function encodeStyleNet(g) {
  return encodeModel(g);
}
var nextNet = 1;
var netIds = /* @__PURE__ */ new WeakMap();
async function stylize(engine, g, images, weights) {
  const { styles } = styleNetInfo(g);
  if (weights.length !== styles)
    throw new ConvLensError("INVALID_ARGUMENT", `The network holds ${styles} styles; ${weights.length} weights given.`);
  let id = netIds.get(g);
  if (!id)
    netIds.set(g, id = nextNet++);
  const compiled = await engine.compile(`stylenet#${id}`, () => anySize(g));
  const [N, C, H, W] = images.dims;
  const Hp = Math.ceil(H / 4) * 4;
  const Wp = Math.ceil(W / 4) * 4;
  let x = images;
  if (Hp !== H || Wp !== W) {
    const d = images.data;
    const p = new Float32Array(N * C * Hp * Wp);
    const refl = (v, n) => v < n ? v : 2 * n - 2 - v;
    for (let q = 0; q < N * C; q++)
      for (let y = 0; y < Hp; y++)
        for (let xx = 0; xx < Wp; xx++)
          p[(q * Hp + y) * Wp + xx] = d[(q * H + refl(y, H)) * W + refl(xx, W)];
    x = { dtype: "float32", dims: [N, C, Hp, Wp], data: p };
  }
  const style = new Float32Array(N * styles);
  for (let i = 0; i < N; i++)
    for (let s = 0; s < styles; s++)
      style[i * styles + s] = weights[s];
  const out = (await compiled.run({ image: x, style: { dtype: "float32", dims: [N, styles], data: style } }))["stylized"];
  if (Hp === H && Wp === W)
    return out;
  const o = out.data;
  const crop = new Float32Array(N * 3 * H * W);
  for (let q = 0; q < N * 3; q++)
    for (let y = 0; y < H; y++)
      crop.set(o.subarray((q * Hp + y) * Wp, (q * Hp + y) * Wp + W), (q * H + y) * W);
  return { dtype: "float32", dims: [N, 3, H, W], data: crop };
}

export {
  textureLayers,
  TEXTURE_CONTENT_LAYERS,
  builtinTextureBackbone,
  backboneProblem,
  styleTargets,
  styleTransfer,
  STYLE_NET_KEY,
  styleNet,
  anySize,
  styleNetInfo,
  loadStyleNet,
  encodeStyleNet,
  stylize
};
