import type { Command } from 'commander';
import { ConvLensError } from '../../../engine/errors.js';
import { prepareOutputFile, writeFileAtomic } from '../../../io/files.js';
import { loadInputs, scaledUpNote } from '../../../io/inputs.js';
import { tensorToRaw, type RawImage } from '../../../io/image.js';
import { sliceBatch } from '../../../methods/explain/arrays.js';
import type { Metric } from '../../../methods/dataset/store.js';
import type { NeighbourRow } from '../../../methods/dataset/figures.js';
import type { nearestNeighbours as NearestNeighbours } from '../../../methods/dataset/neighbors.js';
import { applyDescription, type CommonOptions, createEngine, defaultStoreLayer, fileOrFolderOut, folderPath, intIn, warner, withCommon } from '../common.js';
import { DEFAULT_STORE, defaultOut, distinctNames } from '../output.js';

interface NeighborsOptions extends CommonOptions {
  store: string;
  layer?: string;
  ids?: string;
  top: number;
  metric: string;
  pixelMetric: string;
  exact?: boolean;
  out: string;
  json?: boolean;
  data?: string;
}

const metricOf = (m: string): Metric => {
  if (m === 'l2' || m === 'cosine') return m;
  throw new ConvLensError('INVALID_ARGUMENT', `Unknown metric "${m}".`, 'Use l2 or cosine.');
};

