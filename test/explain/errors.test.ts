// Bad input gets a clear error before any long computation; long jobs report progress and stop when asked.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain, METHOD_NAMES, METHODS, resolveMethods } from '../../src/methods/explain/index.js';
import type { Progress } from '../../src/engine/jobs.js';
import { Model } from '../../src/models/model.js';
import { courseModel, flattenHeadModel, linearModel, regionInputs, regionModel } from './models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const course = courseModel(engine);
const x: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 29) / 29) };

describe('bad input', () => {
  it('an unknown method names the closest ones', async () => {
    const e = await failure(explain(course, x, { methods: ['gradcam+++'] }));
    expect(e.code).toBe('UNKNOWN_NAME');
    expect(e.message).toContain('No attribution method named "gradcam+++"');
    expect(e.hint).toContain('gradcam++');
  });

  it('method names accept aliases, case and underscores', () => {
    expect(resolveMethods(['Grad-CAM,IG', 'guided_backprop', 'smoothgrad_squared', 'score-cam'])).toEqual(['gradcam', 'integrated-gradients', 'guided-backprop', 'smoothgrad-sq', 'scorecam']);
  });

  it('"all" asks for every method (the list is 26 names long), once each', () => {
    expect(resolveMethods(['all'])).toEqual([...METHOD_NAMES]);
    expect(resolveMethods(['gradcam,ALL'])).toEqual(['gradcam', ...METHOD_NAMES.filter((m) => m !== 'gradcam')]);
  });

  it('a layer that is not spatial is rejected for CAM-type methods, with layers that would work', async () => {
    const dense = await failure(explain(course, x, { methods: ['gradcam'], layer: 'logits' }));
    expect(dense.message).toMatch(/"logits" has shape \[N, 10\]; CAM-type methods need a spatial feature map/);
    expect(dense.hint).toContain('relu4');
    const pooled = await failure(explain(course, x, { methods: ['scorecam'], layer: 'gap' }));
    expect(pooled.message).toContain('1x1 spatially');
    const input = await failure(explain(course, x, { methods: ['layercam'], layer: 'input' }));
    expect(input.message).toContain('is the model input');
    const unknown = await failure(explain(course, x, { methods: ['gradcam'], layer: 'relu9' }));
    expect(unknown.code).toBe('UNKNOWN_NAME');
    expect(unknown.hint).toMatch(/relu\d/);
  });

  it('a target out of range or an unknown label is rejected; labels match loosely', async () => {
    const range = await failure(explain(course, x, { methods: ['gradient'], target: 10 }));
    expect(range.message).toBe('Target class 10 is out of range: model "course-0" has 10 classes (0-9).');
    const neg = await failure(explain(course, x, { methods: ['gradient'], target: '-1' }));
    expect(neg.message).toContain('out of range');
    const label = await failure(explain(course, x, { methods: ['gradient'], target: 'ankle boots!' }));
    expect(label.code).toBe('UNKNOWN_NAME');
    expect(label.hint).toContain('Ankle boot');
    const ok = await explain(course, x, { methods: ['gradient'], target: 'ankle-boot' });
    expect(Array.from(ok.targets)).toEqual([9, 9]);
    const perImage = await explain(course, x, { methods: ['gradient'], target: ['Bag', 2] });
    expect(Array.from(perImage.targets)).toEqual([8, 2]);
    const count = await failure(explain(course, x, { methods: ['gradient'], target: [1, 2, 3] }));
    expect(count.message).toContain('3 targets given for 2 images');
  });

  it('cam on a model without global average pooling says why and what to use instead', async () => {
    const model = flattenHeadModel(engine);
    const e = await failure(explain(model, { dtype: 'float32', dims: [1, 1, 8, 8], data: new Float32Array(64).fill(0.5) }, { methods: ['cam'] }));
    expect(e.code).toBe('MODEL_UNSUPPORTED');
    expect(e.message).toContain('cam needs a model that ends in global average pooling followed by one dense layer');
    expect(e.message).toContain('Flatten');
    expect(e.hint).toContain('gradcam');
  });

  it('on a model without a spatial layer, the CAM family is skipped with the reason and the other methods run', async () => {
    const { model } = linearModel(engine);
    const x1: Tensor = { dtype: 'float32', dims: [1, 1, 4, 4], data: Float32Array.from({ length: 16 }, (_, i) => i / 16) };
    const cams = ['gradcam', 'xgradcam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam'];
    const r = await explain(model, x1, { methods: ['xgradcam', 'gradient', 'lrp', 'deeplift', 'fullgrad', ...cams] });
    expect(r.attributions.map((a) => a.method)).toEqual(['gradient', 'lrp', 'deeplift', 'fullgrad']);
    expect(r.skipped.map((s) => s.method)).toEqual(['xgradcam', ...cams.filter((m) => m !== 'xgradcam')]);
    for (const s of r.skipped) expect(s.reason).toContain('has no spatial (4-D) layer');
    // Asked for alone, the method fails with that reason instead.
    expect((await failure(explain(model, x1, { methods: ['hirescam'] }))).message).toContain('has no spatial (4-D) layer');
  });

  it('bad method parameters are rejected', async () => {
    expect((await failure(explain(course, x, { methods: ['occlusion'], occlusion: { window: 40 } }))).message).toContain('window height must be an integer from 1 to 28');
    expect((await failure(explain(course, x, { methods: ['smoothgrad'], smoothgrad: { samples: 0 } }))).message).toContain('samples must be a positive integer');
    expect((await failure(explain(course, x, { methods: ['occlusion'], occlusion: { window: 4, stride: 5 } }))).message).toContain('stride 5x5 is larger than the window 4x4');
    expect((await failure(explain(course, x, { methods: ['integrated-gradients'], integratedGradients: { baseline: { dtype: 'float32', dims: [1, 3, 28, 28], data: new Float32Array(3 * 784) } } }))).message).toContain('baseline has shape [1, 3, 28, 28]');
    expect((await failure(explain(course, x, { methods: ['gradient'], score: 'softmax' as 'prob' }))).message).toContain('Unknown score "softmax"');
    expect((await failure(explain(course, { dtype: 'float32', dims: [1, 1, 32, 32], data: new Float32Array(1024) }, { methods: ['gradient'] }))).code).toBe('SHAPE_MISMATCH');
  });
});

