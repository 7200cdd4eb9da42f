// The dataset lens's heavy parts as worker tasks: indexing (a job), embeddings (a job: t-SNE and
// UMAP are pure JavaScript and run for seconds), nearest neighbours and top patches (engine
// runs and LanceDB searches). Each task opens the store itself and closes it when done.
import { ConvLensError } from '../../../engine/errors.js';
import { openSource } from '../../../data/sources.js';
import { encodePng, type RawImage } from '../../../io/image.js';
import { storeSource } from '../../../methods/dataset/context.js';
import { embedStore, type EmbedMethod } from '../../../methods/dataset/embed.js';
import { signedMapImage } from '../../../methods/dataset/figures.js';
import { nearestNeighbours } from '../../../methods/dataset/neighbors.js';
import { topPatches } from '../../../methods/dataset/patches.js';
import { indexDataset } from '../../../methods/dataset/scan.js';
import { DatasetStore, type Metric } from '../../../methods/dataset/store.js';
import { resizeImage } from '../../../render/heatmap.js';
import type { TaskContext } from './context.js';

export interface DatasetArgs {
  'dataset-index': { id: string; dir: string; dataset: string; layers: string[]; k: number; limit?: number; batchSize: number };
  'dataset-embed': { dir: string; space: 'pixels' | { layer: string }; method: EmbedMethod; sample?: number; seed: number; metric: Metric };
  'dataset-neighbors': { dir: string; layer: string; image?: number; imageId?: string; k: number; metric: Metric };
  'dataset-top': { dir: string; layer: string; channel: number; k: number; guided: boolean; batchSize: number };
}

const png64 = async (img: RawImage): Promise<string> => Buffer.from(await encodePng(img)).toString('base64');

/** A store as GET /api/dataset/stores lists it. */
export async function storeInfo(id: string, s: DatasetStore): Promise<Record<string, unknown>> {
  const m = s.manifest;
  // an incomplete store shows only its committed chunks: say how much that is, and who writes it
  const status = m.complete ? undefined : await s.status();
  return {
    id,
    model: m.model.name,
    modelFingerprint: m.model.fingerprint,
    dataset: m.dataset.description,
    count: m.dataset.count,
    classes: m.dataset.classes,
    layers: m.layers.map((l) => ({ name: l.name, channels: l.channels, height: l.height, width: l.width })),
    k: m.k,
    complete: !!m.complete,
    ...(status ? { committed: status.images, ...(status.writer ? { writer: { pid: status.writer.pid, hostname: status.writer.hostname, since: status.writer.started, command: status.writer.command } } : {}) } : {}),
    created: m.created,
  };
}

async function withStore<T>(dir: string, use: (store: DatasetStore) => Promise<T>): Promise<T> {
  const store = await DatasetStore.open(dir);
  try {
    return await use(store);
  } finally {
    store.close();
  }
}

export async function indexTask(ctx: TaskContext, a: DatasetArgs['dataset-index']): Promise<unknown> {
  const model = ctx.model();
  const source = openSource(a.dataset, { access: ctx.files });
  const report = await indexDataset(model, source, a.dir, { layers: a.layers, k: a.k, batchSize: a.batchSize, ...(a.limit ? { limit: a.limit } : {}), writer: `studio index job (store ${a.id})`, ...ctx.job });
  return { store: await withStore(a.dir, (s) => storeInfo(a.id, s)), report };
}

export async function embedTask(ctx: TaskContext, a: DatasetArgs['dataset-embed']): Promise<unknown> {
  return withStore(a.dir, async (store) => {
    const e = await embedStore(store, a.space, a.method, { ...(a.sample ? { sample: a.sample } : {}), seed: a.seed, metric: a.metric, ...ctx.job });
    return {
      method: e.method,
      space: e.space,
      params: e.params,
      ...(e.explained ? { explained: e.explained } : {}),
      ...(e.notes ? { notes: e.notes } : {}),
      ms: e.ms,
      classes: store.manifest.dataset.classes,
      points: Array.from(e.ids, (id, i) => ({ id, label: e.labels[i]!, x: e.coords[2 * i]!, y: e.coords[2 * i + 1]! })),
    };
  });
}

export async function neighboursTask(ctx: TaskContext, a: DatasetArgs['dataset-neighbors']): Promise<unknown> {
  const model = ctx.model();
  return withStore(a.dir, async (store) => {
    const source = storeSource(store, undefined, { access: ctx.files });
    const prep = model.meta.preprocessing;
    let queryImg: RawImage;
    let r;
    if (a.image !== undefined) {
      queryImg = await source.display(a.image, prep);
      r = await nearestNeighbours(model, store, { image: a.image }, { layer: a.layer, k: a.k, metric: a.metric });
    } else {
      if (a.imageId === undefined) throw new ConvLensError('INVALID_ARGUMENT', 'Give exactly one of `image` (a dataset index) or `imageId` (a studio image).', 'Pass "image" (a dataset index) or "imageId" (an id from GET /api/images).');
      const { tensor, display } = await ctx.input(model, a.imageId);
      queryImg = display;
      r = await nearestNeighbours(model, store, { x: tensor }, { layer: a.layer, k: a.k, metric: a.metric });
    }
    const classes = store.manifest.dataset.classes;
    const withPng = (list: typeof r.feature): Promise<Record<string, unknown>[]> =>
      Promise.all(list.map(async (n) => ({ id: n.id, label: n.label, class: classes[n.label] ?? null, distance: n.distance, png: await png64(await source.display(n.id, prep)) })));
    const label = a.image !== undefined ? source.item(a.image).label : -1;
    return {
      layer: a.layer,
      metric: r.metric,
      query: { png: await png64(queryImg), label, class: classes[label] ?? null },
      feature: await withPng(r.feature),
      pixel: await withPng(r.pixel),
      ms: r.ms,
      indexed: r.indexed,
    };
  });
}

export async function topTask(ctx: TaskContext, a: DatasetArgs['dataset-top']): Promise<unknown> {
  const model = ctx.model();
  return withStore(a.dir, async (store) => {
    const source = storeSource(store, undefined, { access: ctx.files });
    const [c] = await topPatches(model, source, store, a.layer, [a.channel], { k: a.k, guided: a.guided, batchSize: a.batchSize, ...ctx.job });
    const classes = store.manifest.dataset.classes;
    const scale = Math.max(1, Math.ceil(64 / Math.max(c!.field[0], c!.field[1])));
    const patches = await Promise.all(
      c!.patches.map(async (p) => ({
        rank: p.rank,
        value: p.value,
        image: p.image,
        label: p.label,
        class: classes[p.label] ?? null,
        unit: [p.y, p.x],
        box: p.box,
        crop: await png64(resizeImage(p.crop, p.crop.width * scale, p.crop.height * scale, 'nearest')),
        ...(p.guided ? { guided: await png64(resizeImage(signedMapImage(p.guided, p.crop.width, p.crop.height, p.guidedScale ?? p.guidedMax ?? 0), p.crop.width * scale, p.crop.height * scale, 'nearest')), guidedMax: p.guidedMax, guidedScale: p.guidedScale } : {}),
      })),
    );
    return { layer: a.layer, channel: c!.channel, field: c!.field, global: c!.global, patches, silent: c!.silent };
  });
}
