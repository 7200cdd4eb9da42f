import {
  ascend,
  featureMatch,
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
  seededRandom
} from "./chunk-Y3QEK5WU.js";

// dist/methods/synthesize/inversion.js
async function invert(model, images, o) {
  const [N, C, H, W] = images.dims;
  const shape = { batch: N, channels: C, height: H, width: W };
  const steps = o.steps ?? 300;
  const lr = o.lr ?? 0.05;
  const tvWeight = o.tv ?? 0.5;
  const layers = o.layers.map((l) => model.resolveLayer(l));
  const targets = await extractFeatures(model, images, layers.map((layer) => ({ layer })));
  const out = [];
  const weights = [];
  const param = pixelParam({ range: "clip" });
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li];
    const dims = targets[li].dims;
    const positions = dims.length === 4 ? dims[2] * dims[3] : 1;
    const w = o.scaleTv === false ? tvWeight : tvWeight * Math.sqrt(H * W / positions);
    weights.push(w);
    const objective = sum(featureMatch(layer, targets[li], "distance"), weighted(w, tv(2)));
    const session = await SynthesisSession.create({ model, shape, param, objective });
    const theta = param.init(shape, seededRandom(o.seed ?? 0));
    const r = await ascend(session, theta, {
      steps,
      lr,
      optimizer: o.optimizer ?? "adam",
      frames: o.frames ?? 0,
      phase: `inverting ${layer}`,
      progressOffset: li * steps,
      progressTotal: layers.length * steps,
      ...o.signal ? { signal: o.signal } : {},
      ...o.onProgress ? { onProgress: o.onProgress } : {}
    });
    let mse = 0;
    const x0 = images.data;
    for (let i = 0; i < x0.length; i++)
      mse += (r.image[i] - x0[i]) ** 2;
    out.push({ tvWeight: w, layer, images: { dtype: "float32", dims: [N, C, H, W], data: r.image }, distance: -(r.final.terms["distance"] ?? 0) / N, pixelError: mse / x0.length, frames: r.frames });
  }
  return { inversions: out, params: { steps, lr, tv: tvWeight, tvPerLayer: weights, scaleTv: o.scaleTv !== false, optimizer: o.optimizer ?? "adam", seed: o.seed ?? 0, start: "noise (grey + N(0, 0.05))" } };
}

export {
  invert
};
