import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ConvLensError } from '../engine/errors.js';

/** Reads a file, turning fs errors into messages that name the file and the reason. */
export function readFileOrExplain(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ConvLensError('INPUT_UNREADABLE', `Cannot read ${what} "${path}": ${reason}.`, code === 'ENOENT' ? 'Check the path (relative paths are from the current directory).' : undefined, { cause: e });
  }
}

/**
 * Creates a folder (and its parents) for output, or explains why it cannot: a path component
 * that is a file, no permission. Commands call it before their work starts, so a bad --out
 * fails at once instead of after minutes of computing.
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'EEXIST' || code === 'ENOTDIR'
        ? 'a file is in the way (the path or one of its parent folders is a file, not a folder)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'the file system is read-only'
            : (e as Error).message;
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot create the output folder "${dir}": ${reason}.`, 'Choose another output path (--out).', { cause: e });
  }
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
