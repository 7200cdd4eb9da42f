// What a task sees inside a worker process: the worker's own engine, the models it has loaded
// (cached by the registry's key), the request's images, preprocessed inputs (cached), the data
// folders' file checks, and its job options (cancellation, progress, memory budget).
import { ConvLensError } from '../../../engine/errors.js';
import { decodeModel } from '../../../engine/onnx/codec.js';
import type { Engine } from '../../../engine/runtime/engine.js';
import type { Tensor } from '../../../engine/tensor.js';
import type { FileAccess } from '../../../io/file-access.js';
import { preprocessImage, type RawImage } from '../../../io/image.js';
import { requireImageChannels, scaledUpNote } from '../../../io/inputs.js';
import { abbreviateName } from '../../../util/names.js';
import type { JobOptions } from '../../../engine/jobs.js';
import { loadBuiltinModel, loadModelFile } from '../../../models/load.js';
import { METADATA_KEYS } from '../../../models/metadata.js';
import { Model } from '../../../models/model.js';
import type { ImageRef, ModelRef } from '../workers/protocol.js';
import { readFileSync } from 'node:fs';

export interface TaskContext {
  engine: Engine;
  files: FileAccess;
  /** the request's model (or one of `models` by name) */
  model(name?: string): Model;
  image(id: string): ImageRef;
  /** an image preprocessed for a model, as predict feeds it (cached per model and image) */
  /** `scaledUp`: a note when the image was scaled up 2x or more to the model's size (scaledUpNote) */
  input(model: Model, imageId: string): Promise<PreparedInput>;
  job: JobOptions;
  /** bytes the task may plan its batches to */
  budgetBytes: number;
}

const MAX_MODELS = 4;
const INPUT_CACHE_BYTES = 128 << 20;

export interface PreparedInput {
  tensor: Tensor;
  display: RawImage;
  scaledUp?: string;
}

/** A worker's models and preprocessed inputs, kept across tasks (least recently used leave first). */
export class WorkerCache {
  private readonly models = new Map<string, { model: Model; ref: ModelRef }>();
  private readonly inputs = new Map<string, PreparedInput>();

  constructor(
    private readonly engine: Engine,
    private readonly files: FileAccess,
  ) {}

  model(ref: ModelRef): Model {
    const hit = this.models.get(ref.key);
    if (hit && sameRef(hit.ref, ref)) {
      this.models.delete(ref.key);
      this.models.set(ref.key, hit);
      return hit.model;
    }
    // Another file or description under the key: inputs made with the old preprocessing go too.
    if (hit) this.forget([ref.key]);
    const model = this.load(ref);
    if (ref.describe) model.describe(ref.describe);
    this.models.set(ref.key, { model, ref });
    while (this.models.size > MAX_MODELS) this.forget([this.models.keys().next().value as string]);
    return model;
  }

  async input(model: Model, modelKey: string, image: ImageRef): Promise<PreparedInput> {
    const key = `${modelKey}|${image.id}`;
    const hit = this.inputs.get(key);
    if (hit) return hit;
    const { scaledUp, ...made } = await preprocessImage(image.bytes, model.meta.preprocessing, `image "${image.name}"`);
    requireImageChannels(model, made.tensor, `image "${image.name}"`);
    // the note is shown in the Prediction panel: a long uploaded name is shortened there
    const note = scaledUp ? scaledUpNote([{ source: `"${abbreviateName(image.name)}"`, display: made.display, scaledUp }], model) : undefined;
    const prepared: PreparedInput = { ...made, ...(note ? { scaledUp: note } : {}) };
    this.inputs.set(key, prepared);
    // Oldest first out, by count and by bytes (large inputs of large models add up fast).
    const bytesOf = (p: PreparedInput): number => p.tensor.data.byteLength + p.display.data.byteLength;
    let bytes = [...this.inputs.values()].reduce((a, p) => a + bytesOf(p), 0);
    while (this.inputs.size > 1 && (this.inputs.size > 256 || bytes > INPUT_CACHE_BYTES)) {
      const oldest = this.inputs.keys().next().value as string;
      bytes -= bytesOf(this.inputs.get(oldest)!);
      this.inputs.delete(oldest);
    }
    return prepared;
  }

