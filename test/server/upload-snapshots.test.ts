// Indexing the studio's uploaded images copies them into a folder of their own first (a store
// needs files). A request that is refused must not leave that copy behind: each one is all the
// uploads again, up to 256 MB.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { acquireWriterLock } from '../../src/methods/dataset/lock.js';
import { ROOT } from '../support/cli.js';
import { multipart, pageInject } from './page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-snapshots-');
const uploadsDir = join(tmp, 'uploads');
const stores = join(tmp, 'stores');
let studio: Studio;
const inject = pageInject(() => studio);
const storesBefore = process.env['CONVLENS_STORES'];

/** The snapshots of the uploads made so far (and any half-written one). */
const snapshots = (): string[] => (existsSync(join(uploadsDir, 'studio-uploads')) ? readdirSync(join(uploadsDir, 'studio-uploads')).sort() : []);

beforeAll(async () => {
  process.env['CONVLENS_STORES'] = stores;
  studio = await createStudio({ engine, uploadsDir, webDir: join(ROOT, 'no-such-web-dir') });
  for (const name of ['bag-test18.png', 'coat-test6.png']) {
    const r = await inject({ method: 'POST', url: '/api/images', ...multipart(name, readFileSync(join(ROOT, 'samples', 'fashion-mnist', name))) });
    expect(r.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
  if (storesBefore === undefined) delete process.env['CONVLENS_STORES'];
  else process.env['CONVLENS_STORES'] = storesBefore;
  rmSync(tmp, { recursive: true, force: true });
});

describe('indexing the uploaded images', () => {
  it('refused because the store is being written (409), copies nothing', async () => {
    const lock = acquireWriterLock(join(stores, 'busy'), 'another index run');
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = await inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', dataset: 'studio:uploads', id: 'busy' } });
        expect(r.statusCode).toBe(409);
        expect(r.json().error.message).toContain('The store "busy" is being written by another index run');
      }
    } finally {
      lock.release();
    }
    expect(snapshots()).toEqual([]);
  });

  it('accepted, copies the uploads once for its job', async () => {
    const r = await inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', dataset: 'studio:uploads', id: 'fine' } });
    expect(r.statusCode).toBe(202);
    const made = snapshots();
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^uploads-\d{8}-\d{6}$/);
    expect(readdirSync(join(uploadsDir, 'studio-uploads', made[0]!)).sort()).toEqual(['000-bag-test18.png', '001-coat-test6.png']);
    studio.jobs.cancel(r.json().job as string);
  });
});

describe('deleting a store', () => {
  const waitFor = async (job: string): Promise<void> => {
    for (let i = 0; i < 600; i++) {
      const state = studio.jobs.status(job)?.state;
      if (state && state !== 'queued' && state !== 'running') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`job ${job} did not finish`);
  };

  it('removes its folder and the copy of the uploads it was made from; a store being written is refused', async () => {
    const before = snapshots();
    const r = await inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', dataset: 'studio:uploads', id: 'doomed' } });
    expect(r.statusCode).toBe(202);
    await waitFor(r.json().job as string);
    const copy = snapshots().filter((s) => !before.includes(s));
    expect(copy).toHaveLength(1);
    expect((await inject({ method: 'GET', url: '/api/dataset/stores/doomed' })).statusCode).toBe(200);

    // while an index run holds the store, nothing is removed
    const lock = acquireWriterLock(join(stores, 'doomed'), 'another index run');
    try {
      const busy = await inject({ method: 'DELETE', url: '/api/dataset/stores/doomed' });
      expect(busy.statusCode).toBe(409);
      expect(busy.json().error.message).toContain('being written by another index run');
    } finally {
      lock.release();
    }
    expect(existsSync(join(stores, 'doomed'))).toBe(true);
    expect(snapshots()).toContain(copy[0]);

    // another site's page cannot delete it
    const foreign = await studio.app.inject({ method: 'DELETE', url: '/api/dataset/stores/doomed', headers: { origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(403);
    expect(existsSync(join(stores, 'doomed'))).toBe(true);

    const gone = await inject({ method: 'DELETE', url: '/api/dataset/stores/doomed' });
    expect(gone.statusCode, gone.body).toBe(200);
    expect(gone.json().deleted).toBe('doomed');
    expect(existsSync(join(stores, 'doomed'))).toBe(false);
    expect(snapshots()).not.toContain(copy[0]);
    expect(readdirSync(stores).filter((d) => d.startsWith('.deleting'))).toEqual([]);
    expect((await inject({ method: 'GET', url: '/api/dataset/stores/doomed' })).statusCode).toBe(404);
    expect((await inject({ method: 'DELETE', url: '/api/dataset/stores/doomed' })).statusCode).toBe(404);
    expect((await inject({ method: 'DELETE', url: '/api/dataset/stores/..%2F..%2Fetc' })).statusCode).toBe(400);
  });
});

describe('two stores of the uploads indexed within one second', () => {
  it('each gets its own copy (the second was a 400: the copy\'s folder name was taken)', async () => {
    const before = snapshots();
    const stamp = (): string => new Date().toISOString().slice(0, 19);
    // both requests within one wall-clock second, as two clicks are
    while (new Date().getMilliseconds() > 500) await new Promise((r) => setTimeout(r, 20));
    const second = stamp();
    const first = await inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', dataset: 'studio:uploads', id: 'twin-a' } });
    const next = await inject({ method: 'POST', url: '/api/dataset/index', payload: { model: 'builtin', dataset: 'studio:uploads', id: 'twin-b' } });
    expect(stamp()).toBe(second);
    expect(first.statusCode).toBe(202);
    expect(next.statusCode, JSON.stringify(next.json())).toBe(202);
    const made = snapshots().filter((s) => !before.includes(s));
    expect(made).toHaveLength(2);
    for (const folder of made) expect(readdirSync(join(uploadsDir, 'studio-uploads', folder)).sort()).toEqual(['000-bag-test18.png', '001-coat-test6.png']);
    for (const r of [first, next]) studio.jobs.cancel(r.json().job as string);
  });
});
