// Reopening what a store was made from: the model (its recorded file, or the built-in one, or
// one the caller passes) and the dataset, both checked against the fingerprints in store.json.
import { ConvLensError } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { openSource, type DatasetSource, type OpenSourceOptions } from '../../data/sources.js';
import { loadModel } from '../../models/load.js';
import type { Model } from '../../models/model.js';
import { modelFingerprint } from './scan.js';
import { DatasetStore } from './store.js';

export interface StoreContext {
  store: DatasetStore;
  model: Model;
  source: DatasetSource;
}

/** Checks that a model is the one a store was scanned with. */
export function checkModel(store: DatasetStore, model: Model): void {
  const fp = modelFingerprint(model);
  if (fp !== store.manifest.model.fingerprint) {
    throw new ConvLensError('INVALID_ARGUMENT', `Model "${model.name}" is not the model the store "${store.dir}" was made with ("${store.manifest.model.name}").`, store.manifest.model.path ? `Pass --model ${store.manifest.model.path}.` : 'It was made with the built-in model: leave out --model.');
  }
}

/** The dataset a store was made from, reopened (or `spec` instead of the recorded one). */
export function storeSource(store: DatasetStore, spec?: string, options: OpenSourceOptions = {}): DatasetSource {
  const m = store.manifest;
  const source = openSource(spec ?? m.dataset.spec, options);
  if (source.fingerprint !== m.dataset.fingerprint) {
    throw new ConvLensError('INVALID_ARGUMENT', `The dataset at "${spec ?? m.dataset.spec}" has changed since the store "${store.dir}" was made.`, 'Index it again (convlens index --fresh), or pass --data with the original files.');
  }
  return source;
}

export async function openStoreContext(dir: string, engine: Engine, o: { model?: Model; modelPath?: string; data?: string } = {}): Promise<StoreContext> {
  const store = await DatasetStore.open(dir);
  try {
    const model = o.model ?? loadModel(o.modelPath ?? store.manifest.model.path, engine);
    checkModel(store, model);
    const source = storeSource(store, o.data);
    return { store, model, source };
  } catch (e) {
    store.close();
    throw e;
  }
}
