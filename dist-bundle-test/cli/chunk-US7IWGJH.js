import {
  defaultPixelShape,
  describeLayers,
  scanChunk
} from "./chunk-REQFKBTL.js";
import {
  ensureDir,
  writeFileAtomic
} from "./chunk-4WR5QSMB.js";
import {
  throwIfCancelled
} from "./chunk-GNZAA2KB.js";
import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/methods/dataset/scan.js
import { createHash } from "node:crypto";

// dist/methods/dataset/lock.js
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
var WRITER_LOCK = "writer.lock";
var held = /* @__PURE__ */ new Map();
var exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled)
    return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [path, content] of held)
      releaseIfOurs(path, content);
  });
}
function releaseIfOurs(path, content) {
  try {
    if (readFileSync(path, "utf8") === content)
      rmSync(path, { force: true });
  } catch {
  }
}
function readLock(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e.code === "ENOENT")
      return void 0;
    throw e;
  }
  try {
    const info = JSON.parse(text);
    if (typeof info.pid === "number" && typeof info.hostname === "string")
      return { info, text };
  } catch {
  }
  return { text };
}
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
function isStale(path, lock) {
  const { info } = lock;
  if (!info) {
    try {
      return Date.now() - statSync(path).mtimeMs > 1e4;
    } catch {
      return false;
    }
  }
  if (info.hostname !== hostname())
    return false;
  if (info.pid === process.pid)
    return held.get(path) !== lock.text;
  return !pidAlive(info.pid);
}
function commandLine() {
  const script = process.argv[1] ?? "";
  const name = /convlens(\.js)?$/.test(script) ? "convlens" : script.split(/[\\/]/).pop() || "node";
  return [name, ...process.argv.slice(2)].join(" ");
}
function describeWriter(w) {
  const since = new Date(w.started);
  const age = Math.max(0, Math.round((Date.now() - since.getTime()) / 1e3));
  const ago = age < 120 ? `${age} s ago` : age < 7200 ? `${Math.round(age / 60)} min ago` : `${(age / 3600).toFixed(1)} h ago`;
  return `pid ${w.pid} on ${w.hostname} ("${w.command}"), since ${since.toISOString()} (${ago})`;
}
function currentWriter(dir) {
  const path = join(dir, WRITER_LOCK);
  const lock = readLock(path);
  if (!lock?.info || isStale(path, lock))
    return void 0;
  return lock.info;
}
var pause = (ms) => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
function takeOver(path, staleText) {
  const marker = `${path}.takeover`;
  try {
    mkdirSync(marker);
  } catch (e) {
    if (e.code !== "EEXIST")
      throw e;
    try {
      if (Date.now() - statSync(marker).mtimeMs > 1e4)
        rmdirSync(marker);
    } catch {
    }
    return false;
  }
  try {
    if (readLock(path)?.text === staleText)
      rmSync(path, { force: true });
  } finally {
    rmdirSync(marker);
  }
  return true;
}
function acquireWriterLock(dir, command) {
  try {
    ensureDir(dir);
  } catch (e) {
    throw new ConvLensError("INVALID_ARGUMENT", e.message.replace("output folder", "store folder"), "Choose another --store folder.", { cause: e });
  }
  const path = join(dir, WRITER_LOCK);
  const info = { pid: process.pid, hostname: hostname(), started: (/* @__PURE__ */ new Date()).toISOString(), command };
  const content = `${JSON.stringify(info)}
`;
  let replaced;
  for (let attempt = 0; attempt < 50; attempt++) {
    let fd;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if (e.code !== "EEXIST") {
        throw new ConvLensError("INVALID_ARGUMENT", `Cannot create the writer lock "${path}": ${e.message}.`, "Check that the store folder is writable.", { cause: e });
      }
      const lock = readLock(path);
      if (!lock)
        continue;
      if (isStale(path, lock)) {
        replaced = lock.info ?? replaced;
        if (!takeOver(path, lock.text))
          pause(20);
        continue;
      }
      const w = lock.info;
      if (!w && attempt < 49) {
        pause(20);
        continue;
      }
      throw new ConvLensError("INVALID_ARGUMENT", w ? `The store "${dir}" is being written by another index run: ${describeWriter(w)}.` : `The store "${dir}" is being written by another index run (${path} exists).`, w && w.hostname !== hostname() ? `Wait for it to finish, or use another --store. If no ConvLens runs on ${w.hostname} any more, delete ${path}.` : "Wait for it to finish (or stop it: finished chunks are kept and the same command resumes), or use another --store.");
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    held.set(path, content);
    installExitHook();
    return {
      path,
      info,
      ...replaced ? { replaced } : {},
      release: () => {
        if (held.get(path) !== content)
          return;
        held.delete(path);
        releaseIfOurs(path, content);
      }
    };
  }
  throw new ConvLensError("RUNTIME_FAILURE", `Could not take the writer lock "${path}" (it kept changing hands).`, "Another process is starting and stopping writes to this store; try again.");
}

