// Feature inversion (Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting
// Them", CVPR 2015): find an image whose features at a layer match a given image's, with a
// total-variation prior, starting from noise. Early layers give the image back; deeper ones
// keep what the network needs and lose the rest (exact position, colour, texture).
import type { Tensor } from '../../engine/tensor.js';
import { finiteOption, wholeNumberOption, imagesOption } from './options.js';
import { seededRandom } from '../../models/init.js';
import type { Model } from '../../models/model.js';
import type { JobOptions } from '../../engine/jobs.js';
import { extractFeatures, SynthesisSession } from './graph.js';
import { featureMatch, sum, tv, weighted } from './objectives.js';
import { ascend, type AscentOptions, type Frame, type OptimizerName } from './optimize.js';
import { pixelParam } from './params.js';

export interface InvertOptions extends JobOptions, Pick<AscentOptions, 'onFrame' | 'keepFrames'> {
  /** layers to invert (one reconstruction each) */
  layers: string[];
  steps?: number;
  lr?: number;
  optimizer?: OptimizerName;
  /** weight of the TV^2 prior (mean squared neighbour differences) at full resolution */
  tv?: number;
  /**
   * scale the prior with depth (default true): weight x sqrt(image pixels / layer positions), so a
   * layer that keeps less spatial detail leans more on the prior, as Mahendran & Vedaldi's
   * per-layer weights do
   */
  scaleTv?: boolean;
  seed?: number;
  frames?: number;
}

export interface Inversion {
  layer: string;
  /** reconstructions [N, C, H, W] in [0, 1] */
  images: Tensor;
  /** final normalized feature distance |F(x) - F(x0)|^2 / |F(x0)|^2 (mean over images) */
  distance: number;
  /** mean squared error to the original image */
  pixelError: number;
  /** the TV weight used for this layer */
  tvWeight: number;
  frames: Frame[];
}

export async function invert(model: Model, images: Tensor, o: InvertOptions): Promise<{ inversions: Inversion[]; params: Record<string, unknown> }> {
  imagesOption(images, 'images to invert');
  const [N, C, H, W] = images.dims as [number, 1 | 3, number, number];
  const shape = { batch: N, channels: C, height: H, width: W };
  const steps = wholeNumberOption(o.steps ?? 300, 'step count', '--steps');
  const lr = finiteOption(o.lr ?? 0.05, 'learning rate', '--lr');
  const tvWeight = finiteOption(o.tv ?? 0.5, 'TV weight', '--tv', 0, true);
  const layers = o.layers.map((l) => model.resolveLayer(l));
  const targets = await extractFeatures(model, images, layers.map((layer) => ({ layer })));
  const out: Inversion[] = [];
  const weights: number[] = [];
  const param = pixelParam({ range: 'clip' });
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li]!;
    const dims = targets[li]!.dims;
    const positions = dims.length === 4 ? dims[2]! * dims[3]! : 1;
    const w = o.scaleTv === false ? tvWeight : tvWeight * Math.sqrt((H * W) / positions);
    weights.push(w);
    const objective = sum(featureMatch(layer, targets[li]!, 'distance'), weighted(w, tv(2)));
    const session = await SynthesisSession.create({ model, shape, param, objective });
    const theta = param.init(shape, seededRandom(o.seed ?? 0));
    const r = await ascend(session, theta, {
      steps,
      lr,
      optimizer: o.optimizer ?? 'adam',
      frames: o.frames ?? 0,
      // shown in the progress bar, the long-run note and a cancellation: the layer as the user knows it
      phase: `inverting ${model.layerLabel(layer)}`,
      divergence: [
        { option: '--lr', what: 'learning rate', value: lr, usualMax: 10 },
        { option: '--tv', what: 'TV weight', value: tvWeight, usualMax: 1e4 },
      ],
      progressOffset: li * steps,
      progressTotal: layers.length * steps,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.onFrame ? { onFrame: o.onFrame } : {}),
      ...(o.keepFrames !== undefined ? { keepFrames: o.keepFrames } : {}),
    });
    let mse = 0;
    const x0 = images.data as Float32Array;
    for (let i = 0; i < x0.length; i++) mse += (r.image[i]! - x0[i]!) ** 2;
    out.push({ tvWeight: w, layer, images: { dtype: 'float32', dims: [N, C, H, W], data: r.image }, distance: -(r.final.terms['distance'] ?? 0) / N, pixelError: mse / x0.length, frames: r.frames });
  }
  return { inversions: out, params: { steps, lr, tv: tvWeight, tvPerLayer: weights, scaleTv: o.scaleTv !== false, optimizer: o.optimizer ?? 'adam', seed: o.seed ?? 0, start: 'noise (grey + N(0, 0.05))' } };
}
