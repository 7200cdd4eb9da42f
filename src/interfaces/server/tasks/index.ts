// The registry of work a studio worker process does: each kind is the method call a route used
// to make in its own closure, moved here so that it runs off the server's event loop. Modules
// load on first use, so a worker that only predicts never loads LanceDB or UMAP.
import { ConvLensError } from '../../../engine/errors.js';
import type { TaskContext } from './context.js';
import type { ChannelsArgs } from './channels.js';
import type { ConceptsArgs } from './concepts.js';
import type { DatasetArgs } from './dataset.js';
import type { DiffusionArgs } from './diffusion.js';
import type { ExplainArgs, ExplainPlanArgs } from './explain.js';
import type { InspectArgs } from './inspect.js';
import type { SynthArgs } from './synthesize.js';

export interface TaskArgs extends InspectArgs, DatasetArgs {
  explain: ExplainArgs;
  'explain-plan': ExplainPlanArgs;
  channels: ChannelsArgs;
  concepts: ConceptsArgs;
  synthesize: SynthArgs;
  diffusion: DiffusionArgs;
  /** fault injection for the pool's tests, only when CONVLENS_WORKER_FAULTS=1 (see faults below) */
  fault: { what: 'block' | 'heap' | 'rss' | 'exit' | 'steps' | 'sessions'; ms?: number; bytes?: number };
}

export type TaskKind = keyof TaskArgs;

type Runner = (ctx: TaskContext, args: never) => Promise<unknown>;

const RUNNERS: Record<TaskKind, () => Promise<Runner>> = {
  predict: async () => (await import('./inspect.js')).predictTask,
  input: async () => (await import('./inspect.js')).inputTask,
  activations: async () => (await import('./inspect.js')).activationsTask,
  explain: async () => (await import('./explain.js')).explainTask,
  'explain-plan': async () => (await import('./explain.js')).explainPlanTask,
  channels: async () => (await import('./channels.js')).channelsTask,
  concepts: async () => (await import('./concepts.js')).conceptsTask,
  synthesize: async () => (await import('./synthesize.js')).synthesizeTask,
  diffusion: async () => (await import('./diffusion.js')).diffusionTask,
  'dataset-index': async () => (await import('./dataset.js')).indexTask,
  'dataset-embed': async () => (await import('./dataset.js')).embedTask,
  'dataset-neighbors': async () => (await import('./dataset.js')).neighboursTask,
  'dataset-top': async () => (await import('./dataset.js')).topTask,
  fault: async () => fault,
};

export async function runTask(kind: string, ctx: TaskContext, args: Record<string, unknown>): Promise<unknown> {
  const load = (RUNNERS as Record<string, (() => Promise<Runner>) | undefined>)[kind];
  if (!load) throw new ConvLensError('INVALID_ARGUMENT', `Unknown task kind "${kind}".`, `Known kinds: ${Object.keys(RUNNERS).join(', ')}.`);
  return (await load())(ctx, args as never);
}

/**
 * Faults a worker can be asked to show, so tests can prove what the pool guarantees without
 * depending on how long a real engine run takes: a synchronous block that ignores cancellation
 * (as one long ONNX Runtime call does), a JavaScript heap that grows without end, native memory
 * that grows without end, an exit, and cancellable steps; and, to see what a worker holds, the
 * keys of the sessions its engine has open (a model's start with its id).
 */
async function fault(ctx: TaskContext, a: TaskArgs['fault']): Promise<unknown> {
  if (process.env['CONVLENS_WORKER_FAULTS'] !== '1') throw new ConvLensError('INVALID_ARGUMENT', 'Fault tasks run only in tests (CONVLENS_WORKER_FAULTS=1).');
  switch (a.what) {
    case 'block': {
      const end = Date.now() + (a.ms ?? 10_000);
      while (Date.now() < end) {
        // busy, as a native call that does not return to JavaScript
      }
      return { blocked: a.ms };
    }
    case 'heap': {
      const hoard: unknown[] = [];
      for (;;) hoard.push({ n: hoard.length, s: `item ${hoard.length}`, a: [1, 2, 3] });
    }
    case 'rss': {
      const hoard: Uint8Array[] = [];
      for (;;) {
        hoard.push(new Uint8Array(64 << 20).fill(1));
        ctx.job.onProgress?.({ done: hoard.length * 64, total: (a.bytes ?? 1 << 40) / (1 << 20), phase: 'allocating MB' });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    case 'exit':
      process.exit(3);
    // eslint-disable-next-line no-fallthrough
    case 'steps': {
      const total = Math.max(1, Math.round((a.ms ?? 1000) / 20));
      for (let i = 1; i <= total; i++) {
        if (ctx.job.signal?.aborted) throw new ConvLensError('CANCELLED', 'Cancelled the steps.');
        await new Promise((r) => setTimeout(r, 20));
        ctx.job.onProgress?.({ done: i, total, phase: 'steps' });
      }
      return { steps: total, budgetBytes: ctx.budgetBytes };
    }
    case 'sessions':
      return { sessions: ctx.engine.openSessionKeys() };
  }
}
