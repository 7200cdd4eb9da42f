import { join } from 'node:path';
import type { Command } from 'commander';
import { prepareOutputDir, writeFileAtomic } from '../../../io/files.js';
import { inputFiles, loadInputs, scaledUpNote } from '../../../io/inputs.js';
import { encodeNpy } from '../../../io/npy.js';
import { batchedForward, defaultBatchSize } from '../../../methods/explain/session.js';
import { checkInputsFit, type CommonOptions, openModel, outPath, warner, withCommon } from '../common.js';
import { defaultOut } from '../output.js';

export function define(command: Command): void {
  withCommon(command)
    .argument('<inputs...>', 'image files, .npy tensors, or folders of them')
    .option('-l, --layer <names>', 'layers, comma-separated: value or node names, module paths, or #k as numbered by `convlens summary` (default: the model profile\'s feature layers)')
    .addHelpText('after', '\nExamples:\n  convlens activations samples/photos/chelsea.png --model squeezenet            # the profile\'s feature layers\n  convlens activations samples/photos/chelsea.png --model squeezenet --layer fires.3,#40\n  convlens activations samples/fashion-mnist/bag-test18.png --layer input')
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('activations'))
    .action(async (inputs: string[], opts: CommonOptions & { layer?: string; out: string }) => {
      prepareOutputDir(opts.out);
      const { engine, model } = openModel(opts);
      const layers = opts.layer ? opts.layer.split(',').map((l) => model.resolveLayer(l.trim())) : model.profile.featureLayers;
      const files = inputFiles(inputs);
      // every layer's values for every input are held at once
      const [c, h, w] = model.inputDims();
      const layerValues = layers.reduce((a, l) => a + (model.facts(l).shape ?? []).reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1), 0);
      checkInputsFit(files, model, 2 + layerValues / (c * h * w), 'activations');
      const { batch, items } = await loadInputs(files, model);
      const scaled = scaledUpNote(items, model);
      if (scaled) warner(opts)(scaled);
      const values = await batchedForward(model, batch, layers, defaultBatchSize(model, 'forward'));
      for (const l of layers) {
        const file = join(opts.out, `${l.replace(/[^\w.-]+/g, '_')}.npy`);
        writeFileAtomic(file, encodeNpy(values[l]!));
        if (!opts.quiet) process.stdout.write(`${l} [${values[l]!.dims.join(', ')}] -> ${file}\n`);
      }
      await engine.dispose();
    });
}
