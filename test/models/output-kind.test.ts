// Models whose outputs are not one class's softmax (models/output-kind.ts). A multi-label head (a
// Sigmoid over K independent logits, CelebA's 40 attributes) was read as a softmax classifier:
// predict showed a softmax over the K sigmoids (~1/K each, summing to 100%), explain's "logit"
// was the Sigmoid's output and its "probability" that softmax. A regression's [N, 1] was a
// binary classifier's two classes. Known answers on a linear model: logits z = W x + b.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { encodeNpy } from '../../src/io/npy.js';
import { explain } from '../../src/methods/explain/index.js';
import { predict } from '../../src/methods/predict.js';
import { attack } from '../../src/methods/synthesize/adversarial.js';
import { featureVisualization, predictImages } from '../../src/methods/synthesize/featviz.js';
import { pixelParam } from '../../src/methods/synthesize/params.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { describeProfile } from '../../src/models/profile.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-output-kind-');
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await engine.dispose();
});

/** K = 3 outputs over a 1x2x2 image. */
const W = [
  [0.5, -1.25, 2, 0.75],
  [-1, 0.5, 0.25, -0.5],
  [1.5, 1, -0.75, 0.25],
];
const B = [-0.25, 0.5, 0.1];
const IMAGES = [
  [1, 0, 1, 0],
  [0, 1, 0, 0],
  [-1, -1, 1, 2],
];
const x = f32([3, 1, 2, 2], IMAGES.flat());
const logits = (img: number[]): number[] => W.map((w, k) => img.reduce((a, v, i) => a + v * w[i]!, B[k]!));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** z = W x + b [N, outputs] (the first `outputs` rows of W), optionally followed by a Sigmoid; `kind` declared in the metadata. */
function linearNet(o: { outputs?: number; sigmoid?: boolean; kind?: string } = {}): Graph {
  const k = o.outputs ?? 3;
  const b = new GraphBuilder();
  b.graph.name = `linear_${k}${o.sigmoid ? '_sigmoid' : ''}`;
  const image = b.input('image', 'float32', ['N', 1, 2, 2]);
  const flat = b.op('Flatten', [image], { axis: 1 }, { name: 'flat', outputs: ['flat'] });
  const w = b.initializer('fc.weight', f32([k, 4], W.slice(0, k).flat()));
  const bias = b.initializer('fc.bias', f32([k], B.slice(0, k)));
  const z = b.op('Gemm', [flat, w, bias], { transB: 1 }, { name: 'fc', outputs: ['fc'] });
  b.output(o.sigmoid ? b.op('Sigmoid', [z], {}, { name: 'attributes', outputs: ['attributes'] }) : z);
  const g = b.build();
  if (o.kind) g.metadata.set(METADATA_KEYS.output, o.kind);
  return g;
}

async function gradientOf(model: Model, target: number, score: 'logit' | 'prob'): Promise<{ raw: Float32Array; scores: number[] }> {
  const e = await explain(model, x, { methods: ['gradient'], target, score });
  return { raw: e.attributions[0]!.raw.data as Float32Array, scores: e.images.map((i) => i.target.score) };
}

describe('a multi-label head (a Sigmoid over several logits)', () => {
  for (const how of ['read from the graph', 'declared over raw logits'] as const) {
    describe(how, () => {
      const model = new Model(how === 'read from the graph' ? linearNet({ sigmoid: true }) : linearNet({ kind: 'multi-label' }), engine);

      it('explains the logits before the Sigmoid and says so', async () => {
        expect(model.outputKind).toBe('multi-label');
        expect(model.output).toBe('fc');
        expect(model.profile.classes).toBe(3);
        expect(model.meta.warnings.some((w) => w.includes('multi-label'))).toBe(true);
      });

      it("gives each output its own sigmoid as probability, ranked, not a softmax over them", async () => {
        const { predictions } = await predict(model, x, 3);
        IMAGES.forEach((img, i) => {
          const z = logits(img);
          const top = predictions[i]!.top;
          expect(top.map((t) => t.index)).toEqual([0, 1, 2].sort((a, b) => z[b]! - z[a]!));
          for (const t of top) {
            expect(t.logit).toBeCloseTo(z[t.index]!, 5);
            expect(t.probability).toBeCloseTo(sigmoid(z[t.index]!), 5);
          }
        });
      });

      it('explains any output: the logit score is its logit, the probability its sigmoid, with their gradients', async () => {
        for (const target of [0, 2]) {
          const byLogit = await gradientOf(model, target, 'logit');
          const byProb = await gradientOf(model, target, 'prob');
          IMAGES.forEach((img, i) => {
            const z = logits(img)[target]!;
            const s = sigmoid(z);
            expect(byLogit.scores[i]).toBeCloseTo(z, 5);
            expect(byProb.scores[i]).toBeCloseTo(s, 5);
            W[target]!.forEach((w, p) => {
              expect(byLogit.raw[i * 4 + p]).toBeCloseTo(w, 5);
              // d sigmoid(z_t) / dx = s (1 - s) w_t: the other outputs play no part
              expect(byProb.raw[i * 4 + p]).toBeCloseTo(s * (1 - s) * w, 5);
            });
          });
        }
      });
    });
  }

  it('stays a single-label classifier when the file says so, and the raw logits of any classifier too', async () => {
    expect(new Model(linearNet({ sigmoid: true, kind: 'single-label' }), engine).outputKind).toBe('single-label');
    const plain = new Model(linearNet(), engine);
    expect(plain.outputKind).toBe('single-label');
    const { predictions } = await predict(plain, x, 3);
    const sum = predictions[0]!.top.reduce((a, t) => a + t.probability!, 0);
    expect(sum).toBeCloseTo(1, 5);
  });
});

