// A studio worker process (started by pool.ts with child_process.fork). It runs one task at a
// time on its own engine, so ONNX Runtime calls, t-SNE and UMAP never block the server's event
// loop; the server can always answer, cancel, and kill this process when it overstays.
import { ConvLensError } from '../../../engine/errors.js';
import { Engine } from '../../../engine/runtime/engine.js';
import { nodeBackend } from '../../../engine/runtime/node.js';
import { FileAccess } from '../../../io/file-access.js';
import { throttleProgress, toApiError } from '../jobs.js';
import { taskContext, WorkerCache } from '../tasks/context.js';
import { runTask } from '../tasks/index.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

const send = (m: FromWorker): void => {
  process.send?.(m);
};

let base: { engine: Engine; files: FileAccess; cache: WorkerCache; limitBytes: number } | undefined;
const running = new Map<number, AbortController>();

function init(o: WorkerInit): void {
  const engine = new Engine(nodeBackend(), o.threads ? { threads: o.threads } : {});
  const files = new FileAccess(o.files);
  base = { engine, files, cache: new WorkerCache(engine, files), limitBytes: o.limitBytes };
  send({ type: 'ready' });
}

async function run(id: number, task: Extract<ToWorker, { type: 'run' }>['task']): Promise<void> {
  if (!base) throw new Error('worker used before init');
  const controller = new AbortController();
  running.set(id, controller);
  // At most ~10 progress messages a second, the final one of a phase and each new preview image.
  const onProgress = throttleProgress((progress) => send({ type: 'progress', id, progress }));
  // A task plans its batches to its budget, which assumes one gradient session's memory beside
  // the worker's base; sessions left from earlier methods or tasks are released to keep it so.
  base.engine.ceiling = { measure: () => process.memoryUsage().rss, bytes: Math.max(0, base.limitBytes - task.budgetBytes) };
  try {
    const ctx = taskContext(base, task, task.images ?? [], { signal: controller.signal, onProgress }, task.budgetBytes);
    const result = await runTask(task.kind, ctx, task.args);
    send({ type: 'result', id, result });
  } catch (e) {
    const error = controller.signal.aborted && !(e instanceof ConvLensError && e.code !== 'CANCELLED') ? { code: 'CANCELLED', message: 'Cancelled.' } : toApiError(e);
    send({ type: 'error', id, error });
  } finally {
    running.delete(id);
  }
}

process.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      init(m.init);
      break;
    case 'run':
      void run(m.id, m.task);
      break;
    case 'abort':
      running.get(m.id)?.abort();
      break;
    case 'forget':
      base?.cache.forget(m.keys);
      break;
  }
});

// The server went away (or closed the channel): nothing is left to work for.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the server decides when workers stop
// (it cancels their jobs first), so a worker does not die by itself under a running job.
process.on('SIGINT', () => undefined);
