
import type { Command } from 'commander';
import { throwIfCancelled } from '../../../engine/jobs.js';
import { prepareOutputFile, writeFileAtomic } from '../../../io/files.js';
import { applyDescription, cliJob, type CommonOptions, createEngine, defaultStoreLayer, fileOrFolderOut, folderPath, intIn, warner, withCommon } from '../common.js';
import { DEFAULT_STORE, defaultOut } from '../output.js';

interface PatchesOptions extends CommonOptions {
  store: string;
  layer?: string;
  channels?: string;
  top: number;
  guided: boolean;
  out: string;
  data?: string;
  json?: boolean;
}

export function define(command: Command): void {
  withCommon(command)
    .option('-l, --layer <name>', 'an indexed layer (default: the model profile\'s mid feature layer, if indexed)')
    .option('-s, --store <dir>', 'store made by `convlens index`', folderPath, DEFAULT_STORE)
    .option('-c, --channels <list>', 'channels: 0-15, 3,7,9 or all (default: the first 16, or all the layer has)')
    .option('-k, --top <k>', 'patches per channel (1-256; at most the k the store was indexed with)', intIn(1, 256), 8)
    .option('--no-guided', 'no guided-backprop maps')
    .option('-o, --out <file|dir>', 'figure to write (.png), or a folder for patches.png', fileOrFolderOut('patches.png'), defaultOut('patches', 'patches.png'))
    .option('--data <spec>', 'the dataset, when it moved since indexing')
    .option('--json', 'also write the patch list as JSON beside the figure')
    .action(async (opts: PatchesOptions, cmd: Command) => {
      // heavy modules (LanceDB, BullMQ, ...) load only when the command runs
      const { openStoreContext } = await import('../../../methods/dataset/context.js');
      const { patchesFigure } = await import('../../../methods/dataset/figures.js');
      const { parseChannels, topPatches } = await import('../../../methods/dataset/patches.js');
      prepareOutputFile(opts.out);
      const engine = createEngine(opts);
      const ctx = await openStoreContext(opts.store, engine, { ...(opts.model ? { modelPath: opts.model } : {}), ...(opts.data ? { data: opts.data } : {}), onNotice: warner(opts) });
      applyDescription(ctx.model, opts);
      const job = cliJob(opts, 'patches');
      try {
        const layer = ctx.store.layer(opts.layer ? ctx.model.resolveLayer(opts.layer) : defaultStoreLayer(ctx.model, ctx.store.manifest.layers.map((l) => l.name), 'first', warner(opts, 'note')));
        // the default is cut to the layer (a 10-class logits layer has no channel 15); a channel asked for by name is not
        const channels = opts.channels === undefined ? parseChannels(undefined, layer.channels, 16) : parseChannels(opts.channels, layer.channels);
        const stored = ctx.store.manifest.k;
        const k = Math.min(opts.top, stored);
        if (k < opts.top && cmd.getOptionValueSource('top') === 'cli') warner(opts, 'note')(`the store keeps the top ${stored} images per channel (indexed with -k ${stored}); drawing ${stored}, not ${opts.top}. Index again with a larger -k for more.`);
        const list = await topPatches(ctx.model, ctx.source, ctx.store, layer.name, channels, { k, guided: opts.guided, ...job });
        const classes = ctx.store.manifest.dataset.classes;
        const label = ctx.model.layerLabel(layer.name);
        const figure = await patchesFigure(list, { classes, model: ctx.model.name, layerLabel: label });
        // a Ctrl-C while the figure was drawn (seconds for many channels) writes nothing
        throwIfCancelled(job.signal, 'the patches');
        writeFileAtomic(opts.out, figure);
        const lines = [`${label}: ${channels.length} channels x ${k} patches${k < opts.top ? ` (the store keeps ${stored})` : ''} -> ${opts.out}`];
        if (opts.json) {
          const file = opts.out.replace(/\.png$/i, '') + '.json';
          const data = list.map((c) => ({ layer: c.layer, channel: c.channel, field: c.field, silent: c.silent, patches: c.patches.map((p) => ({ rank: p.rank, value: p.value, image: p.image, label: p.label, class: classes[p.label] ?? null, unit: [p.y, p.x], box: p.box })) }));
          writeFileAtomic(file, `${JSON.stringify({ store: opts.store, model: ctx.model.name, channels: data }, null, 2)}\n`);
          lines.push(`patch list -> ${file}`);
        }
        // these lines name what was written: -q leaves them out, as every command's "wrote" line
        if (!opts.quiet) process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        job.done();
        ctx.store.close();
        await engine.dispose();
      }
    });
}

