// Synthesis by gradient ascent where the answer is known: class visualization raises the target
// logit, PGD flips predictions within its budget, first-layer inversion gives the image back,
// Gram matching of a texture with itself has zero loss and gradient, a conditional style
// network with a one-hot style is that style's network, seeded runs repeat bit for bit.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { anySize, fixStyle, styleNet } from '../../src/models/zoo/style-net.js';
import { textureBackbone, textureLayers } from '../../src/models/zoo/texture-backbone.js';
import { attack } from '../../src/methods/synthesize/adversarial.js';
import { dream } from '../../src/methods/synthesize/dream.js';
import { stylize } from '../../src/methods/synthesize/stylize.js';
import { featureVisualization, speckle } from '../../src/methods/synthesize/featviz.js';
import { extractFeatures, SynthesisSession } from '../../src/methods/synthesize/graph.js';
import { invert } from '../../src/methods/synthesize/inversion.js';
import { readImageTensor, stack } from '../../src/methods/synthesize/io.js';
import { gramMatch, sum } from '../../src/methods/synthesize/objectives.js';
import { pixelParam } from '../../src/methods/synthesize/params.js';
import { styleTransfer } from '../../src/methods/synthesize/style.js';
import { binaryUNet } from '../support/binary-net.js';
import { rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());
const root = join(import.meta.dirname, '..', '..');
const sample = (name: string): string => join(root, 'samples', 'fashion-mnist', name);
const model = loadBuiltinModel(engine);
const data = (t: Tensor): Float32Array => t.data as Float32Array;

async function logits(x: Tensor): Promise<Float32Array> {
  const [z] = await extractFeatures(model, x, [{ layer: model.output }]);
  return data(z!);
}

describe('feature visualization', () => {
  it('class visualization raises each target logit far above its start and above every other class', async () => {
    const start: Tensor = { dtype: 'float32', dims: [10, 1, 28, 28], data: new Float32Array(10 * 784) };
    const before = await logits(start);
    const r = await featureVisualization(model, { objective: 'class:*', param: pixelParam({ range: 'clip' }), start: 'zero', background: 0, steps: 48, lr: 0.05, penalties: { tv: 2 }, frames: 3, seed: 3 });
    expect(r.images.dims).toEqual([10, 1, 28, 28]);
    const after = await logits(r.images);
    for (let k = 0; k < 10; k++) {
      const row = after.subarray(k * 10, k * 10 + 10);
      const others = Math.max(...Array.from(row).filter((_, j) => j !== k));
      expect(row[k]! - before[k * 10 + k]!, `class ${k} gained`).toBeGreaterThan(10);
      expect(row[k]!, `class ${k} leads`).toBeGreaterThan(others + 3);
      expect(r.predictions[k]!.index).toBe(k);
    }
    // frames: start, middle, end; the last frame is the result
    expect(r.frames.map((f) => f.step)).toEqual([0, 24, 48]);
    expect(Array.from(r.frames[2]!.image)).toEqual(Array.from(data(r.images)));
  });

  it('is bit-for-bit repeatable for a seed (Fourier parameterization, random transforms) and differs for another seed', async () => {
    const run = (seed: number) => featureVisualization(model, { objective: 'channel:relu3:5', steps: 12, seed, frames: 0 });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(Buffer.from(data(a.images).buffer).equals(Buffer.from(data(b.images).buffer))).toBe(true);
    expect(a.history.map((h) => h.value)).toEqual(b.history.map((h) => h.value));
    expect(Buffer.from(data(a.images).buffer).equals(Buffer.from(data(c.images).buffer))).toBe(false);
  });
});

