// The progress row of a running job: a bar, its phase, count and remaining time, and a Cancel
// button. Five panels drew their own and drifted apart (one showed no count and an empty bar for a
// job of unknown length, one never said it was cancelling, counts were formatted two ways).
import type { ReactNode } from 'react';
import { progressCount } from '../format';
import { describeRemaining } from '../remaining';

/** What the row shows of a job; `total` 0 while the job's length is not known yet. */
export interface JobProgressState {
  done: number;
  total: number;
  phase?: string | undefined;
  /** the running part's own count (see progressCount) */
  within?: { done: number; total: number; phase?: string } | undefined;
  remainingSeconds?: number | undefined;
}

/** The width of the bar's fill while the total is unknown: a sliver that says "running". */
const UNKNOWN_TOTAL_PCT = 8;

export function JobProgress(props: {
  /** null: the job is starting and has not reported yet */
  job: JobProgressState | null | undefined;
  onCancel: () => void;
  /** a cancel was asked and the job has not ended yet: the button says so and is disabled */
  cancelling?: boolean;
  /** replaces the count after the phase (default: " · done/total", see progressCount) */
  count?: string;
  /** test ids of the bar, the text, the remaining time and the button (each one only if given) */
  testIds?: { bar?: string; text?: string; remaining?: string; cancel?: string };
}): ReactNode {
  const { job, testIds = {} } = props;
  const pct = job && job.total > 0 ? Math.max(0, Math.min(100, Math.round((100 * job.done) / job.total))) : 0;
  const remaining = describeRemaining(job?.remainingSeconds);
  const count = props.count ?? (job ? progressCount(job) : '');
  return (
    <>
      {/* .progress keeps a minimum width: squeezed to 0 px by a long text it read as a finished job */}
      <div className="progress" data-testid={testIds.bar} role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
        <div className="progress-fill" style={{ width: `${job && job.total > 0 ? pct : UNKNOWN_TOTAL_PCT}%` }} />
      </div>
      <span className="progress-text" data-testid={testIds.text}>
        {job?.phase ?? 'working'}
        {count}
        {remaining ? <span data-testid={testIds.remaining}>{` · ${remaining}`}</span> : null}
      </span>
      <button type="button" className="button danger" onClick={props.onCancel} disabled={!!props.cancelling} data-testid={testIds.cancel}>
        {props.cancelling ? 'Cancelling…' : 'Cancel'}
      </button>
    </>
  );
}
