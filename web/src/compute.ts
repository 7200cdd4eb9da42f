// Computing in the browser: the page's side of the engine worker (engine.worker.ts). One worker,
// started on first use; each call is a request with an id, progress comes back as messages, and
// aborting the signal asks the worker to stop between two ONNX Runtime calls.
import type { ChannelsReport, ChannelsRequest } from '../../src/methods/explain/channel-ranking.js';
import type { Report, ReportRequest } from '../../src/methods/explain/report.js';

/** How the worker computes, for captions: `threads` is what onnxruntime-web was given. */
export const runtimeLabel = (threads: number): string => `onnxruntime-web (WebAssembly, ${threads} thread${threads === 1 ? '' : 's'}, in a worker)`;

export type ComputeRequest =
  | { id: number; kind: 'explain'; model: string; image: string; request: ReportRequest }
  /** POST /api/channels's computation: the top channels of a layer behind the class score */
  | { id: number; kind: 'channels'; model: string; image: string; request: ChannelsRequest }
  | { id: number; kind: 'stylize'; net: string; image: string; maxSide: number; weights: number[] }
  /** the model's scores (pre-softmax) for the image; bench/browser.bench.ts times it */
  | { id: number; kind: 'predict'; model: string; image: string }
  | { id: number; kind: 'cancel' }
  /** the model was described anew (POST /api/models/:id/describe): drop the page's copy and its inputs */
  | { id: number; kind: 'forget'; model: string };

export interface Stylized {
  content: ImageData;
  image: ImageData;
  ms: number;
  threads: number;
}

export interface WorkerProgress {
  done: number;
  total: number;
  phase?: string;
  within?: { done: number; total: number; phase?: string };
}

export type ComputeResponse =
  | { id: number; type: 'progress'; progress: WorkerProgress }
  | { id: number; type: 'result'; result: unknown }
  | { id: number; type: 'error'; error: { message: string; code?: string; hint?: string } }
  | { id: number; type: 'cancelled' };

/** What a cancelled computation rejects with. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onProgress?: ((p: WorkerProgress) => void) | undefined;
}

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

function engineWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'convlens-engine' });
  w.onmessage = (e: MessageEvent<ComputeResponse>) => {
    const msg = e.data;
    const p = pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    pending.delete(msg.id);
    if (msg.type === 'result') p.resolve(msg.result);
    else if (msg.type === 'cancelled') p.reject(new Cancelled());
    else p.reject(Object.assign(new Error(msg.error.message), msg.error));
  };
  w.onerror = (e) => {
    // The worker itself failed (its script did not load): every open call fails with the reason.
    for (const p of pending.values()) p.reject(new Error(`the engine worker failed: ${e.message || 'it could not start'}`));
    pending.clear();
    worker = undefined;
  };
  return (worker = w);
}

type Body<K extends ComputeRequest['kind']> = Omit<Extract<ComputeRequest, { kind: K }>, 'id' | 'kind'>;

function call<T>(kind: 'explain' | 'channels' | 'stylize', body: Body<'explain'> | Body<'channels'> | Body<'stylize'>, o: { signal?: AbortSignal; onProgress?: (p: WorkerProgress) => void } = {}): Promise<T> {
  const id = nextId++;
  const w = engineWorker();
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: o.onProgress });
    o.signal?.addEventListener('abort', () => w.postMessage({ id, kind: 'cancel' } satisfies ComputeRequest), { once: true });
    w.postMessage({ id, kind, ...body } as ComputeRequest);
  });
}

/** POST /api/explain's computation, in the worker: the model and input come from the server, the rest is computed here. */
export function explainInBrowser(model: string, image: string, request: ReportRequest, o: { signal?: AbortSignal; onProgress?: (p: WorkerProgress) => void } = {}): Promise<Report> {
  return call<Report>('explain', { model, image, request }, o);
}

/** POST /api/channels's computation, in the worker: the model and input come from the server, the ranking is computed here. */
export function channelsInBrowser(model: string, image: string, request: ChannelsRequest, o: { signal?: AbortSignal; onProgress?: (p: WorkerProgress) => void } = {}): Promise<ChannelsReport> {
  return call<ChannelsReport>('channels', { model, image, request }, o);
}

/**
 * After the model was described anew (another output kind or preprocessing): the worker drops its
 * copy of the model, with its sessions, and the inputs preprocessed for it, so the next run
 * downloads the model as described (the copy, kept by id, went on explaining the old kind).
 */
export function forgetInBrowser(model: string): void {
  worker?.postMessage({ id: nextId++, kind: 'forget', model } satisfies ComputeRequest);
}

/** One forward pass of a studio style network on the studio's image `image`, in the worker. */
export function stylizeInBrowser(net: string, image: string, maxSide: number, weights: number[]): Promise<Stylized> {
  return call<Stylized>('stylize', { net, image, maxSide, weights });
}