describe('a multi-label segmentation map (a Sigmoid per channel)', () => {
  it("scores each class by its mean logit and gives it that logit's sigmoid, not a softmax over the classes", async () => {
    const b = new GraphBuilder();
    b.graph.name = 'multi_label_map';
    const L = new Layers(b, seededRandom(4));
    const image = b.input('image', 'float32', ['N', 3, 8, 8]);
    const map = L.conv2d(L.relu(L.conv2d(image, 'features', { filters: 4 }), 'relu'), 'mask', { filters: 3, kernel: 1 });
    b.output(b.op('Sigmoid', [map], {}, { name: 'mask_prob', outputs: ['mask_prob'] }));
    const model = new Model(b.build(), engine);
    expect(model.outputKind).toBe('multi-label');
    expect(model.classMap).toBe('mask');
    const pixels = f32([1, 3, 8, 8], Array.from({ length: 192 }, (_, i) => Math.sin(i)));
    const out = await model.run(pixels, ['mask']);
    const means = [0, 1, 2].map((k) => (out['mask']!.data as Float32Array).subarray(k * 64, (k + 1) * 64).reduce((a, v) => a + v, 0) / 64);
    const { predictions } = await predict(model, pixels, 3);
    for (const t of predictions[0]!.top) {
      expect(t.logit).toBeCloseTo(means[t.index]!, 5);
      expect(t.probability).toBeCloseTo(sigmoid(means[t.index]!), 5);
    }
  });
});

describe('a declared regression', () => {
  const model = new Model(linearNet({ outputs: 1, kind: 'regression' }), engine);

  it('keeps its one output a value: no binary classes, no probability', async () => {
    expect(model.outputKind).toBe('regression');
    expect(model.binary).toBe(false);
    expect(model.labels).toEqual(['output 0']);
    const { predictions } = await predict(model, x, 5);
    IMAGES.forEach((img, i) => {
      expect(predictions[i]!.top).toHaveLength(1);
      expect(predictions[i]!.top[0]!.logit).toBeCloseTo(logits(img)[0]!, 5);
      expect(predictions[i]!.top[0]!.probability).toBeUndefined();
    });
  });

  it('is explained by its value, and refuses a probability score', async () => {
    const { raw, scores } = await gradientOf(model, 0, 'logit');
    IMAGES.forEach((img, i) => {
      expect(scores[i]).toBeCloseTo(logits(img)[0]!, 5);
      W[0]!.forEach((w, p) => expect(raw[i * 4 + p]).toBeCloseTo(w, 5));
    });
    await expect(explain(model, x, { methods: ['gradient'], score: 'prob' })).rejects.toThrow(/regression/);
  });

  it('calls its outputs outputs, not classes, in its labels, warnings, summary and errors, until the file names them', async () => {
    const three = new Model(linearNet({ kind: 'regression' }), engine);
    expect(three.labels).toEqual(['output 0', 'output 1', 'output 2']);
    expect(three.meta.warnings.some((w) => w.startsWith('no output labels in the model; using "output 0".."output 2"'))).toBe(true);
    expect(three.meta.warnings.join('\n')).not.toMatch(/class \d/);
    // numbered outputs are no labels: the summary says so, as it does of numbered classes
    expect(three.profile.labelled).toBe(false);
    expect(describeProfile(three.profile)[0]).toContain('3 outputs, regression (unlabelled)');
    const e = await explain(three, x, { methods: ['gradient'], target: 1 });
    expect(e.images.map((i) => i.target.label)).toEqual(['output 1', 'output 1', 'output 1']);
    await expect(explain(three, x, { methods: ['gradient'], target: 5 })).rejects.toThrow('Target output 5 is out of range: model "linear_3" has 3 outputs (0-2).');
    await expect(explain(three, x, { methods: ['gradient'], target: 'age' })).rejects.toThrow('has no output names, so "age" names no output');
    // named in the file: its names, and nothing to warn about
    const named = linearNet({ kind: 'regression' });
    named.metadata.set(METADATA_KEYS.labels, JSON.stringify(['age', 'height', 'weight']));
    const withNames = new Model(named, engine);
    expect(withNames.labels).toEqual(['age', 'height', 'weight']);
    expect(withNames.profile.labelled).toBe(true);
    expect(withNames.meta.warnings.some((w) => /labels in the model/.test(w))).toBe(false);
    // naming them later drops the warning
    three.describe({ labels: ['x', 'y', 'z'] });
    expect(three.meta.warnings.some((w) => /labels in the model/.test(w))).toBe(false);
  });

  it('keeps its several outputs in their order', async () => {
    const three = new Model(linearNet({ kind: 'regression' }), engine);
    const { predictions } = await predict(three, x, 3);
    expect(predictions[2]!.top.map((t) => t.index)).toEqual([0, 1, 2]);
  });
});

