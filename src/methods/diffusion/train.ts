import { fillBatch, pixelTable, sampleSize, type ImageDataset } from '../../data/dataset.js';
import { ConvLensError } from '../../engine/errors.js';
import type { Graph } from '../../engine/graph/ir.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Preprocessing } from '../../models/metadata.js';
import { writeMetadata } from '../../models/metadata.js';
import { UNET_IO, type UNetOptions } from '../../models/zoo/unet.js';
import { resumableCheckpoint, resumableRun, type Checkpoint } from '../../training/checkpoint.js';
import { meanSquaredError } from '../../training/losses.js';
import type { OptimizerConfig } from '../../training/optimizers.js';
import { describeSchedule, type ScheduleConfig as LrScheduleConfig } from '../../training/schedules.js';
import { buildTrainingGraph } from '../../training/step.js';
import { optimizerSettings } from '../../training/divergence.js';
import { fit, Trainer, type EpochRecord, type FitOptions } from '../../training/trainer.js';
import { writeDiffusionMetadata, type DiffusionMetadata } from './model.js';
import { Generator, mixSeed } from './random.js';
import { addNoise, makeSchedule, type ScheduleConfig } from './schedule.js';

/**
 * Training a class-conditional noise predictor (DDPM's "simple" objective): for a batch of
 * images x_0 with labels y, draw t ~ U{0..T-1} and eps ~ N(0, I) per image, form
 * x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps (the closed form), replace y by the "no
 * condition" class with probability `uncondProb` (so one network learns both the conditional and
 * the unconditional model, for classifier-free guidance), and minimize ||eps - f(x_t, t, y)||^2.
 * All randomness of a step is drawn from (seed, step), so a resumed run replays the same batches.
 * An exponential moving average of the weights (the usual DDPM practice) is what gets exported.
 */
export interface DenoiserConfig {
  arch: UNetOptions;
  schedule: ScheduleConfig;
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: OptimizerConfig;
  lr: number;
  lrSchedule: LrScheduleConfig;
  warmupSteps: number;
  clipNorm?: number;
  /** probability of training a sample without its condition (default 0.1) */
  uncondProb: number;
  /** EMA decay of the exported weights (0 = export the raw weights) */
  ema: number;
}

export interface DenoiserRunInfo {
  model: Graph;
  labels: string[];
  config: DenoiserConfig;
  provenance?: Record<string, unknown>;
}

export interface DenoiserResult {
  model: Graph;
  history: EpochRecord[];
  steps: number;
  seconds: number;
  completed: boolean;
}

/** Pixels 0..255 -> [-1, 1], the range the denoiser works in. */
export const DIFFUSION_PREPROCESSING: Preprocessing = { size: [28, 28], channels: 'gray', range: [-1, 1], mean: [0], std: [1], resize: 'stretch' };

