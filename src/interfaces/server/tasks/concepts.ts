import { ConvLensError } from '../../../engine/errors.js';
import type { Tensor } from '../../../engine/tensor.js';
import { encodePng } from '../../../io/image.js';
import { shrinkMap } from '../../../methods/explain/channel-ranking.js';
import { conceptColour } from '../../../methods/inspect/concept-figure.js';
import { factorizeFeatures, type ConceptClass } from '../../../methods/inspect/concepts.js';
import { hintForStudio } from '../../../util/ways-out.js';
import { toWire, type WireTensor } from '../wire.js';
import type { TaskContext } from './context.js';

/** The most images one factorization takes in the studio, as many as `convlens concepts`'s figure shows. */
export const CONCEPT_IMAGES_MAX = 16;

/** POST /api/concepts's options (`convlens concepts`'s flags). */
export interface ConceptsRequest {
  /** a feature map (default: the layer `convlens channels` scores) */
  layer?: string;
  /** concepts to find (default 5) */
  components?: number;
  /** classes named per concept (default 3) */
  top?: number;
  /** factorization sweeps at most (default 200) */
  iterations?: number;
  /** seed of the factorization's random start (default 0) */
  seed?: number;
}

export interface ConceptsArgs {
  images: string[];
  request: ConceptsRequest;
  /** samples per engine run, planned to the job's memory budget */
  batchSize: number;
}

export interface ConceptsResult {
  layer: { name: string; label: string; shape: [number, number, number] };
  factorization: { components: number; relativeError: number; iterations: number; seed: number };
  /** strongest first; `colour` is the one the figure and the page draw it in */
  concepts: { concept: number; coverage: number; colour: [number, number, number]; classes?: ConceptClass[] }[];
  /** per image, as the model sees it, with each concept's map [h, w] (block means past 64 a side), 1 at the concept's strongest in any image */
  images: { image: string; input: { width: number; height: number; png: string }; maps: WireTensor[] }[];
  notes: string[];
}

/** `convlens concepts` on the request's images: one factorization over all of them, each concept's maps as wire tensors. */
export async function conceptsTask(ctx: TaskContext, a: ConceptsArgs): Promise<ConceptsResult> {
  const model = ctx.model();
  const inputs = [];
  for (const id of a.images) inputs.push(await ctx.input(model, id));
  const dims = inputs[0]!.tensor.dims;
  const per = dims.slice(1).reduce((x, y) => x * y, 1);
  const mismatch = inputs.findIndex((i) => i.tensor.dims.some((d, j) => d !== dims[j]));
  if (mismatch >= 0) {
    throw new ConvLensError('INVALID_ARGUMENT', `Image "${ctx.image(a.images[mismatch]!).name}" comes out [${inputs[mismatch]!.tensor.dims.join(', ')}] for this model, the first image [${dims.join(', ')}]; one factorization needs one size.`, 'Give the model a fixed input size under "Describe this model" (Preprocessing), or factorize the images one size at a time.');
  }
  const data = new Float32Array(inputs.length * per);
  inputs.forEach((i, n) => data.set(i.tensor.data as Float32Array, n * per));
  const batch: Tensor = { dtype: 'float32', dims: [inputs.length, ...dims.slice(1)], data };
  const q = a.request;
  const seed = q.seed ?? 0;
  const f = await factorizeFeatures(model, batch, {
    ...(q.layer !== undefined ? { layer: q.layer } : {}),
    ...(q.components !== undefined ? { components: q.components } : {}),
    ...(q.top !== undefined ? { topClasses: q.top } : {}),
    ...(q.iterations !== undefined ? { maxIterations: q.iterations } : {}),
    seed,
    batchSize: a.batchSize,
    ...ctx.job,
  });
  const [, h, w] = f.shape;
  const k = f.concepts.length;
  const maps = f.maps.data as Float32Array;
  return {
    layer: { name: f.layer, label: f.label, shape: f.shape },
    factorization: { components: k, relativeError: f.relativeError, iterations: f.iterations, seed },
    concepts: f.concepts.map((c, r) => ({ concept: r + 1, coverage: c.coverage, colour: conceptColour(r, k), ...(c.classes ? { classes: c.classes } : {}) })),
    images: await Promise.all(
      inputs.map(async (input, i) => ({
        image: a.images[i]!,
        input: { width: input.display.width, height: input.display.height, png: Buffer.from(await encodePng(input.display)).toString('base64') },
        maps: f.concepts.map((_, r) => {
          const small = shrinkMap(maps.subarray((i * k + r) * h * w, (i * k + r + 1) * h * w), h, w);
          // a view of all the maps when not shrunk: copied, so that the answer holds only this map
          return toWire({ dtype: 'float32', dims: small.dims, data: small.data.length === h * w ? small.data.slice() : small.data });
        }),
      })),
    ),
    notes: f.notes.map(hintForStudio),
  };
}
