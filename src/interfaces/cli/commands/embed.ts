import { join } from 'node:path';
import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { throwIfCancelled } from '../../../engine/jobs.js';
import { prepareOutputDir, writeFileAtomic } from '../../../io/files.js';
import type { RawImage } from '../../../io/image.js';
import { applyDescription, cliJob, type CommonOptions, createEngine, defaultStoreLayer, folderPath, nonNegativeInt, numberIn, outPath, positiveInt, seedNumber, warner, withCommon } from '../common.js';
import { DEFAULT_STORE, defaultOut } from '../output.js';

interface EmbedOptions extends CommonOptions {
  store: string;
  layer?: string;
  method: string;
  sample?: number;
  seed: number;
  metric: string;
  perplexity?: number;
  neighbours?: number;
  grid: number;
  out: string;
  data?: string;
}

export function define(command: Command): void {
  withCommon(command)
    .option('-l, --layer <name>', 'an indexed layer, or "pixels" (default: the model profile\'s deepest feature layer, if indexed)')
    .option('-s, --store <dir>', 'store made by `convlens index`', folderPath, DEFAULT_STORE)
    .option('--method <list>', 'pca, tsne, umap (comma-separated)', 'pca,tsne,umap')
    .option('--sample <n>', 'points (stratified by class; default all for PCA, 2000 for t-SNE/UMAP)', positiveInt)
    .option('--seed <n>', 'seed of the sample and the methods', seedNumber, 0)
    .option('--metric <m>', 'l2 (raw vectors) or cosine (unit vectors)', 'l2')
    .option('--perplexity <p>', 't-SNE perplexity (1-1000; default 30, or the largest the points allow: (points - 1) / 3)', numberIn(1, 1000))
    .option('--neighbours <n>', 'UMAP neighbours (default 15, or points - 1 when fewer)', positiveInt)
    .option('--grid <side>', 'image grid side (0: no grid)', nonNegativeInt, 30)
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('embed'))
    .option('--data <spec>', 'the dataset, when it moved since indexing')
    .action(async (opts: EmbedOptions) => {
      // heavy modules (LanceDB, BullMQ, ...) load only when the command runs
      const { openStoreContext } = await import('../../../methods/dataset/context.js');
      const { embedSettings, embedStore, parseEmbedMethod, sampleSize, snapToGrid } = await import('../../../methods/dataset/embed.js');
      const { embeddingGridFigure, scatterFigure } = await import('../../../methods/dataset/figures.js');
      if (opts.metric !== 'l2' && opts.metric !== 'cosine') throw new ConvLensError('INVALID_ARGUMENT', `Unknown metric "${opts.metric}".`, 'Use l2 or cosine.');
      const methods = opts.method.split(',').map((m) => parseEmbedMethod(m.trim()));
      prepareOutputDir(opts.out);
      const engine = createEngine(opts);
      const ctx = await openStoreContext(opts.store, engine, { ...(opts.model ? { modelPath: opts.model } : {}), ...(opts.data ? { data: opts.data } : {}), onNotice: warner(opts) });
      applyDescription(ctx.model, opts);
      const job = cliJob(opts, 'embed');
      try {
        const { store, model, source } = ctx;
        const space = opts.layer === 'pixels' ? ('pixels' as const) : { layer: store.layer(opts.layer ? model.resolveLayer(opts.layer) : defaultStoreLayer(model, store.manifest.layers.map((l) => l.name), 'last', warner(opts, 'note'))).name };
        const spaceName = space === 'pixels' ? 'pixels' : space.layer;
        const spaceLabel = space === 'pixels' ? 'pixels' : model.layerLabel(space.layer);
        const classes = store.manifest.dataset.classes;
        const settings = { ...(opts.sample ? { sample: opts.sample } : {}), ...(opts.perplexity !== undefined ? { perplexity: opts.perplexity } : {}), ...(opts.neighbours ? { neighbours: opts.neighbours } : {}) };
        // every method's settings are checked against the points before any is computed: a
        // perplexity too large for t-SNE used to fail after PCA's files were written
        const available = await store.count();
        for (const method of methods) embedSettings(method, sampleSize(method, available, settings), settings, available);
        const embeddings = [];
        for (const method of methods) embeddings.push(await embedStore(store, space, method, { ...settings, seed: opts.seed, metric: opts.metric as 'l2' | 'cosine', ...job }));
        // all files are rendered first and written last, so a failure leaves none of them behind
        const files = new Map<string, Uint8Array | string>();
        const lines: string[] = [];
        for (const e of embeddings) {
          const method = e.method;
          for (const note of e.notes ?? []) warner(opts, 'note')(note);
          const base = join(opts.out, `${spaceName.replace(/^\/+/, '').replace(/[^\w.-]+/g, '_')}-${method}`); // ONNX names hold slashes
          const params = Object.entries(e.params).filter(([k]) => !['of', 'sample'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ');
          const fig = await scatterFigure(e, { classes, spaceLabel, subtitle: [`${model.name} on ${store.manifest.dataset.description}: ${e.ids.length} of ${e.params['of']} images`, params, ...(e.notes ?? [])] });
          files.set(`${base}.png`, fig.png);
          files.set(`${base}.svg`, fig.svg);
          const points = Array.from(e.ids, (id, i) => ({ id, label: e.labels[i]!, class: classes[e.labels[i]!] ?? null, x: e.coords[2 * i]!, y: e.coords[2 * i + 1]! }));
          files.set(`${base}.json`, `${JSON.stringify({ method, space: spaceName, model: model.name, dataset: store.manifest.dataset.description, params: e.params, ...(e.explained ? { explained: e.explained } : {}), ...(e.notes ? { notes: e.notes } : {}), ms: e.ms, points }, null, 1)}\n`);
          files.set(`${base}.csv`, `id,label,class,x,y\n${points.map((p) => `${p.id},${p.label},${JSON.stringify(p.class ?? '')},${p.x},${p.y}`).join('\n')}\n`);
          const written = [`${base}.png`, `${base}.svg`, `${base}.json`, `${base}.csv`];
          if (opts.grid > 0) {
            const snap = snapToGrid(e.coords, e.ids.length, Math.min(opts.grid, Math.floor(Math.sqrt(e.ids.length))), opts.seed);
            const images = new Map<number, RawImage>();
            for (const pi of snap.cells) if (pi >= 0) images.set(e.ids[pi]!, await source.display(e.ids[pi]!, model.meta.preprocessing));
            files.set(`${base}-grid.png`, await embeddingGridFigure(e, snap, images, { classes, spaceLabel }));
            written.push(`${base}-grid.png`);
          }
          lines.push(`${method} of ${spaceLabel} (${e.ids.length} points, ${(e.ms / 1000).toFixed(1)} s) -> ${written.join(', ')}`);
        }
        // a Ctrl-C while the figures were drawn writes nothing
        throwIfCancelled(job.signal, 'the embedding');
        for (const [file, data] of files) writeFileAtomic(file, data);
        // these lines name what was written: -q leaves them out, as every command's "wrote" line
        if (!opts.quiet) process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        job.done();
        ctx.store.close();
        await engine.dispose();
      }
    });
}
