import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { FASHION_MNIST_PREPROCESSING, hasFashionMnist, loadFashionMnist } from '../../../data/fashion-mnist.js';
import { ConvLensError } from '../../../engine/errors.js';
import type { Graph } from '../../../engine/graph/ir.js';
import { encodeModel } from '../../../engine/onnx/codec.js';
import { writeFileAtomic } from '../../../io/files.js';
import { writeMetadata } from '../../../models/metadata.js';
import { findBuiltin } from '../../../models/builtins.js';
import { loadModel } from '../../../models/load.js';
import { courseCnn, FASHION_MNIST_LABELS } from '../../../models/zoo/index.js';
import { checkTrainable, classifierRunFromCheckpoint, trainClassifier, validationSplit, type ClassifierConfig, type ClassifierRunInfo } from '../../../training/classification.js';
import { optimizerConfig } from '../../../training/optimizers.js';
import { describeSchedule, parseSchedule } from '../../../training/schedules.js';
import { stepsPerEpoch, type EpochRecord } from '../../../training/trainer.js';
import { freshRunOnly, prepareTrainingRun, parameterCount, trainerOptions } from '../training-run.js';
import { choiceOption, cliJob, type CommonOptions, createEngine, fileOrFolderOut, fraction, intIn, MAX_THREADS, nonNegative, nonNegativeInt, positiveInt, positiveNumber, seedNumber, threadCount } from '../common.js';
import { onlyWith, optionRules } from '../option-rules.js';
import { defaultOut } from '../output.js';
import { lookup } from '../../../util/lookup.js';

interface TrainOptions extends CommonOptions {
  arch: string;
  data?: string;
  out: string;
  epochs: number;
  batch: number;
  optimizer: string;
  lr?: number;
  momentum: number;
  nesterov?: boolean;
  weightDecay: number;
  schedule: string;
  warmup: number;
  val: number;
  seed: number;
  limit?: number;
  flip?: boolean;
  clipNorm?: number;
  checkpoint?: string | false;
  checkpointEvery: number;
  resume?: string;
  test: boolean;
}


/** What every run trains on: Fashion-MNIST's 28x28 gray images of 10 classes. */
const FASHION_MNIST_IMAGES = { channels: 1, height: FASHION_MNIST_PREPROCESSING.size[0], width: FASHION_MNIST_PREPROCESSING.size[1], classes: FASHION_MNIST_LABELS.length, name: 'Fashion-MNIST' };

const ARCHITECTURES: Record<string, { build: (seed: number) => Graph; description: string }> = {
  course: { build: courseCnn, description: 'Course CNN for Fashion-MNIST (conv 16/32/64/128, GAP, dense 10)' },
};

export function define(command: Command): void {
  optionRules(command, [
    ...onlyWith({ when: 'with --optimizer sgd', add: 'add --optimizer sgd' }, (opts) => opts['optimizer'] === 'sgd', 'momentum', 'nesterov'),
    ...freshRunOnly('arch', 'model', 'batch', 'optimizer', 'lr', 'momentum', 'nesterov', 'weightDecay', 'schedule', 'warmup', 'val', 'seed', 'limit', 'flip', 'clipNorm'),
  ]);
  command
    .option('--arch <name>', `architecture to train from scratch: ${Object.keys(ARCHITECTURES).join(', ')}`, 'course')
    .option('-m, --model <file|name>', 'train this ONNX model (or built-in, e.g. fashion-cnn) instead (any model defined with the builder API and saved as ONNX; its weights are the starting point)')
    .option('-d, --data <dir>', 'folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)')
    .option('-o, --out <file|dir>', 'trained model to write (.onnx), or a folder for model.onnx', fileOrFolderOut('model.onnx'), defaultOut('train', 'model.onnx'))
    .option('--epochs <n>', 'epochs', positiveInt, 20)
    .option('--batch <n>', 'batch size (1-4096)', intIn(1, 4096), 128)
    .addOption(choiceOption('--optimizer <name>', 'adam or sgd', ['adam', 'sgd'], 'adam'))
    .option('--lr <rate>', 'base learning rate (default: 0.001 for adam, 0.01 for sgd)', positiveNumber)
    .option('--momentum <m>', 'sgd momentum, in [0, 1) (at 1 or more the velocity grows without bound)', fraction, 0.9)
    .option('--nesterov', 'sgd: Nesterov momentum')
    .option('--weight-decay <wd>', 'weight decay on weights, not biases (adam: decoupled, AdamW; sgd: L2)', nonNegative, 0)
    .option('--schedule <s>', 'learning-rate schedule: constant, cosine[:min], step:EVERY:GAMMA, exp:GAMMA', 'cosine')
    .option('--warmup <steps>', 'linear learning-rate warmup steps', nonNegativeInt, 0)
    .option('--val <fraction>', 'fraction of the training set held out for validation (stratified; 0 = none)', fraction, 0.1)
    .option('--seed <n>', 'seed for initialization, split, shuffling and augmentation', seedNumber, 0)
    .option('--limit <n>', 'train on a stratified subset of n training images (quick runs)', positiveInt)
    .option('--flip', 'augment: random horizontal flips')
    .option('--clip-norm <x>', 'clip the global gradient norm', positiveNumber)
    .option('--checkpoint <file>', 'checkpoint file (default: <out>.ckpt)')
    .option('--no-checkpoint', 'do not write checkpoints')
    .option('--checkpoint-every <steps>', 'also checkpoint every this many steps (besides every epoch and on Ctrl-C)', positiveInt, 200)
    .option('--resume <checkpoint>', 'continue an interrupted run from its checkpoint (settings come from the checkpoint; --epochs can extend it)')
    .option('--no-test', 'skip the final test-set evaluation')
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no progress bar, epoch lines or "wrote" line (the metrics still print)')
    .action(async (opts: TrainOptions, cmd: Command) => {
      const prepared = prepareTrainingRun(opts, cmd, { fresh: (provenance) => newRun(opts, provenance), fromCheckpoint: classifierRunFromCheckpoint }, describeArchitecture(opts));
      const { run, out, dataDir, train, checkpointPath, log } = prepared;
      const test = opts.test && hasFashionMnist('test', dataDir) ? loadFashionMnist('test', dataDir) : undefined;
      const engine = createEngine(opts);
      const c = run.config;
      const valCount = validationSplit(train, run.labels.length, c).validation?.length ?? 0;
      const perEpoch = stepsPerEpoch(train.count - valCount, c.batchSize);
      log(
        `training ${run.model.name} (${parameterCount(run.model).toLocaleString('en-US')} parameters) on ${train.source}: ${train.count - valCount} train / ${valCount} validation images, ` +
          `${c.epochs} epoch${c.epochs === 1 ? '' : 's'} x ${perEpoch} step${perEpoch === 1 ? '' : 's'} of ${c.batchSize}, ${c.optimizer.type} lr ${c.lr} ${describeSchedule(c.schedule)}`,
      );
      const job = cliJob(opts, 'train', { terminate: true });
      let result;
      try {
        result = await trainClassifier(engine, run, { train, ...(test ? { test } : {}) }, trainerOptions(prepared, job, opts.checkpointEvery, (r) => formatEpoch(r, c.epochs)));
      } finally {
        job.done();
        await engine.dispose();
      }
      writeMetadata(result.model, { description: `${run.provenance?.description ?? 'Image classifier'} trained by convlens train` });
      const bytes = encodeModel(result.model);
      writeFileAtomic(out, bytes);
      const m = result.metrics;
      const parts = [`train_loss ${m.train_loss}`, `train_accuracy ${m.train_accuracy}`];
      if (m.val_accuracy !== undefined) parts.push(`val_loss ${m.val_loss}`, `val_accuracy ${m.val_accuracy}`);
      process.stdout.write(`${parts.join('  ')}\n`);
      if (result.test) process.stdout.write(`test accuracy ${result.test.accuracy.toFixed(4)} (${result.test.correct}/${result.test.total})\n`);
      if (result.test?.unscored) process.stderr.write(`warning: ${result.test.unscored} test images gave NaN or infinite outputs and count as wrong\n`);
      if (!opts.quiet) process.stdout.write(`wrote ${out} (${Math.round(bytes.length / 1024)} KB)${checkpointPath ? `; checkpoint ${checkpointPath}` : ''}\n`);
    });
}

