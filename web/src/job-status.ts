// A job followed by a panel: its progress as the panel shows it, and the one final event that ends
// it. The explanation and channel panels followed their jobs with the same dozen lines each.
import type { Dispatch, MutableRefObject, SetStateAction } from 'react';
import { api, ApiError, followJob, type ApiErrorBody } from './api';
import { Cancelled, type WorkerProgress } from './compute';
import { remainingTracker } from './remaining';

export interface JobStatus {
  id: string;
  running: boolean;
  done: number;
  total: number;
  phase?: string | undefined;
  /** the running method's own count (see Progress.within) */
  within?: { done: number; total: number; phase?: string } | undefined;
  /** from the job's measured pace, once it means something */
  remainingSeconds?: number | undefined;
}

export interface JobEnd {
  result(result: unknown): void;
  error(error: ApiErrorBody): void;
  cancelled(): void;
}

/**
 * Follows job `id` into `setJob` (replacing the job `stop` followed before) until it ends, then
 * marks it stopped and hands its result, error or cancellation to `end`.
 */
export function followJobStatus(id: string, stop: MutableRefObject<(() => void) | null>, setJob: Dispatch<SetStateAction<JobStatus | null>>, setCancelling: (cancelling: boolean) => void, end: JobEnd): void {
  setJob({ id, running: true, done: 0, total: 0, phase: 'starting' });
  setCancelling(false);
  stop.current?.();
  stop.current = followJob(id, (ev) => {
    if (ev.type === 'progress') {
      setJob({ id, running: true, done: ev.progress.done, total: ev.progress.total, phase: ev.progress.phase, within: ev.progress.within, remainingSeconds: ev.remainingSeconds });
      return;
    }
    setJob((j) => (j ? { ...j, running: false } : null));
    setCancelling(false);
    if (ev.type === 'result') end.result(ev.result);
    else if (ev.type === 'error') end.error(ev.error);
    else end.cancelled();
  });
}

/** The id a panel's job has while it runs in this page's engine worker, not on the server. */
export const BROWSER_JOB = 'in-this-browser';

/** What a panel shows of its job: the setters a browser run and a cancel drive. */
export interface PanelJob {
  setJob: Dispatch<SetStateAction<JobStatus | null>>;
  setCancelling: (cancelling: boolean) => void;
  setNotice: (notice: string) => void;
  setError: (error: { code: string; message: string; hint?: string }) => void;
}

/**
 * Runs `compute` in this page's engine worker as the panel's job: progress (and the time left at
 * its pace) into `setJob`, the result to `done`, a cancel (`run` aborted) to the notice `cancelledNotice`, a failure to
 * `setError` with the server as the way out. The explanation and channel panels had the same
 * twenty lines each.
 */
export async function runInBrowser<T>(
  run: MutableRefObject<AbortController | null>,
  panel: PanelJob,
  compute: (o: { signal: AbortSignal; onProgress: (p: WorkerProgress) => void }) => Promise<T>,
  done: (result: T) => void,
  cancelledNotice: string,
): Promise<void> {
  const controller = new AbortController();
  run.current = controller;
  const status = (phase: string, doneSteps = 0, total = 0, within?: JobStatus['within'], remainingSeconds?: number): void => panel.setJob({ id: BROWSER_JOB, running: true, done: doneSteps, total, phase, within, remainingSeconds });
  status('loading the model into this page');
  // the time left at the pace measured here, as a server job's (a long run in the browser, minutes
  // of Score-CAM on a ResNet, showed its count and never the time)
  const remaining = remainingTracker(() => performance.now());
  try {
    done(await compute({ signal: controller.signal, onProgress: (p) => status(`${p.phase ?? 'working'} (in this browser)`, p.done, p.total, p.within, remaining(p)) }));
  } catch (e) {
    if (e instanceof Cancelled || controller.signal.aborted) panel.setNotice(cancelledNotice);
    else {
      const err = e as { message?: string; code?: string; hint?: string };
      panel.setError({ message: err.message ?? String(e), code: err.code ?? 'BROWSER', hint: err.hint ?? 'Computing on the server (the default) runs the same methods.' });
    }
  } finally {
    run.current = null;
    panel.setJob((j) => (j ? { ...j, running: false } : null));
    panel.setCancelling(false);
  }
}

/** Cancels the panel's job: a run in this page at once, a server job through the API. */
export function cancelPanelJob(job: JobStatus | null, run: MutableRefObject<AbortController | null>, panel: Pick<PanelJob, 'setCancelling'> & { setError: (e: ApiError) => void }): void {
  if (!job) return;
  panel.setCancelling(true);
  if (job.id === BROWSER_JOB) {
    run.current?.abort();
    return;
  }
  api.cancelJob(job.id).catch((e: unknown) => {
    panel.setCancelling(false);
    panel.setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
  });
}
