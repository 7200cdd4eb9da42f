import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { Model } from '../../src/models/model.js';
import { courseCnn, resnet18Like } from '../../src/models/zoo/index.js';
import { formatSummary, summarize } from '../../src/methods/inspect/summary.js';
import { receptiveFields, unitRegion } from '../../src/methods/inspect/receptive-field.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('summary of the course CNN', () => {
  const s = summarize(new Model(courseCnn(0), engine, 'course'));

  it('matches the course table: output shapes and parameter counts', () => {
    // Channels-first here; the course shows the same numbers channels-last (28x28x16 = 16x28x28).
    expect(s.rows.map((r) => r.shape.slice(1))).toEqual([
      [16, 28, 28], [16, 14, 14], [32, 14, 14], [32, 7, 7], [64, 7, 7], [64, 3, 3], [128, 3, 3], [128], [10],
    ]);
    expect(s.rows.map((r) => r.params)).toEqual([160, 0, 4640, 0, 18496, 0, 73856, 0, 1290]);
    expect(s.totalParams).toBe(98442);
    expect(s.rows.map((r) => r.type)).toEqual([
      'Conv+Relu', 'MaxPool', 'Conv+Relu', 'MaxPool', 'Conv+Relu', 'MaxPool', 'Conv+Relu', 'GlobalAveragePool', 'Gemm',
    ]);
  });

  it('counts FLOPs as 2 per multiply-add', () => {
    // conv1: 28*28*16 outputs, each 9 MACs + a bias add.
    expect(s.rows[0]!.flops).toBe(28 * 28 * 16 * (2 * 9 + 1) + 28 * 28 * 16 /* ReLU */);
    // dense: 128 -> 10
    expect(s.rows[8]!.flops).toBe(2 * 128 * 10 + 10);
  });

  it('computes receptive fields (size, jump, start) layer by layer', () => {
    const rf = s.rows.map((r) => r.receptiveField!);
    // 3x3 same conv: 3 px; pool 2: 4 px, jump 2; conv: 4 + 2*2 = 8; pool: 10, jump 4; conv: 18; pool: 22, jump 8; conv: 38.
    expect(rf.slice(0, 7).map((r) => [r.size[0], r.jump[0]])).toEqual([[3, 1], [4, 2], [8, 2], [10, 4], [18, 4], [22, 8], [38, 8]]);
    expect(rf[0]!.start[0]).toBe(0);
    expect(rf[1]!.start[0]).toBe(0.5);
    expect(rf[7]!.global).toBe(true);
    // Unit (1, 2) of conv4's map sees a clipped 38-pixel window around input pixel (3.5 + 8, 3.5 + 16).
    expect(unitRegion(rf[6]!, 1, 2, 28, 28)).toEqual([0, 1, 27, 27]);
    expect(unitRegion(rf[0]!, 5, 5, 28, 28)).toEqual([4, 4, 6, 6]);
  });

  it('prints a Keras-like table', () => {
    const text = formatSummary(s);
    expect(text).toContain('Total params: 98,442');
    expect(text).toMatch(/conv1 \(Conv\+Relu\)\s+\(N, 16, 28, 28\)\s+160/);
  });
});

describe('summary of a ResNet-18-shaped graph', () => {
  it('has ResNet-18 parameter count and a receptive field of 435 at layer4', () => {
    const s = summarize(new Model(resnet18Like(0), engine, 'resnet'));
    // torchvision resnet18: 11,689,512 parameters (+ BN running stats, counted as non-trainable here).
    expect(s.trainableParams).toBe(11689512);
    const last = s.rows.filter((r) => r.name.startsWith('layer4')).at(-1)!;
    expect(last.receptiveField!.size[0]).toBe(435);
  });
});

describe('receptive fields through an explicit Pad', () => {
  // nn.ZeroPad2d((1, 0, 2, 1)) before a 3x3 conv, as torch.onnx exports it; reference: the input
  // pixels whose gradient is nonzero for a unit (PyTorch, positive weights).
  it('shifts the units by the begin pads instead of making every later layer see the whole image', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(1));
    const x = b.input('image', 'float32', ['N', 1, 20, 30]);
    const padded = b.op('Pad', [x, b.ints([0, 0, 2, 1, 0, 0, 1, 0])], { mode: 'constant' }, { name: 'pad', outputs: ['pad'] });
    const y = L.conv2d(padded, 'conv', { filters: 2, kernel: 3, stride: 2, padding: 0 });
    b.output(L.dense(L.flatten(y, 'flat'), 'fc', 3));
    const s = summarize(new Model(b.build(), engine, 'padded'));
    const conv = s.rows.find((r) => r.name === 'conv')!;
    expect(conv.shape).toEqual(['N', 2, 11, 15]);
    expect(conv.receptiveField).toEqual({ size: [3, 3], jump: [2, 2], start: [-1, 0], global: false });
    // torch: unit (0, 0) sees rows 0..0 (two pad rows above) and cols 0..1; unit (5, 7) rows 8..10, cols 13..15
    expect(unitRegion(conv.receptiveField!, 0, 0, 20, 30)).toEqual([0, 0, 0, 1]);
    expect(unitRegion(conv.receptiveField!, 5, 7, 20, 30)).toEqual([8, 13, 10, 15]);
  });
});

