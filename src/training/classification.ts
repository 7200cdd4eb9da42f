import { fillBatch, pixelTable, sampleSize, selectSamples, stratifiedSplit, type ImageDataset } from '../data/dataset.js';
import { ConvLensError } from '../engine/errors.js';
import type { Graph, ValueInfo } from '../engine/graph/ir.js';
import type { Engine } from '../engine/runtime/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { throwIfCancelled, type JobOptions } from '../engine/jobs.js';
import { writeMetadata, type Preprocessing } from '../models/metadata.js';
import { resumableCheckpoint, resumableRun, type Checkpoint } from './checkpoint.js';
import { type OptimizerConfig } from './optimizers.js';
import { describeSchedule, type ScheduleConfig } from './schedules.js';
import { buildForwardGraph, buildTrainingGraph } from './step.js';
import { optimizerSettings } from './divergence.js';
import { fit, Trainer, type EpochRecord, type FitOptions } from './trainer.js';

/** Everything that defines a classifier training run (stored in checkpoints and in the model's metadata). */
export interface ClassifierConfig {
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: OptimizerConfig;
  lr: number;
  schedule: ScheduleConfig;
  warmupSteps: number;
  /** fraction of the training set held out (stratified, seeded) for validation; 0 = none */
  validationFraction: number;
  clipNorm?: number;
  /** random horizontal flips of training images (label-preserving for clothing) */
  augmentFlip?: boolean;
  /** batch size for evaluation */
  evalBatch?: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** mean softmax cross-entropy */
  loss: number;
  correct: number;
  total: number;
  /** confusion[true * K + predicted] */
  confusion: Int32Array;
  perClass: { label: string; accuracy: number; correct: number; total: number }[];
  /** images whose outputs were NaN or infinite: counted in the totals as wrong, in no confusion cell nor the loss */
  unscored: number;
}

/** Runs a classifier over a dataset in batches and tallies accuracy, loss and the confusion matrix. */
export async function evaluateClassifier(
  logitsOf: (x: Tensor) => Promise<Tensor>,
  ds: ImageDataset,
  prep: Preprocessing,
  labels: readonly string[],
  options: JobOptions & { batchSize?: number } = {},
): Promise<ClassificationMetrics> {
  const K = labels.length;
  const batch = options.batchSize ?? 256;
  const per = sampleSize(ds);
  const tables = Array.from({ length: ds.channels }, (_, c) => pixelTable(prep, c));
  const buf = new Float32Array(batch * per);
  const confusion = new Int32Array(K * K);
  const unscored = new Int32Array(K);
  let lossSum = 0;
  const idx = new Int32Array(batch);
  for (let start = 0; start < ds.count; start += batch) {
    throwIfCancelled(options.signal, 'the evaluation');
    const n = Math.min(batch, ds.count - start);
    for (let i = 0; i < n; i++) idx[i] = start + i;
    const sel = idx.subarray(0, n);
    fillBatch(ds, sel, tables, buf);
    const logits = await logitsOf({ dtype: 'float32', dims: [n, ds.channels, ds.height, ds.width], data: buf.subarray(0, n * per) });
    const classes = logits.data.length / n;
    if (classes !== K) throw new ConvLensError('MODEL_UNSUPPORTED', `The model outputs ${classes} classes; the dataset has ${K}.`, 'Evaluate a model trained on this dataset.');
    const data = logits.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const row = i * K;
      let best = 0;
      let max = -Infinity;
      let finite = true;
      for (let k = 0; k < K; k++) {
        const v = data[row + k]!;
        if (v - v !== 0) finite = false; // NaN for NaN and for ±Infinity
        if (v > max) (max = v), (best = k);
      }
      const y = ds.labels[start + i]!;
      if (!finite) {
        unscored[y]!++;
        continue;
      }
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(data[row + k]! - max);
      lossSum += Math.log(s) + max - data[row + y]!;
      confusion[y * K + best]!++;
    }
    options.onProgress?.({ done: start + n, total: ds.count, phase: 'evaluating' });
  }
  let unscoredCount = 0;
  for (const u of unscored) unscoredCount += u;
  return summarizeConfusion(confusion, labels, unscoredCount === ds.count ? NaN : lossSum / Math.max(1, ds.count - unscoredCount), unscored);
}