describe('adversarial examples', () => {
  const files = ['ankle-boot-test0.png', 'bag-test18.png', 'shirt-test4.png', 'trouser-test2.png'];
  it('PGD (L-inf) flips every prediction and never leaves the budget or [0, 1]', async () => {
    const x = stack(await Promise.all(files.map((f) => readImageTensor(sample(f), 1, { size: [28, 28] }))));
    const eps = 0.1;
    const r = await attack(model, x, { method: 'pgd', norm: 'linf', epsilon: eps, steps: 20 });
    for (const p of r.perImage) {
      expect(p.success, `${p.original.label} -> ${p.adversarial.label}`).toBe(true);
      expect(p.adversarial.index).not.toBe(p.original.index);
      expect(p.linf).toBeLessThanOrEqual(eps + 1e-6);
    }
    const adv = data(r.images);
    const clean = data(x);
    for (let i = 0; i < adv.length; i++) {
      expect(Math.abs(adv[i]! - clean[i]!)).toBeLessThanOrEqual(eps + 1e-6);
      expect(adv[i]!).toBeGreaterThanOrEqual(0);
      expect(adv[i]!).toBeLessThanOrEqual(1);
    }
    // the reported prediction is the model's on the returned images
    const z = await logits(r.images);
    r.perImage.forEach((p, i) => {
      const row = Array.from(z.subarray(i * 10, i * 10 + 10));
      expect(row.indexOf(Math.max(...row))).toBe(p.adversarial.index);
    });
  });

  it('targeted PGD under an L2 budget reaches the target within |delta|_2 <= epsilon; FGSM moves every pixel by exactly epsilon or to the border', async () => {
    const x = stack(await Promise.all(files.slice(0, 2).map((f) => readImageTensor(sample(f), 1, { size: [28, 28] }))));
    const r = await attack(model, x, { method: 'pgd', norm: 'l2', epsilon: 2, steps: 30, target: 'Sandal' });
    for (const p of r.perImage) {
      expect(p.adversarial.label).toBe('Sandal');
      expect(p.l2).toBeLessThanOrEqual(2 + 1e-4);
    }
    const f = await attack(model, x, { method: 'fgsm', epsilon: 0.05 });
    const d = data(f.perturbation);
    const clean = data(x);
    for (let i = 0; i < d.length; i++) {
      const moved = Math.abs(d[i]!);
      const atBorder = clean[i]! + d[i]! <= 1e-6 || clean[i]! + d[i]! >= 1 - 1e-6;
      expect(Math.abs(moved - 0.05) < 1e-6 || atBorder || moved === 0).toBe(true);
    }
  });
});

describe('feature inversion', () => {
  it('reconstructs the input closely from the first layer, and less closely from the logits', async () => {
    const x = await readImageTensor(sample('ankle-boot-test0.png'), 1, { size: [28, 28] });
    const r = await invert(model, x, { layers: ['conv1', 'logits'], steps: 150, seed: 1 });
    const [first, last] = r.inversions;
    expect(first!.pixelError).toBeLessThan(2e-3);
    expect(first!.distance).toBeLessThan(0.01);
    expect(last!.pixelError).toBeGreaterThan(10 * first!.pixelError);
  });
});

