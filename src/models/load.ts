import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModel } from '../engine/onnx/codec.js';
import { ConvLensError } from '../engine/errors.js';
import type { Engine } from '../engine/runtime/engine.js';
import { readFileOrExplain } from '../io/files.js';
import { writeMetadata } from './metadata.js';
import { Model } from './model.js';
import { courseCnn, FASHION_MNIST_LABELS } from './zoo/index.js';

/**
 * Loads an .onnx file (with external-data files beside it) as a Model. `read` reads the model
 * and its external-data files (default: any file; the studio passes its checked reader).
 */
export function loadModelFile(path: string, engine: Engine, read?: (path: string, what: string) => Uint8Array): Model {
  const bytes = read ? read(path, `Model file "${path}"`) : readFileOrExplain(path, 'model file');
  const folder = dirname(path);
  const files = new Map<string, Uint8Array>(); // one read per external-data file, not per tensor
  const graph = decodeModel(bytes, {
    source: `model file "${path}"`,
    readExternal: (location) => {
      if (isAbsolute(location) || normalize(location).startsWith('..')) throw new Error('external-data locations must stay inside the model folder');
      let data = files.get(location);
      const file = join(folder, location);
      if (!data) files.set(location, (data = read ? read(file, `External data "${location}" of model "${path}"`) : readFileSync(file)));
      return data;
    },
  });
  return Model.fromOnnxGraph(graph, engine, graph.name && graph.name !== 'graph' ? graph.name : path.replace(/^.*[\\/]/, '').replace(/\.onnx$/, ''));
}

/** Where the trained built-in model lives inside the package (made by `convlens train`, see assets/models/README.md). */
export const BUILTIN_MODEL_PATH = fileURLToPath(new URL('../../assets/models/fashion-cnn.onnx', import.meta.url));

/** The default model every command uses without --model. */
export function loadBuiltinModel(engine: Engine): Model {
  if (existsSync(BUILTIN_MODEL_PATH)) return loadModelFile(BUILTIN_MODEL_PATH, engine);
  // Until trained weights are committed: the same architecture, seeded random weights.
  const graph = courseCnn(0);
  writeMetadata(graph, {
    labels: FASHION_MNIST_LABELS,
    preprocessing: { size: [28, 28], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' },
    description: 'Course CNN for Fashion-MNIST (untrained: random weights)',
  });
  const model = new Model(graph, engine, 'fashion-cnn (untrained)');
  model.meta.warnings.push('the built-in model is untrained (random weights); predictions are meaningless');
  return model;
}

export function loadModel(path: string | undefined, engine: Engine): Model {
  if (path === undefined) return loadBuiltinModel(engine);
  if (!existsSync(path)) {
    throw new ConvLensError('INPUT_UNREADABLE', `Cannot read model file "${path}": no such file.`, 'Pass the path of an .onnx file, or leave out --model to use the built-in Fashion-MNIST model.');
  }
  return loadModelFile(path, engine);
}
