// A hidden unit's explanation cuts the model at the unit's layer (models/unit-model.ts). For a
// deep model that took the server's event loop for 100 ms and more per request (a 15000-layer
// chain: 150 to 900 ms, every other request of every page waiting), so the route has the
// interactive worker cut and check it: the server process never cuts a model, and its health
// check answers while a deep model is cut.
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { inProcessStudio, multipart } from './page-inject.js';

// Counts the cuts made in this process (the studio's); its workers are processes of their own.
const cuts = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../src/models/unit-model.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/models/unit-model.js')>();
  return {
    ...m,
    unitModel: (...a: Parameters<typeof m.unitModel>) => (cuts.n++, m.unitModel(...a)),
    cachedUnitModel: (...a: Parameters<typeof m.cachedUnitModel>) => (cuts.n++, m.cachedUnitModel(...a)),
  };
});

const { inject } = inProcessStudio();

const IMAGE = 'fashion-mnist/bag-test18.png';

/** The built-in CNN behind a chain of `length` ReLUs: every layer of the CNN is `length` nodes deep. */
function cnnBehindReluChain(length: number): Graph {
  const g = courseCnn();
  const input = g.inputs[0]!.name;
  const chain: Graph['nodes'] = Array.from({ length }, (_, k) => ({ op: 'Relu', name: `chain${k}`, inputs: [k ? `c${k - 1}` : input], outputs: [`c${k}`], attrs: {} }));
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === input ? `c${length - 1}` : i));
  g.nodes = [...chain, ...g.nodes];
  return g;
}

describe('hidden-unit explanations on a deep model', () => {
  it('are cut and checked on a worker: the server never cuts the model, and answers its health check meanwhile', async () => {
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('deep.onnx', encodeModel(cnnBehindReluChain(15_000))) });
    expect(up.statusCode, up.body).toBe(201);
    const model = up.json().id as string;

    // the event loop's longest stall while units are cut (a timer that falls behind shows it)
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    try {
      for (const unit of [{ layer: 'relu3' }, { layer: 'conv2', at: [3, 3] }, { layer: 'relu2' }]) {
        const r = await inject({ method: 'POST', url: '/api/explain', payload: { model, image: IMAGE, methods: ['saliency'], unit } });
        expect(r.statusCode, r.body).toBe(202);
        const health = performance.now();
        expect((await inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
        expect(performance.now() - health).toBeLessThan(1000);
      }
      // the refusals still come from the cut, before any job
      const outside = await inject({ method: 'POST', url: '/api/explain', payload: { model, image: IMAGE, methods: ['saliency'], unit: { layer: 'relu3', at: [7, 2] } } });
      expect(outside.statusCode, outside.body).toBe(400);
      expect(outside.json().error.message).toMatch(/Position 7,2 is outside layer "relu3", whose maps are 7x7/);
      const channel = await inject({ method: 'POST', url: '/api/explain', payload: { model, image: IMAGE, methods: ['saliency'], unit: { layer: 'relu3' }, target: 64 } });
      expect(channel.statusCode, channel.body).toBe(400);
      expect(channel.json().error.message).toMatch(/Channel 64 is out of range/);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      clearInterval(timer);
    }
    expect(cuts.n).toBe(0);
    // generous: cutting on the server held the loop for up to 900 ms here, now about 20 ms is left (routing, planning)
    expect(worst).toBeLessThan(150);
  }, 60_000);
});
