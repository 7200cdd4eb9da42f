// POST /api/channels is `convlens channels` as a studio job: per method, the layer's top channels
// ranked as the library ranks them, with their label (what "Explain this channel" and
// `explain --unit` take), contribution, share and a small map each. Refusals the library makes
// before any work are the route's answer, and the job can be cancelled.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInputs } from '../../src/io/inputs.js';
import { layerAttribution } from '../../src/methods/explain/layer-attribution.js';
import { ROOT } from '../support/cli.js';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject, studio } = inProcessStudio();

const IMAGE = 'fashion-mnist/bag-test18.png';
const post = (payload: Record<string, unknown>) => inject({ method: 'POST', url: '/api/channels', payload: { model: 'builtin', image: IMAGE, ...payload } });

interface Channel {
  channel: number;
  label: string;
  contribution: number;
  share: number | null;
  map: { dtype: string; dims: number[]; data: string };
}
interface Result {
  layer: { name: string; label: string; shape: number[] };
  score: string;
  target: { index: number; label: string; score: number };
  methods: { method: string; params: Record<string, unknown>; maps: string; notes: string[]; completeness?: { sum: number; scoreDifference: number }; top: Channel[] }[];
}

async function events(job: string): Promise<{ type: string; result?: Result; error?: { message: string } }[]> {
  return jobEvents<{ type: string }>(inject, job);
}

async function result(payload: Record<string, unknown>): Promise<Result> {
  const r = await post(payload);
  expect(r.statusCode, r.body).toBe(202);
  const last = (await events(r.json().job)).at(-1)!;
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return last.result!;
}

