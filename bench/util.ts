// Timing helpers shared by the bench/*.bench.ts scripts.

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Median wall time of `reps` calls after `warmup` untimed ones; with a label, also prints it to
 * stderr as it goes so long runs show progress.
 */
export async function time(fn: () => Promise<unknown>, reps: number, warmup = 2, label = ''): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  const m = median(ts);
  if (label) process.stderr.write(`    ${label}: ${m.toFixed(1)} ms\n`);
  return m;
}
