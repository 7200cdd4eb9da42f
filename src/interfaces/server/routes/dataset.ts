// The dataset lens in the studio (docs/api.md, "Dataset lens"): stores under one folder
// (CONVLENS_STORES, default out/stores), indexing and embeddings as jobs, top patches and
// neighbours as plain requests, dataset images by index.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import { SUBSET_DIR } from '../../../data/fashion-mnist.js';
import { openSource, type DatasetSource } from '../../../data/sources.js';
import { encodePng, type RawImage } from '../../../io/image.js';
import { loadBuiltinModel, loadModelFile } from '../../../models/load.js';
import type { Model } from '../../../models/model.js';
import { checkModel, storeSource } from '../../../methods/dataset/context.js';
import { embedStore, parseEmbedMethod } from '../../../methods/dataset/embed.js';
import { signedMapImage } from '../../../methods/dataset/figures.js';
import { nearestNeighbours } from '../../../methods/dataset/neighbors.js';
import { topPatches } from '../../../methods/dataset/patches.js';
import { currentWriter, describeWriter } from '../../../methods/dataset/lock.js';
import { indexDataset, modelFingerprint } from '../../../methods/dataset/scan.js';
import { DatasetStore, type Metric } from '../../../methods/dataset/store.js';
import { resizeImage } from '../../../render/heatmap.js';
import { checkId, idSchema, imageIdSchema, isId, toId } from '../ids.js';

interface Opened {
  store: DatasetStore;
  model: Model;
  source: DatasetSource;
}

const png64 = async (img: RawImage): Promise<string> => Buffer.from(await encodePng(img)).toString('base64');

/** Where the studio keeps its stores. */
export function storesRoot(): string {
  return resolve(process.env['CONVLENS_STORES'] ?? join('out', 'stores'));
}

