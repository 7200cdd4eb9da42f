import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillBatch, pixelTable, selectSamples, stratifiedSubset, type ImageDataset } from '../../src/data/dataset.js';
import { FASHION_MNIST_PREPROCESSING, loadFashionMnist, SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { attrInt } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { readMetadata } from '../../src/models/metadata.js';
import { FASHION_MNIST_LABELS } from '../../src/models/zoo/index.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { classifierRunFromCheckpoint, evaluateClassifier, trainClassifier, validationSplit, type ClassifierConfig } from '../../src/training/classification.js';
import { denoiserRunFromCheckpoint } from '../../src/methods/diffusion/train.js';
import { buildForwardGraph, buildTrainingGraph } from '../../src/training/step.js';
import { checkpointProgress, epochOrder, fit, Trainer } from '../../src/training/trainer.js';
import { randn, rng } from '../support/rng.js';
import { tinyCnn } from './tiny.js';
import { tempFolder } from '../support/temp-folder.js';

// One intra-op thread: ONNX Runtime's CPU kernels are then deterministic run to run, which the
// resume test relies on (bitwise-equal weights).
const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());
const tmp = tempFolder('convlens-train-');
const train = loadFashionMnist('train', SUBSET_DIR);
const test = loadFashionMnist('test', SUBSET_DIR);
const prep = FASHION_MNIST_PREPROCESSING;

const config = (o: Partial<ClassifierConfig> = {}): ClassifierConfig => ({
  epochs: 3,
  batchSize: 50,
  seed: 1,
  optimizer: { type: 'adam' },
  lr: 0.005,
  schedule: { type: 'constant' },
  warmupSteps: 0,
  validationFraction: 0.1,
  ...o,
});

function batchOf(ds: ImageDataset, indices: number[]): { x: Tensor; y: Tensor } {
  const x = new Float32Array(indices.length * 784);
  const y = new Float32Array(indices.length * 10);
  fillBatch(ds, indices, [pixelTable(prep)], x, { data: y, classes: 10 });
  return { x: { dtype: 'float32', dims: [indices.length, 1, 28, 28], data: x }, y: { dtype: 'float32', dims: [indices.length, 10], data: y } };
}

describe('training on the committed subset', () => {
  it('a tiny CNN: the loss falls and test accuracy rises well above chance', async () => {
    const progress: number[] = [];
    const r = await trainClassifier(engine, { model: tinyCnn(3), labels: FASHION_MNIST_LABELS, preprocessing: prep, config: config() }, { train, test }, {
      onProgress: (p) => progress.push(p.metrics!.loss!),
    });
    expect(r.history).toHaveLength(3);
    expect(r.history[2]!.loss).toBeLessThan(r.history[0]!.loss * 0.6);
    expect(progress.length).toBe(3 * 18);
    expect(r.history[2]!.validation!.accuracy).toBeGreaterThan(0.5);
    expect(r.test!.accuracy).toBeGreaterThan(0.5); // chance: 0.1
    expect(r.test!.total).toBe(2000);
    // The returned model describes itself.
    const meta = readMetadata(r.model, r.model.realInputs()[0]!, 10);
    expect(meta.warnings).toEqual([]);
    expect(meta.labels).toEqual(FASHION_MNIST_LABELS);
    expect(meta.preprocessing).toEqual(prep);
    expect(meta.training).toMatchObject({ epochs: 3, batchSize: 50, trainSamples: 900, validationSamples: 100, steps: 54, optimizer: { type: 'adam' } });
    expect((meta.metrics as Record<string, number>).test_accuracy).toBeCloseTo(r.test!.accuracy, 4);
  });

  it('one SGD step moves every parameter by -lr * gradient', async () => {
    const model = tinyCnn(0);
    const training = buildTrainingGraph(model);
    const trainer = new Trainer(engine, training, model.initializers, { optimizer: { type: 'sgd', momentum: 0 } });
    const before = new Map([...trainer.params].map(([k, v]) => [k, v.slice()]));
    const { x, y } = batchOf(train, [0, 1, 2, 3, 4, 5, 6, 7]);
    const out = await trainer.step({ input: x, [training.targets]: y }, 0.1);
    for (const [name, p] of trainer.params) {
      const g = out[training.gradientOutputs[name]!]!.data as Float32Array;
      const b = before.get(name)!;
      expect(Array.from(p)).toEqual(Array.from(b, (v, i) => Math.fround(v - 0.1 * (g[i]! + 0 * v))));
    }
    await trainer.dispose();
  });
});

