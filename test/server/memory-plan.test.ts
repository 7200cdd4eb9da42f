// What the studio's memory plan promises on a studio with 1 GB for its workers (640 MB for the
// job worker, 384 MB for the interactive one), with models sized so that the plan binds:
// - an explain job with every method runs within its worker's limit: each method compiles its
//   own gradient graphs, and the worker releases earlier methods' sessions (each keeps an arena
//   at its largest run) instead of holding them all; before, the job was stopped for memory;
// - top patches whose guided-backprop maps do not fit the interactive worker still give the
//   crops (no model runs for them), with the reason; asking for the maps by name is refused.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, DEFAULT_SAMPLES_DIR, type Studio } from '../../src/interfaces/server/app.js';
import { bytesPerSample } from '../../src/methods/inspect/memory.js';
import { METHOD_NAMES } from '../../src/methods/explain/index.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { multipart, pageInject } from './page-inject.js';
import { tempFolder } from '../support/temp-folder.js';

const GB = 2 ** 30;
const tmp = tempFolder('convlens-memory-plan-');
const engine = new Engine(nodeBackend({ cacheDir: false }), { threads: 2 });
let studio: Studio;
const inject = pageInject(() => studio);

/** Three full-resolution 16-channel convs, a pool, a 32-channel conv, global pooling and a dense head. */
function wideNet(size: number): Graph {
  const b = new GraphBuilder();
  b.graph.name = `wide_${size}`;
  const L = new Layers(b, seededRandom(3));
  let x = b.input('image', 'float32', ['N', 3, size, size]);
  for (let i = 0; i < 3; i++) x = L.relu(L.conv2d(x, `conv${i}`, { filters: 16 }), `relu${i}`);
  x = L.relu(L.conv2d(L.maxPool(x, 'pool'), 'conv3', { filters: 32 }), 'relu3');
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 10));
  return b.build();
}

async function upload(graph: Graph): Promise<string> {
  const r = await inject({ method: 'POST', url: '/api/models', ...multipart(`${graph.name}.onnx`, encodeModel(graph)) });
  expect(r.statusCode, r.body).toBe(201);
  return (r.json() as { id: string }).id;
}

interface Event {
  type: string;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

async function lastEvent(url: string, payload: Record<string, unknown>): Promise<Event> {
  const r = await inject({ method: 'POST', url, payload });
  expect(r.statusCode, r.body).toBe(202);
  const ev = await inject({ method: 'GET', url: `/api/jobs/${(r.json() as { job: string }).job}/events` });
  return ev.body
    .split('\n\n')
    .filter((c) => c.includes('data: '))
    .map((c) => JSON.parse(c.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as Event)
    .at(-1)!;
}

const memoryKills = async (): Promise<number> => ((await inject({ method: 'GET', url: '/api/health' })).json() as { memory: { killed: { memory: number } } }).memory.killed.memory;

beforeAll(async () => {
  process.env['CONVLENS_STORES'] = join(tmp, 'stores');
  studio = await createStudio({ engine, webDir: join(tmp, 'no-web'), uploadsDir: join(tmp, 'uploads'), workerMemoryBytes: GB, jobWorkers: 1 });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
  delete process.env['CONVLENS_STORES'];
  rmSync(tmp, { recursive: true, force: true });
});

describe('the studio memory plan, where it binds', () => {
  it('runs an explain job with every method within the job worker (sessions of earlier methods are released)', async () => {
    expect(studio.memory.jobWorkerBytes).toBe(640 * 2 ** 20);
    const model = await upload(wideNet(256));
    const last = await lastEvent('/api/explain', {
      model,
      image: 'photos/chelsea.png',
      methods: [...METHOD_NAMES],
      params: { smoothgrad: { samples: 8 }, 'integrated-gradients': { steps: 8 }, shap: { count: 4, samples: 8 } },
    });
    expect(last.type, JSON.stringify(last.error)).toBe('result');
    const maps = last.result!['maps'] as unknown[];
    const skipped = last.result!['skipped'] as { method: string }[];
    expect(maps.length + skipped.length).toBe(METHOD_NAMES.length);
    expect(maps.length).toBeGreaterThanOrEqual(METHOD_NAMES.length - 1); // CAM needs GAP + one dense layer: it applies here
    expect(await memoryKills()).toBe(0);
  }, 120_000);

  it('gives top patches without guided maps when those do not fit, and refuses them when asked for by name', async () => {
    const graph = wideNet(384);
    // the premise: one sample's gradient run does not fit the interactive worker's budget
    const probe = new Model(graph, engine, 'probe');
    expect(bytesPerSample(probe, 'gradient')).toBeGreaterThan(studio.memory.budget(probe, 'interactive'));
    const model = await upload(graph);
    const folders = ['photos', 'textures'].map((g) => join(DEFAULT_SAMPLES_DIR, g));
    const indexed = await lastEvent('/api/dataset/index', { model, dataset: folders });
    expect(indexed.type, JSON.stringify(indexed.error)).toBe('result');
    const store = (indexed.result!['store'] as { id: string; layers: { name: string }[] });
    const layer = encodeURIComponent(store.layers.at(-1)!.name);

    const plain = await inject({ method: 'GET', url: `/api/dataset/stores/${store.id}/top?layer=${layer}&channel=1&k=3` });
    expect(plain.statusCode, plain.body).toBe(200);
    const top = plain.json() as { patches: { crop: string; guided?: string }[]; guidedSkipped?: string };
    expect(top.patches).toHaveLength(3);
    expect(top.patches.every((p) => p.crop.length > 0 && p.guided === undefined)).toBe(true);
    expect(top.guidedSkipped).toMatch(/Guided-backprop maps of top patches needs about \d+ MB .*interactive worker/);

    const without = await inject({ method: 'GET', url: `/api/dataset/stores/${store.id}/top?layer=${layer}&channel=1&k=3&guided=false` });
    expect(without.statusCode, without.body).toBe(200);
    expect((without.json() as { guidedSkipped?: string }).guidedSkipped).toBeUndefined();

    const asked = await inject({ method: 'GET', url: `/api/dataset/stores/${store.id}/top?layer=${layer}&channel=1&k=3&guided=true` });
    expect(asked.statusCode).toBe(400);
    expect(asked.json().error.message).toMatch(/Guided-backprop maps of top patches needs about/);
    expect(asked.json().error.hint).toMatch(/--memory/);
  }, 120_000);
});
