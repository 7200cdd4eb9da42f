// ConvLens library API (runtime-agnostic). Node-specific pieces (onnxruntime-node, files, sharp)
// are exported from 'convlens/node'.
export * from './engine/index.js';
export { Model, type PickableValue } from './models/model.js';
export { readMetadata, writeMetadata, METADATA_KEYS, type ModelMetadata, type Preprocessing } from './models/metadata.js';
export { Layers } from './models/layers.js';
export { courseCnn, vggLike, resnet18Like, FASHION_MNIST_LABELS } from './models/zoo/index.js';
export { summarize, formatSummary, type ModelSummary, type LayerRow } from './methods/inspect/summary.js';
export { receptiveFields, unitRegion, type ReceptiveField } from './methods/inspect/receptive-field.js';
export { predict, topK, softmax, type Prediction } from './methods/predict.js';
export { softmaxCrossEntropy, meanSquaredError } from './training/losses.js';
export { buildTrainingGraph, type TrainingGraph } from './training/step.js';
export { parseNpy, encodeNpy } from './io/npy.js';
