import { ConvLensError } from './errors.js';

/**
 * Options every long-running method takes: progress reports and cancellation. The CLI turns
 * progress into a bar and Ctrl-C into an abort; the studio streams progress to the page.
 */
export interface JobOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  /** units done so far and in total (batches, steps, images) */
  done: number;
  total: number;
  /** short description of the current phase ("occlusion", "epoch 3/10") */
  phase?: string;
  /** numbers worth showing while running (loss, accuracy, samples/s) */
  metrics?: Record<string, number>;
  /**
   * Which of a job's consecutive parts these units count (the methods of one explain call, each
   * counting its own runs from 0): without it, a caller adding the parts up saw 1/6, 0/6, 1/6.
   */
  part?: { index: number; count: number };
  /**
   * The current part's own count while `done`/`total` count parts (an explain job's methods):
   * 120 of 250 engine runs of KernelSHAP. Pages print the whole parts done, so one long method
   * read "0/2" for its whole run while the bar moved; this count moves with it.
   */
  within?: { done: number; total: number; phase?: string };
}

/** Throws a CANCELLED error if the job was aborted; call it between steps. */
export function throwIfCancelled(signal: AbortSignal | undefined, what = 'the job'): void {
  if (signal?.aborted) throw new ConvLensError('CANCELLED', `Cancelled ${what}.`, 'Nothing was written for the cancelled part.');
}
