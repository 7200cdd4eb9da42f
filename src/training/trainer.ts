import { ConvLensError } from '../engine/errors.js';
import type { CompiledGraph, Engine } from '../engine/runtime/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { JobOptions } from '../engine/jobs.js';
import { seededRandom } from '../models/init.js';
import { saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { clipGradientNorm, createOptimizer, type Optimizer, type OptimizerConfig } from './optimizers.js';
import { describeSchedule, learningRate, type ScheduleConfig } from './schedules.js';
import { divergenceHint, type DivergenceSetting } from './divergence.js';
import type { TrainingGraph } from './step.js';

/**
 * The generic training core: a compiled training graph (loss + gradients, see buildTrainingGraph),
 * parameters and buffers held as Float32Arrays in host memory, an optimizer updating them in
 * place, and `fit`, the epoch loop with seeded shuffling, learning-rate schedule, progress,
 * cancellation and resumable checkpoints. What a batch is (images and one-hot labels, images and
 * noise, content and style) is the caller's: `FitData.batch` returns the feeds for a list of
 * sample indices. Classification (classification.ts) is one use.
 */
export interface TrainerOptions {
  optimizer: OptimizerConfig;
  /** which parameters weight decay applies to (default: rank >= 2, i.e. not biases) */
  decay?: (name: string, dims: readonly number[]) => boolean;
  /** clip the global gradient norm to this before each update */
  clipNorm?: number;
  /**
   * What the hint names when the loss or the parameters stop being finite: the settings that can
   * blow training up, as the caller's user sets them, and the general advice that ends the hint.
   */
  divergence?: { settings: readonly DivergenceSetting[]; also?: string };
}

export class Trainer {
  /** current parameter values, updated in place by every step */
  readonly params = new Map<string, Float32Array>();
  /** current buffer values (BatchNorm running statistics), replaced by the graph's outputs every step */
  readonly buffers = new Map<string, Float32Array>();
  readonly dims = new Map<string, readonly number[]>();
  readonly optimizer: Optimizer;
  private session: CompiledGraph | undefined;
  private readonly gradNames: Map<string, string>;
  /** parameters and buffers that start finite: a model may hold an infinite constant (a mask) on purpose */
  private readonly watched = new Set<string>();

  /**
   * `initial` holds the starting values of every parameter and buffer (the model's initializers);
   * they are copied, so the caller's graph is never modified.
   */
  constructor(
    readonly engine: Engine,
    readonly training: TrainingGraph,
    initial: ReadonlyMap<string, Tensor>,
    readonly options: TrainerOptions,
  ) {
    const take = (name: string, into: Map<string, Float32Array>): void => {
      const t = initial.get(name);
      if (!t) throw new ConvLensError('INVALID_ARGUMENT', `No initial value for "${name}".`, 'Give an initial value for every parameter and buffer of the training graph.');
      if (t.dtype !== 'float32') throw new ConvLensError('MODEL_UNSUPPORTED', `"${name}" is ${t.dtype}; training supports float32 parameters only.`, 'Convert the model to float32 before training.');
      into.set(name, Float32Array.from(t.data as Float32Array));
      this.dims.set(name, [...t.dims]);
    };
    for (const p of training.parameters) take(p, this.params);
    for (const b of Object.keys(training.buffers)) take(b, this.buffers);
    for (const [name, v] of [...this.params, ...this.buffers]) if (v.every(Number.isFinite)) this.watched.add(name);
    this.gradNames = new Map(training.parameters.map((p) => [p, training.gradientOutputs[p]!]));
    this.optimizer = createOptimizer(options.optimizer, new Map(training.parameters.map((p) => [p, this.dims.get(p)!])), options.decay);
  }

  /** The current value of a parameter or buffer as a tensor (shares the trainer's array). */
  tensor(name: string): Tensor {
    const data = this.params.get(name) ?? this.buffers.get(name);
    if (!data) throw new ConvLensError('UNKNOWN_NAME', `No parameter or buffer named "${name}".`, 'Use a name from trainer.params or trainer.buffers.');
    return { dtype: 'float32', dims: this.dims.get(name)!, data };
  }

  /** Every parameter and buffer as tensors (for feeding an evaluation graph or exporting the model). */
  state(): Map<string, Tensor> {
    return new Map([...this.params.keys(), ...this.buffers.keys()].map((n) => [n, this.tensor(n)]));
  }

  private async compiled(): Promise<CompiledGraph> {
    this.session ??= await this.engine.compileOnce(this.training.graph);
    return this.session;
  }

  /**
   * One optimization step on a batch: runs the graph with `data` (the data inputs: model input,
   * targets, ...), applies the optimizer with learning rate `lr`, stores the new buffer values.
   * Returns every graph output (loss, prediction, gradients, ...).
   */
  async step(data: Record<string, Tensor>, lr: number): Promise<Record<string, Tensor>> {
    const session = await this.compiled();
    const feeds: Record<string, Tensor> = { ...data };
    for (const n of this.params.keys()) feeds[n] = this.tensor(n);
    for (const n of this.buffers.keys()) feeds[n] = this.tensor(n);
    const out = await session.run(feeds);
    const loss = (out[this.training.loss]!.data as Float32Array)[0]!;
    const step = this.optimizer.state.step + 1;
    if (!Number.isFinite(loss)) throw this.diverged(`The loss became ${loss} at step ${step}.`);
    const grads = new Map<string, Float32Array>();
    for (const [p, g] of this.gradNames) grads.set(p, out[g]!.data as Float32Array);
    if (this.options.clipNorm) clipGradientNorm(grads, this.options.clipNorm);
    this.optimizer.update(this.params, grads, lr);
    for (const [input, output] of Object.entries(this.training.buffers)) this.buffers.get(input)!.set(out[output]!.data as Float32Array);
    // The loss above is of the weights before this update: without this check the last step's
    // blow-up reached the saved model and checkpoint unseen.
    const bad = nonFinite(this.params, this.watched) ?? nonFinite(this.buffers, this.watched);
    if (bad) throw this.diverged(`Training diverged at step ${step}: its update made "${bad.name}" ${bad.value}.`);
    return out;
  }

  private diverged(message: string): ConvLensError {
    const d = this.options.divergence;
    const hint = d
      ? divergenceHint(d.settings, d.also)
      : 'Lower the learning rate, the weight decay or the momentum, add warmup or gradient clipping, and check the data normalization.';
    return new ConvLensError('RUNTIME_FAILURE', message, hint);
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}

function nonFinite(values: ReadonlyMap<string, Float32Array>, watched: ReadonlySet<string>): { name: string; value: number } | undefined {
  for (const [name, v] of values) {
    if (!watched.has(name)) continue;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return { name, value: v[i]! };
  }
  return undefined;
}

// ------------------------------------------------------------------------------------ fit

export interface FitData {
  /** number of training samples */
  size: number;
  /**
   * The data feeds for one batch. `step` is the global step, for randomness (augmentation,
   * noise) that must replay identically after a resume: derive it from (seed, step).
   */
  batch(indices: Int32Array, step: number): Record<string, Tensor>;
  /** per-batch sums of training metrics from the step outputs (e.g. { accuracy: correct count }); epoch value = sum / samples */
  score?(outputs: Record<string, Tensor>, indices: Int32Array): Record<string, number>;
}

export interface FitConfig {
  epochs: number;
  batchSize: number;
  /** seeds the per-epoch shuffling */
  seed: number;
  shuffle?: boolean;
  /** skip the last partial batch of each epoch */
  dropLast?: boolean;
  lr: number;
  schedule?: ScheduleConfig;
  warmupSteps?: number;
}

export interface EpochRecord {
  /** 1-based */
  epoch: number;
  loss: number;
  /** training metrics (epoch means) */
  metrics: Record<string, number>;
  /** validation metrics, when FitOptions.validate is given */
  validation?: Record<string, number>;
  /** learning rate at the last step of the epoch */
  lr: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface FitCheckpointOptions {
  path: string;
  /** also write every this many steps (besides at every epoch end and on cancellation) */
  everySteps?: number;
  /** caller payload stored with the training state (configuration, the model's structure) */
  extra?: () => { meta?: Record<string, unknown>; tensors?: Map<string, Tensor> };
}

export interface FitOptions extends JobOptions {
  checkpoint?: FitCheckpointOptions;
  /** continue from this checkpoint (written by fit with the same data size, batch size and seed) */
  resume?: Checkpoint;
  /** run after every epoch with the current weights */
  validate?: (trainer: Trainer, epoch: number) => Promise<Record<string, number>>;
  onEpoch?: (record: EpochRecord) => void;
  /** called once before the first step with where training starts (a resumed run: not at 0) */
  onStart?: (start: { step: number; epoch: number; batchInEpoch: number; totalSteps: number; resumed: boolean }) => void;
  /** stop (with a checkpoint, as on cancellation) once the global step reaches this; for tests and time-boxed runs */
  stopAtStep?: number;
}

export interface FitResult {
  history: EpochRecord[];
  steps: number;
  /** training time including earlier (resumed) sessions */
  seconds: number;
  /** false when stopped early by stopAtStep */
  completed: boolean;
}

/** Running sums of the epoch in progress (saved in checkpoints, so a resumed epoch reports the same means). */
interface EpochSums {
  loss: number;
  samples: number;
  metrics: Record<string, number>;
  seconds: number;
}

interface FitProgress {
  step: number;
  epoch: number;
  batchInEpoch: number;
  sums: EpochSums;
  history: EpochRecord[];
  seconds: number;
}

/** Meta of a fit checkpoint, under meta.fit. */
interface FitMeta extends FitProgress {
  size: number;
  batchSize: number;
  seed: number;
  shuffle: boolean;
  dropLast: boolean;
  epochs: number;
  lr: number;
  schedule: string;
  optimizer: OptimizerConfig;
  optimizerStep: number;
}

/** The sample order of an epoch: a seeded permutation, a pure function of (size, seed, epoch). */
export function epochOrder(size: number, seed: number, epoch: number, shuffle = true): Int32Array {
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  if (!shuffle) return order;
  const rand = seededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export const stepsPerEpoch = (size: number, batchSize: number, dropLast = false): number => (dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize));

const newSums = (): EpochSums => ({ loss: 0, samples: 0, metrics: {}, seconds: 0 });

/**
 * Trains for `config.epochs` epochs. The state after every step is consistent, so a checkpoint
 * can be written between any two steps; a resumed run replays the same batches in the same order
 * from the saved step with the saved parameters, optimizer moments and buffers, and so computes
 * what the uninterrupted run would have. On cancellation (JobOptions.signal) it writes a
 * checkpoint and throws CANCELLED.
 */
export async function fit(trainer: Trainer, data: FitData, config: FitConfig, options: FitOptions = {}): Promise<FitResult> {
  const shuffle = config.shuffle ?? true;
  const dropLast = config.dropLast ?? false;
  const perEpoch = stepsPerEpoch(data.size, config.batchSize, dropLast);
  if (perEpoch < 1) throw new ConvLensError('INVALID_ARGUMENT', `${data.size} samples do not fill one batch of ${config.batchSize}.`, 'Use a smaller --batch or more data.');
  const totalSteps = perEpoch * config.epochs;
  const lrAt = (step: number): number =>
    learningRate({ schedule: config.schedule ?? { type: 'constant' }, baseLr: config.lr, stepsPerEpoch: perEpoch, totalSteps, warmupSteps: config.warmupSteps ?? 0 }, step);

  let p: FitProgress = { step: 0, epoch: 0, batchInEpoch: 0, sums: newSums(), history: [], seconds: 0 };
  if (options.resume) p = restore(trainer, options.resume, { size: data.size, batchSize: config.batchSize, seed: config.seed, shuffle, dropLast });
  options.onStart?.({ step: p.step, epoch: p.epoch, batchInEpoch: p.batchInEpoch, totalSteps, resumed: !!options.resume });

  const checkpoint = (): void => {
    if (!options.checkpoint) return;
    const c = snapshot(trainer, p, { size: data.size, batchSize: config.batchSize, seed: config.seed, shuffle, dropLast, epochs: config.epochs, lr: config.lr, schedule: describeSchedule(config.schedule ?? { type: 'constant' }) });
    const extra = options.checkpoint.extra?.();
    if (extra?.meta) c.meta.extra = extra.meta;
    for (const [k, t] of extra?.tensors ?? []) c.tensors.set(`extra/${k}`, t);
    saveCheckpoint(options.checkpoint.path, c);
  };
  const stop = (why: 'cancelled' | 'stopped'): ConvLensError | undefined => {
    checkpoint();
    if (why === 'stopped') return undefined;
    const where = `step ${p.step} of ${totalSteps} (epoch ${p.epoch + 1}/${config.epochs}, batch ${p.batchInEpoch}/${perEpoch})`;
    return new ConvLensError(
      'CANCELLED',
      `Training stopped at ${where}.`,
      options.checkpoint ? `Checkpoint saved to ${options.checkpoint.path}; continue with --resume ${options.checkpoint.path}.` : 'No checkpoint was configured, so progress was not saved.',
    );
  };

  // samples/s over the last steps (a window, so it follows the current speed)
  const window: { t: number; n: number }[] = [];
  let last = performance.now();
  let completed = true;

  while (p.epoch < config.epochs) {
    const order = epochOrder(data.size, config.seed, p.epoch, shuffle);
    while (p.batchInEpoch < perEpoch) {
      if (options.signal?.aborted) throw stop('cancelled')!;
      if (options.stopAtStep !== undefined && p.step >= options.stopAtStep) {
        stop('stopped');
        completed = false;
        return { history: p.history, steps: p.step, seconds: p.seconds, completed };
      }
      const indices = order.subarray(p.batchInEpoch * config.batchSize, Math.min(data.size, (p.batchInEpoch + 1) * config.batchSize));
      const lr = lrAt(p.step);
      const out = await trainer.step(data.batch(indices, p.step), lr);
      const loss = (out[trainer.training.loss]!.data as Float32Array)[0]!;
      const n = indices.length;
      p.sums.loss += loss * n;
      p.sums.samples += n;
      for (const [k, v] of Object.entries(data.score?.(out, indices) ?? {})) p.sums.metrics[k] = (p.sums.metrics[k] ?? 0) + v;
      p.step++;
      p.batchInEpoch++;
      const now = performance.now();
      const dt = (now - last) / 1000;
      last = now;
      p.sums.seconds += dt;
      p.seconds += dt;
      window.push({ t: dt, n });
      if (window.length > 20) window.shift();
      if (options.onProgress) {
        const wt = window.reduce((a, w) => a + w.t, 0);
        const wn = window.reduce((a, w) => a + w.n, 0);
        const metrics: Record<string, number> = { loss: p.sums.loss / p.sums.samples };
        for (const [k, v] of Object.entries(p.sums.metrics)) metrics[k] = v / p.sums.samples;
        metrics['samples/s'] = wt > 0 ? wn / wt : 0;
        options.onProgress({ done: p.step, total: totalSteps, phase: `epoch ${p.epoch + 1}/${config.epochs}`, metrics });
      }
      if (options.checkpoint?.everySteps && p.step % options.checkpoint.everySteps === 0 && p.batchInEpoch < perEpoch) checkpoint();
    }
    // Close the epoch: validation, history, checkpoint.
    if (options.signal?.aborted) throw stop('cancelled')!;
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(p.sums.metrics)) metrics[k] = v / p.sums.samples;
    const record: EpochRecord = {
      epoch: p.epoch + 1,
      loss: p.sums.loss / p.sums.samples,
      metrics,
      lr: lrAt(p.step - 1),
      seconds: p.sums.seconds,
      samplesPerSecond: p.sums.seconds > 0 ? p.sums.samples / p.sums.seconds : 0,
    };
    if (options.validate) {
      const t0 = performance.now();
      record.validation = await options.validate(trainer, p.epoch + 1);
      const dt = (performance.now() - t0) / 1000;
      p.seconds += dt;
      last = performance.now();
    }
    p.history.push(record);
    p.epoch++;
    p.batchInEpoch = 0;
    p.sums = newSums();
    options.onEpoch?.(record);
    checkpoint();
  }
  return { history: p.history, steps: p.step, seconds: p.seconds, completed };
}

function snapshot(trainer: Trainer, p: FitProgress, fixed: Omit<FitMeta, keyof FitProgress | 'optimizer' | 'optimizerStep'>): Checkpoint {
  const tensors = new Map<string, Tensor>();
  for (const [n, v] of trainer.params) tensors.set(`param/${n}`, { dtype: 'float32', dims: trainer.dims.get(n)!, data: v });
  for (const [n, v] of trainer.buffers) tensors.set(`buffer/${n}`, { dtype: 'float32', dims: trainer.dims.get(n)!, data: v });
  for (const [n, v] of trainer.optimizer.state.slots) tensors.set(`optim/${n}`, { dtype: 'float32', dims: [v.length], data: v });
  const fitMeta: FitMeta = { ...fixed, ...structuredClone(p), optimizer: trainer.optimizer.config, optimizerStep: trainer.optimizer.state.step };
  return { meta: { fit: fitMeta }, tensors };
}

function restore(trainer: Trainer, c: Checkpoint, want: { size: number; batchSize: number; seed: number; shuffle: boolean; dropLast: boolean }): FitProgress {
  const m = c.meta.fit as FitMeta | undefined;
  if (!m) throw new ConvLensError('INPUT_UNREADABLE', 'The checkpoint holds no training progress.', 'Pass a checkpoint written by `convlens train`.');
  for (const k of ['size', 'batchSize', 'seed', 'shuffle', 'dropLast'] as const) {
    if (m[k] !== want[k]) {
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `Cannot resume: the checkpoint was written with ${k} = ${m[k]}, this run has ${want[k]}.`,
        'The batch order depends on the data size, batch size and seed; resume with the same data and settings.',
      );
    }
  }
  if (m.optimizer.type !== trainer.optimizer.config.type) {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot resume: the checkpoint used the ${m.optimizer.type} optimizer, this run ${trainer.optimizer.config.type}.`, `Resume with the ${m.optimizer.type} optimizer, or start a new run without resuming.`);
  }
  const load = (prefix: string, into: Map<string, Float32Array>): void => {
    for (const [n, v] of into) {
      const t = c.tensors.get(`${prefix}/${n}`);
      if (!t || t.data.length !== v.length) {
        throw new ConvLensError('INVALID_ARGUMENT', `Cannot resume: the checkpoint has no ${prefix} "${n}" of ${v.length} values.`, 'Resume with the checkpoint of this model.');
      }
      v.set(t.data as Float32Array);
    }
  };
  load('param', trainer.params);
  load('buffer', trainer.buffers);
  const slots = new Map<string, Float32Array>();
  for (const [k, t] of c.tensors) if (k.startsWith('optim/')) slots.set(k.slice('optim/'.length), t.data as Float32Array);
  trainer.optimizer.load({ step: m.optimizerStep, slots });
  return { step: m.step, epoch: m.epoch, batchInEpoch: m.batchInEpoch, sums: m.sums, history: m.history, seconds: m.seconds };
}

/** The training progress stored in a checkpoint (for messages: "resuming at step 1,200 of 9,400"). */
export function checkpointProgress(c: Checkpoint): { step: number; epoch: number; batchInEpoch: number; epochs: number; history: EpochRecord[] } | undefined {
  const m = c.meta.fit as FitMeta | undefined;
  return m ? { step: m.step, epoch: m.epoch, batchInEpoch: m.batchInEpoch, epochs: m.epochs, history: m.history } : undefined;
}
