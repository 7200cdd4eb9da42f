// explain() takes the predictions from its first gradient pass when a method runs one (the graph
// picks each row's top class and differentiates it in the same run). These tests hold that path
// to the slow one: a forward pass for the logits, then gradients seeded with explicit one-hot rows.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain, methodContext, METHODS, type Explanation } from '../../src/methods/explain/index.js';
import { resolveBaseline } from '../../src/methods/explain/integrated-gradients.js';
import { scoreGradients } from '../../src/methods/explain/session.js';
import { PREDICTED } from '../../src/methods/explain/target.js';
import { rng } from '../support/rng.js';
import { courseModel, regionModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());
const model = courseModel(engine, 3);

function inputs(n: number, seed: number): Tensor {
  const rand = rng(seed);
  return { dtype: 'float32', dims: [n, 1, 28, 28], data: Float32Array.from({ length: n * 784 }, () => rand()) };
}

/** Row i's top class from a plain forward pass. */
async function forwardTop(x: Tensor): Promise<{ logits: Float32Array; top: number[] }> {
  const logits = (await model.run(x))[model.output]!.data as Float32Array;
  const top = Array.from({ length: x.dims[0]! }, (_, i) => {
    const row = logits.subarray(i * 10, (i + 1) * 10);
    return row.indexOf(Math.max(...row));
  });
  return { logits, top };
}

