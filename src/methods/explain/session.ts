// Compiled sessions shared by every attribution method: one per (model, score, rule set, wrt,
// outputs), built once and reused across calls and batches; and the batching loop with
// progress reports and cancellation between batches.
import { buildGradientGraph, type GradientGraph } from '../../engine/autodiff/gradient.js';
import { ConvLensError } from '../../engine/errors.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { Graph } from '../../engine/graph/ir.js';
import { findOp, requireOp, ruleSetKey, type RuleSetName, type RuleSetSpec } from '../../engine/ops/registry.js';
import { allocate, type Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { batchView } from './arrays.js';
import { targetScores, type ScoreKind } from './target.js';

/** Names of the values appended to the model for the score (prefixed so they never clash). */
const PROB = 'convlens_explain_probability';
const TARGET = 'convlens_explain_target';
const TOTAL = 'convlens_explain_score';
const CHOSEN = 'convlens_explain_chosen_target';

const graphs = new WeakMap<Model, Map<string, GradientGraph>>();

export interface ScoreGradientRequest {
  score: ScoreKind;
  /** values to differentiate with respect to (the input, a layer) */
  wrt: readonly string[];
  /** forward values to return too (layer activations) */
  outputs?: readonly string[];
  ruleSet?: RuleSetSpec;
  /**
   * Each gradient comes back rewritten in the graph (saliency's max |g| over channels), so only
   * what the method reads leaves ONNX Runtime.
   */
  reduce?: GradientTransform;
}

/** A rewrite of the gradient outputs inside the graph. */
export interface GradientTransform {
  /** identifies the rewrite in the graph cache */
  key: string;
  /** the value returned instead of `gradient` (d score / d `wrt`) */
  apply(b: GraphBuilder, wrt: string, gradient: string): string;
}

/** max |g| over axis 1 (channels, kept as size 1): saliency's default map. */
export const ABS_MAX_OVER_CHANNELS: GradientTransform = {
  key: 'abs-max-over-channels',
  apply: (b, _wrt, g) => b.op('ReduceMax', [b.op('Abs', [g])], { axes: [1], keepdims: 1 }),
};

export interface ScoreGradients {
  gradients: Record<string, Tensor>;
  values: Record<string, Tensor>;
  /** the model's classifier output for the batch, from the same run */
  logits: Tensor;
  /** the class each row's score was taken from (PREDICTED entries resolved) */
  targets: Int32Array;
}

/**
 * The model with its score appended: the sum over rows of score[row, target[row]], where the
 * target is an int64 input [N, 1] and a negative entry picks the row's ArgMax. Seeding that sum
 * gives every row the one-hot upstream gradient of its own target, and a row explained for its
 * predicted class needs no forward pass before the gradient run: the same run picks the class
 * and differentiates it (ArgMax, Equal and Where carry no gradient).
 */
function scoredGraph(model: Model, base: Graph, score: ScoreKind): Graph {
  const forward = base.clone();
  const b = GraphBuilder.over(forward, { strict: false });
  const classes = classCount(model);
  const target = b.input(TARGET, 'int64', [model.input.shape![0]!, 1]);
  const top = b.op('ArgMax', [model.output], { axis: -1, keepdims: 1 });
  const chosen = b.op('Where', [b.op('Less', [target, b.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(0n) }, 'zero')]), top, target], {}, { outputs: [CHOSEN] });
  const columns = b.constant({ dtype: 'int64', dims: [1, classes], data: BigInt64Array.from({ length: classes }, (_, k) => BigInt(k)) }, 'classes');
  const mask = b.op('Cast', [b.op('Equal', [columns, chosen])], { to: 1 });
  // a multi-label head's outputs are independent: each one's probability is its own sigmoid
  const probability = (): string => (model.outputKind === 'multi-label' ? b.op('Sigmoid', [model.output], {}, { outputs: [PROB] }) : b.op('Softmax', [model.output], { axis: -1 }, { outputs: [PROB] }));
  const scores = score === 'prob' ? probability() : model.output;
  b.op('ReduceSum', [b.op('Mul', [scores, mask]), b.ints([0, 1])], { keepdims: 1 }, { outputs: [TOTAL] });
  b.build();
  return forward;
}

