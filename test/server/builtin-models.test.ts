// The studio knows both built-in models, with the sample group and layer roles the page needs;
// the synthesis routes use the model's own preprocessing and profile.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio } from '../../src/interfaces/server/app.js';
import { pageInject } from './page-inject.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
const studio = await createStudio({ engine, webDir: '/nonexistent' });
const inject = pageInject(() => studio); // requests as the page sends them (same-origin)
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

async function run(kind: string, payload: Record<string, unknown>): Promise<{ type: string; result?: { summary: Record<string, unknown>; images: { label: string; caption?: string }[] }; error?: unknown }> {
  const r = await inject({ method: 'POST', url: `/api/synthesize/${kind}`, payload });
  expect(r.statusCode, r.body).toBe(202);
  const ev = await inject({ method: 'GET', url: `/api/jobs/${(r.json() as { job: string }).job}/events` });
  return ev.body.split('\n\n').filter(Boolean).map((chunk) => JSON.parse(chunk.split('\n').find((l) => l.startsWith('data: '))!.slice(6))).at(-1);
}

describe('built-in models in the studio', () => {
  it('lists the Fashion-MNIST CNN and SqueezeNet with their sample groups and profiles', async () => {
    const r = await inject({ method: 'GET', url: '/api/models' });
    const models = (r.json() as { models: { id: string; source: string; sampleGroup: string; labels: string[]; profile: { camLayer: string; dreamLayer: string } }[] }).models;
    const byId = Object.fromEntries(models.map((m) => [m.id, m]));
    expect(byId['builtin']).toMatchObject({ source: 'builtin', sampleGroup: 'fashion-mnist', profile: { camLayer: 'relu4', dreamLayer: 'relu3' } });
    expect(byId['squeezenet']).toMatchObject({ source: 'builtin', sampleGroup: 'photos', profile: { camLayer: '/relu25/Relu_output_0' } });
    expect(byId['squeezenet']!.labels[285]).toBe('Egyptian cat');
  });

  it('an adversarial job starts from the pixels predict sees: its "original" is predict\'s answer', async () => {
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: 'squeezenet', image: 'photos/coffee.png', k: 1 } });
    const top = (p.json() as { top: { label: string; probability: number }[] }).top[0]!;
    const last = await run('adversarial', { model: 'squeezenet', image: 'photos/coffee.png', params: { steps: 1, epsilon: 1 / 255 } });
    expect(last.type, JSON.stringify(last.error)).toBe('result');
    // the caption says it is the model's prediction, not the image's label
    expect(last.result!.images[0]!.caption).toBe(`predicted ${top.label} ${(100 * top.probability).toFixed(1)}%`);
  });

  it('style uses the selected model when it can serve, SqueezeNet for the gray CNN, the random network when asked', async () => {
    const payload = { image: 'photos/chelsea.png', styles: [{ image: 'textures/brick.png' }], params: { steps: 2, maxSide: 48 } };
    const fromCnn = await run('style', { ...payload, model: 'builtin' });
    expect(fromCnn.type, JSON.stringify(fromCnn.error)).toBe('result');
    expect(fromCnn.result!.summary['model']).toBe('squeezenet');
    const texture = await run('style', { ...payload, model: 'squeezenet', params: { ...payload.params, backbone: 'texture' } });
    expect(texture.result!.summary['model']).toBe('texture');
  });
});
