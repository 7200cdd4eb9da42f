import type { InMemoryFile } from '../onnx/codec.js';
import type { Tensor } from '../tensor.js';

/**
 * What the engine needs from an ONNX executor. onnxruntime-node implements it in Node
 * (runtime/node.ts); onnxruntime-web can implement it in a browser through the same adapter
 * (runtime/ort.ts), because graph building never touches the binding.
 */
export interface Backend {
  readonly name: string;
  /**
   * The backend reads initializers given as in-memory external data (`SessionOptions.externalData`),
   * so the engine passes weights as views instead of copying them into the encoded model.
   */
  readonly inMemoryWeights?: boolean;
  createSession(model: Uint8Array, options: SessionOptions): Promise<Session>;
  /**
   * Opens a model the runtime reads itself: a file path in Node, a URL in a browser. For models
   * ConvLens runs but does not rewrite (a Stable Diffusion U-Net): their external-data weights
   * load from beside them, and multi-GB files never pass through JavaScript memory as one buffer.
   */
  openSession(location: string, options: SessionOptions): Promise<Session>;
}

/** A graph input as the runtime sees it: element type name (ONNX Runtime's) and dims, symbolic ones as names. */
export interface ValueInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export interface SessionOptions {
  /** intra-op threads; default: the backend's choice */
  threads?: number;
  /**
   * Where ONNX Runtime should write the model after its graph optimizations (Node only; the Node
   * backend's compiled-session cache uses it).
   */
  optimizedModelPath?: string;
  /**
   * With `optimizedModelPath`: the file, beside the optimized model, that gets its weights, each
   * at an aligned offset so that a later session can map them instead of copying them.
   */
  optimizedWeightsFile?: string;
  /** The model was saved by ONNX Runtime after its optimizations: do not optimize it again. */
  preoptimized?: boolean;
  /**
   * External-data files the model names, held in memory (only for a backend with
   * `inMemoryWeights`). The runtime copies what it needs while the session is created.
   */
  externalData?: readonly InMemoryFile[];
}

export interface Session {
  readonly inputNames: readonly string[];
  /** Tensor inputs with their types and shapes, for checking what a foreign model expects. */
  readonly inputs: readonly ValueInfo[];
  readonly outputNames: readonly string[];
  /**
   * Runs the graph; `fetch` limits which outputs are computed and returned. `into` offers
   * preallocated tensors (of the exact output shapes) for some fetched outputs: a session may
   * write those outputs there and return them, or ignore the offer and return its own.
   */
  run(feeds: Record<string, Tensor>, fetch?: readonly string[], into?: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}
