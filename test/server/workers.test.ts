// The studio's worker processes under faults: a task that never returns to JavaScript (as one
// long ONNX Runtime call), memory that grows without end (native and JavaScript heap), a worker
// that exits, jobs beyond the pool, and shutting down mid-task. Fault tasks are enabled with
// CONVLENS_WORKER_FAULTS=1 in the workers' environment only.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import type { JobEvent } from '../../src/interfaces/server/jobs.js';
import { WorkerPool } from '../../src/interfaces/server/workers/pool.js';
import { MemoryPlan } from '../../src/interfaces/server/workers/memory.js';

const ROOT = join(import.meta.dirname, '..', '..');
const engine = new Engine(nodeBackend(), { threads: 1 });
const GB = 1 << 30;
let studio: Studio;

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(what: string, test: () => boolean, ms = 20_000): Promise<number> {
  const t0 = performance.now();
  while (!test()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

function events(id: string): JobEvent[] {
  const out: JobEvent[] = [];
  studio.jobs.subscribe(id, (e) => out.push(e));
  return out;
}

const fault = (what: 'block' | 'heap' | 'rss' | 'exit' | 'steps', o: { ms?: number } = {}): string => studio.jobs.submit(`fault:${what}`, studio.task('fault', { what, ...o }));
const state = (id: string): string | undefined => studio.jobs.status(id)?.state;

beforeAll(async () => {
  studio = await createStudio({ engine, jobWorkers: 1, workerMemoryBytes: 1.5 * GB, cancelGraceMs: 800, workerEnv: { CONVLENS_WORKER_FAULTS: '1' }, webDir: join(ROOT, 'no-such-web-dir') });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

describe('the job pool', () => {
  it('queues a job beyond the pool, says so, and runs it when a worker is free', async () => {
    const first = fault('steps', { ms: 1500 });
    const submitted = performance.now();
    const second = fault('steps', { ms: 200 });
    const seen = events(second);
    expect(state(first)).toBe('running');
    expect(state(second)).toBe('queued');
    expect(studio.jobs.status(second)!.ahead).toBe(0);
    expect(seen.some((e) => e.type === 'progress' && /queued/.test(e.progress.phase ?? ''))).toBe(true);
    expect((await studio.app.inject({ method: 'GET', url: '/api/health' })).json()).toMatchObject({ jobsRunning: 1, jobsQueued: 1 });
    await until('the first job', () => state(first) === 'done');
    await until('the second job', () => state(second) === 'done');
    const waitedAndRan = performance.now() - submitted;
    // its progress carries the time it has run, its wait in the queue left out (the page's
    // estimate of the time left divides that by the units done)
    const steps = seen.flatMap((e) => (e.type === 'progress' && e.progress.phase === 'steps' ? [e] : []));
    expect(steps.at(-1)!.progress.done).toBe(10);
    expect(steps.at(-1)!.runningMs).toBeGreaterThanOrEqual(190);
    expect(steps.at(-1)!.runningMs).toBeLessThan(waitedAndRan - 1000);
    const result = seen.find((e) => e.type === 'result') as { result: { steps: number; budgetBytes: number } };
    expect(result.result.steps).toBe(10);
    // the budget the job planned to came with it
    expect(result.result.budgetBytes).toBe(studio.memory.budget());
  });

  it('cancels a queued job at once, without it ever running', async () => {
    const first = fault('steps', { ms: 1000 });
    const second = fault('steps', { ms: 1000 });
    expect(studio.jobs.cancel(second)).toBe(true);
    expect(state(second)).toBe('cancelled');
    expect(events(second).map((e) => e.type)).toEqual(['progress', 'cancelled']);
    await until('the first job', () => state(first) === 'done');
  });

  it('kills a worker that does not stop within the grace period of a cancel, and replaces it', async () => {
    const id = fault('block', { ms: 60_000 });
    await until('the job to run', () => studio.pool.stats().workers.some((w) => w.lane === 'job' && w.state === 'busy'));
    await new Promise((r) => setTimeout(r, 300));
    const pid = studio.pool.stats().workers.find((w) => w.lane === 'job')!.pid!;
    expect(alive(pid)).toBe(true);
    const killedBefore = studio.pool.stats().killed.cancel;
    studio.jobs.cancel(id);
    const ms = await until('the cancel', () => state(id) === 'cancelled', 3000);
    expect(ms).toBeLessThan(3000);
    expect(studio.pool.stats().killed.cancel).toBe(killedBefore + 1);
    await until('the worker to be gone', () => !alive(pid), 3000);
    // the next job runs on a new worker
    const next = fault('steps', { ms: 100 });
    await until('the next job', () => state(next) === 'done');
    expect(studio.pool.stats().workers.find((w) => w.lane === 'job')!.pid).not.toBe(pid);
  });

  it('stops a worker whose memory grows past its share and fails its job with the numbers', async () => {
    const id = fault('rss');
    const seen = events(id);
    await until('the job to fail', () => state(id) === 'failed', 60_000);
    const error = seen.find((e) => e.type === 'error') as { error: { message: string; hint: string } };
    expect(error.error.message).toMatch(/more memory than a studio worker may use \(\d+ MB\)/);
    expect(error.error.hint).toMatch(/--memory/);
    expect(studio.pool.stats().killed.memory).toBeGreaterThanOrEqual(1);
    const next = fault('steps', { ms: 100 });
    await until('the next job', () => state(next) === 'done');
  });

  it('fails a job whose JavaScript heap runs out, naming it, and keeps serving', async () => {
    const id = fault('heap');
    const seen = events(id);
    await until('the job to fail', () => state(id) === 'failed', 90_000);
    expect((seen.find((e) => e.type === 'error') as { error: { message: string } }).error.message).toMatch(/JavaScript heap|memory/);
    const next = fault('steps', { ms: 100 });
    await until('the next job', () => state(next) === 'done');
  });

  it('fails a job whose worker exits, and runs the next one on a new worker', async () => {
    const id = fault('exit');
    const seen = events(id);
    await until('the job to fail', () => state(id) === 'failed');
    expect((seen.find((e) => e.type === 'error') as { error: { message: string } }).error.message).toMatch(/stopped unexpectedly \(exit code 3\)/);
    const next = fault('steps', { ms: 100 });
    await until('the next job', () => state(next) === 'done');
  });

  it('runs a task queued behind a recycled worker in a process with nothing else to keep it alive', () => {
    // A script using the pool without a server: each worker is recycled after its task (fraction
    // 0), while the second task waits. Before, the dying worker let go of the event loop and the
    // process ended with the second task unsettled (exit code 13, "unsettled top-level await").
    const pool = pathToFileURL(join(ROOT, 'src', 'interfaces', 'server', 'workers', 'pool.ts')).href;
    const script = [
      `import { WorkerPool } from ${JSON.stringify(pool)};`,
      "const pool = new WorkerPool({ jobWorkers: 1, init: { files: { roots: [] } }, jobRssBytes: 2 ** 30, interactiveRssBytes: 2 ** 30, heapMb: 512, recycleFraction: 0, env: { CONVLENS_WORKER_FAULTS: '1' } });",
      "const task = () => pool.run({ kind: 'fault', args: { what: 'steps', ms: 40 }, budgetBytes: 0 }, 'job');",
      'const [first, second] = [task(), task()];',
      "await first; console.log('first');",
      "await second; console.log('second');",
      'await pool.close();',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['first', 'second']);
    expect(r.status).toBe(0);
  }, 70_000);

  it('refuses fault tasks unless the workers were started for tests', async () => {
    const plain = new WorkerPool({ jobWorkers: 1, init: { files: { roots: [] } }, jobRssBytes: GB, interactiveRssBytes: GB, heapMb: 512 });
    try {
      await expect(plain.run({ kind: 'fault', args: { what: 'exit' }, budgetBytes: 0 }, 'job')).rejects.toThrow(/only in tests/);
    } finally {
      await plain.close();
    }
  });
});

describe('the interactive worker', () => {
  it('drops a quick request whose client went away, so it does not run behind other work', async () => {
    const base = (await studio.app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
    const hold = new AbortController();
    const blocking = studio.call('fault', { what: 'block', ms: 60_000 }, {}, hold.signal).catch((e: Error) => e.message);
    await until('the interactive worker to be busy', () => studio.pool.stats().workers.some((w) => w.lane === 'interactive' && w.state === 'busy'));
    const client = new AbortController();
    const request = fetch(`${base}/api/predict`, { method: 'POST', signal: client.signal, headers: { origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'builtin', image: 'fashion-mnist/bag-test18.png' }) }).catch((e: Error) => e.name);
    await until('the request to queue', () => studio.pool.stats().queued.interactive === 1);
    client.abort();
    expect(await request).toBe('AbortError');
    await until('the request to leave the queue', () => studio.pool.stats().queued.interactive === 0, 2000);
    hold.abort();
    expect(await blocking).toBe('Cancelled.');
    // the worker that would not stop was replaced; the next request is answered
    const r = await fetch(`${base}/api/predict`, { method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'builtin', image: 'fashion-mnist/bag-test18.png' }) });
    expect(r.status).toBe(200);
  });
});

describe('queue bounds', () => {
  it('refuses a task beyond the lane\'s queue as BUSY, and takes tasks again once the queue drains', async () => {
    const pool = new WorkerPool({ jobWorkers: 1, init: { files: { roots: [] } }, jobRssBytes: GB, interactiveRssBytes: GB, heapMb: 512, env: { CONVLENS_WORKER_FAULTS: '1' }, maxQueued: { job: 2 } });
    const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'done', (e: Error & { code?: string }) => `${e.code}: ${e.message}`);
    try {
      const hold = new AbortController();
      const running = outcome(pool.run({ kind: 'fault', args: { what: 'block', ms: 60_000 }, budgetBytes: 0 }, 'job', { signal: hold.signal }));
      await until('the job worker busy', () => pool.stats().workers.some((w) => w.lane === 'job' && w.state === 'busy'));
      const waiting = [0, 1].map(() => outcome(pool.run({ kind: 'fault', args: { what: 'steps', ms: 50 }, budgetBytes: 0 }, 'job')));
      expect(pool.stats().queued.job).toBe(2);
      expect(await outcome(pool.run({ kind: 'fault', args: { what: 'steps', ms: 50 }, budgetBytes: 0 }, 'job'))).toMatch(/^BUSY: The studio already has 2 jobs waiting \(at most 2\)/);
      expect(pool.stats().queued.job).toBe(2); // the refused one left nothing behind
      hold.abort();
      expect(await running).toMatch(/^CANCELLED/);
      expect(await Promise.all(waiting)).toEqual(['done', 'done']);
      expect(await outcome(pool.run({ kind: 'fault', args: { what: 'steps', ms: 50 }, budgetBytes: 0 }, 'job'))).toBe('done');
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('closing', () => {
  it('kills workers mid-task and leaves none behind', async () => {
    const pool = new WorkerPool({ jobWorkers: 2, init: { files: { roots: [] } }, jobRssBytes: GB, interactiveRssBytes: GB, heapMb: 512, env: { CONVLENS_WORKER_FAULTS: '1' } });
    const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'done', (e: Error) => e.message);
    const blocked = [0, 1].map(() => outcome(pool.run({ kind: 'fault', args: { what: 'block', ms: 60_000 }, budgetBytes: 0 }, 'job')));
    const queued = outcome(pool.run({ kind: 'fault', args: { what: 'steps', ms: 100 }, budgetBytes: 0 }, 'job'));
    pool.warm('interactive');
    await until('both job workers busy', () => pool.stats().workers.filter((w) => w.state === 'busy').length === 2);
    await until('the interactive worker', () => pool.stats().workers.every((w) => w.pid !== undefined));
    const pids = pool.stats().workers.map((w) => w.pid!);
    const t0 = performance.now();
    await pool.close();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(await Promise.all([...blocked, queued])).toEqual(['The studio is shutting down.', 'The studio is shutting down.', 'The studio is shutting down.']);
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    await expect(pool.run({ kind: 'fault', args: { what: 'steps' }, budgetBytes: 0 }, 'job')).rejects.toThrow(/shutting down/);
  });
});

describe('the memory plan', () => {
  it('splits the workers\' memory between the interactive worker and the job workers', () => {
    const plan = new MemoryPlan(2 * GB, 2);
    expect(plan.interactiveBytes).toBe(0.5 * GB);
    expect(plan.jobWorkerBytes).toBe(0.75 * GB);
    expect(plan.budget()).toBeGreaterThan(0);
    expect(() => new MemoryPlan(100 << 20, 1)).toThrow(/at least 512 MB/);
  });

  it('plans explain batches by model size and refuses what cannot fit, with the numbers', async () => {
    const big = new MemoryPlan(1 * GB, 1);
    const builtin = studio.models.require('builtin');
    // the 28x28 course CNN: the full default batch fits
    expect(big.batch('An explanation', builtin, 'gradient', { max: 64 })).toBe(64);
    // the same net on 4096x4096 inputs: about 1.1 billion values per sample, 13 GB with gradients
    expect(() => big.batch('An explanation', builtin, 'gradient', { max: 64, size: [4096, 4096] })).toThrow(/needs about [\d.]+ GB of memory at once.*a job on this studio may use \d+ MB/);
  });
});