describe('texture synthesis and style', () => {
  const backbone = new Model(textureBackbone({ filters: 16, scales: 3 }), engine, 'small-texture-backbone');
  const layers = textureLayers(3);

  it('Gram matching of a texture with itself has zero loss and zero gradient', async () => {
    const tex = await readImageTensor(join(root, 'samples', 'textures', 'gravel.png'), 3, { size: [48, 48] });
    const grams = await extractFeatures(backbone, tex, layers.map((layer) => ({ layer, gram: true })));
    const shape = { batch: 1, channels: 3 as const, height: 48, width: 48 };
    const session = await SynthesisSession.create({ model: backbone, shape, param: pixelParam({ range: 'clip' }), objective: sum(...layers.map((l, i) => gramMatch(l, grams[i]!))) });
    const self = await session.step(Float32Array.from(data(tex)));
    expect(Math.abs(self.value)).toBeLessThan(1e-6);
    const gmax = Math.max(...Array.from(self.grad, Math.abs));
    // another image: a clearly non-zero loss and gradient
    const other = Float32Array.from(data(tex), (v, i) => Math.min(1, Math.max(0, v + 0.2 * Math.sin(i))));
    const r = await session.step(other);
    expect(-r.value).toBeGreaterThan(1e-3);
    const omax = Math.max(...Array.from(r.grad, Math.abs));
    expect(gmax).toBeLessThan(1e-4 * omax);
  });

  it('texture synthesis (L-BFGS) lowers the Gram loss by orders of magnitude; style transfer keeps the content', async () => {
    const tex = await readImageTensor(join(root, 'samples', 'textures', 'brick.png'), 3, { size: [48, 48] });
    const t = await styleTransfer(engine, { backbone, styleLayers: layers, styles: [{ image: tex }], size: [48, 48], steps: 25, frames: 2 });
    const first = -t.history[0]!.terms['style']!;
    const last = -t.history[t.history.length - 1]!.terms['style']!;
    expect(last).toBeLessThan(first / 20);
    expect(t.frames.map((f) => f.step)).toEqual([0, 25]);
    const content = await readImageTensor(join(root, 'samples', 'photos', 'chelsea.png'), 3, { size: [40, 60] });
    const s = await styleTransfer(engine, { backbone, styleLayers: layers, contentLayers: ['color', 'scale1'], content, styles: [{ image: tex, weight: 1 }], steps: 10, keepColors: true });
    expect(s.image.dims).toEqual([1, 3, 40, 60]);
    let mse = 0;
    for (let i = 0; i < s.image.data.length; i++) mse += (data(s.image)[i]! - data(content)[i]!) ** 2;
    expect(mse / s.image.data.length).toBeLessThan(0.02);
  });

  it('style transfer stops when its objective is no longer finite (L-BFGS ended such runs as converged), naming the weight', async () => {
    const tex = await readImageTensor(join(root, 'samples', 'textures', 'brick.png'), 3, { size: [24, 24] });
    const content = await readImageTensor(join(root, 'samples', 'photos', 'chelsea.png'), 3, { size: [24, 24] });
    for (const optimizer of ['lbfgs', 'adam'] as const) {
      const run = styleTransfer(engine, { backbone, styleLayers: layers, content, styles: [{ image: tex }], styleWeight: 1e308, optimizer, steps: 2, frames: 0 });
      await expect(run).rejects.toMatchObject({ code: 'RUNTIME_FAILURE', message: expect.stringMatching(/The objective became -?Infinity at step 0/), hint: expect.stringMatching(/--style-weight 1e\+308 is far outside the usual range/) });
    }
  });

  it('a conditional style network with a one-hot style computes exactly that style\'s single-style network; blends interpolate', async () => {
    const g = styleNet({ styles: 3, width: 4, blocks: 1, size: 32, seed: 5 });
    const rand = rng(11);
    for (const [name, t] of g.initializers) {
      if (name.endsWith('.gamma') || name.endsWith('.beta')) g.initializers.set(name, { ...t, data: Float32Array.from(t.data as Float32Array, () => (name.endsWith('.gamma') ? 0.5 + rand() : rand() - 0.5)) });
    }
    const x: Tensor = { dtype: 'float32', dims: [1, 3, 20, 28], data: Float32Array.from({ length: 3 * 20 * 28 }, () => rand()) };
    const outs: Float32Array[] = [];
    for (let k = 0; k < 3; k++) {
      const w = [0, 0, 0].map((_, j) => (j === k ? 1 : 0));
      const conditional = data(await stylize(engine, g, x, w));
      const single = await engine.compileOnce(fixStyle(anySize(g), w));
      expect(single.inputNames).toEqual(['image']);
      const alone = data((await single.run({ image: x }))['stylized']!);
      expect(alone.length).toBe(conditional.length);
      let m = 0;
      for (let i = 0; i < alone.length; i++) m = Math.max(m, Math.abs(alone[i]! - conditional[i]!));
      expect(m).toBeLessThan(1e-5);
      outs.push(conditional);
    }
    // different styles give different images
    let d = 0;
    for (let i = 0; i < outs[0]!.length; i++) d = Math.max(d, Math.abs(outs[0]![i]! - outs[1]![i]!));
    expect(d).toBeGreaterThan(1e-3);
  });
});

describe('a dead objective', () => {
  it('says when the gradient was zero at every step (a channel off on a black start stays black), and not for a live one', async () => {
    // relu1 on an all-black image is ReLU(bias): channels with a bias <= 0 are zero there, their
    // gradient is zero, and the image never moves - the run used to end as if it had worked
    const black: Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784) };
    const [f] = await extractFeatures(model, black, [{ layer: 'relu1' }]);
    const plane = 28 * 28;
    const level = (c: number): number => data(f!).subarray(c * plane, (c + 1) * plane).reduce((m, v) => Math.max(m, v), 0);
    const channels = Array.from({ length: 16 }, (_, c) => c);
    const dead = channels.find((c) => level(c) === 0);
    const live = channels.find((c) => level(c) > 0);
    expect(dead).toBeDefined();
    expect(live).toBeDefined();
    const run = (c: number) => featureVisualization(model, { objective: `channel:relu1:${c}`, param: pixelParam({ range: 'clip' }), start: 'zero', background: 0, transforms: 'none', steps: 4, frames: 0 });
    const d = await run(dead!);
    expect(d.zeroGradient).toBe(true);
    expect(data(d.images).every((v) => v === 0)).toBe(true);
    expect((await run(live!)).zeroGradient).toBeUndefined();
  });
});