/** The gradient graph with each gradient output rewritten by `t`. */
function transformed(meta: GradientGraph, t: GradientTransform): GradientGraph {
  const b = GraphBuilder.over(meta.graph, { strict: false });
  const whole = new Set(Object.values(meta.gradientOutputs));
  meta.graph.outputs = meta.graph.outputs.filter((o) => !whole.has(o.name));
  const gradientOutputs: Record<string, string> = {};
  for (const [w, g] of Object.entries(meta.gradientOutputs)) {
    gradientOutputs[w] = b.op('Identity', [t.apply(b, w, g)], {}, { outputs: [`${g}_${t.key.replace(/\W+/g, '_')}`] });
    b.output(gradientOutputs[w]);
  }
  return { ...meta, graph: b.build(), gradientOutputs };
}

/**
 * d score[target] / d wrt for a batch in ONE ONNX Runtime run, with the logits of the same run.
 * The score is the logit or the softmax probability; targets[i] = PREDICTED explains row i's
 * top class. `into`: preallocated tensors for (some of) the results, of their exact shapes; the
 * results are written there (batchedScoreGradients fills one array across runs this way).
 */
export async function scoreGradients(model: Model, x: Tensor, targets: Int32Array, req: ScoreGradientRequest, into?: Partial<Omit<ScoreGradients, 'targets'>>): Promise<ScoreGradients> {
  model.checkInput(x);
  if (targets.length !== x.dims[0]) throw new ConvLensError('INVALID_ARGUMENT', `${targets.length} targets given for ${x.dims[0]} inputs.`, `Pass ${x.dims[0]} targets, one per input.`);
  const ruleSet = req.ruleSet ?? 'standard';
  const { graph: base, sizeKey } = model.staticGraph(x.dims); // backward passes need static sizes
  const key = `${model.id}|explain|${req.score}|${ruleSetKey(ruleSet)}|wrt=${req.wrt.join(',')}|out=${(req.outputs ?? []).join(',')}${req.reduce ? `|reduce=${req.reduce.key}` : ''}${sizeKey}`;
  let cache = graphs.get(model);
  if (!cache) graphs.set(model, (cache = new Map()));
  let meta = cache.get(key);
  if (!meta) {
    const outputs = [...new Set([...(req.outputs ?? []), model.output, CHOSEN])];
    meta = buildGradientGraph(scoredGraph(model, base, req.score), { seed: { scalar: TOTAL }, wrt: [...new Set(req.wrt)], outputs, ruleSet });
    if (req.reduce) meta = transformed(meta, req.reduce);
    cache.set(key, meta);
  }
  const graph = meta.graph;
  const compiled = await model.engine.compile(key, () => graph);
  const fetch = [...new Set([...req.wrt.map((w) => meta.gradientOutputs[w]!), ...(req.outputs ?? []), model.output, CHOSEN])];
  const targetTensor: Tensor = { dtype: 'int64', dims: [targets.length, 1], data: BigInt64Array.from(targets, (t) => BigInt(t)) };
  let targetsInto: Record<string, Tensor> | undefined;
  if (into) {
    targetsInto = {};
    for (const [w, t] of Object.entries(into.gradients ?? {})) targetsInto[meta.gradientOutputs[w]!] = t;
    for (const [o, t] of Object.entries(into.values ?? {})) targetsInto[o] = t;
    if (into.logits) targetsInto[model.output] = into.logits;
  }
  const out = await compiled.run({ [model.input.name]: x, [TARGET]: targetTensor }, fetch, targetsInto);
  const gradients: Record<string, Tensor> = {};
  for (const w of req.wrt) gradients[w] = out[meta.gradientOutputs[w]!]!;
  const values: Record<string, Tensor> = {};
  for (const o of req.outputs ?? []) values[o] = out[o]!;
  const chosen = out[CHOSEN]!.data as BigInt64Array;
  return { gradients, values, logits: out[model.output]!, targets: Int32Array.from(chosen, Number) };
}

