// The dataset lens's store: an embedded LanceDB database in one folder (columnar Lance files,
// versioned, every write an atomic commit), plus `store.json` describing what was scanned.
//
// Tables (layer = index into manifest.layers):
//   chunks      chunk, start, end, worker, ms        one row per committed chunk: the commit marker
//   images      id, chunk, label, name
//   pixels      id, chunk, label, vector, unit       pixel vectors (model input, averaged down to <= 32x32)
//   features_L  id, chunk, label, vector, unit       pooled feature vector of layer L per image
//   topk        layer, channel, value, image, y, x, chunk   per-chunk top-k per channel (partials)
//   stats       layer, channel, chunk, n, sumMean, sumMax, max
//   top         layer, channel, rank, value, image, y, x    the merged top-k (written when the scan completes)
// `unit` is `vector` scaled to length 1, so cosine distance is half the squared L2 distance
// of the unit vectors and both metrics use an L2 IVF index (LanceDB IVF-Flat, built in).
//
// Atomicity and resume: a chunk's rows are written to the data tables first and its `chunks`
// row (the commit log) last. Readers of an incomplete store read only rows of chunks in the log,
// so rows of a chunk being written, or left by a run killed between the two writes, are never
// seen; the next writer deletes such rows when it opens the store, and a resumed scan recomputes
// exactly the chunks that are not in the log. A chunk already in the log is never written again,
// and rows of a chunk are cleared before it is written, so no image is ever stored twice. One
// writer at a time: see lock.ts.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import './quiet.js';
import * as lancedb from '@lancedb/lancedb';
import type { Data, DataType, FixedSizeList as FixedSizeListT, Table as ArrowTable } from 'apache-arrow';
import { ConvLensError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../io/files.js';
import { makeDirectories } from '../../util/make-directories.js';
import { parseJson } from '../../util/json.js';
import type { ChunkResult, LayerInfo, Pool } from './chunk.js';
import { currentWriter, WRITER_LOCK, type WriterInfo } from './lock.js';

export const STORE_VERSION = 1;

export interface StoreManifest {
  version: number;
  model: { name: string; fingerprint: string; path?: string; input: number[]; labels: string[] };
  dataset: { spec: string; kind: string; description: string; count: number; fingerprint: string; classes: string[] };
  layers: LayerInfo[];
  k: number;
  pool: Pool;
  chunkSize: number;
  pixelShape: [number, number, number];
  created: string;
  /** set when every chunk is in and the merged top-k and vector indexes are built */
  complete?: { at: string; seconds?: number; indexed: string[] };
}

export type Space = { layer: string } | 'pixels';
export type Metric = 'l2' | 'cosine';

export interface TopEntry {
  rank: number;
  value: number;
  image: number;
  y: number;
  x: number;
}

export interface ChannelStats {
  channel: number;
  /** mean over images of the channel's spatial mean */
  mean: number;
  /** mean over images of the channel's max unit */
  meanMax: number;
  max: number;
}

/** How much of a store is in: committed chunks and their images, and who is writing it now. */
export interface StoreStatus {
  complete: boolean;
  images: number;
  total: number;
  chunks: number;
  totalChunks: number;
  /** the live writer, when a scan is running on it */
  writer?: WriterInfo;
}

export interface Neighbour {
  id: number;
  label: number;
  distance: number;
}

const MANIFEST = 'store.json';

// LanceDB's JS layer is CommonJS and checks `instanceof` against its apache-arrow classes: build
// tables with the very same (CommonJS) module instance, not the ESM build of the package.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
const { Field, FixedSizeList, Float32, Float64, Int32, makeData, RecordBatch, Schema, Struct, Table, Utf8, vectorFromArray } = arrow;

// ---- Arrow helpers ----

const f32List = (dim: number): FixedSizeListT => new FixedSizeList(dim, new Field('item', new Float32(), true));

function column(type: DataType, values: ArrayLike<number> | string[], length: number): Data {
  if (type instanceof Utf8) return vectorFromArray(values as string[], new Utf8()).data[0]!;
  if (type instanceof FixedSizeList) {
    const child = makeData({ type: new Float32(), length: (values as Float32Array).length, data: values as Float32Array });
    return makeData({ type, length, nullCount: 0, child });
  }
  return makeData({ type: type as InstanceType<typeof Int32>, length, data: values as Int32Array });
}

/** An Arrow table with non-nullable columns from typed arrays (the same schema on every append). */
function arrowTable(cols: [string, DataType, ArrayLike<number> | string[]][], length: number): ArrowTable {
  const fields = cols.map(([name, type]) => new Field(name, type, false));
  const schema = new Schema(fields);
  const children = cols.map(([, type, values]) => column(type, values, length));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return new Table([batch]);
}

/** The rows of a fixed-size-list float column as one array. */
function flatVectors(t: ArrowTable, name: string, dim: number): Float32Array {
  const col = t.getChild(name);
  const out = new Float32Array(t.numRows * dim);
  if (!col) return out;
  let o = 0;
  for (const d of col.data) {
    const child = d.children[0]!;
    const vals = child.values as Float32Array;
    const from = (child.offset + d.offset * dim) | 0;
    out.set(vals.subarray(from, from + d.length * dim), o);
    o += d.length * dim;
  }
  return out;
}

const ints = (t: ArrowTable, name: string): Int32Array => Int32Array.from((t.getChild(name)?.toArray() ?? []) as ArrayLike<number>);
const floats = (t: ArrowTable, name: string): Float64Array => Float64Array.from((t.getChild(name)?.toArray() ?? []) as ArrayLike<number>);

function unitRows(v: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length / dim; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[i * dim + d]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[i * dim + d] = v[i * dim + d]! * inv;
  }
  return out;
}

