import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { throwIfCancelled } from '../../src/engine/jobs.js';
import { Model } from '../../src/models/model.js';
import { Layers } from '../../src/models/layers.js';
import { seededRandom } from '../../src/models/init.js';
import { predict } from '../../src/methods/predict.js';
import { multipart, pageInject } from './page-inject.js';

const root = join(import.meta.dirname, '..', '..');
const engine = new Engine(nodeBackend(), { threads: 2 });
let studio: Studio;
const inject = pageInject(() => studio);

beforeAll(async () => {
  studio = await createStudio({ engine, maxImageBytes: 64 * 1024, maxModelBytes: 4 * 1024 * 1024, webDir: join(root, 'no-such-web-dir') });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

describe('models', () => {
  it('lists the built-in model with its metadata', async () => {
    const r = await inject({ method: 'GET', url: '/api/models' });
    expect(r.statusCode).toBe(200);
    const builtin = r.json().models.find((m: { id: string }) => m.id === 'builtin');
    expect(builtin.input.shape).toEqual(['N', 1, 28, 28]);
    expect(builtin.labels).toHaveLength(10);
    expect(builtin.defaultLayer).toBe('relu4');
  });

  it('returns the summary with receptive fields', async () => {
    const r = await inject({ method: 'GET', url: '/api/models/builtin/summary' });
    expect(r.statusCode).toBe(200);
    const s = r.json();
    expect(s.totalParams).toBe(98442);
    expect(s.rows[6].receptiveField).toEqual({ size: [38, 38], jump: [8, 8], start: [3.5, 3.5], global: false });
    expect(s.pickable.map((p: { name: string }) => p.name)).toContain('relu2');
  });

  it('returns first-layer filters as a tensor', async () => {
    const r = await inject({ method: 'GET', url: '/api/models/builtin/filters' });
    expect(r.statusCode).toBe(200);
    const f = r.json();
    expect(f.layer).toBe('conv1');
    expect(f.weights.dims).toEqual([16, 1, 3, 3]);
    expect(Buffer.from(f.weights.data, 'base64').length).toBe(16 * 9 * 4);
    expect(f.layers).toEqual(['conv1', 'conv2', 'conv3', 'conv4']);
  });

  it('accepts an ONNX upload and serves predictions from it', async () => {
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart('tiny.onnx', encodeModel(courseCnn(7))) });
    expect(r.statusCode).toBe(201);
    const id = r.json().id as string;
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'fashion-mnist/bag-test18.png', k: 2 } });
    expect(p.statusCode).toBe(200);
    expect(p.json().top).toHaveLength(2);
  });

  it('refuses an image for a 4-channel upload, and its hints and warnings name the studio\'s ways out, not CLI flags', async () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(6));
    const x = b.input('image', 'float32', ['N', 4, 20, 24]);
    b.output(L.dense(L.flatten(L.globalAvgPool(L.conv2d(x, 'conv', { filters: 4 }), 'gap'), 'flat'), 'fc', 3));
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('rgbd.onnx', encodeModel(b.build())) });
    expect(up.statusCode).toBe(201);
    const { id } = up.json() as { id: string };
    const listed = (await inject({ method: 'GET', url: '/api/models' })).json().models.find((m: { id: string }) => m.id === id) as { warnings: string[] };
    expect(listed.warnings.join('\n')).toMatch(/no class labels.*name them under "Describe this model"/);
    expect(listed.warnings.join('\n')).toMatch(/no preprocessing.*"Describe this model" \(Preprocessing\)/);
    for (const w of listed.warnings) expect(w).not.toMatch(/--[a-z]|convlens describe/);
    // the server refuses what the page no longer sends
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/chelsea.png', k: 2 } });
    expect(p.statusCode).toBe(422);
    const { error } = p.json() as { error: { code: string; message: string; hint: string } };
    expect(error.code).toBe('SHAPE_MISMATCH');
    expect(error.message).toContain('takes 4-channel input');
    expect(error.hint).toMatch(/^The studio feeds it images only.*\.npy tensors of shape \(N, 4, H, W\)\.$/);
  });

  it('offers LRP on a model that ends in Softmax (its logits are explained), not only on one that ends in its logits', async () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(8));
    const x = b.input('data_0', 'float32', ['N', 3, 16, 16]);
    const logits = L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', 3);
    b.output(b.op('Softmax', [logits], { axis: 1 }, { outputs: ['prob_1'] }));
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('caffe-style.onnx', encodeModel(b.build())) });
    expect(up.statusCode).toBe(201);
    const listed = up.json() as { unavailableMethods: Record<string, unknown> };
    expect(listed.unavailableMethods).not.toHaveProperty('lrp');
  });

  it('rejects a file that is not ONNX (415), a corrupt ONNX file (422) and a too large one (413)', async () => {
    const notOnnx = await inject({ method: 'POST', url: '/api/models', ...multipart('notes.onnx', new TextEncoder().encode('{"hello": "this is json, not a model"}')) });
    expect(notOnnx.statusCode).toBe(415);
    const full = encodeModel(courseCnn(1));
    const corrupt = await inject({ method: 'POST', url: '/api/models', ...multipart('cut.onnx', full.subarray(0, full.length >> 1)) });
    expect(corrupt.statusCode).toBe(422);
    expect(corrupt.json().error.message).toContain('cut.onnx');
    const big = await inject({ method: 'POST', url: '/api/models', ...multipart('big.onnx', new Uint8Array(5 * 1024 * 1024).fill(8)) });
    expect(big.statusCode).toBe(413);
  });

  it('keeps running after a model with an unsupported op, and names the op and node', async () => {
    const b = new GraphBuilder();
    b.strict = false;
    const x = b.input('x', 'float32', ['N', 1, 8, 8]);
    b.output(b.op('FancyPool', [x], {}, { name: 'mystery_pool', outputs: ['y'], domain: 'com.example' }));
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart('odd.onnx', encodeModel(b.graph)) });
    expect(r.statusCode).toBe(422);
    expect(r.json().error.message).toMatch(/FancyPool.*mystery_pool/);
    const health = await inject({ method: 'GET', url: '/api/health' });
    expect(health.json().ok).toBe(true);
  });

  it('404s an unknown model id with a hint', async () => {
    const r = await inject({ method: 'GET', url: '/api/models/nope/summary' });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.hint).toContain('/api/models');
  });
});

