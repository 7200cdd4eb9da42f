// A store is never corrupted by an unlucky or hostile user: two writers at once (real CLI
// processes, and two studio jobs), a writer killed with SIGKILL between writing a chunk's rows
// and its commit marker, readers of the store it leaves, and the resume; plus the dataset CLI's
// errors for bad splits, embedding settings and absurd file headers. The writer is stopped at
// the worst moment by CONVLENS_FAULT_HOLD_COMMIT (store.ts), so nothing here depends on timing.
// Every check looks at the data left behind (raw table rows, ids, commit log), not exit codes only.
import '../../src/methods/dataset/quiet.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConvLensError } from '../../src/engine/errors.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { openSource } from '../../src/data/sources.js';
import { loadModel } from '../../src/models/load.js';
import { acquireWriterLock, WRITER_LOCK } from '../../src/methods/dataset/lock.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { ROOT, startCli, waitFor } from './processes.js';
import { writeSpotModel, writeSpotsIdx } from './synthetic.js';
import { pageInject } from '../server/page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const N = 100;
const tmp = tempFolder('convlens-integrity-');
const engine = new Engine(nodeBackend());
let modelPath: string;
let data: string;
const reference = join(tmp, 'reference');

/** `convlens index` of the spot dataset: 10 chunks of 10 images, a commit every 2 chunks. */
const indexArgs = (store: string): string[] => ['index', data, '--model', modelPath, '--layers', 'relu1,flatten', '--chunk', '10', '--commit-every', '20', '--store', store];

