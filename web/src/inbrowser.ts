// The engine in the browser: the same graph code the server runs (IR, ONNX codec, Engine, the
// onnxruntime adapter), here on onnxruntime-web's WebAssembly backend. It runs in the engine
// worker (engine.worker.ts), which the page starts on first use (compute.ts).
import * as ort from 'onnxruntime-web/wasm';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { Graph } from '../../src/engine/graph/ir.js';
import { decodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import type { Backend, Session } from '../../src/engine/runtime/backend.js';
import { ortBackend } from '../../src/engine/runtime/ort.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadStyleNet, styleNetInfo, stylize } from '../../src/methods/synthesize/stylize.js';
import { Model } from '../../src/models/model.js';
import { request, requestBytes, type WireTensor } from './api';
import { decodeTensor } from './tensor';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
// Threads need SharedArrayBuffer, which only a cross-origin-isolated page has (the studio server
// sends the headers). The worker itself is one of the threads.
export const THREADS = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
ort.env.wasm.numThreads = THREADS;

// The studio's POST /api/explain computation, run here on the browser's engine.
export { explainReport } from '../../src/methods/explain/report.js';
// ... and its POST /api/channels computation
export { channelsReport } from '../../src/methods/explain/channel-ranking.js';

let engine: Engine | undefined;

export function browserEngine(): Engine {
  return (engine ??= new Engine(yieldingBackend(ortBackend(ort, 'onnxruntime-web'))));
}

/** Resolves in a new task: the browser renders, runs input handlers and timers before it does. */
const nextTask = (): Promise<void> =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });

/**
 * onnxruntime-web computes on the calling thread, and the methods chain one run after another
 * through promises that settle as microtasks: without a break the worker would not see a cancel
 * message until the whole method finished. Every run ends in a new task.
 */
function yieldingBackend(inner: Backend): Backend {
  const wrap = (s: Session): Session => ({
    ...s,
    run: async (feeds, fetch, into) => {
      const out = await s.run(feeds, fetch, into);
      await nextTask();
      return out;
    },
    release: () => s.release(),
  });
  return {
    ...inner,
    createSession: async (model, options) => wrap(await inner.createSession(model, options)),
    openSession: async (location, options) => wrap(await inner.openSession(location, options)),
  };
}

const nets = new Map<string, Promise<{ graph: Graph; styles: string[] }>>();

/** A style network of the studio's, fetched once (GET /api/style-nets/:id/onnx) and kept. */
export function styleNet(id: string): Promise<{ graph: Graph; styles: string[] }> {
  let pending = nets.get(id);
  if (!pending) {
    pending = (async () => {
      const bytes = await requestBytes(`/api/style-nets/${encodeURIComponent(id)}/onnx`);
      const graph = loadStyleNet(new Uint8Array(await bytes.arrayBuffer()), `style network "${id}"`);
      return { graph, styles: styleNetInfo(graph).names };
    })();
    pending.catch(() => nets.delete(id));
    nets.set(id, pending);
  }
  return pending;
}

/** The studio's image `id` drawn so that its longer side is `maxSide` (as the server's fit-inside resize). */
export async function loadImage(id: string, maxSide: number): Promise<ImageData> {
  const bitmap = await createImageBitmap(await requestBytes(`/api/image?id=${encodeURIComponent(id)}`));
  const scale = maxSide / Math.max(bitmap.width, bitmap.height);
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  return ctx.getImageData(0, 0, w, h);
}

/** RGBA pixels to an image-space tensor [1, 3, H, W] in [0, 1]. */
export function imageDataToTensor(img: ImageData): Tensor {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) out[c * w * h + i] = data[i * 4 + c]! / 255;
  return { dtype: 'float32', dims: [1, 3, h, w], data: out };
}

/** The first image of a [N, 3, H, W] tensor in [0, 1] as opaque RGBA pixels. */
export function tensorToImageData(t: Tensor): ImageData {
  const [, , h, w] = t.dims as [number, number, number, number];
  const d = t.data as Float32Array;
  const px = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) px[i * 4 + c] = Math.round(Math.min(1, Math.max(0, d[c * w * h + i]!)) * 255);
    px[i * 4 + 3] = 255;
  }
  return new ImageData(px, w, h);
}

/** One forward pass of the style network in the page. */
export async function stylizeHere(graph: Graph, content: ImageData, weights: readonly number[]): Promise<{ image: ImageData; ms: number }> {
  const t0 = performance.now();
  const out = await stylize(browserEngine(), graph, imageDataToTensor(content), weights);
  return { image: tensorToImageData(out), ms: performance.now() - t0 };
}

const models = new Map<string, Promise<Model>>();

/** The studio's model `id`, downloaded once (GET /api/models/:id/onnx) and opened on the page's engine. */
export function browserModel(id: string): Promise<Model> {
  let pending = models.get(id);
  if (!pending) {
    pending = (async () => {
      const bytes = await requestBytes(`/api/models/${encodeURIComponent(id)}/onnx`);
      const graph = decodeModel(new Uint8Array(await bytes.arrayBuffer()), { source: `model "${id}"` });
      return Model.fromOnnxGraph(graph, browserEngine(), graph.name);
    })();
    pending.catch(() => models.delete(id));
    models.set(id, pending);
  }
  return pending;
}

/** Drops the page's copy of model `id` (releasing its sessions) and the inputs made for it. */
export function forgetBrowserModel(id: string): void {
  const pending = models.get(id);
  models.delete(id);
  void pending?.then((m) => m.releaseSessions()).catch(() => undefined);
  for (const key of [...inputs.keys()]) if (key.startsWith(`${id}|`)) inputs.delete(key);
}

const inputs = new Map<string, Promise<Tensor>>();

/** The image preprocessed for the model by the server (POST /api/input), so both sides explain the same tensor. */
export function modelInput(modelId: string, imageId: string): Promise<Tensor> {
  const key = `${modelId}|${imageId}`;
  let pending = inputs.get(key);
  if (!pending) {
    pending = (async () => {
      const { tensor } = await request<{ tensor: WireTensor }>('POST', '/api/input', { model: modelId, image: imageId });
      const { dims, data } = decodeTensor(tensor);
      return { dtype: 'float32', dims, data } as Tensor;
    })();
    pending.catch(() => inputs.delete(key));
    inputs.set(key, pending);
    if (inputs.size > 32) inputs.delete(inputs.keys().next().value as string);
  }
  return pending;
}

