// A binary classifier uploaded to the studio: its one logit (after a Sigmoid, as exported) is made
// two classes at load (models/binary-logit.ts), so the page lists two classes, predicts class 1
// with the model's own sigmoid probability where the logit is positive, and explains either class
// by the logit or the probability. Read as one class, it predicted "class 0" at 100% on every
// image and every probability map was flat.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { BINARY_SIZE, binaryConvNet } from '../support/binary-net.js';
import { inProcessStudio, jobResult, multipart } from './page-inject.js';

const { inject } = inProcessStudio();

interface Result {
  predicted: { index: number; label: string; probability: number };
  target: { index: number; score: number };
  maps: { method: string; values: { dims: number[] } }[];
}

const explained = (payload: Record<string, unknown>): Promise<Result> => jobResult<Result>(inject, '/api/explain', payload);

describe('a one-logit binary classifier in the studio', () => {
  it('lists two classes, predicts with the sigmoid, and explains either class by logit and by probability', async () => {
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('binary.onnx', encodeModel(binaryConvNet({ sigmoid: true }))) });
    expect(up.statusCode, up.body).toBe(201);
    const { id } = up.json() as { id: string };
    const listed = (await inject({ method: 'GET', url: '/api/models' })).json().models.find((m: { id: string }) => m.id === id) as { labels: string[]; warnings: string[] };
    expect(listed.labels).toEqual(['class 0', 'class 1']);
    expect(listed.warnings.some((w) => w.includes('the sigmoid of one logit'))).toBe(true);

    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: 2 } });
    expect(p.statusCode, p.body).toBe(200);
    const top = p.json().top as { index: number; probability: number; logit: number }[];
    expect(top.map((t) => t.index).sort()).toEqual([0, 1]);
    const one = top.find((t) => t.index === 1)!;
    // class 1's logit is l/2: its probability is sigmoid(l), the model's own output
    expect(one.probability).toBeCloseTo(1 / (1 + Math.exp(-2 * one.logit)), 5);
    expect(top[0]!.index).toBe(one.logit > 0 ? 1 : 0);

    for (const score of ['logit', 'prob']) {
      for (const target of [0, 1]) {
        const e = await explained({ model: id, image: 'photos/coffee.png', methods: ['saliency', 'gradcam', 'occlusion'], score, target });
        expect(e.target.index).toBe(target);
        // class 0's logit is -l/2, its probability 1 - sigmoid(l)
        const expected = score === 'logit' ? (target === 1 ? one.logit : -one.logit) : target === 1 ? one.probability : 1 - one.probability;
        expect(e.target.score).toBeCloseTo(expected, 4);
        expect(e.maps.map((m) => m.method).sort()).toEqual(['gradcam', 'occlusion', 'saliency']);
        for (const m of e.maps) expect(m.values.dims.slice(-2), m.method).toEqual([BINARY_SIZE, BINARY_SIZE]);
      }
    }

    // one class name ("Describe this model") names what the logit detects
    const d = await inject({ method: 'POST', url: `/api/models/${id}/describe`, payload: { labels: 'pneumonia' } });
    expect(d.statusCode, d.body).toBe(200);
    expect(d.json().labels).toEqual(['not pneumonia', 'pneumonia']);
  }, 120_000);
});
