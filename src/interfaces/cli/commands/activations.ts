import { join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../../io/files.js';
import { loadInputs } from '../../../io/inputs.js';
import { encodeNpy } from '../../../io/npy.js';
import { openModel, withCommon, type CommonOptions } from '../common.js';
import { defaultOut } from '../output.js';

export function define(command: Command): void {
  withCommon(command)
    .argument('<inputs...>', 'image files or .npy tensors')
    .requiredOption('-l, --layer <names>', 'layer (value or node) names, comma-separated; see `convlens summary`')
    .option('-o, --out <dir>', 'output folder', defaultOut('activations'))
    .action(async (inputs: string[], opts: CommonOptions & { layer: string; out: string }) => {
      const { engine, model } = openModel(opts);
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
}
