import type { Command } from 'commander';
import { encodePng } from '../../../io/image.js';
import { modelChannels, modelInputSize } from '../../../methods/synthesize/graph.js';
import { invert } from '../../../methods/synthesize/inversion.js';
import { readImageTensor, readModelImage, stack, summaryJson } from '../../../methods/synthesize/io.js';
import type { OptimizerName } from '../../../methods/synthesize/optimize.js';
import { displaySize, toRaw } from '../../../methods/synthesize/render.js';
import { gridFigure } from '../../../render/grid.js';
import { choiceOption, cliJob, type CommonOptions, imageSize, intIn, modelInfo, nonNegative, openModel, outPath, positiveNumber, seedNumber, withCommon } from '../common.js';
import { defaultOut, OutputFiles, stemmer } from '../output.js';

interface InvertCli extends CommonOptions {
  layers?: string;
  steps: number;
  lr: number;
  tv: number;
  optimizer: string;
  seed: number;
  size?: [number, number];
  out: string;
  tile: number;
  json?: boolean;
}

export function define(command: Command): void {
  withCommon(
    command
      .addHelpText('after', '\nImages are resized or centre-cropped as predict does. The default layers are the model profile\'s inversion layers (`convlens summary` shows them).\n\nExamples:\n  convlens invert samples/fashion-mnist/ankle-boot-test0.png samples/fashion-mnist/bag-test18.png\n  convlens invert samples/photos/chelsea.png --model squeezenet --layers fires.1,fires.3,fires.5 --steps 200'),
  )
    .argument('<images...>', 'image files')
    .option('-l, --layers <names>', 'layers to invert, comma-separated (default: the model profile\'s inversion layers, shallow to deep, and the logits)')
    .option('--steps <n>', 'optimization steps per layer (1-100000)', intIn(1, 100_000), 300)
    .option('--lr <lr>', 'Adam learning rate', positiveNumber, 0.05)
    .option('--tv <w>', 'weight of the total-variation (TV^2) prior at the input resolution; coarser layers get it times sqrt(pixels / layer positions)', nonNegative, 0.5)
    .addOption(choiceOption('--optimizer <name>', 'adam or lbfgs', ['adam', 'lbfgs'], 'adam'))
    .option('--seed <n>', 'seed of the noise start', seedNumber, 0)
    .option('--size <HxW>', 'image size for models that take any size (default: their preprocessing size)', imageSize)
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('invert'))
    .option('--tile <px>', 'tile size in the grid (8-1024)', intIn(8, 1024), 112)
    .option('--json', 'print the summary JSON')
    .action(async (images: string[], opts: InvertCli) => {
      const out = new OutputFiles(opts.out);
      out.keepInputs(images, ['grid.png', 'summary.json']);
      const { engine, model } = openModel(opts);
      const job = cliJob(opts, 'invert');
      out.stopOn(job.signal);
      try {
        // the pixels predict sees; a model that takes any size gets --size (stretched) when given
        const free = !modelInputSize(model) && opts.size;
        const x = stack(await Promise.all(images.map((p) => (free ? readImageTensor(p, modelChannels(model), { size: free }) : readModelImage(p, model)))));
        const layers = opts.layers ? opts.layers.split(',').map((l) => l.trim()) : model.profile.inversionLayers;
        const r = await invert(model, x, { layers, steps: opts.steps, lr: opts.lr, tv: opts.tv, optimizer: opts.optimizer as OptimizerName, seed: opts.seed, signal: job.signal!, onProgress: job.onProgress! });
        job.done();
        const stems = images.map(stemmer());
        const rows = images.map((_, i) => ({
          lines: [stems[i]!],
          cells: [displaySize(toRaw(x.data as Float32Array, x.dims, i), opts.tile), ...r.inversions.map((inv) => displaySize(toRaw(inv.images.data as Float32Array, inv.images.dims, i), opts.tile))],
        }));
        const heads = ['input', ...r.inversions.map((inv) => `${model.layerLabel(inv.layer)}\n${model.facts(inv.layer).shape?.slice(1).join('×') ?? ''}`)];
        out.write('grid.png', await gridFigure({ title: `Images reconstructed from each layer's features (${model.name})`, columns: heads, rows, notes: [`${opts.steps} Adam steps from noise; TV² prior weight ${opts.tv} x sqrt(image pixels / layer positions): ${r.inversions.map((i) => i.tvWeight.toFixed(1)).join(', ')}`] }));
        const files = images.map((): Record<string, string> => ({}));
        for (const inv of r.inversions) {
          for (let i = 0; i < images.length; i++) files[i]![inv.layer] = out.write(`${stems[i]}.${inv.layer.replace(/[^\w.-]+/g, '_')}.png`, await encodePng(toRaw(inv.images.data as Float32Array, inv.images.dims, i)));
        }
        const text = summaryJson({ command: 'invert', model: modelInfo(model, opts), params: r.params, layers: r.inversions.map((inv) => ({ layer: inv.layer, shape: model.facts(inv.layer).shape, featureDistance: inv.distance, pixelMse: inv.pixelError })), images: images.map((p, i) => ({ source: p, files: files[i] })), grid: 'grid.png' });
        out.write('summary.json', text);
        if (opts.json) process.stdout.write(text);
        out.report(opts);
      } finally {
        job.done();
        await engine.dispose();
      }
    });
}