describe('DeepDream', () => {
  it('raises the layer objective over octaves and returns the image at its own size', async () => {
    const x = await readImageTensor(join(root, 'samples', 'photos', 'chelsea.png'), 3, { size: [48, 72] });
    const before = await extractFeatures(model, x, [{ layer: 'relu2' }]);
    const r = await dream(model, x, { layer: 'relu2', octaves: 2, steps: 5, jitter: 4 });
    expect(r.image.dims).toEqual([1, 3, 48, 72]);
    expect(r.octaves.map((o) => o.dims.slice(2))).toEqual([[34, 51], [48, 72]]);
    const after = await extractFeatures(model, r.image, [{ layer: 'relu2' }]);
    const ms = (t: Tensor): number => data(t).reduce((a, v) => a + v * v, 0) / t.data.length;
    expect(ms(after[0]!)).toBeGreaterThan(1.2 * ms(before[0]!));
    for (const v of data(r.image)) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('moves pixels as far on a layer of tiny activations as on a normal one (the L1-normalized step has no absolute epsilon)', async () => {
    // A layer 1e-12 times smaller (a freshly initialized network's, say) has 1e-12 times smaller
    // gradients; dividing by mean |g| + 1e-8 made its steps 1e-4 of the asked size and the dream
    // came back as the photo (EfficientNet-B0 and MobileNetV3 with random weights).
    const x = await readImageTensor(join(root, 'samples', 'photos', 'chelsea.png'), 3, { size: [48, 72] });
    const moved = async (objective: string): Promise<number> => {
      const r = await dream(model, x, { objective, octaves: 1, steps: 4, jitter: 0 });
      let d = 0;
      for (let i = 0; i < x.data.length; i++) d += Math.abs(data(r.image)[i]! - data(x)[i]!);
      return d / x.data.length;
    };
    const normal = await moved('layer:relu2');
    const tiny = await moved('1e-12*layer:relu2');
    expect(normal).toBeGreaterThan(0.005);
    expect(tiny).toBeGreaterThan(0.9 * normal);
    expect(tiny).toBeLessThan(1.1 * normal);
  });
});

describe('DeepDream on a U-Net', () => {
  it('dreams on sides that are multiples of its downsampling (odd sides broke its skip join) and returns the image at its own size', async () => {
    // Octaves of 33x45 are 24x32 and 33x45: the pooled and upsampled 33 rows came back as 32,
    // and the Concat with the encoder's 33 rows failed ("pick a convolutional layer").
    const unet = new Model(binaryUNet({ sigmoid: true }), engine);
    const x = await readImageTensor(join(root, 'samples', 'photos', 'chelsea.png'), 3, { size: [33, 45] });
    const layer = 'dec_relu';
    const before = await extractFeatures(unet, await readImageTensor(join(root, 'samples', 'photos', 'chelsea.png'), 3, { size: [32, 44] }), [{ layer }]);
    const r = await dream(unet, x, { layer, octaves: 2, steps: 5, jitter: 4 });
    expect(r.image.dims).toEqual([1, 3, 33, 45]);
    expect(r.octaves.map((o) => o.dims.slice(2))).toEqual([[24, 32], [34, 46]]);
    expect(r.params.sizeMultiple).toBe(2);
    const after = await extractFeatures(unet, r.octaves[1]!, [{ layer }]);
    const ms = (t: Tensor): number => data(t).reduce((a, v) => a + v * v, 0) / t.data.length;
    expect(ms(after[0]!)).toBeGreaterThan(1.2 * ms(before[0]!));
    let moved = 0;
    for (let i = 0; i < x.data.length; i++) moved += Math.abs(data(r.image)[i]! - data(x)[i]!);
    expect(moved / x.data.length).toBeGreaterThan(0.005);
    for (const v of data(r.image)) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('speckle (saturated noise in a featviz result)', () => {
  it('counts black-white jumps between horizontal neighbours only', () => {
    const checker = Float32Array.from({ length: 2 * 4 * 4 }, (_, i) => (i + Math.floor(i / 4)) % 2);
    expect(speckle(checker, [1, 2, 4, 4])).toBe(1);
    // black background and white lines: no jump between neighbours inside a row
    const stripes = Float32Array.from({ length: 4 * 4 }, (_, i) => Math.floor(i / 4) % 2);
    expect(speckle(stripes, [1, 1, 4, 4])).toBe(0);
    // a row's last value and the next row's first are not neighbours
    expect(speckle(Float32Array.from([0, 0, 1, 1]), [1, 1, 2, 2])).toBe(0);
    // within half an 8-bit step of the ends counts; a step inside does not
    expect(speckle(Float32Array.from([0.001, 0.999, 0.003, 0.999]), [1, 1, 1, 4])).toBeCloseTo(1 / 3);
    expect(speckle(new Float32Array(0), [0, 1, 1, 1])).toBe(0);
  });
});