describe('FLOPs of a grouped ConvTranspose', () => {
  // fvcore / thop: MACs = input elements x (Cout / groups) x kh x kw; torch: ConvTranspose2d(8, 8, 4,
  // stride=2, padding=1, groups=4) on 8x8x8 makes 8x16x16, 8*8*8 * 2 * 16 = 16,384 MACs
  it('counts each input value against its own group\'s filters only', () => {
    const b = new GraphBuilder();
    const rand = seededRandom(3);
    const x = b.input('image', 'float32', ['N', 8, 8, 8]);
    const w = b.initializer('up.weight', { dtype: 'float32', dims: [8, 2, 4, 4], data: Float32Array.from({ length: 256 }, () => rand() - 0.5) });
    b.output(b.op('ConvTranspose', [x, w], { strides: [2, 2], pads: [1, 1, 1, 1], group: 4 }, { name: 'up', outputs: ['up'] }));
    const s = summarize(new Model(b.build(), engine, 'up'));
    const up = s.rows.find((r) => r.name === 'up')!;
    expect(up.shape).toEqual(['N', 8, 16, 16]);
    expect(up.params).toBe(256);
    expect(up.flops).toBe(2 * 16384);
  });
});

describe('receptive fields through reductions over the channels', () => {
  // LayerNorm as torch.onnx exports it before opset 17 (ReduceMean over the last axis of a
  // channels-last block: ConvNeXt at opset 13 had every layer "whole image" from the stem on) and
  // CBAM's channel mean (ReduceMean over axis 1): reference, PyTorch gradient support.
  it('keep each position\'s window', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(2));
    const x = b.input('image', 'float32', ['N', 3, 32, 32]);
    const c1 = L.conv2d(x, 'c1', { filters: 4, kernel: 3, stride: 2, padding: 1 });
    const last = b.op('Transpose', [c1], { perm: [0, 2, 3, 1] });
    const centred = b.op('Sub', [last, b.op('ReduceMean', [last], { axes: [-1], keepdims: 1 }, { name: 'ln.mean', outputs: ['ln.mean'] })]);
    const norm = b.op('Transpose', [centred], { perm: [0, 3, 1, 2] }, { name: 'ln.out', outputs: ['ln.out'] });
    const c2 = L.conv2d(norm, 'c2', { filters: 4, kernel: 3, padding: 1 });
    const gate = b.op('Sigmoid', [L.conv2d(b.op('ReduceMean', [c2], { axes: [1], keepdims: 1 }, { name: 'cbam.mean', outputs: ['cbam.mean'] }), 'cbam.conv', { filters: 1, kernel: 3, padding: 1 })]);
    const y = b.op('Mul', [c2, gate], {}, { name: 'cbam.out', outputs: ['cbam.out'] });
    b.output(L.dense(L.flatten(L.globalAvgPool(y, 'gap'), 'flat'), 'fc', 3));
    const rfs = receptiveFields(...((): Parameters<typeof receptiveFields> => {
      const m = new Model(b.build(), engine, 'reduced');
      return [m.graph, m.builder(), m.input.name];
    })());
    expect(rfs.get('ln.mean')).toEqual({ size: [3, 3], jump: [2, 2], start: [0, 0], global: false });
    expect(rfs.get('ln.out')).toEqual({ size: [3, 3], jump: [2, 2], start: [0, 0], global: false });
    expect(rfs.get('cbam.mean')).toEqual({ size: [7, 7], jump: [2, 2], start: [0, 0], global: false });
    // the gate's 3x3 conv over the channel mean widens the window to 11
    expect(rfs.get('cbam.out')).toEqual({ size: [11, 11], jump: [2, 2], start: [0, 0], global: false });
    expect(rfs.get('gap')?.global).toBe(true);
  });
});

describe('parameters handed out through Identity nodes', () => {
  // torch.onnx.export (1.13+) stores equal initializers once and feeds the copies through Identity
  // nodes: torchvision's squeezenet1_1 at a fresh init exported with 26 of its zero biases so, and
  // the summary showed those convs without biases and 1,233,288 parameters instead of 1,235,496.
  it('counts each copy for its layer and in the totals', () => {
    const b = new GraphBuilder();
    const rand = seededRandom(4);
    const t = (dims: number[]): { dtype: 'float32'; dims: number[]; data: Float32Array } => ({ dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => rand() - 0.5) });
    const x = b.input('image', 'float32', ['N', 3, 16, 16]);
    const bias = b.initializer('c1.bias', { dtype: 'float32', dims: [8], data: new Float32Array(8) });
    const c1 = b.op('Conv', [x, b.initializer('c1.weight', t([8, 3, 3, 3])), bias], { pads: [1, 1, 1, 1] }, { name: 'c1', outputs: ['c1'] });
    const copy = b.op('Identity', [bias], {}, { name: 'Identity_0', outputs: ['c2.bias'] });
    const c2 = b.op('Conv', [c1, b.initializer('c2.weight', t([8, 8, 1, 1])), copy], {}, { name: 'c2', outputs: ['c2'] });
    b.output(c2);
    const m = new Model(b.build(), engine, 'dedup');
    const s = summarize(m);
    // (c2's map [N, 8, 16, 16] is read as a per-pixel class map: its class means close the list)
    expect(s.rows.map((r) => [r.name, r.params])).toEqual([['c1', 8 * 27 + 8], ['c2', 64 + 8], ['class_means', 0]]);
    expect(s.totalParams).toBe(8 * 27 + 8 + 64 + 8);
    expect(s.trainableParams).toBe(s.totalParams);
    expect(m.parameterCount()).toBe(s.totalParams);
  });
});