async function info(id: string, s: DatasetStore): Promise<Record<string, unknown>> {
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

const DATASETS: Record<string, string> = {
  'fashion-mnist-subset': `${SUBSET_DIR}:test`,
  'fashion-mnist-subset:train': `${SUBSET_DIR}:train`,
  'fashion-mnist': 'fashion-mnist:train',
  'fashion-mnist:test': 'fashion-mnist:test',
};

export function registerDatasetRoutes({ app, models, images, jobs, files }: Studio): void {
  const root = storesRoot();
  const opened = new Map<string, Promise<Opened>>();

  const storeIds = (): string[] => (existsSync(root) ? readdirSync(root).filter((d) => isId(d) && DatasetStore.exists(join(root, d))).sort() : []);

  // A store names the model file and the dataset it was made from: both are read only from the
  // studio's data folders, like a dataset named in a request.
  const modelFor = (store: DatasetStore): Model => {
    for (const e of models.list()) if (e.model && modelFingerprint(e.model) === store.manifest.model.fingerprint) return e.model;
    const engine = models.require('builtin').engine;
    const path = store.manifest.model.path;
    const model = path === undefined ? loadBuiltinModel(engine) : loadModelFile(files.file(path, `The model file "${path}" of this store`).path, engine, (p, name) => files.read(p, name));
    checkModel(store, model);
    return model;
  };

  const open = (id: string): Promise<Opened> => {
    if (!isId(id) || !DatasetStore.exists(join(root, id))) {
      return Promise.reject(new ConvLensError('UNKNOWN_NAME', `No dataset store "${id}".`, 'GET /api/dataset/stores lists them; POST /api/dataset/index makes one.'));
    }
    let p = opened.get(id);
    if (!p) {
      p = (async () => {
        const store = await DatasetStore.open(join(root, id));
        return { store, model: modelFor(store), source: storeSource(store, undefined, { access: files }) };
      })();
      p.catch(() => opened.delete(id));
      opened.set(id, p);
    }
    return p;
  };

  app.addHook('onClose', async () => {
    for (const p of opened.values()) await p.then((o) => o.store.close()).catch(() => undefined);
  });

  app.get('/api/dataset/stores', async () => {
    const out: Record<string, unknown>[] = [];
    for (const id of storeIds()) {
      try {
        out.push(await info(id, (await open(id)).store));
      } catch (e) {
        out.push({ id, error: { message: (e as Error).message } });
      }
    }
    return { root, stores: out };
  });

  app.post<{ Body: { model: string; dataset?: string; layers?: string[]; k?: number; limit?: number; id?: string } }>(
    '/api/dataset/index',
    {
      schema: {
        body: {
          type: 'object',
          required: ['model'],
          properties: {
            model: idSchema,
            dataset: { type: 'string', minLength: 1, maxLength: 4096 },
            layers: { type: 'array', items: { type: 'string', maxLength: 256 }, minItems: 1, maxItems: 16 },
            k: { type: 'integer', minimum: 1, maximum: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 10000000 },
            id: idSchema,
          },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const model = models.require(req.body.model);
      const dsName = req.body.dataset ?? 'fashion-mnist-subset';
      // Paths are checked against the data folders before anything is read or created.
      const source = openSource(DATASETS[dsName] ?? dsName, { access: files });
      const layers = req.body.layers ?? model.pickableValues().filter((p) => p.shape.length === 4 && p.op === 'Relu').slice(-2).map((p) => p.name);
      const id = checkId('Store', req.body.id ?? toId(`${model.name}-${dsName}`, 'store'));
      // One writer per store (lock.ts): refused here when another job or process writes it; two
      // requests racing past this check are settled by the lock itself, in the job.
      const writer = currentWriter(join(root, id));
      if (writer) {
        return reply.status(409).send({ error: { code: 'INVALID_ARGUMENT', message: `The store "${id}" is being written by another index run: ${describeWriter(writer)}.`, hint: 'Wait for that job to finish (or cancel it), or index into another id.' } });
      }
      const reopen = async (): Promise<void> => {
        const existing = opened.get(id);
        opened.delete(id);
        (await existing?.catch(() => undefined))?.store.close();
      };
      const job = jobs.start('dataset-index', async (job) => {
        await reopen();
        const report = await indexDataset(model, source, join(root, id), { layers, k: req.body.k ?? 16, ...(req.body.limit ? { limit: req.body.limit } : {}), writer: `studio index job (store ${id})`, ...job });
        // readers opened while the job ran saw an incomplete store: open it afresh
        await reopen();
        return { store: await info(id, (await open(id)).store), report };
      }, [models.pin(req.body.model)]);
      return reply.status(202).send({ job });
    },
  );

  const params = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;
  const layer = { type: 'string', maxLength: 256 } as const;

  app.get<{ Params: { id: string } }>('/api/dataset/stores/:id', { schema: { params } }, async (req) => await info(req.params.id, (await open(req.params.id)).store));

  app.get<{ Params: { id: string }; Querystring: { layer: string } }>(
    '/api/dataset/stores/:id/channels',
    { schema: { params, querystring: { type: 'object', required: ['layer'], properties: { layer } } } },
    async (req) => {
      const { store } = await open(req.params.id);
      const layer = store.layer(req.query.layer).name;
      return { layer, channels: await store.channelStats(layer) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { layer: string; channel: number; k?: number; guided?: boolean } }>(
    '/api/dataset/stores/:id/top',
    {
      schema: {
        params,
        querystring: {
          type: 'object',
          required: ['layer', 'channel'],
          properties: { layer, channel: { type: 'integer', minimum: 0, maximum: 65535 }, k: { type: 'integer', minimum: 1, maximum: 100 }, guided: { type: 'boolean' } },
        },
      },
    },
    async (req) => {
      const { store, model, source } = await open(req.params.id);
      const layer = store.layer(model.resolveLayer(req.query.layer)).name;
      const [c] = await topPatches(model, source, store, layer, [req.query.channel], { k: req.query.k ?? 8, guided: req.query.guided ?? true });
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
          ...(p.guided ? { guided: await png64(resizeImage(signedMapImage(p.guided, p.crop.width, p.crop.height, p.guidedMax ?? 0), p.crop.width * scale, p.crop.height * scale, 'nearest')), guidedMax: p.guidedMax } : {}),
        })),
      );
      return { layer, channel: c!.channel, field: c!.field, global: c!.global, patches };
    },
  );

  app.get<{ Params: { id: string; n: number } }>(
    '/api/dataset/stores/:id/images/:n',
    { schema: { params: { type: 'object', required: ['id', 'n'], properties: { id: idSchema, n: { type: 'integer', minimum: 0, maximum: 2147483647 } } } } },
    async (req, reply) => {
      const { store, model, source } = await open(req.params.id);
      const n = req.params.n;
      if (n >= store.manifest.dataset.count) throw new ConvLensError('UNKNOWN_NAME', `No image ${req.params.n} in store "${req.params.id}" (0..${store.manifest.dataset.count - 1}).`);
      const img = await source.display(n, model.meta.preprocessing);
      return reply.type('image/png').header('cache-control', 'max-age=3600').send(Buffer.from(await encodePng(img)));
    },
  );

  app.post<{ Params: { id: string }; Body: { layer: string; image?: number; imageId?: string; k?: number; metric?: Metric } }>(
    '/api/dataset/stores/:id/neighbors',
    {
      schema: {
        params,
        body: {
          type: 'object',
          required: ['layer'],
          properties: { layer, image: { type: 'integer', minimum: 0, maximum: 2147483647 }, imageId: imageIdSchema, k: { type: 'integer', minimum: 1, maximum: 64 }, metric: { enum: ['l2', 'cosine'] } },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const { store, model, source } = await open(req.params.id);
      const b = req.body;
      if ((b.image === undefined) === (b.imageId === undefined)) throw new ConvLensError('INVALID_ARGUMENT', 'Give exactly one of `image` (a dataset index) or `imageId` (a studio image).');
      const layer = store.layer(model.resolveLayer(b.layer)).name;
      const prep = model.meta.preprocessing;
      let queryImg: RawImage;
      let r;
      if (b.image !== undefined) {
        if (b.image >= store.manifest.dataset.count) throw new ConvLensError('UNKNOWN_NAME', `No image ${b.image} in the store (0..${store.manifest.dataset.count - 1}).`);
        queryImg = await source.display(b.image, prep);
        r = await nearestNeighbours(model, store, { image: b.image }, { layer, k: b.k ?? 8, metric: b.metric ?? 'l2' });
      } else {
        const { tensor, display } = await images.input(model, b.imageId!);
        queryImg = display;
        r = await nearestNeighbours(model, store, { x: tensor }, { layer, k: b.k ?? 8, metric: b.metric ?? 'l2' });
      }
      const classes = store.manifest.dataset.classes;
      const withPng = (list: typeof r.feature): Promise<Record<string, unknown>[]> =>
        Promise.all(list.map(async (n) => ({ id: n.id, label: n.label, class: classes[n.label] ?? null, distance: n.distance, png: await png64(await source.display(n.id, prep)) })));
      const label = b.image !== undefined ? source.item(b.image).label : -1;
      return {
        layer,
        metric: r.metric,
        query: { png: await png64(queryImg), label, class: classes[label] ?? null },
        feature: await withPng(r.feature),
        pixel: await withPng(r.pixel),
        ms: r.ms,
        indexed: r.indexed,
      };
    },
  );

  app.post<{ Params: { id: string }; Body: { layer: string; method: string; sample?: number; seed?: number; metric?: Metric } }>(
    '/api/dataset/stores/:id/embed',
    {
      schema: {
        params,
        body: {
          type: 'object',
          required: ['layer', 'method'],
          properties: { layer, method: { type: 'string', maxLength: 16 }, sample: { type: 'integer', minimum: 10, maximum: 20000 }, seed: { type: 'integer', minimum: 0, maximum: 4294967295 }, metric: { enum: ['l2', 'cosine'] } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const method = parseEmbedMethod(req.body.method);
      const { store, model } = await open(req.params.id);
      const space = req.body.layer === 'pixels' ? ('pixels' as const) : { layer: store.layer(model.resolveLayer(req.body.layer)).name };
      const job = jobs.start('dataset-embed', async (job) => {
        const e = await embedStore(store, space, method, { ...(req.body.sample ? { sample: req.body.sample } : method === 'pca' ? { sample: 5000 } : {}), seed: req.body.seed ?? 0, metric: req.body.metric ?? 'l2', ...job });
        return {
          method: e.method,
          space: e.space,
          params: e.params,
          ...(e.explained ? { explained: e.explained } : {}),
          ms: e.ms,
          classes: store.manifest.dataset.classes,
          points: Array.from(e.ids, (id, i) => ({ id, label: e.labels[i]!, x: e.coords[2 * i]!, y: e.coords[2 * i + 1]! })),
        };
      });
      return reply.status(202).send({ job });
    },
  );
}
