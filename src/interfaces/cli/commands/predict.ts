import type { Command } from 'commander';
import { writeFileAtomic } from '../../../io/files.js';
import { inputFiles, loadInputs, scaledUpNote } from '../../../io/inputs.js';
import { encodeNpy } from '../../../io/npy.js';
import { predict, shownScore } from '../../../methods/predict.js';
import { checkInputsFit, type CommonOptions, intIn, openModel, warner, withCommon } from '../common.js';

export function define(command: Command): void {
  withCommon(command)
    .argument('<inputs...>', 'image files, .npy tensors (NCHW or CHW float32), or folders of them')
    .option('-k, --top <k>', 'how many classes to show (1-1000)', intIn(1, 1000), 5)
    .option('--npy <file>', 'also write the raw logits [N, classes] as .npy')
    .option('--json', 'print predictions as JSON')
    .action(async (inputs: string[], opts: CommonOptions & { top: number; npy?: string; json?: boolean }) => {
      const { engine, model } = openModel(opts, { forwardOnly: true });
      const files = inputFiles(inputs);
      checkInputsFit(files, model, 2, 'predict');
      const { batch, items } = await loadInputs(files, model);
      const scaled = scaledUpNote(items, model);
      if (scaled) warner(opts)(scaled);
      const { logits, predictions, nonFinite } = await predict(model, batch, opts.top);
      for (const i of nonFinite) process.stderr.write(`warning: the model's outputs for ${items[i]!.source} are NaN or infinite, so its probabilities mean nothing${model.meta.warnings.some((w) => w.includes('NaN')) ? ' (see the warning about its parameters)' : ''}\n`);
      if (opts.npy) writeFileAtomic(opts.npy, encodeNpy(logits), '--npy');
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(items.map((it, i) => ({ input: it.source, top: predictions[i]!.top })), null, 2)}\n`);
      } else {
        items.forEach((it, i) => {
          process.stdout.write(`${it.source}\n`);
          for (const p of predictions[i]!.top) {
            // a regression's value has no scale to draw a bar on
            const bar = p.probability === undefined ? '' : '#'.repeat(Math.round(p.probability * 30));
            process.stdout.write(`  ${p.label.padEnd(16)} ${shownScore(p).padStart(7)}  ${bar}\n`);
          }
        });
      }
      await engine.dispose();
    });
}
