// Compiled sessions on disk (Node only: node.ts is its one importer, so the browser bundle never
// sees it). ONNX Runtime's graph optimizations (constant folding, Conv+BN fusion, the NCHWc
// layout rewrite, ...) take most of a big model's session creation; ORT can save the model it
// ends up with (optimizedModelFilePath), in its own flatbuffer format when the path ends in .ort,
// and a session created from those bytes with optimizations off, the bytes used in place, is the
// same session in a fraction of the time (ResNet-18's gradient graph: ~15-45 ms against
// ~130-1000 ms from the optimized .onnx and ~900 ms from scratch). Files are keyed by a hash of the model and
// of everything else that shapes the result (ORT version, machine, session options), written
// under a temporary name and renamed into place, and carry a footer (length, checksum) so that a
// truncated or damaged file is noticed, deleted and rebuilt instead of being run. The checksum is
// the first 8 bytes of the payload's SHA-256: OpenSSL hashes ~1.8 GB/s here where zlib's CRC-32
// managed ~0.5, and on a 90 MB gradient graph that difference was most of a warm load.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';

const SUFFIX = '.ortmodel';
const MAGIC = 'CLSESS02';
const FOOTER_BYTES = 24;
const MiB = 1024 * 1024;

export interface SessionCacheOptions {
  /** the folder; created when first written */
  dir: string;
  /** the folder is pruned (oldest first) to this size after each write; default 2 GiB */
  maxBytes?: number;
  /** models smaller than this compile fast enough not to be worth a file; default 1 MiB */
  minModelBytes?: number;
}

/**
 * Where the cache lives, if anywhere: $CONVLENS_CACHE_DIR names a folder, or `on` for the OS
 * cache folder + convlens; unset (or off, 0, empty) means no cache. Off by default because on the
 * machine it was measured on, reading a big cached model into fresh memory cost as much as ORT's
 * optimizations it saved (docs/speed.md, "What the cache saves here").
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['CONVLENS_CACHE_DIR']?.trim();
  if (explicit === undefined || /^(|0|off|false|none|no)$/i.test(explicit)) return undefined;
  if (!/^(on|1|true|yes|default)$/i.test(explicit)) return explicit;
  return osCacheDir(env);
}

/** The OS's per-user cache folder + convlens. */
export function osCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32' && env['LOCALAPPDATA']) return join(env['LOCALAPPDATA'], 'convlens', 'cache');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'convlens');
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'convlens');
}

/** A reserved place for ONNX Runtime to write one optimized model. */
export interface CacheSlot {
  /** the temporary file ORT writes */
  readonly path: string;
  /** seals the written file (footer) and renames it into place; false when that failed */
  commit(): boolean;
  /** removes the temporary file */
  abort(): void;
}

export class SessionCache {
  readonly dir: string;
  private readonly maxBytes: number;
  readonly minModelBytes: number;
  private readonly runtime: string;
  /** false once the folder turned out unusable: the process then compiles without the cache */
  private usable = true;
  /** what happened so far: sessions from files, files written, damaged files found and deleted */
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

  /** The cache key of a model (its bytes) under the given session options. */
  key(model: Uint8Array, options: string): string {
    return createHash('sha256').update(`convlens-session/1|${this.runtime}|${options}|`).update(model).digest('hex');
  }

  private file(key: string): string {
    return join(this.dir, `${key}${SUFFIX}`);
  }

  /**
   * The stored optimized model for `key`, if present and intact. A damaged file (wrong footer,
   * length or checksum) is deleted and reported as absent.
   */
  read(key: string): Uint8Array | undefined {
    if (!this.usable) return undefined;
    const path = this.file(key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    const payload = verify(bytes);
    if (!payload) {
      this.stats.damaged++;
      this.remove(key);
      return undefined;
    }
    try {
      const now = new Date();
      utimesSync(path, now, now); // recently used files survive pruning
    } catch {
      // a read-only cache still serves hits
    }
    return payload;
  }

  /** Deletes the file for `key` (a file ORT could not load, or a damaged one). */
  remove(key: string): void {
    rmSync(this.file(key), { force: true });
  }

  /** A temporary file for ORT to write the optimized model of `key` into; undefined if the folder is unusable. */
  reserve(key: string): CacheSlot | undefined {
    if (!this.usable) return undefined;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch {
      this.usable = false;
      return undefined;
    }
    // ORT picks its own (flatbuffer) format for a path ending in .ort: it loads from the bytes in place.
    const temp = join(this.dir, `.${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp.ort`);
    return {
      path: temp,
      commit: () => {
        try {
          if (!existsSync(temp)) return false;
          seal(temp);
          renameSync(temp, this.file(key));
        } catch {
          rmSync(temp, { force: true });
          return false;
        }
        this.stats.writes++;
        this.prune();
        return true;
      },
      abort: () => rmSync(temp, { force: true }),
    };
  }

  /** Deletes the least recently used files until the folder fits `maxBytes`, and stale temporaries. */
  prune(): void {
    let entries: { path: string; size: number; used: number }[];
    try {
      entries = readdirSync(this.dir).flatMap((name) => {
        const path = join(this.dir, name);
        try {
          const st = statSync(path);
          if (name.includes('.tmp.')) {
            // another process's write in progress, unless it is an hour old (a crash)
            if (Date.now() - st.mtimeMs > 3600_000) rmSync(path, { force: true });
            return [];
          }
          return name.endsWith(SUFFIX) ? [{ path, size: st.size, used: st.mtimeMs }] : [];
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
      rmSync(e.path, { force: true });
      total -= e.size;
    }
  }
}

/** The footer's checksum of a payload: the first 8 bytes of its SHA-256. */
const checksum = (payload: Uint8Array): Buffer => createHash('sha256').update(payload).digest().subarray(0, 8);

/** Appends the footer: magic, payload length (two uint32 LE), checksum of the payload (8 bytes). */
function seal(path: string): void {
  const payload = readFileSync(path);
  const footer = Buffer.alloc(FOOTER_BYTES);
  footer.write(MAGIC, 0, 'latin1');
  footer.writeUInt32LE(payload.length % 2 ** 32, 8);
  footer.writeUInt32LE(Math.floor(payload.length / 2 ** 32), 12);
  checksum(payload).copy(footer, 16);
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, footer);
  } finally {
    closeSync(fd);
  }
}

/** The payload of a sealed file, or undefined when the footer, length or checksum disagree. */
function verify(bytes: Buffer): Uint8Array | undefined {
  if (bytes.length < FOOTER_BYTES) return undefined;
  const footer = bytes.subarray(bytes.length - FOOTER_BYTES);
  if (footer.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const length = footer.readUInt32LE(8) + footer.readUInt32LE(12) * 2 ** 32;
  if (length !== bytes.length - FOOTER_BYTES) return undefined;
  const payload = bytes.subarray(0, length);
  if (!checksum(payload).equals(footer.subarray(16, 24))) return undefined;
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
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
