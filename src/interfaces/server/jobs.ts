import { randomUUID } from 'node:crypto';
import { ConvLensError } from '../../engine/errors.js';
import { damagedStoreError } from '../../methods/dataset/store-errors.js';
import { hintForStudio } from '../../util/ways-out.js';
import type { JobOptions, Progress } from '../../engine/jobs.js';
import type { TaskRequest } from './workers/protocol.js';
import type { Lane, WorkerPool } from './workers/pool.js';

/** `queued`: waiting for a free job worker; `running`: on a worker (or, for in-process work, started). */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** What a job streams to the page (server-sent events). */
export type JobEvent =
  /**
   * `runningMs`: time the job has run so far (queueing excluded), measured here, so that the page
   * can estimate the time left from the pace of `done` whatever the delays of the event stream.
   */
  | { type: 'progress'; progress: Progress; runningMs?: number }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: ApiError }
  | { type: 'cancelled' };

export interface ApiError {
  code: string;
  message: string;
  hint?: string;
}

export function toApiError(e: unknown): ApiError {
  const known = e instanceof ConvLensError ? e : damagedStoreError(e);
  // hints are written for the CLI; the studio shows its own ways out
  if (known) return { code: known.code, message: known.message, ...(known.hint ? { hint: hintForStudio(known.hint) } : {}) };
  return { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
}

interface Job {
  id: string;
  kind: string;
  state: JobState;
  controller: AbortController;
  events: JobEvent[];
  listeners: Set<(e: JobEvent) => void>;
  created: number;
  /** what the job holds (uploads it runs on), let go when it ends */
  holds: (() => void)[];
  /** while queued: jobs before it */
  ahead?: number;
  /** when it started running (Date.now()) */
  startedAt?: number;
}

export interface JobManagerOptions {
  /** the worker processes that run submitted tasks */
  pool?: WorkerPool;
  /** how long finished jobs are kept (default 10 minutes) */
  keepMs?: number;
  /** jobs running or queued at once; more are refused (default 16) */
  maxActive?: number;
  /** finished jobs kept for late subscribers (their results can be megabytes; default 64) */
  maxKept?: number;
}

/**
 * Progress as jobs send it on: about 10 events a second, the final one of a phase always, and
 * every event with a new preview image (`preview`: a synthesis sends one per kept frame as an
 * event of its own, which the rate alone dropped; diffusion's repeat theirs on every event).
 * Used in the worker processes and in the server.
 */
export function throttleProgress(send: (progress: Progress, now: number) => void, intervalMs = 100): (progress: Progress) => void {
  let last = 0;
  let lastPreview: unknown;
  return (progress) => {
    const now = Date.now();
    const preview = (progress as { preview?: unknown }).preview;
    const newPreview = preview !== undefined && !samePreview(preview, lastPreview);
    if (!newPreview && progress.done < progress.total && now - last < intervalMs) return;
    last = now;
    if (preview !== undefined) lastPreview = preview;
    send(progress, now);
  };
}

/**
 * The same preview: the same object, or (after a worker's message) the same step with the same
 * picture. A step alone does not tell: DeepDream's next octave and inversion's next layer start
 * at the step where the last one ended, with another image.
 */
function samePreview(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const field = (x: object, key: 'step' | 'png'): unknown => (x as Record<string, unknown>)[key];
  return field(a, 'step') !== undefined && field(a, 'step') === field(b, 'step') && field(a, 'png') === field(b, 'png');
}

const isActive = (j: Job): boolean => j.state === 'queued' || j.state === 'running';

/**
 * Long runs (occlusion, Score-CAM, training) as jobs: started by a POST, followed through an
 * event stream, cancelled by DELETE. A submitted job runs as a task on a worker process (see
 * workers/pool.ts), waiting in the queue while every job worker is busy. Finished jobs are kept
 * a while so a late subscriber still gets the result.
 */
export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private readonly pool: WorkerPool | undefined;
  private readonly keepMs: number;
  private readonly maxActive: number;
  private readonly maxKept: number;

  constructor(options: JobManagerOptions = {}) {
    this.pool = options.pool;
    this.keepMs = options.keepMs ?? 10 * 60_000;
    this.maxActive = options.maxActive ?? 16;
    this.maxKept = options.maxKept ?? 64;
  }

  running(): number {
    return [...this.jobs.values()].filter((j) => j.state === 'running').length;
  }

  queued(): number {
    return [...this.jobs.values()].filter((j) => j.state === 'queued').length;
  }

  /**
   * Runs `task` on a worker process (`lane`: job workers, or the interactive one) and returns the
   * job id at once. `holds` are released when the job ends (pins on the uploads it uses, so they
   * are not evicted under it); `then` turns the worker's result into the job's (on the server).
   */
  submit(kind: string, task: TaskRequest, holds: (() => void)[] = [], then?: (result: unknown) => unknown, lane: Lane = 'job'): string {
    const pool = this.pool;
    if (!pool) {
      for (const release of holds) release();
      throw new ConvLensError('RUNTIME_FAILURE', 'This studio has no worker processes to run jobs on.', 'Create the studio with createStudio(), which starts them.');
    }
    const job = this.create(kind, 'queued', holds);
    const options = this.options(job);
    pool
      .run(task, lane, {
        signal: job.controller.signal,
        onStart: () => {
          if (job.state !== 'queued') return;
          job.state = 'running';
          job.startedAt = Date.now();
          delete job.ahead;
          this.emit(job, { type: 'progress', progress: { done: 0, total: 0, phase: 'starting' } });
        },
        onQueued: (ahead) => {
          if (job.state !== 'queued' || job.ahead === ahead) return;
          job.ahead = ahead;
          this.emit(job, { type: 'progress', progress: { done: 0, total: 0, phase: `queued: ${ahead ? `${ahead} job${ahead > 1 ? 's' : ''} ahead` : 'next'} (waiting for a free worker)` } });
        },
        onProgress: options.onProgress!,
      })
      .then((result) => (then ? then(result) : result))
      .then(
        (result) => this.settled(job, result),
        (e: unknown) => this.failed(job, e),
      );
    return job.id;
  }

  /**
   * Runs `work` in this process (no worker): only for light work and tests. Returns the job id
   * at once; `holds` are released when the job ends.
   */
  start(kind: string, work: (options: JobOptions) => Promise<unknown>, holds: (() => void)[] = []): string {
    const job = this.create(kind, 'running', holds);
    const options = this.options(job);
    // Yield first so the POST answers before the work starts.
    setImmediate(() => {
      work(options).then(
        (result) => this.settled(job, result),
        (e: unknown) => this.failed(job, e),
      );
    });
    return job.id;
  }

  status(id: string): { id: string; kind: string; state: JobState; ahead?: number } | undefined {
    const j = this.jobs.get(id);
    return j && { id: j.id, kind: j.kind, state: j.state, ...(j.ahead !== undefined ? { ahead: j.ahead } : {}) };
  }

  cancel(id: string): boolean {
    const j = this.jobs.get(id);
    if (!j) return false;
    if (!isActive(j)) return true;
    j.controller.abort();
    // A job that never started has nothing to stop: it is cancelled now (its worker task left the queue).
    if (j.state === 'queued') this.finish(j, 'cancelled', { type: 'cancelled' });
    return true;
  }

  /** Replays past events, then follows new ones; returns an unsubscribe function. */
  subscribe(id: string, listener: (e: JobEvent) => void): (() => void) | undefined {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    for (const e of j.events) listener(e);
    if (!isActive(j)) return () => undefined;
    j.listeners.add(listener);
    return () => j.listeners.delete(listener);
  }

  cancelAll(): void {
    for (const j of this.jobs.values()) if (isActive(j)) j.controller.abort();
  }

  private create(kind: string, state: JobState, holds: (() => void)[]): Job {
    this.expire();
    const active = [...this.jobs.values()].filter(isActive).length;
    if (active >= this.maxActive) {
      for (const release of holds) release();
      throw new ConvLensError('INVALID_ARGUMENT', `${active} jobs are already running or queued.`, 'Wait for one to finish or cancel it (DELETE /api/jobs/:id).');
    }
    const created = Date.now();
    const job: Job = { id: randomUUID(), kind, state, controller: new AbortController(), events: [], listeners: new Set(), created, holds, ...(state === 'running' ? { startedAt: created } : {}) };
    this.jobs.set(job.id, job);
    return job;
  }

  private options(job: Job): JobOptions {
    return {
      signal: job.controller.signal,
      onProgress: throttleProgress((progress, now) => {
        if (isActive(job)) this.emit(job, { type: 'progress', progress, ...(job.startedAt !== undefined ? { runningMs: now - job.startedAt } : {}) });
      }),
    };
  }

  private settled(job: Job, result: unknown): void {
    if (!isActive(job)) return;
    if (job.controller.signal.aborted) return this.finish(job, 'cancelled', { type: 'cancelled' });
    this.finish(job, 'done', { type: 'result', result });
  }

  private failed(job: Job, e: unknown): void {
    if (!isActive(job)) return;
    if (job.controller.signal.aborted || (e instanceof ConvLensError && e.code === 'CANCELLED')) this.finish(job, 'cancelled', { type: 'cancelled' });
    else this.finish(job, 'failed', { type: 'error', error: toApiError(e) });
  }

  private emit(job: Job, e: JobEvent): void {
    // Only the latest progress is worth replaying to late subscribers.
    if (e.type === 'progress') job.events = job.events.filter((x) => x.type !== 'progress');
    job.events.push(e);
    for (const l of job.listeners) l(e);
  }

  private finish(job: Job, state: JobState, e: JobEvent): void {
    job.state = state;
    delete job.ahead;
    for (const release of job.holds.splice(0)) release();
    this.emit(job, e);
    job.listeners.clear();
    this.expire();
  }

  private expire(): void {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, j] of this.jobs) if (!isActive(j) && j.created < cutoff) this.jobs.delete(id);
    // Past the cap, the oldest finished jobs go first (the map iterates in start order).
    let finished = [...this.jobs.values()].filter((j) => !isActive(j)).length;
    for (const [id, j] of this.jobs) {
      if (finished <= this.maxKept) break;
      if (!isActive(j)) {
        this.jobs.delete(id);
        finished--;
      }
    }
  }
}
