// Compiled sessions on disk (Node only: node.ts is its one importer, so the browser bundle never
// sees it). ONNX Runtime's graph optimizations (constant folding, Conv+BN fusion, the NCHWc
// layout rewrite and its weight reordering) take most of a big model's session creation, and on
// a machine where fresh memory is dear most of that is the copies of the weights they make
// (ResNet-18's input-gradient graph: ~1.05 s and ~300 MB of fresh pages). ORT can save the model
// it ends up with (optimizedModelFilePath) with its weights in one external file, each at an
// aligned offset; a later session opens that model with optimizations off and maps the weights
// file into memory instead of reading and copying it: ~0.1 s to create (docs/speed.md, "Compiled
// sessions cached on disk").
//
// An entry is a folder named by its key, holding ORT's model, its weights file and a manifest
// (every file's size and SHA-256). Entries are built under a temporary name and renamed into
// place whole, and each is verified against its manifest before ORT opens it, so that a
// truncated or damaged entry is noticed, deleted and rebuilt instead of being run.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { makeDirectories } from '../../util/make-directories.js';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import type { InMemoryFile } from '../onnx/codec.js';

const FORMAT = 'convlens-session/2';
const SUFFIX = '.session';
const MANIFEST = 'manifest.json';
const MODEL = 'model.onnx';
/** The external weights file ORT writes beside the model (a name relative to the model's folder). */
export const CACHED_WEIGHTS = 'weights.bin';
const MiB = 1024 * 1024;

export interface SessionCacheOptions {
  /** the folder; created when first written */
  dir: string;
  /** the folder is pruned (oldest first) to this size after each write; default 2 GiB */
  maxBytes?: number;
  /** models (graph and weights together) smaller than this compile fast enough not to be worth an entry; default 1 MiB */
  minModelBytes?: number;
}

/**
 * Where the cache lives, if anywhere: $CONVLENS_CACHE_DIR names a folder; unset, `on` or `1` mean
 * the OS cache folder + convlens; `off`, `0`, `none` or an empty value mean no cache.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['CONVLENS_CACHE_DIR']?.trim();
  if (explicit !== undefined && /^(|0|off|false|none|no)$/i.test(explicit)) return undefined;
  if (explicit !== undefined && !/^(on|1|true|yes|default)$/i.test(explicit)) return explicit;
  return osCacheDir(env);
}

/** The OS's per-user cache folder + convlens. */
export function osCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32' && env['LOCALAPPDATA']) return join(env['LOCALAPPDATA'], 'convlens', 'cache');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'convlens');
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'convlens');
}

/** A reserved folder for ONNX Runtime to write one optimized model and its weights into. */
export interface CacheSlot {
  /** where ORT writes the optimized model */
  readonly modelPath: string;
  /** the weights file's name, relative to the model's folder */
  readonly weightsFile: string;
  /** writes the manifest and renames the folder into place; false when that failed */
  commit(): boolean;
  /** removes the temporary folder */
  abort(): void;
}

interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export class SessionCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly minModelBytes: number;
  private readonly runtime: string;
  /** false once the folder turned out unusable: the process then compiles without the cache */
  private usable = true;
  /** what happened so far: sessions from entries, entries written, damaged entries found and deleted */
  readonly stats = { hits: 0, writes: 0, damaged: 0 };

  /** `runtime` names what else decides the optimized model: runtime version, machine, options. */
  constructor(options: SessionCacheOptions, runtime: string) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 2048 * MiB;
    this.minModelBytes = options.minModelBytes ?? MiB;
    this.runtime = `${runtime}|${machineId()}`;
  }

  get enabled(): boolean {
    return this.usable;
  }

  /**
   * The cache key of a model (its bytes and the external-data files they name, which hold its
   * weights) under the given session options.
   */
  key(model: Uint8Array, externalData: readonly InMemoryFile[] = [], options = ''): string {
    const hash = createHash('sha256').update(`${FORMAT}|${this.runtime}|${options}|${model.length}|`).update(model);
    for (const file of externalData) hash.update(`|${file.path}|${file.data.length}|`).update(file.data);
    return hash.digest('hex');
  }

  private entry(key: string): string {
    return join(this.dir, `${key}${SUFFIX}`);
  }

  /**
   * The path of the stored optimized model for `key`, if its entry is present and every file
   * matches the manifest. A damaged entry (a file missing, cut short or changed) is deleted and
   * reported as absent.
   */
  read(key: string): string | undefined {
    if (!this.usable) return undefined;
    const dir = this.entry(key);
    let text: string;
    try {
      text = readFileSync(join(dir, MANIFEST), 'utf8');
    } catch {
      // no entry (or no folder) is a miss; an entry without its manifest is damaged
      return existsSync(dir) && statSync(dir).isDirectory() ? this.damaged(key) : undefined;
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch {
      return this.damaged(key);
    }
    if (!intact(dir, manifest)) return this.damaged(key);
    try {
      const now = new Date();
      utimesSync(join(dir, MANIFEST), now, now); // recently used entries survive pruning
    } catch {
      // a read-only cache still serves hits
    }
    return join(dir, MODEL);
  }

  private damaged(key: string): undefined {
    this.stats.damaged++;
    this.remove(key);
    return undefined;
  }

  /** Deletes the entry for `key` (one ORT could not load, or a damaged one). */
  remove(key: string): void {
    try {
      rmSync(this.entry(key), { recursive: true, force: true });
    } catch {
      // not ours to delete (permissions): it stays a miss, and a write will fail and be skipped
    }
  }

  /** A temporary folder for ORT to write the optimized model of `key` into; undefined if the folder is unusable. */
  reserve(key: string): CacheSlot | undefined {
    if (!this.usable) return undefined;
    const temp = join(this.dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      makeDirectories(temp);
    } catch {
      this.usable = false;
      return undefined;
    }
    return {
      modelPath: join(temp, MODEL),
      weightsFile: CACHED_WEIGHTS,
      commit: () => {
        try {
          const files = readdirSync(temp).map((name) => describeFile(join(temp, name), name));
          if (!files.some((f) => f.name === MODEL)) throw new Error('ORT wrote no model');
          writeFileSync(join(temp, MANIFEST), JSON.stringify({ format: FORMAT, files }));
          // Another process may have put the same entry in place first; theirs serves as well.
          renameSync(temp, this.entry(key));
        } catch {
          rmSync(temp, { recursive: true, force: true });
          return false;
        }
        this.stats.writes++;
        this.prune();
        return true;
      },
      abort: () => rmSync(temp, { recursive: true, force: true }),
    };
  }

  /** Deletes the least recently used entries until the folder fits `maxBytes`, and stale temporaries. */
  prune(): void {
    let entries: { path: string; size: number; used: number }[];
    try {
      entries = readdirSync(this.dir).flatMap((name) => {
        const path = join(this.dir, name);
        try {
          if (name.endsWith('.tmp')) {
            // another process's write in progress, unless it is an hour old (a crash)
            if (Date.now() - statSync(path).mtimeMs > 3600_000) rmSync(path, { recursive: true, force: true });
            return [];
          }
          if (!name.endsWith(SUFFIX)) return [];
          const size = readdirSync(path).reduce((a, f) => a + statSync(join(path, f)).size, 0);
          return [{ path, size, used: statSync(join(path, MANIFEST)).mtimeMs }];
        } catch {
          return [];
        }
      });
    } catch {
      return;
    }
    let total = entries.reduce((a, e) => a + e.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      try {
        rmSync(e.path, { recursive: true, force: true });
        total -= e.size;
      } catch {
        // in use where open files cannot be deleted (Windows): it goes on a later prune
      }
    }
  }
}

/** Size and SHA-256 of a file, read in pieces (a cached weights file is mapped later, never held). */
function describeFile(path: string, name: string): ManifestFile {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(MiB);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; bytes += n) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { name, bytes, sha256: hash.digest('hex') };
}

/** Whether every file the manifest lists is in `dir` with its size and hash (and the model is among them). */
function intact(dir: string, manifest: unknown): boolean {
  const m = manifest as { format?: unknown; files?: unknown };
  if (m?.format !== FORMAT || !Array.isArray(m.files)) return false;
  const files = m.files as ManifestFile[];
  if (!files.some((f) => f?.name === MODEL)) return false;
  try {
    return files.every((f) => typeof f?.name === 'string' && !/[\\/]/.test(f.name) && statSync(join(dir, f.name)).size === f.bytes && describeFile(join(dir, f.name), f.name).sha256 === f.sha256);
  } catch {
    return false;
  }
}

/**
 * The machine as far as ORT's optimized model depends on it: the NCHWc rewrite's block size and
 * the kernels follow the CPU's vector extensions.
 */
function machineId(): string {
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
  } catch {
    // not Linux: the CPU model name below has to do
  }
  const flagsHash = createHash('sha256').update(flags).digest('hex').slice(0, 16);
  return `${process.platform}-${process.arch}|${cpus()[0]?.model ?? 'cpu'}|${flagsHash}`;
}
