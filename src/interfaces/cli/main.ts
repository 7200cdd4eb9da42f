import { Command } from 'commander';
import { ConvLensError } from '../../engine/errors.js';
import { register as activations } from './commands/activations.js';
import { register as adversarial } from './commands/adversarial.js';
import { register as diffuse } from './commands/diffuse.js';
import { register as dream } from './commands/dream.js';
import { register as embed } from './commands/embed.js';
import { register as evaluate } from './commands/evaluate.js';
import { register as explain } from './commands/explain.js';
import { register as featviz } from './commands/featviz.js';
import { register as index } from './commands/index.js';
import { register as invert } from './commands/invert.js';
import { register as indexWorker } from './commands/index-worker.js';
import { register as neighbors } from './commands/neighbors.js';
import { register as patches } from './commands/patches.js';
import { register as predict } from './commands/predict.js';
import { register as studio } from './commands/studio.js';
import { register as style } from './commands/style.js';
import { register as styleTrain } from './commands/style-train.js';
import { register as summary } from './commands/summary.js';
import { register as train } from './commands/train.js';

// One module per command (commands/<name>.ts), each exporting register(program).
const program = new Command();
program
  .name('convlens')
  .description('See inside convolutional vision models and make images with them: summaries, predictions, explanations, dataset search, synthesis, diffusion.')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

for (const register of [studio, summary, predict, activations, train, evaluate, explain, featviz, adversarial, invert, dream, style, styleTrain, index, indexWorker, patches, neighbors, embed, diffuse]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConvLensError) {
    process.stderr.write(`convlens: ${e.describe()}\n`);
    process.exit(e.code === 'CANCELLED' ? 130 : 1);
  }
  throw e;
}
