// A distributed scan's Redis may be shared with others, and anyone who can write to it can queue
// jobs and write result keys. These tests attack a real worker process (`convlens index-worker`)
// and a real coordinator through their own redis-server, and check the refusal and what is left
// behind: the victim's keys, the store, the worker still alive and serving honest jobs.
import '../../src/methods/dataset/quiet.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { openSource } from '../../src/data/sources.js';
import { loadModel } from '../../src/models/load.js';
import { encodeChunk, scanChunk, type ChunkResult } from '../../src/methods/dataset/chunk.js';
import { scanIdOf, type ChunkJob } from '../../src/methods/dataset/distributed.js';
import { indexDataset, settingsOf } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import * as lancedb from '@lancedb/lancedb';
import { existsSync } from 'node:fs';
import { CLI, processGone, REDIS_SERVER, RedisServer, ROOT, startCli, waitFor } from './processes.js';
import { writeSpotModel, writeSpots, writeSpotsIdx } from './synthetic.js';
import { tempFolder } from '../support/temp-folder.js';

const N = 40;
const QUEUE = 'shared-scan';
let tmp: string;
/** the worker's data folder (model and dataset of the honest scans), and a private one beside it */
let shared: string;
let privateDir: string;
let redis: RedisServer;
let modelPath: string;
let data: string;
let worker: ChildProcess;
let workerLog = '';
let queue: Queue;
let engine: Engine;
/** the data of an honest job of the first scan (chunk 0) */
let honest: ChunkJob;

const scanOptions = (distributed: object): Parameters<typeof indexDataset>[3] => ({ layers: ['relu1', 'flatten'], k: 4, chunkSize: 10, modelPath, distributed: { redis: redis.url, queue: QUEUE, pollMs: 50, ...distributed } });

async function scan(store: string, distributed: object = {}): Promise<Awaited<ReturnType<typeof indexDataset>>> {
  const model = loadModel(modelPath, engine);
  return indexDataset(model, openSource(data), store, scanOptions(distributed));
}

