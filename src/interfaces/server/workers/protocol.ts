// What the studio server and its worker processes say to each other. Everything here crosses a
// process boundary (child_process IPC with structured-clone serialization): plain data, typed
// arrays and Buffers, no functions, no class instances.
import type { FileAccessOptions } from '../../../io/file-access.js';
import type { Progress } from '../../../engine/jobs.js';
import type { Preprocessing } from '../../../models/metadata.js';
import type { OutputKind } from '../../../models/output-kind.js';
import type { ApiError } from '../jobs.js';

/** What the studio was told about a model that its file does not say (POST /api/models/:id/describe). */
export interface ModelDescription {
  labels?: string[];
  preprocessing?: Preprocessing;
  /** how the outputs read, as --output-kind says it: the model is loaded anew with it (models/output-kind.ts) */
  outputKind?: OutputKind;
}


/**
 * How a worker loads a model the registry holds (it keeps its own copy, cached by `key`), and
 * the description to apply to it.
 */
export type ModelRef = (
  | { key: string; type: 'builtin'; name?: string }
  /** a file given at start (trusted: read as the CLI reads files) */
  | { key: string; type: 'file'; path: string }
  /** a file a dataset store names: read through the data-folder checks */
  | { key: string; type: 'data-file'; path: string }
  /** an upload, kept by the server in its private uploads folder */
  | { key: string; type: 'upload'; path: string; name: string }
) & { describe?: ModelDescription };

/** An image a task runs on: its id (cache key) and bytes (the server holds them). */
export interface ImageRef {
  id: string;
  name: string;
  bytes: Uint8Array;
}

/** One unit of work: a registered kind (tasks.ts), its model and images, and its arguments. */
export interface TaskRequest {
  kind: string;
  model?: ModelRef;
  /** a second model (e.g. the feature network of style transfer) */
  models?: Record<string, ModelRef>;
  images?: ImageRef[];
  args: Record<string, unknown>;
  /** bytes the task may plan its batches to (see memory.ts) */
  budgetBytes: number;
}

/** Set once per worker, before its first task. */
export interface WorkerInit {
  /** 'job' workers run jobs, the 'interactive' one the quick requests */
  lane: 'job' | 'interactive';
  threads?: number;
  /** resident memory beyond which the pool stops this worker */
  limitBytes: number;
  /** the data folders the studio reads from, as the server checks them */
  files: FileAccessOptions;
}

export type ToWorker =
  | { type: 'init'; init: WorkerInit }
  | { type: 'run'; id: number; task: TaskRequest }
  | { type: 'abort'; id: number }
  /** models that left the registry: drop them (and inputs made for them) */
  | { type: 'forget'; keys: string[] };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: Progress }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: ApiError };
