// Segmentation nets: a first output [N, K, h, w] is a per-pixel class map. It was read as h*w*K
// classes ("pred: class 645" on a 16-class net) or seeded a gradient with h*w values (an engine
// error). Loaded, the model scores each class by its mean over the pixels (Captum's segmentation
// recipe), looking through a trailing Softmax over the channels; the map stays a layer, so
// "map@row,col" explains one pixel; and the CLI's methods run on such a model.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { layerAttribution } from '../../src/methods/explain/layer-attribution.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { parseUnitSpec, unitModel } from '../../src/models/unit-model.js';
import { BINARY_SIZE, binaryConvNet, binaryMapNet } from '../support/binary-net.js';
import { convlens } from '../support/cli.js';
import { randn, rng } from '../support/rng.js';
import { SEG_CLASSES, SEG_HEIGHT, SEG_WIDTH, segHeadNet, segNet } from '../support/segmentation-net.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-class-map-');
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await engine.dispose();
});

const H = SEG_HEIGHT;
const W = SEG_WIDTH;
const K = SEG_CLASSES;

/** The value `name` of graph `g` for `x`, run as the file is (no ConvLens load-time changes). */
async function runRaw(g: Graph, name: string, x: Tensor): Promise<Float32Array> {
  const c = g.clone();
  const b = GraphBuilder.over(c, { strict: false });
  c.outputs = [];
  b.output(name);
  const compiled = await engine.compile(`raw|${g.name}|${name}`, () => b.build());
  return (await compiled.run({ image: x }))[name]!.data as Float32Array;
}

/** Each image's and class's mean over the pixels of an [N, K, h, w] map. */
function pixelMeans(map: Float32Array, n: number, k: number): number[] {
  const per = map.length / (n * k);
  return Array.from({ length: n * k }, (_, j) => map.subarray(j * per, (j + 1) * per).reduce((a, v) => a + v, 0) / per);
}

