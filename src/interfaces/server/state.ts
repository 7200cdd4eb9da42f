import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { declaredNodeCount, decodeModel } from '../../engine/onnx/codec.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import { ConvLensError } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { BUILTIN_MODELS, DEFAULT_BUILTIN } from '../../models/builtins.js';
import { loadBuiltinModel, loadModelFile } from '../../models/load.js';
import { Model } from '../../models/model.js';
import { removeOnExit } from '../../io/remove-on-exit.js';
import { toId } from './ids.js';
import { toApiError, type ApiError } from './jobs.js';
import type { Preprocessing } from '../../models/metadata.js';
import type { OutputKind } from '../../models/output-kind.js';
import { loadRef } from './tasks/context.js';
import type { ImageRef, ModelDescription, ModelRef } from './workers/protocol.js';

export interface ModelEntry {
  id: string;
  name: string;
  source: 'builtin' | 'path' | 'upload';
  model?: Model;
  /** how a worker process loads the same model (set when it loaded here) */
  ref?: ModelRef;
  /** why the model cannot be used (unreadable file, unsupported op...) */
  error?: ApiError;
  /** what the studio was told about it (labels, preprocessing), as GET /api/models shows it */
  described?: { labels?: number; preprocessing?: Preprocessing; outputKind?: OutputKind };
}

export interface ImageEntry {
  id: string;
  name: string;
  source: 'sample' | 'upload';
  group: string;
  bytes: Uint8Array;
}

/**
 * The most nodes an uploaded model may have. The server decodes and checks every upload on its
 * event loop, about 50 ms per thousand nodes: a 7 MB chain of 200,000 ReLUs held every request
 * for 10 s (and a 256 MB upload could hold 7 million). The largest CNNs have a few thousand.
 */
export const MAX_UPLOAD_NODES = 20_000;

/** How many uploads a registry keeps, and how many bytes they may hold together. */
export interface UploadCaps {
  count: number;
  bytes: number;
}

/**
 * The bookkeeping behind upload caps: the least recently used upload goes first when a new one
 * needs room, except uploads a running job holds (pins). Built-in models, models given at start
 * and sample images are not uploads and stay.
 */
export class UploadShelf {
  private readonly items = new Map<string, { bytes: number; used: number; pins: number; broken: boolean }>();
  private clock = 0;

  constructor(
    readonly caps: UploadCaps,
    private readonly what: string,
    private readonly drop: (id: string) => void,
  ) {}

  /**
   * Evicts until an upload of `bytes` fits, broken uploads (kept only to show their error) first;
   * refuses when what is left is held by running jobs. For a broken upload (`broken`) only other
   * broken ones are evicted, and false says there was no room: a file that failed to load must
   * not push out a model the user is working with.
   */
  makeRoom(bytes: number, broken = false): boolean {
    if (bytes > this.caps.bytes) {
      throw new ConvLensError('INVALID_ARGUMENT', `The ${this.what} is larger than all ${this.what}s may be together (${Math.round(this.caps.bytes / (1 << 20))} MB).`, `Upload a smaller ${this.what}.`);
    }
    for (;;) {
      const total = [...this.items.values()].reduce((a, b) => a + b.bytes, 0);
      if (this.items.size < this.caps.count && total + bytes <= this.caps.bytes) return true;
      const victim = this.leastRecentlyUsed((it) => it.broken) ?? (broken ? undefined : this.leastRecentlyUsed(() => true));
      if (victim === undefined) {
        if (broken) return false;
        throw new ConvLensError('INVALID_ARGUMENT', `No room for another ${this.what}: the ${this.items.size} uploaded ${this.what}s are all in use by running jobs.`, 'Wait for a job to finish or cancel it (DELETE /api/jobs/:id), then upload again.');
      }
      this.remove(victim);
      this.drop(victim);
    }
  }

  private leastRecentlyUsed(among: (it: { broken: boolean }) => boolean): string | undefined {
    let victim: string | undefined;
    let oldest = Infinity;
    for (const [id, it] of this.items) if (it.pins === 0 && among(it) && it.used < oldest) [victim, oldest] = [id, it.used];
    return victim;
  }