  /**
   * Drops models (and the inputs made for them) that left the registry or were described anew,
   * with their engine sessions: dropped from this map alone, a model's sessions stayed in the
   * engine's cache, weights and arenas held, until evicted.
   */
  forget(keys: readonly string[]): void {
    for (const key of keys) {
      void this.models.get(key)?.model.releaseSessions();
      this.models.delete(key);
      for (const k of [...this.inputs.keys()]) if (k.startsWith(`${key}|`)) this.inputs.delete(k);
    }
  }

  private load(ref: ModelRef): Model {
    return loadRef(ref, this.engine, (p, name) => this.files.read(p, name));
  }
}

/**
 * Loads the model a ref names with the output kind its description gives, as --output-kind
 * does (the kind decides the graph ConvLens builds: a one-output file is a binary classifier's
 * two classes, or a regression's one value), for the registry and its workers alike.
 */
export function loadRef(ref: ModelRef, engine: Engine, readDataFile: (path: string, what: string) => Uint8Array): Model {
  const kind = ref.describe?.outputKind ? { outputKind: ref.describe.outputKind } : {};
  switch (ref.type) {
    case 'builtin':
      return loadBuiltinModel(engine, ref.name, kind);
    case 'file':
      return loadModelFile(ref.path, engine, undefined, undefined, kind);
    case 'data-file':
      return loadModelFile(ref.path, engine, readDataFile, undefined, kind);
    case 'upload': {
      const graph = decodeModel(readFileSync(ref.path), { source: `"${ref.name}"`, inPlace: true });
      if (kind.outputKind) graph.metadata.set(METADATA_KEYS.output, kind.outputKind);
      return Model.fromOnnxGraph(graph, engine, ref.name.replace(/\.onnx$/i, ''));
    }
  }
}

const sameRef = (a: ModelRef, b: ModelRef): boolean =>
  a.type === b.type && ('path' in a ? a.path : '') === ('path' in b ? b.path : '') && ('name' in a ? a.name : '') === ('name' in b ? b.name : '') && JSON.stringify(a.describe ?? {}) === JSON.stringify(b.describe ?? {});

/** The context of one task: its model refs resolved through the worker's cache. */
export function taskContext(
  base: { engine: Engine; files: FileAccess; cache: WorkerCache },
  refs: { model?: ModelRef; models?: Record<string, ModelRef> },
  images: readonly ImageRef[],
  job: JobOptions,
  budgetBytes: number,
): TaskContext {
  const byId = new Map(images.map((i) => [i.id, i]));
  const refOf = (name?: string): ModelRef => {
    const ref = name === undefined ? refs.model : refs.models?.[name];
    if (!ref) throw new ConvLensError('INVALID_ARGUMENT', `This task was sent without ${name === undefined ? 'a model' : `the model "${name}"`}.`, 'This is a ConvLens bug worth reporting.');
    return ref;
  };
  const keys = new Map<Model, string>();
  const model = (name?: string): Model => {
    const ref = refOf(name);
    const m = base.cache.model(ref);
    keys.set(m, ref.key);
    return m;
  };
  const image = (id: string): ImageRef => {
    const img = byId.get(id);
    if (!img) throw new ConvLensError('UNKNOWN_NAME', `No image with id "${id}" was sent with this task.`, 'GET /api/images lists the images.');
    return img;
  };
  return {
    engine: base.engine,
    files: base.files,
    model,
    image,
    input: (m, id) => base.cache.input(m, keys.get(m) ?? m.id, image(id)),
    job,
    budgetBytes,
  };
}
