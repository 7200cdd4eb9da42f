// Node-only API: the onnxruntime-node backend, model files, images.
export { nodeBackend } from './engine/runtime/node.js';
export { loadModel, loadModelFile, loadBuiltinModel, BUILTIN_MODEL_PATH } from './models/load.js';
export { readImageFile, preprocessImage, rawToTensor, tensorToRaw, encodePng, decodeImage, type RawImage } from './io/image.js';
export { loadInputs, type InputItem } from './io/inputs.js';
export { writeFileAtomic, readFileOrExplain } from './io/files.js';