describe('a per-pixel class map', () => {
  const x = f32([2, 3, H, W], randn(rng(4), 2 * 3 * H * W));

  for (const softmax of [false, true]) {
    it(`${softmax ? 'after a Softmax over the channels: ' : ''}scores each class by its mean logit over the pixels, and says so`, async () => {
      const model = new Model(segNet({ softmax }), engine);
      expect(model.labels).toHaveLength(K);
      expect(model.profile.classes).toBe(K);
      const scores = (await model.run(x))[model.output]!.data as Float32Array;
      const expected = pixelMeans(await runRaw(segNet(), 'classifier', x), 2, K);
      expect(scores).toHaveLength(2 * K);
      for (let j = 0; j < 2 * K; j++) expect(scores[j]).toBeCloseTo(expected[j]!, 5);
      if (softmax) {
        const probs = (await model.run(x, [model.graph.outputs[0]!.name]))[model.graph.outputs[0]!.name]!.data as Float32Array;
        expect(probs.subarray(0, K).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
      }
      const note = model.meta.warnings.find((w) => w.includes('per-pixel class map'));
      expect(note).toBeDefined();
      expect(note).toContain(`[N, ${K}, 6, 8]`);
      expect(note).toContain('mean over the 6x8 pixels');
      // the way out for one pixel, as a CLI aside the studio drops
      expect(note).toMatch(/; CLI: --unit classifier@3,4\)$/);
      // predictions are of the class means
      const e = await explain(model, x, { methods: ['saliency'] });
      for (let i = 0; i < 2; i++) {
        const row = expected.slice(i * K, (i + 1) * K);
        expect(e.images[i]!.predicted.index).toBe(row.indexOf(Math.max(...row)));
      }
    });
  }

  it('saliency: on a linear net, the gradient of a class mean is the mean of the per-pixel gradients', async () => {
    const g = segNet({ linear: true });
    const model = new Model(g, engine);
    const one = f32([1, 3, H, W], x.data.slice(0, 3 * H * W) as Float32Array);
    const target = 2;
    const e = await explain(model, one, { methods: ['saliency'], target });
    // the independent answer: finite differences of the file's own map, averaged over the pixels
    // (exact up to rounding: the map is linear in the image)
    const mean = async (t: Tensor): Promise<number> => pixelMeans(await runRaw(g, 'classifier', t), 1, K)[target]!;
    const base = await mean(one);
    const step = 0.5;
    const batch = new Float32Array(3 * H * W * 3 * H * W);
    for (let i = 0; i < 3 * H * W; i++) {
      batch.set(one.data as Float32Array, i * 3 * H * W);
      batch[i * 3 * H * W + i]! += step;
    }
    const moved = pixelMeans(await runRaw(g, 'classifier', f32([3 * H * W, 3, H, W], batch)), 3 * H * W, K);
    const grad = Array.from({ length: 3 * H * W }, (_, i) => (moved[i * K + target]! - base) / step);
    const map = e.attributions[0]!.map.data as Float32Array;
    expect(e.attributions[0]!.map.dims).toEqual([1, H, W]);
    let peak = 0;
    for (let p = 0; p < H * W; p++) {
      const want = Math.max(...[0, 1, 2].map((c) => Math.abs(grad[c * H * W + p]!)));
      peak = Math.max(peak, want);
      expect(map[p]).toBeCloseTo(want, 3);
    }
    expect(peak).toBeGreaterThan(1e-3);
  });

  it('explains one pixel as the unit the load note names (map@row,col)', async () => {
    const model = new Model(segNet({ softmax: true }), engine);
    const note = model.meta.warnings.find((w) => w.includes('per-pixel class map'))!;
    const named = /e\.g\. "([^"]+)"/.exec(note)![1]!;
    expect(named).toBe('classifier@3,4');
    const spec = parseUnitSpec(named);
    const unit = unitModel(model, spec);
    expect(unit.labels).toHaveLength(K);
    const values = (await unit.run(x))[unit.output]!.data as Float32Array;
    const raw = await runRaw(segNet(), 'classifier', x);
    for (let i = 0; i < 2; i++) for (let k = 0; k < K; k++) expect(values[i * K + k]).toBeCloseTo(raw[((i * K + k) * 6 + 3) * 8 + 4]!, 5);
    // a pixel's gradient reaches only its receptive field (the 3x3 window of the stride-2 conv)
    const e = await explain(unit, f32([1, 3, H, W], x.data.slice(0, 3 * H * W) as Float32Array), { methods: ['saliency'], target: 1 });
    const map = e.attributions[0]!.map.data as Float32Array;
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) if (Math.abs(r - 6) > 1 || Math.abs(c - 8) > 1) expect(map[r * W + c], `${r},${c}`).toBe(0);
    expect(map[6 * W + 8]).toBeGreaterThan(0);
  });

  it('leaves [N, K] and [N, K, 1, 1] outputs, and feature networks built with classMap "keep", alone', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(5));
    const image = b.input('image', 'float32', ['N', 3, H, W]);
    b.output(L.globalAvgPool(L.conv2d(image, 'conv', { filters: K }), 'gap'));
    const pooled = new Model(b.build(), engine);
    expect(pooled.facts(pooled.output).shape).toEqual(['N', K]);
    expect(pooled.meta.warnings.some((w) => w.includes('per-pixel'))).toBe(false);
    const kept = new Model(segNet(), engine, 'features', undefined, { classMap: 'keep' });
    expect(kept.output).toBe('classifier');
    expect(kept.meta.warnings.some((w) => w.includes('per-pixel'))).toBe(false);
  });

  it('the CLI runs saliency, Grad-CAM, occlusion and Kernel SHAP on it, and predicts among its classes', async () => {
    const file = join(tmp, 'seg.onnx');
    writeFileSync(file, encodeModel(segNet({ softmax: true })));
    const out = join(tmp, 'explain');
    const r = await convlens('explain', 'samples/photos/chelsea.png', '--model', file, '--method', 'saliency,gradcam,occlusion,kernel-shap', '--segments', '8', '--preprocess', 'unit-range', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('per-pixel class map');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { methods: { method: string }[] };
    // kernel-shap scores by the class means before the Softmax, which the graph did not declare an output
    expect(summary.methods.map((m) => m.method)).toEqual(['saliency', 'gradcam', 'occlusion', 'kernel-shap']);
    expect(r.stdout).toMatch(/predicted class [0-4] /);
    const u = await convlens('explain', 'samples/photos/chelsea.png', '--model', file, '--unit', 'classifier@3,4', '--method', 'saliency', '--preprocess', 'unit-range', '--no-images', '-o', join(tmp, 'unit'));
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toContain('classifier:');
  }, 120_000);
});

