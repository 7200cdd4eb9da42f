// The model-randomization sanity check (Adebayo et al. 2018, "Sanity Checks for Saliency
// Maps"), cascading: re-initialize the weights of the parameterized layers from the output
// down, one more layer per step, recompute every method's map for the same targets, and
// measure how similar it stays to the trained model's map. A method whose map barely changes
// while the model is destroyed is not explaining the model.
import { ConvLensError } from '../../engine/errors.js';
import type { Graph } from '../../engine/graph/ir.js';
import type { Tensor } from '../../engine/tensor.js';
import { Model } from '../../models/model.js';
import { explain, resolveMethods } from '../explain/index.js';
import { normalSource, seedOf } from '../explain/arrays.js';
import type { ExplainOptions, Explanation, MethodName } from '../explain/types.js';
import { throwIfCancelled } from '../../engine/jobs.js';
import { isConstant, normalizedMagnitude, spearman, ssim } from './similarity.js';

export interface SanityOptions extends Omit<ExplainOptions, 'target'> {
  /** layers (node names) to randomize, top first (default: every Conv/Gemm/MatMul with constant weights, output first) */
  layers?: string[];
  /** seed of the random weights (default 0) */
  seed?: number;
  /**
   * The trained model's explanation of the same inputs, when the caller has it already (the
   * studio's report explains first): reused instead of recomputed, its methods and targets kept.
   */
  original?: Explanation;
}

export interface SanityScores {
  /** Spearman rank correlation of the signed maps, per image */
  spearman: number[];
  /** Spearman rank correlation of |map| (Adebayo et al. report both) */
  spearmanAbs: number[];
  /** SSIM of |map| / max |map|, per image */
  ssim: number[];
  /**
   * Per image, whether the randomized model's map is constant (all zero when randomizing has
   * left the target no gradient, a dead ReLU above every pixel, or a CAM's ReLU clips every
   * pixel): the three scores are NaN there (so is a constant trained map's), since no
   * similarity is defined, rather than a 0 that reads as "decorrelated".
   */
  constant: boolean[];
}

export interface SanityStep {
  /** the layer randomized at this step (all layers of earlier steps stay randomized) */
  layer: string;
  scores: Record<string, SanityScores>;
  /** the maps after this step */
  maps: Record<string, Tensor>;
}

export interface SanityResult {
  methods: MethodName[];
  /** layers in the order they were randomized (output first) */
  layers: string[];
  /** the trained model's explanation */
  original: Explanation;
  steps: SanityStep[];
}

const PARAMETERIZED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** Parameterized layers (nodes with constant float weights), output first. */
export function randomizableLayers(model: Model): string[] {
  return model.graph.nodes
    .filter((n) => PARAMETERIZED.has(n.op) && n.inputs[1] && model.graph.initializers.get(n.inputs[1])?.dtype === 'float32')
    .map((n) => n.name)
    .reverse();
}

/** Re-initializes a layer's weights (and bias) from N(0, std of the originals), keeping the scale. */
export function randomizeLayer(graph: Graph, layer: string, rand: () => number): void {
  const node = graph.nodes.find((n) => n.name === layer);
  if (!node) throw new ConvLensError('UNKNOWN_NAME', `No layer named "${layer}" to randomize.`, 'Check the name (names are case-sensitive); `convlens summary --model <file>` lists the layers.');
  for (const input of node.inputs.slice(1, 3)) {
    const t = input ? graph.initializers.get(input) : undefined;
    if (!t || t.dtype !== 'float32') continue;
    const src = t.data as Float32Array;
    let mean = 0;
    for (const v of src) mean += v;
    mean /= src.length;
    let variance = 0;
    for (const v of src) variance += (v - mean) ** 2;
    const std = Math.sqrt(variance / Math.max(1, src.length)) || 0;
    const data = new Float32Array(src.length);
    for (let i = 0; i < data.length; i++) data[i] = std * rand();
    graph.initializers.set(input!, { dtype: 'float32', dims: [...t.dims], data });
  }
}

