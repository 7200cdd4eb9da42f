import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ConvLensError } from '../../engine/errors.js';
import { Engine } from '../../engine/runtime/engine.js';
import { nodeBackend } from '../../engine/runtime/node.js';
import { writeFileAtomic } from '../../io/files.js';
import { loadInputs } from '../../io/inputs.js';
import { encodeNpy } from '../../io/npy.js';
import { loadModel } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { formatSummary, summarize } from '../../methods/inspect/summary.js';
import { predict } from '../../methods/predict.js';

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

interface Common {
  model?: string;
  threads?: number;
  quiet?: boolean;
}

function open(opts: Common): { engine: Engine; model: Model } {
  const engine = new Engine(nodeBackend(), opts.threads ? { threads: opts.threads } : {});
  const model = loadModel(opts.model, engine);
  if (!opts.quiet) for (const w of model.meta.warnings) process.stderr.write(`warning: ${w}\n`);
  return { engine, model };
}

const program = new Command();
program
  .name('convlens')
  .description('See inside convolutional vision models: summaries, predictions, gradients.')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(str) });

const withCommon = (c: Command): Command =>
  c
    .option('-m, --model <file>', 'ONNX model (default: the built-in Fashion-MNIST CNN)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads', positiveInt)
    .option('-q, --quiet', 'no warnings about assumed metadata');

withCommon(program.command('summary').description('layer table: output shapes, parameters, FLOPs, receptive fields'))
  .option('--json', 'print the summary as JSON')
  .action(async (opts: Common & { json?: boolean }) => {
    const { engine, model } = open(opts);
    const s = summarize(model);
    process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
    await engine.dispose();
  });

withCommon(program.command('predict').description('top-k classes for images (PNG/JPEG/WebP) or preprocessed .npy tensors'))
  .argument('<inputs...>', 'image files or .npy tensors (NCHW or CHW float32)')
  .option('-k, --top <k>', 'how many classes to show', positiveInt, 5)
  .option('--npy <file>', 'also write the raw logits [N, classes] as .npy')
  .option('--json', 'print predictions as JSON')
  .action(async (inputs: string[], opts: Common & { top: number; npy?: string; json?: boolean }) => {
    const { engine, model } = open(opts);
    const { batch, items } = await loadInputs(inputs, model);
    const { logits, predictions } = await predict(model, batch, opts.top);
    if (opts.npy) writeFileAtomic(opts.npy, encodeNpy(logits));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(items.map((it, i) => ({ input: it.source, top: predictions[i]!.top })), null, 2)}\n`);
    } else {
      items.forEach((it, i) => {
        process.stdout.write(`${it.source}\n`);
        for (const p of predictions[i]!.top) {
          const bar = '#'.repeat(Math.round(p.probability * 30));
          process.stdout.write(`  ${p.label.padEnd(16)} ${(p.probability * 100).toFixed(2).padStart(6)}%  ${bar}\n`);
        }
      });
    }
    await engine.dispose();
  });

withCommon(program.command('activations').description('write the values of any layer (intermediate tensor) as .npy'))
  .argument('<inputs...>', 'image files or .npy tensors')
  .requiredOption('-l, --layer <names>', 'layer (value or node) names, comma-separated; see `convlens summary`')
  .option('-o, --out <dir>', 'output folder', 'out')
  .action(async (inputs: string[], opts: Common & { layer: string; out: string }) => {
    const { engine, model } = open(opts);
    const layers = opts.layer.split(',').map((l) => model.resolveLayer(l.trim()));
    const { batch } = await loadInputs(inputs, model);
    const values = await model.run(batch, layers);
    for (const l of layers) {
      const file = join(opts.out, `${l.replace(/[^\w.-]+/g, '_')}.npy`);
      writeFileAtomic(file, encodeNpy(values[l]!));
      process.stdout.write(`${l} [${values[l]!.dims.join(', ')}] -> ${file}\n`);
    }
    await engine.dispose();
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof ConvLensError) {
      process.stderr.write(`convlens: ${e.describe()}\n`);
      process.exit(1);
    }
    throw e;
  }
}

await main();