describe('images', () => {
  it('lists samples in groups and serves their bytes', async () => {
    const r = await inject({ method: 'GET', url: '/api/images' });
    const list = r.json().images as { id: string; group: string; url: string }[];
    expect(new Set(list.map((i) => i.group))).toEqual(new Set(['fashion-mnist', 'photos', 'textures']));
    const img = await inject({ method: 'GET', url: list[0]!.url });
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toMatch(/^image\//);
  });

  it('accepts a PNG upload, checks the type by content and the size', async () => {
    const png = readFileSync(join(root, 'samples', 'fashion-mnist', 'coat-test6.png'));
    const ok = await inject({ method: 'POST', url: '/api/images', ...multipart('coat.png', png, 'image/png') });
    expect(ok.statusCode).toBe(201);
    const disguised = await inject({ method: 'POST', url: '/api/images', ...multipart('evil.png', new TextEncoder().encode('#!/bin/sh\necho not an image\n'), 'image/png') });
    expect(disguised.statusCode).toBe(415);
    const big = await inject({ method: 'POST', url: '/api/images', ...multipart('huge.png', Buffer.concat([png, Buffer.alloc(70 * 1024)]), 'image/png') });
    expect(big.statusCode).toBe(413);
  });

  it('says when the image was scaled up 2x or more to the model, beside the prediction', async () => {
    const { default: sharp } = await import('sharp');
    const tiny = await sharp(Buffer.alloc(10 * 10, 120), { raw: { width: 10, height: 10, channels: 1 } }).png().toBuffer();
    const up = await inject({ method: 'POST', url: '/api/images', ...multipart('thumb.png', tiny, 'image/png') });
    expect(up.statusCode).toBe(201);
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image: up.json().id as string, k: 1 } });
    expect(p.statusCode).toBe(200);
    expect(p.json().warnings).toEqual([`The input is scaled up 2x or more to the model's 28x28 input: "thumb" (10x10, 2.8x). The model sees a blurred picture, so what it says of it may mean little; images of 28x28 pixels or more are not scaled up.`]);
    const fine = await inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image: 'fashion-mnist/trouser-test2.png', k: 1 } });
    expect(fine.json().warnings).toBeUndefined();
  });

  it('does not serve files outside the studio data', async () => {
    const r = await inject({ method: 'GET', url: `/api/image?id=${encodeURIComponent('../../package.json')}` });
    expect(r.statusCode).toBe(404);
  });
});

