// The studio stays responsive and bounded under heavy work (docs/security.md, "Responsive and
// bounded"). Real HTTP to a listening studio: a UMAP embedding of 2,000 images, then a heavy
// explanation (occlusion with an 8 px window at stride 2, Score-CAM and Integrated Gradients on
// SqueezeNet at 224 px) beside a feature visualization of all 1000 classes, both cancelled. Meanwhile
// /api/health is polled every 150 ms: every answer within 0.5 s; the server's memory with its
// workers stays under 3 GB; cancelling takes effect within 3 s; predictions are right afterwards.
// And `convlens studio` stopped with SIGTERM mid-job exits within seconds, leaving no workers.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { residentBytes } from '../../src/interfaces/server/workers/pool.js';
import { tempFolder } from '../support/temp-folder.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'convlens.js');
const SQUEEZENET = ['/work/shared/models/squeezenet1.1/squeezenet1.1.onnx', join(ROOT, 'assets', 'models', 'squeezenet1.1', 'squeezenet1.1.onnx')].find((p) => existsSync(p))!;
const GB = 1 << 30;
const CAT = 'photos/chelsea.png';
// ImageNet classes of the cat in chelsea.png (tabby, tiger cat, Egyptian cat): the model's README
const CAT_CLASSES = [281, 282, 285];

const engine = new Engine(nodeBackend(), { threads: 2 });
let studio: Studio;
let base: string;
let stores: string;
const previousStores = process.env['CONVLENS_STORES'];

interface Health {
  jobsRunning: number;
  jobsQueued: number;
  workers: { lane: string; pid?: number; state: string; task?: string; rssBytes: number }[];
  memory: { server: number; workers: number; total: number; killed: Record<string, number> };
}

const headers = (): Record<string, string> => ({ origin: base, 'content-type': 'application/json' });
async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(base + path, { method: 'POST', headers: headers(), body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}
const get = async <T>(path: string): Promise<T> => (await (await fetch(base + path)).json()) as T;
const jobState = async (id: string): Promise<string> => (await get<{ state: string }>(`/api/jobs/${id}`)).state;

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls /api/health every `every` ms until stopped: each answer's latency, and the memory of the server and its workers. */
function pollHealth(every = 150): { count: () => number; stop: () => Promise<{ latencies: number[]; maxRss: number; last?: Health }> } {
  const latencies: number[] = [];
  let maxRss = 0;
  let last: Health | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const h = await get<Health>('/api/health');
      latencies.push(performance.now() - t0);
      last = h;
      // Measured here, not taken from the answer: this process plus every worker it lists.
      maxRss = Math.max(maxRss, residentBytes('self') + h.workers.reduce((a, w) => a + (w.pid ? residentBytes(w.pid) : 0), 0));
      await new Promise((r) => setTimeout(r, every));
    }
  })();
  return {
    count: () => latencies.length,
    // idempotent: a test's finally stops it too
    stop: async () => {
      running = false;
      await loop.catch(() => undefined);
      return { latencies, maxRss, ...(last ? { last } : {}) };
    },
  };
}

async function until(what: string, test: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!(await test())) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - t0;
}

/** A job's latest progress (its event stream replays it first). */
async function latestProgress(id: string): Promise<{ phase: string; done: number; total: number }> {
  const res = await fetch(`${base}/api/jobs/${id}/events`);
  const reader = res.body!.getReader();
  let text = '';
  let m: RegExpExecArray | null = null;
  while (!(m = /event: progress\ndata: (.*)\n\n/.exec(text))) text += new TextDecoder().decode((await reader.read()).value);
  void reader.cancel();
  const p = (JSON.parse(m[1]!) as { progress: { phase?: string; done: number; total: number } }).progress;
  return { phase: p.phase ?? '', done: p.done, total: p.total };
}

const summary = (xs: number[]): string => `n=${xs.length} median=${[...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(1)} max=${Math.max(...xs).toFixed(1)} ms`;

