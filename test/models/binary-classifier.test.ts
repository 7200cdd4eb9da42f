// Binary classifiers that end in ONE logit [N, 1] (often followed by a Sigmoid), or in a 1-channel
// per-pixel map [N, 1, h, w] (a binary U-Net). Read as a K-class model with K = 1, the softmax
// "probability" was always 1 (its gradient 0: every probability map flat), the predicted class
// always 0, and a trailing Sigmoid was explained instead of the logit before it; a 1-channel map
// was left as it was and failed. Loaded, the logit l becomes the two classes [-l/2, l/2], whose
// softmax is [1 - sigmoid(l), sigmoid(l)] (models/binary-logit.ts).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { predict } from '../../src/methods/predict.js';
import { Model } from '../../src/models/model.js';
import { BINARY_SIZE, binaryConvNet, binaryMapNet, LINEAR_BIAS, LINEAR_WEIGHTS, linearLogitNet } from '../support/binary-net.js';
import { convlens } from '../support/cli.js';
import { randn, rng } from '../support/rng.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-binary-');
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await engine.dispose();
});

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

// three images: a positive logit, a negative one, and another positive one
const IMAGES = [
  [1, 0, 1, 0],
  [0, 1, 0, 0],
  [-1, -1, 1, 2],
];
const x = f32([3, 1, 2, 2], IMAGES.flat());
const logit = (img: number[]): number => img.reduce((a, v, i) => a + v * LINEAR_WEIGHTS[i]!, LINEAR_BIAS);

async function gradients(model: Model, target: number, score: 'logit' | 'prob'): Promise<{ raw: Float32Array; scores: number[] }> {
  const e = await explain(model, x, { methods: ['gradient'], target, score });
  return { raw: e.attributions[0]!.raw.data as Float32Array, scores: e.images.map((i) => i.target.score) };
}

describe('a one-logit binary classifier', () => {
  for (const withSigmoid of [false, true]) {
    describe(withSigmoid ? 'ending in a Sigmoid' : 'ending in the logit', () => {
      const model = new Model(linearLogitNet({ sigmoid: withSigmoid }), engine);

      it('has two classes whose softmax is the sigmoid of the logit, and says so', async () => {
        expect(model.labels).toEqual(['class 0', 'class 1']);
        expect(model.profile.classes).toBe(2);
        const z = (await model.run(x))[model.output]!.data as Float32Array;
        IMAGES.forEach((img, i) => {
          expect(z[2 * i]).toBeCloseTo(-logit(img) / 2, 5);
          expect(z[2 * i + 1]).toBeCloseTo(logit(img) / 2, 5);
        });
        const note = model.meta.warnings.find((w) => w.includes('one logit'));
        expect(note).toBeDefined();
        if (withSigmoid) {
          expect(note).toContain('the sigmoid of one logit');
          // the graph's output is still the model's own probability, as two classes
          const out = model.graph.outputs[0]!.name;
          const p = (await model.run(x, [out]))[out]!.data as Float32Array;
          IMAGES.forEach((img, i) => expect(p[2 * i + 1]).toBeCloseTo(sigmoid(logit(img)), 5));
        }
      });

      it('predicts class 1 where the logit is positive, with the sigmoid as its probability', async () => {
        const { predictions } = await predict(model, x, 2);
        IMAGES.forEach((img, i) => {
          const l = logit(img);
          const top = predictions[i]!.top;
          expect(top[0]!.index).toBe(l > 0 ? 1 : 0);
          expect(top.find((t) => t.index === 1)!.probability).toBeCloseTo(sigmoid(l), 5);
          expect(top.find((t) => t.index === 0)!.probability).toBeCloseTo(1 - sigmoid(l), 5);
        });
        const e = await explain(model, x, { methods: ['gradient'] });
        expect(e.images.map((i) => i.predicted.index)).toEqual(IMAGES.map((img) => (logit(img) > 0 ? 1 : 0)));
      });

      it('explains class 1 by the logit (half of it) and class 0 by its negative', async () => {
        for (const target of [1, 0]) {
          const sign = target === 1 ? 1 : -1;
          const { raw, scores } = await gradients(model, target, 'logit');
          IMAGES.forEach((img, i) => {
            expect(scores[i]).toBeCloseTo((sign * logit(img)) / 2, 5);
            for (let j = 0; j < 4; j++) expect(raw[4 * i + j]).toBeCloseTo((sign * LINEAR_WEIGHTS[j]!) / 2, 5);
          });
        }
      });

      it('explains the probability as the sigmoid, its gradient sigmoid\' x w', async () => {
        for (const target of [1, 0]) {
          const sign = target === 1 ? 1 : -1;
          const { raw, scores } = await gradients(model, target, 'prob');
          IMAGES.forEach((img, i) => {
            const s = sigmoid(logit(img));
            expect(scores[i]).toBeCloseTo(target === 1 ? s : 1 - s, 5);
            for (let j = 0; j < 4; j++) expect(raw[4 * i + j]).toBeCloseTo(sign * s * (1 - s) * LINEAR_WEIGHTS[j]!, 5);
          });
        }
      });
    });
  }
});

