// `convlens index`: streams a dataset through a model a chunk at a time and commits each chunk
// atomically into the store (see store.ts), in one process or across workers (distributed.ts).
// Resuming continues with the chunks that are not in the store; nothing in it is scanned again.
import { createHash } from 'node:crypto';
import { ConvLensError } from '../../engine/errors.js';
import type { DatasetSource } from '../../data/sources.js';
import type { Model } from '../../models/model.js';
import { SCALED_UP_NOTE_FACTOR, unscaledSize } from '../../io/image.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { defaultPixelShape, describeLayers, scanChunk, type ChunkResult, type Pool, type ScanSettings } from './chunk.js';
import { acquireWriterLock, commandLine, describeWriter, type WriterLock } from './lock.js';
import { DatasetStore, STORE_VERSION, type StoreManifest } from './store.js';

export interface IndexOptions extends JobOptions {
  /** layers to record (value or node names) */
  layers: readonly string[];
  /** top-k images kept per channel (default 16) */
  k?: number;
  /** how a feature map becomes a vector: spatial mean (default) or max */
  pool?: Pool;
  /** images per chunk: the unit of commit, resume and distribution (default 1024) */
  chunkSize?: number;
  /** images gathered before a commit (default max(chunkSize, 8192): fewer, larger table fragments) */
  commitImages?: number;
  /** what is writing, shown to a second writer that finds the store locked (default: this process's command line) */
  writer?: string;
  /** images per engine run (default 256) */
  batchSize?: number;
  /** scan only the first `limit` images */
  limit?: number;
  /** delete an existing store and start over (default: resume it) */
  fresh?: boolean;
  /** the model file, recorded so workers (and later commands) can reopen it; undefined = built-in */
  modelPath?: string;
  /** pixel vectors' [C, h, w] (default: the input, averaged down to at most 32x32) */
  pixelShape?: [number, number, number];
  /** build vector indexes once a table has this many rows (default 4096; smaller tables are searched flat) */
  minIndexRows?: number;
  /** run the chunks on job-queue workers instead of in this process */
  distributed?: import('./distributed.js').DistributedOptions;
}

export interface IndexReport {
  store: string;
  count: number;
  /** images scanned by this run, and already in the store when it started */
  scanned: number;
  resumed: number;
  chunks: number;
  seconds: number;
  imagesPerSecond: number;
  indexed: string[];
  layers: string[];
  /** what the run found and repaired (a dead writer's lock, rows of unfinished chunks) */
  notes: string[];
}

/**
 * A short hash of what decides a model's activations: its inputs' shapes, every node with its
 * attributes, and the weights. Resume refuses a different model, and the studio finds a store's
 * model by it: two exports of the same weights at different input sizes, or with different
 * strides, are different models.
 */
export function modelFingerprint(model: Model): string {
  const h = createHash('sha256');
  h.update('v2\n');
  for (const i of model.graph.inputs) h.update(`input|${i.name}|${i.dtype}|${(i.shape ?? []).join(',')}\n`);
  for (const n of model.graph.nodes) {
    h.update(`${n.op}|${n.inputs.join(',')}|${n.outputs.join(',')}`);
    for (const key of Object.keys(n.attrs).sort()) {
      const a = n.attrs[key]!;
      if (a.type === 'tensor') {
        h.update(`|${key}:${a.value.dtype}[${a.value.dims.join(',')}]`);
        hashBytes(h, a.value.data);
      } else h.update(`|${key}:${JSON.stringify(a.value)}`);
    }
    h.update('\n');
  }
  hashWeights(h, model);
  return h.digest('hex').slice(0, 24);
}

/**
 * The fingerprint stores made before version 2 recorded: nodes without attributes, no input
 * shapes. Such a store is still taken as made by a model with this hash and the recorded input.
 */
function legacyFingerprint(model: Model): string {
  const h = createHash('sha256');
  for (const n of model.graph.nodes) h.update(`${n.op}|${n.inputs.join(',')}|${n.outputs.join(',')}\n`);
  hashWeights(h, model);
  return h.digest('hex').slice(0, 24);
}

