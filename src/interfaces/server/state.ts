import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeModel } from '../../engine/onnx/codec.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import { ConvLensError } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { preprocessImage, type RawImage } from '../../io/image.js';
import { loadBuiltinModel, loadModelFile } from '../../models/load.js';
import { Model } from '../../models/model.js';
import { toApiError, type ApiError } from './jobs.js';

export interface ModelEntry {
  id: string;
  name: string;
  source: 'builtin' | 'path' | 'upload';
  model?: Model;
  /** why the model cannot be used (unreadable file, unsupported op...) */
  error?: ApiError;
}

export interface ImageEntry {
  id: string;
  name: string;
  source: 'sample' | 'upload';
  group: string;
  bytes: Uint8Array;
}

/** Models the studio knows: the built-in one, one given at start, and uploads. */
export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();

  constructor(private readonly engine: Engine) {}

  addBuiltin(): ModelEntry {
    return this.add({ id: 'builtin', name: 'Fashion-MNIST CNN (built-in)', source: 'builtin' }, () => loadBuiltinModel(this.engine));
  }

  addPath(path: string): ModelEntry {
    return this.add({ id: randomUUID(), name: basename(path), source: 'path' }, () => loadModelFile(path, this.engine));
  }

  addUpload(name: string, bytes: Uint8Array): ModelEntry {
    return this.add({ id: randomUUID(), name, source: 'upload' }, () => Model.fromOnnxGraph(decodeModel(bytes, { source: `"${name}"` }), this.engine, name.replace(/\.onnx$/i, '')));
  }

  list(): ModelEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): ModelEntry | undefined {
    return this.entries.get(id);
  }

  /** The usable model for an id, or an error the API turns into 404/422. */
  require(id: string): Model {
    const e = this.entries.get(id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No model with id "${id}".`, 'GET /api/models lists the models.');
    if (!e.model) throw new ConvLensError('MODEL_UNSUPPORTED', e.error?.message ?? 'The model could not be loaded.', e.error?.hint);
    return e.model;
  }

  private add(entry: ModelEntry, load: () => Model): ModelEntry {
    try {
      entry.model = load();
      // Feature maps, receptive fields and explanations need every op's shape and backward
      // rule: check now (strictly) so the page shows which op and node cannot be handled.
      GraphBuilder.over(entry.model.graph.clone(), { strict: true });
    } catch (e) {
      entry.error = toApiError(e);
      delete entry.model;
    }
    this.entries.set(entry.id, entry);
    return entry;
  }
}

/** Images the studio can run: committed samples and uploads (kept in memory). */
export class ImageRegistry {
  private readonly entries = new Map<string, ImageEntry>();
  private readonly tensors = new Map<string, { tensor: Tensor; display: RawImage }>();

  /** Registers every image in the sample folders (group = folder name). */
  addSamples(root: string): void {
    for (const group of safeList(root)) {
      for (const file of safeList(join(root, group)).sort()) {
        if (!/\.(png|jpe?g|webp)$/i.test(file)) continue;
        const id = `${group}/${file}`;
        this.entries.set(id, { id, name: file.replace(/\.\w+$/, ''), source: 'sample', group, bytes: readFileSync(join(root, group, file)) });
      }
    }
  }

  addUpload(name: string, bytes: Uint8Array): ImageEntry {
    const entry: ImageEntry = { id: `upload/${randomUUID()}`, name, source: 'upload', group: 'uploads', bytes };
    this.entries.set(entry.id, entry);
    return entry;
  }

  list(): ImageEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): ImageEntry | undefined {
    return this.entries.get(id);
  }

  require(id: string): ImageEntry {
    const e = this.entries.get(id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No image with id "${id}".`, 'GET /api/images lists the images.');
    return e;
  }

  /** The image preprocessed for a model (cached per model and image). */
  async input(model: Model, id: string): Promise<{ tensor: Tensor; display: RawImage }> {
    const key = `${model.id}|${id}`;
    const hit = this.tensors.get(key);
    if (hit) return hit;
    const img = this.require(id);
    const prepared = await preprocessImage(img.bytes, model.meta.preprocessing, `image "${img.name}"`);
    if (this.tensors.size > 256) this.tensors.delete(this.tensors.keys().next().value as string);
    this.tensors.set(key, prepared);
    return prepared;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
