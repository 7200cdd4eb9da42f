import { randomUUID } from 'node:crypto';
import { ConvLensError } from '../../engine/errors.js';
import type { JobOptions, Progress } from '../../methods/jobs.js';

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

/** What a job streams to the page (server-sent events). */
export type JobEvent =
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: ApiError }
  | { type: 'cancelled' };

export interface ApiError {
  code: string;
  message: string;
  hint?: string;
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ConvLensError) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
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
}

/**
 * Long runs (occlusion, Score-CAM, training) as jobs: started by a POST, followed through an
 * event stream, cancelled by DELETE. Finished jobs are kept a while so a late subscriber still
 * gets the result.
 */
export class JobManager {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly keepMs = 10 * 60_000,
    private readonly maxRunning = 4,
    /** finished jobs kept for late subscribers (their results can be megabytes) */
    private readonly maxKept = 64,
  ) {}

  running(): number {
    return [...this.jobs.values()].filter((j) => j.state === 'running').length;
  }

  /**
   * Starts `work` in the background and returns the job id at once. `holds` are released when
   * the job ends (pins on the uploads it uses, so they are not evicted under it).
   */
  start(kind: string, work: (options: JobOptions) => Promise<unknown>, holds: (() => void)[] = []): string {
    this.expire();
    if (this.running() >= this.maxRunning) {
      for (const release of holds) release();
      throw new ConvLensError('INVALID_ARGUMENT', `${this.running()} jobs are already running.`, 'Wait for one to finish or cancel it.');
    }
    const job: Job = { id: randomUUID(), kind, state: 'running', controller: new AbortController(), events: [], listeners: new Set(), created: Date.now(), holds };
    this.jobs.set(job.id, job);
    let lastProgress = 0;
    const options: JobOptions = {
      signal: job.controller.signal,
      onProgress: (progress) => {
        // Throttle to ~10 events/s; the final one always goes out.
        const now = Date.now();
        if (progress.done < progress.total && now - lastProgress < 100) return;
        lastProgress = now;
        this.emit(job, { type: 'progress', progress });
      },
    };
    // Yield first so the POST answers before heavy work starts.
    setImmediate(() => {
      work(options).then(
        (result) => {
          if (job.controller.signal.aborted) return this.finish(job, 'cancelled', { type: 'cancelled' });
          this.finish(job, 'done', { type: 'result', result });
        },
        (e: unknown) => {
          if (job.controller.signal.aborted || (e instanceof ConvLensError && e.code === 'CANCELLED')) this.finish(job, 'cancelled', { type: 'cancelled' });
          else this.finish(job, 'failed', { type: 'error', error: toApiError(e) });
        },
      );
    });
    return job.id;
  }

  status(id: string): { id: string; kind: string; state: JobState } | undefined {
    const j = this.jobs.get(id);
    return j && { id: j.id, kind: j.kind, state: j.state };
  }

  cancel(id: string): boolean {
    const j = this.jobs.get(id);
    if (!j) return false;
    if (j.state === 'running') j.controller.abort();
    return true;
  }

  /** Replays past events, then follows new ones; returns an unsubscribe function. */
  subscribe(id: string, listener: (e: JobEvent) => void): (() => void) | undefined {
    const j = this.jobs.get(id);
    if (!j) return undefined;
    for (const e of j.events) listener(e);
    if (j.state !== 'running') return () => undefined;
    j.listeners.add(listener);
    return () => j.listeners.delete(listener);
  }

  cancelAll(): void {
    for (const j of this.jobs.values()) if (j.state === 'running') j.controller.abort();
  }

  private emit(job: Job, e: JobEvent): void {
    // Only the latest progress is worth replaying to late subscribers.
    if (e.type === 'progress') job.events = job.events.filter((x) => x.type !== 'progress');
    job.events.push(e);
    for (const l of job.listeners) l(e);
  }

  private finish(job: Job, state: JobState, e: JobEvent): void {
    job.state = state;
    for (const release of job.holds.splice(0)) release();
    this.emit(job, e);
    job.listeners.clear();
    this.expire();
  }

  private expire(): void {
    const cutoff = Date.now() - this.keepMs;
    for (const [id, j] of this.jobs) if (j.state !== 'running' && j.created < cutoff) this.jobs.delete(id);
    // Past the cap, the oldest finished jobs go first (the map iterates in start order).
    let finished = [...this.jobs.values()].filter((j) => j.state !== 'running').length;
    for (const [id, j] of this.jobs) {
      if (finished <= this.maxKept) break;
      if (j.state !== 'running') {
        this.jobs.delete(id);
        finished--;
      }
    }
  }
}
