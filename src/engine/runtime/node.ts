import * as ort from 'onnxruntime-node';
import type { Backend } from './backend.js';
import { ortBackend } from './ort.js';

/** ONNX Runtime's CPU provider through onnxruntime-node: the Node backend. */
export function nodeBackend(): Backend {
  return ortBackend(ort as unknown as Parameters<typeof ortBackend>[0], 'onnxruntime-node', { executionProviders: ['cpu'] });
}
