// Progress of an explain call with several methods. Every method counts its own engine runs from
// 0; the studio's report added them up from the same start, so its count went 1/6, 0/6, 1/6 and
// its time-left estimate kept starting over. Each event now says which method (part) it counts.
import { afterAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../src/engine/jobs.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { explain } from '../../src/methods/explain/index.js';
import { explainReport } from '../../src/methods/explain/report.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const model = loadBuiltinModel(engine);
afterAll(() => engine.dispose());
const random = rng(7);
const x = { dtype: 'float32' as const, dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, () => random()) };
const methods = ['saliency', 'smoothgrad', 'occlusion', 'integrated-gradients'];

describe('progress of several methods', () => {
  it('names the method each event counts, in order', async () => {
    const events: Progress[] = [];
    await explain(model, x, { methods, onProgress: (p) => events.push(p), smoothgrad: { samples: 6 }, integratedGradients: { steps: 8 } });
    // the shared gradient pass before the methods belongs to none of them
    const parts = events.map((e) => e.part).filter((p) => p !== undefined);
    expect(parts.every((p) => p.count === methods.length)).toBe(true);
    const order = parts.map((p) => p!.index);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // smoothgrad, occlusion and IG each report runs of their own
    expect(new Set(order).size).toBeGreaterThanOrEqual(3);
  });

  it('never goes backwards in the report the studio shows, and ends at the total', async () => {
    const events: Progress[] = [];
    await explainReport(model, x, { methods, params: { smoothgrad: { samples: 6 }, 'integrated-gradients': { steps: 8 } } }, { onProgress: (p) => events.push(p) });
    const done = events.map((e) => e.done);
    for (let i = 1; i < done.length; i++) expect(done[i], `event ${i}: ${JSON.stringify(events[i])}`).toBeGreaterThanOrEqual(done[i - 1]!);
    expect(events.at(-1)!.done).toBe(events.at(-1)!.total);
    expect(Math.max(...done.slice(0, -1))).toBeGreaterThan(1);
  });

  it('does not count the prediction pass before the first method as that method done', async () => {
    // a perturbation method first: the forward prediction pass reported 1/1 as part 0, the
    // report showed 1/2, then feature ablation's first run 0/2
    const events: Progress[] = [];
    await explainReport(model, x, { methods: ['feature-ablation', 'saliency'], params: { segments: { segmentation: 'grid', count: 16 } } }, { onProgress: (p) => events.push(p) });
    const done = events.map((e) => e.done);
    for (let i = 1; i < done.length; i++) expect(done[i], `event ${i}: ${JSON.stringify(events[i])}`).toBeGreaterThanOrEqual(done[i - 1]!);
    expect(events[0]!.done, JSON.stringify(events[0])).toBe(0);
  });

  it('counts ROAD and infidelity in each method\'s faithfulness unit, not only the curves', async () => {
    // only deletion/insertion reported: the count reached the unit's end while ROAD and
    // infidelity, most of the unit's time, ran on without a word
    const events: Progress[] = [];
    await explainReport(model, x, { methods: ['saliency', 'gradcam'], metrics: true }, { onProgress: (p) => events.push(p) });
    const faithfulness = events.filter((e) => e.phase?.startsWith('faithfulness'));
    for (const method of ['saliency', 'gradcam']) {
      for (const metric of ['deletion/insertion', 'ROAD', 'infidelity']) {
        expect(faithfulness.some((e) => e.phase === `faithfulness: ${method} · ${metric}`), `${method} · ${metric}`).toBe(true);
      }
    }
    const done = events.map((e) => e.done);
    for (let i = 1; i < done.length; i++) expect(done[i], `event ${i}: ${JSON.stringify(events[i])}`).toBeGreaterThanOrEqual(done[i - 1]!);
    // the first method's unit is not complete before its infidelity has reported
    const firstInfidelity = events.findIndex((e) => e.phase === 'faithfulness: saliency · infidelity');
    expect(Math.max(...done.slice(0, firstInfidelity))).toBeLessThan(3);
    expect(done.at(-1)).toBe(4);
  });
});