/** Accuracy overall and per class from a confusion matrix, with `unscored[y]` images of class y that had no valid prediction. */
export function summarizeConfusion(confusion: Int32Array, labels: readonly string[], loss = NaN, unscored?: Int32Array): ClassificationMetrics {
  const K = labels.length;
  let correct = 0;
  let total = 0;
  let unscoredCount = 0;
  const perClass = labels.map((label, y) => {
    let t = unscored?.[y] ?? 0;
    unscoredCount += t;
    for (let k = 0; k < K; k++) t += confusion[y * K + k]!;
    const c = confusion[y * K + y]!;
    correct += c;
    total += t;
    return { label, accuracy: t ? c / t : NaN, correct: c, total: t };
  });
  return { accuracy: total ? correct / total : NaN, loss, correct, total, confusion, perClass, unscored: unscoredCount };
}

export interface ClassifierRunInfo {
  /** the model being trained (structure and initial weights) */
  model: Graph;
  labels: string[];
  preprocessing: Preprocessing;
  config: ClassifierConfig;
  /** free-form description of the data and the run, stored with the model (dataset source, command) */
  provenance?: Record<string, unknown>;
}

export interface ClassifierResult {
  /** the trained model with its metadata (labels, preprocessing, training configuration, metrics) */
  model: Graph;
  history: EpochRecord[];
  metrics: Record<string, number>;
  /** test-set metrics, when a test set was given */
  test?: ClassificationMetrics;
  completed: boolean;
}

/**
 * The stratified train/validation split a run trains on (each class rounded on its own, so a small
 * set can hold out none); refused when it would leave nothing to train on.
 */
export function validationSplit(ds: ImageDataset, classes: number, config: Pick<ClassifierConfig, 'validationFraction' | 'seed'>): { train: Int32Array; validation?: Int32Array } {
  if (!(config.validationFraction > 0)) return { train: Int32Array.from({ length: ds.count }, (_, i) => i) };
  const { first, second } = stratifiedSplit(ds.labels, classes, config.validationFraction, config.seed);
  if (first.length === 0) {
    throw new ConvLensError('INVALID_ARGUMENT', `Holding out ${config.validationFraction} of each class for validation leaves none of the ${ds.count} images to train on.`, 'Use a smaller validation fraction (--val) or more images (--limit).');
  }
  return { train: first, validation: second };
}

/** The images a classifier is trained on: their geometry and number of classes, and what they are called in messages. */
export interface TrainingImages {
  channels: number;
  height: number;
  width: number;
  classes: number;
  name: string;
}

const channelWords = (c: number): string => (c === 1 ? 'gray' : c === 3 ? 'RGB' : `${c}-channel`);
const imageWords = (c: number, h: number | string | undefined, w: number | string | undefined): string =>
  typeof h === 'number' && typeof w === 'number' ? `${h}x${w} ${channelWords(c)} images` : `${channelWords(c)} images of any size`;

/**
 * Refuses, before any work, a model that cannot be trained on `images`: it must take one image batch
 * [N, C, H, W] of their channels and size (or of any size) and give [N, K] logits for their classes.
 * Returns its input.
 * A mismatch used to surface after the run had started, as a shape dump or an ONNX Runtime error.
 */
export function checkTrainable(model: Graph, modelName: string, images: TrainingImages): ValueInfo {
  const inputs = model.realInputs();
  const input = inputs[0];
  const wayOut = `Train a model made for ${imageWords(images.channels, images.height, images.width)} with ${images.classes} outputs, such as the built-in fashion-cnn or a fresh course CNN (CLI: --model fashion-cnn, or leave out --model).`;
  if (!input || inputs.length !== 1) throw new ConvLensError('MODEL_UNSUPPORTED', `The model "${modelName}" has ${inputs.length} inputs; a classifier to train takes exactly one, the image batch [N, C, H, W].`, wayOut);
  const shape = input.shape ?? [];
  const [, c, h, w] = shape;
  if (shape.length !== 4 || typeof c !== 'number') {
    throw new ConvLensError('MODEL_UNSUPPORTED', `The model "${modelName}" takes input "${input.name}" of shape [${shape.join(', ')}], not an image batch [N, C, H, W].`, wayOut);
  }
  if (c !== images.channels || (typeof h === 'number' && h !== images.height) || (typeof w === 'number' && w !== images.width)) {
    throw new ConvLensError(
      'SHAPE_MISMATCH',
      `The model "${modelName}" takes ${imageWords(c, h, w)} (input [${shape.join(', ')}]); ${images.name} holds ${imageWords(images.channels, images.height, images.width)}, so it cannot be trained on them.`,
      `${wayOut} Resizing or recolouring the images for training is not supported.`,
    );
  }
  const output = model.outputs[0]?.shape;
  const k = output?.[output.length - 1];
  if (output && (output.length !== 2 || (typeof k === 'number' && k !== images.classes))) {
    throw new ConvLensError(
      'SHAPE_MISMATCH',
      `The model "${modelName}" gives output [${output.join(', ')}]; training on ${images.name} needs ${images.classes} class scores per image, [N, ${images.classes}].`,
      `${wayOut} To reuse its layers, export it with a new last layer of ${images.classes} outputs.`,
    );
  }
  return input;
}

