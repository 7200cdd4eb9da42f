// The time a job has left, from its measured pace. No imports: unit tests load this file under Node.

/** Where the pace is measured from: the first progress past the job's (or phase's) first unit. */
export interface PaceBaseline {
  total: number;
  done: number;
  runningMs: number;
}

/** Progress as the server stamps it: units done of total, after runningMs of running. */
export interface TimedProgress {
  done: number;
  total: number;
  runningMs?: number | undefined;
}

export interface RemainingEstimate {
  baseline: PaceBaseline | null;
  /** seconds left, or undefined while the pace says nothing yet */
  seconds: number | undefined;
}

/** The pace is trusted after this share of the units measured past the baseline... */
const MIN_MEASURED_SHARE = 0.05;
/** ...and this much time: a few fast units after a slow start would promise too little. */
const MIN_MEASURED_MS = 2000;

/**
 * The time left at the pace since the baseline. The first unit is left out of the pace (it
 * loads the model and compiles sessions, several times a later unit's time), and a new total
 * (the next phase counting other units) starts a new baseline, since its units take other times.
 * Nothing is estimated until enough units and time are measured past the baseline.
 */
export function estimateRemaining(previous: PaceBaseline | null, p: TimedProgress): RemainingEstimate {
  if (p.runningMs === undefined || !(p.total > 0) || p.done <= 0) return { baseline: previous && previous.total === p.total ? previous : null, seconds: undefined };
  const baseline = previous && previous.total === p.total && p.done >= previous.done ? previous : { total: p.total, done: p.done, runningMs: p.runningMs };
  const units = p.done - baseline.done;
  const ms = p.runningMs - baseline.runningMs;
  if (units < MIN_MEASURED_SHARE * p.total || ms < MIN_MEASURED_MS) return { baseline, seconds: undefined };
  return { baseline, seconds: ((p.total - p.done) * ms) / units / 1000 };
}

/** "about 40 s left", "about 3 min left"; nothing under a few seconds (the bar says enough). */
export function describeRemaining(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 3) return undefined;
  const shown = seconds < 90 ? `${Math.round(seconds)} s` : seconds < 5400 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
  return `about ${shown} left`;
}

/**
 * The time left of a run timed here rather than by the server (a run in this page's engine
 * worker): each progress is stamped with `now()` (ms) since the tracker was made.
 */
export function remainingTracker(now: () => number): (p: { done: number; total: number }) => number | undefined {
  const started = now();
  let pace: PaceBaseline | null = null;
  return (p) => {
    const estimate = estimateRemaining(pace, { done: p.done, total: p.total, runningMs: now() - started });
    pace = estimate.baseline;
    return estimate.seconds;
  };
}
