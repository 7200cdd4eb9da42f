// The studio's worker processes. Every engine run and every other heavy computation the server
// does runs in one of them, never on the server's event loop: ONNX Runtime's `session.run`
// computes on the calling thread, and so do t-SNE and UMAP, so a single request in the server
// process would stall every other one (health checks, cancels, the page).
//
// Processes, not worker threads: a process stuck in a long native call can always be killed at
// once (a thread can only be terminated when it returns to JavaScript), and killing it returns
// all its memory, including ONNX Runtime's arenas.
//
// Two lanes: `job` workers (a few, by core count) run jobs in the order they were started, a job
// beyond them waits in a queue; one `interactive` worker runs the quick requests (predict,
// activations, neighbours, top patches) so they never wait behind a long job.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConvLensError } from '../../../engine/errors.js';
import { withHugePages } from '../../huge-pages.js';
import type { Progress } from '../../../engine/jobs.js';
import type { FromWorker, TaskRequest, ToWorker, WorkerInit } from './protocol.js';

export type Lane = 'job' | 'interactive';

export interface PoolOptions {
  /** job worker processes (jobs beyond them queue) */
  jobWorkers: number;
  /** ONNX Runtime intra-op threads per worker (default: all cores) */
  threads?: number;
  /** what every worker is initialized with (data folders, denoiser) */
  init: Omit<WorkerInit, 'lane' | 'threads' | 'limitBytes'>;
  /** resident memory a job worker may reach; beyond it the worker is stopped and its job fails */
  jobRssBytes: number;
  /** the same for the interactive worker */
  interactiveRssBytes: number;
  /** the JavaScript heap limit of each worker, in MB (--max-old-space-size) */
  heapMb: number;
  /** how long a cancelled task may take to stop by itself before its worker is killed (default 1000 ms) */
  graceMs?: number;
  /** an idle worker holding more than this fraction of its memory limit is replaced (ONNX Runtime keeps its peak arenas; default 0.6) */
  recycleFraction?: number;
  /** how often busy workers' memory is checked (default 200 ms) */
  watchMs?: number;
  /** extra environment for the workers */
  env?: Record<string, string>;
  /** tasks a lane holds waiting at most (default: DEFAULT_MAX_QUEUED); more are refused as BUSY */
  maxQueued?: Partial<Record<Lane, number>>;
}

/**
 * How many tasks wait per lane before more are refused. A page's own requests stay far below
 * (one job at a time per panel, a few dozen quick requests for a model's layers); a local program
 * posting in a loop otherwise grew the queue, and the server's memory, without end.
 */
export const DEFAULT_MAX_QUEUED: Record<Lane, number> = { job: 64, interactive: 512 };

export interface TaskHooks {
  signal?: AbortSignal;
  /** the task left the queue and runs on a worker */
  onStart?: () => void;
  /** the task waits; `ahead` tasks are before it */
  onQueued?: (ahead: number) => void;
  onProgress?: (p: Progress) => void;
}

export interface WorkerStats {
  lane: Lane;
  pid: number | undefined;
  state: 'starting' | 'idle' | 'busy' | 'stopping';
  task?: string;
  rssBytes: number;
}

export interface PoolStats {
  workers: WorkerStats[];
  queued: Record<Lane, number>;
  /** resident memory: this process, its workers, and both together */
  rssBytes: { server: number; workers: number; total: number };
  /** workers killed so far and why */
  killed: Record<KillReason, number>;
}

export type KillReason = 'cancel' | 'memory' | 'recycle' | 'shutdown';

interface Pending extends TaskHooks {
  id: number;
  task: TaskRequest;
  lane: Lane;
  resolve: (result: unknown) => void;
  reject: (e: unknown) => void;
  abortRequested?: boolean;
  graceTimer?: NodeJS.Timeout;
  detach?: () => void;
}

interface Slot {
  lane: Lane;
  proc: ChildProcess | undefined;
  ready: Promise<void> | undefined;
  current: Pending | undefined;
  killReason: KillReason | undefined;
  stderrTail: string;
  limitBytes: number;
}

const MB = 1 << 20;
const mb = (bytes: number): string => `${Math.round(bytes / MB)} MB`;

/** Resident memory of a process in bytes (Linux /proc), or 0 when it cannot be read. */
export function residentBytes(pid: number | 'self'): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return pid === 'self' ? process.memoryUsage().rss : 0;
  }
}