describe('a channels-last class map [N, h, w, K] (a TensorFlow export)', () => {
  const x = f32([2, 3, H, W], randn(rng(6), 2 * 3 * H * W));
  /** x as the file takes it: [N, H, W, 3] */
  const nhwc = (t: Tensor): Tensor => {
    const [n, c, h, w] = t.dims as number[];
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < n!; i++) for (let k = 0; k < c!; k++) for (let p = 0; p < h! * w!; p++) out[(i * h! * w! + p) * c! + k] = (t.data as Float32Array)[(i * c! + k) * h! * w! + p]!;
    return f32([n!, h!, w!, c!], out);
  };

  for (const [head, mapLabel, raw] of [['transpose', 'classifier', 'to_nhwc'], ['matmul', 'class_map', 'dense']] as const) {
    for (const softmax of [false, true]) {
      it(`${head} head${softmax ? ', Softmax over the last axis' : ''}: each class scored by its mean over the pixels, one pixel explained as "${mapLabel}@3,4"`, async () => {
        const g = segNet({ channelsLast: head, softmax });
        const model = new Model(g, engine);
        expect(model.labels).toHaveLength(K);
        expect(model.profile.classes).toBe(K);
        // the file's own map, channels-last: [2, 6, 8, K]
        const map = await runRaw(g, raw, nhwc(x));
        expect(map).toHaveLength(2 * 6 * 8 * K);
        const mean = (i: number, k: number): number => {
          let sum = 0;
          for (let p = 0; p < 48; p++) sum += map[(i * 48 + p) * K + k]!;
          return sum / 48;
        };
        const scores = (await model.run(x))[model.output]!.data as Float32Array;
        for (let i = 0; i < 2; i++) for (let k = 0; k < K; k++) expect(scores[i * K + k]).toBeCloseTo(mean(i, k), 5);
        if (softmax) {
          const probs = (await model.run(x, [model.graph.outputs[0]!.name]))[model.graph.outputs[0]!.name]!.data as Float32Array;
          expect(probs.subarray(0, K).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
        }
        const note = model.meta.warnings.find((w) => w.includes('per-pixel class map'));
        expect(note).toContain(`[N, ${K}, 6, 8]`);
        expect(note).toMatch(new RegExp(`CLI: --unit ${mapLabel}@3,4\\)$`));
        const unit = unitModel(model, parseUnitSpec(`${mapLabel}@3,4`));
        const values = (await unit.run(x))[unit.output]!.data as Float32Array;
        for (let i = 0; i < 2; i++) for (let k = 0; k < K; k++) expect(values[i * K + k]).toBeCloseTo(map[((i * 6 + 3) * 8 + 4) * K + k]!, 5);
      });
    }
  }

  it('a Softmax whose axis is left to the default (the last, the width of an NCHW map) is not read as one over the classes', async () => {
    const g = segNet();
    const b = GraphBuilder.over(g, { strict: false });
    g.outputs = [];
    b.output(b.op('Softmax', ['classifier'], {}, { name: 'probs', outputs: ['probs'] }));
    const model = new Model(b.build(), engine);
    const scores = (await model.run(x))[model.output]!.data as Float32Array;
    // the class means are of what the file outputs, a softmax along each row
    const expected = pixelMeans(await runRaw(g, 'probs', x), 2, K);
    for (let j = 0; j < 2 * K; j++) expect(scores[j]).toBeCloseTo(expected[j]!, 5);
    expect(expected[0]).toBeCloseTo(1 / 8, 5);
  });
});

describe('the CAM layer of a segmentation net', () => {
  it("is the backbone's last layer, the features the head reads, as pytorch-grad-cam's segmentation tutorial", async () => {
    // It was the class map (torchvision's "out"), where Grad-CAM draws the class's own logit map;
    // one step back, at the 1x1 classifier conv's input, nearly the same map (one weight per channel).
    const x = f32([1, 3, H, W], randn(rng(24), 3 * H * W));
    for (const lraspp of [false, true]) {
      const model = new Model(segHeadNet({ lraspp }), engine);
      expect(model.classMap).toBe('out');
      expect(model.profile.camLayer, `lraspp ${lraspp}`).toBe('backbone');
      expect(model.profile.layers.map((l) => l.name)).toContain('out');
      const e = await explain(model, x, { methods: ['gradcam', 'layercam'] });
      for (const a of e.attributions) expect(a.layer, a.method).toEqual({ name: 'backbone', label: 'backbone', channels: 8, height: H / 2, width: W / 2 });
      // the channel ranking starts at the same features
      expect((await layerAttribution(model, x, { methods: ['gradient-x-activation'] })).layer).toBe('backbone');
    }
  });
});

