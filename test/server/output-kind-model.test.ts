// A multi-label head and a declared regression uploaded to the studio (models/output-kind.ts).
// The multi-label head (a Sigmoid over 5 attributes) was listed, predicted and explained as a
// softmax classifier: every attribute near 20%, the five summing to 100%, and its "logit" the
// Sigmoid's output. A regression's one output became "class 0 / class 1" at percentages.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { inProcessStudio, jobEvents, jobResult, multipart } from './page-inject.js';

const { inject } = inProcessStudio();

const SIZE = 16;

/** conv, relu, global pool, dense to `outputs` scores; then a Sigmoid, or the kind declared in the metadata. */
function headNet(outputs: number, o: { sigmoid?: boolean; kind?: string }): Graph {
  const b = new GraphBuilder();
  b.graph.name = `head_${outputs}`;
  const L = new Layers(b, seededRandom(23));
  const image = b.input('image', 'float32', ['N', 3, SIZE, SIZE]);
  const pooled = L.globalAvgPool(L.relu(L.conv2d(image, 'conv1', { filters: 6, stride: 2 }), 'relu1'), 'gap');
  const z = L.dense(L.flatten(pooled, 'flat'), 'fc', outputs);
  b.output(o.sigmoid ? b.op('Sigmoid', [z], {}, { name: 'attributes', outputs: ['attributes'] }) : z);
  const g = b.build();
  if (o.kind) g.metadata.set(METADATA_KEYS.output, o.kind);
  return g;
}

interface Top {
  index: number;
  probability?: number;
  logit: number;
}

