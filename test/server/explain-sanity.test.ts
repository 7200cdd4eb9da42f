// The model-randomization sanity check (and max-sensitivity) from the studio: POST /api/explain
// takes `sanity` and `sensitivity`, runs them in the explanation's job with a progress step per
// randomized layer, bounds them before the job starts and can be cancelled.
import { describe, expect, it } from 'vitest';
import { randomizationCheck } from '../../src/methods/metrics/sanity.js';
import { maxSensitivity } from '../../src/methods/metrics/robustness.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explainReport } from '../../src/methods/explain/report.js';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject, studio } = inProcessStudio();
const IMAGE = 'fashion-mnist/bag-test18.png';

interface Wire {
  dims: number[];
  data: string;
}
interface Scores {
  spearman: number | null;
  spearmanAbs: number | null;
  ssim: number | null;
  constant: boolean;
}
interface Event {
  type: string;
  progress?: { done: number; total: number; phase?: string; within?: { done: number; total: number } };
  result?: {
    target: { index: number };
    maps: { method: string }[];
    sanity?: { seed: number; available: number; layers: string[]; steps: { layer: string; maps: Record<string, Wire>; scores: Record<string, Scores> }[] };
    sensitivity?: { samples: number; methods: Record<string, number> };
  };
  error?: { message: string; hint?: string };
}

const floats = (w: Wire): Float32Array => new Float32Array(Buffer.from(w.data, 'base64').buffer.slice(0));
const explain = (payload: Record<string, unknown>) => inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: IMAGE, methods: ['saliency', 'gradcam'], ...payload } });
const active = (): number => studio().jobs.running() + studio().jobs.queued();

async function input(): Promise<Tensor> {
  const r = await inject({ method: 'POST', url: '/api/input', payload: { model: 'builtin', image: IMAGE } });
  const w = r.json().tensor as Wire;
  return { dtype: 'float32', dims: w.dims, data: floats(w) };
}

const close = (a: number | null, b: number): void => {
  if (Number.isNaN(b)) expect(a).toBeNull();
  else expect(a).toBeCloseTo(b, 5);
};