beforeAll(async () => {
  stores = tempFolder('convlens-load-stores-');
  process.env['CONVLENS_STORES'] = stores;
  studio = await createStudio({ engine, modelPath: SQUEEZENET, jobWorkers: 2, webDir: join(ROOT, 'no-such-web-dir') });
  base = (await studio.app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
});

afterAll(async () => {
  await studio?.app.close();
  await engine.dispose();
  if (previousStores === undefined) delete process.env['CONVLENS_STORES'];
  else process.env['CONVLENS_STORES'] = previousStores;
  rmSync(stores, { recursive: true, force: true });
});

const squeezenetId = (): string => studio.models.list().find((m) => m.source === 'path')!.id;

describe('a studio under heavy work', () => {
  it('answers /api/health in time during a UMAP embedding of 2,000 images', async () => {
    const index = await post('/api/dataset/index', { model: 'builtin', dataset: 'fashion-mnist-subset', id: 'load' });
    expect(index.status, JSON.stringify(index.json)).toBe(202);
    await until('the index', async () => (await jobState(index.json['job'] as string)) === 'done', 120_000);
    const store = await get<{ layers: { name: string }[]; count: number }>('/api/dataset/stores/load');
    expect(store.count).toBe(2000);
    const poll = pollHealth();
    const t0 = performance.now();
    try {
      const embed = await post('/api/dataset/stores/load/embed', { layer: store.layers.at(-1)!.name, method: 'umap', sample: 2000 });
      expect(embed.status).toBe(202);
      await until('the embedding', async () => (await jobState(embed.json['job'] as string)) === 'done', 180_000);
    } finally {
      await poll.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const { latencies } = await poll.stop();
    console.log(`UMAP of 2000 points: ${seconds.toFixed(1)} s; /api/health meanwhile: ${summary(latencies)}`);
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(500);
  });

  it('stays responsive and under 3 GB through a heavy explanation and a 1000-class feature visualization, cancels both within 3 s, and predicts correctly afterwards', async () => {
    const model = squeezenetId();
    const before = (await post('/api/predict', { model, image: CAT, k: 3 })).json as { top: { index: number; probability: number }[] };
    expect(CAT_CLASSES).toContain(before.top[0]!.index);

    const poll = pollHealth();
    try {
      // In this order the gradient runs (the largest) come first, then Score-CAM, then occlusion.
      const explain = await post('/api/explain', { model, image: CAT, methods: ['integrated-gradients', 'scorecam', 'occlusion'], params: { occlusion: { window: 8, stride: 2 } } });
      expect(explain.status, JSON.stringify(explain.json)).toBe(202);
      const featviz = await post('/api/synthesize/featviz', { model, params: { objective: 'class:*', steps: 64 } });
      expect(featviz.status, JSON.stringify(featviz.json)).toBe(202);
      const jobs = [explain.json['job'] as string, featviz.json['job'] as string];

      // Both run at once, each on its own worker, computing (past their setup) for a while.
      await until('both jobs to run', async () => (await Promise.all(jobs.map(jobState))).every((s) => s === 'running'), 60_000);
      await until('both jobs to compute', async () => (await Promise.all(jobs.map(latestProgress))).every((p) => p.done > 0), 120_000);
      const samplesBefore = poll.count();
      await new Promise((r) => setTimeout(r, 10_000));
      // Every 150 ms plus at most 500 ms per answer: at least 15 answers in the 10 s both jobs compute.
      const samplesWhileBusy = poll.count() - samplesBefore;
      const busy = await get<Health>('/api/health');
      expect(busy.workers.filter((w) => w.lane === 'job' && w.state === 'busy').map((w) => w.task).sort()).toEqual(['explain', 'synthesize']);
      // The 1000 classes run as a sequence of batches that fit the job's memory.
      const phases = (await Promise.all(jobs.map(latestProgress))).map((p) => `${p.phase} ${p.done.toFixed(1)}/${p.total}`);
      const batches = Number(/batch \d+\/(\d+)/.exec(phases[1]!)?.[1]);
      expect(batches).toBeGreaterThan(1);

      // Cancel both; each must be cancelled within 3 s, its worker idle or gone.
      const cancelMs: number[] = [];
      await Promise.all(
        jobs.map(async (id) => {
          const t0 = performance.now();
          const del = await fetch(`${base}/api/jobs/${id}`, { method: 'DELETE', headers: { origin: base } });
          expect(del.status).toBe(200);
          await until('the cancel', async () => (await jobState(id)) === 'cancelled', 3000);
          cancelMs.push(performance.now() - t0);
        }),
      );
      // A worker killed past the grace shows as "stopping" until its exit is seen: give it the rest
      // of the 3 s the cancel may take.
      const jobWorkersIdle = async (): Promise<boolean> => (await get<Health>('/api/health')).workers.filter((w) => w.lane === 'job').every((w) => w.state === 'idle' || w.pid === undefined);
      await until('the cancelled jobs\' workers to be idle or gone', jobWorkersIdle, Math.max(500, 3000 - Math.max(...cancelMs)));
      const after = await get<Health>('/api/health');
      expect(after.jobsRunning).toBe(0);
      const { latencies, maxRss } = await poll.stop();
      console.log(
        `heavy explain (at "${phases[0]}") + featviz ("${phases[1]}"): /api/health ${summary(latencies)}; cancel ${cancelMs.map((m) => m.toFixed(0)).join(', ')} ms; ` +
          `peak RSS (server + workers, sampled) ${(maxRss / GB).toFixed(2)} GB; workers killed: ${JSON.stringify(after.memory.killed)}`,
      );
      expect(Math.max(...latencies)).toBeLessThan(500);
      expect(samplesWhileBusy).toBeGreaterThanOrEqual(15);
      expect(Math.max(...cancelMs)).toBeLessThan(3000);
      expect(maxRss).toBeLessThan(3 * GB);
      // Planned batches kept every worker within its share: none had to be stopped for memory.
      expect(after.memory.killed['memory']).toBe(0);

      const again = (await post('/api/predict', { model, image: CAT, k: 3 })).json as { top: { index: number; probability: number }[] };
      expect(again.top.map((t) => t.index)).toEqual(before.top.map((t) => t.index));
      expect(again.top[0]!.probability).toBeCloseTo(before.top[0]!.probability, 5);
    } finally {
      await poll.stop();
    }
  });
});

describe('convlens studio', () => {
  it('exits within seconds of SIGTERM mid-job, leaving no worker processes', async () => {
    const child = spawn('node', [CLI, 'studio', '--port', '0', '--model', SQUEEZENET], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /ConvLens studio: (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`studio exited: ${stderr}`)));
      });
      base = url.replace('localhost', '127.0.0.1').replace(/\/$/, '');
      const models = await get<{ models: { id: string; source: string }[] }>('/api/models');
      const model = models.models.find((m) => m.source === 'path')!.id;
      const job = await post('/api/explain', { model, image: CAT, methods: ['occlusion'], params: { occlusion: { window: 8, stride: 2 } } });
      expect(job.status).toBe(202);
      await until('the job to run', async () => (await get<Health>('/api/health')).workers.some((w) => w.lane === 'job' && w.state === 'busy'), 60_000);
      await new Promise((r) => setTimeout(r, 2000)); // mid-job: engine runs under way
      const pids = (await get<Health>('/api/health')).workers.map((w) => w.pid).filter((p): p is number => p !== undefined);
      expect(pids.length).toBeGreaterThanOrEqual(1);
      const t0 = performance.now();
      child.kill('SIGTERM');
      const code = await exited;
      const ms = performance.now() - t0;
      console.log(`convlens studio exited ${ms.toFixed(0)} ms after SIGTERM (code ${code}); workers ${pids.join(', ')}`);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5000);
      for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