/** Rows of `topk` partials merged into the global top-k (best first, ties to the smaller image id). */
export function mergeTop(rows: TopEntry[], k: number): TopEntry[] {
  return rows
    .slice()
    .sort((a, b) => b.value - a.value || a.image - b.image)
    .slice(0, k)
    .map((r, i) => ({ ...r, rank: i }));
}

// ---- the store ----

export class DatasetStore {
  private constructor(
    readonly dir: string,
    readonly db: lancedb.Connection,
    public manifest: StoreManifest,
  ) {}

  static exists(dir: string): boolean {
    return existsSync(join(dir, MANIFEST));
  }

  /** Opens an existing store (read or resume). */
  static async open(dir: string): Promise<DatasetStore> {
    const path = join(dir, MANIFEST);
    if (!existsSync(path)) {
      throw new ConvLensError('INPUT_UNREADABLE', `No dataset store at "${dir}" (no ${MANIFEST}).`, 'Index a dataset first (CLI: convlens index <dataset> --store DIR --layers ...).');
    }
    const { value, fault } = parseJson(readFileSync(path, 'utf8'));
    if (fault !== undefined) throw new ConvLensError('INPUT_UNREADABLE', `"${path}" is not a valid store description (not JSON: ${fault}).`, 'Delete the store folder and index again.');
    const manifest = value as StoreManifest;
    if (manifest.version !== STORE_VERSION) throw new ConvLensError('INPUT_UNREADABLE', `Store "${dir}" has format version ${manifest.version}; this ConvLens reads version ${STORE_VERSION}.`, 'Index the dataset again into a new folder.');
    return new DatasetStore(dir, await lancedb.connect(dir), manifest);
  }

  /** Creates a store (the folder may exist but must not hold a store). */
  static async create(dir: string, manifest: StoreManifest): Promise<DatasetStore> {
    makeDirectories(dir);
    writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return new DatasetStore(dir, await lancedb.connect(dir), manifest);
  }

  /** Deletes a store folder's contents (only when it is a store), keeping the writer's lock. */
  static remove(dir: string): void {
    if (!DatasetStore.exists(dir)) return;
    for (const name of readdirSync(dir)) if (!name.startsWith(WRITER_LOCK)) rmSync(join(dir, name), { recursive: true, force: true });
  }

  saveManifest(): void {
    writeFileAtomic(join(this.dir, MANIFEST), `${JSON.stringify(this.manifest, null, 2)}\n`);
  }

  close(): void {
    this.db.close();
  }

  layerIndex(name: string): number {
    const i = this.manifest.layers.findIndex((l) => l.name === name);
    if (i < 0) {
      throw new ConvLensError('UNKNOWN_NAME', `Layer "${name}" is not in the store "${this.dir}".`, `Scanned layers: ${this.manifest.layers.map((l) => l.name).join(', ')}. Index again with those layers too (CLI: --layers).`);
    }
    return i;
  }

