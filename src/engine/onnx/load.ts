import type { Graph } from '../graph/ir.js';
import { decodeModel, type DecodeOptions } from './codec.js';
import { normalizeGraph } from './import.js';

/** Decodes .onnx bytes and converts the graph to the engine's internal opset-17 form. */
export function importOnnx(bytes: Uint8Array, options: DecodeOptions = {}): Graph {
  return normalizeGraph(decodeModel(bytes, options), options.source);
}
