// The small parts synthesis is assembled from: warps, parameterizations, objectives, optimizers,
// GIF encoding; and fast style training end to end on a tiny network.
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { textureBackbone } from '../../src/models/zoo/texture-backbone.js';
import { lossRose, trainStyleNet } from '../../src/methods/synthesize/fast-style.js';
import { encodeStyleNet, loadStyleNet, styleNetInfo, stylize } from '../../src/methods/synthesize/stylize.js';
import { extractFeatures, SynthesisSession } from '../../src/methods/synthesize/graph.js';
import { channel, classLogit, imageMatch, parseObjective, sum, tv, weighted } from '../../src/methods/synthesize/objectives.js';
import { applyRegularizers, ascend, frameSteps } from '../../src/methods/synthesize/optimize.js';
import { fourierParam, pixelParam } from '../../src/methods/synthesize/params.js';
import { encodeGif } from '../../src/methods/synthesize/render.js';
import { identityWarp, parseTransforms, sampleWarp, standardTransforms } from '../../src/methods/synthesize/transforms.js';
import { rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());
const model = loadBuiltinModel(engine);
const data = (t: Tensor): Float32Array => t.data as Float32Array;

/** Applies a warp in JS (what the graph computes): out[p] = sum_k w[k, p] * img[idx[k, p]], fill 0.5. */
function applyWarp(img: Float32Array, h: number, w: number, warp: ReturnType<typeof sampleWarp>): Float32Array {
  const n = warp.weights.length / 4;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) for (let k = 0; k < 4; k++) out[p]! += warp.weights[k * n + p]! * (Number(warp.indices[k * n + p]) === h * w ? 0.5 : img[Number(warp.indices[k * n + p])]!);
  return out;
}

describe('transforms', () => {
  const rand = rng(1);
  const img = Float32Array.from({ length: 12 * 10 }, () => rand());

  it('the identity warp reproduces the image exactly; weights always sum to 1', () => {
    const out = applyWarp(img, 12, 10, identityWarp(12, 10));
    expect(Array.from(out)).toEqual(Array.from(img));
    const w = sampleWarp(standardTransforms(12), 12, 10, 12, 10, rng(3));
    const n = w.weights.length / 4;
    for (let p = 0; p < n; p++) expect(w.weights[p]! + w.weights[n + p]! + w.weights[2 * n + p]! + w.weights[3 * n + p]!).toBeCloseTo(1, 6);
  });

  it('jitter shifts by whole pixels, pad shows the fill, roll wraps around, scale 2 resamples to the input size', () => {
    // pad 2 then jitter 4 with offsets (0, 0): the output's first two rows/cols come from the fill
    const w = sampleWarp([{ kind: 'pad', px: 2 }, { kind: 'jitter', px: 4 }], 12, 10, 12 + 4 - 4, 10, () => 0);
    const out = applyWarp(img, 12, 10, w);
    expect(out[0]).toBe(0.5);
    expect(out[2 * 10 + 2]).toBeCloseTo(img[0]!, 6);
    // roll by (+1, +1): wraps
    const r = applyWarp(img, 12, 10, sampleWarp([{ kind: 'roll', px: 1 }], 12, 10, 12, 10, () => 0.999));
    expect(r[0]).toBeCloseTo(img[11 * 10 + 9]!, 6);
    expect(r[10 + 1]).toBeCloseTo(img[0]!, 6);
    expect(() => parseTransforms('pad:2,jitter:x', 28)).toThrow(/Cannot read transform/);
    expect(parseTransforms('pad:2:reflect,jitter:1,scale:0.9:1.1,rotate:5,roll:3', 28).map((t) => t.kind)).toEqual(['pad', 'jitter', 'scale', 'rotate', 'roll']);
    // bounded before any work: rotate:1e9 listed 2e9 angles
    expect(() => parseTransforms('rotate:1e9', 28)).toThrow('Transform "rotate:1e9": the angle must be from 0 to 180, got 1000000000.');
    expect(() => parseTransforms('rotate:-5', 28)).toThrow(/the angle must be from 0 to 180/);
    expect(() => parseTransforms('scale:0:2', 28)).toThrow(/the lowest scale must be from 0.1 to 10/);
    expect(() => parseTransforms('pad:4:bogus', 28)).toThrow('Transform "pad:4:bogus": unknown fill "bogus".');
  });

  it('diversity names a feature map: on the logits it is refused when its layers are checked (a NaN size ended in a RangeError)', () => {
    expect(() => parseObjective('diversity:logits').layers(model)).toThrow(/"logits" has shape \[N, 10\], not a feature map/);
    expect(parseObjective('diversity:relu3').layers(model)).toEqual(['relu3']);
  });
});