/** Queues a job as a peer on the same Redis would, and waits for it to end; returns how. */
async function attack(id: string, jobData: unknown): Promise<{ state: string; reason: string; attempts: number }> {
  await queue.add('chunk', jobData, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
  await waitFor(async () => ['failed', 'completed'].includes(await queue.getJobState(id)), 30_000, `job ${id} to end`);
  const job = (await queue.getJob(id))!;
  return { state: await queue.getJobState(id), reason: job.failedReason ?? '', attempts: job.attemptsMade };
}

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

beforeAll(async () => {
  tmp = tempFolder('convlens-hostile-redis-');
  if (!REDIS_SERVER) return;
  redis = await RedisServer.start(tmp);
  engine = new Engine(nodeBackend());
  shared = join(tmp, 'shared');
  privateDir = join(tmp, 'private');
  mkdirSync(shared);
  mkdirSync(privateDir);
  modelPath = writeSpotModel(join(shared, 'spot.onnx'), engine);
  data = writeSpotsIdx(join(shared, 'data'), N);
  writeSpotModel(join(privateDir, 'spot.onnx'), engine);
  await writeSpots(join(privateDir, 'photos'), 12);
  worker = spawn(process.execPath, [CLI, 'index-worker', '--redis', redis.url, '--queue', QUEUE, '--threads', '1', '--data-root', shared], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
  queue = new Queue(QUEUE, { connection: { url: redis.url } });
  // an honest scan through the worker, and the job data it used
  const report = await scan(join(tmp, 'honest'));
  expect(report.scanned).toBe(N);
  const store = await DatasetStore.open(join(tmp, 'honest'));
  const m = store.manifest;
  honest = {
    scanId: scanIdOf(store),
    modelPath,
    modelFingerprint: m.model.fingerprint,
    modelInput: m.model.input,
    dataset: m.dataset.spec,
    datasetFingerprint: m.dataset.fingerprint,
    settings: settingsOf(m, 256),
    chunk: 0,
    start: 0,
    end: 10,
  };
  store.close();
}, 120_000);

afterAll(async () => {
  if (worker && alive(worker)) worker.kill('SIGTERM');
  await queue?.close();
  await engine?.dispose();
  redis?.stop();
  await new Promise((r) => setTimeout(r, 200));
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!REDIS_SERVER)('a worker on a shared Redis', () => {
  it('refuses malformed, oversized and key-hijacking jobs at once, naming the field, and keeps serving honest ones', async () => {
    redis.cli('set', 'victim:session', 'precious');
    const settings = honest.settings;
    const layer0 = settings.layers[0]!;
    const cases: [string, unknown, RegExp][] = [
      ['null', null, /job data must be an object, got null/],
      ['string', 'rm -rf /', /job data must be an object/],
      ['list', [honest], /job data must be an object/],
      ['extra-field', { ...honest, crops: true }, /job data\."crops" is not a field of it/],
      ['proto', JSON.parse(`{"__proto__": {"polluted": 1}, ${JSON.stringify(honest).slice(1)}`), /job data\."__proto__" is not a field of it/],
      ['key-hijack', { ...honest, resultKey: 'victim:session' }, /resultKey must be the chunk's own key "convlens:shared-scan:result:[0-9a-f]{16}:0", got "victim:session"/],
      ['scan-id', { ...honest, scanId: '../../x' }, /scanId must match/],
      ['ttl-negative', { ...honest, resultTtl: -5 }, /resultTtl must be a whole number in 1\.\.604800, got -5/],
      ['ttl-huge', { ...honest, resultTtl: 1e12 }, /resultTtl must be a whole number in 1\.\.604800/],
      ['end-huge', { ...honest, end: 1e12 }, /end must be a whole number in 1\.\.2147483647, got 1000000000000/],
      ['chunk-huge', { ...honest, end: 100_000 }, /end makes a chunk too large: 100000 images are more than the 65536/],
      ['end-past-data', { ...honest, start: 35, end: 50 }, /end is past the dataset's 40 images/],
      ['start-negative', { ...honest, start: -10 }, /start must be a whole number in 0\.\./],
      ['start-float', { ...honest, start: 0.5 }, /start must be a whole number/],
      ['k', { ...honest, settings: { ...settings, k: 1e9 } }, /settings\.k must be a whole number in 1\.\.1000/],
      ['batch', { ...honest, settings: { ...settings, batchSize: 0 } }, /settings\.batchSize must be a whole number in 1\.\.4096, got 0/],
      ['pool', { ...honest, settings: { ...settings, pool: 'sum' } }, /settings\.pool must be "avg" or "max"/],
      ['channels', { ...honest, settings: { ...settings, layers: [{ ...layer0, channels: 1 << 20, dim: 1 << 20 }] } }, /settings\.layers\[0\] says "relu1" is 1048576x/],
      ['layer-name', { ...honest, settings: { ...settings, layers: [{ ...layer0, name: 'no-such-layer' }] } }, /settings\.layers do not fit the model/],
      ['pixels', { ...honest, settings: { ...settings, pixelShape: [1, 40, 40] } }, /settings\.pixelShape must be \[1, <= 12, <= 12\]/],
      ['nan', JSON.parse(JSON.stringify({ ...honest, settings: { ...settings, k: Number.NaN } })), /settings\.k must be a whole number/],
    ];
    for (const [id, jobData, reason] of cases) {
      const end = await attack(`evil-${id}`, jobData);
      expect(end.state, id).toBe('failed');
      expect(end.reason, id).toMatch(reason);
      expect(end.reason, id).toMatch(/^refused by worker \d+: /);
      expect(end.attempts, `${id}: refused once, not retried`).toBe(1);
      expect(alive(worker), id).toBe(true);
    }
    // nothing was written for them: the victim's key is untouched, no result key appeared
    expect(redis.cli('get', 'victim:session')).toBe('precious');
    expect(redis.cli('ttl', 'victim:session')).toBe('-1');
    expect(redis.cli('--scan', '--pattern', 'convlens:*')).toBe('');
    expect(workerLog).toMatch(/refused job "evil-key-hijack": resultKey must be/);
    // and the same worker still serves an honest scan
    const again = await scan(join(tmp, 'after-attacks'));
    expect(again.scanned).toBe(N);
    expect(alive(worker)).toBe(true);
  }, 120_000);

  it('reads models and datasets only inside its data folders: a job naming a private folder, a symlink out, a list naming private images, /etc or /dev is refused', async () => {
    const photos = join(privateDir, 'photos');
    const privateSource = openSource(photos);
    symlinkSync(photos, join(shared, 'link-out'));
    writeFileSync(join(shared, 'list.txt'), `${join(photos, 'odd', 'spot-001.png')}\nsecret-line-never-shown.png\n`);
    // a job that names the private folder with its true fingerprint: the worker would scan it and leave its pixels in Redis
    const steal = { ...honest, dataset: photos, datasetFingerprint: privateSource.fingerprint, end: 10, settings: { ...honest.settings, batchSize: 4 } };
    const cases: [string, unknown, RegExp][] = [
      ['private-folder', steal, /^refused by worker \d+: dataset is refused: Dataset ".*private\/photos" is outside the folders this scan worker reads from\. Start the worker with the folders it may read \(CLI: --data-root <folder>/],
      ['symlink-out', { ...steal, dataset: join(shared, 'link-out') }, /dataset is refused: Dataset ".*link-out" is outside the folders this scan worker reads from/],
      ['combined', { ...steal, dataset: JSON.stringify([photos]) }, /dataset is refused: Dataset path ".*photos" is outside the folders/],
      ['list-naming-private', { ...steal, dataset: join(shared, 'list.txt') }, /dataset is refused: The image on line 1 of ".*list\.txt" is outside the folders/],
      ['etc', { ...steal, dataset: '/etc/passwd' }, /dataset is refused: Dataset "\/etc\/passwd" is outside the folders/],
      ['private-model', { ...honest, modelPath: join(privateDir, 'spot.onnx') }, /modelPath is refused: Model file ".*private\/spot\.onnx" is outside the folders this scan worker reads from/],
      ['dev-zero-model', { ...honest, modelPath: '/dev/zero' }, /modelPath is refused: Model file "\/dev\/zero" is outside the folders/],
    ];
    for (const [id, jobData, reason] of cases) {
      const end = await attack(`out-${id}`, jobData);
      expect(end.state, id).toBe('failed');
      expect(end.reason, id).toMatch(reason);
      expect(end.reason, id).not.toContain('secret-line');
      expect(end.attempts, id).toBe(1);
      expect(alive(worker), id).toBe(true);
    }
    expect(redis.cli('--scan', '--pattern', 'convlens:*')).toBe('');
    // the same worker still scans what lies in its folder
    const again = await scan(join(tmp, 'after-outside'));
    expect(again.scanned).toBe(N);
  }, 120_000);

  it('takes a job whose stored data is not JSON for what it is, not for a lost Redis, and still says so when Redis does go', async () => {
    const own = await RedisServer.start(tempFolder('own-redis-', tmp));
    let log = '';
    const w = spawn(process.execPath, [CLI, 'index-worker', '--redis', own.url, '--queue', 'raw', '--threads', '1', '--data-root', shared], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    w.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await waitFor(() => /listening on queue raw/.test(log), 30_000, 'the worker to listen');
      // a job as a peer could write it straight into Redis: its data is not JSON
      own.cli('hset', 'bull:raw:torn', 'name', 'chunk', 'data', '{"scanId": "0123', 'opts', '{}', 'timestamp', String(Date.now()), 'delay', '0', 'priority', '0');
      own.cli('lpush', 'bull:raw:wait', 'torn');
      own.cli('zadd', 'bull:raw:marker', '0', '0');
      await waitFor(() => /could not take a job/.test(log), 30_000, 'the worker to meet the torn job');
      expect(log).toMatch(/index-worker: could not take a job from the queue raw \(.*JSON.*\); it is left to BullMQ's stalled-job check, and this worker goes on/);
      expect(log).not.toMatch(/lost Redis/);
      expect(alive(w)).toBe(true);
      // Redis really goes: the worker says so (it had marked Redis away for good before)
      own.stop('SIGKILL');
      await waitFor(() => /lost Redis at/.test(log), 10_000, 'the worker to report the lost Redis');
    } finally {
      w.kill('SIGKILL');
      own.stop('SIGKILL');
    }
  }, 90_000);

  it('a scan of a dataset outside the worker\'s folders stops at once with the worker\'s reason, printed cleanly', async () => {
    const model = loadModel(modelPath, engine);
    const err = await indexDataset(model, openSource(join(privateDir, 'photos')), join(tmp, 'outside-scan'), scanOptions({})).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^Chunk [01] \(images (0\.\.9|10\.\.11)\) failed once: refused by worker \d+: dataset is refused: Dataset ".*private\/photos" is outside the folders this scan worker reads from\. Start the worker with the folders it may read \(CLI: --data-root <folder>, repeatable; its working folder when left out\)\.$/,
    );
    expect(alive(worker)).toBe(true);
  }, 60_000);

  it('finds its failed chunk behind 64 newer failures a peer planted on the queue, instead of waiting for ever', async () => {
    // a peer's 64 failed jobs, dated in the future: the newest 64 failures of the queue are theirs
    for (let i = 0; i < 64; i++) await queue.add('chunk', null, { jobId: `planted-${i}`, attempts: 1 });
    await waitFor(async () => (await queue.getFailedCount()) >= 64, 30_000, 'the planted jobs to fail');
    for (let i = 0; i < 64; i++) redis.cli('zadd', `bull:${QUEUE}:failed`, 'XX', String(Date.now() + 3_600_000 + i), `planted-${i}`);
    const model = loadModel(modelPath, engine);
    const t0 = Date.now();
    const outcome = indexDataset(model, openSource(join(privateDir, 'photos')), join(tmp, 'hidden-failure'), scanOptions({ checkMs: 500 })).then(
      () => undefined,
      (e: Error) => e,
    );
    const err = await Promise.race([outcome, new Promise<string>((r) => setTimeout(() => r('still waiting after 30 s'), 30_000))]);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^Chunk [01] \(images (0\.\.9|10\.\.11)\) failed once: refused by worker \d+: dataset is refused: /);
    expect(Date.now() - t0).toBeLessThan(30_000);
    for (let i = 0; i < 64; i++) await queue.remove(`planted-${i}`);
  }, 90_000);

  it('a coordinator refuses chunks workers would refuse (too many images, a result past 512 MB, a bad time to live) before queueing anything', async () => {
    const { runDistributed } = await import('../../src/methods/dataset/distributed.js');
    const store = { dir: join(tmp, 'never'), manifest: { model: { fingerprint: 'f' }, dataset: { fingerprint: 'd', count: 1e6 }, created: 'now' } } as never;
    const wide = { ...honest.settings, layers: [{ ...honest.settings.layers[0]!, channels: 4096, dim: 4096 }] };
    const cases: [ChunkJob['settings'], number, object, RegExp][] = [
      [honest.settings, 100_000, {}, /^A chunk of this scan is too large to hand over through Redis: 100000 images are more than the 65536 a chunk may hold\.$/],
      [wide, 40_000, {}, /^A chunk of this scan is too large to hand over through Redis: its result would take \d+ MB in Redis, above the 512 MB Redis holds in one value\.$/],
      [honest.settings, 10, { resultTtlSeconds: 0 }, /^A result's time to live in Redis must be 1 to 604800 s, got 0\.$/],
    ];
    for (const [settings, images, extra, message] of cases) {
      await expect(runDistributed(store, [{ chunk: 0, start: 0, end: images }], settings, { redis: redis.url, queue: 'never-queued', ...extra }, {})).rejects.toThrow(message);
    }
    expect(redis.cli('--scan', '--pattern', '*never-queued*')).toBe('');
  });

  it('index-worker refuses a --data-root that is not a folder', async () => {
    const end = await startCli(['index-worker', '--redis', redis.url, '--data-root', join(tmp, 'missing')]).exited;
    expect(end.code).not.toBe(0);
    expect(end.stderr).toMatch(/--data-root ".*missing" is not a folder\.\n {2}Give an existing folder/);
  });
});

describe.skipIf(!REDIS_SERVER)('a coordinator reading results from a shared Redis', () => {
  /** A coordinator (in this process) on `queue` with no worker yet, and the data of its jobs once queued. */
  async function coordinator(queueName: string, store: string): Promise<{ run: Promise<Awaited<ReturnType<typeof indexDataset>>>; notes: string[]; jobs: ChunkJob[]; q: Queue }> {
    const notes: string[] = [];
    const run = scan(store, { queue: queueName, log: (line: string) => notes.push(line), checkMs: 300 });
    run.catch(() => undefined);
    const q = new Queue(queueName, { connection: { url: redis.url } });
    await waitFor(async () => (await q.getWaitingCount()) === N / 10, 30_000, 'the coordinator to queue its chunks');
    const jobs = (await q.getWaiting()).map((j) => j.data as ChunkJob).sort((a, b) => a.chunk - b.chunk);
    return { run, notes, jobs, q };
  }

  /** The honest result of a job, computed here as a worker would. */
  async function honestResult(j: ChunkJob): Promise<ChunkResult> {
    return scanChunk(loadModel(modelPath, engine), openSource(data), j.settings, j.chunk, j.start, j.end);
  }

  /** What a reader of the store sees: its committed chunks and their rows, each once. */
  async function storeState(dir: string): Promise<{ chunks: number[]; ids: number[] }> {
    const store = await DatasetStore.open(dir);
    try {
      const chunks = [...(await store.doneChunks())].sort((a, b) => a - b);
      const v = await store.vectors({ layer: 'flatten' });
      return { chunks, ids: Array.from(v.ids).sort((a, b) => a - b) };
    } finally {
      store.close();
    }
  }

  it('refuses torn, mis-sized, non-finite, out-of-range and oversized values, queues those chunks again, and ends with the honest store', async () => {
    const { run, notes, jobs, q } = await coordinator('tamper', join(tmp, 'tampered'));
    const key = (c: number): string => `convlens:tamper:result:${jobs[0]!.scanId}:${c}`;
    const good = await Promise.all(jobs.map(honestResult));
    const wire = (r: ChunkResult): Record<string, unknown> => JSON.parse(encodeChunk(r)) as Record<string, unknown>;
    // chunk 0: torn; chunk 1: another chunk's result; chunk 2: features of the wrong length;
    // chunk 3: NaN, then a top-k image outside the chunk; then chunk 0 again: a 20 MB value
    redis.cli('set', key(0), encodeChunk(good[0]!).slice(0, 200));
    redis.cli('set', key(1), encodeChunk(good[2]!));
    const short = wire(good[2]!);
    (short['layers'] as Record<string, unknown>[])[1]!['features'] = Buffer.from(new Float32Array(3).buffer).toString('base64');
    redis.cli('set', key(2), JSON.stringify(short));
    const nan = { ...good[3]!, pixels: good[3]!.pixels.slice() };
    nan.pixels[5] = Number.NaN;
    redis.cli('set', key(3), encodeChunk(nan));
    await waitFor(() => redis.cli('exists', key(3)) === '0', 10_000, 'the coordinator to read chunk 3');
    const outside = { ...good[3]!, layers: good[3]!.layers.map((l) => ({ ...l, topImage: l.topImage.map(() => 0) })) };
    redis.cli('set', key(3), encodeChunk(outside));
    await waitFor(() => redis.cli('exists', key(3)) === '0', 10_000, 'the coordinator to read chunk 3 again');
    await waitFor(() => redis.cli('exists', key(0)) === '0', 10_000, 'the coordinator to read chunk 0');
    redis.cli('eval', "redis.call('set', KEYS[1], string.rep('x', 20 * 1024 * 1024))", '1', key(0));
    await waitFor(() => redis.cli('exists', key(0)) === '0', 10_000, 'the coordinator to refuse the large value');
    // nothing was committed from them
    expect((await storeState(join(tmp, 'tampered'))).chunks).toEqual([]);
    // now a worker: every chunk is scanned honestly and the scan completes
    const w = spawn(process.execPath, [CLI, 'index-worker', '--redis', redis.url, '--queue', 'tamper', '--threads', '1', '--data-root', shared], { cwd: ROOT, stdio: 'ignore' });
    try {
      const report = await run;
      expect(report.scanned).toBe(N);
    } finally {
      w.kill('SIGTERM');
      await q.close();
    }
    const text = notes.join('\n');
    expect(text).toMatch(/refused the value found in Redis for chunk 0 \(the result is not JSON \(torn or not written by a worker\)\); the chunk is queued again/);
    expect(text).toMatch(/chunk 1 \(the result's chunk must be 1 \(the chunk's plan\), got 2\)/);
    expect(text).toMatch(/chunk 2 \(the result's layers\[1\]\.features must hold 20 values \(80 bytes in base64\), got 16 characters\)/);
    expect(text).toMatch(/chunk 3 \(the result's pixels holds NaN at 5\)/);
    expect(text).toMatch(/chunk 3 \(the result's layers\[0\]\.topImage holds 0 at 0, outside 30\.\.39\)/);
    expect(text).toMatch(/chunk 0 \(the value is 20971520 bytes, more than the \d+ a result of this chunk takes\)/);
    // the store holds exactly the honest results
    const state = await storeState(join(tmp, 'tampered'));
    expect(state.chunks).toEqual([0, 1, 2, 3]);
    expect(state.ids).toEqual(Array.from({ length: N }, (_, i) => i));
    const store = await DatasetStore.open(join(tmp, 'tampered'));
    try {
      const v = await store.vectors({ layer: 'relu1' });
      const byId = new Map(Array.from(v.ids).map((id, i) => [id, i]));
      for (const r of good) {
        for (let i = r.start; i < r.end; i++) {
          const row = byId.get(i)!;
          const want = r.layers[0]!.features.subarray((i - r.start) * v.dim, (i - r.start + 1) * v.dim);
          expect(Array.from(v.data.subarray(row * v.dim, (row + 1) * v.dim))).toEqual(Array.from(want));
        }
      }
      for (const c of [0, 1]) expect((await store.top('relu1', c)).every((t) => t.image >= 0 && t.image < N)).toBe(true);
    } finally {
      store.close();
    }
    expect(redis.cli('--scan', '--pattern', 'convlens:tamper:*')).toBe('');
  }, 120_000);

  it('stops with a clear message when a chunk\'s key keeps being overwritten (a hash, then garbage), leaving the store consistent, and the rerun completes', async () => {
    const store = join(tmp, 'overwritten');
    const { run, jobs, q } = await coordinator('tamper-2', store);
    const key = `convlens:tamper-2:result:${jobs[0]!.scanId}:1`;
    redis.cli('hset', key, 'field', 'value');
    await waitFor(() => redis.cli('exists', key) === '0', 10_000, 'the coordinator to read chunk 1');
    for (let i = 0; i < 2; i++) {
      redis.cli('set', key, `{"chunk":1,"garbage":${i}}`);
      await waitFor(() => redis.cli('exists', key) === '0', 10_000, 'the coordinator to read chunk 1 again');
    }
    const err = await run.then(() => undefined, (e: Error) => e);
    await q.close();
    expect(err?.message).toMatch(/^The result of chunk 1 \(images 10\.\.19\) in Redis was refused 3 times; the last: the result\."garbage" is not a field of it\.$/);
    expect((err as { hint?: string }).hint).toMatch(/^Something other than this scan's workers writes its keys on redis:\/\/127\.0\.0\.1:\d+: use a Redis or a queue of your own \(CLI: --queue\), then run the same command again to continue \(0 of 40 images are in the store\)\.$/);
    expect(await storeState(store)).toEqual({ chunks: [], ids: [] });
    const w = spawn(process.execPath, [CLI, 'index-worker', '--redis', redis.url, '--queue', 'tamper-2', '--threads', '1', '--data-root', shared], { cwd: ROOT, stdio: 'ignore' });
    try {
      expect((await scan(store, { queue: 'tamper-2' })).scanned).toBe(N);
    } finally {
      w.kill('SIGTERM');
    }
    expect((await storeState(store)).chunks).toEqual([0, 1, 2, 3]);
    expect(redis.cli('--scan', '--pattern', 'convlens:tamper-2:*')).toBe('');
  }, 120_000);
});

/** The rows in a store's tables, read raw (no reader filter): exactly those of its committed chunks, each once; returns the chunks. */
async function onlyCommittedRows(dir: string): Promise<number[]> {
  const db = await lancedb.connect(dir);
  try {
    const names = await db.tableNames();
    const read = async (table: string, column: string): Promise<number[]> =>
      names.includes(table) ? ((await (await db.openTable(table)).query().select([column]).toArray()) as Record<string, number>[]).map((r) => r[column]!).sort((a, b) => a - b) : [];
    const committed = await read('chunks', 'chunk');
    expect(new Set(committed).size).toBe(committed.length);
    expect(await read('images', 'id')).toEqual(committed.flatMap((c) => Array.from({ length: 10 }, (_, i) => c * 10 + i)));
    return committed;
  } finally {
    db.close();
  }
}

describe.skipIf(!REDIS_SERVER)('peers of a shared Redis', () => {
  /** `convlens index` of the spot data on `queue` with one spawned worker, each chunk at least 500 ms, holding the commit of chunk 0 on `hold`. */
  const coordinatorCli = (store: string, queueName: string, hold?: string): ReturnType<typeof startCli> =>
    startCli(['index', data, '--model', modelPath, '--layers', 'relu1,flatten', '--chunk', '10', '--store', store, '--redis', redis.url, '--queue', queueName, '--spawn-workers', '1'], {
      CONVLENS_FAULT_CHUNK_MS: '500',
      ...(hold ? { CONVLENS_FAULT_HOLD_COMMIT: `0:${hold}` } : {}),
    });
  const workerPids = (stderr: string): number[] => (/started \d+ local workers? \(pid ([\d, ]+)\)/.exec(stderr)?.[1] ?? '').split(', ').filter(Boolean).map(Number);

  it('resumes a queue another client pauses mid-scan, with a note, and completes', async () => {
    const store = join(tmp, 'paused-mid-scan');
    const hold = join(tmp, 'hold-pause');
    const run = coordinatorCli(store, 'q-paused', hold);
    await waitFor(() => existsSync(hold), 60_000, 'the coordinator to commit chunk 0');
    const peer = new Queue('q-paused', { connection: { url: redis.url } });
    await peer.pause();
    await peer.close();
    rmSync(hold);
    const t0 = Date.now();
    const end = await Promise.race([run.exited, new Promise<undefined>((r) => setTimeout(r, 30_000))]);
    if (!end) run.child.kill('SIGKILL');
    expect(end, 'the scan ends, not waits for ever').toBeDefined();
    expect(end!.code, end!.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(end!.stderr).toMatch(/note: the queue "q-paused" on redis:\/\/127\.0\.0\.1:\d+ was paused during the scan, by another client of that Redis \(a pause stalls every scan on the queue\); resumed it/);
    expect(await onlyCommittedRows(store)).toEqual([0, 1, 2, 3]);
    expect(redis.cli('hget', 'bull:q-paused:meta', 'paused')).toBe('');
  }, 90_000);

  it('stops with a clear message when Redis reaches its maxmemory mid-scan (noeviction), keeps the committed chunks, and the rerun completes', async () => {
    const store = join(tmp, 'redis-full');
    const hold = join(tmp, 'hold-full');
    const run = coordinatorCli(store, 'q-full', hold);
    await waitFor(() => existsSync(hold), 60_000, 'the coordinator to commit chunk 0');
    const pids = workerPids(run.stderr());
    try {
      redis.cli('config', 'set', 'maxmemory-policy', 'noeviction');
      redis.cli('config', 'set', 'maxmemory', '1mb');
      rmSync(hold);
      const t0 = Date.now();
      const end = await Promise.race([run.exited, new Promise<undefined>((r) => setTimeout(r, 30_000))]);
      if (!end) run.child.kill('SIGKILL');
      expect(end, 'the scan ends, not waits for ever').toBeDefined();
      expect(end!.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(end!.stderr).toMatch(
        /convlens: Redis at redis:\/\/127\.0\.0\.1:\d+ is full: it holds [\d.]+ MB, over its maxmemory of 1\.0 MB \(policy noeviction\), and refuses the writes that workers need to take chunks and leave results\.\n {2}Free memory in that Redis or raise its maxmemory \(CONFIG SET maxmemory\), then run the same command again to continue \(\d+ of 40 images are in the store\)\./,
      );
      await waitFor(() => pids.every(processGone), 10_000, 'the spawned worker to end');
      const kept = await onlyCommittedRows(store);
      expect(kept).toContain(0);
      // still full: the rerun says so at once, and writes nothing
      const again = await coordinatorCli(store, 'q-full').exited;
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/Redis at .* is full/);
      expect(await onlyCommittedRows(store)).toEqual(kept);
    } finally {
      redis.cli('config', 'set', 'maxmemory', '0');
    }
    const rerun = await coordinatorCli(store, 'q-full').exited;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await onlyCommittedRows(store)).toEqual([0, 1, 2, 3]);
    expect(redis.cli('--scan', '--pattern', 'convlens:q-full:*')).toBe('');
  }, 120_000);
});

describe('queue names', () => {
  // The CLI's rule (--queue) holds for every caller: BullMQ itself refuses only ":", with a bare Error.
  it('are refused by the coordinator and the worker when they hold more than letters, digits, "_", "-" or "."', async () => {
    const { runScanWorker, runDistributed } = await import('../../src/methods/dataset/distributed.js');
    const stop = AbortSignal.abort();
    for (const name of ['a:result:0123456789abcdef', 'q*', 'with space', '', 'x'.repeat(129)]) {
      await expect(runScanWorker({ redis: 'redis://127.0.0.1:1', queue: name, abandon: stop }), name).rejects.toThrow(/^The queue name .* is not 1 to 128 letters, digits, "_", "-" or "\."\.$/);
      await expect(runDistributed({ manifest: {} } as never, [], {} as never, { redis: 'redis://127.0.0.1:1', queue: name }, {}), name).rejects.toThrow(/^The queue name .* is not 1 to 128/);
    }
  });
});