  layer(name: string): LayerInfo {
    return this.manifest.layers[this.layerIndex(name)]!;
  }

  private tableCache = new Map<string, lancedb.Table>();

  private async table(name: string): Promise<lancedb.Table | undefined> {
    const hit = this.tableCache.get(name);
    if (hit) return hit;
    if (!(await this.db.tableNames()).includes(name)) return undefined;
    const t = await this.db.openTable(name);
    this.tableCache.set(name, t);
    return t;
  }

  private async append(name: string, data: ArrowTable): Promise<void> {
    if (data.numRows === 0) return;
    const t = await this.table(name);
    if (t) await t.add(data);
    else this.tableCache.set(name, await this.db.createTable(name, data));
  }

  private vectorTable(space: Space): { name: string; dim: number } {
    if (space === 'pixels') {
      const [c, h, w] = this.manifest.pixelShape;
      return { name: 'pixels', dim: c * h * w };
    }
    const i = this.layerIndex(space.layer);
    return { name: `features_${i}`, dim: this.manifest.layers[i]!.dim };
  }

  /** Chunks whose results are fully in the store (the commit log). */
  async doneChunks(): Promise<Set<number>> {
    const t = await this.table('chunks');
    if (!t) return new Set();
    const rows = await t.query().select(['chunk']).toArrow();
    return new Set(ints(rows, 'chunk'));
  }

  /**
   * The filter that keeps reads to rows of committed chunks; undefined once the store is
   * complete (its writer cleared every uncommitted row before marking it so).
   */
  private async committedOnly(): Promise<string | undefined> {
    if (this.manifest.complete) return undefined;
    const done = [...(await this.doneChunks())].sort((a, b) => a - b);
    return done.length ? `chunk IN (${done.join(', ')})` : 'chunk < -1';
  }

  /** How much of the store is in (see StoreStatus). */
  async status(): Promise<StoreStatus> {
    const m = this.manifest;
    const totalChunks = Math.ceil(m.dataset.count / m.chunkSize);
    const t = await this.table('chunks');
    let images = 0;
    const seen = new Set<number>();
    if (t) {
      const rows = await t.query().select(['chunk', 'start', 'end']).toArrow();
      const [c, s, e] = [ints(rows, 'chunk'), ints(rows, 'start'), ints(rows, 'end')];
      for (let r = 0; r < rows.numRows; r++) {
        if (seen.has(c[r]!)) continue;
        seen.add(c[r]!);
        images += e[r]! - s[r]!;
      }
    }
    const writer = currentWriter(this.dir);
    return { complete: !!m.complete, images, total: m.dataset.count, chunks: seen.size, totalChunks, ...(writer ? { writer } : {}) };
  }

  /** Removes rows of chunks that have no commit marker (left by a run killed mid-commit); returns those chunks. */
  async removeUncommitted(): Promise<number[]> {
    const done = [...(await this.doneChunks())];
    return this.deleteDataRows(done.length ? `chunk NOT IN (${done.join(', ')})` : 'chunk >= -1');
  }

  /** Removes the data rows of some chunks (not their commit-log rows). */
  private async removeRowsOf(chunks: number[]): Promise<number[]> {
    return chunks.length ? this.deleteDataRows(`chunk IN (${chunks.join(', ')})`) : [];
  }

  private async deleteDataRows(predicate: string): Promise<number[]> {
    const chunks = new Set<number>();
    for (const name of await this.db.tableNames()) {
      if (name === 'chunks' || name === 'top') continue;
      const t = await this.table(name);
      if (!t) continue;
      if ((await t.countRows(predicate)) === 0) continue;
      for (const c of ints(await t.query().where(predicate).select(['chunk']).toArrow(), 'chunk')) chunks.add(c);
      await t.delete(predicate);
    }
    return [...chunks].sort((a, b) => a - b);
  }

