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
 * Writes a file atomically: to a temporary name in the same folder, then renamed over the
 * target, so an interrupted run never leaves a half-written output.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot write "${path}": ${(e as Error).message}.`, 'Check that the folder is writable.', { cause: e });
  }
}