describe('BatchNormalization in training mode', () => {
  it('the training graph normalizes with batch statistics and updates the running statistics', async () => {
    const model = tinyCnn(0, true);
    const training = buildTrainingGraph(model);
    const bn = training.graph.nodes.find((n) => n.op === 'BatchNormalization')!;
    expect(attrInt(bn, 'training_mode', 0)).toBe(1);
    expect(training.buffers).toEqual({ 'bn2.running_mean': 'bn2.running_mean:next', 'bn2.running_var': 'bn2.running_var:next' });
    expect(training.parameters).toContain('bn2.weight');
    expect(training.parameters).not.toContain('bn2.running_mean');

    // lr 0: weights stay, so conv2's output on the batch is what the statistics were taken of.
    const trainer = new Trainer(engine, training, model.initializers, { optimizer: { type: 'sgd' } });
    const { x, y } = batchOf(train, Array.from({ length: 16 }, (_, i) => i * 3));
    await trainer.step({ input: x, [training.targets]: y }, 0);
    const fwd = await engine.compileOnce(buildForwardGraph(model, [], ['conv2']));
    const conv2 = (await fwd.run({ input: x })).conv2!;
    await fwd.release();
    const [n, c, h, w] = conv2.dims as number[];
    const d = conv2.data as Float32Array;
    for (let ch = 0; ch < c!; ch++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n!; i++) for (let p = 0; p < h! * w!; p++) s += d[(i * c! + ch) * h! * w! + p]!;
      const mean = s / (n! * h! * w!);
      for (let i = 0; i < n!; i++) for (let p = 0; p < h! * w!; p++) s2 += (d[(i * c! + ch) * h! * w! + p]! - mean) ** 2;
      const variance = s2 / (n! * h! * w!);
      // ONNX: running = momentum * running + (1 - momentum) * batch, momentum 0.9, starting from 0 and 1
      expect(trainer.buffers.get('bn2.running_mean')![ch]).toBeCloseTo(0.1 * mean, 4);
      expect(trainer.buffers.get('bn2.running_var')![ch]).toBeCloseTo(0.9 + 0.1 * variance, 4);
    }
    await trainer.dispose();
  });

  it('a BN model trains, and the exported inference model (running statistics) classifies above chance', async () => {
    const r = await trainClassifier(engine, { model: tinyCnn(2, true), labels: FASHION_MNIST_LABELS, preprocessing: prep, config: config({ validationFraction: 0, epochs: 2 }) }, { train });
    expect(r.history[1]!.loss).toBeLessThan(r.history[0]!.loss);
    const mean = r.model.initializers.get('bn2.running_mean')!.data as Float32Array;
    expect(mean.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    const bn = r.model.nodes.find((n) => n.op === 'BatchNormalization')!;
    expect(attrInt(bn, 'training_mode', 0)).toBe(0);
    const fwd = await engine.compileOnce(r.model);
    const m = await evaluateClassifier(async (x) => (await fwd.run({ input: x })).logits!, test, prep, FASHION_MNIST_LABELS);
    await fwd.release();
    expect(m.accuracy).toBeGreaterThan(0.3);
  });
});