// dist/methods/dataset/store.js
import { existsSync, mkdirSync as mkdirSync2, readdirSync, readFileSync as readFileSync2, rmSync as rmSync2, writeFileSync } from "node:fs";
import { join as join2 } from "node:path";
import { createRequire } from "node:module";

// dist/methods/dataset/quiet.js
process.env["LANCEDB_LOG"] ??= "error";

// dist/methods/dataset/store.js
import * as lancedb from "@lancedb/lancedb";
var STORE_VERSION = 1;
var MANIFEST = "store.json";
var arrow = createRequire(import.meta.url)("apache-arrow");
var { Field, FixedSizeList, Float32, Float64, Int32, makeData, RecordBatch, Schema, Struct, Table, Utf8, vectorFromArray } = arrow;
var f32List = (dim) => new FixedSizeList(dim, new Field("item", new Float32(), true));
function column(type, values, length) {
  if (type instanceof Utf8)
    return vectorFromArray(values, new Utf8()).data[0];
  if (type instanceof FixedSizeList) {
    const child = makeData({ type: new Float32(), length: values.length, data: values });
    return makeData({ type, length, nullCount: 0, child });
  }
  return makeData({ type, length, data: values });
}
function arrowTable(cols, length) {
  const fields = cols.map(([name, type]) => new Field(name, type, false));
  const schema = new Schema(fields);
  const children = cols.map(([, type, values]) => column(type, values, length));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return new Table([batch]);
}
function flatVectors(t, name, dim) {
  const col = t.getChild(name);
  const out = new Float32Array(t.numRows * dim);
  if (!col)
    return out;
  let o = 0;
  for (const d of col.data) {
    const child = d.children[0];
    const vals = child.values;
    const from = child.offset + d.offset * dim | 0;
    out.set(vals.subarray(from, from + d.length * dim), o);
    o += d.length * dim;
  }
  return out;
}
var ints = (t, name) => Int32Array.from(t.getChild(name)?.toArray() ?? []);
var floats = (t, name) => Float64Array.from(t.getChild(name)?.toArray() ?? []);
function unitRows(v, dim) {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length / dim; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++)
      s += v[i * dim + d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++)
      out[i * dim + d] = v[i * dim + d] * inv;
  }
  return out;
}
function mergeTop(rows, k) {
  return rows.slice().sort((a, b) => b.value - a.value || a.image - b.image).slice(0, k).map((r, i) => ({ ...r, rank: i }));
}
var DatasetStore = class _DatasetStore {
  dir;
  db;
  manifest;
  constructor(dir, db, manifest) {
    this.dir = dir;
    this.db = db;
    this.manifest = manifest;
  }
  static exists(dir) {
    return existsSync(join2(dir, MANIFEST));
  }
  /** Opens an existing store (read or resume). */
  static async open(dir) {
    const path = join2(dir, MANIFEST);
    if (!existsSync(path)) {
      throw new ConvLensError("INPUT_UNREADABLE", `No dataset store at "${dir}" (no ${MANIFEST}).`, "Make one with `convlens index <dataset> --store DIR --layers ...`.");
    }
    let manifest;
    try {
      manifest = JSON.parse(readFileSync2(path, "utf8"));
    } catch (e) {
      throw new ConvLensError("INPUT_UNREADABLE", `"${path}" is not a valid store description (not JSON).`, "Delete the store folder and index again.", { cause: e });
    }
    if (manifest.version !== STORE_VERSION)
      throw new ConvLensError("INPUT_UNREADABLE", `Store "${dir}" has format version ${manifest.version}; this ConvLens reads version ${STORE_VERSION}.`, "Index the dataset again into a new folder.");
    return new _DatasetStore(dir, await lancedb.connect(dir), manifest);
  }
  /** Creates a store (the folder may exist but must not hold a store). */
  static async create(dir, manifest) {
    mkdirSync2(dir, { recursive: true });
    writeFileAtomic(join2(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}
`);
    return new _DatasetStore(dir, await lancedb.connect(dir), manifest);
  }
  /** Deletes a store folder's contents (only when it is a store), keeping the writer's lock. */
  static remove(dir) {
    if (!_DatasetStore.exists(dir))
      return;
    for (const name of readdirSync(dir))
      if (!name.startsWith(WRITER_LOCK))
        rmSync2(join2(dir, name), { recursive: true, force: true });
  }
  saveManifest() {
    writeFileAtomic(join2(this.dir, MANIFEST), `${JSON.stringify(this.manifest, null, 2)}
`);
  }
  close() {
    this.db.close();
  }
  layerIndex(name) {
    const i = this.manifest.layers.findIndex((l) => l.name === name);
    if (i < 0) {
      throw new ConvLensError("UNKNOWN_NAME", `Layer "${name}" is not in the store "${this.dir}".`, `Scanned layers: ${this.manifest.layers.map((l) => l.name).join(", ")}. Index again with --layers to add others.`);
    }
    return i;
  }
  layer(name) {
    return this.manifest.layers[this.layerIndex(name)];
  }
  tableCache = /* @__PURE__ */ new Map();
  async table(name) {
    const hit = this.tableCache.get(name);
    if (hit)
      return hit;
    if (!(await this.db.tableNames()).includes(name))
      return void 0;
    const t = await this.db.openTable(name);
    this.tableCache.set(name, t);
    return t;
  }
  async append(name, data) {
    if (data.numRows === 0)
      return;
    const t = await this.table(name);
    if (t)
      await t.add(data);
    else
      this.tableCache.set(name, await this.db.createTable(name, data));
  }
  vectorTable(space) {
    if (space === "pixels") {
      const [c, h, w] = this.manifest.pixelShape;
      return { name: "pixels", dim: c * h * w };
    }
    const i = this.layerIndex(space.layer);
    return { name: `features_${i}`, dim: this.manifest.layers[i].dim };
  }
  /** Chunks whose results are fully in the store (the commit log). */
  async doneChunks() {
    const t = await this.table("chunks");
    if (!t)
      return /* @__PURE__ */ new Set();
    const rows = await t.query().select(["chunk"]).toArrow();
    return new Set(ints(rows, "chunk"));
  }
  /**
   * The filter that keeps reads to rows of committed chunks; undefined once the store is
   * complete (its writer cleared every uncommitted row before marking it so).
   */
  async committedOnly() {
    if (this.manifest.complete)
      return void 0;
    const done = [...await this.doneChunks()].sort((a, b) => a - b);
    return done.length ? `chunk IN (${done.join(", ")})` : "chunk < -1";
  }
  /** How much of the store is in (see StoreStatus). */
  async status() {
    const m = this.manifest;
    const totalChunks = Math.ceil(m.dataset.count / m.chunkSize);
    const t = await this.table("chunks");
    let images = 0;
    const seen = /* @__PURE__ */ new Set();
    if (t) {
      const rows = await t.query().select(["chunk", "start", "end"]).toArrow();
      const [c, s, e] = [ints(rows, "chunk"), ints(rows, "start"), ints(rows, "end")];
      for (let r = 0; r < rows.numRows; r++) {
        if (seen.has(c[r]))
          continue;
        seen.add(c[r]);
        images += e[r] - s[r];
      }
    }
    const writer = currentWriter(this.dir);
    return { complete: !!m.complete, images, total: m.dataset.count, chunks: seen.size, totalChunks, ...writer ? { writer } : {} };
  }
  /** Removes rows of chunks that have no commit marker (left by a run killed mid-commit); returns those chunks. */
  async removeUncommitted() {
    const done = [...await this.doneChunks()];
    return this.deleteDataRows(done.length ? `chunk NOT IN (${done.join(", ")})` : "chunk >= -1");
  }
  /** Removes the data rows of some chunks (not their commit-log rows). */
  async removeRowsOf(chunks) {
    return chunks.length ? this.deleteDataRows(`chunk IN (${chunks.join(", ")})`) : [];
  }
  async deleteDataRows(predicate) {
    const chunks = /* @__PURE__ */ new Set();
    for (const name of await this.db.tableNames()) {
      if (name === "chunks" || name === "top")
        continue;
      const t = await this.table(name);
      if (!t)
        continue;
      if (await t.countRows(predicate) === 0)
        continue;
      for (const c of ints(await t.query().where(predicate).select(["chunk"]).toArrow(), "chunk"))
        chunks.add(c);
      await t.delete(predicate);
    }
    return [...chunks].sort((a, b) => a - b);
  }
  /**
   * Commits finished chunks: data rows first, then their `chunks` rows. Idempotent: chunks
   * already in the commit log are skipped (a retried distributed shard whose first attempt also
   * finished), and rows a half-done earlier attempt left for the others are cleared first.
   */
  async commit(results, done) {
    const have = done ?? await this.doneChunks();
    const fresh = results.filter((r, i) => !have.has(r.chunk) && results.findIndex((o2) => o2.chunk === r.chunk) === i).sort((a, b) => a.chunk - b.chunk);
    if (fresh.length === 0)
      return [];
    await this.removeRowsOf(fresh.map((r) => r.chunk));
    const m = this.manifest;
    const n = fresh.reduce((a, r) => a + (r.end - r.start), 0);
    const ids = new Int32Array(n);
    const chunkOf = new Int32Array(n);
    const labels = new Int32Array(n);
    const names = [];
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
    const concat = (parts) => {
      const out = new Float32Array(parts.reduce((a, p2) => a + p2.length, 0));
      let p = 0;
      for (const x of parts) {
        out.set(x, p);
        p += x.length;
      }
      return out;
    };
    const vectorRows = (v, dim) => arrowTable([
      ["id", new Int32(), ids],
      ["chunk", new Int32(), chunkOf],
      ["label", new Int32(), labels],
      ["vector", f32List(dim), v],
      ["unit", f32List(dim), unitRows(v, dim)]
    ], n);
    await this.append("images", arrowTable([["id", new Int32(), ids], ["chunk", new Int32(), chunkOf], ["label", new Int32(), labels], ["name", new Utf8(), names]], n));
    const [pc, ph, pw] = m.pixelShape;
    await this.append("pixels", vectorRows(concat(fresh.map((r) => r.pixels)), pc * ph * pw));
    for (let li = 0; li < m.layers.length; li++) {
      await this.append(`features_${li}`, vectorRows(concat(fresh.map((r) => r.layers[li].features)), m.layers[li].dim));
    }
    const top = { layer: [], channel: [], value: [], image: [], y: [], x: [], chunk: [] };
    const st = { layer: [], channel: [], chunk: [], n: [], sumMean: [], sumMax: [], max: [] };
    for (const r of fresh) {
      r.layers.forEach((l, li) => {
        const C = m.layers[li].channels;
        for (let c = 0; c < C; c++) {
          for (let j = 0; j < l.kk; j++) {
            const q = c * l.kk + j;
            top.layer.push(li);
            top.channel.push(c);
            top.value.push(l.topValue[q]);
            top.image.push(l.topImage[q]);
            top.y.push(l.topY[q]);
            top.x.push(l.topX[q]);
            top.chunk.push(r.chunk);
          }
          st.layer.push(li);
          st.channel.push(c);
          st.chunk.push(r.chunk);
          st.n.push(r.end - r.start);
          st.sumMean.push(l.sumMean[c]);
          st.sumMax.push(l.sumMax[c]);
          st.max.push(l.max[c]);
        }
      });
    }
    await this.append("topk", arrowTable([
      ["layer", new Int32(), Int32Array.from(top.layer)],
      ["channel", new Int32(), Int32Array.from(top.channel)],
      ["value", new Float32(), Float32Array.from(top.value)],
      ["image", new Int32(), Int32Array.from(top.image)],
      ["y", new Int32(), Int32Array.from(top.y)],
      ["x", new Int32(), Int32Array.from(top.x)],
      ["chunk", new Int32(), Int32Array.from(top.chunk)]
    ], top.layer.length));
    await this.append("stats", arrowTable([
      ["layer", new Int32(), Int32Array.from(st.layer)],
      ["channel", new Int32(), Int32Array.from(st.channel)],
      ["chunk", new Int32(), Int32Array.from(st.chunk)],
      ["n", new Int32(), Int32Array.from(st.n)],
      ["sumMean", new Float64(), Float64Array.from(st.sumMean)],
      ["sumMax", new Float64(), Float64Array.from(st.sumMax)],
      ["max", new Float32(), Float32Array.from(st.max)]
    ], st.layer.length));
    await holdForFaultInjection(fresh.map((r) => r.chunk));
    await this.append("chunks", arrowTable([
      ["chunk", new Int32(), Int32Array.from(fresh.map((r) => r.chunk))],
      ["start", new Int32(), Int32Array.from(fresh.map((r) => r.start))],
      ["end", new Int32(), Int32Array.from(fresh.map((r) => r.end))],
      ["worker", new Utf8(), fresh.map((r) => r.worker)],
      ["ms", new Float64(), Float64Array.from(fresh.map((r) => r.ms))]
    ], fresh.length));
    for (const r of fresh)
      have.add(r.chunk);
    return fresh;
  }
  /** Set by the scanner: labels and names of dataset items (the source knows them). */
  labelOf = () => -1;
  nameOf = (i) => `#${i}`;
  /**
   * After the last chunk: compacts the tables, writes the merged top-k, and builds the vector
   * indexes (IVF-Flat, about sqrt(n) partitions) once there are enough vectors for them to pay.
   */
  async finalize(minIndexRows = 4096) {
    const m = this.manifest;
    const partial = await this.table("topk");
    if (partial) {
      const t = await partial.query().select(["layer", "channel", "value", "image", "y", "x"]).toArrow();
      const [L, C, V, I, Y, X] = [ints(t, "layer"), ints(t, "channel"), floats(t, "value"), ints(t, "image"), ints(t, "y"), ints(t, "x")];
      const groups = /* @__PURE__ */ new Map();
      for (let r = 0; r < t.numRows; r++) {
        const key = L[r] * 1e6 + C[r];
        let g = groups.get(key);
        if (!g)
          groups.set(key, g = []);
        g.push({ rank: 0, value: V[r], image: I[r], y: Y[r], x: X[r] });
      }
      const out = { layer: [], channel: [], rank: [], value: [], image: [], y: [], x: [] };
      for (const key of [...groups.keys()].sort((a, b) => a - b)) {
        for (const e of mergeTop(groups.get(key), m.k)) {
          out.layer.push(Math.floor(key / 1e6));
          out.channel.push(key % 1e6);
          out.rank.push(e.rank);
          out.value.push(e.value);
          out.image.push(e.image);
          out.y.push(e.y);
          out.x.push(e.x);
        }
      }
      const table = arrowTable([
        ["layer", new Int32(), Int32Array.from(out.layer)],
        ["channel", new Int32(), Int32Array.from(out.channel)],
        ["rank", new Int32(), Int32Array.from(out.rank)],
        ["value", new Float32(), Float32Array.from(out.value)],
        ["image", new Int32(), Int32Array.from(out.image)],
        ["y", new Int32(), Int32Array.from(out.y)],
        ["x", new Int32(), Int32Array.from(out.x)]
      ], out.layer.length);
      this.tableCache.set("top", await this.db.createTable("top", table, { mode: "overwrite" }));
    }
    const indexed = [];
    const names = await this.db.tableNames();
    for (const name of names) {
      const t = await this.table(name);
      if (!t)
        continue;
      await t.optimize({ cleanupOlderThan: /* @__PURE__ */ new Date() });
      if (name !== "pixels" && !name.startsWith("features_"))
        continue;
      const n = await t.countRows();
      if (n < minIndexRows)
        continue;
      const numPartitions = Math.max(2, Math.round(Math.sqrt(n) / 2));
      for (const col of name === "pixels" ? ["vector"] : ["vector", "unit"]) {
        await t.createIndex(col, { config: lancedb.Index.ivfFlat({ numPartitions, distanceType: "l2", maxIterations: 10, sampleRate: 64 }), replace: true });
        indexed.push(`${name}.${col}`);
      }
    }
    return indexed;
  }
  /** Images in the store (of committed chunks). */
  async count() {
    const t = await this.table("images");
    if (!t)
      return 0;
    const only = await this.committedOnly();
    return only ? t.countRows(only) : t.countRows();
  }
  /** The top-k images of a channel: from the merged table once complete, else merged from the partials so far. */
  async top(layer, channel, k = this.manifest.k) {
    const li = this.layerIndex(layer);
    const C = this.manifest.layers[li].channels;
    if (!Number.isInteger(channel) || channel < 0 || channel >= C) {
      throw new ConvLensError("INVALID_ARGUMENT", `Layer "${layer}" has channels 0..${C - 1}; got ${channel}.`);
    }
    const merged = this.manifest.complete ? await this.table("top") : void 0;
    const src = merged ?? await this.table("topk");
    if (!src)
      return [];
    const only = merged ? void 0 : await this.committedOnly();
    const t = await src.query().where(`layer = ${li} AND channel = ${channel}${only ? ` AND ${only}` : ""}`).select(["value", "image", "y", "x"]).toArrow();
    const [V, I, Y, X] = [floats(t, "value"), ints(t, "image"), ints(t, "y"), ints(t, "x")];
    const rows = Array.from({ length: t.numRows }, (_, r) => ({ rank: 0, value: V[r], image: I[r], y: Y[r], x: X[r] }));
    return mergeTop(rows, Math.min(k, this.manifest.k));
  }
  /** Per-channel statistics of a layer, merged over chunks. */
  async channelStats(layer) {
    const li = this.layerIndex(layer);
    const C = this.manifest.layers[li].channels;
    const out = Array.from({ length: C }, (_, c) => ({ channel: c, mean: 0, meanMax: 0, max: -Infinity }));
    const t = await this.table("stats");
    if (!t)
      return out;
    const only = await this.committedOnly();
    const rows = await t.query().where(`layer = ${li}${only ? ` AND ${only}` : ""}`).select(["channel", "n", "sumMean", "sumMax", "max"]).toArrow();
    const [ch, n, sm, sx, mx] = [ints(rows, "channel"), ints(rows, "n"), floats(rows, "sumMean"), floats(rows, "sumMax"), floats(rows, "max")];
    const count = new Float64Array(C);
    for (let r = 0; r < rows.numRows; r++) {
      const s = out[ch[r]];
      count[ch[r]] += n[r];
      s.mean += sm[r];
      s.meanMax += sx[r];
      s.max = Math.max(s.max, mx[r]);
    }
    for (const s of out) {
      const k = count[s.channel] || 1;
      s.mean /= k;
      s.meanMax /= k;
    }
    return out;
  }
  /** Label and name of images. */
  async images(ids) {
    const t = await this.table("images");
    const out = /* @__PURE__ */ new Map();
    if (!t)
      return out;
    if (ids?.length === 0)
      return out;
    const where = [ids ? `id IN (${ids.join(", ")})` : void 0, await this.committedOnly()].filter(Boolean);
    let q = t.query().select(["id", "label", "name"]);
    if (where.length)
      q = q.where(where.join(" AND "));
    const rows = await q.toArrow();
    const id = ints(rows, "id");
    const label = ints(rows, "label");
    const name = rows.getChild("name").toArray();
    for (let r = 0; r < rows.numRows; r++)
      out.set(id[r], { label: label[r], name: name[r] });
    return out;
  }
  /** Vectors of a space for some images (or all), in the order asked (all: by id). */
  async vectors(space, ids, metric = "l2") {
    const { name, dim } = this.vectorTable(space);
    const t = await this.table(name);
    if (!t)
      return { ids: new Int32Array(), labels: new Int32Array(), dim, data: new Float32Array() };
    const col = metric === "cosine" ? "unit" : "vector";
    const where = [ids ? ids.length ? `id IN (${ids.join(", ")})` : "id < -1" : void 0, await this.committedOnly()].filter(Boolean);
    let q = t.query().select(["id", "label", col]);
    if (where.length)
      q = q.where(where.join(" AND "));
    const rows = await q.toArrow();
    const got = ints(rows, "id");
    const labels = ints(rows, "label");
    const data = flatVectors(rows, col, dim);
    const order = ids ? Array.from(ids).map((id) => got.indexOf(id)) : Array.from(got.keys()).sort((a, b) => got[a] - got[b]);
    if (order.some((i) => i < 0)) {
      const id = ids[order.indexOf(-1)];
      throw new ConvLensError("UNKNOWN_NAME", `Image ${id} is not in the store${this.manifest.complete || id < 0 || id >= this.manifest.dataset.count ? "" : " yet (its chunk is not committed)"}.`, `The store holds images 0..${this.manifest.dataset.count - 1} once the scan is complete.`);
    }
    const out = new Float32Array(order.length * dim);
    order.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
    return { ids: Int32Array.from(order, (r) => got[r]), labels: Int32Array.from(order, (r) => labels[r]), dim, data: out };
  }
  /**
   * The k nearest stored images to a query vector, through the vector index when there is one
   * (exact: a flat scan). Distances: Euclidean (l2) or cosine distance 1 - cos.
   */
  async nearest(space, query, k, metric = "l2", options = {}) {
    const { name, dim } = this.vectorTable(space);
    if (query.length !== dim)
      throw new ConvLensError("SHAPE_MISMATCH", `A ${name} query needs ${dim} values, got ${query.length}.`);
    const t = await this.table(name);
    if (!t)
      return [];
    const col = metric === "cosine" ? "unit" : "vector";
    const q = metric === "cosine" ? unitRows(query, dim) : query;
    const extra = options.exclude !== void 0 ? 1 : 0;
    let s = t.vectorSearch(Array.from(q)).column(col).distanceType("l2").select(["id", "label", "_distance"]).limit(k + extra);
    const only = await this.committedOnly();
    if (only)
      s = s.where(only);
    if (options.exact)
      s = s.bypassVectorIndex();
    else {
      const n = this.manifest.complete ? this.manifest.dataset.count : 0;
      s = s.nprobes(options.nprobes ?? Math.max(20, Math.ceil(Math.sqrt(n) / 16)));
    }
    const rows = await s.toArray();
    return rows.filter((r) => r.id !== options.exclude).slice(0, k).map((r) => ({ id: r.id, label: r.label, distance: metric === "cosine" ? r._distance / 2 : Math.sqrt(Math.max(0, r._distance)) }));
  }
  /** Whether a space has a vector index (else searches are flat scans). */
  async indexed(space, metric = "l2") {
    const t = await this.table(this.vectorTable(space).name);
    if (!t)
      return false;
    const col = metric === "cosine" ? "unit" : "vector";
    return (await t.listIndices()).some((i) => i.columns.includes(col));
  }
};
async function holdForFaultInjection(chunks) {
  const fault = /^(\d+):(.+)$/.exec(process.env["CONVLENS_FAULT_HOLD_COMMIT"] ?? "");
  if (!fault || !chunks.includes(Number(fault[1])))
    return;
  const file = fault[2];
  writeFileSync(file, `${process.pid}
`);
  while (existsSync(file))
    await new Promise((r) => setTimeout(r, 50));
}

// dist/methods/dataset/scan.js
function modelFingerprint(model) {
  const h = createHash("sha256");
  for (const n of model.graph.nodes)
    h.update(`${n.op}|${n.inputs.join(",")}|${n.outputs.join(",")}
`);
  for (const [name, t] of [...model.graph.initializers.entries()].sort(([a], [b]) => a < b ? -1 : 1)) {
    h.update(name);
    const d = t.data;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest("hex").slice(0, 24);
}
function planChunks(count, chunkSize) {
  const out = [];
  for (let s = 0, c = 0; s < count; s += chunkSize, c++)
    out.push({ chunk: c, start: s, end: Math.min(count, s + chunkSize) });
  return out;
}
function settingsOf(m, batchSize) {
  return { layers: m.layers, k: m.k, pool: m.pool, batchSize, pixelShape: m.pixelShape };
}
function wantedManifest(model, source, o) {
  const count = Math.min(source.count, o.limit ?? Infinity);
  if (count <= 0)
    throw new ConvLensError("INVALID_ARGUMENT", `Nothing to scan: ${source.description} has ${source.count} images${o.limit !== void 0 ? ` and --limit is ${o.limit}` : ""}.`);
  const k = o.k ?? 16;
  if (!Number.isInteger(k) || k < 1 || k > 1e3)
    throw new ConvLensError("INVALID_ARGUMENT", `Top-k must be an integer in 1..1000, got ${k}.`);
  return {
    version: STORE_VERSION,
    model: { name: model.name, fingerprint: modelFingerprint(model), ...o.modelPath ? { path: o.modelPath } : {}, input: model.input.shape, labels: model.labels },
    dataset: { spec: source.spec, kind: source.kind, description: source.description, count, fingerprint: source.fingerprint, classes: source.classes.length ? source.classes : model.labels },
    layers: describeLayers(model, o.layers),
    k,
    pool: o.pool ?? "avg",
    chunkSize: o.chunkSize ?? 1024,
    pixelShape: o.pixelShape ?? defaultPixelShape(model),
    created: (/* @__PURE__ */ new Date()).toISOString()
  };
}
function sameScan(a, b) {
  if (a.model.fingerprint !== b.model.fingerprint)
    return `it was made with model "${a.model.name}" (${a.model.fingerprint}), not "${b.model.name}" (${b.model.fingerprint})`;
  if (a.dataset.fingerprint !== b.dataset.fingerprint || a.dataset.count !== b.dataset.count)
    return `it holds ${a.dataset.description} (${a.dataset.count} images), not ${b.dataset.description} (${b.dataset.count} images)`;
  const la = a.layers.map((l) => l.name).join(",");
  const lb = b.layers.map((l) => l.name).join(",");
  if (la !== lb)
    return `it records layers ${la}, not ${lb}`;
  if (a.k !== b.k || a.pool !== b.pool || a.chunkSize !== b.chunkSize || a.pixelShape.join("x") !== b.pixelShape.join("x")) {
    return `it was made with k ${a.k}, pool ${a.pool}, chunks of ${a.chunkSize}, pixels ${a.pixelShape.join("x")} (asked: k ${b.k}, pool ${b.pool}, chunks of ${b.chunkSize}, pixels ${b.pixelShape.join("x")})`;
  }
  return void 0;
}
async function prepareStore(model, source, dir, o) {
  const want = wantedManifest(model, source, o);
  const lock = acquireWriterLock(dir, o.writer ?? commandLine());
  const notes = [];
  if (lock.replaced)
    notes.push(`the previous writer of this store (${describeWriter(lock.replaced)}) ended without finishing; continuing its scan`);
  let store;
  try {
    if (o.fresh)
      DatasetStore.remove(dir);
    let resumed = false;
    if (DatasetStore.exists(dir)) {
      store = await DatasetStore.open(dir);
      const why = sameScan(store.manifest, want);
      if (why)
        throw new ConvLensError("INVALID_ARGUMENT", `The store "${dir}" holds a different scan: ${why}.`, "Pass --fresh to replace it, or another --store folder.");
      resumed = true;
    } else {
      store = await DatasetStore.create(dir, want);
    }
    store.labelOf = (i) => source.item(i).label;
    store.nameOf = (i) => source.item(i).name;
    const removed = await store.removeUncommitted();
    if (removed.length)
      notes.push(`dropped the rows of chunk${removed.length > 1 ? "s" : ""} ${removed.join(", ")}, which an interrupted run left uncommitted (they are scanned again)`);
    return { store, resumed, lock, notes };
  } catch (e) {
    store?.close();
    lock.release();
    throw e;
  }
}
async function indexDataset(model, source, dir, o) {
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
    const report = (phase) => {
      const s = (performance.now() - t0) / 1e3;
      o.onProgress?.({ done: resumedImages + scanned, total, phase, metrics: { "img/s": scanned / Math.max(1e-3, s) } });
    };
    report(resumedImages ? `resuming (${resumedImages} already in the store)` : "scanning");
    const settings = settingsOf(m, o.batchSize ?? 256);
    if (pending.length === 0 && m.complete) {
      report("done");
      return { store: dir, count: total, scanned: 0, resumed: resumedImages, chunks: plan.length, seconds: (performance.now() - t0) / 1e3, imagesPerSecond: 0, indexed: m.complete.indexed, layers: m.layers.map((l) => l.name), notes };
    }
    if (pending.length) {
      if (o.distributed) {
        const { runDistributed } = await import("./distributed-ILRA6YVU.js");
        await runDistributed(store, pending, settings, o.distributed, {
          ...o.signal ? { signal: o.signal } : {},
          ...o.modelPath ? { modelPath: o.modelPath } : {},
          onCommitted: (images) => {
            scanned += images;
            report("scanning (distributed)");
          }
        });
      } else {
        let buffer = [];
        let lastCommit = performance.now();
        const flush = async () => {
          if (buffer.length)
            await store.commit(buffer, done);
          buffer = [];
          lastCommit = performance.now();
        };
        const flushImages = o.commitImages ?? Math.max(m.chunkSize, 8192);
        try {
          for (const c of pending) {
            throwIfCancelled(o.signal, "the scan");
            buffer.push(await scanChunk(model, source, settings, c.chunk, c.start, c.end, {
              ...o.signal ? { signal: o.signal } : {},
              onBatch: (images) => {
                scanned += images;
                report("scanning");
              }
            }));
            if (buffer.reduce((a, r) => a + r.end - r.start, 0) >= flushImages || performance.now() - lastCommit > 15e3)
              await flush();
          }
        } finally {
          await flush();
        }
      }
    }
    report("building indexes");
    throwIfCancelled(o.signal, "the scan");
    const indexed = await store.finalize(o.minIndexRows);
    const seconds = (performance.now() - t0) / 1e3;
    store.manifest.complete = { at: (/* @__PURE__ */ new Date()).toISOString(), seconds, indexed };
    store.saveManifest();
    report("done");
    return { store: dir, count: total, scanned, resumed: resumedImages, chunks: plan.length, seconds, imagesPerSecond: scanned / Math.max(1e-9, seconds), indexed, layers: m.layers.map((l) => l.name), notes };
  } catch (e) {
    if (e instanceof ConvLensError && e.code === "CANCELLED") {
      const { images, total } = await store.status().catch(() => ({ images: 0, total: 0 }));
      throw new ConvLensError("CANCELLED", e.message, `Finished chunks are kept (${images} of ${total} images are in the store): run the same command again to continue.`, { cause: e });
    }
    throw e;
  } finally {
    store.close();
    lock.release();
  }
}

export {
  describeWriter,
  currentWriter,
  DatasetStore,
  modelFingerprint,
  planChunks,
  settingsOf,
  prepareStore,
  indexDataset
};