  /**
   * Commits finished chunks: data rows first, then their `chunks` rows. Idempotent: chunks
   * already in the commit log are skipped (a retried distributed shard whose first attempt also
   * finished), and rows a half-done earlier attempt left for the others are cleared first.
   */
  async commit(results: ChunkResult[], done?: Set<number>): Promise<ChunkResult[]> {
    const have = done ?? (await this.doneChunks());
    const fresh = results.filter((r, i) => !have.has(r.chunk) && results.findIndex((o) => o.chunk === r.chunk) === i).sort((a, b) => a.chunk - b.chunk);
    if (fresh.length === 0) return [];
    await this.removeRowsOf(fresh.map((r) => r.chunk));
    const m = this.manifest;
    const n = fresh.reduce((a, r) => a + (r.end - r.start), 0);
    const ids = new Int32Array(n);
    const chunkOf = new Int32Array(n);
    const labels = new Int32Array(n);
    const names: string[] = [];
    let o = 0;
    for (const r of fresh) {
      for (let i = r.start; i < r.end; i++) {
        ids[o] = i;
        chunkOf[o] = r.chunk;
        labels[o] = this.labelOf(i);
        names.push(this.nameOf(i));
        o++;
      }
    }
    const concat = (parts: Float32Array[]): Float32Array => {
      const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let p = 0;
      for (const x of parts) {
        out.set(x, p);
        p += x.length;
      }
      return out;
    };
    const vectorRows = (v: Float32Array, dim: number): ArrowTable =>
      arrowTable(
        [
          ['id', new Int32(), ids],
          ['chunk', new Int32(), chunkOf],
          ['label', new Int32(), labels],
          ['vector', f32List(dim), v],
          ['unit', f32List(dim), unitRows(v, dim)],
        ],
        n,
      );
    await this.append('images', arrowTable([['id', new Int32(), ids], ['chunk', new Int32(), chunkOf], ['label', new Int32(), labels], ['name', new Utf8(), names]], n));
    const [pc, ph, pw] = m.pixelShape;
    await this.append('pixels', vectorRows(concat(fresh.map((r) => r.pixels)), pc * ph * pw));
    for (let li = 0; li < m.layers.length; li++) {
      await this.append(`features_${li}`, vectorRows(concat(fresh.map((r) => r.layers[li]!.features)), m.layers[li]!.dim));
    }
    // top-k partials and statistics
    const top = { layer: [] as number[], channel: [] as number[], value: [] as number[], image: [] as number[], y: [] as number[], x: [] as number[], chunk: [] as number[] };
    const st = { layer: [] as number[], channel: [] as number[], chunk: [] as number[], n: [] as number[], sumMean: [] as number[], sumMax: [] as number[], max: [] as number[] };
    for (const r of fresh) {
      r.layers.forEach((l, li) => {
        const C = m.layers[li]!.channels;
        for (let c = 0; c < C; c++) {
          for (let j = 0; j < l.kk; j++) {
            const q = c * l.kk + j;
            top.layer.push(li);
            top.channel.push(c);
            top.value.push(l.topValue[q]!);
            top.image.push(l.topImage[q]!);
            top.y.push(l.topY[q]!);
            top.x.push(l.topX[q]!);
            top.chunk.push(r.chunk);
          }
          st.layer.push(li);
          st.channel.push(c);
          st.chunk.push(r.chunk);
          st.n.push(r.end - r.start);
          st.sumMean.push(l.sumMean[c]!);
          st.sumMax.push(l.sumMax[c]!);
          st.max.push(l.max[c]!);
        }
      });
    }
    await this.append(
      'topk',
      arrowTable(
        [
          ['layer', new Int32(), Int32Array.from(top.layer)],
          ['channel', new Int32(), Int32Array.from(top.channel)],
          ['value', new Float32(), Float32Array.from(top.value)],
          ['image', new Int32(), Int32Array.from(top.image)],
          ['y', new Int32(), Int32Array.from(top.y)],
          ['x', new Int32(), Int32Array.from(top.x)],
          ['chunk', new Int32(), Int32Array.from(top.chunk)],
        ],
        top.layer.length,
      ),
    );
    await this.append(
      'stats',
      arrowTable(
        [
          ['layer', new Int32(), Int32Array.from(st.layer)],
          ['channel', new Int32(), Int32Array.from(st.channel)],
          ['chunk', new Int32(), Int32Array.from(st.chunk)],
          ['n', new Int32(), Int32Array.from(st.n)],
          ['sumMean', new Float64(), Float64Array.from(st.sumMean)],
          ['sumMax', new Float64(), Float64Array.from(st.sumMax)],
          ['max', new Float32(), Float32Array.from(st.max)],
        ],
        st.layer.length,
      ),
    );
    await holdForFaultInjection(fresh.map((r) => r.chunk));
    // the commit marker, last
    await this.append(
      'chunks',
      arrowTable(
        [
          ['chunk', new Int32(), Int32Array.from(fresh.map((r) => r.chunk))],
          ['start', new Int32(), Int32Array.from(fresh.map((r) => r.start))],
          ['end', new Int32(), Int32Array.from(fresh.map((r) => r.end))],
          ['worker', new Utf8(), fresh.map((r) => r.worker)],
          ['ms', new Float64(), Float64Array.from(fresh.map((r) => r.ms))],
        ],
        fresh.length,
      ),
    );
    for (const r of fresh) have.add(r.chunk);
    return fresh;
  }

