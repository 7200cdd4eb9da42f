// The studio's synthesis routes: every kind runs as a job whose result carries PNGs; bad requests
// fail before a job starts; a long job cancels; trained style networks are listed and downloadable.
import { afterAll, describe, expect, it } from 'vitest';
import { createStudio } from '../../src/interfaces/server/app.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { decodeModel } from '../../src/engine/onnx/codec.js';
import { pageInject } from '../server/page-inject.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
const studio = await createStudio({ engine, webDir: '/nonexistent' });
const inject = pageInject(() => studio);
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

interface Result {
  kind: string;
  images: { label: string; caption?: string; png: string }[];
  frames: { step: number; png: string }[];
  gif?: string;
  summary: Record<string, unknown>;
}

async function start(kind: string, payload: unknown): Promise<string> {
  const r = await inject({ method: 'POST', url: `/api/synthesize/${kind}`, payload: payload as Record<string, unknown> });
  expect(r.statusCode, r.body).toBe(202);
  return (r.json() as { job: string }).job;
}

async function events(id: string): Promise<{ type: string; result?: Result; error?: { message: string } }[]> {
  const r = await inject({ method: 'GET', url: `/api/jobs/${id}/events` });
  return r.body.split('\n\n').filter(Boolean).map((chunk) => JSON.parse(chunk.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
}

async function result(kind: string, payload: unknown): Promise<Result> {
  const ev = await events(await start(kind, payload));
  const last = ev.at(-1)!;
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  for (const img of last.result!.images) expect(Buffer.from(img.png, 'base64').subarray(1, 4).toString()).toBe('PNG');
  return last.result!;
}

describe('POST /api/synthesize/:kind', () => {
  it('featviz: one image per class with the prediction, frames and a GIF', async () => {
    const r = await result('featviz', { model: 'builtin', params: { objective: 'class:*', param: 'pixel-clip', start: 'zero', background: 0, steps: 8, frames: 3, tv: 2 } });
    expect(r.images.map((i) => i.label)).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    // the model's prediction on the synthesized image, said to be one: it need not be the tile's class
    for (const img of r.images) expect(img.caption).toMatch(/^predicted .+ \d+\.\d%$/);
    expect(r.frames.map((f) => f.step)).toEqual([0, 4, 8]);
    expect(Buffer.from(r.gif!, 'base64').subarray(0, 6).toString()).toBe('GIF89a');
  });

  it('adversarial, invert and dream return their pictures', async () => {
    const a = await result('adversarial', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', params: { epsilon: 0.1, steps: 10 } });
    expect(a.images.map((i) => i.label)).toEqual(['original', 'perturbation (amplified)', 'adversarial']);
    expect([a.images[0]!.caption, a.images[2]!.caption]).toEqual([expect.stringMatching(/^predicted /), expect.stringMatching(/^predicted /)]);
    expect(a.summary['linf'] as number).toBeLessThanOrEqual(0.1 + 1e-6);
    // judged as the 8-bit picture it shows: whole grey levels, within a budget that is not one (2.5/255)
    const q = await result('adversarial', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', params: { epsilon: 2.5 / 255, steps: 10 } });
    const levels = (q.summary['linf'] as number) * 255;
    expect(levels).toBeLessThanOrEqual(2.5);
    expect(Math.abs(levels - Math.round(levels))).toBeLessThan(1e-3);
    const inv = await result('invert', { model: 'builtin', image: 'fashion-mnist/bag-test18.png', params: { layers: 'conv1,relu3', steps: 10 } });
    expect(inv.images.map((i) => i.label)).toEqual(['input', 'conv1', 'relu3']);
    const d = await result('dream', { model: 'builtin', image: 'photos/chelsea.png', params: { layer: 'relu2', octaves: 2, steps: 2, maxSide: 48 } });
    expect(d.frames).toHaveLength(2);
  });

  it('style (texture synthesis) and style-train -> fast-style with the trained network; the network downloads as ONNX', async () => {
    const t = await result('style', { styles: [{ image: 'textures/gravel.png' }], params: { maxSide: 32, steps: 3 } });
    expect(t.images.map((i) => i.label)).toEqual(['texture']);
    const tr = await result('style-train', { styles: [{ image: 'textures/brick.png', name: 'brick' }, { image: 'photos/coffee.png', name: 'coffee' }], images: ['photos/rocket.jpg'], params: { steps: 3, size: 16, width: 2, blocks: 1 } });
    const id = tr.summary['net'] as string;
    expect(tr.images.map((i) => i.label)).toEqual(['brick', 'coffee']);
    const list = (await inject({ method: 'GET', url: '/api/style-nets' })).json() as { nets: { id: string; name: string; styles: string[] }[] };
    const listed = list.nets.find((n) => n.id === id)!;
    expect(listed.styles).toEqual(['brick', 'coffee']);
    // the name says when it was made; its styles are listed beside it, not inside it again
    expect(listed.name).toMatch(/^trained \d\d:\d\d:\d\d$/);
    expect(tr.summary['netName']).toBe(listed.name);
    const f = await result('fast-style', { image: 'photos/chelsea.png', net: id, params: { weights: [0.5, 0.5], maxSide: 64 } });
    expect(f.images[1]!.label).toBe('0.5 brick + 0.5 coffee');
    const onnx = await inject({ method: 'GET', url: `/api/style-nets/${id}/onnx` });
    expect(decodeModel(onnx.rawPayload).inputs.map((i) => i.name)).toEqual(['image', 'style']);
  });

  it('style-train with the same image picked twice and no names numbers the second (the method refuses names alike)', async () => {
    const tr = await result('style-train', { styles: [{ image: 'textures/brick.png' }, { image: 'textures/brick.png' }], images: ['photos/rocket.jpg'], params: { steps: 2, size: 16, width: 2, blocks: 1 } });
    expect(tr.images.map((i) => i.label)).toEqual(['brick', 'brick 2']);
  });

  it('rejects bad requests before starting a job', async () => {
    const unknownKind = await inject({ method: 'POST', url: '/api/synthesize/paint', payload: {} });
    expect(unknownKind.statusCode).toBe(400);
    const noImage = await inject({ method: 'POST', url: '/api/synthesize/adversarial', payload: { model: 'builtin' } });
    expect(noImage.statusCode).toBe(400);
    expect(noImage.json().error.message).toMatch(/needs an image/);
    const badImage = await inject({ method: 'POST', url: '/api/synthesize/dream', payload: { model: 'builtin', image: 'photos/nope.png' } });
    expect(badImage.statusCode).toBe(404);
    const noNet = await inject({ method: 'POST', url: '/api/synthesize/fast-style', payload: { image: 'photos/chelsea.png', net: 'missing' } });
    expect(noNet.statusCode).toBe(404);
    // a channel the layer does not have: refused with the request (it failed inside the job), estimate included
    for (const url of ['/api/synthesize/featviz', '/api/synthesize/featviz/estimate']) {
      const noChannel = await inject({ method: 'POST', url, payload: { model: 'builtin', params: { objective: 'channel:relu3:999', steps: 2 } } });
      expect(noChannel.statusCode, url).toBe(400);
      expect(noChannel.json().error.message).toMatch(/64 channels; channel 999 does not exist/);
    }
  });

  it('a long job stops when cancelled', async () => {
    const id = await start('featviz', { model: 'builtin', params: { objective: 'class:*', steps: 4000 } });
    await new Promise((r) => setTimeout(r, 700));
    await inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    const ev = await events(id);
    expect(ev.at(-1)!.type).toBe('cancelled');
  });
});
