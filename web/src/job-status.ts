// A job followed by a panel: its progress as the panel shows it, and the one final event that ends
// it. The explanation and channel panels followed their jobs with the same dozen lines each.
import type { Dispatch, MutableRefObject, SetStateAction } from 'react';
import { followJob, type ApiErrorBody } from './api';

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