describe('POST /api/explain: sanity', () => {
  it('gives the library\'s randomizationCheck for the same seed, a progress step per randomized layer', async () => {
    const r = await explain({ sanity: { layers: 3, seed: 7 } });
    expect(r.statusCode, r.body).toBe(202);
    const live: Event[] = [];
    studio().jobs.subscribe(r.json().job, (e) => void live.push(e as Event));
    const events = await jobEvents<Event>(inject, r.json().job);
    const last = events.at(-1)!;
    expect(last.type, JSON.stringify(last.error)).toBe('result');
    const sanity = last.result!.sanity!;
    const model = studio().models.require('builtin');
    const lib = await randomizationCheck(model, await input(), { methods: ['saliency', 'gradcam'], layers: ['logits', 'conv4', 'conv3'], seed: 7, target: [last.result!.target.index] });
    expect(sanity.seed).toBe(7);
    expect(sanity.available).toBe(5);
    expect(sanity.layers).toEqual(['logits', 'conv4', 'conv3']);
    expect(sanity.steps.map((s) => s.layer)).toEqual(lib.layers);
    lib.steps.forEach((step, k) => {
      for (const m of ['saliency', 'gradcam']) {
        const mine = sanity.steps[k]!.scores[m]!;
        const theirs = step.scores[m]!;
        close(mine.spearman, theirs.spearman[0]!);
        close(mine.spearmanAbs, theirs.spearmanAbs[0]!);
        close(mine.ssim, theirs.ssim[0]!);
        expect(mine.constant).toBe(theirs.constant[0]);
        const map = sanity.steps[k]!.maps[m]!;
        expect(map.dims).toEqual([28, 28]);
        const want = step.maps[m]!.data as Float32Array;
        floats(map).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      }
    });
    // the page sees the cascade's phases (throttled to ~10 a second, so not necessarily each one)
    expect(live.some((e) => e.progress?.phase?.startsWith('sanity check: '))).toBe(true);
    // explainReport, which the job runs, names each randomized layer in turn, the count moving on
    const progress: { done: number; total: number; phase?: string }[] = [];
    await explainReport(model, await input(), { methods: ['saliency', 'gradcam'], sanity: { layers: 3, seed: 7 } }, { onProgress: (p) => progress.push(p) });
    const phases = [...new Set(progress.filter((p) => p.phase?.startsWith('sanity check')).map((p) => p.phase))];
    expect(phases).toEqual(['sanity check: randomized down to logits', 'sanity check: randomized down to conv4', 'sanity check: randomized down to conv3', 'sanity check: done']);
    const dones = progress.map((p) => p.done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ done: 8, total: 8 });
  }, 60_000);

  it('randomizes 4 layers by default, and adds max-sensitivity when asked (the library\'s numbers)', async () => {
    const r = await explain({ methods: ['saliency'], sanity: {}, sensitivity: { samples: 2, seed: 3 } });
    expect(r.statusCode, r.body).toBe(202);
    const last = (await jobEvents<Event>(inject, r.json().job)).at(-1)!;
    expect(last.type, JSON.stringify(last.error)).toBe('result');
    expect(last.result!.sanity!.layers).toEqual(['logits', 'conv4', 'conv3', 'conv2']);
    const lib = await maxSensitivity(studio().models.require('builtin'), await input(), Int32Array.of(last.result!.target.index), ['saliency'], {}, { samples: 2, seed: 3 });
    expect(last.result!.sensitivity!.samples).toBe(2);
    expect(last.result!.sensitivity!.methods['saliency']).toBeCloseTo(lib['saliency']![0]!, 5);
  }, 60_000);

  it('refuses out-of-range requests with a 400 before any job starts', async () => {
    const before = active();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ sanity: { layers: 0 } }, /sanity\/layers/],
      [{ sanity: { layers: 17 } }, /sanity\/layers/],
      [{ sanity: { layers: 2.5 } }, /sanity\/layers/],
      [{ sanity: { layers: 6 } }, /asked for 6 layers.*has 5 layers with weights/],
      [{ sanity: { seed: -1 } }, /sanity\/seed/],
      [{ sanity: { layer: 3 } }, /Unknown field "layer" \(body\/sanity\/layer\)/],
      [{ sanity: true }, /sanity/],
      [{ sensitivity: { samples: 51 } }, /sensitivity\/samples/],
      [{ sensitivity: { radius: 0.1 } }, /Unknown field "radius"/],
      [{ sanityCheck: {} }, /Unknown field "sanityCheck"/],
    ];
    for (const [payload, message] of cases) {
      const r = await explain(payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().error.message, JSON.stringify(payload)).toMatch(message);
    }
    // a unit's cut model has fewer layers with weights: checked on the worker, still before the job
    const unit = await explain({ unit: { layer: 'conv2' }, sanity: { layers: 3 } });
    expect(unit.statusCode, unit.body).toBe(400);
    expect(unit.json().error.message).toMatch(/has 2 layers with weights/);
    expect(JSON.stringify(unit.json())).not.toMatch(/--/);
    expect(active()).toBe(before);
  }, 60_000);

  it('is cancelled by DELETE /api/jobs/:id while it randomizes', async () => {
    // integrated gradients with 1000 steps and SmoothGrad with 500 samples, recomputed per layer
    const r = await explain({ methods: ['integrated-gradients', 'smoothgrad'], params: { 'integrated-gradients': { steps: 1000 }, smoothgrad: { samples: 500 } }, sanity: { layers: 5 } });
    expect(r.statusCode, r.body).toBe(202);
    const job = r.json().job as string;
    await new Promise<void>((resolve) => {
      const off = studio().jobs.subscribe(job, (e) => {
        if (e.type === 'progress' && (e as Event).progress?.phase?.startsWith('sanity check')) {
          off?.();
          resolve();
        }
      });
    });
    const del = await inject({ method: 'DELETE', url: `/api/jobs/${job}` });
    expect(del.json()).toEqual({ cancelled: true });
    const last = (await jobEvents<Event>(inject, job)).at(-1)!;
    expect(last.type).toBe('cancelled');
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
  }, 60_000);
});