const floats = (data: string): Float32Array => {
  const b = Buffer.from(data, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

describe('POST /api/channels', () => {
  it('ranks the channels as the library does, with labels, shares and a map per channel at the layer resolution', async () => {
    const methods = ['gradient-x-activation', 'integrated-gradients', 'deeplift', 'ablation'];
    const r = await result({ layer: 'relu3', methods, top: 5, steps: 16, target: 3 });
    const model = studio().models.require('builtin');
    const { batch } = await loadInputs([join(ROOT, 'samples', IMAGE)], model);
    const lib = await layerAttribution(model, batch, { layer: 'relu3', methods: methods as never, steps: 16, target: 3 });
    const [c, h, w] = lib.shape;
    expect(r.layer).toEqual({ name: lib.layer, label: 'relu3', shape: [c, h, w] });
    expect(r.target).toMatchObject({ index: 3, label: model.labels[3] });
    expect(r.target.score).toBeCloseTo(lib.scores[0]!, 4);
    expect(r.methods.map((m) => m.method)).toEqual(methods);
    for (const [i, m] of r.methods.entries()) {
      const want = Array.from(lib.results[i]!.ranked[0]!.subarray(0, 5));
      expect(m.top.map((t) => t.channel), m.method).toEqual(want);
      const totals = lib.results[i]!.channels.data as Float32Array;
      for (const t of m.top) {
        expect(t.label).toBe(`relu3:${t.channel}`);
        expect(t.contribution).toBeCloseTo(totals[t.channel]!, 4);
        expect(t.map.dims).toEqual([h, w]);
        expect(floats(t.map.data).length).toBe(h * w);
      }
      // largest first
      for (let k = 1; k < m.top.length; k++) expect(m.top[k]!.contribution).toBeLessThanOrEqual(m.top[k - 1]!.contribution);
      expect(m.maps).toBe(m.method === 'ablation' ? 'activation' : 'attribution');
    }
    // gradient x activation's map of a channel sums to its contribution
    const gxa = r.methods[0]!.top[0]!;
    expect(floats(gxa.map.data).reduce((a, b) => a + b, 0)).toBeCloseTo(gxa.contribution, 3);
    // DeepLIFT's channels sum to the logit's change from the baseline
    const dl = r.methods[2]!.completeness!;
    expect(dl.sum).toBeCloseTo(dl.scoreDifference, 3);
  });

  it('takes the baseline, the ablation mode, the score, the steps and the rule, as the library does', async () => {
    const methods = ['integrated-gradients', 'ablation', 'deeplift'];
    const options = { score: 'prob', steps: 12, rule: 'riemann-trapezoid', baseline: 'blurred', ablation: 'baseline' } as const;
    const r = await result({ layer: 'relu3', methods, top: 4, target: 3, ...options });
    const model = studio().models.require('builtin');
    const { batch } = await loadInputs([join(ROOT, 'samples', IMAGE)], model);
    const lib = await layerAttribution(model, batch, { layer: 'relu3', methods: methods as never, target: 3, ...options });
    expect(r.score).toBe('prob');
    expect(r.target.score).toBeCloseTo(lib.scores[0]!, 5);
    expect(r.target.score).toBeLessThanOrEqual(1);
    const params = Object.fromEntries(r.methods.map((m) => [m.method, m.params]));
    expect(params['integrated-gradients']).toMatchObject({ steps: 12, rule: 'riemann-trapezoid', baseline: 'blurred' });
    expect(params['ablation']).toEqual({ ablation: 'baseline', baseline: 'blurred' });
    expect(params['deeplift']).toEqual({ baseline: 'blurred', score: 'logit' });
    for (const [i, m] of r.methods.entries()) expect(m.top.map((t) => t.channel), m.method).toEqual(Array.from(lib.results[i]!.ranked[0]!.subarray(0, 4)));
    // integrated gradients' channels sum to the probability's change from the blurred image
    const ig = r.methods[0]!.completeness!;
    expect(ig.sum).toBeCloseTo(ig.scoreDifference, 2);
  }, 60_000);

  it('defaults to the predicted class and 8 channels', async () => {
    const r = await result({ layer: 'conv2', methods: ['gradient-x-activation'] });
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: 'builtin', image: IMAGE, k: 1 } });
    expect(r.target.index).toBe((p.json() as { top: { index: number }[] }).top[0]!.index);
    expect(r.methods[0]!.top).toHaveLength(8);
  });

  it('defaults to the layer the model listing names for channels, as convlens channels does', async () => {
    const listed = (await inject({ method: 'GET', url: '/api/models' })).json().models.find((m: { id: string }) => m.id === 'builtin') as { channelsLayer: string };
    const r = await result({ methods: ['gradient-x-activation'] });
    expect(r.layer.name).toBe(listed.channelsLayer);
  });

  const refusals: [what: string, payload: Record<string, unknown>, status: number, message: RegExp][] = [
    ['an unknown layer', { layer: 'conv9', methods: ['deeplift'] }, 404, /No layer named "conv9"/],
    ['a layer that is no feature map', { layer: 'flatten', methods: ['deeplift'] }, 400, /Layer "flatten" is \[.*\], not a feature map/],
    ['an unknown class', { layer: 'relu3', methods: ['deeplift'], target: 'zebra' }, 404, /No class label named "zebra"/],
    ['an unknown method', { layer: 'relu3', methods: ['gradcam'] }, 400, /methods\/0/],
    ['a method twice', { layer: 'relu3', methods: ['deeplift', 'deeplift'] }, 400, /methods/],
    ['more than 64 channels', { layer: 'relu3', methods: ['deeplift'], top: 65 }, 400, /top/],
    ['more than 1000 steps', { layer: 'relu3', methods: ['integrated-gradients'], steps: 1001 }, 400, /steps/],
    ['an over-long layer name', { layer: 'x'.repeat(300), methods: ['deeplift'] }, 400, /layer/],
    ['an unknown key', { layer: 'relu3', methods: ['deeplift'], unit: 3 }, 400, /Unknown field "unit"/],
    // options the asked methods would ignore: the ranking would not be the one asked for
    ['path steps without a path method', { layer: 'relu3', methods: ['deeplift', 'ablation'], steps: 16 }, 400, /^"steps" applies only with integrated-gradients or conductance; here it would be ignored\.$/],
    ['a quadrature rule without a path method', { layer: 'relu3', methods: ['gradient-x-activation'], rule: 'riemann-left' }, 400, /^"rule" applies only with integrated-gradients or conductance/],
    ['an ablation mode without ablation', { layer: 'relu3', methods: ['deeplift'], ablation: 'baseline' }, 400, /^"ablation" applies only with the ablation method/],
    ['a baseline no method uses', { layer: 'relu3', methods: ['gradient-x-activation', 'ablation'], baseline: 'blurred' }, 400, /^"baseline" applies only with integrated-gradients, conductance, deeplift, or ablation "baseline"/],
    ['the probability for DeepLIFT alone', { layer: 'relu3', methods: ['deeplift'], score: 'prob' }, 400, /DeepLIFT decomposes the target logit/],
  ];
  for (const [what, payload, status, message] of refusals) {
    it(`refuses ${what} before a job starts`, async () => {
      const before = studio().jobs.running() + studio().jobs.queued();
      const r = await post(payload);
      expect(r.statusCode, r.body).toBe(status);
      expect((r.json() as { error: { message: string } }).error.message).toMatch(message);
      expect(studio().jobs.running() + studio().jobs.queued()).toBe(before);
    });
  }

  it('refuses IG and ablation at a layer a branch bypasses with the library\'s message, and runs the others there', async () => {
    const body = { model: 'squeezenet', image: 'photos/chelsea.png', layer: 'fires.7/expand1x1_relu' };
    for (const method of ['integrated-gradients', 'ablation']) {
      const r = await inject({ method: 'POST', url: '/api/channels', payload: { ...body, methods: [method] } });
      expect(r.statusCode, r.body).toBe(400);
      const { error } = r.json() as { error: { message: string; hint: string } };
      expect(error.message).toMatch(/another branch bypasses it/);
      expect(error.hint).toMatch(/fires\.7/);
    }
    // asked beside a method the layer allows, they are skipped with the reason (a studio hint)
    const ok = await inject({ method: 'POST', url: '/api/channels', payload: { ...body, methods: ['gradient-x-activation', 'ablation'], top: 3 } });
    expect(ok.statusCode, ok.body).toBe(202);
    const last = (await events(ok.json().job)).at(-1)!;
    expect(last.type, JSON.stringify(last.error)).toBe('result');
    const skipped = (last.result as unknown as { skipped: { method: string; reason: string; hint: string }[] }).skipped;
    expect(skipped.map((k) => k.method)).toEqual(['ablation']);
    expect(skipped[0]!.reason).toMatch(/another branch bypasses it/);
    expect(skipped[0]!.hint).not.toMatch(/`convlens/);
    expect(last.result!.methods.map((m) => m.method)).toEqual(['gradient-x-activation']);
    expect(last.result!.methods[0]!.top.map((t) => t.label.startsWith(`${last.result!.layer.label}:`))).toEqual([true, true, true]);
    // conductance alone runs there: it reads the layer in the full network
    const cond = await inject({ method: 'POST', url: '/api/channels', payload: { ...body, methods: ['conductance'], steps: 8, top: 2 } });
    expect(cond.statusCode, cond.body).toBe(202);
    const done = (await events(cond.json().job)).at(-1)!;
    expect(done.type, JSON.stringify(done.error)).toBe('result');
    expect(done.result!.methods.map((m) => m.method)).toEqual(['conductance']);
    expect(done.result!.methods[0]!.notes.join()).toMatch(/bypasses it/);
    expect(done.result!.methods[0]!.top).toHaveLength(2);
  }, 60_000);

  it('is cancelled by DELETE /api/jobs/:id', async () => {
    // SqueezeNet's fire5 with 1000 path steps and ablation of its 256 channels: far longer than the cancel
    const r = await inject({ method: 'POST', url: '/api/channels', payload: { model: 'squeezenet', image: 'photos/chelsea.png', layer: 'fires.5', methods: ['integrated-gradients', 'ablation'], steps: 1000 } });
    expect(r.statusCode, r.body).toBe(202);
    const job = r.json().job as string;
    await expect.poll(async () => (await inject({ method: 'GET', url: `/api/jobs/${job}` })).json().state, { timeout: 30_000 }).toBe('running');
    const del = await inject({ method: 'DELETE', url: `/api/jobs/${job}` });
    expect(del.json()).toEqual({ cancelled: true });
    const last = (await events(job)).at(-1)!;
    expect(last.type).toBe('cancelled');
  }, 60_000);
});

describe('docs/api.md: Channels of a layer', () => {
  const doc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Channels of a layer'), doc.indexOf('## Dataset lens'));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('documents a request the route takes, and the result it gives', async () => {
    const body = JSON.parse(blocks[0]!.replace('POST /api/channels', '').replace(/\s\/\/.*$/gm, '')) as Record<string, unknown>;
    const r = await result({ ...body, image: body['image'], model: body['model'] });
    const documented = JSON.parse(blocks[1]!.replace(/"WireTensor \[h, w\]"/, '{}')) as Result;
    expect(Object.keys(r).sort()).toEqual(Object.keys(documented).sort());
    expect(r.layer).toEqual(documented.layer);
    expect(r.target).toMatchObject({ index: documented.target.index, label: documented.target.label });
    const dl = r.methods.find((m) => m.method === 'deeplift')!;
    expect(Object.keys(dl).sort()).toEqual(Object.keys(documented.methods[0]!).sort());
    expect(Object.keys(dl.top[0]!).sort()).toEqual(Object.keys(documented.methods[0]!.top[0]!).sort());
    expect(dl.top[0]!.label).toBe(documented.methods[0]!.top[0]!.label);
    // the studio guide has the section too
    expect(readFileSync(join(ROOT, 'docs/studio.md'), 'utf8')).toMatch(/### Channels behind this prediction[\s\S]*Explain this channel/);
  }, 60_000);
});