describe('inspecting', () => {
  it('predicts top-k with probabilities and returns the input as the model sees it', async () => {
    const r = await inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image: 'fashion-mnist/trouser-test2.png', k: 3 } });
    expect(r.statusCode).toBe(200);
    const { top, input } = r.json();
    expect(top).toHaveLength(3);
    expect(top[0].probability).toBeGreaterThanOrEqual(top[1].probability);
    expect([input.width, input.height]).toEqual([28, 28]);
  });

  it('returns activations of the named layers', async () => {
    const r = await inject({ method: 'POST', url: '/api/activations', payload: { model: 'builtin', image: 'photos/coffee.png', layers: ['relu1', 'pool3'] } });
    expect(r.statusCode).toBe(200);
    const layers = r.json().layers;
    expect(layers.map((l: { values: { dims: number[] } }) => l.values.dims)).toEqual([[1, 16, 28, 28], [1, 64, 3, 3]]);
    const relu = new Float32Array(Buffer.from(layers[0].values.data, 'base64').buffer.slice(0));
    expect(Math.min(...relu)).toBeGreaterThanOrEqual(0);
  });

  it('sends cross-origin isolation headers (the engine worker needs them for threads)', async () => {
    for (const url of ['/', '/api/health']) {
      const r = await inject({ method: 'GET', url });
      expect(r.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy'], url).toBe('require-corp');
    }
  });

  it('serves the model as ONNX and the preprocessed input, from which a client predicts what the server predicts', async () => {
    const onnx = await inject({ method: 'GET', url: '/api/models/builtin/onnx' });
    expect(onnx.statusCode).toBe(200);
    expect(onnx.headers['content-disposition']).toMatch(/\.onnx"$/);
    const model = Model.fromOnnxGraph(decodeModel(new Uint8Array(onnx.rawPayload), { source: 'GET /api/models/builtin/onnx' }), engine);
    expect(model.labels[8]).toBe('Bag');
    const input = await inject({ method: 'POST', url: '/api/input', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png' } });
    expect(input.statusCode).toBe(200);
    const wire = input.json().tensor as { dims: number[]; data: string };
    expect(wire.dims).toEqual([1, 1, 28, 28]);
    const x = { dtype: 'float32' as const, dims: wire.dims, data: new Float32Array(Buffer.from(wire.data, 'base64').buffer.slice(0)) };
    const mine = (await predict(model, x, 3)).predictions[0]!.top;
    const theirs = (await inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', k: 3 } })).json().top as { index: number; logit: number }[];
    expect(mine.map((t) => t.index)).toEqual(theirs.map((t) => t.index));
    // the same engine and kernels on both sides: the logits agree exactly
    expect(mine.map((t) => t.logit)).toEqual(theirs.map((t) => t.logit));
    expect((await inject({ method: 'GET', url: '/api/models/nope/onnx' })).statusCode).toBe(404);
    expect((await inject({ method: 'POST', url: '/api/input', payload: { model: 'builtin' } })).statusCode).toBe(400);
  });

  it('validates bodies and names unknown layers', async () => {
    const missing = await inject({ method: 'POST', url: '/api/predict', payload: { image: 'photos/coffee.png' } });
    expect(missing.statusCode).toBe(400);
    const layer = await inject({ method: 'POST', url: '/api/activations', payload: { model: 'builtin', image: 'photos/coffee.png', layers: ['conv9'] } });
    expect(layer.statusCode).toBe(404);
    expect(layer.json().error.hint).toMatch(/conv1/);
  });

  it('serves concurrent requests', async () => {
    const ids = ['fashion-mnist/bag-test18.png', 'fashion-mnist/coat-test6.png', 'photos/chelsea.png', 'photos/rocket.jpg', 'textures/brick.png'];
    const results = await Promise.all(
      ids.flatMap((image) => [
        inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image } }),
        inject({ method: 'POST', url: '/api/activations', payload: { model: 'builtin', image, layers: ['relu3'] } }),
      ]),
    );
    expect(results.map((r) => r.statusCode)).toEqual(new Array(10).fill(200));
    // Each image got its own answer (no cross-talk between concurrent runs on one session).
    const tops = results.filter((_, i) => i % 2 === 0).map((r) => JSON.stringify(r.json().top));
    expect(new Set(tops).size).toBeGreaterThan(1);
  });
});

describe('jobs', () => {
  it('streams progress and the result as server-sent events', async () => {
    const id = studio.jobs.start('test', async ({ onProgress, signal }) => {
      for (let i = 1; i <= 3; i++) {
        throwIfCancelled(signal);
        await new Promise((r) => setTimeout(r, 120));
        onProgress?.({ done: i, total: 3, phase: 'counting' });
      }
      return { answer: 42 };
    });
    const r = await inject({ method: 'GET', url: `/api/jobs/${id}/events` });
    expect(r.headers['content-type']).toBe('text/event-stream');
    const events = r.body.split('\n\n').filter(Boolean).map((chunk) => JSON.parse(chunk.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThanOrEqual(1);
    expect(events.at(-1)).toEqual({ type: 'result', result: { answer: 42 } });
    expect((await inject({ method: 'GET', url: `/api/jobs/${id}` })).json().state).toBe('done');
  });

  it('cancels a running job between steps, and the server keeps answering meanwhile', async () => {
    let steps = 0;
    const id = studio.jobs.start('slow', async ({ signal }) => {
      for (;;) {
        throwIfCancelled(signal);
        steps++;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    const events = inject({ method: 'GET', url: `/api/jobs/${id}/events` });
    await new Promise((r) => setTimeout(r, 100));
    const health = await inject({ method: 'GET', url: '/api/health' });
    expect(health.json().jobsRunning).toBe(1);
    const del = await inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    expect(del.json()).toEqual({ cancelled: true });
    const body = (await events).body;
    expect(body).toContain('event: cancelled');
    const at = steps;
    await new Promise((r) => setTimeout(r, 80));
    expect(steps).toBe(at);
  });

  it('reports a failed job with the error', async () => {
    const id = studio.jobs.start('broken', async () => {
      throw new Error('boom');
    });
    const r = await inject({ method: 'GET', url: `/api/jobs/${id}/events` });
    expect(r.body).toContain('event: error');
    expect(r.body).toContain('boom');
  });
});
