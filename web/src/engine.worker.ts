/// <reference lib="webworker" />
// The page's engine runs here, in a worker, so that ONNX Runtime's WebAssembly never blocks the
// page: it keeps painting, scrolling and answering clicks while a method runs. Messages are the
// protocol of ./compute.ts.
import type { ComputeRequest, ComputeResponse } from './compute';
import { hintForStudio } from '../../src/util/ways-out.js';
import { browserModel, channelsReport, explainReport, forgetBrowserModel, loadImage, modelInput, styleNet, stylizeHere, THREADS } from './inbrowser';

declare const self: DedicatedWorkerGlobalScope;

const running = new Map<number, AbortController>();

const reply = (msg: ComputeResponse, transfer: Transferable[] = []): void => self.postMessage(msg, transfer);

/**
 * `loading` (the model's download and decoding, the input's request), given up as soon as `signal`
 * aborts: a cancel during a big model's download (550 MB of VGG-16) waited for all of it. The
 * download goes on and is kept, for the next run.
 */
function unlessCancelled<T>(loading: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancelled = (): void => reject(new Error('cancelled while loading'));
    if (signal.aborted) return cancelled();
    signal.addEventListener('abort', cancelled, { once: true });
    loading.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancelled));
  });
}

async function handle(req: Exclude<ComputeRequest, { kind: 'cancel' | 'forget' }>, signal: AbortSignal): Promise<void> {
  const onProgress = (p: { done: number; total: number; phase?: string; within?: { done: number; total: number; phase?: string } }): void =>
    reply({ id: req.id, type: 'progress', progress: { done: p.done, total: p.total, ...(p.phase ? { phase: p.phase } : {}), ...(p.within ? { within: p.within } : {}) } });
  if (req.kind === 'explain') {
    reply({ id: req.id, type: 'progress', progress: { done: 0, total: 0, phase: 'loading the model' } });
    const [model, input] = await unlessCancelled(Promise.all([browserModel(req.model), modelInput(req.model, req.image)]), signal);
    const report = await explainReport(model, input, req.request, { signal, onProgress });
    reply({ id: req.id, type: 'result', result: report });
  } else if (req.kind === 'channels') {
    reply({ id: req.id, type: 'progress', progress: { done: 0, total: 0, phase: 'loading the model' } });
    const [model, input] = await unlessCancelled(Promise.all([browserModel(req.model), modelInput(req.model, req.image)]), signal);
    const report = await channelsReport(model, input, req.request, { signal, onProgress });
    reply({ id: req.id, type: 'result', result: report });
  } else if (req.kind === 'predict') {
    const [model, input] = await Promise.all([browserModel(req.model), modelInput(req.model, req.image)]);
    const logits = (await model.run(input, [model.output]))[model.output]!;
    reply({ id: req.id, type: 'result', result: { dims: logits.dims, data: logits.data } });
  } else {
    const [{ graph }, content] = await Promise.all([styleNet(req.net), loadImage(req.image, req.maxSide)]);
    const out = await stylizeHere(graph, content, req.weights);
    reply({ id: req.id, type: 'result', result: { content, image: out.image, ms: out.ms, threads: THREADS } }, [content.data.buffer, out.image.data.buffer]);
  }
}

// onnxruntime-web starts its threads from this very script (the bundle's own URL), named
// "em-pthread..."; those run ONNX Runtime's thread loop, not this protocol.
if (!self.name.startsWith('em-pthread')) self.onmessage = (e: MessageEvent<ComputeRequest>) => {
  const req = e.data;
  if (req.kind === 'cancel') {
    running.get(req.id)?.abort();
    return;
  }
  if (req.kind === 'forget') {
    forgetBrowserModel(req.model);
    return;
  }
  const controller = new AbortController();
  running.set(req.id, controller);
  handle(req, controller.signal)
    .catch((err: unknown) => {
      if (controller.signal.aborted) reply({ id: req.id, type: 'cancelled' });
      else {
        const x = err as { message?: string; code?: string; hint?: string };
        reply({ id: req.id, type: 'error', error: { message: x.message ?? String(err), ...(x.code ? { code: x.code } : {}), ...(x.hint ? { hint: hintForStudio(x.hint) } : {}) } });
      }
    })
    .finally(() => running.delete(req.id));
};
