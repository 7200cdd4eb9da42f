// The dataset lens in the studio (docs/api.md, "Dataset lens"): stores under one folder
// (CONVLENS_STORES, default out/stores), indexing and embeddings as jobs, top patches and
// neighbours as plain requests, dataset images by index.
import { existsSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { clientGone, type Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import { SUBSET_DIR } from '../../../data/fashion-mnist.js';
import { combinedSpec, MAX_COMBINED, openSource, type DatasetSource } from '../../../data/sources.js';
import { encodePng } from '../../../io/image.js';
import { loadBuiltinModel, loadModelFile } from '../../../models/load.js';
import type { Model } from '../../../models/model.js';
import { checkModel, storeSource } from '../../../methods/dataset/context.js';
import { parseEmbedMethod } from '../../../methods/dataset/embed.js';
import { acquireWriterLock, currentWriter, describeWriter, type WriterLock } from '../../../methods/dataset/lock.js';
import { isRecordedModel, memoizedFingerprints } from '../../../methods/dataset/scan.js';
import { DatasetStore, type Metric } from '../../../methods/dataset/store.js';
import { checkId, idSchema, imageIdSchema, isId, toId } from '../ids.js';
import { storeInfo as info } from '../tasks/dataset.js';
import type { ModelRef } from '../workers/protocol.js';
import { indexableFolders, snapshotUploads, UPLOADS_DATASET } from './dataset-sources.js';
import { lookup } from '../../../util/lookup.js';

interface Opened {
  store: DatasetStore;
  model: Model;
  /** how a worker loads the same model */
  ref: ModelRef;
  source: DatasetSource;
}

/** Where the studio keeps its stores. */
export function storesRoot(): string {
  return resolve(process.env['CONVLENS_STORES'] ?? join('out', 'stores'));
}

/** Bytes per stored vector value an embedding holds: the float32 table, its copy for the sample, float64 PCA work. */
const EMBED_BYTES_PER_VALUE = 16;

const DATASETS: Record<string, string> = {
  'fashion-mnist-subset': `${SUBSET_DIR}:test`,
  'fashion-mnist-subset:train': `${SUBSET_DIR}:train`,
  'fashion-mnist': 'fashion-mnist:train',
  'fashion-mnist:test': 'fashion-mnist:test',
};

// Manifests, channel statistics and dataset images are read here; indexing, embeddings,
// neighbours and top patches run on worker processes (tasks/dataset.ts).
export function registerDatasetRoutes({ app, models, images, jobs, files, memory, task, call, uploadsDir }: Studio): void {
  const root = storesRoot();
  const opened = new Map<string, Promise<Opened>>();

  const storeIds = (): string[] => (existsSync(root) ? readdirSync(root).filter((d) => isId(d) && DatasetStore.exists(join(root, d))).sort() : []);

  // A store names the model file and the dataset it was made from: both are read only from the
  // studio's data folders, like a dataset named in a request.
  // A fingerprint hashes every weight: once per model.
  const fingerprints = memoizedFingerprints();
  const madeBy = (store: DatasetStore, m: Model): boolean => isRecordedModel(store.manifest.model, m, fingerprints);
  const modelFor = (store: DatasetStore): { model: Model; ref: ModelRef } => {
    for (const e of models.list()) if (e.model && e.ref && madeBy(store, e.model)) return { model: e.model, ref: e.ref };
    const engine = models.require('builtin').engine;
    const path = store.manifest.model.path;
    const file = path === undefined ? undefined : files.file(path, `The model file "${path}" of this store`).path;
    const model = file === undefined ? loadBuiltinModel(engine) : loadModelFile(file, engine, (p, name) => files.read(p, name));
    checkModel(store, model);
    return { model, ref: file === undefined ? { key: 'builtin', type: 'builtin' } : { key: `store-model:${file}`, type: 'data-file', path: file } };
  };

  const open = (id: string): Promise<Opened> => {
    if (!isId(id) || !DatasetStore.exists(join(root, id))) {
      return Promise.reject(new ConvLensError('UNKNOWN_NAME', `No dataset store "${id}".`, 'GET /api/dataset/stores lists them; POST /api/dataset/index makes one.'));
    }
    let p = opened.get(id);
    if (!p) {
      p = (async () => {
        const store = await DatasetStore.open(join(root, id));
        return { store, ...modelFor(store), source: storeSource(store, undefined, { access: files }) };
      })();
      p.catch(() => opened.delete(id));
      opened.set(id, p);
    }
    return p;
  };

  app.addHook('onClose', async () => {
    for (const p of opened.values()) await p.then((o) => o.store.close()).catch(() => undefined);
  });

  /** The id of a model in the registry that made this store (same weights), if one is loaded. */
  const modelIdOf = (store: DatasetStore): string | undefined => models.list().find((e) => e.model && madeBy(store, e.model))?.id;

  app.get('/api/dataset/stores', async () => {
    const out: Record<string, unknown>[] = [];
    for (const id of storeIds()) {
      try {
        const { store } = await open(id);
        const modelId = modelIdOf(store);
        out.push({ ...(await info(id, store)), ...(modelId !== undefined ? { modelId } : {}) });
      } catch (e) {
        out.push({ id, error: { message: (e as Error).message } });
      }
    }
    return { root, stores: out };
  });

  // What the Dataset tab offers to index: folders of images and IDX files under the data folders.
  app.get('/api/dataset/folders', async () => indexableFolders(files));

  app.post<{ Body: { model: string; dataset?: string | string[]; layers?: string[]; k?: number; limit?: number; id?: string } }>(
    '/api/dataset/index',
    {
      schema: {
        body: {
          type: 'object',
          required: ['model'],
          properties: {
            model: idSchema,
            dataset: {
              anyOf: [
                { type: 'string', minLength: 1, maxLength: 4096 },
                { type: 'array', items: { type: 'string', minLength: 1, maxLength: 4096 }, minItems: 1, maxItems: MAX_COMBINED },
              ],
            },
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
      // as `convlens index` refuses it: the job failed after a minute with "offset is out of bounds"
      if (!model.profile.input.fixed) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" takes images of any size; the dataset lens scans models with a fixed input size.`, 'Export the model with a fixed input size (e.g. [N, 3, 224, 224]).');
      const asked = req.body.dataset ?? 'fashion-mnist-subset';
      const layers = (req.body.layers ?? model.profile.featureLayers).map((l) => model.resolveLayer(l));
      if (!layers.length) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${model.name}" has no spatial layer to index.`, 'The dataset lens records feature maps: index with a convolutional model.');
      // A name for the store: the model and what it indexes (folder names, not whole paths).
      const nameOf = (d: string): string => basename(d.replace(/[\\/]+$/, '').replace(/:(train|test)$/, '')) + (/:(test)$/.test(d) ? '-test' : '');
      let dsName: string | undefined;
      let label: string;
      // The uploads are copied into a folder of their own (up to 256 MB) only once every check
      // that needs no copy has passed, and the copy is removed when the request is refused after
      // all: a refused request (a store being written, 409) left a full copy behind each time.
      let snapshotName: string | undefined;
      if (Array.isArray(asked)) {
        dsName = asked.length === 1 ? asked[0]! : combinedSpec(asked);
        label = asked.map(nameOf).join('+');
      } else if (asked === UPLOADS_DATASET) {
        const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
        snapshotName = `uploads-${stamp}`;
        label = snapshotName;
      } else {
        dsName = asked;
        label = lookup(DATASETS, asked) ? asked : nameOf(asked);
      }
      // Paths are checked against the data folders before anything is read or created, and the
      // images against the model's input (gray 28x28 IDX files do not become SqueezeNet input).
      const checkSource = (name: string): void => openSource(lookup(DATASETS, name) ?? name, { access: files }).check?.(model.meta.preprocessing);
      if (dsName !== undefined) checkSource(dsName);
      const id = checkId('Store', req.body.id ?? toId(`${model.name}-${label}`, 'store'));
      // One writer per store (lock.ts): refused here when another job or process writes it; two
      // requests racing past this check are settled by the lock itself, in the job.
      const writer = currentWriter(join(root, id));
      if (writer) {
        return reply.status(409).send({ error: { code: 'INVALID_ARGUMENT', message: `The store "${id}" is being written by another index run: ${describeWriter(writer)}.`, hint: 'Wait for that job to finish (or cancel it), or index into another id.' } });
      }
      const snapshot = snapshotName === undefined ? undefined : (await snapshotUploads(images, uploadsDir, snapshotName)).path;
      const dataset = snapshot ?? dsName!;
      try {
        if (snapshot !== undefined) checkSource(snapshot);
        // Images per engine run: what the job budget holds (forward values of every layer), up to the scan's default.
        const batchSize = memory.batch('Indexing', model, 'forward', { max: 256 });
        const request = task('dataset-index', { id, dir: join(root, id), dataset: lookup(DATASETS, dataset) ?? dataset, layers, k: req.body.k ?? 16, ...(req.body.limit ? { limit: req.body.limit } : {}), batchSize }, { model: req.body.model });
        // The store this job rewrites is closed here, and after the job (readers opened meanwhile
        // saw an incomplete store): the next use opens it as it is then.
        const forget = async (): Promise<void> => {
          const existing = opened.get(id);
          opened.delete(id);
          (await existing?.catch(() => undefined))?.store.close();
        };
        await forget();
        const job = jobs.submit('dataset-index', request, [models.pin(req.body.model)], async (result) => {
          await forget();
          return result;
        });
        return reply.status(202).send({ job });
      } catch (e) {
        if (snapshot !== undefined) await rm(snapshot, { recursive: true, force: true });
        throw e;
      }
    },
  );

  const params = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;
  const layer = { type: 'string', maxLength: 256 } as const;

  app.get<{ Params: { id: string } }>('/api/dataset/stores/:id', { schema: { params } }, async (req) => await info(req.params.id, (await open(req.params.id)).store));
  // Deleting a store: its folder, and the copy of the uploads it was made from (that copy exists
  // for it alone). Stores and copies otherwise only pile up in a studio left running. The
  // folder is renamed away first, so no reader sees half of it, under the store's writer lock,
  // so no index job writes it meanwhile.
  app.delete<{ Params: { id: string } }>('/api/dataset/stores/:id', { schema: { params } }, async (req, reply) => {
    const id = req.params.id;
    const dir = join(root, id);
    const { store } = await open(id);
    const spec = store.manifest.dataset.spec;
    let lock: WriterLock;
    try {
      lock = acquireWriterLock(dir, 'a studio request deleting the store');
    } catch (e) {
      return reply.status(409).send({ error: { code: 'INVALID_ARGUMENT', message: (e as Error).message, hint: 'Wait for the index job to finish (or cancel it), then delete the store.' } });
    }
    const removed = [dir];
    try {
      opened.delete(id);
      store.close();
      const gone = join(root, `.deleting-${id}-${process.pid}-${Date.now()}`);
      await rename(dir, gone);
      await rm(gone, { recursive: true, force: true });
      const copies = resolve(uploadsDir, 'studio-uploads');
      const source = resolve(spec);
      const sharedWith = async (): Promise<boolean> => {
        for (const other of storeIds()) if (resolve((await open(other)).store.manifest.dataset.spec) === source) return true;
        return false;
      };
      if (dirname(source) === copies && !(await sharedWith())) {
        await rm(source, { recursive: true, force: true });
        removed.push(source);
      }
    } finally {
      lock.release();
    }
    return { deleted: id, removed };
  });

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
    async (req, reply) => {
      const { store, model, ref } = await open(req.params.id);
      const layer = store.layer(model.resolveLayer(req.query.layer)).name;
      // Guided-backprop maps of the top images, as many per gradient run as the budget holds.
      // Without them no model runs (the store holds the activations), so when the maps do not
      // fit and were not asked for by name, the crops still come, with the reason beside them.
      let guided = req.query.guided ?? true;
      let guidedSkipped: string | undefined;
      let batchSize = 1;
      if (guided) {
        try {
          batchSize = memory.batch('Guided-backprop maps of top patches', model, 'gradient', { max: 64, worker: 'interactive' });
        } catch (e) {
          if (req.query.guided === true || !(e instanceof ConvLensError)) throw e;
          guided = false;
          guidedSkipped = e.message;
        }
      }
      const result = await call('dataset-top', { dir: store.dir, layer, channel: req.query.channel, k: req.query.k ?? 8, guided, batchSize }, { model: ref, budgetBytes: memory.budget(model, 'interactive') }, clientGone(reply));
      return guidedSkipped ? { ...(result as object), guidedSkipped } : result;
    },
  );

  app.get<{ Params: { id: string; n: number } }>(
    '/api/dataset/stores/:id/images/:n',
    { schema: { params: { type: 'object', required: ['id', 'n'], properties: { id: idSchema, n: { type: 'integer', minimum: 0, maximum: 2147483647 } } } } },
    async (req, reply) => {
      const { store, model, source } = await open(req.params.id);
      const n = req.params.n;
      if (n >= store.manifest.dataset.count) throw new ConvLensError('UNKNOWN_NAME', `No image ${req.params.n} in store "${req.params.id}" (0..${store.manifest.dataset.count - 1}).`, `Ask for an image number from 0 to ${store.manifest.dataset.count - 1}.`);
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
    async (req, reply) => {
      const { store, model, ref } = await open(req.params.id);
      const b = req.body;
      if ((b.image === undefined) === (b.imageId === undefined)) throw new ConvLensError('INVALID_ARGUMENT', 'Give exactly one of `image` (a dataset index) or `imageId` (a studio image).', 'Pass "image" (a dataset index) or "imageId" (an id from GET /api/images) in the request body, not both.');
      const layer = store.layer(model.resolveLayer(b.layer)).name;
      if (b.image !== undefined && b.image >= store.manifest.dataset.count) throw new ConvLensError('UNKNOWN_NAME', `No image ${b.image} in the store (0..${store.manifest.dataset.count - 1}).`, `Pass an "image" from 0 to ${store.manifest.dataset.count - 1}.`);
      if (b.imageId !== undefined) images.require(b.imageId);
      const args = { dir: store.dir, layer, k: b.k ?? 8, metric: b.metric ?? 'l2', ...(b.image !== undefined ? { image: b.image } : { imageId: b.imageId! }) } as const;
      return call('dataset-neighbors', args, { model: ref, images: b.imageId !== undefined ? [b.imageId] : [], budgetBytes: memory.budget(model, 'interactive') }, clientGone(reply));
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
      // Every stored vector of the space is read, then a sample embedded: bounded by the job budget.
      const dim = space === 'pixels' ? store.manifest.pixelShape.reduce((a, d) => a * d, 1) : store.layer(space.layer).channels;
      memory.check(`Embedding ${store.manifest.dataset.count} vectors of ${dim} values`, EMBED_BYTES_PER_VALUE * store.manifest.dataset.count * dim);
      const sample = req.body.sample ?? (method === 'pca' ? 5000 : undefined);
      const request = task('dataset-embed', { dir: store.dir, space, method, ...(sample ? { sample } : {}), seed: req.body.seed ?? 0, metric: req.body.metric ?? 'l2' }, { budgetBytes: memory.budget() });
      const job = jobs.submit('dataset-embed', request);
      return reply.status(202).send({ job });
    },
  );
}