describe('parameterizations', () => {
  it('Fourier: zero spectrum = grey; a random spectrum gives natural 1/f images; gradients match finite differences', async () => {
    const param = fourierParam();
    const shape = { batch: 1, channels: 3 as const, height: 16, width: 20 };
    const target: Tensor = { dtype: 'float32', dims: [1, 3, 16, 20], data: new Float32Array(3 * 320).fill(0.3) };
    const session = await SynthesisSession.create({ model, shape, param, objective: imageMatch(target) });
    const theta = new Float32Array(param.shape(shape).reduce((a, b) => a * b, 1));
    const zero = await session.step(theta);
    for (const v of zero.image) expect(v).toBeCloseTo(0.5, 6);
    const t2 = param.init(shape, rng(4));
    const r = await session.step(t2);
    // directional finite difference
    const dir = Float32Array.from(t2, (_, i) => Math.sin(i));
    const eps = 1e-2;
    const plus = await session.step(Float32Array.from(t2, (v, i) => v + eps * dir[i]!));
    const minus = await session.step(Float32Array.from(t2, (v, i) => v - eps * dir[i]!));
    const fd = (plus.value - minus.value) / (2 * eps);
    const an = r.grad.reduce((a, g, i) => a + g * dir[i]!, 0);
    expect(an).toBeCloseTo(fd, 4);
  });

  it('pixel (sigmoid, decorrelated) starts from an image exactly; clipping keeps pixels in [0, 1]', async () => {
    const shape = { batch: 1, channels: 3 as const, height: 6, width: 5 };
    const start = Float32Array.from({ length: 90 }, (_, i) => 0.1 + 0.8 * ((i * 37) % 90) / 90);
    const p = pixelParam({ range: 'sigmoid', decorrelate: true });
    const session = await SynthesisSession.create({ model, shape, param: p, objective: imageMatch({ dtype: 'float32', dims: [1, 3, 6, 5], data: start }) });
    const r = await session.step(p.init(shape, rng(1), start));
    for (let i = 0; i < 90; i++) expect(r.image[i]).toBeCloseTo(start[i]!, 4);
    const clip = pixelParam({ range: 'clip' });
    const theta = Float32Array.from({ length: 90 }, (_, i) => (i % 3) - 0.5);
    applyRegularizers(theta, new Float32Array(90), clip, shape, 0, {});
    for (const v of theta) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('objectives and the ascent loop', () => {
  it('parses objective strings and explains bad ones', () => {
    expect(parseObjective('class:Bag').key).toBe('logit(Bag,*)');
    expect(parseObjective('0.5*channel:relu3:5@1 + layer:relu2').key).toBe('sum(0.5*channel(relu3,5,1);l2layer(relu2,*))');
    expect(() => parseObjective('pixel:3')).toThrow(/Unknown objective/);
    expect(() => parseObjective('channel:relu3:x')).toThrow(/integer/);
    expect(() => parseObjective('1e999*channel:relu3:1')).toThrow(/weight "1e999" is not a finite number/);
  });

  it('checks channels and classes with the layers, before a job builds anything', () => {
    // the studio checks an objective's layers when a request arrives; these were refused only inside the job
    expect(() => parseObjective('channel:relu3:99').layers(model)).toThrow(/64 channels; channel 99/);
    expect(() => parseObjective('neuron:relu3:64:1:1').layers(model)).toThrow(/64 channels; channel 64/);
    expect(() => parseObjective('class:Hat + layer:relu2').layers(model)).toThrow(/No class "Hat"/);
    expect(() => parseObjective('prob:10').layers(model)).toThrow(/Class 10 does not exist/);
    expect(parseObjective('channel:relu3:63 + class:Bag').layers(model)).toEqual(['relu3', model.output]);
  });

  it('errors name the problem: unknown class, channel out of range, unknown layer; class objectives run at other sizes (global pooling)', async () => {
    const shape = { batch: 1, channels: 1 as const, height: 28, width: 28 };
    await expect(SynthesisSession.create({ model, shape, param: pixelParam(), objective: classLogit('Hat') })).rejects.toThrow(/No class "Hat"/);
    await expect(SynthesisSession.create({ model, shape, param: pixelParam(), objective: channel('relu3', 99) })).rejects.toThrow(/64 channels; channel 99/);
    await expect(SynthesisSession.create({ model, shape, param: pixelParam(), objective: channel('relu9', 1) })).rejects.toThrow(/relu9/);
    const big = await SynthesisSession.create({ model, shape: { ...shape, height: 40, width: 40 }, param: pixelParam(), objective: classLogit(3) });
    expect((await big.step(new Float32Array(1600).fill(0.5))).grad.length).toBe(1600);
  });

  it('reports labelled terms; frames land on the requested steps; a sum equals its parts', async () => {
    const shape = { batch: 2, channels: 1 as const, height: 28, width: 28 };
    const session = await SynthesisSession.create({ model, shape, param: pixelParam({ range: 'clip' }), objective: sum(channel('relu2', 3), weighted(2, tv())) });
    const theta = pixelParam({ range: 'clip' }).init(shape, rng(2));
    const r = await ascend(session, theta, { steps: 6, lr: 0.05, frames: 3 });
    expect(r.frames.map((f) => f.step)).toEqual([0, 3, 6]);
    expect(Object.keys(r.history[0]!.terms)).toEqual(['tv']);
    expect(r.history[5]!.value).toBeGreaterThan(r.history[0]!.value);
    const [f] = await extractFeatures(model, { dtype: 'float32', dims: [2, 1, 28, 28], data: r.image }, [{ layer: 'relu2' }]);
    let ch = 0;
    for (let i = 0; i < 2; i++) for (let p = 0; p < 14 * 14; p++) ch += data(f!)[(i * 32 + 3) * 196 + p]! / 196;
    expect(r.final.value - r.final.terms['tv']!).toBeCloseTo(ch, 3);
    expect([...frameSteps(100, 5)]).toEqual([0, 25, 50, 75, 100]);
  });
});

describe('GIF', () => {
  it('encodes an animated GIF89a', () => {
    const frame = (v: number) => ({ width: 8, height: 6, channels: 3 as const, data: new Uint8Array(8 * 6 * 3).fill(v) });
    const gif = encodeGif([frame(0), frame(128), frame(255)]);
    expect(Buffer.from(gif.subarray(0, 6)).toString('ascii')).toBe('GIF89a');
    expect(gif[gif.length - 1]).toBe(0x3b);
    expect(Buffer.from(gif).includes(Buffer.from('NETSCAPE2.0'))).toBe(true);
  });
});

describe('fast style transfer', () => {
  it('trains a two-style network (loss falls), exports ONNX that runs in one pass at any size and blends styles', async () => {
    const backbone = new Model(textureBackbone({ filters: 8, scales: 2 }), engine, 'tiny-backbone');
    const rand = rng(5);
    const img = (h: number, w: number, f: (c: number, y: number, x: number) => number): Tensor => ({ dtype: 'float32', dims: [1, 3, h, w], data: Float32Array.from({ length: 3 * h * w }, (_, i) => f(Math.floor(i / (h * w)), Math.floor((i % (h * w)) / w), i % w)) });
    const stripes = img(32, 32, (c, y) => (Math.floor(y / 4) % 2 ? 0.9 : 0.1) * (c === 0 ? 1 : 0.3));
    const dots = img(32, 32, (c, y, x) => ((x % 6 < 2 && y % 6 < 2) ? 0.9 : 0.2) * (c === 2 ? 1 : 0.5));
    const content = [img(40, 48, () => rand()), img(36, 36, (c, y, x) => (x + y) / 72)];
    const r = await trainStyleNet(engine, { styles: [{ name: 'stripes', image: stripes }, { name: 'dots', image: dots }], content, backbone, styleLayers: ['color', 'scale1', 'scale2'], contentLayers: ['color', 'scale1'], size: 16, batch: 2, steps: 30, width: 4, blocks: 1, lr: 5e-3 });
    expect(r.completed).toBe(true);
    const first = r.history.slice(0, 5).reduce((a, h) => a + h.loss, 0) / 5;
    const last = r.history.slice(-5).reduce((a, h) => a + h.loss, 0) / 5;
    expect(last).toBeLessThan(first);
    const bytes = encodeStyleNet(r.graph);
    const g = loadStyleNet(bytes, 'test');
    expect(styleNetInfo(g).names).toEqual(['stripes', 'dots']);
    const ops = new Set(decodeModel(bytes).nodes.map((n) => n.op));
    expect([...ops].every((op) => ['Pad', 'Conv', 'InstanceNormalization', 'MatMul', 'Reshape', 'Mul', 'Add', 'Relu', 'Resize', 'Sigmoid', 'Constant'].includes(op))).toBe(true);
    const x = img(30, 45, (c, y, x2) => (c + y + x2) % 7 / 7);
    const a = await stylize(engine, g, x, [1, 0]);
    const b = await stylize(engine, g, x, [0, 1]);
    const mid = await stylize(engine, g, x, [0.5, 0.5]);
    expect(a.dims).toEqual([1, 3, 30, 45]);
    let d = 0;
    for (let i = 0; i < a.data.length; i++) d = Math.max(d, Math.abs(data(a)[i]! - data(b)[i]!));
    expect(d).toBeGreaterThan(1e-4);
    // the blend lies between the two styles somewhere (not equal to either)
    let da = 0;
    for (let i = 0; i < a.data.length; i++) da = Math.max(da, Math.abs(data(mid)[i]! - data(a)[i]!));
    expect(da).toBeGreaterThan(0);
  });
});

describe('fast style transfer: resuming', () => {
  it("refuses another command's checkpoint by what it is, not by its data size", async () => {
    const backbone = new Model(textureBackbone({ filters: 8, scales: 2 }), engine, 'tiny-backbone');
    const image: Tensor = { dtype: 'float32', dims: [1, 3, 16, 16], data: new Float32Array(3 * 16 * 16).fill(0.5) };
    // what `convlens train` and `diffuse train` record: their run under "classifier" / "denoiser"
    for (const kind of ['classifier', 'denoiser']) {
      const resume = { meta: { fit: { step: 3, dataSize: 450 }, extra: { [kind]: { labels: [] } } }, tensors: new Map<string, Tensor>() };
      await expect(
        trainStyleNet(engine, { styles: [{ name: 'flat', image }], content: [image], backbone, styleLayers: ['color'], contentLayers: ['color'], size: 16, batch: 1, steps: 5, width: 2, blocks: 1, resume }),
      ).rejects.toThrow(new RegExp(`not a style-training checkpoint: it records a ${kind} run`));
    }
  });
});

describe('fast style transfer: style names', () => {
  it('refuses two styles of the same name before training (the blend weights could not be told apart)', async () => {
    const backbone = new Model(textureBackbone({ filters: 8, scales: 2 }), engine, 'tiny-backbone');
    const image: Tensor = { dtype: 'float32', dims: [1, 3, 16, 16], data: new Float32Array(3 * 16 * 16).fill(0.5) };
    const other: Tensor = { ...image, data: new Float32Array(3 * 16 * 16).fill(0.2) };
    await expect(
      trainStyleNet(engine, { styles: [{ name: 'gravel', image }, { name: 'gravel', image: other }], content: [image], backbone, styleLayers: ['color'], contentLayers: ['color'], size: 16, batch: 1, steps: 2, width: 2, blocks: 1 }),
    ).rejects.toThrow(/Two styles are named "gravel"/);
  });
});

describe('a style network that did not learn', () => {
  it('says so when the loss ended higher than it began, and keeps quiet when it fell', () => {
    const rising = Array.from({ length: 40 }, (_, i) => ({ loss: 100 + i * 200 }));
    expect(lossRose(rising, 1e9)).toMatch(/the loss rose from .* to .*: the network did not learn \(learning rate 1000000000\)\. Train again with a lower --lr, e\.g\. the default 0\.001/);
    expect(lossRose(rising, 1e-4)).toMatch(/e\.g\. 0\.00001\.$/);
    const falling = Array.from({ length: 40 }, (_, i) => ({ loss: 1000 / (1 + i) }));
    expect(lossRose(falling, 1e-3)).toBeUndefined();
    expect(lossRose(rising.slice(0, 5), 1)).toBeUndefined(); // too short to tell
  });
});