describe('summary of a model that takes any image size', () => {
  // The rows are inferred at the preprocessing size; the header printed the input as (N, 3, N, N)
  // and never said which size the shapes and FLOPs were for.
  it('says the size its shapes, FLOPs and receptive fields are for', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(5));
    const x = b.input('image', 'float32', ['N', 3, 'h', 'w']);
    b.output(L.dense(L.flatten(L.globalAvgPool(L.conv2d(x, 'conv', { filters: 4, stride: 2 }), 'gap'), 'flat'), 'fc', 3));
    const m = new Model(b.build(), engine, 'free');
    const [h, w] = m.meta.preprocessing.size;
    const s = summarize(m);
    expect(s.input.inferredAt).toEqual([h, w]);
    expect(s.rows[0]!.shape).toEqual(['N', 4, h / 2, w / 2]);
    expect(formatSummary(s).split('\n')[0]).toBe(`Model: "free"   input image (N, 3, h, w): any size; shapes, FLOPs and receptive fields below at ${h}x${w} (its preprocessing size)`);
  });
});

describe('receptive fields through spatial slices', () => {
  // YOLOv5's Focus: x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]
  // concatenated, then a 3x3 conv; every later layer was "whole image". Reference: PyTorch
  // gradient support (unit (0, 0) sees rows and columns 0..3, unit (2, 3) rows 2..7, columns 4..9).
  it('moves and spaces the units by the slice start and step', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(7));
    const x = b.input('image', 'float32', ['N', 3, 32, 32]);
    const pick = (r: number, c: number): string => b.op('Slice', [x, b.ints([r, c]), b.ints([1_000_000, 1_000_000]), b.ints([2, 3]), b.ints([2, 2])]);
    const focus = b.op('Concat', [pick(0, 0), pick(1, 0), pick(0, 1), pick(1, 1)], { axis: 1 }, { name: 'focus', outputs: ['focus'] });
    const y = L.conv2d(focus, 'conv', { filters: 8, kernel: 3, padding: 1 });
    b.output(L.dense(L.flatten(L.globalAvgPool(y, 'gap'), 'flat'), 'fc', 3));
    const s = summarize(new Model(b.build(), engine, 'focus'));
    const conv = s.rows.find((r) => r.name === 'conv')!;
    expect(conv.shape).toEqual(['N', 8, 16, 16]);
    expect(conv.receptiveField).toEqual({ size: [6, 6], jump: [2, 2], start: [0.5, 0.5], global: false });
    expect(unitRegion(conv.receptiveField!, 0, 0, 32, 32)).toEqual([0, 0, 3, 3]);
    expect(unitRegion(conv.receptiveField!, 2, 3, 32, 32)).toEqual([2, 4, 7, 9]);
  });
});

describe('receptive fields through LRN', () => {
  // LRN (Caffe's AlexNet and GoogLeNet) normalizes across channels at one position: a unit after
  // it sees what the conv before it saw. It was read as global: every later layer of AlexNet
  // saw "whole image" in the Layers tab, and its top patches were the whole image.
  it('passes the field of the layer before it through unchanged', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(2));
    const x = b.input('image', 'float32', ['N', 3, 64, 64]);
    const conv1 = L.conv2d(x, 'conv1', { filters: 8, kernel: 11, stride: 4, padding: 2 });
    const norm = b.op('LRN', [conv1], { size: 5, alpha: 1e-4, beta: 0.75, bias: 1 }, { name: 'norm1', outputs: ['norm1'] });
    const conv2 = L.conv2d(norm, 'conv2', { filters: 8, kernel: 5, stride: 1, padding: 2 });
    b.output(L.dense(L.flatten(conv2, 'flat'), 'fc', 3));
    const s = summarize(new Model(b.build(), engine, 'lrn'));
    const field = (name: string): unknown => s.rows.find((r) => r.name === name)?.receptiveField;
    expect(field('norm1')).toEqual(field('conv1'));
    expect(field('conv2')).toEqual({ size: [27, 27], jump: [4, 4], start: [3, 3], global: false });
  });
});
