import type { Tensor } from '../tensor.js';

/**
 * What the engine needs from an ONNX executor. onnxruntime-node implements it in Node
 * (runtime/node.ts); onnxruntime-web can implement it in a browser through the same adapter
 * (runtime/ort.ts), because graph building never touches the binding.
 */
export interface Backend {
  readonly name: string;
  createSession(model: Uint8Array, options: SessionOptions): Promise<Session>;
}

export interface SessionOptions {
  /** intra-op threads; default: the backend's choice */
  threads?: number;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `fetch` limits which outputs are computed and returned. */
  run(feeds: Record<string, Tensor>, fetch?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}