function hashWeights(h: ReturnType<typeof createHash>, model: Model): void {
  for (const [name, t] of [...model.graph.initializers.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(name);
    hashBytes(h, t.data);
  }
}

function hashBytes(h: ReturnType<typeof createHash>, data: ArrayBufferView): void {
  h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** What a store (or a scan's job) recorded about its model. */
export interface RecordedModel {
  fingerprint: string;
  /** the model's input shape, as recorded (stores record it; needed to accept a pre-version-2 fingerprint) */
  input?: readonly (number | string)[];
}

/** How to hash a model (callers that match many stores pass memoized ones). */
export interface FingerprintFunctions {
  current: (model: Model) => string;
  legacy: (model: Model) => string;
}

/** Whether `model` is the model a store recorded. */
export function isRecordedModel(recorded: RecordedModel, model: Model, hash: FingerprintFunctions = { current: modelFingerprint, legacy: legacyFingerprint }): boolean {
  if (hash.current(model) === recorded.fingerprint) return true;
  const shape = model.input.shape ?? [];
  return recorded.input !== undefined && recorded.input.length === shape.length && recorded.input.every((d, i) => d === shape[i]) && hash.legacy(model) === recorded.fingerprint;
}

/** Fingerprint functions that hash each model once (its graph must not change afterwards). */
export function memoizedFingerprints(): FingerprintFunctions {
  const memo = (f: (m: Model) => string): ((m: Model) => string) => {
    const known = new WeakMap<Model, string>();
    return (m) => {
      let v = known.get(m);
      if (v === undefined) known.set(m, (v = f(m)));
      return v;
    };
  };
  return { current: memo(modelFingerprint), legacy: memo(legacyFingerprint) };
}

export interface ChunkPlan {
  chunk: number;
  start: number;
  end: number;
}

export function planChunks(count: number, chunkSize: number): ChunkPlan[] {
  const out: ChunkPlan[] = [];
  for (let s = 0, c = 0; s < count; s += chunkSize, c++) out.push({ chunk: c, start: s, end: Math.min(count, s + chunkSize) });
  return out;
}

export function settingsOf(m: StoreManifest, batchSize: number): ScanSettings {
  return { layers: m.layers, k: m.k, pool: m.pool, batchSize, pixelShape: m.pixelShape };
}

/** What a store made with these options must say; resume checks the parts that matter. */
function wantedManifest(model: Model, source: DatasetSource, o: IndexOptions): StoreManifest {
  const count = Math.min(source.count, o.limit ?? Infinity);
  if (count <= 0) throw new ConvLensError('INVALID_ARGUMENT', `Nothing to scan: ${source.description} has ${source.count} images${o.limit !== undefined ? ` and --limit is ${o.limit}` : ''}.`, 'Give a dataset that holds images (a folder of images, an IDX file or folder, or a list file) and check its path and split (CLI: --split).');
  const k = o.k ?? 16;
  if (!Number.isInteger(k) || k < 1 || k > 1000) throw new ConvLensError('INVALID_ARGUMENT', `Top-k must be an integer in 1..1000, got ${k}.`, 'Keep from 1 to 1000 images per channel (CLI: --top).');
  return {
    version: STORE_VERSION,
    model: { name: model.name, fingerprint: modelFingerprint(model), ...(o.modelPath ? { path: o.modelPath } : {}), input: model.input.shape as number[], labels: model.labels },
    dataset: { spec: source.spec, kind: source.kind, description: source.description, count, fingerprint: source.fingerprint, classes: source.classes.length ? source.classes : model.labels },
    layers: describeLayers(model, o.layers),
    k,
    pool: o.pool ?? 'avg',
    chunkSize: o.chunkSize ?? 1024,
    pixelShape: o.pixelShape ?? defaultPixelShape(model),
    created: new Date().toISOString(),
  };
}

/**
 * Why the store at hand is not the scan asked for, or undefined. `total` is how many images the
 * source holds: the same source scanned with another --limit is told apart from another source
 * (the description already gives the source's size, so repeating counts beside it read as nonsense).
 */
function sameScan(a: StoreManifest, b: StoreManifest, model: Model, total: number, limit?: number): string | undefined {
  if (!isRecordedModel(a.model, model)) return `it was made with model "${a.model.name}" (${a.model.fingerprint}), not "${b.model.name}" (${b.model.fingerprint})`;
  if (a.dataset.fingerprint !== b.dataset.fingerprint) return `it was scanned from ${a.dataset.description}, and this run reads ${b.dataset.description}`;
  if (a.dataset.count !== b.dataset.count) {
    const part = (n: number): string => (n >= total ? `all ${n} images` : `the first ${n} images`);
    return `it holds ${part(a.dataset.count)} of ${a.dataset.description}; this run asks for ${part(b.dataset.count)}${limit !== undefined ? ` (--limit ${limit})` : ''}`;
  }
  const la = a.layers.map((l) => l.name).join(',');
  const lb = b.layers.map((l) => l.name).join(',');
  if (la !== lb) return `it records layers ${la}, not ${lb}`;
  if (a.k !== b.k || a.pool !== b.pool || a.chunkSize !== b.chunkSize || a.pixelShape.join('x') !== b.pixelShape.join('x')) {
    return `it was made with k ${a.k}, pool ${a.pool}, chunks of ${a.chunkSize}, pixels ${a.pixelShape.join('x')} (asked: k ${b.k}, pool ${b.pool}, chunks of ${b.chunkSize}, pixels ${b.pixelShape.join('x')})`;
  }
  return undefined;
}

/**
 * Opens the store for a scan: takes its writer lock (a second writer is refused, naming the
 * first), creates the store or reopens it after checking it is the same scan, and removes rows
 * of chunks that an interrupted run left uncommitted. The caller releases the lock.
 */
export async function prepareStore(model: Model, source: DatasetSource, dir: string, o: IndexOptions): Promise<{ store: DatasetStore; resumed: boolean; lock: WriterLock; notes: string[] }> {
  const want = wantedManifest(model, source, o);
  // before the store exists: a source the model cannot read (a gray 28x28 IDX set for an RGB
  // model) failed on its first batch and left a store of no images, which neighbors and patches
  // then read as a scan
  source.check?.(model.meta.preprocessing);
  const lock = acquireWriterLock(dir, o.writer ?? commandLine());
  const notes: string[] = [];
  if (lock.replaced) notes.push(`the previous writer of this store (${describeWriter(lock.replaced)}) ended without finishing; continuing its scan`);
  let store: DatasetStore | undefined;
  try {
    if (o.fresh) DatasetStore.remove(dir);
    let resumed = false;
    if (DatasetStore.exists(dir)) {
      store = await DatasetStore.open(dir);
      const why = sameScan(store.manifest, want, model, source.count, o.limit);
      if (why && (await store.doneChunks()).size === 0) {
        // a scan that never committed a chunk (it failed on its first images) holds nothing to keep
        store.close();
        DatasetStore.remove(dir);
        store = await DatasetStore.create(dir, want);
        notes.push(`replaced the store's earlier scan, which had not committed any images (${why})`);
      } else if (why) {
        const had = store.manifest.dataset;
        const sameImages = had.fingerprint === want.dataset.fingerprint && had.count !== want.dataset.count;
        const match = sameImages ? `${had.count >= source.count ? 'Leave out --limit' : `Use --limit ${had.count}`} to go on with this store, pass --fresh to replace it, or use another --store folder.` : 'Pass --fresh to replace it, or another --store folder.';
        throw new ConvLensError('INVALID_ARGUMENT', `The store "${dir}" holds a different scan: ${why}.`, match);
      } else resumed = true;
    } else {
      store = await DatasetStore.create(dir, want);
    }
    store.labelOf = (i) => source.item(i).label;
    store.nameOf = (i) => source.item(i).name;
    const removed = await store.removeUncommitted();
    if (removed.length) notes.push(`dropped the rows of chunk${removed.length > 1 ? 's' : ''} ${removed.join(', ')}, which an interrupted run left uncommitted (they are scanned again)`);
    return { store, resumed, lock, notes };
  } catch (e) {
    store?.close();
    lock.release();
    throw e;
  }
}

/** Indexes a dataset into a store (see the file comment). */
export async function indexDataset(model: Model, source: DatasetSource, dir: string, o: IndexOptions): Promise<IndexReport> {
  const t0 = performance.now();
  const { store, lock, notes } = await prepareStore(model, source, dir, o);
  try {
    const m = store.manifest;
    const plan = planChunks(m.dataset.count, m.chunkSize);
    const done = await store.doneChunks();
    const pending = plan.filter((c) => !done.has(c.chunk));
    const resumedImages = plan.filter((c) => done.has(c.chunk)).reduce((a, c) => a + c.end - c.start, 0);
    const total = m.dataset.count;
    let scanned = 0;
    const report = (phase: string): void => {
      const s = (performance.now() - t0) / 1000;
      o.onProgress?.({ done: resumedImages + scanned, total, phase, metrics: { 'img/s': scanned / Math.max(1e-3, s) } });
    };
    report(resumedImages ? `resuming (${resumedImages} already in the store)` : 'scanning');
    const settings = settingsOf(m, o.batchSize ?? 256);
    if (pending.length === 0 && m.complete) {
      report('done');
      return { store: dir, count: total, scanned: 0, resumed: resumedImages, chunks: plan.length, seconds: (performance.now() - t0) / 1000, imagesPerSecond: 0, indexed: m.complete.indexed, layers: m.layers.map((l) => l.name), notes };
    }
    if (pending.length) {
      if (o.distributed) {
        const { runDistributed } = await import('./distributed.js');
        await runDistributed(store, pending, settings, o.distributed, {
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.modelPath ? { modelPath: o.modelPath } : {}),
          onCommitted: (images) => {
            scanned += images;
            report('scanning (distributed)');
          },
        });
      } else {
        let buffer: ChunkResult[] = [];
        let lastCommit = performance.now();
        const flush = async (): Promise<void> => {
          if (buffer.length) await store.commit(buffer, done);
          buffer = [];
          lastCommit = performance.now();
        };
        const flushImages = o.commitImages ?? Math.max(m.chunkSize, 8192);
        try {
          for (const c of pending) {
            throwIfCancelled(o.signal, 'the scan');
            buffer.push(
              await scanChunk(model, source, settings, c.chunk, c.start, c.end, {
                ...(o.signal ? { signal: o.signal } : {}),
                onBatch: (images) => {
                  scanned += images;
                  report('scanning');
                },
              }),
            );
            if (buffer.reduce((a, r) => a + r.end - r.start, 0) >= flushImages || performance.now() - lastCommit > 15_000) await flush();
          }
        } finally {
          // finished chunks are kept, also on Ctrl-C or an error
          await flush();
        }
      }
    }
    report('building indexes');
    throwIfCancelled(o.signal, 'the scan');
    const indexed = await store.finalize(o.minIndexRows);
    const seconds = (performance.now() - t0) / 1000;
    store.manifest.complete = { at: new Date().toISOString(), seconds, indexed };
    store.saveManifest();
    report('done');
    const up = source.scaledUp?.();
    if (up) {
      const [h, w] = model.inputDims().slice(1);
      const [needH, needW] = unscaledSize(model.meta.preprocessing);
      const { name, from, factor } = up.example;
      notes.push(`${up.count} of the ${scanned} images scanned ${up.count === 1 ? 'was' : 'were'} scaled up ${SCALED_UP_NOTE_FACTOR}x or more to the model's ${w}x${h} input (e.g. ${name}, ${from[1]}x${from[0]}, ${Number(factor.toFixed(factor < 10 ? 1 : 0))}x): the model sees blurred pictures, so their features may mean little; images of ${needW}x${needH} pixels or more are not scaled up`);
    }
    return { store: dir, count: total, scanned, resumed: resumedImages, chunks: plan.length, seconds, imagesPerSecond: scanned / Math.max(1e-9, seconds), indexed, layers: m.layers.map((l) => l.name), notes };
  } catch (e) {
    if (e instanceof ConvLensError && e.code === 'CANCELLED') {
      const { images, total } = await store.status().catch(() => ({ images: 0, total: 0 }));
      throw new ConvLensError('CANCELLED', e.message, `Finished chunks are kept (${images} of ${total} images are in the store): run the same command again to continue.`, { cause: e });
    }
    throw e;
  } finally {
    store.close();
    lock.release();
  }
}