/** d logit[target] / d input through Model.gradients with a one-hot upstream gradient. */
async function oneHotGradient(x: Tensor, targets: readonly number[]): Promise<Float32Array> {
  const seed = new Float32Array(targets.length * 10);
  targets.forEach((t, i) => (seed[i * 10 + t] = 1));
  const r = await model.gradients(x, { seed: { upstream: [model.output] }, wrt: [model.input.name] }, { [model.output]: { dtype: 'float32', dims: [targets.length, 10], data: seed } });
  return r.gradients[model.input.name]!.data as Float32Array;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('the prediction pass of methods without a gradient pass', () => {
  it('runs in batches of the forward batch size, with the same predictions and CAM activations as one run', async () => {
    const x = inputs(7, 11);
    const whole = await explain(model, x, { methods: ['occlusion', 'cam'], occlusion: { window: 7, stride: 7 } });
    const sizes: number[] = [];
    const phases = new Set<string>();
    const counting = Object.create(model) as typeof model;
    counting.run = (t: Tensor, fetch?: readonly string[]) => (sizes.push(t.dims[0]!), model.run(t, fetch));
    const split = await explain(counting, x, { methods: ['occlusion', 'cam'], occlusion: { window: 7, stride: 7 }, batchSize: 3, onProgress: (p) => phases.add(p.phase ?? '') });
    expect(sizes.length).toBeGreaterThan(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(phases).toContain('prediction');
    expect(split.images).toEqual(whole.images);
    expect(Array.from(split.targets)).toEqual(Array.from(whole.targets));
    for (const m of [0, 1]) expect(maxAbsDiff(split.attributions[m]!.map.data as Float32Array, whole.attributions[m]!.map.data as Float32Array), split.attributions[m]!.method).toBeLessThanOrEqual(1e-5 * maxAbs(whole.attributions[m]!.map.data as Float32Array));
  });
});

describe('predictions from the first gradient pass', () => {
  it('the gradient method picks each image\'s top class in the graph: same targets, logits and gradients as forward + one-hot seeding', async () => {
    const x = inputs(6, 1);
    const { logits, top } = await forwardTop(x);
    // batch size 4 splits the 6 images over two runs
    const e = await explain(model, x, { methods: ['gradient'], batchSize: 4 });
    expect(Array.from(e.targets)).toEqual(top);
    e.images.forEach((im, i) => {
      expect(im.predicted.index).toBe(top[i]);
      expect(im.predicted.logit).toBeCloseTo(logits[i * 10 + top[i]!]!, 5);
    });
    const want = await oneHotGradient(x, top);
    const got = e.attributions[0]!.raw.data as Float32Array;
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-6 * maxAbs(want));
  });

  it('mixes given and predicted targets per image', async () => {
    const x = inputs(3, 2);
    const { top } = await forwardTop(x);
    const given = [(top[0]! + 1) % 10, 'predicted', 'Bag'] as const;
    const e = await explain(model, x, { methods: ['saliency', 'gradcam'], target: [...given] });
    const want = [(top[0]! + 1) % 10, top[1]!, 8];
    expect(Array.from(e.targets)).toEqual(want);
    e.images.forEach((im, i) => {
      expect(im.predicted.index).toBe(top[i]);
      expect(im.target.index).toBe(want[i]);
    });
  });

  it('a run without gradient methods gives the same predictions from a forward pass', async () => {
    const x = inputs(4, 3);
    const viaGradient: Explanation = await explain(model, x, { methods: ['gradcam'] });
    const viaForward: Explanation = await explain(model, x, { methods: ['cam'] });
    expect(Array.from(viaGradient.targets)).toEqual(Array.from(viaForward.targets));
    viaGradient.images.forEach((im, i) => {
      expect(im.predicted.index).toBe(viaForward.images[i]!.predicted.index);
      expect(im.predicted.probability).toBeCloseTo(viaForward.images[i]!.predicted.probability!, 5);
    });
  });

  it('scoreGradients differentiates the probability of the predicted class when asked for PREDICTED', async () => {
    const x = inputs(2, 4);
    const { top } = await forwardTop(x);
    const predicted = await scoreGradients(model, x, new Int32Array(2).fill(PREDICTED), { score: 'prob', wrt: [model.input.name] });
    const given = await scoreGradients(model, x, Int32Array.from(top), { score: 'prob', wrt: [model.input.name] });
    expect(Array.from(predicted.targets)).toEqual(top);
    expect(predicted.gradients[model.input.name]!.data).toEqual(given.gradients[model.input.name]!.data);
    // and the probability gradient is not the logit gradient (the softmax is in the graph)
    const logit = await oneHotGradient(x, top);
    expect(maxAbsDiff(predicted.gradients[model.input.name]!.data as Float32Array, logit)).toBeGreaterThan(1e-3 * maxAbs(logit));
  });
});

/** An engine that counts the ONNX Runtime sessions created: a method that needs no forward graph compiles one session. */
const backend = nodeBackend();
let sessions = 0;
const countingEngine = new Engine({ ...backend, createSession: (m: Uint8Array, o: Parameters<typeof backend.createSession>[1]) => (sessions++, backend.createSession(m, o)) });
afterAll(() => countingEngine.dispose());

describe('methods that run the input-gradient graph over many rows compile no forward graph', () => {
  it.each([['integrated-gradients'], ['smoothgrad'], ['vargrad']] as const)('%s: one session, predictions and scores as a forward pass gives them', async (method) => {
    const counted = courseModel(countingEngine, 3);
    const x = inputs(5, 6);
    const { logits, top } = await forwardTop(x);
    sessions = 0;
    const e = await explain(counted, x, { methods: [method], batchSize: 4, integratedGradients: { steps: 7, baseline: 'zero' }, smoothgrad: { samples: 3 } });
    expect(sessions).toBe(1);
    expect(Array.from(e.targets)).toEqual(top);
    e.images.forEach((im, i) => expect(im.predicted.logit).toBeCloseTo(logits[i * 10 + top[i]!]!, 5));
    if (method === 'integrated-gradients') {
      // the endpoints' scores came from the gradient runs: the same as forward passes of x and the baseline
      const zero = (await model.run({ dtype: 'float32', dims: [5, 1, 28, 28], data: new Float32Array(5 * 784) }))[model.output]!.data as Float32Array;
      const completeness = e.attributions[0]!.completeness!;
      expect(completeness.length).toBe(5);
      completeness.forEach((c, i) => expect(c.scoreDifference).toBeCloseTo(logits[i * 10 + top[i]!]! - zero[i * 10 + top[i]!]!, 4));
    }
  });
});

describe('LRP and FullGrad take the predictions from their own backward pass', () => {
  it.each([['lrp'], ['fullgrad']] as const)('%s: one session, the forward pass\'s predictions, the map of given targets', async (method) => {
    const counted = courseModel(countingEngine, 3);
    const x = inputs(5, 8);
    const { logits, top } = await forwardTop(x);
    sessions = 0;
    const e = await explain(counted, x, { methods: [method], batchSize: 4 });
    expect(sessions).toBe(1);
    expect(e.predictionPass.kind).toBe('shared gradient pass');
    expect(Array.from(e.targets)).toEqual(top);
    e.images.forEach((im, i) => expect(im.predicted.logit).toBeCloseTo(logits[i * 10 + top[i]!]!, 5));
    const given = await explain(model, x, { methods: [method], batchSize: 4, target: top });
    const a = e.attributions[0]!.map.data as Float32Array;
    expect(maxAbsDiff(a, given.attributions[0]!.map.data as Float32Array)).toBeLessThanOrEqual(1e-5 * maxAbs(a));
  });
});

describe('Integrated Gradients scores its endpoints without extra rows where it can', () => {
  const backend = nodeBackend();
  let rows = 0;
  const counting = {
    ...backend,
    createSession: async (m: Uint8Array, o: Parameters<typeof backend.createSession>[1]) => {
      const session = await backend.createSession(m, o);
      const run: typeof session.run = (feeds, fetch, into) => ((rows += Object.values(feeds)[0]!.dims[0]!), session.run(feeds, fetch, into));
      return { ...session, inputNames: session.inputNames, outputNames: session.outputNames, inputs: session.inputs, run, release: () => session.release() };
    },
  };
  const countingEngine = new Engine(counting);
  afterAll(() => countingEngine.dispose());

  // rows: the prediction pass (n), the path (n * steps), then one row for a baseline all images
  // share (zero) or one per image (blurred); score(x) comes from the prediction pass
  it.each([
    ['zero', 1],
    ['blurred', 5],
  ] as const)('baseline %s: n + n * steps + %i rows, and completeness against forward passes', async (baseline, baselineRows) => {
    const counted = courseModel(countingEngine, 3);
    const x = inputs(5, 8);
    const { logits, top } = await forwardTop(x);
    rows = 0;
    const steps = 7;
    const e = await explain(counted, x, { methods: ['integrated-gradients'], batchSize: 4, integratedGradients: { steps, baseline } });
    expect(rows).toBe(5 + 5 * steps + baselineRows);
    const base = resolveBaseline(model, x, baseline, 28 / 10);
    const atBase = (await model.run(base))[model.output]!.data as Float32Array;
    const completeness = e.attributions[0]!.completeness!;
    completeness.forEach((c, i) => expect(c.scoreDifference).toBeCloseTo(logits[i * 10 + top[i]!]! - atBase[i * 10 + top[i]!]!, 4));
  });

  it('run outside explain() (no prediction pass to read), it scores the inputs in its own rows', async () => {
    const counted = courseModel(countingEngine, 3);
    const x = inputs(3, 9);
    const { logits, top } = await forwardTop(x);
    rows = 0;
    const ctx = methodContext(counted, x, Int32Array.from(top), 'logit', { batchSize: 4, forwardBatchSize: 4, methods: ['integrated-gradients'] }, { methods: ['integrated-gradients'], integratedGradients: { steps: 5, baseline: 'zero' } });
    const r = await METHODS['integrated-gradients'].run(ctx);
    expect(rows).toBe(3 * 5 + 3 + 1);
    const zero = (await model.run({ dtype: 'float32', dims: [3, 1, 28, 28], data: new Float32Array(3 * 784) }))[model.output]!.data as Float32Array;
    r.completeness!.forEach((c, i) => expect(c.scoreDifference).toBeCloseTo(logits[i * 10 + top[i]!]! - zero[i * 10 + top[i]!]!, 4));
  });
});

describe('CAM and EigenCAM read their layer from the prediction pass', () => {
  const backend = nodeBackend();
  let sessions = 0;
  let runs = 0;
  const counting = {
    ...backend,
    createSession: async (m: Uint8Array, o: Parameters<typeof backend.createSession>[1]) => {
      sessions++;
      const session = await backend.createSession(m, o);
      return { ...session, inputNames: session.inputNames, outputNames: session.outputNames, inputs: session.inputs, run: (feeds: Parameters<typeof session.run>[0], fetch?: Parameters<typeof session.run>[1]) => (runs++, session.run(feeds, fetch)), release: () => session.release() };
    },
  };
  const countingEngine = new Engine(counting);
  afterAll(() => countingEngine.dispose());

  it.each([['cam'], ['eigencam']] as const)('%s: one forward graph, the same map as its own pass gives', async (method) => {
    const counted = courseModel(countingEngine, 3);
    const x = inputs(3, 7);
    sessions = 0;
    runs = 0;
    const e = await explain(counted, x, { methods: [method] });
    expect(sessions).toBe(1);
    expect(runs).toBe(1);
    // the same method beside a gradient method reads the layer from its own forward pass
    const separate = await explain(model, x, { methods: ['gradient', method] });
    const a = e.attributions[0]!.map.data as Float32Array;
    const b = separate.attributions.find((r) => r.method === method)!.map.data as Float32Array;
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(1e-6 * Math.max(maxAbs(b), 1e-12));
  });
});

describe('saliency reduces over channels in the graph unless the whole gradient is wanted', () => {
  const backend = nodeBackend();
  const outputs: string[][] = [];
  const recording = {
    ...backend,
    createSession: async (m: Uint8Array, o: Parameters<typeof backend.createSession>[1]) => {
      const s = await backend.createSession(m, o);
      outputs.push([...s.outputNames]);
      return s;
    },
  };
  const recordingEngine = new Engine(recording);
  afterAll(() => recordingEngine.dispose());
  const rgb = (n: number, seed: number): Tensor => {
    const rand = rng(seed);
    return { dtype: 'float32', dims: [n, 3, 16, 16], data: Float32Array.from({ length: n * 768 }, () => rand() - 0.5) };
  };

  it('alone: one session whose only gradient output is the [N, 1, H, W] max |gradient|, equal to the max over the whole gradient', async () => {
    const region = regionModel(recordingEngine);
    const x = rgb(5, 21);
    outputs.length = 0;
    const alone = await explain(region, x, { methods: ['saliency'], batchSize: 2 });
    expect(outputs.length).toBe(1);
    const input = region.input.name;
    expect(outputs[0]).toContain(`${input}:grad_abs_max_over_channels`);
    expect(outputs[0]).not.toContain(`${input}:grad`);
    const raw = alone.attributions[0]!.raw;
    expect(raw.dims).toEqual([5, 1, 16, 16]);
    // With the gradient method beside it, saliency reads the whole gradient: the same map.
    outputs.length = 0;
    const shared = await explain(region, x, { methods: ['gradient', 'saliency'] });
    expect(outputs.length).toBe(1);
    expect(outputs[0]).toContain(`${input}:grad`);
    const g = shared.attributions[0]!.raw.data as Float32Array;
    const want = new Float32Array(5 * 256);
    for (let i = 0; i < 5; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) want[i * 256 + p] = Math.max(want[i * 256 + p]!, Math.abs(g[(i * 3 + c) * 256 + p]!));
    expect(maxAbs(want)).toBeGreaterThan(0);
    expect(raw.data).toEqual(want);
    expect(shared.attributions[1]!.map.data).toEqual(want);
    expect(alone.attributions[0]!.map.data).toEqual(want);
    expect(Array.from(alone.targets)).toEqual(Array.from(shared.targets));
  });

  it('the sum over channels still reduces in JavaScript from the whole gradient', async () => {
    const region = regionModel(recordingEngine);
    const x = rgb(2, 22);
    const e = await explain(region, x, { methods: ['saliency'], saliency: { reduce: 'sum' } });
    const g = (await explain(region, x, { methods: ['gradient'] })).attributions[0]!.raw.data as Float32Array;
    const want = new Float32Array(2 * 256);
    for (let i = 0; i < 2; i++) for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) want[i * 256 + p] += Math.abs(g[(i * 3 + c) * 256 + p]!);
    expect(e.attributions[0]!.map.data).toEqual(want);
  });
});
