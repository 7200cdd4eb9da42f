// The time left of a job, from its measured pace (web/src/remaining.ts).
import { describe, expect, it } from 'vitest';
import { describeRemaining, estimateRemaining, remainingTracker, type PaceBaseline, type TimedProgress } from '../../web/src/remaining.js';

/** Feeds progress events in order, as followJob does, returning each estimate's seconds. */
function follow(events: TimedProgress[]): (number | undefined)[] {
  let pace: PaceBaseline | null = null;
  return events.map((p) => {
    const e = estimateRemaining(pace, p);
    pace = e.baseline;
    return e.seconds;
  });
}

describe('estimateRemaining', () => {
  it('says nothing before enough units and time are measured past the first unit', () => {
    // 20 units; the first took 5 s (loading, compiling), then 1 s each
    const seconds = follow([
      { done: 0, total: 20, runningMs: 0 },
      { done: 1, total: 20, runningMs: 5000 },
      { done: 2, total: 20, runningMs: 6000 },
      { done: 3, total: 20, runningMs: 7000 },
      { done: 10, total: 20, runningMs: 14000 },
    ]);
    expect(seconds.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    // the slow first unit is left out: 10 units left at 1 s each, not at (14 s / 10)
    expect(seconds[3]).toBeCloseTo(17, 6);
    expect(seconds[4]).toBeCloseTo(10, 6);
  });

  it('starts again when the total changes (a phase counting other units), and without the server\'s running time', () => {
    const seconds = follow([
      { done: 1, total: 10, runningMs: 1000 },
      { done: 5, total: 10, runningMs: 5000 },
      { done: 1, total: 100, runningMs: 6000 },
      { done: 2, total: 100, runningMs: 9000 },
      { done: 10, total: 100, runningMs: 14000 },
    ]);
    expect(seconds[1]).toBeCloseTo(5, 6);
    expect(seconds[2]).toBeUndefined();
    // 5 % of 100 units not yet measured past the new baseline
    expect(seconds[3]).toBeUndefined();
    expect(seconds[4]).toBeCloseTo((90 * 8) / 9, 6);
    expect(follow([{ done: 1, total: 10 }, { done: 9, total: 10 }])).toEqual([undefined, undefined]);
  });

  it('times progress itself for a run in this page (no server stamps it), with the same rules', () => {
    let clock = 30_000; // the page has been open a while: time counts from the tracker's start
    const remaining = remainingTracker(() => clock);
    const at = (ms: number, done: number): number | undefined => {
      clock = 30_000 + ms;
      return remaining({ done, total: 20 });
    };
    // as the server's runningMs in the first test: the first, slow unit is left out of the pace
    expect([at(5000, 1), at(6000, 2)]).toEqual([undefined, undefined]);
    expect(at(7000, 3)).toBeCloseTo(17, 6);
    expect(at(14000, 10)).toBeCloseTo(10, 6);
  });

  it('is written in seconds, minutes or hours, and not at all under a few seconds', () => {
    expect([2, 40, 200, 9000].map(describeRemaining)).toEqual([undefined, 'about 40 s left', 'about 3 min left', 'about 2.5 h left']);
    expect(describeRemaining(undefined)).toBeUndefined();
  });
});
