// Parameters the explanation methods take reach them from the studio: occlusion's approximate
// mode (tau, drillDown) and Score-CAM's mode. The request schema lacked them, so they were
// stripped (and, once unknown keys were refused, a 400): the user's setting never ran.
import { describe, expect, it } from 'vitest';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject, studio } = inProcessStudio();

const explain = (method: string, params: Record<string, unknown>) =>
  inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: [method], params } });

interface Final {
  type: string;
  result?: { maps: { params: Record<string, unknown> }[] };
  error?: { message: string };
}

async function finalEvent(job: string): Promise<Final> {
  const events = await jobEvents<Final>(inject, job);
  return events.at(-1)!;
}

async function mapParams(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await explain(method, params);
  expect(r.statusCode, r.body).toBe(202);
  const last = await finalEvent((r.json() as { job: string }).job);
  expect(last.type, JSON.stringify(last)).toBe('result');
  return last.result!.maps[0]!.params;
}

describe('explain parameters the schema used to drop', () => {
  it('occlusion tau and drillDown reach the approximate mode', async () => {
    // the defaults are 0.75 and 0.5: other values come back only if they reached the method
    const p = await mapParams('occlusion', { occlusion: { window: 7, mode: 'approximate', tau: 0.3, drillDown: 1 } });
    expect(p).toMatchObject({ mode: 'approximate', tau: 0.3, drillDown: 1 });
  });

  it('scorecam.mode and score-cam.mode reach Score-CAM', async () => {
    // the default is incremental: brute force comes back only if it reached the method
    for (const key of ['scorecam', 'score-cam']) {
      expect((await mapParams('scorecam', { [key]: { mode: 'brute-force' } }))['mode'], key).toBe('brute-force');
    }
  });

  it('out-of-range values are a 400 naming the field, as the library bounds them', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ occlusion: { mode: 'approximate', tau: 0 } }, 'occlusion/tau'],
      [{ occlusion: { mode: 'approximate', tau: 1.5 } }, 'occlusion/tau'],
      [{ occlusion: { mode: 'approximate', drillDown: 0 } }, 'occlusion/drillDown'],
      [{ occlusion: { mode: 'approximate', drillDown: 2 } }, 'occlusion/drillDown'],
      [{ scorecam: { mode: 'fastest' } }, 'scorecam/mode'],
    ];
    for (const [params, field] of cases) {
      const r = await explain(field.startsWith('scorecam') ? 'scorecam' : 'occlusion', params);
      expect(r.statusCode, JSON.stringify(params)).toBe(400);
      expect((r.json() as { error: { message: string } }).error.message).toContain(field);
    }
  });

  it('tau or drillDown without the approximate mode is a 400 before any work', async () => {
    for (const extra of [{ tau: 0.5 }, { drillDown: 0.5 }, { mode: 'incremental', tau: 0.5 }]) {
      const r = await explain('occlusion', { occlusion: { window: 7, ...extra } });
      expect(r.statusCode, JSON.stringify(extra)).toBe(400);
      const { error } = r.json() as { error: { message: string; hint: string } };
      expect(error.message).toMatch(/applies only to mode "approximate"/);
      expect(error.hint).toContain('approximate');
    }
  });

  it('a class target out of range or a label the model lacks is refused before a job starts', async () => {
    const cases: [target: number | string, status: number, message: RegExp][] = [
      [10, 400, /Target class 10 is out of range: model "[^"]+" has 10 classes \(0-9\)/],
      [1_000_000, 400, /Target class 1000000 is out of range/],
      ['tabby', 404, /No class label named "tabby"/],
    ];
    for (const [target, status, message] of cases) {
      const before = studio().jobs.running() + studio().jobs.queued();
      const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: ['saliency'], target } });
      expect(r.statusCode, r.body).toBe(status);
      const { error } = r.json() as { error: { message: string; hint?: string } };
      expect(error.message).toMatch(message);
      expect(error.hint).toBeTruthy();
      expect(studio().jobs.running() + studio().jobs.queued()).toBe(before);
    }
    // a label and an index in range still start one
    for (const target of ['Bag', 8]) {
      const r = await inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: ['saliency'], target } });
      expect(r.statusCode, r.body).toBe(202);
      expect((await finalEvent((r.json() as { job: string }).job)).type).toBe('result');
    }
  });
});
