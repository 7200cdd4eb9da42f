import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ensureWritableFile } from '../../io/files.js';
import { acquireLockFile, commandLine, describeWriter } from '../../io/writer-lock.js';
import { ConvLensError } from '../../engine/errors.js';
import { selectSamples, stratifiedSubset, type ImageDataset } from '../../data/dataset.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../../data/fashion-mnist.js';
import type { Graph } from '../../engine/graph/ir.js';
import { loadCheckpoint, type Checkpoint } from '../../training/checkpoint.js';
import { checkpointProgress, type EpochRecord, type FitOptions } from '../../training/trainer.js';
import type { CliJob } from './common.js';
import { onlyWith, type OptionRule } from './option-rules.js';

/**
 * What `convlens train` and `convlens diffuse train` share: starting a run or resuming one from
 * its checkpoint (whose settings win over the command line, except an explicit --out, --epochs or
 * --checkpoint), the Fashion-MNIST training set (optionally a stratified subset), and where
 * checkpoints go.
 */
export interface TrainingRunOptions {
  data?: string;
  out: string;
  epochs: number;
  limit?: number;
  checkpoint?: string | false;
  checkpointEvery: number;
  resume?: string;
  quiet?: boolean;
}

interface RunInfo {
  model: Graph;
  config: { epochs: number; seed: number };
  provenance?: Record<string, unknown>;
}

export interface PreparedTraining<R extends RunInfo> {
  run: R;
  resume?: Checkpoint;
  out: string;
  dataDir?: string;
  train: ImageDataset;
  checkpointPath?: string;
  log: (line: string) => void;
}

export interface RunFactory<R extends RunInfo> {
  /** A new run; `provenance` is what the model's metadata records about how it was made. */
  fresh(provenance: Record<string, unknown>): R;
  fromCheckpoint(checkpoint: Checkpoint, what: string): R;
}

/** "convlens diffuse train" for the diffuse train command: the command as the user types it. */
function commandName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function prepareTrainingRun<R extends RunInfo>(opts: TrainingRunOptions, cmd: Command, factory: RunFactory<R>, description: string): PreparedTraining<R> {
  const log = (line: string): void => {
    if (!opts.quiet) process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`);
  };
  const explicit = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  let run: R;
  let resume: Checkpoint | undefined;
  let dataDir = opts.data;
  let out = opts.out;
  let limit = opts.limit;
  if (opts.resume) {
    resume = loadCheckpoint(opts.resume, commandName(cmd));
    run = factory.fromCheckpoint(resume, `checkpoint "${opts.resume}"`);
    const prov = run.provenance ?? {};
    if (dataDir === undefined && typeof prov.dataDir === 'string') dataDir = prov.dataDir;
    if (!explicit('out') && typeof prov.out === 'string') out = prov.out;
    if (explicit('epochs')) run.config = { ...run.config, epochs: opts.epochs };
    // The subset is part of the run: resuming on other data would silently change the experiment.
    limit = typeof prov.limit === 'number' ? prov.limit : undefined;
    const p = checkpointProgress(resume)!;
    // A finished run's checkpoint sits at the epoch after its last ("epoch 4/3" read as a bug).
    if (p.epoch >= run.config.epochs) log(`resuming from ${opts.resume}: its run is complete (${run.config.epochs} of ${run.config.epochs} epochs, step ${p.step}); nothing is left to train. Give --epochs with more than ${run.config.epochs} to train further.`);
    else log(`resuming from ${opts.resume}: step ${p.step}, epoch ${p.epoch + 1}/${run.config.epochs}, batch ${p.batchInEpoch}`);
  } else {
    run = factory.fresh({
      description,
      command: ['convlens', ...process.argv.slice(2)].join(' '),
      dataset: 'Fashion-MNIST',
      ...(dataDir !== undefined ? { dataDir: resolve(dataDir) } : {}),
      out: resolve(out),
      ...(limit ? { limit } : {}),
    });
  }
  const full = loadFashionMnist('train', dataDir);
  const subset = limit && limit < full.count ? stratifiedSubset(full.labels, FASHION_MNIST_CLASSES, Math.max(1, Math.floor(limit / FASHION_MNIST_CLASSES)), run.config.seed) : undefined;
  // --limit is rounded to whole classes' worth, at least one image of each
  const train = subset ? selectSamples(full, subset, `${full.source}, ${subset.length} samples${subset.length !== limit ? ` (--limit ${limit} in equal classes)` : ''}`) : full;
  const checkpointPath = opts.checkpoint === false ? undefined : (opts.checkpoint ?? (opts.resume && !explicit('checkpoint') ? opts.resume : `${out}.ckpt`));
  // A path that cannot be written fails now, not after the last epoch.
  ensureWritableFile(out, '--out', 'model.onnx');
  if (checkpointPath) ensureWritableFile(checkpointPath, '--checkpoint', 'model.ckpt');
  lockTrainingFiles([out, ...(checkpointPath ? [checkpointPath] : [])]);
  if (!opts.resume && checkpointPath && existsSync(checkpointPath) && statSync(checkpointPath).isFile()) {
    log(`note: ${checkpointPath} exists and will be overwritten (use --resume ${checkpointPath} to continue that run)`);
  }
  return { run, ...(resume ? { resume } : {}), out, ...(dataDir !== undefined ? { dataDir } : {}), train, ...(checkpointPath ? { checkpointPath } : {}), log };
}

/**
 * Takes `<file>.lock` beside each file a training run writes (its model and its checkpoint), held
 * until the process exits (the lock's exit hook): two runs into the same file would overwrite each
 * other's saves, and a later --resume would continue whichever saved last.
 */
export function lockTrainingFiles(paths: readonly string[]): void {
  for (const path of new Set(paths)) {
    acquireLockFile(`${path}.lock`, commandLine(), (w) =>
      new ConvLensError(
        'INVALID_ARGUMENT',
        `"${path}" is being written by another training run${w ? `: ${describeWriter(w)}` : ` (${path}.lock exists)`}.`,
        `Wait for it to finish, or train into another file (--out${path === paths[0] ? '' : ', --checkpoint'}).`,
      ),
    );
  }
}

/** Options a resumed run takes from its checkpoint instead: given with --resume they would be ignored. */
export function freshRunOnly(...options: string[]): OptionRule[] {
  return onlyWith({ when: 'to a fresh run', why: 'a resumed run keeps its checkpoint\'s settings; only --epochs can extend it', add: 'leave out --resume to start a new run' }, (opts) => !opts['resume'], ...options);
}

/** The trainer options every training command passes: cancellation, progress, checkpoints, resume, epoch lines. */
export function trainerOptions(prepared: PreparedTraining<RunInfo>, job: CliJob, everySteps: number, formatEpoch: (r: EpochRecord) => string): FitOptions & { log: (line: string) => void } {
  const { checkpointPath, resume, log } = prepared;
  return {
    ...(job.signal ? { signal: job.signal } : {}),
    onProgress: job.onProgress,
    ...(checkpointPath ? { checkpoint: { path: checkpointPath, everySteps } } : {}),
    ...(resume ? { resume } : {}),
    onEpoch: (r) => log(formatEpoch(r)),
    log,
  };
}

export const parameterCount = (model: Graph): number => [...model.initializers.values()].reduce((a, t) => a + (t.dtype === 'float32' ? t.data.length : 0), 0);
