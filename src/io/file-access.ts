// Reading files someone else named (a dataset path sent to the studio's API, the image paths a
// list file holds): only inside given folders, judged after resolving symlinks; only regular
// files (a device such as /dev/zero would be read forever, a FIFO blocks the reader), of bounded
// size, checked on the opened descriptor so nothing is read before the checks pass. Refusals
// name the path as the caller gave it, never what the file holds.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConvLensError } from '../engine/errors.js';

export interface FileAccessOptions {
  /** folders files may come from (missing ones are ignored); undefined: anywhere (the CLI reads the user's own files) */
  roots?: readonly string[];
  /** the largest file read in one piece, in bytes (default: no limit) */
  maxFileBytes?: number;
  /** the way out when a path is outside the roots (e.g. the studio's `--data` flag) */
  outsideHint?: string;
  /** who reads, for that message (default `this server`) */
  reader?: string;
}

export type AccessEntry = { kind: 'file'; path: string; size: number } | { kind: 'folder'; path: string };

const fmtBytes = (n: number): string => (n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MB` : `${Math.ceil(n / 1024)} kB`);

/** The real path of `path`, or (when it does not exist) of its deepest existing ancestor with the rest appended. */
function realpathLoose(path: string): { real: string; exists: boolean } {
  const abs = resolve(path);
  try {
    return { real: realpathSync.native(abs), exists: true };
  } catch {
    // fall through: resolve what exists, so a missing path is judged by where it would be
  }
  const tail: string[] = [];
  let head = abs;
  for (;;) {
    const parent = dirname(head);
    if (parent === head) return { real: abs, exists: false };
    tail.unshift(basename(head));
    head = parent;
    try {
      return { real: join(realpathSync.native(head), ...tail), exists: false };
    } catch {
      // keep climbing
    }
  }
}

const within = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

/**
 * What may be read, and reading it. `FileAccess.anywhere` is the CLI's (any path, still only
 * regular files and folders); the studio builds one over its data folders.
 */
export class FileAccess {
  static readonly anywhere = new FileAccess();

  readonly maxFileBytes: number;
  private readonly outsideHint: string;
  private readonly reader: string;
  private readonly real: string[] | undefined;
  /** roots that did not exist yet (e.g. the uploads folder before the first upload): resolved once they do */
  private pending: string[] = [];

  constructor(options: FileAccessOptions = {}) {
    this.maxFileBytes = options.maxFileBytes ?? Infinity;
    this.outsideHint = options.outsideHint ?? 'Use a file inside the allowed folders.';
    this.reader = options.reader ?? 'this server';
    if (options.roots) {
      this.real = [];
      this.pending = options.roots.map((r) => resolve(r));
    }
  }

  /** the roots' real paths (folders that exist); undefined: anywhere */
  get roots(): readonly string[] | undefined {
    if (!this.real) return undefined;
    if (this.pending.length) {
      this.pending = this.pending.filter((r) => {
        try {
          const p = realpathSync.native(r);
          if (!statSync(p).isDirectory()) return true;
          if (!this.real!.includes(p)) this.real!.push(p);
          return false;
        } catch {
          return true; // a root that does not exist holds nothing to read
        }
      });
    }
    return this.real;
  }

  /** Whether `path` (resolved, symlinks followed) lies inside a root. Says nothing about whether it exists. */
  allows(path: string): boolean {
    const roots = this.roots;
    return !roots || roots.some((r) => within(r, realpathLoose(path).real));
  }

  /**
   * The real path of a regular file or folder `path` may be read from; `name` is how messages
   * refer to it (e.g. `dataset "photos"`). Refuses paths outside the roots (before saying whether
   * they exist), special files, and files over the size limit.
   */
  entry(path: string, name: string): AccessEntry {
    const { real, exists } = realpathLoose(path);
    const roots = this.roots;
    if (roots && !roots.some((r) => within(r, real))) {
      throw new ConvLensError('FORBIDDEN', `${name} is outside the folders ${this.reader} reads from.`, this.outsideHint);
    }
    let st: Stats;
    try {
      if (!exists) throw new Error('missing');
      st = statSync(real);
    } catch {
      throw new ConvLensError('INPUT_UNREADABLE', `${name} does not exist.`, 'Check the path (relative paths are from the folder the program was started in).');
    }
    if (st.isDirectory()) return { kind: 'folder', path: real };
    if (!st.isFile()) throw new ConvLensError('INPUT_UNREADABLE', `${name} is not a regular file (it is a device, pipe or socket).`, 'Name a regular file or a folder.');
    this.checkSize(st.size, name);
    return { kind: 'file', path: real, size: st.size };
  }

  /** As `entry`, for a path that must be a regular file. */
  file(path: string, name: string): { path: string; size: number } {
    const e = this.entry(path, name);
    if (e.kind !== 'file') throw new ConvLensError('INPUT_UNREADABLE', `${name} is a folder, not a file.`, 'Give the path of a file, not of the folder that holds it.');
    return e;
  }

  /**
   * Reads a file that passes `file`. The descriptor is opened without following a symlink and
   * without blocking, and checked again (regular, size) before any byte is read, so a path
   * swapped after the check cannot turn into a pipe, a device or a larger file.
   */
  read(path: string, name: string): Buffer {
    const checked = this.file(path, name);
    let fd: number;
    try {
      fd = openSync(checked.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConvLensError(
        'INPUT_UNREADABLE',
        `Cannot read ${name}: ${code === 'EACCES' ? 'permission denied' : code === 'ELOOP' ? 'it changed into a symbolic link' : 'it cannot be opened'}.`,
        code === 'EACCES'
          ? 'Make the file readable by the user running convlens, or copy it somewhere readable.'
          : code === 'ELOOP'
            ? 'Name the file itself, not a symbolic link, and leave it in place while it is read.'
            : 'Check that the file is still there and can be read, then try again.',
        { cause: e },
      );
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new ConvLensError('INPUT_UNREADABLE', `${name} is not a regular file (it is a device, pipe or socket).`, 'Name a regular file or a folder.');
      this.checkSize(st.size, name);
      const buf = Buffer.allocUnsafe(st.size);
      let off = 0;
      while (off < st.size) {
        const n = readSync(fd, buf, off, st.size - off, off);
        if (n === 0) break;
        off += n;
      }
      return off === st.size ? buf : buf.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  }

  private checkSize(size: number, name: string): void {
    if (size > this.maxFileBytes) {
      throw new ConvLensError('INPUT_UNREADABLE', `${name} is ${fmtBytes(size)}; files up to ${fmtBytes(this.maxFileBytes)} are read.`, 'Split the data into smaller files (e.g. a folder of images).');
    }
  }
}