export function classCount(model: Model): number {
  const shape = model.facts(model.output).shape;
  const k = shape?.[shape.length - 1];
  if (typeof k !== 'number') {
    // An op without a shape rule stops inference: name it (a quantized model says so) rather than the symptom.
    for (const node of model.graph.nodes) if (node.domain || !findOp(node.op)) requireOp(node, 'shape');
  }
  if (typeof k !== 'number') throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" output "${model.output}" has no static class dimension.`, 'Use a model whose output is [N, classes] with a fixed class count, or re-export it with static output shapes.');
  return k;
}

/** Forward scores of each row's target (logit or probability), `size` rows per run. */
export async function forwardScores(model: Model, x: Tensor, targets: Int32Array, score: ScoreKind, size: number): Promise<Float64Array> {
  const out = await batchedForward(model, x, [], size);
  return targetScores(out[model.output]!, targets, score, model.outputKind);
}

/**
 * Input values per engine run by default, by the kind of run. A gradient run keeps every
 * activation of its forward half for the backward half, and the first run of a session touches
 * all that memory fresh: on ResNet-18 at 224, 64 saliency maps took 2.7 s of runs at 4 images per
 * run against 3.3 s at 16, at the same per-image cost from the second run on (docs/speed.md).
 * Forward-only runs (occlusion, Score-CAM) keep little and were as fast or faster at 16.
 */
export const BATCH_INPUT_VALUES = { forward: 2_400_000, gradient: 600_000 } as const;

/** Default samples per engine run of this kind: a power of two, 1..64, by the input's size. */
export function defaultBatchSize(model: Model, run: keyof typeof BATCH_INPUT_VALUES): number {
  const fixed = model.input.shape?.[0];
  if (typeof fixed === 'number') return fixed; // a graph whose batch axis could not be freed
  const { channels, size } = model.profile.input; // a model of any size: at its preprocessing size
  const per = channels * size[0] * size[1];
  return Math.max(1, Math.min(64, 2 ** Math.round(Math.log2(BATCH_INPUT_VALUES[run] / per))));
}

/**
 * The samples per run a caller asked for (explain's and the metrics' `batchSize`), or the
 * model's default for the run kind. Checked here because a size below 1 never advances a
 * chunk loop: the process would spin at full CPU where no abort can reach it.
 */
export function batchSizeOption(model: Model, requested: number | undefined, run: keyof typeof BATCH_INPUT_VALUES): number {
  if (requested === undefined) return defaultBatchSize(model, run);
  if (!Number.isInteger(requested) || requested < 1) throw new ConvLensError('INVALID_ARGUMENT', `Batch size must be a positive integer, got ${requested}.`, 'Use a batch size of 1 or more (CLI: --batch-size), or leave it out for the default.');
  return requested;
}

/** Progress and cancellation for one method's work, counted in engine runs. */
export class Work {
  private done = 0;
  private lastYield = performance.now();
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

  /**
   * Call between slow synchronous steps inside one run's preparation (ROAD imputes each input
   * by a linear solve, ~0.15 s at 224x224): an abort fired from a timer or a request only
   * arrives when the event loop turns, so without this a batch of them ran seconds past it.
   */
  async pause(): Promise<void> {
    if (performance.now() - this.lastYield < PAUSE_INTERVAL_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.lastYield = performance.now();
    this.check();
  }
}

/** How long synchronous preparation may run before Work.pause lets events in. */
const PAUSE_INTERVAL_MS = 50;

/**
 * Runs `fn` over [start, end) chunks of `count` items, `size` at a time, checking for
 * cancellation before each chunk and reporting progress after it.
 */
export async function forChunks(count: number, size: number, work: Work | undefined, fn: (start: number, end: number) => Promise<void>): Promise<void> {
  // A caller that forgot batchSizeOption would otherwise loop forever on chunk [0, 0).
  if (!(size >= 1)) throw new ConvLensError('INVALID_ARGUMENT', `Batch size must be a positive integer, got ${size}.`, 'Use a batch size of 1 or more (CLI: --batch-size), or leave it out for the default.');
  for (let s = 0; s < count; s += size) {
    work?.check();
    await fn(s, Math.min(count, s + size));
    work?.step();
  }
}

/**
 * `array` if it holds `length` values, else a new array that does. Chunk loops ask for their
 * largest run first, so a buffer grows at most once and keeps its rows between runs.
 */
export function atLeast(array: Float32Array | undefined, length: number): Float32Array {
  return array && array.length >= length ? array : new Float32Array(length);
}

/**
 * One input array and one set of result arrays for a loop of runs,
 * handed out as views of the rows a run needs: a loop that allocated them per run touched ~5 MB
 * of fresh memory per ResNet-18 run of 4 images, ~15% of the run on a machine where fresh pages
 * are dear (docs/speed.md). A run's views are valid until the next run asks for them.
 * The arrays hold the rows runs ask for, not a batch size's worth: a batch size far above the
 * work (batchSize 1e9 for 4 samples) must not allocate rows that never run.
 */
export class RunBuffers {
  private readonly per: number;
  private inputs?: Float32Array;
  private gradients?: Float32Array;
  private logits?: Float32Array;