/**
 * Trains an image classifier (any graph with one NCHW input and a logits output [N, K]) with
 * softmax cross-entropy on `train`, holding out a stratified validation split, optionally
 * evaluating `test` at the end. Returns the trained model as a self-describing graph.
 */
export async function trainClassifier(
  engine: Engine,
  run: ClassifierRunInfo,
  data: { train: ImageDataset; test?: ImageDataset },
  options: Omit<FitOptions, 'validate' | 'resume'> & { resume?: Checkpoint; log?: (line: string) => void } = {},
): Promise<ClassifierResult> {
  const { model, labels, preprocessing: prep, config } = run;
  const K = labels.length;
  const ds = data.train;
  const input = checkTrainable(model, model.name, { ...ds, classes: K, name: ds.source });
  // A model that takes any image size is trained, and written, at the images' size: the gradients
  // of its convolutions need static sizes.
  if (typeof input.shape![2] !== 'number' || typeof input.shape![3] !== 'number') input.shape = [input.shape![0]!, ds.channels, ds.height, ds.width];

  const split = validationSplit(ds, K, config);
  if (split.validation && split.validation.length === 0) {
    options.log?.(`note: holding out ${config.validationFraction} of each class leaves no validation images among ${ds.count}; training without validation (more images, or --val 0 to say so)`);
  }
  const train = split.validation ? selectSamples(ds, split.train) : ds;
  const val = split.validation?.length ? selectSamples(ds, split.validation) : undefined;

  const training = buildTrainingGraph(model, { loss: 'cross-entropy' });
  const trainer = new Trainer(engine, training, model.initializers, {
    optimizer: config.optimizer,
    ...(config.clipNorm ? { clipNorm: config.clipNorm } : {}),
    divergence: { settings: optimizerSettings(config.optimizer, config.lr), also: `add warmup (--warmup)${config.clipNorm ? '' : ' or gradient clipping (--clip-norm)'}, and check the data normalization` },
  });
  const logitsName = training.prediction;
  const inputName = input.name;

  // Batch buffers reused for every step.
  const per = sampleSize(train);
  const tables = Array.from({ length: train.channels }, (_, c) => pixelTable(prep, c));
  const xBuf = new Float32Array(config.batchSize * per);
  const yBuf = new Float32Array(config.batchSize * K);
  const flipRow = new Float32Array(train.width);
  const fitData = {
    size: train.count,
    batch(indices: Int32Array, step: number): Record<string, Tensor> {
      const n = indices.length;
      fillBatch(train, indices, tables, xBuf, { data: yBuf, classes: K });
      if (config.augmentFlip) flipHalf(xBuf, n, train, config.seed, step, flipRow);
      return {
        [inputName]: { dtype: 'float32', dims: [n, train.channels, train.height, train.width], data: xBuf.subarray(0, n * per) },
        [training.targets]: { dtype: 'float32', dims: [n, K], data: yBuf.subarray(0, n * K) },
      };
    },
    score(out: Record<string, Tensor>, indices: Int32Array): Record<string, number> {
      const logits = out[logitsName]!.data as Float32Array;
      let correct = 0;
      for (let i = 0; i < indices.length; i++) if (argmax(logits, i * K, K) === train.labels[indices[i]!]) correct++;
      return { accuracy: correct };
    },
  };

  // Evaluation graph: forward with parameters and buffers as inputs, compiled once.
  const fed = [...trainer.params.keys(), ...trainer.buffers.keys()];
  const forward = await engine.compileOnce(buildForwardGraph(model, fed, [logitsName]));
  const logitsOf = async (x: Tensor): Promise<Tensor> => {
    const feeds: Record<string, Tensor> = { [inputName]: x };
    for (const [n, t] of trainer.state()) feeds[n] = t;
    return (await forward.run(feeds))[logitsName]!;
  };
  const evalBatch = config.evalBatch ?? 256;
  const withoutProgress: JobOptions = options.signal ? { signal: options.signal } : {};

  try {
    const result = await fit(
      trainer,
      fitData,
      { epochs: config.epochs, batchSize: config.batchSize, seed: config.seed, lr: config.lr, schedule: config.schedule, warmupSteps: config.warmupSteps },
      {
        ...options,
        ...(options.checkpoint ? { checkpoint: resumableCheckpoint(options.checkpoint, model, () => ({ meta: { classifier: { labels, preprocessing: prep, config, provenance: run.provenance ?? {} } } })) } : {}),
        ...(val
          ? {
              validate: async () => {
                const m = await evaluateClassifier(logitsOf, val, prep, labels, { ...withoutProgress, batchSize: evalBatch });
                return { loss: m.loss, accuracy: m.accuracy };
              },
            }
          : {}),
      },
    );
    const last = result.history[result.history.length - 1];
    const metrics: Record<string, number> = {};
    if (last) {
      metrics.train_loss = round(last.loss);
      if (last.metrics.accuracy !== undefined) metrics.train_accuracy = round(last.metrics.accuracy);
      if (last.validation) {
        metrics.val_loss = round(last.validation.loss!);
        metrics.val_accuracy = round(last.validation.accuracy!);
      }
    }
    let test: ClassificationMetrics | undefined;
    if (data.test && result.completed) {
      options.log?.(`evaluating on ${data.test.count} test images`);
      test = await evaluateClassifier(logitsOf, data.test, prep, labels, { ...withoutProgress, batchSize: evalBatch });
      metrics.test_loss = round(test.loss);
      metrics.test_accuracy = round(test.accuracy);
    }
    const trained = exportTrained(model, trainer);
    writeMetadata(trained, {
      labels,
      preprocessing: prep,
      training: {
        ...Object.fromEntries(Object.entries(run.provenance ?? {}).filter(([k]) => k !== 'out')),
        data: ds.source,
        trainSamples: train.count,
        validationSamples: val?.count ?? 0,
        epochs: config.epochs,
        batchSize: config.batchSize,
        seed: config.seed,
        optimizer: config.optimizer,
        lr: config.lr,
        schedule: describeSchedule(config.schedule),
        warmupSteps: config.warmupSteps,
        validationFraction: config.validationFraction,
        ...(config.clipNorm ? { clipNorm: config.clipNorm } : {}),
        augmentFlip: !!config.augmentFlip,
        steps: result.steps,
        seconds: Math.round(result.seconds),
        history: result.history.map((h) => ({ epoch: h.epoch, loss: round(h.loss), accuracy: round(h.metrics.accuracy ?? NaN), ...(h.validation ? { val_loss: round(h.validation.loss!), val_accuracy: round(h.validation.accuracy!) } : {}), lr: h.lr })),
      },
      metrics,
    });
    return { model: trained, history: result.history, metrics, ...(test ? { test } : {}), completed: result.completed };
  } finally {
    await forward.release();
    await trainer.dispose();
  }
}