/** How similar a randomized model's maps `b` stay to the trained model's `a` ([N, H, W]), per image. */
export function compareMaps(a: Tensor, b: Tensor): SanityScores {
  const [n, h, w] = a.dims as [number, number, number];
  const hw = h * w;
  const out: SanityScores = { spearman: [], spearmanAbs: [], ssim: [], constant: [] };
  for (let i = 0; i < n; i++) {
    const x = (a.data as Float32Array).subarray(i * hw, (i + 1) * hw);
    const y = (b.data as Float32Array).subarray(i * hw, (i + 1) * hw);
    const flat = isConstant(y);
    out.constant.push(flat);
    if (flat || isConstant(x)) {
      out.spearman.push(NaN);
      out.spearmanAbs.push(NaN);
      out.ssim.push(NaN);
      continue;
    }
    out.spearman.push(spearman(x, y));
    out.spearmanAbs.push(spearman(Float64Array.from(x, Math.abs), Float64Array.from(y, Math.abs)));
    out.ssim.push(h >= 7 && w >= 7 ? ssim(normalizedMagnitude(x), normalizedMagnitude(y), w, h) : NaN);
  }
  return out;
}

/** Runs the cascading randomization check for `methods` on a batch, explaining each image's target under the trained model. */
export async function randomizationCheck(model: Model, x: Tensor, options: SanityOptions & { target?: ExplainOptions['target'] }): Promise<SanityResult> {
  const requested = resolveMethods(options.methods);
  const layers = options.layers ?? randomizableLayers(model);
  const known = new Set(randomizableLayers(model));
  for (const l of layers) {
    if (!known.has(l)) throw new ConvLensError('UNKNOWN_NAME', `"${l}" is not a layer with weights to randomize.`, `Layers with weights, output first: ${[...known].join(', ')}.`);
  }
  if (layers.length === 0 && known.size > 0) throw new ConvLensError('INVALID_ARGUMENT', 'No layers given to randomize (layers: []).', `Leave layers out to randomize every layer with weights, output first, or name some: ${[...known].slice(0, 5).join(', ')}${known.size > 5 ? ', ...' : ''}.`);
  if (layers.length === 0) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" has no Conv/Gemm/MatMul layers with constant weights to randomize.`, 'The sanity check needs Conv, Gemm or MatMul layers with constant weights; leave it out for this model (CLI: drop --sanity).');
  const rand = normalSource(seedOf(options.seed, 'The sanity-check seed'));
  const { onProgress, original: given, ...rest } = options;
  const report = (done: number, phase: string): void => onProgress?.({ done, total: layers.length + 1, phase });
  if (!given) report(0, 'sanity: trained model');
  const original = given ?? (await explain(model, x, { ...rest, methods: requested }));
  const methods = original.attributions.map((a) => a.method); // those that apply to the model
  const targets = Array.from(original.targets);
  const graph = model.graph.clone();
  const steps: SanityStep[] = [];
  for (const [k, layer] of layers.entries()) {
    throwIfCancelled(options.signal, 'the sanity check');
    report(k + 1, `sanity: randomized down to ${layer}`);
    randomizeLayer(graph, layer, rand);
    const randomized = new Model(graph.clone(), model.engine, `${model.name} (randomized down to ${layer})`);
    const e = await explain(randomized, x, { ...rest, methods, target: targets });
    const scores: Record<string, SanityScores> = {};
    const maps: Record<string, Tensor> = {};
    e.attributions.forEach((a, i) => {
      scores[a.method] = compareMaps(original.attributions[i]!.map, a.map);
      maps[a.method] = a.map;
    });
    steps.push({ layer, scores, maps });
  }
  report(layers.length + 1, 'sanity: done');
  return { methods, layers, original, steps };
}

/** Mean over images of one score. */
export function meanScore(values: number[]): number {
  const ok = values.filter((v) => Number.isFinite(v));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
}
