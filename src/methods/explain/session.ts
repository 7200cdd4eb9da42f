// Compiled sessions shared by every attribution method: one per (model, score, rule set, wrt,
// outputs), built once and reused across calls and batches; and the batching loop with
// progress reports and cancellation between batches.
import { buildGradientGraph, type GradientGraph } from '../../engine/autodiff/gradient.js';
import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { RuleSetName } from '../../engine/ops/registry.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { throwIfCancelled, type JobOptions } from '../jobs.js';
import { sliceBatch } from './arrays.js';
import { oneHot, targetScores, type ScoreKind } from './target.js';

/** Name of the softmax value appended for probability scores. */
const PROB = 'convlens_explain_probability';

const graphs = new WeakMap<Model, Map<string, GradientGraph>>();

export interface ScoreGradientRequest {
  score: ScoreKind;
  /** values to differentiate with respect to (the input, a layer) */
  wrt: readonly string[];
  /** forward values to return too (layer activations) */
  outputs?: readonly string[];
  ruleSet?: RuleSetName;
}

/**
 * d score[target] / d wrt for a batch in ONE ONNX Runtime run: the score is the logit (seeded
 * with a one-hot upstream gradient on the logits) or the softmax probability (a Softmax is
 * appended to the graph and seeded the same way).
 */
export async function scoreGradients(model: Model, x: Tensor, targets: Int32Array, req: ScoreGradientRequest): Promise<{ gradients: Record<string, Tensor>; values: Record<string, Tensor> }> {
  model.checkInput(x);
  const ruleSet = req.ruleSet ?? 'standard';
  const { graph: base, sizeKey } = model.staticGraph(x.dims); // backward passes need static sizes
  const key = `${model.id}|explain|${req.score}|${ruleSet}|wrt=${req.wrt.join(',')}|out=${(req.outputs ?? []).join(',')}${sizeKey}`;
  let cache = graphs.get(model);
  if (!cache) graphs.set(model, (cache = new Map()));
  let meta = cache.get(key);
  if (!meta) {
    const wrt = [...new Set(req.wrt)];
    let forward = base;
    let seed = model.output;
    if (req.score === 'prob') {
      forward = base.clone();
      const b = GraphBuilder.over(forward, { strict: false });
      seed = b.op('Softmax', [model.output], { axis: -1 }, { outputs: [PROB] });
      b.build();
    }
    meta = buildGradientGraph(forward, { seed: { upstream: [seed] }, wrt, outputs: req.outputs ?? [], ruleSet });
    cache.set(key, meta);
  }
  const graph = meta.graph;
  const compiled = await model.engine.compile(key, () => graph);
  const classes = classCount(model);
  const seedName = req.score === 'prob' ? PROB : model.output;
  const fetch = [...req.wrt.map((w) => meta.gradientOutputs[w]!), ...(req.outputs ?? [])];
  const out = await compiled.run({ [model.input.name]: x, [meta.seedInputs[seedName]!]: oneHot(targets, classes) }, fetch);
  const gradients: Record<string, Tensor> = {};
  for (const w of req.wrt) gradients[w] = out[meta.gradientOutputs[w]!]!;
  const values: Record<string, Tensor> = {};
  for (const o of req.outputs ?? []) values[o] = out[o]!;
  return { gradients, values };
}

export function classCount(model: Model): number {
  const shape = model.facts(model.output).shape;
  const k = shape?.[shape.length - 1];
  if (typeof k !== 'number') throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" output "${model.output}" has no static class dimension.`);
  return k;
}

/** Forward scores of each row's target (logit or probability), in one run. */
export async function forwardScores(model: Model, x: Tensor, targets: Int32Array, score: ScoreKind): Promise<Float64Array> {
  const out = await model.run(x);
  return targetScores(out[model.output]!, targets, score);
}

/** Default samples per engine run: ~2.4M input values per batch, 1..64 samples. */
export function defaultBatchSize(model: Model): number {
  const { channels, size } = model.profile.input; // a model of any size: at its preprocessing size
  const per = channels * size[0] * size[1];
  return Math.max(1, Math.min(64, 2 ** Math.round(Math.log2(2_400_000 / per))));
}

/** Progress and cancellation for one method's work, counted in engine runs. */
export class Work {
  private done = 0;
  constructor(
    private readonly job: JobOptions,
    readonly phase: string,
    private total: number,
  ) {}

  /** Call before each engine run: throws CANCELLED when aborted. */
  check(): void {
    throwIfCancelled(this.job.signal, this.phase);
  }

  step(units = 1): void {
    this.done += units;
    this.job.onProgress?.({ done: Math.min(this.done, this.total), total: this.total, phase: this.phase });
  }

  grow(units: number): void {
    this.total += units;
  }
}

/**
 * Runs `fn` over [start, end) chunks of `count` items, `size` at a time, checking for
 * cancellation before each chunk and reporting progress after it.
 */
export async function forChunks(count: number, size: number, work: Work | undefined, fn: (start: number, end: number) => Promise<void>): Promise<void> {
  for (let s = 0; s < count; s += size) {
    work?.check();
    await fn(s, Math.min(count, s + size));
    work?.step();
  }
}

/** Gradients for a whole batch, `size` images per run, concatenated. */
export async function batchedScoreGradients(model: Model, x: Tensor, targets: Int32Array, req: ScoreGradientRequest, size: number, work?: Work): Promise<{ gradients: Record<string, Tensor>; values: Record<string, Tensor> }> {
  const n = x.dims[0]!;
  if (n <= size) {
    work?.check();
    const r = await scoreGradients(model, x, targets, req);
    work?.step();
    return r;
  }
  const parts: { gradients: Record<string, Tensor>; values: Record<string, Tensor> }[] = [];
  await forChunks(n, size, work, async (s, e) => {
    parts.push(await scoreGradients(model, sliceBatch(x, s, e), targets.subarray(s, e), req));
  });
  const join = (pick: (p: (typeof parts)[number]) => Record<string, Tensor>): Record<string, Tensor> => {
    const out: Record<string, Tensor> = {};
    for (const k of Object.keys(pick(parts[0]!))) out[k] = concatBatch(parts.map((p) => pick(p)[k]!));
    return out;
  };
  return { gradients: join((p) => p.gradients), values: join((p) => p.values) };
}

/** Concatenates float32 tensors along the batch axis. */
export function concatBatch(ts: readonly Tensor[]): Tensor {
  const total = ts.reduce((a, t) => a + t.data.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const t of ts) {
    data.set(t.data as Float32Array, o);
    o += t.data.length;
  }
  return { dtype: 'float32', dims: [ts.reduce((a, t) => a + t.dims[0]!, 0), ...ts[0]!.dims.slice(1)], data };
}

/** Batches of model inputs assembled in place, scored forward in one run each. */
export async function scoreInputs(model: Model, count: number, size: number, fill: (index: number, into: Float32Array) => void, targetOf: (index: number) => number, score: ScoreKind, work?: Work): Promise<Float64Array> {
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
    const scores = await forwardScores(model, { dtype: 'float32', dims: [e - s, c, h, w], data }, targets, score);
    out.set(scores, s);
  });
  return out;
}
