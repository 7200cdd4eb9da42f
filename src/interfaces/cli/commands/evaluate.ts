import type { Command } from 'commander';
import { FASHION_MNIST_LABELS } from '../../../models/zoo/index.js';
import { loadFashionMnist, type Split } from '../../../data/fashion-mnist.js';
import { ConvLensError } from '../../../engine/errors.js';
import { prepareOutputFile, writeFileAtomic } from '../../../io/files.js';
import { evaluateClassifier } from '../../../training/classification.js';
import { confusionMatrixPng } from '../../../training/confusion.js';
import { evaluateMultiLabel, type MultiLabelMetrics } from '../../../training/multi-label.js';
import { cliJob, type CommonOptions, fileOrFolderOut, intIn, openModel, withCommon } from '../common.js';
import { defaultOut } from '../output.js';

interface EvaluateOptions extends CommonOptions {
  data?: string;
  split: string;
  out: string;
  image: boolean;
  json?: boolean;
  batch: number;
}

export function define(command: Command): void {
  withCommon(command)
    .option('-d, --data <dir>', 'folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)')
    .option('--split <name>', 'test or train', 'test')
    .option('-o, --out <file|dir>', 'confusion-matrix PNG to write, or a folder for confusion-matrix.png', fileOrFolderOut('confusion-matrix.png'), defaultOut('evaluate', 'confusion-matrix.png'))
    .option('--no-image', 'do not write the confusion-matrix image')
    .option('--json', 'print the results as JSON')
    .option('--batch <n>', 'images per forward run (1-4096)', intIn(1, 4096), 256)
    .action(async (opts: EvaluateOptions) => {
      if (opts.split !== 'test' && opts.split !== 'train') throw new ConvLensError('INVALID_ARGUMENT', `Unknown split "${opts.split}".`, 'Use --split test or --split train.');
      const ds = loadFashionMnist(opts.split as Split, opts.data);
      const { engine, model } = openModel(opts, { forwardOnly: true });
      const prep = model.meta.preprocessing;
      const [, c, h, w] = model.input.shape!;
      if (c !== ds.channels || h !== ds.height || w !== ds.width || prep.channels !== 'gray') {
        throw new ConvLensError(
          'SHAPE_MISMATCH',
          `Model "${model.name}" takes [N, ${c}, ${h}, ${w}] ${prep.channels} input; Fashion-MNIST images are [N, 1, ${ds.height}, ${ds.width}] gray.`,
          'Evaluate a model trained on Fashion-MNIST (for example one written by `convlens train`).',
        );
      }
      if (model.outputKind === 'regression') {
        // Fashion-MNIST gives each image a class, no value: there is nothing to measure a regression's error against
        throw new ConvLensError(
          'MODEL_UNSUPPORTED',
          `Model "${model.name}" is a regression: its outputs are values, and Fashion-MNIST labels each image with a class, not a value to compare them with, so no accuracy, error or loss applies.`,
          'Compare its values with your own targets (`convlens predict --json` prints them), or evaluate it as the classifier it may be (CLI: --output-kind single-label).',
        );
      }
      const labels = model.labels.length === FASHION_MNIST_LABELS.length ? model.labels : FASHION_MNIST_LABELS;
      if (model.outputKind === 'multi-label') {
        await evaluateAttributes(model, engine, ds, labels, opts);
        return;
      }
      if (opts.image) prepareOutputFile(opts.out);
      const job = cliJob(opts, 'evaluate');
      let m;
      try {
        m = await evaluateClassifier(async (x) => (await model.run(x))[model.output]!, ds, prep, labels, { ...job, batchSize: opts.batch });
      } finally {
        job.done();
      }
      if (m.unscored && !opts.quiet) {
        process.stderr.write(`warning: ${m.unscored} of ${m.total} images gave NaN or infinite outputs; they count as wrong and are left out of the loss and the confusion matrix${model.meta.warnings.some((w) => w.includes('NaN')) ? ' (see the warning about its parameters)' : ''}\n`);
      }
      let image: string | undefined;
      if (opts.image) {
        const title = `${model.name} on Fashion-MNIST ${opts.split}: accuracy ${(m.accuracy * 100).toFixed(2)}% (${m.correct}/${m.total})`;
        writeFileAtomic(opts.out, await confusionMatrixPng(m.confusion, labels, title));
        image = opts.out;
      }
      await engine.dispose();
      if (opts.json) {
        const K = labels.length;
        const matrix = Array.from({ length: K }, (_, y) => Array.from(m.confusion.subarray(y * K, (y + 1) * K)));
        process.stdout.write(
          `${JSON.stringify({ model: model.name, data: ds.source, accuracy: m.accuracy, loss: m.loss, correct: m.correct, total: m.total, unscored: m.unscored, perClass: m.perClass, confusion: matrix, ...(image ? { image } : {}) }, null, 2)}\n`,
        );
        return;
      }
      const lines = [`model ${model.name} on ${ds.source}: ${m.total} images`, `accuracy ${m.accuracy.toFixed(4)} (${m.correct}/${m.total})`, `loss ${m.loss.toFixed(4)}`, 'per class:'];
      const width = Math.max(...labels.map((l) => l.length));
      for (const p of m.perClass) lines.push(`  ${p.label.padEnd(width)}  ${p.accuracy.toFixed(4)}  (${p.correct}/${p.total})`);
      if (image && !opts.quiet) lines.push(`confusion matrix -> ${image}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/**
 * A multi-label model on Fashion-MNIST: each output answers "is it this class?" on its own, so
 * each is scored as a yes/no classifier (accuracy at probability 0.5, average precision), never
 * by an argmax over outputs or a softmax loss; there is no confusion matrix between classes.
 */
async function evaluateAttributes(
  model: ReturnType<typeof openModel>['model'],
  engine: ReturnType<typeof openModel>['engine'],
  ds: ReturnType<typeof loadFashionMnist>,
  labels: readonly string[],
  opts: EvaluateOptions,
): Promise<void> {
  const job = cliJob(opts, 'evaluate');
  let m: MultiLabelMetrics;
  try {
    m = await evaluateMultiLabel(async (x) => (await model.run(x))[model.output]!, ds, model.meta.preprocessing, labels, { ...job, batchSize: opts.batch });
  } finally {
    job.done();
  }
  await engine.dispose();
  if (!opts.quiet) {
    if (m.unscored) process.stderr.write(`warning: ${m.unscored} of ${m.total} images gave NaN or infinite outputs; every answer of theirs counts as wrong, and they are left out of the loss and the average precisions\n`);
    if (opts.image) process.stderr.write('note: no confusion-matrix image for a multi-label model: its outputs answer yes or no each, not which one class\n');
  }
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ model: model.name, data: ds.source, outputKind: 'multi-label', threshold: 0.5, meanAccuracy: m.meanAccuracy, exactMatch: m.exactMatch, meanAveragePrecision: m.meanAveragePrecision, loss: m.loss, total: m.total, unscored: m.unscored, perAttribute: m.perAttribute }, null, 2)}\n`,
    );
    return;
  }
  const lines = [
    `model ${model.name} (multi-label) on ${ds.source}: ${m.total} images, each class an output that should say yes for it and no for the others`,
    `mean accuracy at probability 0.5 ${m.meanAccuracy.toFixed(4)} (right yes/no answers)`,
    `exact match ${m.exactMatch.toFixed(4)} (images with every answer right)`,
    `mean average precision ${m.meanAveragePrecision.toFixed(4)}`,
    `loss ${m.loss.toFixed(4)} (mean binary cross-entropy)`,
  ];
  const width = Math.max(...labels.map((l) => l.length));
  lines.push(`per output:\n  ${''.padEnd(width)}  accuracy  avg precision`);
  for (const a of m.perAttribute) lines.push(`  ${a.label.padEnd(width)}  ${a.accuracy.toFixed(4).padStart(8)}  ${a.averagePrecision.toFixed(4).padStart(13)}  (${a.positives} positives)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