/** The worker module and the Node flags it needs: compiled JavaScript, or TypeScript under tsx (tests run the sources). */
function workerEntry(): { file: string; execArgv: string[] } {
  if (import.meta.url.endsWith('.ts')) {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    return { file: fileURLToPath(new URL('./child.ts', import.meta.url)), execArgv: ['--import', pathToFileURL(tsx).href] };
  }
  return { file: fileURLToPath(new URL('./child.js', import.meta.url)), execArgv: [] };
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queues: Record<Lane, Pending[]> = { job: [], interactive: [] };
  private nextId = 1;
  private closed = false;
  private watch: NodeJS.Timeout | undefined;
  private readonly killed: Record<KillReason, number> = { cancel: 0, memory: 0, recycle: 0, shutdown: 0 };
  private readonly exits = new Set<Promise<void>>();

  constructor(readonly options: PoolOptions) {
    const slot = (lane: Lane, limitBytes: number): Slot => ({ lane, proc: undefined, ready: undefined, current: undefined, killReason: undefined, stderrTail: '', limitBytes });
    this.slots = [...Array.from({ length: Math.max(1, options.jobWorkers) }, () => slot('job', options.jobRssBytes)), slot('interactive', options.interactiveRssBytes)];
  }

  /** Runs a task on a worker of `lane`; resolves with its result, rejects with its error (CANCELLED when cancelled). */
  run(task: TaskRequest, lane: Lane, hooks: TaskHooks = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConvLensError('CANCELLED', 'The studio is shutting down.'));
    const limit = this.options.maxQueued?.[lane] ?? DEFAULT_MAX_QUEUED[lane];
    if (this.queues[lane].length >= limit) {
      const what = lane === 'job' ? 'jobs' : 'quick requests';
      return Promise.reject(new ConvLensError('BUSY', `The studio already has ${this.queues[lane].length} ${what} waiting (at most ${limit}).`, `Wait for some to finish${lane === 'job' ? ' or cancel them (DELETE /api/jobs/:id)' : ''}, then try again.`));
    }
    return new Promise((resolve, reject) => {
      const p: Pending = { ...hooks, id: this.nextId++, task, lane, resolve, reject };
      if (hooks.signal) {
        if (hooks.signal.aborted) return reject(cancelled());
        const onAbort = (): void => this.cancel(p);
        hooks.signal.addEventListener('abort', onAbort, { once: true });
        p.detach = () => hooks.signal!.removeEventListener('abort', onAbort);
      }
      this.queues[lane].push(p);
      this.pump(lane);
      this.reportQueue(lane);
    });
  }

  /** Starts the workers of a lane ahead of their first task (the first request then need not wait for one to start). */
  warm(lane: Lane = 'interactive'): void {
    for (const s of this.slots) if (s.lane === lane && !s.proc && !this.closed) this.spawn(s).catch(() => undefined);
  }

  /** Tells every worker that models left the registry. */
  forget(keys: string[]): void {
    for (const s of this.slots) if (s.proc?.connected) this.post(s, { type: 'forget', keys });
  }

  stats(): PoolStats {
    const workers = this.slots.map((s): WorkerStats => ({
      lane: s.lane,
      pid: s.proc?.pid,
      state: !s.proc ? 'idle' : s.killReason ? 'stopping' : s.current ? 'busy' : 'idle',
      ...(s.current ? { task: s.current.task.kind } : {}),
      rssBytes: s.proc?.pid ? residentBytes(s.proc.pid) : 0,
    }));
    for (const w of workers) if (w.pid === undefined) w.state = 'idle';
    const server = residentBytes('self');
    const inWorkers = workers.reduce((a, w) => a + w.rssBytes, 0);
    return { workers, queued: { job: this.queues.job.length, interactive: this.queues.interactive.length }, rssBytes: { server, workers: inWorkers, total: server + inWorkers }, killed: { ...this.killed } };
  }

  /** Cancels everything and stops every worker (killed after a short grace); resolves when they are gone. */
  async close(graceMs = 300): Promise<void> {
    if (this.closed) return Promise.all(this.exits).then(() => undefined);
    this.closed = true;
    if (this.watch) clearInterval(this.watch);
    for (const lane of ['job', 'interactive'] as const) for (const p of this.queues[lane].splice(0)) this.settle(p, () => p.reject(new ConvLensError('CANCELLED', 'The studio is shutting down.')));
    const busy = this.slots.filter((s) => s.current);
    for (const s of busy) this.post(s, { type: 'abort', id: s.current!.id });
    if (busy.length) await Promise.race([Promise.all(busy.map((s) => this.idle(s))), new Promise((r) => setTimeout(r, graceMs))]);
    for (const s of this.slots) if (s.proc) this.kill(s, 'shutdown');
    await Promise.race([Promise.all(this.exits), new Promise((r) => setTimeout(r, 3000))]);
  }

  private idle(s: Slot): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => (s.current ? void setTimeout(check, 20) : resolve());
      check();
    });
  }

  private cancel(p: Pending): void {
    const q = this.queues[p.lane];
    const at = q.indexOf(p);
    if (at >= 0) {
      q.splice(at, 1);
      this.settle(p, () => p.reject(cancelled()));
      this.reportQueue(p.lane);
      return;
    }
    const slot = this.slots.find((s) => s.current === p);
    if (!slot || p.abortRequested) return;
    p.abortRequested = true;
    this.post(slot, { type: 'abort', id: p.id });
    // Methods stop between engine runs; one run can take long. Past the grace the worker goes.
    p.graceTimer = setTimeout(() => {
      if (slot.current === p) this.kill(slot, 'cancel');
    }, this.options.graceMs ?? 1000);
  }

  private pump(lane: Lane): void {
    if (this.closed) return;
    for (const s of this.slots) {
      if (s.lane !== lane || s.current) continue;
      if (s.killReason) {
        // A worker on its way out (recycled, say) starts its replacement when it exits; until
        // then it is all that keeps a process without a server socket alive for the queued task.
        if (this.queues[lane].length) this.hold(s, true);
        continue;
      }
      const p = this.queues[lane].shift();
      if (!p) return;
      this.start(s, p);
    }
  }

  private start(s: Slot, p: Pending): void {
    s.current = p;
    p.onStart?.();
    this.hold(s, true);
    this.reportQueue(s.lane);
    const ready = s.proc && s.ready ? s.ready : this.spawn(s);
    ready.then(
      () => {
        if (s.current !== p) return;
        if (p.abortRequested) return this.finish(s, p, () => p.reject(cancelled()));
        this.post(s, { type: 'run', id: p.id, task: p.task });
        this.watchMemory();
      },
      (e: unknown) => {
        if (s.current === p) this.finish(s, p, () => p.reject(e));
      },
    );
  }

  private spawn(s: Slot): Promise<void> {
    const { file, execArgv } = workerEntry();
    const heap = `--max-old-space-size=${Math.max(256, Math.round(this.options.heapMb))}`;
    const proc = fork(file, [], {
      execArgv: [...execArgv, heap],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Workers are new processes anyway: huge pages cost them nothing (src/interfaces/huge-pages.ts).
      env: { ...(withHugePages(process.env) ?? process.env), ...this.options.env },
    });
    s.proc = proc;
    s.killReason = undefined;
    s.stderrTail = '';
    proc.stderr?.on('data', (c: Buffer) => (s.stderrTail = (s.stderrTail + c.toString()).slice(-4000)));
    // Job workers yield the CPU to the server and the interactive worker.
    if (s.lane === 'job' && proc.pid) {
      try {
        setPriority(proc.pid, 10);
      } catch {
        // not allowed here: run at normal priority
      }
    }
    let exited!: () => void;
    const gone = new Promise<void>((r) => (exited = r));
    this.exits.add(gone);
    s.ready = new Promise<void>((resolve, reject) => {
      const onReady = (m: FromWorker): void => {
        if (m.type === 'ready') {
          proc.off('message', onReady);
          resolve();
        }
      };
      proc.on('message', onReady);
      proc.once('exit', (code, signal) => reject(this.exitError(s, code, signal)));
    });
    s.ready.catch(() => undefined);
    proc.on('message', (m: FromWorker) => this.receive(s, proc, m));
    proc.once('exit', (code, signal) => {
      this.exits.delete(gone);
      exited();
      this.onExit(s, proc, code, signal);
    });
    proc.on('error', () => undefined); // reported through 'exit'
    this.hold(s, !!s.current);
    this.post(s, { type: 'init', init: { ...this.options.init, lane: s.lane, limitBytes: s.limitBytes, ...(this.options.threads ? { threads: this.options.threads } : {}) } });
    return s.ready;
  }

  private receive(s: Slot, proc: ChildProcess, m: FromWorker): void {
    if (s.proc !== proc) return;
    const p = s.current;
    if (m.type === 'ready' || !p || m.id !== p.id) return;
    if (m.type === 'progress') p.onProgress?.(m.progress);
    else if (m.type === 'result') this.finish(s, p, () => p.resolve(m.result));
    else this.finish(s, p, () => p.reject(m.error.code === 'CANCELLED' && p.abortRequested ? cancelled() : new ConvLensError(m.error.code as ConvLensError['code'], m.error.message, m.error.hint)));
  }

  /** A task ended on slot `s`: settle it, maybe replace a bloated worker, take the next task. */
  private finish(s: Slot, p: Pending, settle: () => void): void {
    s.current = undefined;
    this.hold(s, false);
    this.settle(p, settle);
    const pid = s.proc?.pid;
    if (pid && !s.killReason && residentBytes(pid) > s.limitBytes * (this.options.recycleFraction ?? 0.6)) this.kill(s, 'recycle');
    this.pump(s.lane);
  }

  /**
   * A busy worker keeps this process alive until its answer arrives; an idle one does not (a
   * script that used the studio without closing it still exits).
   */
  private hold(s: Slot, busy: boolean): void {
    const handles = [s.proc, s.proc?.channel, s.proc?.stderr] as ({ ref(): unknown; unref(): unknown } | null | undefined)[];
    for (const h of handles) {
      if (busy) h?.ref();
      else h?.unref();
    }
  }

  private settle(p: Pending, settle: () => void): void {
    if (p.graceTimer) clearTimeout(p.graceTimer);
    p.detach?.();
    settle();
  }

  private onExit(s: Slot, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (s.proc !== proc) return;
    const reason = s.killReason;
    s.proc = undefined;
    s.ready = undefined;
    s.killReason = undefined;
    const p = s.current;
    if (p) {
      s.current = undefined;
      const error = reason === 'cancel' || p.abortRequested ? cancelled() : this.exitError(s, code, signal, reason);
      this.settle(p, () => p.reject(error));
    } else if (!reason && !this.closed && s.stderrTail.trim()) {
      process.stderr.write(`convlens studio: a ${s.lane} worker stopped (${signal ?? `exit code ${code}`}):\n${s.stderrTail.trim().split('\n').slice(-5).join('\n')}\n`);
    }
    // A replacement starts when the lane has work again.
    this.pump(s.lane);
  }

  private exitError(s: Slot, code: number | null, signal: NodeJS.Signals | null, reason?: KillReason): ConvLensError {
    if (reason === 'memory') {
      return new ConvLensError('RUNTIME_FAILURE', `The job needed more memory than a studio worker may use (${mb(s.limitBytes)}) and was stopped.`, 'Ask for less (fewer methods or samples per explain job, a smaller image, batch or model), or start the studio with more memory: convlens studio --memory <GB>.');
    }
    if (reason === 'shutdown' || this.closed) return new ConvLensError('CANCELLED', 'The studio is shutting down.');
    if (/heap out of memory|Allocation failed/i.test(s.stderrTail)) {
      return new ConvLensError('RUNTIME_FAILURE', `The job ran out of JavaScript heap (${Math.round(this.options.heapMb)} MB per worker) and was stopped.`, 'Ask for less (fewer images, points or steps), or start the studio with more memory: convlens studio --memory <GB>.');
    }
    return new ConvLensError('RUNTIME_FAILURE', `The studio worker running this task stopped unexpectedly (${signal ?? `exit code ${code}`}).`, 'Try again; the studio starts a new worker. If it happens again, run the same method with the convlens CLI to see the full error.');
  }

  private kill(s: Slot, reason: KillReason): void {
    if (!s.proc || s.killReason) return;
    s.killReason = reason;
    this.killed[reason]++;
    s.proc.kill('SIGKILL');
  }

  private post(s: Slot, m: ToWorker): void {
    if (!s.proc?.connected) return;
    try {
      s.proc.send(m);
    } catch {
      // the worker is exiting; 'exit' settles its task
    }
  }

  private reportQueue(lane: Lane): void {
    this.queues[lane].forEach((p, i) => p.onQueued?.(i));
  }

  /** While any worker is busy, checks resident memory and stops a worker over its limit. */
  private watchMemory(): void {
    if (this.watch || this.closed) return;
    this.watch = setInterval(() => {
      let busy = false;
      for (const s of this.slots) {
        if (!s.current || !s.proc?.pid || s.killReason) continue;
        busy = true;
        if (residentBytes(s.proc.pid) > s.limitBytes) this.kill(s, 'memory');
      }
      if (!busy && this.watch) {
        clearInterval(this.watch);
        this.watch = undefined;
      }
    }, this.options.watchMs ?? 200);
    this.watch.unref();
  }
}

const cancelled = (): ConvLensError => new ConvLensError('CANCELLED', 'Cancelled.');
