// DeepDream (Mordvintsev, Olah & Tyka 2015; the deepdream notebook's algorithm): amplify what a
// layer sees by gradient ascent on its mean squared activation, from the smallest octave to the
// full size, re-injecting the detail each octave added; each step rolls the image by a random
// shift (jitter), divides the gradient by its mean absolute value and clips to [0, 1].
// Guided dreaming pulls each position towards the best-matching features of a guide image.
import { ConvLensError } from '../../engine/errors.js';
import { finiteOption, wholeNumberOption, imagesOption } from './options.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { receptiveFields } from '../../models/receptive-field.js';
import { resamplePlane } from '../../render/heatmap.js';
import type { JobOptions } from '../../engine/jobs.js';
import { extractFeatures, imageTooSmall, SynthesisSession } from './graph.js';
import { guide as guideObjective, layerL2, parseObjective, type Objective } from './objectives.js';
import { ascend, type AscentOptions, type Frame } from './optimize.js';
import { pixelParam } from './params.js';
import { roll } from './transforms.js';

export interface DreamOptions extends JobOptions, Pick<AscentOptions, 'onFrame' | 'keepFrames'> {
  /** the layer to amplify (mean squared activation; default: the profile's dream layer), or an objective string (channel:<layer>:5, ...) */
  layer?: string;
  objective?: string | Objective;
  octaves?: number;
  octaveScale?: number;
  /** gradient steps per octave */
  steps?: number;
  /** step size in image units after L1 normalization (the notebook's 1.5 / 255 ~ 0.006) */
  stepSize?: number;
  /** random roll of up to this many pixels each step */
  jitter?: number;
  /** guide image [1, C, h, w] in [0, 1]: dream towards its features at `layer` */
  guide?: Tensor;
  seed?: number;
  /** frames per octave kept for the GIF */
  frames?: number;
}

export interface DreamResult {
  image: Tensor;
  /** the result after each octave, smallest first */
  octaves: Tensor[];
  frames: { octave: number; frame: Frame; height: number; width: number }[];
  params: Record<string, unknown>;
  /** the objective's gradient was zero throughout: the result is the photo, unchanged */
  zeroGradient?: boolean;
  /** what the run changed from what was asked (smallest octaves skipped) */
  notes?: string[];
}

/** Bilinear resize of an image-space batch [N, C, h, w] -> [N, C, H, W]. */
export function resizeImages(x: Float32Array, dims: readonly number[], H: number, W: number): Float32Array {
  const [n, c, h, w] = dims as [number, number, number, number];
  const out = new Float32Array(n * c * H * W);
  for (let p = 0; p < n * c; p++) out.set(resamplePlane(x.subarray(p * h * w, (p + 1) * h * w), w, h, W, H, 'bilinear'), p * H * W);
  return out;
}