describe('the other roles of a segmentation net', () => {
  it('index, style, content, dream and inversion layers are features, never the class map or the classifier output it is resampled from', () => {
    // The index recorded the class map "out" as its last feature layer (neighbours and embeddings
    // of class scores), and style transfer matched its Gram matrix, on torchvision's DeepLabV3.
    for (const [name, graph] of [['seg head', segHeadNet()], ['LR-ASPP head', segHeadNet({ lraspp: true })], ['seg', segNet()], ['seg + softmax', segNet({ softmax: true })]] as const) {
      const model = new Model(graph, engine);
      const p = model.profile;
      expect(model.classMap, name).toBeDefined();
      // maps with a channel per class: the classifier's output, its upsampling, a Softmax of it
      const classMaps = p.layers.filter((l) => l.shape[0] === K).map((l) => l.name);
      expect(classMaps, name).toContain(model.classMap);
      const inversion = p.inversionLayers.slice(0, -1);
      for (const role of [[p.dreamLayer!], p.styleLayers, p.contentLayers, p.featureLayers, inversion]) {
        expect(role.length, name).toBeGreaterThan(0);
        for (const l of role) expect(classMaps, `${name}: ${l}`).not.toContain(l);
      }
      // the index's last layer (neighbours, embeddings) is the CAM layer, the features the head reads
      expect(p.featureLayers.at(-1), name).toBe(p.camLayer);
      // the logits still end the inversion layers, as on any model
      expect(p.inversionLayers.at(-1), name).toBe(model.output);
    }
  });
});

describe('CAM on a segmentation net', () => {
  it("is skipped with a reason that names the class map, not ConvLens's own ReduceMean of it", async () => {
    // The reason said 'its output "out_class_means" comes from a ReduceMean node', a node and a
    // name the user never wrote (class-map.ts adds them).
    const model = new Model(segHeadNet(), engine);
    const e = await explain(model, f32([1, 3, H, W], randn(rng(25), 3 * H * W)), { methods: ['cam', 'gradcam'] });
    const cam = e.skipped.find((s) => s.method === 'cam');
    expect(cam?.reason).toMatch(/per-pixel class map "out" \(a segmentation net\)/);
    expect(cam?.reason).not.toMatch(/ReduceMean|class_means/);
    expect(e.attributions.map((a) => a.method)).toEqual(['gradcam']);
  });
});

describe('channel attribution on a class map', () => {
  it('scores the features the classifier conv reads by default, not the map whose channel k is class k', async () => {
    // The class map's channel k is class k: scored there, the target's channel took 100% by every
    // method ("classifier:3 100.0%"), which says nothing. (The CAM layer is now the same features.)
    const x = f32([1, 3, H, W], randn(rng(21), 3 * H * W));
    for (const g of [segNet(), segNet({ softmax: true }), binaryMapNet({ sigmoid: true })]) {
      const model = new Model(g, engine);
      expect(model.lastSpatialLayer()).toBe('relu');
      const shape = g.name.startsWith('binary') ? [1, 3, BINARY_SIZE, BINARY_SIZE] : [1, 3, H, W];
      const r = await layerAttribution(model, shape[2] === H ? x : f32(shape, randn(rng(22), 3 * BINARY_SIZE * BINARY_SIZE)), { methods: ['gradient-x-activation'] });
      expect(r.layer).toBe('relu');
      expect(r.shape[0]).toBe(4);
      // asked for, the map itself is still scored
      expect((await layerAttribution(model, shape[2] === H ? x : f32(shape, randn(rng(22), 3 * BINARY_SIZE * BINARY_SIZE)), { methods: ['gradient-x-activation'], layer: g.name.startsWith('binary') ? 'mask' : 'classifier' })).shape[0]).toBe(g.name.startsWith('binary') ? 1 : K);
    }
    // channels-last exports: through the Transposes, past the classifier conv or the MatMul over the channels
    for (const head of ['transpose', 'matmul'] as const) {
      const model = new Model(segNet({ channelsLast: head, softmax: true }), engine);
      expect(model.lastSpatialLayer()).toBe('relu');
      const r = await layerAttribution(model, x, { methods: ['gradient-x-activation'] });
      expect(r.layer, head).toBe('relu');
    }
    // a classifier keeps its CAM layer
    const classifier = new Model(binaryConvNet(), engine);
    const r = await layerAttribution(classifier, f32([1, 3, BINARY_SIZE, BINARY_SIZE], randn(rng(23), 3 * BINARY_SIZE * BINARY_SIZE)), { methods: ['gradient-x-activation'] });
    expect(r.layer).toBe(classifier.lastSpatialLayer());
  });
});