  add(id: string, bytes: number, broken = false): void {
    this.items.set(id, { bytes, used: ++this.clock, pins: 0, broken });
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  touch(id: string): void {
    const it = this.items.get(id);
    if (it) it.used = ++this.clock;
  }

  /** Holds an upload until the returned function is called (a running job uses it). */
  pin(id: string): () => void {
    const it = this.items.get(id);
    if (!it) return () => undefined;
    it.pins++;
    let released = false;
    return () => {
      if (!released) it.pins--;
      released = true;
    };
  }

  pinned(id: string): boolean {
    return (this.items.get(id)?.pins ?? 0) > 0;
  }

  remove(id: string): void {
    this.items.delete(id);
  }

  stats(): { count: number; bytes: number; pinned: number } {
    const all = [...this.items.values()];
    return { count: all.length, bytes: all.reduce((a, b) => a + b.bytes, 0), pinned: all.filter((i) => i.pins > 0).length };
  }
}

/** Why a registry entry cannot be deleted, or undefined when it can. */
function undeletable(shelf: UploadShelf, what: string, id: string, source: string): ConvLensError | undefined {
  if (!shelf.has(id)) return new ConvLensError('FORBIDDEN', `The ${what} "${id}" is not an upload (${source}) and cannot be deleted.`, `Only uploaded ${what}s can be deleted.`);
  if (shelf.pinned(id)) return new ConvLensError('INVALID_ARGUMENT', `The ${what} "${id}" is in use by a running job.`, 'Cancel the job (DELETE /api/jobs/:id) or wait for it, then delete.');
  return undefined;
}

/**
 * Models the studio knows: the built-in one, one given at start, and uploads. The server keeps
 * each model to check requests against (layers, labels, shapes); worker processes load their own
 * copy from the entry's `ref` (uploads from a private folder this registry writes them to).
 */
export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();
  readonly uploads: UploadShelf;
  private uploadDir: string | undefined;
  private forgetUploadDir: (() => void) | undefined;
  /** called with the id of a model that left the registry (caches keyed by it let go) */
  onRemove: (id: string) => void = () => undefined;

  constructor(
    private readonly engine: Engine,
    caps: UploadCaps = { count: 8, bytes: 1 << 30 },
  ) {
    this.uploads = new UploadShelf(caps, 'model', (id) => this.forget(id));
  }

  /** Every built-in model: the default (id "builtin", the page's first choice), then the others by name ("squeezenet"). */
  addBuiltin(): ModelEntry {
    const entries = BUILTIN_MODELS.map((b) => {
      const id = b === DEFAULT_BUILTIN ? 'builtin' : b.name;
      return this.add({ id, name: b.title, source: 'builtin' }, () => loadBuiltinModel(this.engine, b.name), { key: id, type: 'builtin', name: b.name });
    });
    return entries[0]!;
  }

  addPath(path: string): ModelEntry {
    const id = randomUUID();
    return this.add({ id, name: basename(path), source: 'path' }, () => loadModelFile(path, this.engine), { key: id, type: 'file', path });
  }

