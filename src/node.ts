// Node-only API: the onnxruntime-node backend, model files, images.
export { nodeBackend, type NodeBackendOptions } from './engine/runtime/node.js';
export type { SessionCacheOptions } from './engine/runtime/session-cache.js';
export { loadModel, loadModelFile, loadBuiltinModel, BUILTIN_MODEL_PATH } from './models/load.js';
export { readImageFile, preprocessImage, rawToTensor, tensorToRaw, encodePng, decodeImage, type RawImage, type ScaledUp } from './io/image.js';
export { loadInputs, type InputItem } from './io/inputs.js';
export { writeFileAtomic, readFileOrExplain } from './io/files.js';
export { gridFigure, type GridSpec, type GridRow, type Legend } from './render/grid.js';
export { panelsSpec, renderChart, type Panel, type Series } from './render/chart.js';
export { conceptFigure, conceptColour, type ConceptFigureItem } from './methods/inspect/concept-figure.js';
export { explanationGrid, faithfulnessChart, sanityChart, sanityGrid, defaultTileSize, type FigureItem } from './methods/explain/figures.js';
export { Trainer, fit, epochOrder, stepsPerEpoch, type TrainerOptions, type FitData, type FitConfig, type FitOptions, type FitResult, type FitCheckpointOptions, type EpochRecord } from './training/trainer.js';
export type { DivergenceSetting } from './training/divergence.js';
export { trainClassifier, evaluateClassifier, exportTrained, type ClassifierConfig, type ClassificationMetrics, type ClassifierResult, type ClassifierRunInfo } from './training/classification.js';
export { saveCheckpoint, loadCheckpoint, encodeCheckpoint, decodeCheckpoint, type Checkpoint } from './training/checkpoint.js';
export { loadFashionMnist, locateFashionMnist, hasFashionMnist, FASHION_MNIST_PREPROCESSING, DEBIAN_FASHION_MNIST_DIR, type Split as FashionMnistSplit } from './data/fashion-mnist.js';
export { fillBatch, stratifiedSplit, stratifiedSubset, type ImageDataset } from './data/dataset.js';
// Synthesis's images as files (model-preprocessed in, [N, C, H, W] in [0, 1] out); fast style
// networks train with checkpoints on disk.
export { readModelImage, writeImagePng } from './methods/synthesize/io.js';
export { trainStyleNet, type StyleTrainOptions, type TrainedStyleNet } from './methods/synthesize/fast-style.js';
