import { closeSync, fstatSync, lstatSync, openSync, rmdirSync, writeSync, readFileSync, readlinkSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { ConvLensError } from '../engine/errors.js';
import { type DirectoryFault, makeDirectories } from '../util/make-directories.js';
import { systemReason } from '../util/system-errors.js';

/**
 * The most any input file may hold: protobuf's limit, so no ONNX model is larger, and far above
 * any image, tensor or list a command reads.
 */
export const MAX_INPUT_FILE_BYTES = 2 ** 31 - 1;

/** The conventional name of standard input on a command line, and the file it is read through. */
export const STDIN = '-';
export const STDIN_PATH = '/dev/stdin';

/**
 * Reads a file, turning fs errors into messages that name the file and the reason. Regular files
 * and pipes (`--labels <(...)`) are read; devices and sockets are refused before they are opened
 * (`/dev/zero` never ends), and nothing is read past `maxBytes`. "-" is standard input.
 */
export function readFileOrExplain(named: string, what: string, maxBytes = MAX_INPUT_FILE_BYTES): Buffer {
  const path = named === STDIN ? STDIN_PATH : named;
  const stdin = path === STDIN_PATH;
  const refuse = (reason: string, hint?: string, cause?: unknown): ConvLensError =>
    new ConvLensError('INPUT_UNREADABLE', `Cannot read ${what} ${stdin ? 'from standard input' : `"${path}"`}: ${reason}.`, hint, cause === undefined ? undefined : { cause });
  const tooLarge = (): ConvLensError => refuse(`it holds more than ${maxBytes} bytes`, 'Name the file itself, not a device or an endless stream.');
  let fd: number | undefined;
  try {
    // Standard input is read through its descriptor: a socket (what Node's and Python's child
    // processes get) cannot be opened by path.
    const st = stdin ? fstatSync(0) : statSync(path);
    if (st.isDirectory()) throw refuse('it is a directory', `Name one ${what.replace(/ file$/, '')} file in it (commands that take several files take them as separate arguments).`);
    if (stdin && st.isCharacterDevice()) throw refuse('it is a terminal', `Pipe or redirect the ${what} into the command, e.g. convlens predict - < photo.png.`);
    const stream = st.isFIFO() || (stdin && st.isSocket());
    if (!st.isFile() && !stream) throw refuse('it is not a regular file (it is a device or socket)', 'Name a regular file.');
    if (st.isFile() && st.size > maxBytes) throw tooLarge();
    if (st.isFile() && !stdin) {
      fd = openSync(path, 'r');
      return readFileSync(fd);
    }
    // a pipe: read until its writer closes it, but not without bound. Opening a named pipe waits
    // for a writer and each read for data, both blocking the event loop, so a Ctrl-C handler could
    // never run: the stop signals act as they do on `cat` (end the process) while it waits. A pipe
    // hands over at most 64 KiB per read, so each read is copied out of one buffer (keeping a 1 MiB
    // buffer per read would hold 16x the data).
    return withStopSignalsDefault(() => {
      const from = stdin ? 0 : (fd = openSync(path, 'r'));
      const chunks: Buffer[] = [];
      const buffer = Buffer.allocUnsafe(1 << 20);
      let total = 0;
      for (;;) {
        const n = readSync(from, buffer, 0, buffer.length, null);
        if (n === 0) break;
        total += n;
        if (total > maxBytes) throw tooLarge();
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      }
      return Buffer.concat(chunks, total);
    });
  } catch (e) {
    if (e instanceof ConvLensError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const known = systemReason(code);
    throw refuse(known ? known[0] : `the system said ${code ?? (e as Error).name}`, known?.[1], e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What steps aside while a signal may end the process without any cleanup (see onUnguardedWait). */
const unguarded = new Set<{ leave(): void; back(): void }>();

/**
 * Registers what must not outlive a process ended by a signal's default action (an output
 * folder's lock file, which an exit listener removes otherwise): `leave` runs before each wait
 * that a stop signal may end that way, `back` after it. Returns the unregistration.
 */
export function onUnguardedWait(leave: () => void, back: () => void): () => void {
  const entry = { leave, back };
  unguarded.add(entry);
  return () => void unguarded.delete(entry);
}

/**
 * Runs `blocking` (synchronous work that may wait on another process) with the stop signals'
 * JavaScript handlers detached, so the signals take their default action (end the process) instead
 * of waiting for an event loop that `blocking` holds. Node restores the default disposition when a
 * signal's last listener is removed.
 */
export function withStopSignalsDefault<T>(blocking: () => T): T {
  const saved = STOP_SIGNALS.map((signal) => [signal, process.listeners(signal)] as const);
  const stepped = [...unguarded];
  for (const s of stepped) s.leave();
  for (const [signal] of saved) process.removeAllListeners(signal);
  let done = false;
  try {
    const result = blocking();
    done = true;
    return result;
  } finally {
    for (const [signal, listeners] of saved) for (const listener of listeners) process.on(signal, listener);
    // back after a failed wait too, but its own refusal (the folder taken meanwhile) only when the wait succeeded
    for (const s of stepped) {
      try {
        s.back();
      } catch (e) {
        if (done) throw e;
      }
    }
  }
}

/**
 * Creates a folder (and its parents) for output, or explains why it cannot: a path component
 * that is a file, no permission. Commands call it before their work starts, so a bad --out
 * fails at once instead of after minutes of computing.
 */
export function ensureDir(dir: string, option = '--out'): string[] {
  try {
    return makeDirectories(dir);
  } catch (e) {
    const fault = e as DirectoryFault;
    const where = resolve(fault.path) === resolve(dir) ? '' : ` (${fault.path})`;
    const reason = fault.code === 'ENOTDIR' ? `a file is in the way${where}: ${fault.reason}` : `${fault.reason}${where}`;
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot create the output folder "${dir}": ${reason}.`, `Choose another output path (${option}).`);
  }
}

const madeForOutput: string[] = [];

/**
 * Makes an output folder before any work, so that a path that cannot be written fails first;
 * the folders made here that are still empty when the process exits are removed again, so that
 * a refused or failed run leaves no empty folder behind.
 */
export function prepareOutputDir(dir: string, option = '--out'): void {
  const made = ensureDir(dir, option);
  if (made.length) {
    if (!madeForOutput.length) process.once('exit', removeEmptyOutputDirs);
    madeForOutput.push(...made);
  }
  // an existing folder that takes no new files (read-only, immutable, another user's) failed only
  // at the first write, after all the work. A probe file rather than access(): root passes access()
  // on a read-only file system.
  const probe = join(dir, `.convlens-probe.${process.pid}.${Date.now()}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      throw new ConvLensError('INVALID_ARGUMENT', `Cannot write into the output folder "${dir}": ${systemReason(code)?.[0] ?? `the system refused it (${code})`}.`, `Choose another output path (${option}), or make the folder writable.`, { cause: e });
    }
  }
  rmSync(probe, { force: true });
}

/**
 * For an output that is one file (a figure): its folder is prepared as prepareOutputDir does, so
 * that a folder that cannot be written fails before the work. A device or pipe is left alone.
 */
export function prepareOutputFile(path: string, option = '--out'): void {
  if (writeTarget(path).special) return;
  prepareOutputDir(dirname(writeTarget(path).path), option);
}

function removeEmptyOutputDirs(): void {
  for (const dir of madeForOutput.reverse()) {
    try {
      rmdirSync(dir); // refused when something was written into it, as it should be
    } catch {
      // not empty, or gone already
    }
  }
}

/**
 * Where a write to `path` lands. A symbolic link is written through to its target (as cp and
 * editors do), not replaced by a file. A device, pipe or socket (`-o /dev/null`, a FIFO another
 * program reads) is written into as it is: renaming a temporary file over it would replace the
 * device node itself, and /dev/null is not ours to replace. So is a descriptor the shell opened
 * (`--npy /dev/stdout > file`, perhaps with >> for appending), whatever it leads to.
 */
export function writeTarget(path: string): { path: string; special: boolean } {
  if (ownDescriptor(path) !== undefined || /^\/proc\/[^/]+\/fd\/\d+$/.test(resolve(path))) return { path, special: true };
  try {
    const st = statSync(path);
    if (!st.isFile() && !st.isDirectory()) return { path, special: true };
  } catch {
    // nothing there (or a link to nothing): a new file
  }
  try {
    return { path: realpathSync(path), special: false };
  } catch {
    try {
      if (lstatSync(path).isSymbolicLink()) return { path: resolve(dirname(path), readlinkSync(path)), special: false };
    } catch {
      // nothing there
    }
    return { path, special: false };
  }
}

/**
 * The descriptor of this process that `path` names (/dev/stdout, /dev/fd/3, /proc/self/fd/1), if
 * any: written to directly, since reopening it fails for a socket (ENXIO: the standard output a
 * Node or Python parent gives its child) and truncates a file opened for appending.
 */
function ownDescriptor(path: string): number | undefined {
  const p = resolve(path);
  if (p === '/dev/stdout') return 1;
  if (p === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/(?:self|thread-self|(\d+))\/fd)\/(\d+)$/.exec(p);
  if (!m || (m[1] !== undefined && Number(m[1]) !== process.pid)) return undefined;
  return Number(m[2]);
}

/** Writes all of `data` to an open descriptor, waiting while a non-blocking pipe is full. */
function writeAll(fd: number, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 5); // the reader is behind (Node made the pipe non-blocking)
    }
  }
}

/**
 * Checks that `path` can be written as a file before a long run (training) starts: that failed
 * only when the result was saved, after every epoch. Refuses a folder, a path through a file and
 * a folder that takes no new files; `option` is the option that named the path.
 */
export function ensureWritableFile(path: string, option: string, example: string): void {
  const fail = (reason: string, hint: string): never => {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot write "${path}" (${option}): ${reason}.`, hint);
  };
  const other = `Choose another path for ${option}.`;
  if (writeTarget(path).special) return; // a device or pipe is written into (writeFileAtomic)
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (e) {
    // a missing path is the usual case; one through a file is explained by ensureDir below
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') fail(systemReason(code)?.[0] ?? `the system refused it (${code})`, other);
  }
  if (isFolder) fail('it is a folder', `Name a file inside it, e.g. ${option} ${join(path, example)}.`);
  const dir = dirname(path);
  try {
    ensureDir(dir);
  } catch (e) {
    if (e instanceof ConvLensError) fail(e.message.replace(/^Cannot create the output folder /, 'cannot create its folder ').replace(/\.$/, ''), other);
    throw e;
  }
  // A probe file rather than access(): root passes access() on a read-only file system.
  const probe = join(dir, `.${basename(path)}.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') fail(`its folder "${dir}" takes no new files (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (e as Error).message})`, `Choose another path for ${option}, or make the folder writable.`);
  }
  rmSync(probe, { force: true });
}

/**
 * Writes a file atomically: to a temporary name in the same folder, then renamed over the
 * target, so an interrupted run never leaves a half-written output (see writeTarget for links
 * and devices). `option` names the option that gave the path, for the hint.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, option = '--out'): void {
  const target = writeTarget(path);
  if (target.special) {
    try {
      // a pipe nobody reads blocks the open: Ctrl-C must still end the command
      // appending: reopening /dev/stdout truncates a file the shell opened with >>, and a device
      // or pipe has no end to append to
      const fd = ownDescriptor(target.path);
      withStopSignalsDefault(() => (fd !== undefined ? writeAll(fd, data) : writeFileSync(target.path, data, { flag: 'a' })));
    } catch (e) {
      throw cannotWrite(path, e, option);
    }
    return;
  }
  ensureDir(dirname(target.path), option);
  const tmp = join(dirname(target.path), `.${basename(target.path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target.path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(path, e, option);
  }
}

/** A failed write in words: the system's reason without its temporary file names. */
export function cannotWrite(path: string, e: unknown, option = '--out'): ConvLensError {
  const code = (e as NodeJS.ErrnoException).code;
  const known = code === 'EISDIR' ? (['it is a folder', 'Name a file.'] as const) : systemReason(code);
  const reason = known?.[0] ?? `the system refused it${code ? ` (${code})` : ''}`;
  return new ConvLensError('INVALID_ARGUMENT', `Cannot write "${path}": ${reason}.`, `Choose another path (${option}), or check that its folder exists and is writable.`, { cause: e });
}