describe('a method that fails while running', () => {
  // A bug or a runtime failure in one method (not "does not apply to this model") must not
  // discard the maps the other methods made; alone, it surfaces as it is.
  async function withFailingSmoothGrad<T>(f: () => Promise<T>): Promise<T> {
    const original = METHODS.smoothgrad.run;
    METHODS.smoothgrad.run = () => Promise.reject(new Error('onnxruntime: out of memory (simulated)'));
    try {
      return await f();
    } finally {
      METHODS.smoothgrad.run = original;
    }
  }

  it('keeps the other methods\' results and reports it as failed, with its message', async () => {
    const e = await withFailingSmoothGrad(() => explain(course, x, { methods: ['saliency', 'smoothgrad', 'gradcam'] }));
    expect(e.attributions.map((a) => a.method)).toEqual(['saliency', 'gradcam']);
    expect(e.skipped).toEqual([{ method: 'smoothgrad', reason: 'onnxruntime: out of memory (simulated)', failed: true }]);
    const alone = await explain(course, x, { methods: ['saliency', 'gradcam'] });
    expect(Array.from(e.attributions[0]!.map.data as Float32Array)).toEqual(Array.from(alone.attributions[0]!.map.data as Float32Array));
  });

  it('alone, or when every method fails, the error itself is thrown', async () => {
    await expect(withFailingSmoothGrad(() => explain(course, x, { methods: ['smoothgrad'] }))).rejects.toThrow(/out of memory \(simulated\)/);
    // with CAM skipped (no global average pooling), nothing is left: the failure is the answer
    const flat = flattenHeadModel(engine);
    const x8: Tensor = { dtype: 'float32', dims: [1, 1, 8, 8], data: new Float32Array(64).fill(0.5) };
    await expect(withFailingSmoothGrad(() => explain(flat, x8, { methods: ['smoothgrad', 'cam'] }))).rejects.toThrow(/out of memory \(simulated\)/);
  });
});