  /** Set by the scanner: labels and names of dataset items (the source knows them). */
  labelOf: (i: number) => number = () => -1;
  nameOf: (i: number) => string = (i) => `#${i}`;

  /**
   * After the last chunk: compacts the tables, writes the merged top-k, and builds the vector
   * indexes (IVF-Flat, about sqrt(n) partitions) once there are enough vectors for them to pay.
   */
  async finalize(minIndexRows = 4096): Promise<string[]> {
    const m = this.manifest;
    // merged top-k
    const partial = await this.table('topk');
    if (partial) {
      const t = await partial.query().select(['layer', 'channel', 'value', 'image', 'y', 'x']).toArrow();
      const [L, C, V, I, Y, X] = [ints(t, 'layer'), ints(t, 'channel'), floats(t, 'value'), ints(t, 'image'), ints(t, 'y'), ints(t, 'x')];
      const groups = new Map<number, TopEntry[]>();
      for (let r = 0; r < t.numRows; r++) {
        const key = L[r]! * 1_000_000 + C[r]!;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = []));
        g.push({ rank: 0, value: V[r]!, image: I[r]!, y: Y[r]!, x: X[r]! });
      }
      const out = { layer: [] as number[], channel: [] as number[], rank: [] as number[], value: [] as number[], image: [] as number[], y: [] as number[], x: [] as number[] };
      for (const key of [...groups.keys()].sort((a, b) => a - b)) {
        for (const e of mergeTop(groups.get(key)!, m.k)) {
          out.layer.push(Math.floor(key / 1_000_000));
          out.channel.push(key % 1_000_000);
          out.rank.push(e.rank);
          out.value.push(e.value);
          out.image.push(e.image);
          out.y.push(e.y);
          out.x.push(e.x);
        }
      }
      const table = arrowTable(
        [
          ['layer', new Int32(), Int32Array.from(out.layer)],
          ['channel', new Int32(), Int32Array.from(out.channel)],
          ['rank', new Int32(), Int32Array.from(out.rank)],
          ['value', new Float32(), Float32Array.from(out.value)],
          ['image', new Int32(), Int32Array.from(out.image)],
          ['y', new Int32(), Int32Array.from(out.y)],
          ['x', new Int32(), Int32Array.from(out.x)],
        ],
        out.layer.length,
      );
      this.tableCache.set('top', await this.db.createTable('top', table, { mode: 'overwrite' }));
    }
    const indexed: string[] = [];
    const names = await this.db.tableNames();
    for (const name of names) {
      const t = await this.table(name);
      if (!t) continue;
      await t.optimize({ cleanupOlderThan: new Date() });
      if (name !== 'pixels' && !name.startsWith('features_')) continue;
      const n = await t.countRows();
      if (n < minIndexRows) continue;
      // ~sqrt(n)/2 partitions trained on 64 samples each: a 60k x 784 table indexes in ~7 s on two cores
      const numPartitions = Math.max(2, Math.round(Math.sqrt(n) / 2));
      // cosine on raw pixels is rarely wanted: pixel `unit` vectors stay searchable, flat
      for (const col of name === 'pixels' ? ['vector'] : ['vector', 'unit']) {
        await t.createIndex(col, { config: lancedb.Index.ivfFlat({ numPartitions, distanceType: 'l2', maxIterations: 10, sampleRate: 64 }), replace: true });
        indexed.push(`${name}.${col}`);
      }
    }
    return indexed;
  }

  /** Images in the store (of committed chunks). */
  async count(): Promise<number> {
    const t = await this.table('images');
    if (!t) return 0;
    const only = await this.committedOnly();
    return only ? t.countRows(only) : t.countRows();
  }

  /** The top-k images of a channel: from the merged table once complete, else merged from the partials so far. */
  async top(layer: string, channel: number, k = this.manifest.k): Promise<TopEntry[]> {
    const li = this.layerIndex(layer);
    const C = this.manifest.layers[li]!.channels;
    if (!Number.isInteger(channel) || channel < 0 || channel >= C) {
      throw new ConvLensError('INVALID_ARGUMENT', `Layer "${layer}" has channels 0..${C - 1}; got ${channel}.`, `Pick a channel from 0 to ${C - 1}.`);
    }
    const merged = this.manifest.complete ? await this.table('top') : undefined;
    const src = merged ?? (await this.table('topk'));
    if (!src) return [];
    const only = merged ? undefined : await this.committedOnly();
    const t = await src.query().where(`layer = ${li} AND channel = ${channel}${only ? ` AND ${only}` : ''}`).select(['value', 'image', 'y', 'x']).toArrow();
    const [V, I, Y, X] = [floats(t, 'value'), ints(t, 'image'), ints(t, 'y'), ints(t, 'x')];
    const rows: TopEntry[] = Array.from({ length: t.numRows }, (_, r) => ({ rank: 0, value: V[r]!, image: I[r]!, y: Y[r]!, x: X[r]! }));
    return mergeTop(rows, Math.min(k, this.manifest.k));
  }

  /** Per-channel statistics of a layer, merged over chunks. */
  async channelStats(layer: string): Promise<ChannelStats[]> {
    const li = this.layerIndex(layer);
    const C = this.manifest.layers[li]!.channels;
    const out: ChannelStats[] = Array.from({ length: C }, (_, c) => ({ channel: c, mean: 0, meanMax: 0, max: -Infinity }));
    const t = await this.table('stats');
    if (!t) return out;
    const only = await this.committedOnly();
    const rows = await t.query().where(`layer = ${li}${only ? ` AND ${only}` : ''}`).select(['channel', 'n', 'sumMean', 'sumMax', 'max']).toArrow();
    const [ch, n, sm, sx, mx] = [ints(rows, 'channel'), ints(rows, 'n'), floats(rows, 'sumMean'), floats(rows, 'sumMax'), floats(rows, 'max')];
    const count = new Float64Array(C);
    for (let r = 0; r < rows.numRows; r++) {
      const s = out[ch[r]!]!;
      count[ch[r]!]! += n[r]!;
      s.mean += sm[r]!;
      s.meanMax += sx[r]!;
      s.max = Math.max(s.max, mx[r]!);
    }
    for (const s of out) {
      const k = count[s.channel]! || 1;
      s.mean /= k;
      s.meanMax /= k;
    }
    return out;
  }

  /** Label and name of images. */
  async images(ids?: readonly number[]): Promise<Map<number, { label: number; name: string }>> {
    const t = await this.table('images');
    const out = new Map<number, { label: number; name: string }>();
    if (!t) return out;
    if (ids?.length === 0) return out;
    const where = [ids ? `id IN (${ids.join(', ')})` : undefined, await this.committedOnly()].filter(Boolean);
    let q = t.query().select(['id', 'label', 'name']);
    if (where.length) q = q.where(where.join(' AND '));
    const rows = await q.toArrow();
    const id = ints(rows, 'id');
    const label = ints(rows, 'label');
    const name = rows.getChild('name')!.toArray() as string[];
    for (let r = 0; r < rows.numRows; r++) out.set(id[r]!, { label: label[r]!, name: name[r]! });
    return out;
  }

  /** Vectors of a space for some images (or all), in the order asked (all: by id). */
  async vectors(space: Space, ids?: readonly number[], metric: Metric = 'l2'): Promise<{ ids: Int32Array; labels: Int32Array; dim: number; data: Float32Array }> {
    const { name, dim } = this.vectorTable(space);
    const t = await this.table(name);
    if (!t) return { ids: new Int32Array(), labels: new Int32Array(), dim, data: new Float32Array() };
    const col = metric === 'cosine' ? 'unit' : 'vector';
    const where = [ids ? (ids.length ? `id IN (${ids.join(', ')})` : 'id < -1') : undefined, await this.committedOnly()].filter(Boolean);
    let q = t.query().select(['id', 'label', col]);
    if (where.length) q = q.where(where.join(' AND '));
    const rows = await q.toArrow();
    const got = ints(rows, 'id');
    const labels = ints(rows, 'label');
    const data = flatVectors(rows, col, dim);
    const order = ids ? Array.from(ids).map((id) => got.indexOf(id)) : Array.from(got.keys()).sort((a, b) => got[a]! - got[b]!);
    if (order.some((i) => i < 0)) {
      const id = ids![order.indexOf(-1)]!;
      throw new ConvLensError(
        'UNKNOWN_NAME',
        `Image ${id} is not in the store${this.manifest.complete || id < 0 || id >= this.manifest.dataset.count ? '' : ' yet (its chunk is not committed)'}.`,
        `The store holds images 0..${this.manifest.dataset.count - 1} once the scan is complete.`,
      );
    }
    const out = new Float32Array(order.length * dim);
    order.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
    return { ids: Int32Array.from(order, (r) => got[r]!), labels: Int32Array.from(order, (r) => labels[r]!), dim, data: out };
  }

  /**
   * The k nearest stored images to a query vector, through the vector index when there is one
   * (exact: a flat scan). Distances: Euclidean (l2) or cosine distance 1 - cos.
   */
  async nearest(space: Space, query: Float32Array, k: number, metric: Metric = 'l2', options: { exact?: boolean; nprobes?: number; exclude?: number } = {}): Promise<Neighbour[]> {
    const { name, dim } = this.vectorTable(space);
    if (query.length !== dim) throw new ConvLensError('SHAPE_MISMATCH', `A ${name} query needs ${dim} values, got ${query.length}.`, 'Compute the query with the model and layer the store was indexed with.');
    const t = await this.table(name);
    if (!t) return [];
    const col = metric === 'cosine' ? 'unit' : 'vector';
    const q = metric === 'cosine' ? unitRows(query, dim) : query;
    const extra = options.exclude !== undefined ? 1 : 0;
    let s = t.vectorSearch(Array.from(q)).column(col).distanceType('l2').select(['id', 'label', '_distance']).limit(k + extra);
    const only = await this.committedOnly();
    if (only) s = s.where(only);
    if (options.exact) s = s.bypassVectorIndex();
    else {
      const n = this.manifest.complete ? this.manifest.dataset.count : 0;
      // about 1/8 of the ~sqrt(n)/2 partitions, at least 20
      s = s.nprobes(options.nprobes ?? Math.max(20, Math.ceil(Math.sqrt(n) / 16)));
    }
    const rows = (await s.toArray()) as { id: number; label: number; _distance: number }[];
    return rows
      .filter((r) => r.id !== options.exclude)
      .slice(0, k)
      .map((r) => ({ id: r.id, label: r.label, distance: metric === 'cosine' ? r._distance / 2 : Math.sqrt(Math.max(0, r._distance)) }));
  }

  /** Whether a space has a vector index (else searches are flat scans). */
  async indexed(space: Space, metric: Metric = 'l2'): Promise<boolean> {
    const t = await this.table(this.vectorTable(space).name);
    if (!t) return false;
    const col = metric === 'cosine' ? 'unit' : 'vector';
    return (await t.listIndices()).some((i) => i.columns.includes(col));
  }
}

/**
 * Fault injection for the tests: CONVLENS_FAULT_HOLD_COMMIT=<chunk>:<file> makes a commit that
 * includes that chunk write <file> once its data rows are in, and wait there (before the commit
 * marker) until the file is deleted, so a test can kill the writer, or start a second one, at the
 * worst moment.
 */
async function holdForFaultInjection(chunks: number[]): Promise<void> {
  const fault = /^(\d+):(.+)$/.exec(process.env['CONVLENS_FAULT_HOLD_COMMIT'] ?? '');
  if (!fault || !chunks.includes(Number(fault[1]))) return;
  const file = fault[2]!;
  writeFileSync(file, `${process.pid}\n`);
  while (existsSync(file)) await new Promise((r) => setTimeout(r, 50));
}