/** What the tables hold, read directly (no reader filter): rows per table, image ids, commit log. */
async function raw(dir: string): Promise<{ rows: Record<string, number>; ids: number[]; committed: number[] }> {
  const db = await lancedb.connect(dir);
  try {
    const rows: Record<string, number> = {};
    for (const name of await db.tableNames()) rows[name] = await (await db.openTable(name)).countRows();
    const ids = rows['images'] ? ((await (await db.openTable('images')).query().select(['id']).toArray()) as { id: number }[]).map((r) => r.id) : [];
    const committed = rows['chunks'] ? ((await (await db.openTable('chunks')).query().select(['chunk']).toArray()) as { chunk: number }[]).map((r) => r.chunk) : [];
    return { rows, ids: ids.sort((a, b) => a - b), committed: committed.sort((a, b) => a - b) };
  } finally {
    db.close();
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A complete store holds every image exactly once in every data table, and each chunk once in the log. */
async function expectComplete(dir: string): Promise<void> {
  const r = await raw(dir);
  expect(r.ids).toEqual(range(N));
  expect(r.committed).toEqual(range(N / 10));
  for (const t of ['images', 'pixels', 'features_0', 'features_1']) expect(r.rows[t], t).toBe(N);
  const store = await DatasetStore.open(dir);
  try {
    expect(store.manifest.complete).toBeDefined();
    expect(await store.count()).toBe(N);
  } finally {
    store.close();
  }
  expect(existsSync(join(dir, WRITER_LOCK))).toBe(false);
}

beforeAll(async () => {
  modelPath = writeSpotModel(join(tmp, 'spot.onnx'), engine);
  data = writeSpotsIdx(join(tmp, 'data'), N);
  await indexDataset(loadModel(modelPath, engine), openSource(data), reference, { layers: ['relu1', 'flatten'], chunkSize: 10, modelPath });
});

afterAll(async () => {
  delete process.env['CONVLENS_FAULT_HOLD_COMMIT'];
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('one writer per store', () => {
  it('refuses a second `convlens index` while the first writes, naming it; the store ends with each image once', async () => {
    const store = join(tmp, 'two-writers');
    const hold = join(tmp, 'hold-two-writers');
    const first = startCli(indexArgs(store), { CONVLENS_FAULT_HOLD_COMMIT: `3:${hold}` });
    await waitFor(() => existsSync(hold), 60_000, 'the first writer to reach chunk 3');
    // the first writer stands between the rows of chunks 2-3 and their commit marker
    expect((await raw(store)).rows['images']).toBe(40);

    const second = await startCli(indexArgs(store)).exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is being written by another index run: pid ${first.child.pid} on ${hostname()}`);
    expect(second.stderr).toMatch(/\("convlens index .*--store .*two-writers"\), since \d{4}-\d\d-\d\dT/);
    expect(second.stderr).toMatch(/Wait for it to finish .* or use another --store/);
    expect(second.stderr).not.toMatch(/at .*\.js:\d+/);
    // the refused writer changed nothing
    expect((await raw(store)).rows['images']).toBe(40);

    rmSync(hold);
    const done = await first.exited;
    expect(done.code, done.stderr).toBe(0);
    await expectComplete(store);
  });

  it('refuses a second studio index job on the same store id, and a CLI writer on the studio\'s store', async () => {
    const stores = join(tmp, 'studio-stores');
    const hold = join(tmp, 'hold-studio');
    process.env['CONVLENS_STORES'] = stores;
    let studio: Studio | undefined;
    try {
      studio = await createStudio({ engine, webDir: join(ROOT, 'no-such-web-dir') });
      const app = { inject: pageInject(() => studio!) };
      process.env['CONVLENS_FAULT_HOLD_COMMIT'] = `0:${hold}`;
      const first = await app.inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', limit: 300, id: 'shared' } });
      expect(first.statusCode).toBe(202);
      await waitFor(() => existsSync(hold), 60_000, 'the studio job to reach its commit');
      delete process.env['CONVLENS_FAULT_HOLD_COMMIT'];
      // the job writes from the studio's job worker process
      const writerPid = studio.pool.stats().workers.find((w) => w.lane === 'job' && w.state === 'busy')!.pid!;

      const second = await app.inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', limit: 300, id: 'shared' } });
      expect(second.statusCode).toBe(409);
      expect(second.json().error.message).toContain(`is being written by another index run: pid ${writerPid} on ${hostname()} ("studio index job (store shared)")`);
      // readers hear how much is in and who writes it
      const info = (await app.inject({ method: 'GET', url: '/api/dataset/stores/shared' })).json();
      expect(info).toMatchObject({ complete: false, committed: 0, count: 300, writer: { pid: writerPid, command: 'studio index job (store shared)' } });

      const cli = await startCli(['index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '300', '--store', join(stores, 'shared')]).exited;
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(`pid ${writerPid} on ${hostname()} ("studio index job (store shared)")`);

      rmSync(hold);
      const jobId = first.json().job as string;
      await waitFor(async () => !['queued', 'running'].includes((await app.inject({ method: 'GET', url: `/api/jobs/${jobId}` })).json().state), 60_000, 'the studio job');
      expect((await app.inject({ method: 'GET', url: `/api/jobs/${jobId}` })).json().state).toBe('done');
      const after = (await app.inject({ method: 'GET', url: '/api/dataset/stores/shared' })).json();
      expect(after).toMatchObject({ complete: true, count: 300 });
      const r = await raw(join(stores, 'shared'));
      expect(r.ids).toEqual(range(300));
      expect(r.rows['pixels']).toBe(300);
    } finally {
      delete process.env['CONVLENS_FAULT_HOLD_COMMIT'];
      delete process.env['CONVLENS_STORES'];
      await studio?.app.close();
    }
  });

  it('takes over the lock of a writer that is gone, and not one held on another host or by this process', async () => {
    const dir = join(tmp, 'locks');
    // a pid that surely ended: a process that ran and exited
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const staleLock = { pid: deadPid, hostname: hostname(), started: new Date(Date.now() - 60_000).toISOString(), command: 'convlens index (killed)' };
    rmSync(dir, { recursive: true, force: true });
    acquireWriterLock(dir, 'setup').release();
    writeFileSync(join(dir, WRITER_LOCK), JSON.stringify(staleLock));
    const lock = acquireWriterLock(dir, 'test writer');
    expect(lock.replaced).toEqual(staleLock);
    expect(JSON.parse(readFileSync(join(dir, WRITER_LOCK), 'utf8'))).toMatchObject({ pid: process.pid, command: 'test writer' });
    // held by this process: a second acquisition (a second studio job) is refused
    expect(() => acquireWriterLock(dir, 'another')).toThrow(/being written by another index run: pid \d+ .*"test writer"/);
    lock.release();
    expect(existsSync(join(dir, WRITER_LOCK))).toBe(false);
    // our own pid in a lock this process never took: left by an earlier process with the same pid
    writeFileSync(join(dir, WRITER_LOCK), JSON.stringify({ ...staleLock, pid: process.pid }));
    acquireWriterLock(dir, 'after pid reuse').release();
    // another host: its pid cannot be checked from here, so the lock stands, with the way out
    writeFileSync(join(dir, WRITER_LOCK), JSON.stringify({ ...staleLock, hostname: 'elsewhere' }));
    let refused: ConvLensError | undefined;
    try {
      acquireWriterLock(dir, 'x');
    } catch (e) {
      refused = e as ConvLensError;
    }
    expect(refused?.describe()).toMatch(/pid \d+ on elsewhere .*\n {2}Wait for it to finish, or use another --store\. If no ConvLens runs on elsewhere any more, delete .*writer\.lock\./);
  });
});

describe('a writer killed mid-commit (SIGKILL)', () => {
  const store = join(tmp, 'killed');

  it('leaves rows that readers never see, and a store the printed command resumes to exactly N rows', async () => {
    const hold = join(tmp, 'hold-kill');
    const writer = startCli(indexArgs(store), { CONVLENS_FAULT_HOLD_COMMIT: `5:${hold}` });
    await waitFor(() => existsSync(hold), 60_000, 'the writer to reach chunk 5');
    writer.child.kill('SIGKILL');
    expect((await writer.exited).signal).toBe('SIGKILL');
    // chunks 4-5 are written but not committed: 60 rows, 4 chunks in the log
    const before = await raw(store);
    expect(before.ids).toEqual(range(60));
    expect(before.committed).toEqual([0, 1, 2, 3]);
    expect(existsSync(join(store, WRITER_LOCK))).toBe(true); // the dead writer's, stale

    const s = await DatasetStore.open(store);
    try {
      expect(await s.status()).toEqual({ complete: false, images: 40, total: N, chunks: 4, totalChunks: 10 });
      expect(await s.count()).toBe(40);
      expect([...(await s.images()).keys()].sort((a, b) => a - b)).toEqual(range(40));
      for (const space of ['pixels', { layer: 'relu1' }, { layer: 'flatten' }] as const) expect(Array.from((await s.vectors(space)).ids)).toEqual(range(40));
      await expect(s.vectors('pixels', [45])).rejects.toThrow(/Image 45 is not in the store yet/);
      // the nearest neighbours of an uncommitted image (its exact pixels are in the table) are committed ones, each once
      const ref = await DatasetStore.open(reference);
      const q = (await ref.vectors('pixels', [45])).data;
      ref.close();
      const near = await s.nearest('pixels', q, 20, 'l2', { exact: true });
      expect(near).toHaveLength(20);
      expect(near.every((n) => n.id < 40)).toBe(true);
      expect(new Set(near.map((n) => n.id)).size).toBe(20);
      const top = await s.top('relu1', 0);
      expect(top.length).toBeGreaterThan(0);
      expect(top.every((t) => t.image < 40)).toBe(true);
      // the channel mean is the mean of the committed images' pooled features, and nothing else
      const f = await s.vectors({ layer: 'relu1' });
      const mean = range(40).reduce((a, i) => a + f.data[i * 2]!, 0) / 40;
      expect((await s.channelStats('relu1'))[0]!.mean).toBeCloseTo(mean, 5);
    } finally {
      s.close();
    }

    // a reader command says so, and names the command that resumes
    const reader = startCli(['neighbors', '--store', store, '--model', modelPath, '--layer', 'relu1', '--ids', '3', '-k', '5', '-o', join(tmp, 'n.png'), '--json']);
    const read = await reader.exited;
    expect(read.code, read.stderr).toBe(0);
    expect(read.stderr).toMatch(/warning: The store ".*killed" is incomplete: 40 of 100 images \(4 of 10 chunks\) are in, and results cover those only\./);
    const ids = (JSON.parse(read.stdout) as { queries: { feature: { id: number }[]; pixel: { id: number }[] }[] }).queries[0]!;
    expect([...ids.feature, ...ids.pixel].every((n) => n.id < 40)).toBe(true);
    const resume = /Resume the scan with: (convlens index .*)$/m.exec(read.stderr)?.[1];
    expect(resume).toBeDefined();

    const resumed = await startCli(resume!.split(' ').slice(1)).exited;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resumed: 40 images were already in the store');
    expect(resumed.stderr).toContain(`the previous writer of this store (pid ${writer.child.pid} on ${hostname()}`);
    expect(resumed.stderr).toContain('dropped the rows of chunks 4, 5, which an interrupted run left uncommitted');
    await expectComplete(store);
    // the same numbers as the uninterrupted scan
    const [a, b] = [await DatasetStore.open(reference), await DatasetStore.open(store)];
    try {
      expect(Array.from((await b.vectors({ layer: 'relu1' })).data)).toEqual(Array.from((await a.vectors({ layer: 'relu1' })).data));
      expect(await b.top('relu1', 0)).toEqual(await a.top('relu1', 0));
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('dataset CLI errors', () => {
  it('explains bad splits, embedding settings and absurd file headers', async () => {
    // IDX images file (gzipped) whose header claims 10^12 values, and a .npy claiming 10^12 floats
    const idx = Buffer.alloc(16 + 100);
    idx.set([0, 0, 8, 3]);
    [1_000_000, 1000, 1000].forEach((d, i) => idx.writeUInt32BE(d, 4 + 4 * i));
    writeFileSync(join(tmp, 'huge-images-idx3-ubyte.gz'), gzipSync(idx));
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }\n";
    const npy = Buffer.alloc(10 + header.length);
    npy.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
    npy.writeUInt16LE(header.length, 8);
    npy.write(header, 10);
    writeFileSync(join(tmp, 'huge.npy'), npy);

    const runs = await Promise.all(
      [
        ['index', 'data/fashion-mnist-subset', '--split', 'val', '--store', join(tmp, 'split')],
        ['embed', '--store', reference, '--model', modelPath, '--layer', 'relu1', '--method', 'tsne', '--sample', '20', '--perplexity', '30', '-o', join(tmp, 'embed')],
        ['embed', '--store', reference, '--model', modelPath, '--layer', 'relu1', '--method', 'tsne2', '-o', join(tmp, 'embed')],
        ['index', join(tmp, 'huge-images-idx3-ubyte.gz'), '--store', join(tmp, 'huge')],
        ['predict', join(tmp, 'huge.npy')],
      ].map((args) => startCli(args).exited),
    );
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^convlens: /);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+|TypeError|RangeError/);
    }
    const [split, tsne, method, idxRun, npyRun] = runs.map((r) => r.stderr);
    expect(split).toMatch(/Unknown split "val": MNIST-format datasets have the splits train and test\.\n {2}Use the split train or test \(CLI: --split\)\./);
    // (--sample 91 would do too; the store has 100 points, and the hint names the largest perplexity 20 allow)
    expect(tsne).toMatch(/t-SNE with perplexity 30 needs at least 91 points .*; the sample has 20\.\n {2}Lower the perplexity \(CLI: --perplexity\) to at most 6/);
    expect(method).toMatch(/Unknown embedding method "tsne2"\.\n {2}Use pca, tsne, umap/);
    expect(idxRun).toMatch(/the header claims dims 1000000x1000x1000, 1,000,000,000,000 values, but/);
    expect(npyRun).toMatch(/the header claims shape \(1000000, 1000000\) of <f4, 1,000,000,000,000 elements .* but only 0 data bytes follow/);
    expect(existsSync(join(tmp, 'split'))).toBe(false);
    expect(existsSync(join(tmp, 'embed'))).toBe(false);
  });
});
