// POST /api/explain takes `unit` as the CLI's --unit: a hidden layer's channel is explained instead
// of a class. The result says it is a unit and carries no probabilities; the maps are the unit's,
// not the class's; and a unit the model cannot give is refused before any job starts, with the
// library's message.
import { describe, expect, it } from 'vitest';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject, studio } = inProcessStudio();

const IMAGE = 'fashion-mnist/bag-test18.png';
const explain = (extra: Record<string, unknown>) => inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['saliency', 'gradcam'], ...extra } });

interface Result {
  unit?: { layer: string; label: string; at?: number[] };
  target: { index: number; label: string; score: number };
  predicted: { index: number; label: string; logit: number; probability?: number };
  maps: { method: string; values: { dims: number[]; data: string } }[];
  metrics: Record<string, { deletion: { y: number[] } }>;
}

async function finalEvent(job: string): Promise<{ type: string; result?: Result; error?: { message: string } }> {
  const events = await jobEvents<{ type: string }>(inject, job);
  return events.at(-1)!;
}

async function result(extra: Record<string, unknown>): Promise<Result> {
  const r = await explain(extra);
  expect(r.statusCode, r.body).toBe(202);
  const last = await finalEvent(r.json().job);
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return last.result!;
}

const saliencyOf = (r: Result): Float32Array => {
  const bytes = Buffer.from(r.maps.find((m) => m.method === 'saliency')!.values.data, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};

describe('explaining a hidden unit in the studio', () => {
  it('labels the result with the unit, without probabilities, and its maps differ from the class\'s', async () => {
    const cls = await result({});
    const unit = await result({ unit: { layer: 'relu3', at: [3, 3] }, target: 5, metrics: true });
    expect(unit.unit).toMatchObject({ label: 'relu3', at: [3, 3] });
    expect(unit.target).toMatchObject({ index: 5, label: 'relu3:5@3,3' });
    expect(unit.predicted.label).toMatch(/^relu3:\d+@3,3$/);
    expect(unit.predicted.probability).toBeUndefined();
    expect(cls.unit).toBeUndefined();
    expect(cls.predicted.probability).toBeGreaterThan(0);
    // a unit at one position sees only its receptive field: its saliency is not the class's
    const a = saliencyOf(cls);
    const b = saliencyOf(unit);
    expect(b.length).toBe(a.length);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
    expect(diff).toBeGreaterThan(0);
    // outside the 3,3 unit's field (a 28x28 input, 7x7 map: the corners are far) nothing moves it
    expect(b[0]).toBe(0);
    // curves follow the unit's value, not a softmax over channels (which stays within [0, 1])
    expect(unit.metrics['saliency']!.deletion.y[0]).toBeCloseTo(unit.target.score, 3);
  });

  it('takes the channel mean without `at`, and the channel by its label', async () => {
    const r = await result({ unit: { layer: 'conv2' }, target: 'conv2:7' });
    expect(r.unit).toMatchObject({ label: 'conv2' });
    expect(r.unit!.at).toBeUndefined();
    expect(r.target).toMatchObject({ index: 7, label: 'conv2:7' });
  });

  const refusals: [what: string, extra: Record<string, unknown>, status: number, message: RegExp][] = [
    ['an unknown layer', { unit: { layer: 'conv9' } }, 404, /No layer named "conv9"/],
    ['a layer that is no feature map', { unit: { layer: 'flatten' } }, 400, /Layer "flatten" is \[.*\], not a feature map/],
    ['a position outside the map', { unit: { layer: 'relu3', at: [7, 2] } }, 400, /Position 7,2 is outside layer "relu3", whose maps are 7x7/],
    ['a probability score', { unit: { layer: 'relu3' }, score: 'prob' }, 400, /softmax probability means nothing over the channels of layer "relu3"/],
    ['a channel out of range', { unit: { layer: 'relu3' }, target: 64 }, 400, /Channel 64 is out of range: layer "relu3" has 64 channels/],
    ['an unknown key', { unit: { layer: 'relu3', row: 2 } }, 400, /Unknown field "row"/],
    ['a negative position', { unit: { layer: 'relu3', at: [-1, 2] } }, 400, /unit\/at\/0/],
    ['a position of one number', { unit: { layer: 'relu3', at: [2] } }, 400, /unit\/at/],
    ['an over-long layer name', { unit: { layer: 'x'.repeat(300) } }, 400, /unit\/layer/],
  ];
  for (const [what, extra, status, message] of refusals) {
    it(`refuses ${what} before a job starts`, async () => {
      const before = studio().jobs.running() + studio().jobs.queued();
      const r = await explain(extra);
      expect(r.statusCode, r.body).toBe(status);
      const { error } = r.json() as { error: { message: string; hint?: string } };
      expect(error.message).toMatch(message);
      expect(error.hint).toBeTruthy();
      expect(studio().jobs.running() + studio().jobs.queued()).toBe(before);
    });
  }
});

describe('the cut model', () => {
  it('is made once per model and unit, and another unit is another model', async () => {
    const { cachedUnitModel } = await import('../../src/models/unit-model.js');
    const model = studio().models.require('builtin');
    const a = cachedUnitModel(model, { layer: 'relu3', at: [1, 2] });
    expect(cachedUnitModel(model, { layer: 'relu3', at: [1, 2] })).toBe(a);
    expect(cachedUnitModel(model, { layer: 'relu3', at: [2, 1] })).not.toBe(a);
    expect(cachedUnitModel(model, { layer: 'relu3' })).not.toBe(a);
  });
});