describe('a binary classifier\'s class names', () => {
  it('takes one name, for class 1 (class 0 is "not" it), from the file or when described, or two', () => {
    const g = linearLogitNet();
    g.metadata.set('convlens.labels', JSON.stringify(['pneumonia']));
    expect(new Model(g, engine).labels).toEqual(['not pneumonia', 'pneumonia']);
    const model = new Model(linearLogitNet(), engine);
    model.describe({ labels: ['defect'] });
    expect(model.labels).toEqual(['not defect', 'defect']);
    model.describe({ labels: ['good', 'scratched'] });
    expect(model.labels).toEqual(['good', 'scratched']);
    expect(() => model.describe({ labels: ['a', 'b', 'c'] })).toThrow(/3 class names given/);
    expect(model.labels).toEqual(['good', 'scratched']);
  });
});

describe('one logit in other shapes', () => {
  const img = f32([2, 3, BINARY_SIZE, BINARY_SIZE], randn(rng(6), 2 * 3 * BINARY_SIZE * BINARY_SIZE));
  for (const head of ['squeezed', 'pointwise'] as const) {
    it(`${head === 'squeezed' ? 'squeezed to [N]' : 'as [N, 1, 1, 1] from a 1x1 conv'}, after a Sigmoid: two classes over the free batch, a GAP + dense head`, async () => {
      const model = new Model(binaryConvNet({ sigmoid: true, head }), engine);
      expect(model.facts(model.output).shape).toEqual(['N', 2]);
      expect(model.profile.head).toBe('gap-dense');
      const raw = new Model(binaryConvNet({ sigmoid: true, head }), engine, 'raw', undefined, { classMap: 'keep' });
      const p = (await raw.run(img))[raw.output]!.data as Float32Array;
      const { predictions } = await predict(model, img, 2);
      predictions.forEach((pr, i) => {
        expect(pr.top.find((t) => t.index === 1)!.probability).toBeCloseTo(p[i]!, 5);
        expect(pr.top[0]!.index).toBe(p[i]! > 0.5 ? 1 : 0);
      });
      const e = await explain(model, img, { methods: ['saliency', 'cam', 'gradcam'], score: 'prob' });
      expect(e.skipped).toEqual([]);
    });
  }
});

describe('CAM on a one-logit GAP + dense net', () => {
  it('weights class 1 by half the dense row, class 0 by minus half', async () => {
    const model = new Model(binaryConvNet({ sigmoid: true }), engine);
    const img = f32([2, 3, BINARY_SIZE, BINARY_SIZE], randn(rng(3), 2 * 3 * BINARY_SIZE * BINARY_SIZE));
    // the same net as the file has it: its one logit's CAM, read through no load-time change
    const raw = new Model(binaryConvNet(), engine, 'raw', undefined, { classMap: 'keep' });
    const whole = (await explain(raw, img, { methods: ['cam'], target: 0 })).attributions[0]!.raw.data as Float32Array;
    for (const target of [0, 1]) {
      const e = await explain(model, img, { methods: ['cam'], target });
      const cam = e.attributions[0]!.raw.data as Float32Array;
      expect(cam.length).toBe(whole.length);
      for (let i = 0; i < cam.length; i++) expect(cam[i]).toBeCloseTo(((target === 1 ? 1 : -1) * whole[i]!) / 2, 5);
    }
  });
});

describe('a binary segmentation net (a 1-channel map)', () => {
  const img = f32([2, 3, BINARY_SIZE, BINARY_SIZE], randn(rng(9), 2 * 3 * BINARY_SIZE * BINARY_SIZE));
  for (const withSigmoid of [false, true]) {
    it(`${withSigmoid ? 'after a Sigmoid: ' : ''}scores the map's mean logit as one logit, and explains it`, async () => {
      const model = new Model(binaryMapNet({ sigmoid: withSigmoid }), engine);
      expect(model.labels).toHaveLength(2);
      // the mean logit over the pixels, as the two classes [-m/2, m/2]
      const raw = new Model(binaryMapNet(), engine, 'raw', undefined, { classMap: 'keep' });
      const map = (await raw.run(img))[raw.output]!.data as Float32Array;
      const per = map.length / 2;
      const z = (await model.run(img))[model.output]!.data as Float32Array;
      for (let i = 0; i < 2; i++) {
        const m = map.subarray(i * per, (i + 1) * per).reduce((a, v) => a + v, 0) / per;
        expect(z[2 * i + 1]).toBeCloseTo(m / 2, 5);
        expect(z[2 * i]).toBeCloseTo(-m / 2, 5);
      }
      expect(model.meta.warnings.some((w) => w.includes('1-channel per-pixel map') && w.includes('[N, 1, 8, 8]') && w.includes('two classes')), model.meta.warnings.join('\n')).toBe(true);
      for (const score of ['logit', 'prob'] as const) {
        const e = await explain(model, img, { methods: ['saliency', 'gradcam', 'occlusion'], score });
        expect(e.skipped, score).toEqual([]);
        for (const a of e.attributions) expect(a.map.dims, `${a.method} ${score}`).toEqual([2, BINARY_SIZE, BINARY_SIZE]);
      }
    });
  }
});