/** The model graph with the trainer's current parameters and buffers as its initializers. */
export function exportTrained(model: Graph, trainer: Trainer): Graph {
  const g = model.clone();
  for (const [n, t] of trainer.state()) g.initializers.set(n, { dtype: 'float32', dims: [...t.dims], data: Float32Array.from(t.data as Float32Array) });
  return g;
}

/** What trainClassifier stored in a checkpoint: the run to resume. */
export function classifierRunFromCheckpoint(c: Checkpoint, source: string): ClassifierRunInfo {
  const { model, run } = resumableRun<{ labels: string[]; preprocessing: Preprocessing; config: ClassifierConfig; provenance?: Record<string, unknown> }>(c, 'classifier', source, 'convlens train');
  const { labels, preprocessing, config, provenance } = run;
  return { model, labels, preprocessing, config, ...(provenance ? { provenance } : {}) };
}

function argmax(a: Float32Array, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[offset + j]! > a[offset + best]!) best = j;
  return best;
}

const round = (v: number): number => Math.round(v * 1e5) / 1e5;

/** Mirrors about half the images of a batch left-right; which ones depends only on (seed, step), so resumes replay it. */
function flipHalf(x: Float32Array, n: number, ds: ImageDataset, seed: number, step: number, row: Float32Array): void {
  let a = (Math.imul(seed >>> 0, 0x27d4eb2d) ^ Math.imul(step + 1, 0x165667b1)) >>> 0;
  const w = ds.width;
  const per = ds.channels * ds.height * w;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    if (a & 0x10000) continue;
    for (let r = 0; r < ds.channels * ds.height; r++) {
      const o = i * per + r * w;
      row.set(x.subarray(o, o + w));
      for (let c = 0; c < w; c++) x[o + c] = row[w - 1 - c]!;
    }
  }
}
