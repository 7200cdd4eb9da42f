// The built-in ImageNet SqueezeNet 1.1: its reference pair, its predictions on the sample photos,
// and the methods on a real network - class visualization, PGD, style transfer, Grad-CAM - with
// assertions a broken engine, preprocessing or method would fail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { loadInputs } from '../../src/io/inputs.js';
import { parseNpy } from '../../src/io/npy.js';
import { explain } from '../../src/methods/explain/index.js';
import { predict } from '../../src/methods/predict.js';
import { attack } from '../../src/methods/synthesize/adversarial.js';
import { featureVisualization } from '../../src/methods/synthesize/featviz.js';
import { readImageTensor, readModelImage } from '../../src/methods/synthesize/io.js';
import { styleTransfer } from '../../src/methods/synthesize/style.js';
import { loadModel } from '../../src/models/load.js';
import { ROOT } from '../support/cli.js';

const engine = new Engine(nodeBackend());
const model = loadModel('squeezenet', engine);
const photo = (name: string): string => join(ROOT, 'samples', 'photos', name);
const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'squeezenet1.1', name);

/** ImageNet's domestic cats: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
const CATS = [281, 282, 283, 284, 285];

afterAll(async () => {
  await engine.dispose();
});

describe('SqueezeNet 1.1 (built-in)', () => {
  it('describes itself: labels, preprocessing, sample group, and a profile derived from its graph', () => {
    expect(model.labels).toHaveLength(1000);
    expect(model.labels[285]).toBe('Egyptian cat');
    expect(model.meta.warnings).toEqual([]);
    expect(model.meta.preprocessing).toMatchObject({ size: [224, 224], channels: 'rgb', resize: 'crop' });
    const p = model.profile;
    expect(p.sampleGroup).toBe('photos');
    expect(p.head).toBe('gap'); // conv10 -> ReLU -> global average pool: no dense layer, so no plain CAM
    expect(p.firstConv).toBe('/conv0/Conv_output_0');
    expect(p.camLayer).toBe('/relu25/Relu_output_0'); // the last 13x13 map before global pooling
    // every role is a 4-D map the output depends on, none of them a Fire module's squeeze bottleneck
    for (const l of [p.dreamLayer!, ...p.styleLayers, ...p.contentLayers, ...p.featureLayers]) {
      expect(model.facts(l).shape).toHaveLength(4);
      expect(l).not.toMatch(/squeeze/);
    }
    // style layers run from early to mid depth, one per resolution
    const sizes = p.styleLayers.map((l) => model.facts(l).shape![2]);
    expect(sizes).toEqual([...sizes].sort((a, b) => Number(b) - Number(a)));
    expect(new Set(sizes).size).toBe(sizes.length);
    expect(p.source.dreamLayer).toBe('graph');
  });

  it('matches the model zoo reference output (relative L2 error below 1e-4)', async () => {
    const x = parseNpy(readFileSync(fixture('input_0.npy')));
    const want = parseNpy(readFileSync(fixture('output_0.npy'))).data as Float32Array;
    const got = (await model.run(x))[model.output]!.data as Float32Array;
    let err = 0;
    let norm = 0;
    for (let i = 0; i < want.length; i++) {
      err += (got[i]! - want[i]!) ** 2;
      norm += want[i]! ** 2;
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(1e-4);
    expect(got.indexOf(Math.max(...got))).toBe(490);
  });

  it('sees cats in chelsea.png and espresso in coffee.png', async () => {
    const { batch } = await loadInputs([photo('chelsea.png'), photo('coffee.png')], model);
    const { predictions } = await predict(model, batch, 3);
    expect(predictions[0]!.top.map((t) => t.index).every((k) => CATS.includes(k))).toBe(true);
    expect(predictions[0]!.top[0]!.label).toBe('Egyptian cat');
    expect(predictions[1]!.top[0]!.label).toBe('espresso');
    expect(predictions[1]!.top[0]!.probability).toBeGreaterThan(0.8);
  });

  it('synthesis commands see exactly the pixels predict sees (resize 256 + centre crop 224)', async () => {
    const [viaSynthesis] = [await readModelImage(photo('coffee.png'), model)];
    const { items } = await loadInputs([photo('coffee.png')], model);
    const display = items[0]!.display;
    expect(viaSynthesis.dims).toEqual([1, 3, 224, 224]);
    let maxDiff = 0;
    for (let p = 0; p < 224 * 224; p++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(Math.round((viaSynthesis.data as Float32Array)[c * 224 * 224 + p]! * 255) - display.data[p * 3 + c]!));
    expect(maxDiff).toBe(0);
  });

  it('a class visualization of Egyptian cat (285) is classified as it with probability >= 0.9', async () => {
    const r = await featureVisualization(model, { objective: 'class:285', steps: 48, frames: 0, seed: 1 });
    expect(r.predictions[0]!.index).toBe(285);
    expect(r.predictions[0]!.probability).toBeGreaterThanOrEqual(0.9);
  });

  it('PGD within L-inf 2/255 changes the cat\'s class, and never leaves the budget', async () => {
    const x = await readModelImage(photo('chelsea.png'), model);
    const r = await attack(model, x, { method: 'pgd', norm: 'linf', epsilon: 2 / 255, steps: 10 });
    const p = r.perImage[0]!;
    expect(p.original.index).toBe(285);
    expect(p.success).toBe(true);
    expect(p.adversarial.index).not.toBe(285);
    expect(p.linf).toBeLessThanOrEqual(2 / 255 + 1e-6);
  });

  it('style transfer on SqueezeNet features lowers the Gram (style) loss at least 10x and names its backbone', async () => {
    const content = await readImageTensor(photo('chelsea.png'), 3, { maxSide: 96 });
    const style = await readImageTensor(join(ROOT, 'samples', 'textures', 'gravel.png'), 3, { maxSide: 128 });
    const r = await styleTransfer(engine, { backbone: model, content, styles: [{ image: style }], steps: 40, frames: 0 });
    const styleLoss = (h: { terms: Record<string, number> }): number => -h.terms['style']!;
    const first = styleLoss(r.history[0]!);
    const last = styleLoss(r.history[r.history.length - 1]!);
    expect(first / last).toBeGreaterThanOrEqual(10);
    expect(r.params['backbone']).toBe('squeezenet');
    expect(r.params['styleLayers']).toEqual(model.profile.styleLayers);
    expect(r.params['contentLayers']).toEqual(model.profile.contentLayers);
  });

  it('Grad-CAM for Egyptian cat puts most of its mass on the animal, not the background', async () => {
    // Whole photograph (stretched, not cropped), so the background on the right is in view.
    const whole = loadModel('squeezenet', engine);
    whole.describe({ preprocessing: { ...whole.meta.preprocessing, resize: 'stretch' } });
    const { batch } = await loadInputs([photo('chelsea.png')], whole);
    const e = await explain(whole, batch, { methods: ['gradcam', 'cam'] });
    expect(e.skipped.map((s) => s.method)).toEqual(['cam']); // no GAP + dense head: skipped, with the reason
    expect(e.skipped[0]!.reason).toMatch(/global average pooling followed by one dense layer/);
    const a = e.attributions[0]!;
    expect(a.method).toBe('gradcam');
    const map = a.map.data as Float32Array;
    const [, H, W] = a.map.dims as [number, number, number];
    // chelsea.png is 451x300: the cat fills it but for the blurred room right of its cheek and
    // ear (x >= 380, and x >= 350 between the ear and the chin) and the top-left corner.
    const animal = (px: number, py: number): boolean => {
      const x = ((px + 0.5) * 451) / W;
      const y = ((py + 0.5) * 300) / H;
      return !(x >= 380 || (x >= 350 && y >= 100 && y <= 240) || (x < 45 && y < 70));
    };
    let min = Infinity;
    let max = -Infinity;
    for (const v of map) [min, max] = [Math.min(min, v), Math.max(max, v)];
    let inside = 0;
    let total = 0;
    let area = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = (map[y * W + x]! - min) / (max - min); // as drawn (min-max)
        total += v;
        if (animal(x, y)) {
          inside += v;
          area++;
        }
      }
    }
    const massInside = inside / total;
    const areaInside = area / (H * W);
    expect(massInside).toBeGreaterThan(0.8);
    // and denser on the animal than off it: a uniform map would give a ratio of 1
    expect(massInside / areaInside / ((1 - massInside) / (1 - areaInside))).toBeGreaterThan(1.5);
  });
});
