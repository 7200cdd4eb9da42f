import { existsSync, lstatSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { decodeModel } from '../engine/onnx/codec.js';
import { ConvLensError } from '../engine/errors.js';
import type { Engine } from '../engine/runtime/engine.js';
import { readFileOrExplain } from '../io/files.js';
import { BUILTIN_MODELS, DEFAULT_BUILTIN, findBuiltin, type BuiltinModel } from './builtins.js';
import { METADATA_KEYS, writeMetadata } from './metadata.js';
import { Model } from './model.js';
import type { OutputKind } from './output-kind.js';
import { courseCnn, FASHION_MNIST_LABELS } from './zoo/index.js';

/** How to read a model beyond what its file says: `outputKind` as the file's convlens.output would declare it. */
export interface LoadOptions {
  outputKind?: OutputKind;
}

/** Graph names exporters give every model; the file name says more. */
const GENERIC_GRAPH_NAMES = new Set(['graph', 'torch_jit', 'torch-jit-export', 'main_graph', 'tf2onnx', 'model']);

/**
 * Loads an .onnx file (with external-data files beside it) as a Model. `read` reads the model
 * and its external-data files (default: any file; the studio passes its checked reader);
 * `name` names the model (default: the graph's name, or the file's when the exporter's is generic).
 */
export function loadModelFile(path: string, engine: Engine, read?: (path: string, what: string) => Uint8Array, name?: string, o: LoadOptions = {}): Model {
  const bytes = read ? read(path, `Model file "${path}"`) : readFileOrExplain(path, 'model file');
  const folder = dirname(path);
  const files = new Map<string, Uint8Array>(); // one read per external-data file, not per tensor
  const graph = decodeModel(bytes, {
    source: `model file "${path}"`,
    inPlace: true, // the bytes were read for this model alone
    readExternal: (location) => {
      if (isAbsolute(location) || normalize(location).startsWith('..')) throw new Error('external-data locations must stay inside the model folder');
      let data = files.get(location);
      const file = join(folder, location);
      if (!data) files.set(location, (data = read ? read(file, `External data "${location}" of model "${path}"`) : readFileOrExplain(file, `external data "${location}" of model`)));
      return data;
    },
  });
  if (o.outputKind) graph.metadata.set(METADATA_KEYS.output, o.outputKind);
  return Model.fromOnnxGraph(graph, engine, name ?? (graph.name && !GENERIC_GRAPH_NAMES.has(graph.name) ? graph.name : path.replace(/^.*[\\/]/, '').replace(/\.onnx$/, '')));
}

/** Where the trained built-in model lives inside the package (made by `convlens train`, see assets/models/README.md). */
export const BUILTIN_MODEL_PATH = DEFAULT_BUILTIN.file;

/** The layer roles the course CNN is known by (docs, course material), written into its metadata. */
export const FASHION_CNN_PROFILE = {
  firstConv: 'conv1',
  camLayer: 'relu4',
  dreamLayer: 'relu3',
  styleLayers: ['relu1', 'relu2', 'relu3'],
  contentLayers: ['relu3'],
  featureLayers: ['relu3', 'relu4'],
  inversionLayers: ['conv1', 'pool1', 'pool2', 'relu3', 'pool3', 'relu4', 'logits'],
};

/** A built-in model by name (default: the Fashion-MNIST CNN every command uses without --model). */
export function loadBuiltinModel(engine: Engine, name: string = DEFAULT_BUILTIN.name, o: LoadOptions = {}): Model {
  const builtin = findBuiltin(name);
  if (!builtin) throw unknownModelError(name);
  if (existsSync(builtin.file)) return loadModelFile(builtin.file, engine, undefined, builtin.name, o);
  if (builtin !== DEFAULT_BUILTIN) throw new ConvLensError('INPUT_UNREADABLE', `The built-in model "${builtin.name}" is missing from this installation (${builtin.file}).`, 'Reinstall convlens, or pass the path of an .onnx file.');
  // Until trained weights are committed: the same architecture, seeded random weights.
  const graph = courseCnn(0);
  writeMetadata(graph, {
    labels: FASHION_MNIST_LABELS,
    preprocessing: { size: [28, 28], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' },
    description: 'Course CNN for Fashion-MNIST (untrained: random weights)',
    profile: FASHION_CNN_PROFILE,
    samples: 'fashion-mnist',
    ...(o.outputKind ? { outputKind: o.outputKind } : {}),
  });
  const model = new Model(graph, engine, 'fashion-cnn (untrained)');
  model.meta.warnings.push('the built-in model is untrained (random weights); predictions are meaningless');
  return model;
}

/** A model by --model value: a built-in name (resolved first), or a path; undefined = the default built-in. */
export function loadModel(spec: string | undefined, engine: Engine, o: LoadOptions = {}): Model {
  if (spec === undefined) return loadBuiltinModel(engine, undefined, o);
  const builtin = findBuiltin(spec);
  if (builtin) return loadBuiltinModel(engine, builtin.name, o);
  // Only a path with nothing at it may be a mistyped built-in name; anything else (a link loop, a
  // folder, no permission) is reported by the read itself.
  if (nothingAt(spec)) throw unknownModelError(spec);
  return loadModelFile(spec, engine, undefined, undefined, o);
}

/** The built-in model a --model value names, or the file it is, for summaries ("built-in squeezenet" / the path). */
export function modelSource(spec: string | undefined): { builtin: BuiltinModel } | { file: string } {
  const builtin = spec === undefined ? DEFAULT_BUILTIN : findBuiltin(spec);
  return builtin ? { builtin } : { file: spec! };
}

function nothingAt(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

function unknownModelError(spec: string): ConvLensError {
  const names = BUILTIN_MODELS.map((m) => m.name);
  return new ConvLensError(
    'INPUT_UNREADABLE',
    `Cannot read model file "${spec}": no such file, and no built-in model of that name.`,
    `Name a built-in model (${names.join(', ')}; CLI: --model ${names[1] ?? names[0]}) or pass the path of an .onnx file.`,
  );
}