  /** An uploaded model; the least recently used upload leaves first when the caps are reached. */
  addUpload(name: string, bytes: Uint8Array): ModelEntry {
    const nodes = declaredNodeCount(bytes);
    if (nodes > MAX_UPLOAD_NODES) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `"${name}" has ${nodes} nodes; the studio accepts models of up to ${MAX_UPLOAD_NODES}.`, 'Inspect it with the CLI (convlens summary / explain --model <file>), or export a simplified graph (onnxsim).');
    }
    const id = randomUUID();
    const entry = this.load({ id, name, source: 'upload' }, () => Model.fromOnnxGraph(decodeModel(bytes, { source: `"${name}"` }), this.engine, name.replace(/\.onnx$/i, '')));
    // A model that failed to load is kept only as its error (to show it), not its bytes, and
    // only while that costs no working upload its place.
    if (!entry.model) {
      if (this.uploads.makeRoom(0, true)) {
        this.entries.set(id, entry);
        this.uploads.add(id, 0, true);
      }
      return entry;
    }
    this.uploads.makeRoom(bytes.byteLength);
    if (this.uploadDir === undefined) {
      const folder = mkdtempSync(join(tmpdir(), 'convlens-models-'));
      this.uploadDir = folder;
      // A studio that ends without closing (a second Ctrl-C, the shutdown deadline, an uncaught
      // error) removes its uploads all the same: each would otherwise stay in the temp folder.
      this.forgetUploadDir = removeOnExit(folder);
    }
    const path = join(this.uploadDir, `${id}.onnx`);
    writeFileSync(path, bytes, { mode: 0o600 });
    entry.ref = { key: id, type: 'upload', path, name };
    this.entries.set(id, entry);
    this.uploads.add(id, bytes.byteLength);
    return entry;
  }

  /** How a worker loads the usable model of an id (errors as `require`). */
  ref(id: string): ModelRef {
    this.require(id);
    return this.entries.get(id)!.ref!;
  }

  /** Removes the uploads' folder (the studio closes). */
  dispose(): void {
    if (this.uploadDir) rmSync(this.uploadDir, { recursive: true, force: true });
    this.forgetUploadDir?.();
    this.uploadDir = undefined;
    this.forgetUploadDir = undefined;
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): ModelEntry | undefined {
    this.uploads.touch(id);
    return this.entries.get(id);
  }

  /** The usable model for an id, or an error the API turns into 404/422. */
  require(id: string): Model {
    const e = this.get(id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No model with id "${id}".`, 'GET /api/models lists the models.');
    if (!e.model) throw new ConvLensError('MODEL_UNSUPPORTED', e.error?.message ?? 'The model could not be loaded.', e.error?.hint);
    return e.model;
  }

  /**
   * Tells a model what its file does not say (labels, preprocessing, the output kind), as
   * --labels, --preprocess and --output-kind do: the server's copy now, each worker's copy when
   * it next runs a task on it (the description travels in the model's ref; a worker reloads the
   * model when it changed). A new output kind loads the model anew (the kind decides the graph
   * ConvLens builds), with what it was told before; labels that no longer fit its outputs (a
   * binary classifier's two classes, a regression's one value) are dropped. Nothing changes
   * when a part is refused.
   */
  describe(id: string, d: ModelDescription): void {
    let model = this.require(id);
    const entry = this.entries.get(id)!;
    const before = entry.ref?.describe ?? {};
    const all: ModelDescription = { ...before, ...d };
    if (d.outputKind !== undefined && d.outputKind !== model.outputKind) {
      if (!entry.ref) throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${entry.name}" cannot be loaded anew with another output kind.`, 'Upload the model again, or declare the kind in its file (CLI: convlens describe --output-kind).');
      const reloaded = loadRef({ ...entry.ref, describe: { outputKind: d.outputKind } }, this.engine, () => {
        throw new ConvLensError('INPUT_UNREADABLE', 'A data-folder model is not reloaded here.', 'Open it again.');
      });
      if (before.preprocessing && !d.preprocessing) reloaded.describe({ preprocessing: before.preprocessing });
      if (before.labels && !d.labels) {
        try {
          reloaded.describe({ labels: before.labels });
        } catch (e) {
          if (!(e instanceof ConvLensError)) throw e;
          delete all.labels;
        }
      }
      model = reloaded;
    } else if (d.outputKind !== undefined && before.outputKind === undefined) {
      // the kind the model already has: nothing to load anew, nor to tell the workers
      delete all.outputKind;
    }
    // the preprocessing first: it is the part that can still be refused (a size the model does not take)
    if (d.preprocessing) model.describe({ preprocessing: d.preprocessing });
    if (d.labels) model.describe({ labels: d.labels });
    // the model loaded anew replaces the old one: its sessions go with it
    if (entry.model && entry.model !== model) void entry.model.releaseSessions();
    entry.model = model;
    if (entry.ref) entry.ref = { ...entry.ref, describe: all };
    entry.described = { ...(all.labels ? { labels: all.labels.length } : {}), ...(all.preprocessing ? { preprocessing: all.preprocessing } : {}), ...(all.outputKind ? { outputKind: all.outputKind } : {}) };
  }

  /** Holds an uploaded model while a job runs on it (it is not evicted or deleted meanwhile). */
  pin(id: string): () => void {
    return this.uploads.pin(id);
  }

  /** Deletes an uploaded model (not the built-in one, not one in use). */
  delete(id: string): void {
    const e = this.entries.get(id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No model with id "${id}".`, 'GET /api/models lists the models.');
    const why = undeletable(this.uploads, 'model', id, e.source === 'builtin' ? 'the built-in model' : 'given when the studio started');
    if (why) throw why;
    this.uploads.remove(id);
    this.forget(id);
  }

  private forget(id: string): void {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    if (entry?.ref?.type === 'upload') rmSync(entry.ref.path, { force: true });
    if (entry?.model) {
      void entry.model.releaseSessions();
      this.onRemove(id);
    }
  }

  private add(entry: ModelEntry, load: () => Model, ref?: ModelRef): ModelEntry {
    this.load(entry, load, ref);
    this.entries.set(entry.id, entry);
    return entry;
  }

  /** Loads and checks the entry's model, or records why it cannot be used. */
  private load(entry: ModelEntry, load: () => Model, ref?: ModelRef): ModelEntry {
    try {
      entry.model = load();
      // Feature maps, receptive fields and explanations need every op's shape and backward
      // rule: check now (strictly) so the page shows which op and node cannot be handled.
      GraphBuilder.over(entry.model.graph.clone(), { strict: true });
      if (ref) entry.ref = ref;
    } catch (e) {
      entry.error = toApiError(e);
      delete entry.model;
    }
    return entry;
  }
}

/** Images the studio can run: committed samples and uploads (kept in memory, capped). */
export class ImageRegistry {
  private readonly entries = new Map<string, ImageEntry>();
  readonly uploads: UploadShelf;

  constructor(caps: UploadCaps = { count: 256, bytes: 256 << 20 }) {
    this.uploads = new UploadShelf(caps, 'image', (id) => this.forget(id));
  }

  /** Registers every image in the sample folders (group = folder name). */
  addSamples(root: string): void {
    for (const dir of safeList(root)) {
      const group = toId(dir);
      for (const file of safeList(join(root, dir)).sort()) {
        if (!/\.(png|jpe?g|webp)$/i.test(file)) continue;
        const id = `${group}/${toId(file)}`;
        this.entries.set(id, { id, name: file.replace(/\.\w+$/, ''), source: 'sample', group, bytes: readFileSync(join(root, dir, file)) });
      }
    }
  }

  /** An uploaded image; the least recently used upload leaves first when the caps are reached. */
  addUpload(name: string, bytes: Uint8Array): ImageEntry {
    this.uploads.makeRoom(bytes.byteLength);
    const entry: ImageEntry = { id: `upload/${randomUUID()}`, name, source: 'upload', group: 'uploads', bytes };
    this.entries.set(entry.id, entry);
    this.uploads.add(entry.id, bytes.byteLength);
    return entry;
  }

  list(): ImageEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): ImageEntry | undefined {
    this.uploads.touch(id);
    return this.entries.get(id);
  }

  require(id: string): ImageEntry {
    const e = this.get(id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No image with id "${id}".`, 'GET /api/images lists the images.');
    return e;
  }

  /** An image as a worker task receives it. */
  ref(id: string): ImageRef {
    const e = this.require(id);
    return { id: e.id, name: e.name, bytes: e.bytes };
  }

  /** Holds an uploaded image while a job runs on it. */
  pin(id: string): () => void {
    return this.uploads.pin(id);
  }

  /** Deletes an uploaded image (not a sample, not one in use). */
  delete(id: string): void {
    if (!this.entries.has(id)) throw new ConvLensError('UNKNOWN_NAME', `No image with id "${id}".`, 'GET /api/images lists the images.');
    const why = undeletable(this.uploads, 'image', id, 'a sample');
    if (why) throw why;
    this.uploads.remove(id);
    this.forget(id);
  }

  private forget(id: string): void {
    this.entries.delete(id);
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
