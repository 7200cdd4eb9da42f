import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
    if (st.isDirectory()) throw refuse('it is a directory');
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

/**
 * Runs `blocking` (synchronous work that may wait on another process) with the stop signals'
 * JavaScript handlers detached, so the signals take their default action (end the process) instead
 * of waiting for an event loop that `blocking` holds. Node restores the default disposition when a
 * signal's last listener is removed.
 */
export function withStopSignalsDefault<T>(blocking: () => T): T {
  const saved = STOP_SIGNALS.map((signal) => [signal, process.listeners(signal)] as const);
  for (const [signal] of saved) process.removeAllListeners(signal);
  try {
    return blocking();
  } finally {
    for (const [signal, listeners] of saved) for (const listener of listeners) process.on(signal, listener);
  }
}

/**
 * Creates a folder (and its parents) for output, or explains why it cannot: a path component
 * that is a file, no permission. Commands call it before their work starts, so a bad --out
 * fails at once instead of after minutes of computing.
 */
export function ensureDir(dir: string): void {
  try {
    makeDirectories(dir);
  } catch (e) {
    const fault = e as DirectoryFault;
    const where = resolve(fault.path) === resolve(dir) ? '' : ` (${fault.path})`;
    const reason = fault.code === 'ENOTDIR' ? `a file is in the way${where}: ${fault.reason}` : `${fault.reason}${where}`;
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot create the output folder "${dir}": ${reason}.`, 'Choose another output path (--out).');
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
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (e) {
    // a missing path is the usual case; one through a file is explained by ensureDir below
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') fail((e as Error).message, other);
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
 * target, so an interrupted run never leaves a half-written output.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  ensureDir(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'EISDIR' ? 'it is a folder' : code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot write "${path}": ${reason}.`, 'Choose another output path (--out), or check that the folder is writable.', { cause: e });
  }
}