describe('results that are not numbers', () => {
  it('images whose outputs are NaN or infinite count as wrong, outside the loss and the confusion matrix', async () => {
    const K = 10;
    const bad = (i: number): number => (i % 3 === 0 ? NaN : i % 3 === 1 ? Infinity : 0);
    let seen = 0;
    const m = await evaluateClassifier(
      async (x) => {
        const n = x.dims[0]!;
        const logits = new Float32Array(n * K);
        for (let i = 0; i < n; i++) {
          const index = seen + i;
          logits[i * K + test.labels[index]!] = 5; // right, unless poisoned
          if (index % 7 === 0 && !Number.isFinite(bad(index))) logits[i * K + (index % K)] = bad(index);
        }
        seen += n;
        return { dtype: 'float32', dims: [n, K], data: logits };
      },
      test,
      prep,
      FASHION_MNIST_LABELS,
      { batchSize: 64 },
    );
    let poisoned = 0;
    for (let i = 0; i < test.count; i++) if (i % 7 === 0 && !Number.isFinite(bad(i))) poisoned++;
    expect(poisoned).toBeGreaterThan(0);
    expect(m.unscored).toBe(poisoned);
    expect(m.total).toBe(test.count);
    expect(m.correct).toBe(test.count - poisoned);
    expect(m.accuracy).toBeCloseTo((test.count - poisoned) / test.count, 12);
    expect(Number.isFinite(m.loss)).toBe(true);
    expect(m.confusion.reduce((a, b) => a + b, 0)).toBe(test.count - poisoned);
    expect(m.perClass.reduce((a, p) => a + p.total, 0)).toBe(test.count);
  });

  it('a split that holds out no image trains without validation and says so; one that leaves none to train on is refused', async () => {
    const tiny = selectSamples(train, stratifiedSubset(train.labels, 10, 1, 3));
    expect(validationSplit(tiny, 10, { validationFraction: 0.1, seed: 1 }).validation).toHaveLength(0);
    expect(() => validationSplit(selectSamples(train, stratifiedSubset(train.labels, 10, 2, 3)), 10, { validationFraction: 0.9, seed: 1 })).toThrow(/leaves none of the 20 images to train on/);
    const lines: string[] = [];
    const r = await trainClassifier(engine, { model: tinyCnn(2), labels: FASHION_MNIST_LABELS, preprocessing: prep, config: config({ epochs: 1, batchSize: 10 }) }, { train: tiny }, { log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/leaves no validation images among 10; training without validation/);
    expect(r.history[0]!.validation).toBeUndefined();
    expect(Object.keys(r.metrics)).not.toContain('val_accuracy');
  });
});

describe('checkpoints', () => {
  const run = (o: Parameters<typeof trainClassifier>[3]) =>
    trainClassifier(engine, { model: tinyCnn(5), labels: FASHION_MNIST_LABELS, preprocessing: prep, config: config({ epochs: 2, batchSize: 64, augmentFlip: true, schedule: { type: 'cosine' } }) }, { train }, o);

  it('the batch order of an epoch depends only on (size, seed, epoch)', () => {
    expect(Array.from(epochOrder(50, 3, 1))).toEqual(Array.from(epochOrder(50, 3, 1)));
    expect(Array.from(epochOrder(50, 3, 1))).not.toEqual(Array.from(epochOrder(50, 3, 2)));
    expect([...epochOrder(50, 3, 1)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('a run stopped mid-epoch and resumed from its checkpoint ends with the same weights as an uninterrupted run', async () => {
    const whole = await run({});
    const path = join(tmp, 'stopped.ckpt');
    const first = await run({ checkpoint: { path }, stopAtStep: 20 }); // epoch 2 of 2, batch 5 of 15
    expect(first.completed).toBe(false);
    const saved = loadCheckpoint(path);
    expect(checkpointProgress(saved)).toMatchObject({ step: 20, epoch: 1, batchInEpoch: 5 });
    let startedAt = -1;
    const resumed = await run({ resume: saved, onStart: (s) => (startedAt = s.step) });
    expect(startedAt).toBe(20);
    expect(resumed.completed).toBe(true);
    expect(resumed.history.map((h) => h.loss)).toEqual(whole.history.map((h) => h.loss));
    for (const [name, t] of whole.model.initializers) {
      expect(Array.from(resumed.model.initializers.get(name)!.data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
    }
  });

  it('cancellation writes a checkpoint at the step reached and says how to resume', async () => {
    const path = join(tmp, 'cancelled.ckpt');
    const controller = new AbortController();
    await expect(
      run({
        signal: controller.signal,
        checkpoint: { path },
        onProgress: (p) => {
          if (p.done === 7) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED', hint: expect.stringContaining(`--resume ${path}`) });
    expect(checkpointProgress(loadCheckpoint(path))).toMatchObject({ step: 7, epoch: 0, batchInEpoch: 7 });
  });

  it('a checkpoint carries the run (model structure, labels, configuration); another kind of run refuses it by name', () => {
    const saved = loadCheckpoint(join(tmp, 'stopped.ckpt'));
    const run = classifierRunFromCheckpoint(saved, '"stopped.ckpt"');
    expect(run.model.nodes.map((n) => n.op)).toEqual(tinyCnn(5).nodes.map((n) => n.op));
    expect(run.labels).toEqual(FASHION_MNIST_LABELS);
    expect(run.config).toMatchObject({ epochs: 2, batchSize: 64, augmentFlip: true });
    expect(() => denoiserRunFromCheckpoint(saved, '"stopped.ckpt"')).toThrow(/"stopped.ckpt" is not a denoiser checkpoint/);
    expect(() => denoiserRunFromCheckpoint(saved, '"stopped.ckpt"')).toThrow(expect.objectContaining({ hint: expect.stringContaining('convlens diffuse train') }));
  });

  it('refuses to resume with settings that change the batch order', async () => {
    const saved = loadCheckpoint(join(tmp, 'stopped.ckpt'));
    const other = trainClassifier(engine, { model: tinyCnn(5), labels: FASHION_MNIST_LABELS, preprocessing: prep, config: config({ epochs: 2, batchSize: 32 }) }, { train }, { resume: saved });
    await expect(other).rejects.toThrow(/checkpoint was written with batchSize = 64, this run has 32/);
  });
});

describe('the generic core: a custom loss graph and feeds per batch', () => {
  it('fits a linear regression with an L1 loss whose targets input the loss builder adds', async () => {
    // model: y = x W^T + b, W [2, 3]; data from known weights, loss mean |y - t| built by the caller
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3]);
    const w = b.initializer('w', { dtype: 'float32', dims: [2, 3], data: new Float32Array(6) });
    const bias = b.initializer('b', { dtype: 'float32', dims: [2], data: new Float32Array(2) });
    b.output(b.op('Gemm', [x, w, bias], { transB: 1 }, { outputs: ['y'] }));
    const model = b.build();
    const training = buildTrainingGraph(model, {
      loss: (g, prediction) => {
        const t = g.input('t', 'float32', ['N', 2]);
        return g.op('ReduceMean', [g.op('Abs', [g.op('Sub', [prediction, t])])], { keepdims: 0 }, { outputs: ['l1'] });
      },
    });
    expect(training.loss).toBe('l1');
    expect(training.targets).toBe('');
    expect(training.dataInputs.sort()).toEqual(['t', 'x']);
    const W = [1, -2, 0.5, 3, 0, -1];
    const B = [0.25, -0.5];
    const n = 256;
    const xs = randn(rng(9), n * 3);
    const ts = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) for (let o = 0; o < 2; o++) ts[i * 2 + o] = B[o]! + W[o * 3]! * xs[i * 3]! + W[o * 3 + 1]! * xs[i * 3 + 1]! + W[o * 3 + 2]! * xs[i * 3 + 2]!;
    const trainer = new Trainer(engine, training, model.initializers, { optimizer: { type: 'sgd', momentum: 0.9 } });
    const data = {
      size: n,
      batch(idx: Int32Array): Record<string, Tensor> {
        const bx = new Float32Array(idx.length * 3);
        const bt = new Float32Array(idx.length * 2);
        idx.forEach((k, i) => {
          bx.set(xs.subarray(k * 3, k * 3 + 3), i * 3);
          bt.set(ts.subarray(k * 2, k * 2 + 2), i * 2);
        });
        return { x: { dtype: 'float32', dims: [idx.length, 3], data: bx }, t: { dtype: 'float32', dims: [idx.length, 2], data: bt } };
      },
    };
    const r = await fit(trainer, data, { epochs: 40, batchSize: 32, seed: 0, lr: 0.05, schedule: { type: 'cosine' } });
    expect(r.steps).toBe(320);
    expect(r.history[39]!.loss).toBeLessThan(0.02);
    Array.from(trainer.params.get('w')!).forEach((v, i) => expect(v).toBeCloseTo(W[i]!, 1));
    await trainer.dispose();
  });
});