async function upload(name: string, graph: Graph): Promise<{ id: string; listed: { outputKind: string; warnings: string[] } }> {
  const up = await inject({ method: 'POST', url: '/api/models', ...multipart(name, encodeModel(graph)) });
  expect(up.statusCode, up.body).toBe(201);
  const { id } = up.json() as { id: string };
  const listed = (await inject({ method: 'GET', url: '/api/models' })).json().models.find((m: { id: string }) => m.id === id);
  return { id, listed };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

describe('output kinds in the studio', () => {
  it('a multi-label head: each attribute its own sigmoid, explained by its logit or that sigmoid', async () => {
    const { id, listed } = await upload('attributes.onnx', headNet(5, { sigmoid: true }));
    expect(listed.outputKind).toBe('multi-label');
    expect(listed.warnings.some((w) => w.includes('multi-label'))).toBe(true);

    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: 5 } });
    expect(p.statusCode, p.body).toBe(200);
    const top = p.json().top as Top[];
    expect(top).toHaveLength(5);
    for (const t of top) expect(t.probability).toBeCloseTo(sigmoid(t.logit), 5);

    for (const score of ['logit', 'prob']) {
      const target = top[top.length - 1]!;
      const e = await jobResult<{ target: { index: number; score: number } }>(inject, '/api/explain', { model: id, image: 'photos/coffee.png', methods: ['saliency', 'occlusion'], score, target: target.index });
      expect(e.target.index).toBe(target.index);
      expect(e.target.score).toBeCloseTo(score === 'logit' ? target.logit : sigmoid(target.logit), 4);
    }
  }, 120_000);

  it('a declared regression: its values, no classes or probabilities', async () => {
    const { id, listed } = await upload('age.onnx', headNet(1, { kind: 'regression' }));
    expect(listed.outputKind).toBe('regression');
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: 5 } });
    expect(p.statusCode, p.body).toBe(200);
    const top = p.json().top as Top[];
    expect(top).toHaveLength(1);
    expect(top[0]!.probability).toBeUndefined();
    const e = await jobResult<{ target: { index: number; score: number } }>(inject, '/api/explain', { model: id, image: 'photos/coffee.png', methods: ['saliency'], score: 'logit' });
    expect(e.target.score).toBeCloseTo(top[0]!.logit, 4);
  }, 120_000);

  it("a regression's unnamed outputs are outputs, not classes: its labels, warnings, predictions and explanations say so", async () => {
    const { id, listed } = await upload('landmarks.onnx', headNet(3, { kind: 'regression' }));
    const model = listed as unknown as { labels: string[]; warnings: string[]; profile: { labelled: boolean } };
    expect(model.labels).toEqual(['output 0', 'output 1', 'output 2']);
    expect(model.warnings.some((w) => w.startsWith('no output labels in the model; using "output 0".."output 2"'))).toBe(true);
    expect(model.warnings.join('\n')).not.toMatch(/class \d/);
    expect(model.profile.labelled).toBe(false);
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: 3 } });
    expect((p.json().top as { index: number; label: string }[]).map((t) => t.label)).toEqual([0, 1, 2].map((k) => `output ${k}`));
    const e = await jobResult<{ target: { index: number; label: string } }>(inject, '/api/explain', { model: id, image: 'photos/coffee.png', methods: ['saliency'], target: 2 });
    expect(e.target.label).toBe('output 2');
    const wrong = await inject({ method: 'POST', url: '/api/explain', payload: { model: id, image: 'photos/coffee.png', methods: ['saliency'], target: 7 } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.message).toContain('Target output 7 is out of range');
    // named in the studio: the warning goes
    const d = await inject({ method: 'POST', url: `/api/models/${id}/describe`, payload: { labels: ['x', 'y', 'z'] } });
    expect(d.statusCode, d.body).toBe(200);
    expect((d.json() as { warnings: string[] }).warnings.some((w) => /labels in the model/.test(w))).toBe(false);
  }, 120_000);

  it('takes another output kind from the studio (POST /api/models/:id/describe), for every later request, and refuses one it does not know', async () => {
    const { id, listed } = await upload('one-output.onnx', headNet(1, {}));
    // a one-output file reads as a binary classifier until told otherwise
    expect(listed.outputKind).toBe('single-label');
    expect((listed as unknown as { labels: string[] }).labels).toHaveLength(2);

    const bad = await inject({ method: 'POST', url: `/api/models/${id}/describe`, payload: { outputKind: 'ordinal' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('"ordinal"');
    expect(bad.json().error.hint).toContain('single-label, multi-label, regression');

    const d = await inject({ method: 'POST', url: `/api/models/${id}/describe`, payload: { outputKind: 'regression' } });
    expect(d.statusCode, d.body).toBe(200);
    const told = d.json() as { outputKind: string; labels: string[]; described: { outputKind?: string } };
    expect(told.outputKind).toBe('regression');
    expect(told.labels).toEqual(['output 0']);
    expect(told.described.outputKind).toBe('regression');
    expect((await inject({ method: 'GET', url: `/api/models/${id}` })).json().outputKind).toBe('regression');
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: 5 } });
    const top = p.json().top as Top[];
    expect(top).toHaveLength(1);
    expect(top[0]!.probability).toBeUndefined();
    const e = await jobResult<{ target: { score: number } }>(inject, '/api/explain', { model: id, image: 'photos/coffee.png', methods: ['saliency'] });
    expect(e.target.score).toBeCloseTo(top[0]!.logit, 4);
    const prob = await inject({ method: 'POST', url: '/api/explain', payload: { model: id, image: 'photos/coffee.png', methods: ['saliency'], score: 'prob' } });
    // refused before the job, or as its end
    if (prob.statusCode === 202) expect((await jobEvents<{ type: string; error?: { message: string } }>(inject, prob.json().job)).at(-1)?.error?.message).toMatch(/regression/);
    else expect(prob.statusCode).toBe(400);

    // and back: the binary classifier's two classes, with probabilities
    const back = await inject({ method: 'POST', url: `/api/models/${id}/describe`, payload: { outputKind: 'single-label' } });
    expect(back.statusCode, back.body).toBe(200);
    const again = (await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png', k: 5 } })).json().top as Top[];
    expect(again).toHaveLength(2);
    expect(again[0]!.probability! + again[1]!.probability!).toBeCloseTo(1, 5);
  }, 120_000);
});