describe('a Softmax over one value (the multi-class recipe on a binary head)', () => {
  // nn.Linear(..., 1) then softmax(dim=1), or a 1-channel map's softmax over its channel: 1 for
  // every image, so the prediction never moved and every gradient was 0
  const img = f32([2, 3, BINARY_SIZE, BINARY_SIZE], randn(rng(12), 2 * 3 * BINARY_SIZE * BINARY_SIZE));
  const withSoftmax = (g: Graph, value: string, op: 'Softmax' | 'LogSoftmax'): Graph => {
    const b = GraphBuilder.over(g, { strict: false });
    g.outputs = [];
    b.output(b.op(op, [value], { axis: 1 }, { name: 'probs', outputs: ['probs'] }));
    return b.build();
  };
  for (const [kind, file, plain] of [
    ['one logit', () => withSoftmax(binaryConvNet(), 'fc', 'Softmax'), () => binaryConvNet()],
    ['one logit, LogSoftmax', () => withSoftmax(binaryConvNet(), 'fc', 'LogSoftmax'), () => binaryConvNet()],
    ['a 1-channel map', () => withSoftmax(binaryMapNet(), 'mask', 'Softmax'), () => binaryMapNet()],
  ] as const) {
    it(`${kind}: the value before it is the logit, scored and explained as without it, and the note says so`, async () => {
      const model = new Model(file(), engine);
      const reference = new Model(plain(), engine);
      expect(model.labels).toHaveLength(2);
      const z = (await model.run(img))[model.output]!.data as Float32Array;
      const want = (await reference.run(img))[reference.output]!.data as Float32Array;
      expect(Array.from(z)).toEqual(Array.from(want));
      expect(model.meta.warnings.some((w) => /ends in a (Log)?Softmax over a single value \("probs"\), which is [01] for every image/.test(w)), model.meta.warnings.join('\n')).toBe(true);
      const e = await explain(model, img, { methods: ['saliency'], target: 1 });
      // the file's constant is not what is shown: the predicted class's probability is the sigmoid of +-l
      e.images.forEach((image, i) => expect(image.predicted.probability).toBeCloseTo(sigmoid(2 * z[2 * i + image.predicted.index]!), 5));
      const r = await explain(reference, img, { methods: ['saliency'], target: 1 });
      const map = e.attributions[0]!.map.data as Float32Array;
      expect(Math.max(...map)).toBeGreaterThan(0);
      expect(Array.from(map)).toEqual(Array.from(r.attributions[0]!.map.data as Float32Array));
    });
  }

  it('a Softmax over the batch of one logit ([N, 1], axis 0) is not one over a single value', () => {
    const model = new Model(withSoftmax(binaryConvNet(), 'fc', 'Softmax'), engine);
    expect(model.meta.warnings.some((w) => w.includes('single value'))).toBe(true);
    const g = binaryConvNet();
    const b = GraphBuilder.over(g, { strict: false });
    g.outputs = [];
    b.output(b.op('Softmax', ['fc'], { axis: 0 }, { name: 'probs', outputs: ['probs'] }));
    expect(new Model(b.build(), engine).meta.warnings.some((w) => w.includes('single value'))).toBe(false);
  });
});

describe('the CLI on a one-logit conv net', () => {
  it('predicts and explains it with saliency, integrated gradients, gradcam, occlusion and lime, by logit and by probability', async () => {
    const file = join(tmp, 'binary.onnx');
    writeFileSync(file, encodeModel(binaryConvNet({ sigmoid: true })));
    const p = await convlens('predict', 'samples/photos/chelsea.png', '--model', file, '--preprocess', 'unit-range');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toContain('the sigmoid of one logit');
    expect(p.stdout).toMatch(/class 0 .*%/);
    expect(p.stdout).toMatch(/class 1 .*%/);
    // one class name names what the logit detects
    writeFileSync(join(tmp, 'labels.txt'), 'pneumonia\n');
    const named = await convlens('predict', 'samples/photos/chelsea.png', '--model', file, '--preprocess', 'unit-range', '--labels', join(tmp, 'labels.txt'));
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toMatch(/not pneumonia .*%/);
    for (const score of ['logit', 'prob']) {
      const out = join(tmp, score);
      const r = await convlens('explain', 'samples/photos/chelsea.png', '--model', file, '--method', 'saliency,integrated-gradients,gradcam,occlusion,lime', '--segments', '8', '--score', score, '--preprocess', 'unit-range', '--no-images', '-o', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/map is flat/);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { methods: { method: string }[] };
      expect(summary.methods.map((m) => m.method).sort()).toEqual(['gradcam', 'integrated-gradients', 'lime', 'occlusion', 'saliency']);
    }
  }, 120_000);
});
