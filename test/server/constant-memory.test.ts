// Uploads that compute large values from their constants alone, which constant folding leaves
// to ONNX Runtime (test/server/costly-constants.test.ts: they load). ONNX Runtime computes such a
// value when it compiles a session, or in every run, and keeps it whatever the batch: the memory
// plan counts it beside the weights, so a job on such a model is refused before it starts,
// naming the value, instead of growing its worker until the pool kills it (until 2026-12-07: a
// prediction on the 1000-ConstantOfShape upload ran 5.7 s to 1 GB and was killed, an explanation
// 13.5 s to 3 GB; the CLI's took 69 s and 8 GB) or failing inside ONNX Runtime.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { inProcessStudio, multipart } from './page-inject.js';
import { cnnReading, fill, floatConstant, nodeOf, shapeConstant } from '../support/constant-graphs.js';

const { inject, studio } = inProcessStudio({ workerMemoryBytes: 2 ** 30, jobWorkers: 1 });

// About 190 MB each, within what a model may ask ONNX Runtime to compute from its constants
// (CONSTANT_WORK_BOUND, CONSTANT_BYTES_BOUND): larger ones, as the 4 GB these were until then,
// are refused when they load (test/server/costly-constants.test.ts). The studio's workers may
// hold 1 GB here (the interactive worker 384 MB, the job worker 640), which four copies of them
// beside the weights do not fit.
const uploads: [string, Graph, RegExp][] = [
  ['a Range of 50 million floats', cnnReading([floatConstant('from', 0), floatConstant('to', 5e7), floatConstant('step', 1), nodeOf('Range', ['from', 'to', 'step'], 'y')], 'y'), /"y", Range, \[50000000\] float32/],
  [
    '50 ConstantOfShape nodes of a million values, summed',
    cnnReading([shapeConstant('million', [1_000_000]), ...Array.from({ length: 50 }, (_, i) => fill(`fill${i}`, 'million', i)), { op: 'Sum', name: 'all', inputs: Array.from({ length: 50 }, (_, i) => `fill${i}`), outputs: ['all'], attrs: {} }], 'all'),
    /, \[1000000\] float32 and \d{2} more/,
  ],
  [
    'an Expand of a constant to [7000, 7000]',
    cnnReading([floatConstant('one', 1), shapeConstant('square', [7000, 7000]), nodeOf('Expand', ['one', 'square'], 'y')], 'y'),
    /"y", Expand, \[7000, 7000\] float32/,
  ],
];

describe('jobs on a model that computes large values from its constants alone', () => {
  for (const [what, graph, largest] of uploads) {
    it(`are refused before they start, naming the value, and the studio keeps working: ${what}`, async () => {
      const kept = await inject({ method: 'POST', url: '/api/models', ...multipart('kept.onnx', encodeModel(courseCnn(3))) });
      expect(kept.statusCode).toBe(201);
      const up = await inject({ method: 'POST', url: '/api/models', ...multipart('constants.onnx', encodeModel(graph)) });
      expect(up.statusCode, up.body).toBe(201);
      const id = up.json().id as string;
      const killedBefore = { ...studio().pool.stats().killed };
      const requests: [string, Record<string, unknown>, string][] = [
        ['/api/predict', { model: id, image: 'fashion-mnist/bag-test18.png', k: 1 }, 'A prediction'],
        ['/api/activations', { model: id, image: 'fashion-mnist/bag-test18.png', layers: ['relu1'] }, 'Activations'],
        ['/api/explain', { model: id, image: 'fashion-mnist/bag-test18.png', methods: ['saliency'] }, 'An explanation'],
        ['/api/synthesize/featviz', { model: id, params: { objective: 'class:3', steps: 8 } }, 'Feature visualization'],
        ['/api/dataset/index', { model: id, dataset: 'fashion-mnist-subset' }, 'Indexing'],
      ];
      for (const [url, payload, who] of requests) {
        const started = performance.now();
        const r = await inject({ method: 'POST', url, payload });
        expect(r.statusCode, `${url}: ${r.body}`).toBe(400);
        expect(performance.now() - started, url).toBeLessThan(2000);
        const error = r.json().error as { code: string; message: string; hint: string };
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.message, url).toMatch(new RegExp(`^${who}[^"]* cannot run: "constants" computes [\\d.]+ (GB|MB) of values from its constants alone`));
        expect(error.message).toMatch(largest);
        expect(error.hint).toMatch(/re-export/i);
        expect(error.hint).toContain('--memory');
      }
      // nothing ran: no worker grew until it was killed, no job is left running or queued
      expect(studio().pool.stats().killed).toEqual(killedBefore);
      expect(studio().jobs.running() + studio().jobs.queued()).toBe(0);
      // the upload stays (its summary still answers), as do the one before it and the built-in model
      const models = (await inject({ method: 'GET', url: '/api/models' })).json() as { models: { id: string }[] };
      expect(models.models.map((m) => m.id)).toEqual(expect.arrayContaining([kept.json().id, id, 'builtin']));
      expect((await inject({ method: 'GET', url: `/api/models/${id}/summary` })).statusCode).toBe(200);
      for (const model of [kept.json().id as string, 'builtin']) {
        const p = await inject({ method: 'POST', url: '/api/predict', payload: { model, image: 'fashion-mnist/bag-test18.png', k: 1 } });
        expect(p.statusCode, p.body).toBe(200);
      }
    }, 60_000);
  }

  it('still count nothing for constants no output reads, or small ones: the model predicts', async () => {
    // 1000 million-value ConstantOfShape nodes of which only one is read: ONNX Runtime drops the rest
    const graph = cnnReading([shapeConstant('million', [1_000_000]), ...Array.from({ length: 1000 }, (_, i) => fill(`fill${i}`, 'million', i))], 'fill999');
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('unread.onnx', encodeModel(graph)) });
    expect(up.statusCode, up.body).toBe(201);
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: up.json().id as string, image: 'fashion-mnist/bag-test18.png', k: 1 } });
    expect(p.statusCode, p.body).toBe(200);
  }, 60_000);
});
