// Every studio job runs on ONNX models the project has never seen, uploaded as the page uploads
// them, without a layer named anywhere: a 64 px, 10-class net that ends in Flatten + dense (no
// GAP: CAM cannot apply) and a 224 px, 1000-class ResNet-like net (GAP + dense). Layers come
// from the model profile; the answers are checked against it, and against what each route
// promises (a skipped method keeps the others, a class selection gives those classes, an
// index of the sample photos and textures answers neighbours from the same folder).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, DEFAULT_SAMPLES_DIR, type Studio } from '../../src/interfaces/server/app.js';
import { METHOD_NAMES } from '../../src/methods/explain/index.js';
import { resnet } from '../../src/models/zoo/index.js';
import { convnextLike, flattenHead } from '../support/unseen-models.js';
import { multipart, pageInject } from './page-inject.js';
import { qlinearGraph } from '../support/quantized-models.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-any-model-studio-');
const engine = new Engine(nodeBackend(), { threads: 2 });
let studio: Studio;
const inject = pageInject(() => studio);

beforeAll(async () => {
  process.env['CONVLENS_STORES'] = join(tmp, 'stores');
  studio = await createStudio({ engine, webDir: join(tmp, 'no-web'), uploadsDir: join(tmp, 'uploads') });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
  delete process.env['CONVLENS_STORES'];
  rmSync(tmp, { recursive: true, force: true });
});

