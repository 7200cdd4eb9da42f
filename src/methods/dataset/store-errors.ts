// LanceDB's errors for a store whose data files were truncated or changed by hand, in ConvLens's
// words. Kept apart from store.ts so the CLI's and the studio's error reporting can use it
// without loading LanceDB.
import { ConvLensError } from '../../engine/errors.js';

/** The ConvLensError for an error LanceDB raised reading a damaged store, or undefined for any other error. */
export function damagedStoreError(e: unknown): ConvLensError | undefined {
  if (!(e instanceof Error) || !/lance error|LanceError/.test(e.message)) return undefined;
  const kind = /LanceError\((\w+)\)/.exec(e.message)?.[1] ?? 'read';
  return new ConvLensError(
    'INPUT_UNREADABLE',
    `The dataset store could not be read: LanceDB reports a damaged data file (${kind} error).`,
    'Index the dataset again into a new store (CLI: convlens index DATASET --store DIR).',
    { cause: e },
  );
}