describe('synthesis on other output kinds', () => {
  const multi = new Model(linearNet({ sigmoid: true }), engine);
  const regression = new Model(linearNet({ outputs: 1, kind: 'regression' }), engine);
  // a start image of zeros, kept by a pixel parameterization without transforms: the logits are the biases
  const fromZero = { param: pixelParam({ range: 'clip' }), start: 'zero', background: 0, transforms: 'none', steps: 1, frames: 0 } as const;

  it("featviz's prob objective and its captions take a multi-label output's own sigmoid", async () => {
    const r = await featureVisualization(multi, { ...fromZero, objective: 'prob:2' });
    expect(r.history[0]!.value).toBeCloseTo(sigmoid(B[2]!), 5);
    const p = await predictImages(multi, x);
    IMAGES.forEach((img, i) => {
      const z = logits(img);
      const best = z.indexOf(Math.max(...z));
      expect(p[i]!.index).toBe(best);
      expect(p[i]!.probability).toBeCloseTo(sigmoid(z[best]!), 5);
    });
  });

  it("a regression has no probability to maximize or to caption, and no cross-entropy to attack", async () => {
    await expect(featureVisualization(regression, { ...fromZero, objective: 'prob:0' })).rejects.toThrow(/regression: its outputs are values/);
    expect(await predictImages(regression, x)).toEqual([]);
    const pixels = f32([1, 1, 2, 2], [0.2, 0.4, 0.6, 0.8]);
    await expect(attack(regression, pixels)).rejects.toThrow(/a regression \(its outputs are values\)/);
    await expect(attack(multi, pixels)).rejects.toThrow(/a multi-label head/);
  });
});

describe('the CLI', () => {
  it('predicts a multi-label file by sigmoid, and reads a one-output file as a regression with --output-kind', async () => {
    const multi = join(tmp, 'multi.onnx');
    writeFileSync(multi, encodeModel(linearNet({ sigmoid: true })));
    const image = join(tmp, 'x.npy');
    writeFileSync(image, encodeNpy(f32([1, 1, 2, 2], IMAGES[0]!)));
    const z = logits(IMAGES[0]!);
    const m = await convlens('predict', image, '--model', multi, '--json', '-k', '3');
    expect(m.code, m.stderr).toBe(0);
    const top = (JSON.parse(m.stdout) as { top: { index: number; probability: number }[] }[])[0]!.top;
    for (const t of top) expect(t.probability).toBeCloseTo(sigmoid(z[t.index]!), 5);

    const one = join(tmp, 'age.onnx');
    writeFileSync(one, encodeModel(linearNet({ outputs: 1 })));
    const r = await convlens('predict', image, '--model', one, '--json', '--output-kind', 'regression');
    expect(r.code, r.stderr).toBe(0);
    const value = (JSON.parse(r.stdout) as { top: { logit: number; probability?: number }[] }[])[0]!.top;
    expect(value).toHaveLength(1);
    expect(value[0]!.logit).toBeCloseTo(z[0]!, 5);
    expect(value[0]!.probability).toBeUndefined();
    const bad = await convlens('predict', image, '--model', one, '--output-kind', 'ordinal');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('single-label, multi-label, regression');
  });

  it('writes the kind into the file with describe, and every command reads it from there', async () => {
    const one = join(tmp, 'age2.onnx');
    const described = join(tmp, 'age2.described.onnx');
    writeFileSync(one, encodeModel(linearNet({ outputs: 1 })));
    const d = await convlens('describe', '--model', one, '--output-kind', 'regression', '-o', described, '--json');
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).metadata[METADATA_KEYS.output]).toBe('regression');
    const image = join(tmp, 'y.npy');
    writeFileSync(image, encodeNpy(f32([1, 1, 2, 2], IMAGES[1]!)));
    const r = await convlens('predict', image, '--model', described, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { top: { logit: number }[] }[])[0]!.top.map((t) => t.logit)).toHaveLength(1);
  });
});