export async function dream(model: Model, image: Tensor, o: DreamOptions = {}): Promise<DreamResult> {
  imagesOption(image, 'images to dream on');
  const [N, C, H, W] = image.dims as [number, 1 | 3, number, number];
  const octaves = wholeNumberOption(o.octaves ?? 4, 'octave count', '--octaves');
  // below 1 the "smaller" octaves would grow past the image
  const scale = finiteOption(o.octaveScale ?? 1.4, 'octave scale', '--octave-scale', 1, true);
  const steps = wholeNumberOption(o.steps ?? 10, 'step count', '--steps');
  const stepSize = finiteOption(o.stepSize ?? 1.5 / 255, 'step size', '--step-size');
  const jitter = wholeNumberOption(o.jitter ?? 32, 'jitter', '--jitter', 0);
  const layer = model.resolveLayer(o.layer ?? model.profile.dreamLayer ?? model.lastSpatialLayer());
  let objective: Objective;
  if (o.guide) {
    const [gf] = await extractFeatures(model, o.guide, [{ layer }]);
    const [, gc, gh, gw] = gf!.dims as number[];
    // [1, C, h, w] -> [C, h*w]
    objective = guideObjective(layer, { dtype: 'float32', dims: [gc!, gh! * gw!], data: gf!.data });
  } else objective = o.objective === undefined ? layerL2(layer) : typeof o.objective === 'string' ? parseObjective(o.objective) : o.objective;

  // Octave sizes, smallest first, each a multiple of `multiple` (1 unless the model needs it).
  const octaveSizes = (multiple: number): [number, number][] => {
    const fit = (side: number): number => Math.max(multiple * Math.ceil(8 / multiple), multiple * Math.round(side / multiple));
    const out: [number, number][] = [];
    for (let k = octaves - 1; k >= 0; k--) out.push([fit(Math.max(8, Math.round(H / scale ** k))), fit(Math.max(8, Math.round(W / scale ** k)))]);
    return out;
  };
  let multiple = 1;
  let sizes = octaveSizes(multiple);
  const base = image.data as Float32Array;
  let bases: Float32Array[] = [];
  let detail: Float32Array = new Float32Array(0);
  let prevSize = sizes[0]!;
  const param = pixelParam({ range: 'clip' });
  let results: Tensor[] = [];
  let frames: DreamResult['frames'] = [];
  let current: Float32Array = new Float32Array(0);
  let flat = true;
  const tooSmall: string[] = [];
  const start = (): void => {
    bases = sizes.map(([h, w]) => (h === H && w === W ? base : resizeImages(base, image.dims, h, w)));
    detail = new Float32Array(N * C * sizes[0]![0] * sizes[0]![1]);
    prevSize = sizes[0]!;
    results = [];
    frames = [];
    flat = true;
  };
  start();
  for (let k = 0; k < sizes.length; k++) {
    const [h, w] = sizes[k]!;
    if (k > 0) detail = resizeImages(detail, [N, C, prevSize[0], prevSize[1]], h, w);
    prevSize = [h, w];
    const src = new Float32Array(bases[k]!.length);
    for (let i = 0; i < src.length; i++) src[i] = Math.min(1, Math.max(0, bases[k]![i]! + detail[i]!));
    const shape = { batch: N, channels: C, height: h, width: w };
    let session: SynthesisSession;
    try {
      session = await SynthesisSession.create({ model, shape, param, objective, warp: { height: h, width: w } });
    } catch (e) {
      if (e instanceof ConvLensError && e.code === 'SHAPE_MISMATCH') {
        if (imageTooSmall(e) && results.length === 0 && k < sizes.length - 1) {
          // The smallest octaves only add coarse detail: start at the first the model can take
          // (8 octaves of a 256-pixel photo go down to 24x16, below SqueezeNet's smallest input).
          tooSmall.push(`${w}x${h}`);
          sizes = sizes.slice(k + 1);
          start();
          k = -1;
          continue;
        }
        if (imageTooSmall(e)) throw new ConvLensError('SHAPE_MISMATCH', `DeepDream's octave ${k + 1 + tooSmall.length} is ${w} pixels wide and ${h} high, too small for the model: ${e.message}`, 'Use fewer octaves or a larger maximum side (CLI: --octaves, --max-side), or a less elongated image.', { cause: e });
        // A U-Net joins each upsampled map to the encoder's map of the same size: an odd side
        // halved and doubled back no longer matches, so such a model only runs on sides that are
        // multiples of its downsampling. Dream on those sizes (the last octave's detail is
        // resized onto the photo), once.
        const m = multiple === 1 ? sizeMultiple(model) : 1;
        if (m > 1) {
          multiple = m;
          sizes = octaveSizes(multiple);
          start();
          k = -1;
          continue;
        }
        throw new ConvLensError('SHAPE_MISMATCH', `DeepDream needs a layer the model computes at any image size: ${e.message}`, multiple > 1 ? `Sides that are multiples of ${multiple} (the model's downsampling) did not help either: pick an earlier layer (CLI: --layer).` : 'Pick a convolutional layer (CLI: --layer), before any flatten or dense layer.', { cause: e });
      }
      throw e;
    }
    const r = await ascend(session, src, {
      steps,
      lr: stepSize,
      optimizer: 'l1-sgd',
      divergence: [{ option: '--step-size', what: 'step size', value: stepSize, usualMax: 1 }],
      transforms: [roll(Math.min(jitter, Math.floor(Math.min(h, w) / 2)))],
      seed: (o.seed ?? 0) + k,
      frames: o.frames ?? 0,
      phase: `octave ${k + 1}/${sizes.length} (${w}x${h})`,
      progressOffset: k * steps,
      progressTotal: sizes.length * steps,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.onFrame ? { onFrame: o.onFrame } : {}),
      ...(o.keepFrames !== undefined ? { keepFrames: o.keepFrames } : {}),
    });
    current = r.theta;
    flat &&= !!r.zeroGradient;
    for (const f of r.frames) frames.push({ octave: k, frame: f, height: h, width: w });
    results.push({ dtype: 'float32', dims: [N, C, h, w], data: Float32Array.from(current) });
    detail = new Float32Array(current.length);
    for (let i = 0; i < current.length; i++) detail[i] = current[i]! - bases[k]![i]!;
  }
  const [lh, lw] = sizes[sizes.length - 1]!;
  if (lh !== H || lw !== W) {
    // the last octave ran at a multiple of the model's downsampling: its detail goes onto the photo at its own size
    const d = resizeImages(detail, [N, C, lh, lw], H, W);
    current = new Float32Array(base.length);
    for (let i = 0; i < current.length; i++) current[i] = Math.min(1, Math.max(0, base[i]! + d[i]!));
  }
  return {
    image: { dtype: 'float32', dims: [N, C, H, W], data: current },
    octaves: results,
    frames,
    ...(flat ? { zeroGradient: true } : {}),
    ...(tooSmall.length ? { notes: [`the ${tooSmall.length === 1 ? 'smallest octave' : `${tooSmall.length} smallest octaves`} (${tooSmall.join(', ')} pixels) ${tooSmall.length === 1 ? 'is' : 'are'} too small for the model; DeepDream ran the other ${sizes.length}`] } : {}),
    params: { layer, objective: o.guide ? `guide(${layer})` : typeof o.objective === 'string' ? o.objective : objective.key, octaves, octaveScale: scale, steps, stepSize, jitter, seed: o.seed ?? 0, sizes, ...(multiple > 1 ? { sizeMultiple: multiple } : {}) },
  };
}

/**
 * The side every image size must be a multiple of for the model to run, as far as its layers'
 * strides tell: the largest jump (input pixels between neighbouring units) of any of its spatial
 * layers, 1 when there is none. A U-Net that halves its input twice and joins the upsampled maps
 * back to the encoder's needs multiples of 4.
 */
export function sizeMultiple(model: Model): number {
  let m = 1;
  for (const rf of receptiveFields(model.graph, model.builder(), model.input.name).values()) {
    if (rf.global) continue;
    for (const j of rf.jump) if (Number.isInteger(j) && j > m && j <= 64) m = j;
  }
  return m;
}