export function define(command: Command): void {
  withCommon(command)
    .argument('[images...]', 'query images (files); or use --ids for images of the indexed dataset')
    .option('-l, --layer <name>', 'an indexed layer (default: the model profile\'s deepest feature layer, if indexed)')
    .option('-s, --store <dir>', 'store made by `convlens index`', folderPath, DEFAULT_STORE)
    .option('--ids <list>', 'query with indexed images: comma-separated dataset indices')
    .option('-k, --top <k>', 'neighbours per query (1-1000)', intIn(1, 1000), 8)
    .option('--metric <m>', 'feature-space metric: l2 or cosine', 'l2')
    .option('--pixel-metric <m>', 'pixel-space metric: l2 or cosine', 'l2')
    .option('--exact', 'flat scan instead of the vector index')
    .option('-o, --out <file|dir>', 'figure to write (.png), or a folder for neighbors.png', fileOrFolderOut('neighbors.png'), defaultOut('neighbors', 'neighbors.png'))
    .option('--data <spec>', 'the dataset, when it moved since indexing')
    .option('--json', 'print the neighbours as JSON')
    .action(async (images: string[], opts: NeighborsOptions) => {
      // heavy modules (LanceDB, BullMQ, ...) load only when the command runs
      const { openStoreContext } = await import('../../../methods/dataset/context.js');
      const { neighboursFigure } = await import('../../../methods/dataset/figures.js');
      const { nearestNeighbours } = await import('../../../methods/dataset/neighbors.js');
      if (!images.length && !opts.ids) throw new ConvLensError('INVALID_ARGUMENT', 'No query.', 'Pass image files, or --ids 0,17,42 for images of the indexed dataset.');
      prepareOutputFile(opts.out);
      const engine = createEngine(opts);
      const ctx = await openStoreContext(opts.store, engine, { ...(opts.model ? { modelPath: opts.model } : {}), ...(opts.data ? { data: opts.data } : {}), onNotice: warner(opts) });
      applyDescription(ctx.model, opts);
      try {
        const { store, model, source } = ctx;
        const prep = model.meta.preprocessing;
        const layer = store.layer(opts.layer ? model.resolveLayer(opts.layer) : defaultStoreLayer(model, store.manifest.layers.map((l) => l.name), 'last', warner(opts, 'note'))).name;
        const label = model.layerLabel(layer);
        const o = { layer, k: opts.top, metric: metricOf(opts.metric), pixelMetric: metricOf(opts.pixelMetric), ...(opts.exact ? { exact: true } : {}) };
        const queries: { name: string; image: RawImage; label: number; result: Awaited<ReturnType<typeof NearestNeighbours>> }[] = [];
        if (opts.ids) {
          for (const s of opts.ids.split(',')) {
            const id = Number(s.trim());
            if (!Number.isInteger(id) || id < 0 || id >= store.manifest.dataset.count) throw new ConvLensError('INVALID_ARGUMENT', `--ids: "${s}" is not an image of the store (0..${store.manifest.dataset.count - 1}).`, `Give --ids as comma-separated image numbers from 0 to ${store.manifest.dataset.count - 1}, e.g. --ids 0,5,42.`);
            const file = source.item(id).name;
            queries.push({ name: file === `#${id}` ? `image #${id}` : `#${id} ${file}`, image: await source.display(id, prep), label: source.item(id).label, result: await nearestNeighbours(model, store, { image: id }, o) });
          }
        }
        if (images.length) {
          const { batch, items } = await loadInputs(images, model);
          const scaled = scaledUpNote(items, model);
          if (scaled) warner(opts)(scaled);
          const names = distinctNames(items.map((item) => item.source));
          for (let i = 0; i < items.length; i++) {
            const x = sliceBatch(batch, i, i + 1);
            queries.push({ name: names[i]!, image: items[i]!.display ?? tensorToRaw(x, prep), label: -1, result: await nearestNeighbours(model, store, { x }, o) });
          }
        }
        // a query with no other image in the store (a one-image store) would get an empty row and no word why
        const alone = queries.filter((q) => !q.result.feature.length && !q.result.pixel.length).map((q) => q.name);
        if (alone.length) {
          const count = await store.count();
          const why = `the store holds ${count} image${count === 1 ? '' : 's'}, so there are no other images to compare with`;
          if (alone.length === queries.length) throw new ConvLensError('INVALID_ARGUMENT', `No neighbours for ${alone.join(', ')}: ${why}.`, `Index more images into the store (convlens index <dataset> --store ${opts.store}), or query it with image files.`);
          for (const name of alone) warner(opts, 'note')(`${name} has no neighbours: ${why}`);
        }
        const withImages = async (list: { id: number; label: number; distance: number }[]): Promise<NeighbourRow['feature']> => Promise.all(list.map(async (n) => ({ ...n, image: await source.display(n.id, prep) })));
        const rows: NeighbourRow[] = [];
        for (const q of queries) rows.push({ name: q.name, query: q.image, queryLabel: q.label, layer, layerLabel: label, metric: o.metric, pixelMetric: o.pixelMetric, feature: await withImages(q.result.feature), pixel: await withImages(q.result.pixel) });
        const classes = store.manifest.dataset.classes;
        const notes = alone.map((name) => `${name}: no other images in the store to compare with.`);
        writeFileAtomic(opts.out, await neighboursFigure(rows, { classes, title: `${model.name}: nearest neighbours in ${label} feature space vs pixel space`, notes }));
        const named = (ns: { id: number }[]): unknown[] => ns.map((n) => ({ ...n, name: source.item(n.id).name }));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ layer, queries: queries.map((q) => ({ name: q.name, label: q.label, ms: q.result.ms, indexed: q.result.indexed, feature: named(q.result.feature), pixel: named(q.result.pixel) })), figure: opts.out }, null, 2)}\n`);
        } else {
          const name = (l: number): string => classes[l] ?? String(l);
          // a folder's images by their file names (#2 alone said nothing); unlabeled ones (-1) have no class
          const neighbour = (n: { id: number; label: number }): string => {
            const file = source.item(n.id).name;
            return `#${n.id}${file !== `#${n.id}` ? ` ${file}` : ''}${n.label >= 0 ? ` (${name(n.label)})` : ''}`;
          };
          const list = (ns: { id: number; label: number }[]): string => (ns.length ? ns.map(neighbour).join(', ') : 'none');
          const lines = queries.map((q) => `${q.name}${q.label >= 0 ? ` (${name(q.label)})` : ''}: ${label} ${list(q.result.feature)} | pixels ${list(q.result.pixel)} (${q.result.ms.toFixed(1)} ms${q.result.indexed ? ', indexed' : ', flat scan'})`);
          process.stdout.write(`${lines.join('\n')}\n${opts.quiet ? '' : `wrote ${opts.out}\n`}`);
        }
      } finally {
        ctx.store.close();
        await engine.dispose();
      }
    });
}
