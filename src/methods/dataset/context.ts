// Reopening what a store was made from: the model (its recorded file, or the built-in one, or
// one the caller passes) and the dataset, both checked against the fingerprints in store.json.
import { ConvLensError } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { openSource, type DatasetSource, type OpenSourceOptions } from '../../data/sources.js';
import { loadModel } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { describeWriter } from './lock.js';
import { isRecordedModel } from './scan.js';
import { DatasetStore } from './store.js';

export interface StoreContext {
  store: DatasetStore;
  model: Model;
  source: DatasetSource;
}

/** Checks that a model is the one a store was scanned with. */
export function checkModel(store: DatasetStore, model: Model): void {
  if (!isRecordedModel(store.manifest.model, model)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Model "${model.name}" is not the model the store "${store.dir}" was made with ("${store.manifest.model.name}").`, store.manifest.model.path ? `Pass --model ${store.manifest.model.path}.` : 'It was made with the built-in model: leave out --model.');
  }
}

/** The dataset a store was made from, reopened (or `spec` instead of the recorded one). */
export function storeSource(store: DatasetStore, spec?: string, options: OpenSourceOptions = {}): DatasetSource {
  const m = store.manifest;
  const source = openSource(spec ?? m.dataset.spec, options);
  if (source.fingerprint !== m.dataset.fingerprint) {
    throw new ConvLensError('INVALID_ARGUMENT', `The dataset at "${spec ?? m.dataset.spec}" has changed since the store "${store.dir}" was made.`, 'Index it again (CLI: convlens index --fresh), or give the original files (CLI: --data).');
  }
  return source;
}

/** Opens a store with its model and dataset for reading; `onNotice` hears when the store is incomplete. */
export async function openStoreContext(dir: string, engine: Engine, o: { model?: Model; modelPath?: string; data?: string; onNotice?: (text: string) => void } = {}): Promise<StoreContext> {
  const store = await DatasetStore.open(dir);
  try {
    const model = o.model ?? loadModel(o.modelPath ?? store.manifest.model.path, engine);
    checkModel(store, model);
    const source = storeSource(store, o.data);
    // a scan that failed on its first images leaves a store of none: read, it gave a figure of
    // empty rows (patches) or "A features_1 query needs 1 values, got 0" (neighbors --ids)
    const s = await store.status();
    if (s.images === 0) {
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `The store "${store.dir}" holds no images yet: ${s.writer ? `its scan is running (${describeWriter(s.writer)}) and has not committed any` : 'its scan stopped before committing any'}.`,
        s.writer ? 'Wait for the scan to commit its first chunk, then ask again.' : `Run the scan again (CLI: ${resumeCommand(store)}; --fresh starts over).`,
      );
    }
    if (o.onNotice) {
      const notice = await incompleteNotice(store);
      if (notice) o.onNotice(notice);
    }
    return { store, model, source };
  } catch (e) {
    store.close();
    throw e;
  }
}

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The `convlens index` command line that continues a store's scan. */
export function resumeCommand(store: DatasetStore): string {
  const m = store.manifest;
  const parts = ['convlens', 'index', shellWord(m.dataset.spec), '--store', shellWord(store.dir), '--layers', m.layers.map((l) => l.name).join(','), '--chunk', String(m.chunkSize), '--limit', String(m.dataset.count)];
  if (m.k !== 16) parts.push('-k', String(m.k));
  if (m.pool !== 'avg') parts.push('--pool', m.pool);
  if (m.model.path) parts.push('--model', shellWord(m.model.path));
  return parts.join(' ');
}

/**
 * What a reader should tell the user about a store that is not complete: how much of it is in,
 * and who is writing it or how to resume it. Undefined for a complete store.
 */
export async function incompleteNotice(store: DatasetStore): Promise<string | undefined> {
  const s = await store.status();
  if (s.complete) return undefined;
  const head =
    s.chunks === s.totalChunks
      ? `The store "${store.dir}" holds all ${s.total} images but its scan did not finish (merged top-k and vector indexes are missing).`
      : `The store "${store.dir}" is incomplete: ${s.images} of ${s.total} images (${s.chunks} of ${s.totalChunks} chunks) are in, and results cover those only.`;
  if (s.writer) return `${head} It is being written now by ${describeWriter(s.writer)}.`;
  return `${head} Resume the scan with: ${resumeCommand(store)}`;
}