interface ModelJson {
  id: string;
  name: string;
  labels: string[];
  sampleGroup: string;
  warnings: string[];
  preprocessing: { size: number[]; resize: string };
  unavailableMethods: Record<string, { reason: string }>;
  profile: { camLayer: string; dreamLayer: string; inversionLayers: string[]; featureLayers: string[]; head: string; classes: number };
}
interface Event {
  type: string;
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

async function post<T = Record<string, unknown>>(url: string, payload: unknown, status = 200): Promise<T> {
  const r = await inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
  expect(r.statusCode, `${url}: ${r.body.slice(0, 400)}`).toBe(status);
  return r.json() as T;
}

/** Starts a job and waits for its last event. */
async function job(url: string, payload: unknown): Promise<Event> {
  const { job: id } = await post<{ job: string }>(url, payload, 202);
  const ev = await inject({ method: 'GET', url: `/api/jobs/${id}/events` });
  return ev.body
    .split('\n\n')
    .filter((c) => c.includes('data: '))
    .map((c) => JSON.parse(c.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as Event)
    .at(-1)!;
}

async function result(url: string, payload: unknown): Promise<Record<string, unknown>> {
  const last = await job(url, payload);
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return last.result!;
}

const cases = [
  { name: 'flatten head, 64 px, 10 classes, no GAP', file: 'flat64.onnx', graph: () => flattenHead(64, 10, 11), classes: 10, cam: false },
  { name: 'ResNet-like, 224 px, 1000 classes', file: 'resnet224.onnx', graph: () => resnet({ widths: [8, 16, 32, 64], blocks: 1, size: 224, classes: 1000, seed: 5 }), classes: 1000, cam: true },
  { name: 'ConvNeXt-like (channels-last blocks), 64 px, 10 classes', file: 'convnext64.onnx', graph: () => convnextLike(64, 10, 13), classes: 10, cam: false },
];

const PHOTO = 'photos/chelsea.png';

describe.each(cases)('every studio job on an unseen model: $name', (c) => {
  let model: ModelJson;

  it('uploads: the model entry carries its profile, sample group and the methods it rules out', async () => {
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart(c.file, encodeModel(c.graph())) });
    expect(r.statusCode, r.body).toBe(201);
    model = r.json() as ModelJson;
    expect(model.labels).toHaveLength(c.classes);
    expect(model.profile.classes).toBe(c.classes);
    expect(model.sampleGroup).toBe('photos');
    expect(model.profile.camLayer).toBeTruthy();
    if (c.cam) expect(model.unavailableMethods).toEqual({});
    else {
      expect(Object.keys(model.unavailableMethods)).toEqual(['cam']);
      expect(model.unavailableMethods['cam']!.reason).toMatch(/global average pooling followed by one dense layer/);
    }
    // the page's layer pickers: every layer with its friendly name and number
    const summary = (await inject({ method: 'GET', url: `/api/models/${model.id}/summary` })).json() as { pickable: { name: string; label: string; number: number }[] };
    expect(summary.pickable.map((p) => p.number)).toEqual(summary.pickable.map((_, k) => k + 1));
    expect(summary.pickable.find((p) => p.name === model.profile.camLayer)!.label).toBeTruthy();
  });

  it('predicts and shows every feature map', async () => {
    const p = await post<{ top: { index: number; label: string }[] }>('/api/predict', { model: model.id, image: PHOTO, k: 3 });
    expect(p.top).toHaveLength(3);
    expect(p.top[0]!.label).toBe(model.labels[p.top[0]!.index]);
    const a = await post<{ layers: { name: string; values: { dims: number[] } }[] }>('/api/activations', { model: model.id, image: PHOTO });
    expect(a.layers.map((l) => l.name)).toContain(model.profile.camLayer);
    for (const l of a.layers) expect(l.values.dims).toHaveLength(4);
    // only [N, C, H, W] maps: a channels-last value read as NCHW drew H "channels" of W x C
    const summary = (await inject({ method: 'GET', url: `/api/models/${model.id}/summary` })).json() as { pickable: { name: string; shape: unknown[]; featureMap: boolean }[] };
    const maps = summary.pickable.filter((p) => p.featureMap).map((p) => p.name);
    expect(a.layers.map((l) => l.name)).toEqual(maps);
    if (c.file === 'convnext64.onnx') {
      const last = summary.pickable.find((p) => p.name === 'stage0.block.pwconv1')!;
      expect(last.shape).toEqual(['N', 16, 16, 32]);
      expect(last.featureMap).toBe(false);
    }
  });

  it('explains with every method; what the model rules out is skipped with its reason, the rest stand', async () => {
    const r = (await result('/api/explain', { model: model.id, image: PHOTO, methods: [...METHOD_NAMES], params: { smoothgrad: { samples: 4 }, 'integrated-gradients': { steps: 4 } } })) as {
      maps: { method: string; layer?: string; values: { dims: number[] } }[];
      skipped: { method: string; reason: string }[];
      predictionPass: { kind: string; ms: number };
    };
    // the class came from a gradient pass that methods reuse: the page names it and its time
    expect(r.predictionPass.kind).toBe('shared gradient pass');
    expect(r.predictionPass.ms).toBeGreaterThan(0);
    const skipped = r.skipped.map((s) => s.method);
    expect(skipped).toEqual(Object.keys(model.unavailableMethods));
    expect(r.maps.map((m) => m.method).sort()).toEqual(METHOD_NAMES.filter((m) => !skipped.includes(m)).sort());
    for (const m of r.maps) expect(m.values.dims).toEqual([model.preprocessing.size[0], model.preprocessing.size[1]]);
    expect(r.maps.find((m) => m.method === 'gradcam')!.layer).toBe(model.profile.camLayer);
  });

  it('visualizes picked classes, and estimates class:* before it starts', async () => {
    const r = (await result('/api/synthesize/featviz', { model: model.id, params: { classes: '0,3', steps: 3, frames: 0 } })) as { images: { label: string }[]; summary: { model: string } };
    expect(r.images.map((i) => i.label)).toEqual([model.labels[0], model.labels[3]]);
    expect(r.summary.model).toBe(model.name.replace(/\.onnx$/, '')); // the model's own name (the file's, without .onnx)
    const e = await post<{ images: number; steps: number; imageSteps: number; batches: number; batchSize: number; gflop: number }>('/api/synthesize/featviz/estimate', { model: model.id, params: { steps: 64 } });
    expect(e.images).toBe(c.classes);
    expect(e.imageSteps).toBe(c.classes * 64);
    expect(e.batches).toBe(Math.ceil(c.classes / e.batchSize));
    expect(e.gflop).toBeGreaterThan(0);
    // the speed of the run above makes the next estimate a time
    const timed = await post<{ seconds?: number; speed?: { from: string } }>('/api/synthesize/featviz/estimate', { model: model.id, params: { classes: '0-4', steps: 10 } });
    expect(timed.seconds).toBeGreaterThan(0);
    expect(timed.speed?.from).toBe('this model');
  });

  it('makes an adversarial example, inverts the profile\'s layers and dreams at its dream layer', async () => {
    // a stand-in speed says what it shares: at first this model's feature visualization, later
    // the adversarial jobs of the models before
    const before = await post<{ speed?: { from: string } }>('/api/synthesize/adversarial/estimate', { model: model.id, image: PHOTO, params: { steps: 2 } });
    expect(before.speed?.from).toBe(c === cases[0] ? 'another kind of job' : 'another model');
    const adv = (await result('/api/synthesize/adversarial', { model: model.id, image: PHOTO, params: { steps: 2 } })) as { images: { label: string }[] };
    const after = await post<{ speed?: { from: string } }>('/api/synthesize/adversarial/estimate', { model: model.id, image: PHOTO, params: { steps: 2 } });
    expect(after.speed?.from).toBe('this model');
    expect(adv.images.map((i) => i.label)).toEqual(['original', 'perturbation (amplified)', 'adversarial']);
    const inv = (await result('/api/synthesize/invert', { model: model.id, image: PHOTO, params: { steps: 2 } })) as { images: { label: string }[] };
    // one reconstruction per profile layer, each captioned by the layer's short name
    const summary = (await inject({ method: 'GET', url: `/api/models/${model.id}/summary` })).json() as { pickable: { name: string; label: string }[] };
    const short = (v: string): string => summary.pickable.find((p) => p.name === v)?.label ?? v;
    expect(inv.images.slice(1).map((i) => i.label)).toEqual(model.profile.inversionLayers.map(short));
    const dream = (await result('/api/synthesize/dream', { model: model.id, image: PHOTO, params: { octaves: 1, steps: 2, maxSide: 64 } })) as { summary: { params: { layer: string } } };
    expect(dream.summary.params.layer).toBe(model.profile.dreamLayer);
  });

  it('transfers a style with the model as the feature network, and says so', async () => {
    const r = (await result('/api/synthesize/style', { model: model.id, image: PHOTO, styles: [{ image: 'textures/brick.png' }], params: { steps: 2, maxSide: 48, backbone: 'model' } })) as { summary: { model: string } };
    expect(r.summary.model).toBe(model.name.replace(/\.onnx$/, '')); // the model's own name (the file's, without .onnx)
  });

  it('indexes the sample photos and textures, and answers neighbours and top patches from them', async () => {
    const folders = ['photos', 'textures'].map((g) => join(DEFAULT_SAMPLES_DIR, g));
    const r = (await result('/api/dataset/index', { model: model.id, dataset: folders })) as { store: { id: string; count: number; classes: string[]; layers: { name: string; channels: number }[] } };
    expect(r.store.count).toBe(7);
    expect(r.store.classes).toEqual(['photos', 'textures']);
    expect(r.store.layers.map((l) => l.name)).toEqual(model.profile.featureLayers);
    const listed = (await inject({ method: 'GET', url: '/api/dataset/stores' })).json() as { stores: { id: string; modelId?: string }[] };
    expect(listed.stores.find((s) => s.id === r.store.id)!.modelId).toBe(model.id);
    const layer = r.store.layers.at(-1)!.name;
    const nn = await post<{ feature: { id: number; class: string }[]; query: { class: string | null } }>(`/api/dataset/stores/${r.store.id}/neighbors`, { layer, image: 0, k: 3 });
    expect(nn.feature).toHaveLength(3);
    expect(nn.feature.map((n) => n.id)).not.toContain(0);
    const top = (await inject({ method: 'GET', url: `/api/dataset/stores/${r.store.id}/top?layer=${encodeURIComponent(layer)}&channel=0&k=2&guided=false` })).json() as { patches: { value: number }[]; silent: number };
    // images where the channel never fired (a random-weight net's ReLU off everywhere) are counted, not drawn
    expect(top.patches.length + top.silent).toBe(2);
    for (const p of top.patches) expect(p.value).not.toBe(0);
  });

  it('is described in the studio: class names and preprocessing reach predictions, the warnings go', async () => {
    const names = model.labels.map((_, k) => `thing ${k}`);
    expect(model.warnings.some((w) => /no class labels/.test(w))).toBe(true);
    const d = await post<ModelJson & { described: { labels: number; preprocessing: { resize: string } } }>(`/api/models/${model.id}/describe`, { labels: names.join('\n'), preprocess: 'imagenet-stretch' });
    expect(d.labels).toEqual(names);
    expect(d.described).toMatchObject({ labels: c.classes, preprocessing: { resize: 'stretch' } });
    expect(d.warnings.filter((w) => /no class labels|no preprocessing/.test(w))).toEqual([]);
    // the worker reloads the described model: its answers use the new names
    const p = await post<{ top: { index: number; label: string }[] }>('/api/predict', { model: model.id, image: PHOTO, k: 1 });
    expect(p.top[0]!.label).toBe(`thing ${p.top[0]!.index}`);
    // a wrong count is refused, naming both numbers, and changes nothing
    const bad = await inject({ method: 'POST', url: `/api/models/${model.id}/describe`, payload: { labels: ['just one'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(new RegExp(`1 class names; the model has ${c.classes} outputs`));
    expect(((await inject({ method: 'GET', url: `/api/models/${model.id}` })).json() as ModelJson).labels).toEqual(names);
  });
});

describe('an integer-op (QLinearConv) upload', () => {
  it('is refused naming the quantization and the models that work (the studio looks inside every model it lists)', async () => {
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart('qlinear.onnx', encodeModel(qlinearGraph())) });
    expect(r.statusCode).toBe(422);
    const { error } = r.json() as { error: { code: string; message: string; hint: string } };
    expect(error.code).toBe('MODEL_UNSUPPORTED');
    expect(error.message).toMatch(/^The model is quantized: QLinearConv node "conv_int8" works on 8-bit integers/);
    expect(error.hint).toMatch(/float32 model it was quantized from.*QDQ form/);
    const listed = (await inject({ method: 'GET', url: '/api/models' })).json() as { models: { name: string; error?: unknown }[] };
    expect(listed.models.filter((m) => m.name === 'qlinear.onnx' && !m.error)).toEqual([]);
  });
});