  /** `sample`: one input's dims, [C, H, W] (a model that takes any size runs at the batch's own) */
  constructor(
    private readonly model: Model,
    private readonly sample: readonly number[],
  ) {
    this.per = sample.reduce((a, d) => a * d, 1);
  }

  /** The first `rows` rows of the input array (contents left from the last run). */
  input(rows: number): Float32Array {
    this.inputs = atLeast(this.inputs, rows * this.per);
    return this.inputs.subarray(0, rows * this.per);
  }

  /** Result arrays for a run of `rows` rows that asks for the input's gradient and the logits. */
  inputGradient(rows: number): Partial<Omit<ScoreGradients, 'targets'>> {
    this.gradients = atLeast(this.gradients, rows * this.per);
    const into: Partial<Omit<ScoreGradients, 'targets'>> = {
      gradients: { [this.model.input.name]: { dtype: 'float32', dims: [rows, ...this.sample], data: this.gradients.subarray(0, rows * this.per) } },
    };
    // logits of another shape than [rows, classes] come back as ORT allocates them
    if (this.model.facts(this.model.output).shape?.length === 2) {
      const k = classCount(this.model);
      this.logits = atLeast(this.logits, rows * k);
      into.logits = { dtype: 'float32', dims: [rows, k], data: this.logits.subarray(0, rows * k) };
    }
    return into;
  }
}

/**
 * Gradients for a whole batch, `size` images per run, in one array per output: the first run
 * gives each output's size per image, and later runs write into their rows of the result (no
 * per-run arrays to keep and join: 38 MB of fresh memory fewer for 64 saliency maps at 224).
 */
export async function batchedScoreGradients(model: Model, x: Tensor, targets: Int32Array, req: ScoreGradientRequest, size: number, work?: Work): Promise<ScoreGradients> {
  const n = x.dims[0]!;
  if (n <= size) {
    work?.check();
    const r = await scoreGradients(model, x, targets, req);
    work?.step();
    return r;
  }
  let all: ScoreGradients | undefined;
  await forChunks(n, size, work, async (s, e) => {
    if (!all) {
      const first = await scoreGradients(model, batchView(x, s, e), targets.subarray(s, e), req);
      const whole = (t: Tensor): Tensor => {
        const per = t.data.length / (e - s);
        const data = allocate(t.dtype, n * per);
        (data as Float32Array).set(t.data as Float32Array);
        return { dtype: t.dtype, dims: [n, ...t.dims.slice(1)], data };
      };
      const map = (r: Record<string, Tensor>): Record<string, Tensor> => Object.fromEntries(Object.entries(r).map(([k, t]) => [k, whole(t)]));
      const chosen = new Int32Array(n);
      chosen.set(first.targets);
      all = { gradients: map(first.gradients), values: map(first.values), logits: whole(first.logits), targets: chosen };
      return;
    }
    const done = all;
    const into = { gradients: {} as Record<string, Tensor>, values: {} as Record<string, Tensor>, logits: batchView(done.logits, s, e) };
    for (const [k, t] of Object.entries(done.gradients)) into.gradients[k] = batchView(t, s, e);
    for (const [k, t] of Object.entries(done.values)) into.values[k] = batchView(t, s, e);
    const r = await scoreGradients(model, batchView(x, s, e), targets.subarray(s, e), req, into);
    done.targets.set(r.targets, s);
  });
  return all!;
}

/**
 * A forward pass over the batch, `size` images per run: the model's output and the `fetch`ed
 * values (as Model.run names them), each in one array. One run over everything would hold every
 * activation of every image at once.
 */
export async function batchedForward(model: Model, x: Tensor, fetch: readonly string[], size: number, work?: Work): Promise<Record<string, Tensor>> {
  const n = x.dims[0]!;
  if (n <= size) {
    work?.check();
    const r = await model.run(x, fetch);
    work?.step();
    return r;
  }
  const all: Record<string, Tensor> = {};
  await forChunks(n, size, work, async (s, e) => {
    for (const [k, t] of Object.entries(await model.run(batchView(x, s, e), fetch))) {
      const per = t.data.length / (e - s);
      all[k] ??= { dtype: t.dtype, dims: [n, ...t.dims.slice(1)], data: allocate(t.dtype, n * per) };
      (all[k].data as Float32Array).set(t.data as Float32Array, s * per);
    }
  });
  return all;
}

/**
 * One batched gradient pass over the explained images, shared by every method that needs it
 * (gradient, saliency and input x gradient share the input gradient; the CAMs share a layer's).
 */
export interface GradientPass {
  /** memo key of its result */
  key: string;
  /** progress phase */
  phase: string;
  request: ScoreGradientRequest;
}

export function inputGradientPass(model: Model, score: ScoreKind, ruleSet: RuleSetName = 'standard'): GradientPass {
  return { key: `input-gradient|${ruleSet}`, phase: ruleSet === 'standard' ? 'gradient' : ruleSet, request: { score, wrt: [model.input.name], ruleSet } };
}

/** max |d score / d input| over channels, reduced in the graph (saliency's default map). */
export function inputSaliencyPass(model: Model, score: ScoreKind): GradientPass {
  return { key: 'input-gradient|standard|abs-max', phase: 'gradient', request: { score, wrt: [model.input.name], reduce: ABS_MAX_OVER_CHANNELS } };
}

export function layerGradientPass(score: ScoreKind, layer: string): GradientPass {
  return { key: `layer-gradient|${layer}`, phase: `gradient at ${layer}`, request: { score, wrt: [layer], outputs: [layer] } };
}

/** Runs a pass over the batch `x`, `size` images per engine run, with progress and cancellation. */
export function runPass(model: Model, x: Tensor, targets: Int32Array, pass: GradientPass, size: number, job: JobOptions): Promise<ScoreGradients> {
  const work = new Work(job, pass.phase, Math.ceil(x.dims[0]! / size));
  return batchedScoreGradients(model, x, targets, pass.request, size, work);
}

/**
 * Batches of model inputs assembled in place, scored forward in one run each. `sample`: one
 * input's [C, H, W] (the batch's own: a model that takes any size is scored at that size).
 * `fill` writes every value of `into`: one array serves every batch (a fresh one per batch of
 * 16 at 224 is 9.6 MB of new pages, ~6% of Score-CAM's time on ResNet-18 here).
 */
export async function scoreInputs(model: Model, sample: readonly number[], count: number, size: number, fill: (index: number, into: Float32Array) => void, targetOf: (index: number) => number, score: ScoreKind, work?: Work): Promise<Float64Array> {
  const [c, h, w] = sample as [number, number, number];
  const per = c * h * w;
  const out = new Float64Array(count);
  const batch = new Float32Array(Math.min(size, count) * per);
  await forChunks(count, size, work, async (s, e) => {
    const data = batch.subarray(0, (e - s) * per);
    const targets = new Int32Array(e - s);
    for (let i = s; i < e; i++) {
      fill(i, data.subarray((i - s) * per, (i - s + 1) * per));
      targets[i - s] = targetOf(i);
      await work?.pause();
    }
    const scores = await forwardScores(model, { dtype: 'float32', dims: [e - s, c, h, w], data }, targets, score, e - s);
    out.set(scores, s);
  });
  return out;
}
