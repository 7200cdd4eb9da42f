// One writer per store: `convlens index` (or a studio index job) holds `writer.lock` in the store
// folder while it writes (io/writer-lock.ts has the mechanism: O_EXCL, stale takeover, release on
// exit).
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConvLensError } from '../../engine/errors.js';
import { ensureDir } from '../../io/files.js';
import { acquireLockFile, describeWriter, lockHolder, type WriterInfo, type WriterLock } from '../../io/writer-lock.js';

export { commandLine, describeWriter, type WriterInfo, type WriterLock } from '../../io/writer-lock.js';

export const WRITER_LOCK = 'writer.lock';

/** Takes a store's writer lock, or throws a ConvLensError naming the writer that holds it. The folder is created if needed. */
export function acquireWriterLock(dir: string, command: string): WriterLock {
  try {
    ensureDir(dir);
  } catch (e) {
    throw new ConvLensError('INVALID_ARGUMENT', (e as Error).message.replace('output folder', 'store folder'), 'Choose another store folder (CLI: --store).', { cause: e });
  }
  const path = join(dir, WRITER_LOCK);
  return acquireLockFile(path, command, (w: WriterInfo | undefined) =>
    new ConvLensError(
      'INVALID_ARGUMENT',
      w ? `The store "${dir}" is being written by another index run: ${describeWriter(w)}.` : `The store "${dir}" is being written by another index run (${path} exists).`,
      w && w.hostname !== hostname()
        ? `Wait for it to finish, or use another --store. If no ConvLens runs on ${w.hostname} any more, delete ${path}.`
        : 'Wait for it to finish (or stop it: finished chunks are kept and the same command resumes), or use another --store.',
    ),
  );
}

/** The live writer of a store, if any (a stale lock counts as none). */
export function currentWriter(dir: string): WriterInfo | undefined {
  return lockHolder(join(dir, WRITER_LOCK));
}