export async function trainDenoiser(
  engine: Engine,
  run: DenoiserRunInfo,
  ds: ImageDataset,
  options: Omit<FitOptions, 'validate' | 'resume'> & { resume?: Checkpoint; log?: (line: string) => void } = {},
): Promise<DenoiserResult> {
  const { model, config, labels } = run;
  const K = labels.length;
  const schedule = makeSchedule(config.schedule);
  const sample = model.inputs.find((i) => i.name === UNET_IO.sample);
  const shape = sample?.shape ?? [];
  if (!sample || shape[1] !== ds.channels || shape[2] !== ds.height || shape[3] !== ds.width) {
    throw new ConvLensError('SHAPE_MISMATCH', `The denoiser's "${UNET_IO.sample}" input has shape [${shape.join(', ')}]; the data is [N, ${ds.channels}, ${ds.height}, ${ds.width}].`, `Train on images of the denoiser's size (its "${UNET_IO.sample}" input), or build a denoiser for this data's channels and size.`);
  }
  const training = buildTrainingGraph(model, {
    loss: (b, prediction) => meanSquaredError(b, prediction, b.input('noise', 'float32', [...b.shapeOf(prediction)])),
  });
  const trainer = new Trainer(engine, training, model.initializers, {
    optimizer: config.optimizer,
    ...(config.clipNorm ? { clipNorm: config.clipNorm } : {}),
    divergence: { settings: optimizerSettings(config.optimizer, config.lr), also: `add warmup (--warmup)${config.clipNorm ? '' : ' or gradient clipping (--clip-norm)'}` },
  });

  // EMA of the parameters (checkpointed with the run, so a resume continues it exactly).
  const ema = new Map<string, Float32Array>();
  for (const [n, v] of trainer.params) ema.set(n, Float32Array.from(v));
  let emaUpdates = 0;
  if (options.resume) {
    for (const [n, v] of ema) {
      const t = options.resume.tensors.get(`extra/ema/${n}`);
      if (t && t.data.length === v.length) v.set(t.data as Float32Array);
    }
    emaUpdates = ((options.resume.meta.extra as { emaUpdates?: number } | undefined)?.emaUpdates ?? 0) as number;
  }
  /** Folds the parameters after `k` optimizer updates into the average (warmup: decay (1 + k) / (10 + k)). */
  const updateEma = (k: number): void => {
    if (config.ema <= 0 || k <= emaUpdates) return;
    const d = Math.min(config.ema, (1 + k) / (10 + k));
    for (const [n, p] of trainer.params) {
      const e = ema.get(n)!;
      for (let i = 0; i < p.length; i++) e[i] = d * e[i]! + (1 - d) * p[i]!;
    }
    emaUpdates = k;
  };

  const per = sampleSize(ds);
  const table = pixelTable(DIFFUSION_PREPROCESSING);
  const x0 = new Float32Array(config.batchSize * per);
  const xt = new Float32Array(config.batchSize * per);
  const eps = new Float32Array(config.batchSize * per);
  const ts = new Float32Array(config.batchSize);
  const tInt = new Int32Array(config.batchSize);
  const cls = new BigInt64Array(config.batchSize);
  const fitData = {
    size: ds.count,
    batch(indices: Int32Array, step: number): Record<string, Tensor> {
      updateEma(step);
      const n = indices.length;
      fillBatch(ds, indices, [table], x0);
      const gen = new Generator(mixSeed(config.seed, step));
      for (let i = 0; i < n; i++) {
        tInt[i] = gen.int(schedule.steps);
        ts[i] = tInt[i]!;
        cls[i] = BigInt(gen.uniform() < config.uncondProb ? K : ds.labels[indices[i]!]!);
      }
      gen.randn(n * per, eps);
      addNoise(schedule, x0.subarray(0, n * per), tInt.subarray(0, n), eps.subarray(0, n * per), xt);
      return {
        [UNET_IO.sample]: { dtype: 'float32', dims: [n, ds.channels, ds.height, ds.width], data: xt.subarray(0, n * per) },
        [UNET_IO.timestep]: { dtype: 'float32', dims: [n], data: ts.subarray(0, n) },
        [UNET_IO.classLabels]: { dtype: 'int64', dims: [n], data: cls.subarray(0, n) },
        noise: { dtype: 'float32', dims: [n, ds.channels, ds.height, ds.width], data: eps.subarray(0, n * per) },
      };
    },
  };

  try {
    const result = await fit(
      trainer,
      fitData,
      { epochs: config.epochs, batchSize: config.batchSize, seed: config.seed, lr: config.lr, schedule: config.lrSchedule, warmupSteps: config.warmupSteps },
      {
        ...options,
        ...(options.checkpoint
          ? {
              checkpoint: resumableCheckpoint(options.checkpoint, model, () => ({
                meta: { denoiser: { labels, config, provenance: run.provenance ?? {} }, emaUpdates },
                tensors: [...ema].map(([n, v]): [string, Tensor] => [`ema/${n}`, { dtype: 'float32', dims: [...trainer.dims.get(n)!], data: v }]),
              })),
            }
          : {}),
      },
    );
    if (result.completed) updateEma(trainer.optimizer.state.step);
    const trained = model.clone();
    for (const [n, t] of trainer.state()) {
      const data = config.ema > 0 && ema.has(n) ? ema.get(n)! : (t.data as Float32Array);
      trained.initializers.set(n, { dtype: 'float32', dims: [...t.dims], data: Float32Array.from(data) });
    }
    const meta: DiffusionMetadata = {
      kind: 'class-conditional-unet',
      schedule: schedule.config,
      predictionType: 'epsilon',
      sampleRange: [-1, 1],
      labels,
      nullClass: K,
      io: UNET_IO,
    };
    writeDiffusionMetadata(trained, meta);
    const round = (v: number): number => Math.round(v * 1e5) / 1e5;
    writeMetadata(trained, {
      labels,
      preprocessing: DIFFUSION_PREPROCESSING,
      training: {
        ...Object.fromEntries(Object.entries(run.provenance ?? {}).filter(([k]) => k !== 'out')),
        data: ds.source,
        trainSamples: ds.count,
        arch: config.arch,
        schedule: schedule.config,
        epochs: config.epochs,
        batchSize: config.batchSize,
        seed: config.seed,
        optimizer: config.optimizer,
        lr: config.lr,
        lrSchedule: describeSchedule(config.lrSchedule),
        warmupSteps: config.warmupSteps,
        ...(config.clipNorm ? { clipNorm: config.clipNorm } : {}),
        uncondProb: config.uncondProb,
        ema: config.ema,
        steps: result.steps,
        seconds: Math.round(result.seconds),
        history: result.history.map((h) => ({ epoch: h.epoch, loss: round(h.loss), lr: h.lr, seconds: Math.round(h.seconds) })),
      },
    });
    return { model: trained, history: result.history, steps: result.steps, seconds: result.seconds, completed: result.completed };
  } finally {
    await trainer.dispose();
  }
}

/** What trainDenoiser stored in a checkpoint: the run to resume. */
export function denoiserRunFromCheckpoint(c: Checkpoint, source: string): DenoiserRunInfo {
  const { model, run } = resumableRun<{ labels: string[]; config: DenoiserConfig; provenance?: Record<string, unknown> }>(c, 'denoiser', source, 'convlens diffuse train');
  const { labels, config, provenance } = run;
  return { model, labels, config, ...(provenance ? { provenance } : {}) };
}