describe('a gradient pass the engine cannot build', () => {
  // The course CNN with an op ConvLens runs but cannot differentiate (ReduceProd over an axis of
  // size 1, numerically the identity) between its first activation and the rest of the network.
  function withoutGradient(): Model {
    const g = course.graph.clone();
    const k = g.nodes.findIndex((n) => n.op === 'Relu');
    const relu = g.nodes[k]!;
    const out = relu.outputs[0]!;
    const renamed = `${out}.pre`;
    relu.outputs[0] = renamed;
    g.nodes.splice(k + 1, 0,
      { op: 'Unsqueeze', name: 'lift', inputs: [renamed, 'lift.axes'], outputs: ['lifted'], attrs: {} },
      { op: 'ReduceProd', name: 'prod', inputs: ['lifted'], outputs: [out], attrs: { axes: { type: 'ints', value: [0] }, keepdims: { type: 'int', value: 0 } } },
    );
    g.initializers.set('lift.axes', { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) });
    return new Model(g, engine, 'no_gradient_net');
  }

  it('fails the methods that need it, with the reason, and keeps those that do not (the shared first pass included)', async () => {
    const m = withoutGradient();
    const e = await explain(m, x, { methods: ['saliency', 'occlusion', 'gradcam'], occlusion: { window: 7, stride: 7 } });
    // Grad-CAM's backward pass stops at the last conv layer, after the op
    expect(e.attributions.map((a) => a.method)).toEqual(['occlusion', 'gradcam']);
    expect(e.skipped.map((s) => s.method)).toEqual(['saliency']);
    for (const s of e.skipped) expect(s.reason, s.method).toMatch(/ReduceProd/);
    const alone = await explain(course, x, { methods: ['occlusion'], occlusion: { window: 7, stride: 7 } });
    // the extra node is the identity: the same occlusion map as the original model's
    expect(Array.from(e.attributions[0]!.map.data as Float32Array)).toEqual(Array.from(alone.attributions[0]!.map.data as Float32Array));
    await expect(explain(m, x, { methods: ['saliency'] })).rejects.toThrow(/ReduceProd/);
  });
});

describe('progress and cancellation', () => {
  it('long methods report progress per batch and stop between batches when aborted', async () => {
    const model = regionModel(engine);
    const xs = regionInputs(2);
    for (const method of ['occlusion', 'scorecam', 'smoothgrad', 'integrated-gradients', 'gradient-shap', 'deeplift-shap', 'ablationcam']) {
      const seen: Progress[] = [];
      await explain(model, xs, { methods: [method], batchSize: 4, occlusion: { window: 2, stride: 2 }, smoothgrad: { samples: 8 }, integratedGradients: { steps: 8 }, shap: { samples: 8, count: 4 }, onProgress: (p) => seen.push(p) });
      expect(seen.length, method).toBeGreaterThan(3);
      expect(seen.at(-1)!.done, method).toBe(seen.at(-1)!.total);
      expect(seen.every((p, i) => i === 0 || p.done >= seen[i - 1]!.done || p.phase !== seen[i - 1]!.phase)).toBe(true);

      const controller = new AbortController();
      let after = 0;
      const e = await failure(
        explain(model, xs, {
          methods: [method],
          batchSize: 4,
          occlusion: { window: 2, stride: 2 },
          smoothgrad: { samples: 8 },
          integratedGradients: { steps: 8 },
          shap: { samples: 8, count: 4 },
          signal: controller.signal,
          onProgress: () => {
            after++;
            controller.abort();
          },
        }),
      );
      expect(e.code, method).toBe('CANCELLED');
      expect(after, method).toBeLessThanOrEqual(2);
    }
  });
});
