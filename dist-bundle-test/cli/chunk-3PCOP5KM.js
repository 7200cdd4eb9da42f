import {
  ascend,
  guide,
  layerL2,
  parseObjective,
  roll
} from "./chunk-UGNQJFIR.js";
import {
  SynthesisSession,
  extractFeatures,
  pixelParam
} from "./chunk-RJFHHHPN.js";
import {
  resamplePlane
} from "./chunk-TUXGXZTB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/synthesize/dream.js
function resizeImages(x, dims, H, W) {
  const [n, c, h, w] = dims;
  const out = new Float32Array(n * c * H * W);
  for (let p = 0; p < n * c; p++)
    out.set(resamplePlane(x.subarray(p * h * w, (p + 1) * h * w), w, h, W, H, "bilinear"), p * H * W);
  return out;
}
async function dream(model, image, o = {}) {
  const [N, C, H, W] = image.dims;
  const octaves = o.octaves ?? 4;
  const scale = o.octaveScale ?? 1.4;
  const steps = o.steps ?? 10;
  const stepSize = o.stepSize ?? 1.5 / 255;
  const jitter = o.jitter ?? 32;
  const layer = model.resolveLayer(o.layer ?? model.profile.dreamLayer ?? model.lastSpatialLayer());
  let objective;
  if (o.guide) {
    const [gf] = await extractFeatures(model, o.guide, [{ layer }]);
    const [, gc, gh, gw] = gf.dims;
    objective = guide(layer, { dtype: "float32", dims: [gc, gh * gw], data: gf.data });
  } else
    objective = o.objective === void 0 ? layerL2(layer) : typeof o.objective === "string" ? parseObjective(o.objective) : o.objective;
  const sizes = [];
  for (let k = octaves - 1; k >= 0; k--)
    sizes.push([Math.max(8, Math.round(H / scale ** k)), Math.max(8, Math.round(W / scale ** k))]);
  const base = image.data;
  const bases = sizes.map(([h, w]) => resizeImages(base, image.dims, h, w));
  let detail = new Float32Array(N * C * sizes[0][0] * sizes[0][1]);
  let prevSize = sizes[0];
  const param = pixelParam({ range: "clip" });
  const results = [];
  const frames = [];
  let current = new Float32Array(0);
  for (let k = 0; k < sizes.length; k++) {
    const [h, w] = sizes[k];
    if (k > 0)
      detail = resizeImages(detail, [N, C, prevSize[0], prevSize[1]], h, w);
    prevSize = [h, w];
    const src = new Float32Array(bases[k].length);
    for (let i = 0; i < src.length; i++)
      src[i] = Math.min(1, Math.max(0, bases[k][i] + detail[i]));
    const shape = { batch: N, channels: C, height: h, width: w };
    let session;
    try {
      session = await SynthesisSession.create({ model, shape, param, objective, warp: { height: h, width: w } });
    } catch (e) {
      if (e instanceof ConvLensError && e.code === "SHAPE_MISMATCH")
        throw new ConvLensError("SHAPE_MISMATCH", `DeepDream needs a layer the model computes at any image size: ${e.message}`, "Pick a convolutional layer (--layer), before any flatten or dense layer.", { cause: e });
      throw e;
    }
    const r = await ascend(session, src, {
      steps,
      lr: stepSize,
      optimizer: "l1-sgd",
      transforms: [roll(Math.min(jitter, Math.floor(Math.min(h, w) / 2)))],
      seed: (o.seed ?? 0) + k,
      frames: o.frames ?? 0,
      phase: `octave ${k + 1}/${sizes.length} (${w}x${h})`,
      progressOffset: k * steps,
      progressTotal: sizes.length * steps,
      ...o.signal ? { signal: o.signal } : {},
      ...o.onProgress ? { onProgress: o.onProgress } : {}
    });
    current = r.theta;
    for (const f of r.frames)
      frames.push({ octave: k, frame: f, height: h, width: w });
    results.push({ dtype: "float32", dims: [N, C, h, w], data: Float32Array.from(current) });
    detail = new Float32Array(current.length);
    for (let i = 0; i < current.length; i++)
      detail[i] = current[i] - bases[k][i];
  }
  return {
    image: { dtype: "float32", dims: [N, C, H, W], data: current },
    octaves: results,
    frames,
    params: { layer, objective: o.guide ? `guide(${layer})` : typeof o.objective === "string" ? o.objective : objective.key, octaves, octaveScale: scale, steps, stepSize, jitter, seed: o.seed ?? 0, sizes }
  };
}

export {
  resizeImages,
  dream
};
