import type { Command } from 'commander';
import { FASHION_MNIST_LABELS } from '../../../models/zoo/index.js';
import { loadFashionMnist, type Split } from '../../../data/fashion-mnist.js';
import { ConvLensError } from '../../../engine/errors.js';
import { prepareOutputFile, writeFileAtomic } from '../../../io/files.js';
import { evaluateClassifier } from '../../../training/classification.js';
import { confusionMatrixPng } from '../../../training/confusion.js';
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
      const labels = model.labels.length === FASHION_MNIST_LABELS.length ? model.labels : FASHION_MNIST_LABELS;
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
