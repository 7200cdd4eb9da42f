// A distributed scan through BullMQ on a local Redis (Debian's redis-server, started here on a
// free port with a temporary folder): two worker processes, one of which is killed after
// finishing a chunk and before reporting it; the chunk goes to the other worker after the lock
// expires, nothing is committed twice, and the store equals the single-process scan's.
import '../../src/methods/dataset/quiet.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { openSource } from '../../src/data/sources.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'convlens.js');
const REDIS = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let tmp: string;
let redis: ChildProcess | undefined;
let url: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'convlens-dist-'));
  if (!REDIS) return;
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', tmp, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 10_000, 'redis-server');
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  redis?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  rmSync(tmp, { recursive: true, force: true });
});

describe('distributed scan (BullMQ on redis-server)', () => {
  it.skipIf(!REDIS)('equals the single-process scan, retries a dead worker\'s chunk and commits nothing twice', async () => {
    const engine = new Engine(nodeBackend());
    const model = loadBuiltinModel(engine);
    const source = openSource(`${SUBSET_DIR}:test`);
    const opts = { layers: ['relu3', 'relu4'], k: 8, chunkSize: 150, limit: 1200 };
    await indexDataset(model, source, join(tmp, 'single'), opts);

    const marker = join(tmp, 'killed');
    const exits: (string | number | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const w = spawn(process.execPath, [cli, 'index-worker', '--redis', url, '--queue', 'test-scan', '--lock-ms', '1500', '--threads', '1'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, CONVLENS_FAULT_KILL_ONCE: `3:${marker}` },
      });
      w.on('exit', (code, signal) => exits.push(signal ?? code));
      workers.push(w);
    }
    const t0 = Date.now();
    const report = await indexDataset(model, source, join(tmp, 'distributed'), { ...opts, distributed: { redis: url, queue: 'test-scan', pollMs: 100 } });
    expect(report.scanned).toBe(1200);
    // one worker died on chunk 3 (SIGKILL), the other finished the scan including chunk 3
    expect(existsSync(marker)).toBe(true);
    await waitFor(() => exits.includes('SIGKILL'), 5_000, 'the killed worker to exit');
    expect(Date.now() - t0).toBeLessThan(60_000);

    const a = await DatasetStore.open(join(tmp, 'single'));
    const b = await DatasetStore.open(join(tmp, 'distributed'));
    try {
      const chunks = await b.doneChunks();
      expect([...chunks].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(await b.count()).toBe(1200); // no image twice
      const va = await a.vectors({ layer: 'relu4' });
      const vb = await b.vectors({ layer: 'relu4' });
      expect(Array.from(vb.ids)).toEqual(Array.from(va.ids));
      let maxDiff = 0;
      for (let i = 0; i < va.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(va.data[i]! - vb.data[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
      for (const [layer, c] of [['relu3', 5], ['relu4', 0], ['relu4', 99]] as const) {
        const ta = await a.top(layer, c);
        const tb = await b.top(layer, c);
        expect(tb.map((t) => [t.image, t.y, t.x])).toEqual(ta.map((t) => [t.image, t.y, t.x]));
        tb.forEach((t, i) => expect(t.value).toBeCloseTo(ta[i]!.value, 4));
      }
      expect((await b.channelStats('relu4'))[7]!.mean).toBeCloseTo((await a.channelStats('relu4'))[7]!.mean, 5);
    } finally {
      a.close();
      b.close();
      await engine.dispose();
    }
  });
});