function describeArchitecture(opts: TrainOptions): string {
  return opts.model ? `model from ${opts.model}` : (lookup(ARCHITECTURES, opts.arch)?.description ?? opts.arch);
}

function newRun(opts: TrainOptions, provenance: Record<string, unknown>): ClassifierRunInfo {
  let model: Graph;
  if (opts.model) {
    if (!findBuiltin(opts.model) && !existsSync(opts.model)) throw new ConvLensError('INPUT_UNREADABLE', `Cannot read model file "${opts.model}": no such file.`, 'Pass an .onnx file or a built-in name (fashion-cnn: fine-tune the built-in CNN), or leave out --model to train --arch course from scratch.');
    const loaded = loadModel(opts.model, createEngine({}));
    model = loaded.graph;
    // Named as every command names it (its file or built-in name, not an exporter's "torch_jit"); the
    // name travels in the checkpoint and the trained file.
    model.name = loaded.name;
    // A model that cannot take Fashion-MNIST is refused before anything is printed, loaded or locked.
    checkTrainable(model, loaded.name, FASHION_MNIST_IMAGES);
    provenance = { ...provenance, description: `${model.name} (from ${opts.model})` };
  } else {
    const arch = lookup(ARCHITECTURES, opts.arch);
    if (!arch) throw new ConvLensError('INVALID_ARGUMENT', `Unknown architecture "${opts.arch}".`, `Use one of: ${Object.keys(ARCHITECTURES).join(', ')}; or --model file.onnx for your own.`);
    model = arch.build(opts.seed);
  }
  const lr = opts.lr ?? (opts.optimizer === 'sgd' ? 0.01 : 0.001);
  const config: ClassifierConfig = {
    epochs: opts.epochs,
    batchSize: opts.batch,
    seed: opts.seed,
    optimizer: optimizerConfig(opts.optimizer, { momentum: opts.momentum, nesterov: opts.nesterov ?? false, weightDecay: opts.weightDecay }),
    lr,
    schedule: parseSchedule(opts.schedule),
    warmupSteps: opts.warmup,
    validationFraction: opts.val,
    ...(opts.clipNorm ? { clipNorm: opts.clipNorm } : {}),
    ...(opts.flip ? { augmentFlip: true } : {}),
  };
  return { model, labels: FASHION_MNIST_LABELS, preprocessing: FASHION_MNIST_PREPROCESSING, config, provenance };
}

function formatEpoch(r: EpochRecord, epochs: number): string {
  const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(4));
  const val = r.validation ? `  val_loss ${f(r.validation.loss)}  val_acc ${f(r.validation.accuracy)}` : '';
  return `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  loss ${f(r.loss)}  acc ${f(r.metrics.accuracy)}${val}  lr ${r.lr.toPrecision(3)}  ${r.seconds.toFixed(0)} s  ${r.samplesPerSecond.toFixed(0)} samples/s`;
}
