// Model files whose nodes contradict their own parameters or their inputs' sizes: no input makes
// them run. Each must be refused when the model loads (a 422 from the studio's upload, a clean
// error from the CLI's loader) naming the node and the problem, never loaded and then failing
// inside ONNX Runtime on every request.
import { describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import type { Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { Model } from '../../src/models/model.js';
import { f32, handGraph, i64, int, ints, node } from '../support/onnx-files.js';
import { inProcessStudio, multipart } from './page-inject.js';

const { inject, engine, studio } = inProcessStudio();

const filled = (dims: number[]): Tensor => f32(dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k)));

/** x [1, 3, 32, 32] -> Conv (4 channels) -> "c"; `middle` reads "c" and writes "m"; global pooling -> logits. */
function classifier(middle: Node[], initializers: Record<string, Tensor> = {}, batch: number | string = 1, opset = 17): Uint8Array {
  return encodeModel(
    handGraph({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape: [batch, 3, 32, 32] }],
      outputs: ['logits'],
      nodes: [node('Conv', ['x', 'w'], ['c'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }), ...middle, node('GlobalAveragePool', ['m'], ['p']), node('Flatten', ['p'], ['logits'])],
      initializers: { w: filled([4, 3, 3, 3]), ...initializers },
    }),
  );
}

const conv = (weight: number[], attrs: Node['attrs'] = {}, bias?: number): [Node[], Record<string, Tensor>] => [
  [node('Conv', ['c', 'w2', ...(bias ? ['b2'] : [])], ['m'], attrs, 'bad')],
  { w2: filled(weight), ...(bias ? { b2: filled([bias]) } : {}) },
];
const convTranspose = (weight: number[], attrs: Node['attrs'] = {}): [Node[], Record<string, Tensor>] => [[node('ConvTranspose', ['c', 'w2'], ['m'], attrs, 'bad')], { w2: filled(weight) }];

// Until 2026-12-07 each loaded on the CLI and failed in ONNX Runtime when it ran ("Input channels C
// is not equal to kernel channels * group", "invalid channel count"); the studio refused most
// of them only because it checks uploads strictly, and the Conv without output channels not at all.
const refused: [string, [Node[], Record<string, Tensor>, (number | string)?, number?], RegExp][] = [
  ['a Conv whose weight in-channels x group is not its input channels', conv([4, 3, 3, 3], { group: int(2) }), /^Conv node "bad": input has 4 channels but the weight expects 6 \(group=2\)$/],
  ['a Conv whose group does not divide its input channels', conv([3, 1, 3, 3], { group: int(3) }), /^Conv node "bad": input has 4 channels but the weight expects 3 \(group=3\)$/],
  ['a Conv whose group does not divide its out-channels', conv([5, 2, 3, 3], { group: int(2) }), /^Conv node "bad": weight has 5 output channels, which group=2 does not divide$/],
  ['a Conv of group 0', conv([4, 4, 3, 3], { group: int(0) }), /^Conv node "bad": group=0 must be a positive integer$/],
  ['a Conv with a weight of rank 3 on a 4-D input', conv([4, 4, 3]), /^Conv node "bad": weight \[4, 4, 3\] has rank 3 but the input \[\w+, 4, 32, 32\] has rank 4$/],
  ['a Conv whose kernel_shape disagrees with its weight', conv([4, 4, 3, 3], { kernel_shape: ints([5, 5]) }), /^Conv node "bad": kernel_shape \[5, 5\] disagrees with the weight \[4, 4, 3, 3\]$/],
  ['a Conv with strides 0', conv([4, 4, 3, 3], { strides: ints([0, 0]) }), /^Conv node "bad": strides \[0, 0\] must be positive integers$/],
  ['a Conv with dilations -1', conv([4, 4, 3, 3], { dilations: ints([-1, -1]) }), /^Conv node "bad": dilations \[-1, -1\] must be positive integers$/],
  ['a Conv with pads -5', conv([4, 4, 3, 3], { pads: ints([-5, -5, -5, -5]) }), /^Conv node "bad": pads \[-5, -5, -5, -5\] must not be negative$/],
  ['a Conv with three pads for two axes', conv([4, 4, 3, 3], { pads: ints([1, 1, 1]) }), /^Conv node "bad": window attributes do not match 2 spatial dims/],
  ['a Conv with 5 biases for 4 output channels', conv([4, 4, 3, 3], {}, 5), /^Conv node "bad": bias has shape \[5\] but the layer has 4 output channels$/],
  ['a Conv without output channels', conv([0, 4, 3, 3]), /^Conv node "bad": weight \[0, 4, 3, 3\] has no output channels$/],
  ['a ConvTranspose whose group does not divide its weight', convTranspose([4, 1, 3, 3], { group: int(3) }), /^ConvTranspose node "bad": weight has 4 input channels, which group=3 does not divide$/],
  ['a ConvTranspose whose weight does not fit its input', convTranspose([5, 1, 3, 3]), /^ConvTranspose node "bad": input has 4 channels but the weight expects 5 \(group=1\)$/],
  ['a ConvTranspose with strides 0', convTranspose([4, 1, 3, 3], { strides: ints([0, 0]) }), /^ConvTranspose node "bad": strides \[0, 0\] must be positive integers$/],
  ['a ConvTranspose with output_padding not below its stride', convTranspose([4, 1, 3, 3], { strides: ints([2, 2]), output_padding: ints([2, 2]) }), /^ConvTranspose node "bad": output_padding 2 on spatial axis 0 must be less than the stride 2$/],
];

const reshape = (target: number[], batch: number | string = 1): [Node[], Record<string, Tensor>, number | string] => [[node('Reshape', ['c', 'target'], ['m'], {}, 'bad')], { target: i64(target) }, batch];

// Until 2026-12-07 these loaded: the Model frees an export's batch (the target's leading 1 becomes
// 0, "copy the input's"), and against a symbolic batch the sizes went unchecked. Every prediction
// was then a 500 ("The input tensor cannot be reshaped to the requested shape") or a 422 at run time.
refused.push(
  ['a Reshape of 4096 values into 16', reshape([1, 4, 2, 2]), /^Reshape node "bad": cannot reshape \[1, 4, 32, 32\] \(4096 elements\) into \[1, 4, 2, 2\] \(16 elements\)$/],
  ['a Reshape of 4096 values into 16384', reshape([1, 4, 64, 64]), /^Reshape node "bad": cannot reshape \[1, 4, 32, 32\] \(4096 elements\) into \[1, 4, 64, 64\] \(16384 elements\)$/],
  ['a Reshape of a free batch of 4096 values into 16', reshape([1, 4, 2, 2], 'batch'), /^Reshape node "bad": cannot reshape \[batch, 4, 32, 32\] \(4096 x batch elements\) into \[1, 4, 2, 2\] \(16 elements\)$/],
  ['a Reshape whose -1 cannot be whole', reshape([1, 7, -1, 1]), /^Reshape node "bad": cannot reshape \[1, 4, 32, 32\] \(4096 elements\) into \[1, 7, -1, 1\]: 4096 is not a multiple of 7$/],
  ['a Reshape copying an axis the input does not have', reshape([0, 0, 0, 0, 0, 1]), /^Reshape node "bad": target \[0, 0, 0, 0, 0, 1\] copies axis 4 of the input \(entry 0\), but the input \[1, 4, 32, 32\] has 4 axes$/],
);

// Until 2026-12-07 these loaded, and ONNX Runtime refused the indices on every run: a 500.
refused.push(
  ['a Gather of channel 9 of 4', [[node('Gather', ['c', 'picks'], ['m'], { axis: int(1) }, 'bad')], { picks: i64([0, 9]) }], /^Gather node "bad": index 9 is out of range for axis 1 of size 4 \(indices run from -4 to 3\)$/],
  ['a Gather of channel -9 of 4', [[node('Gather', ['c', 'picks'], ['m'], { axis: int(1) }, 'bad')], { picks: i64([-9]) }], /^Gather node "bad": index -9 is out of range for axis 1 of size 4/],
  [
    'a Gather past the end of a constant table',
    [[node('Gather', ['table', 'picks'], ['row'], {}, 'bad'), node('Add', ['c', 'row'], ['m'])], { table: filled([4, 1, 1]), picks: i64([4]) }],
    /^Gather node "bad": index 4 is out of range for axis 0 of size 4/,
  ],
);

// Until 2026-12-07 these loaded, and ONNX Runtime refused them when it compiled the model (a 422
// at the first prediction, after the upload had been accepted).
refused.push(
  ['a MaxPool padded beyond its kernel', [[node('MaxPool', ['c'], ['m'], { kernel_shape: ints([2, 2]), pads: ints([3, 3, 3, 3]) }, 'bad')], {}], /^MaxPool node "bad": pads \[3, 3, 3, 3\] pad spatial axis 0 by 3 at its start, not less than the kernel's 2/],
  ['an AveragePool padded as wide as its kernel at one end', [[node('AveragePool', ['c'], ['m'], { kernel_shape: ints([3, 3]), pads: ints([0, 0, 0, 3]) }, 'bad')], {}], /^AveragePool node "bad": pads \[0, 0, 0, 3\] pad spatial axis 1 by 3 at its end, not less than the kernel's 3/],
  ['a MaxPool without kernel_shape', [[node('MaxPool', ['c'], ['m'], {}, 'bad')], {}], /^MaxPool node "bad": the kernel_shape attribute is required$/],
  ['an AveragePool of kernel 0', [[node('AveragePool', ['c'], ['m'], { kernel_shape: ints([0, 0]) }, 'bad')], {}], /^AveragePool node "bad": kernel \[0, 0\] must be positive integers$/],
  ['a MaxPool of stride 0', [[node('MaxPool', ['c'], ['m'], { kernel_shape: ints([2, 2]), strides: ints([0, 0]) }, 'bad')], {}], /^MaxPool node "bad": strides \[0, 0\] must be positive integers$/],
);

const unsqueezeBack = (axes: number[]): [Node[], Record<string, Tensor>] => [[node('Unsqueeze', ['c', 'axes'], ['u'], {}, 'bad'), node('Squeeze', ['u', 'axes'], ['m'])], { axes: i64(axes) }];

// Until 2026-12-07 the CLI loaded these and ONNX Runtime refused them when it compiled the model;
// the studio took the Flatten, Transpose and Unsqueeze uploads and refused the first prediction.
refused.push(
  ['a Flatten at axis 7 of a 4-D value', [[node('Flatten', ['c'], ['f'], { axis: int(7) }, 'bad'), node('Reshape', ['f', 'back'], ['m'])], { back: i64([1, 4, 32, 32]) }], /^Flatten node "bad": axis 7 is out of range for rank 4 \(Flatten takes -4 to 4\)$/],
  ['a Flatten at axis -7 of a 4-D value', [[node('Flatten', ['c'], ['f'], { axis: int(-7) }, 'bad'), node('Reshape', ['f', 'back'], ['m'])], { back: i64([1, 4, 32, 32]) }], /^Flatten node "bad": axis -7 is out of range for rank 4/],
  ['a Transpose that repeats an axis', [[node('Transpose', ['c'], ['m'], { perm: ints([0, 1, 1, 3]) }, 'bad')], {}], /^Transpose node "bad": perm \[0, 1, 1, 3\] is not an order of the axes 0 to 3 \(each once\)$/],
  ['a Transpose to axis 9 of 4', [[node('Transpose', ['c'], ['m'], { perm: ints([0, 1, 9, 3]) }, 'bad')], {}], /^Transpose node "bad": perm \[0, 1, 9, 3\] is not an order of the axes 0 to 3/],
  ['an Unsqueeze naming an axis twice', unsqueezeBack([1, 1]), /^Unsqueeze node "bad": axes \[1, 1\] name output axis 1 twice$/],
  ['a Concat along axis 5 of 4', [[node('Concat', ['c', 'c'], ['m'], { axis: int(5) }, 'bad')], {}], /^Concat node "bad": axis 5 is out of range for rank 4$/],
  ['a Softmax along axis 9 of 4', [[node('Softmax', ['c'], ['m'], { axis: int(9) }, 'bad')], {}], /^Softmax node "bad": axis 9 is out of range for rank 4$/],
);

const split = (sizes: number[], outputs = 2): [Node[], Record<string, Tensor>] => [
  [node('Split', ['c', 'sizes'], ['m', ...Array.from({ length: outputs - 1 }, (_, k) => `rest${k}`)], { axis: int(1) }, 'bad')],
  { sizes: i64(sizes) },
];

// Until 2026-12-07 the Split and Tile files loaded and ONNX Runtime refused them when it compiled
// the model, at the first prediction; a Slice of step 0 was refused as an INTERNAL error that named no node.
refused.push(
  ['a Split of 4 channels into 1 + 1', split([1, 1]), /^Split node "bad": split sizes \[1, 1\] add up to 2, but axis 1 has size 4$/],
  ['a Split of 4 channels into 3 + 3', split([3, 3]), /^Split node "bad": split sizes \[3, 3\] add up to 6, but axis 1 has size 4$/],
  ['a Split with more sizes than outputs', split([1, 1, 2]), /^Split node "bad": 3 split sizes for 2 outputs$/],
  ['a Tile with 2 repeats for 4 axes', [[node('Tile', ['c', 'repeats'], ['m'], {}, 'bad')], { repeats: i64([1, 1]) }], /^Tile node "bad": repeats \[1, 1\] has 2 entries for an input of rank 4$/],
  [
    'a Slice of step 0',
    [[node('Slice', ['c', 'starts', 'ends', 'axes', 'steps'], ['m'], {}, 'bad')], { starts: i64([0]), ends: i64([2]), axes: i64([1]), steps: i64([0]) }],
    /^Slice node "bad": steps \[0\] include 0; a step moves at least one element$/,
  ],
);

/** "c" pooled and flattened to [1, 4], through `dense` (reading "f", writing "g", [1, 2]) and back to [1, 2, 1, 1]. */
const dense = (nodes: Node[], initializers: Record<string, Tensor>): [Node[], Record<string, Tensor>] => [
  [node('GlobalAveragePool', ['c'], ['pooled']), node('Flatten', ['pooled'], ['f']), ...nodes, node('Reshape', ['g', 'back'], ['m'])],
  { back: i64([1, 2, 1, 1]), ...initializers },
];
const batchNorm = (sizes: [number, number, number, number]): [Node[], Record<string, Tensor>] => [
  [node('BatchNormalization', ['c', 'scale', 'shift', 'mean', 'var'], ['m'], {}, 'bad')],
  { scale: filled([sizes[0]]), shift: filled([sizes[1]]), mean: filled([sizes[2]]), var: f32([sizes[3]], new Array<number>(sizes[3]).fill(1)) },
];

// Until 2026-12-07 the studio refused these (it checks uploads strictly), but the CLI's lenient
// inference swallowed the rule's error: the model loaded and ONNX Runtime failed on the first run.
refused.push(
  ['a Gemm of [1, 4] by [5, 2]', dense([node('Gemm', ['f', 'weights'], ['g'], {}, 'bad')], { weights: filled([5, 2]) }), /^Gemm node "bad": inner dimensions differ: A \[\w+, 4\] with transA=0 gives K=4, but B \[5, 2\] with transB=0 gives K=5$/],
  ['a Gemm whose C does not fit its output', dense([node('Gemm', ['f', 'weights', 'offsets'], ['g'], {}, 'bad')], { weights: filled([4, 2]), offsets: filled([3]) }), /^Gemm node "bad": C \[3\] does not broadcast to the output \[\w+, 2\]$/],
  ['a MatMul of [1, 4] by [5, 2]', dense([node('MatMul', ['f', 'weights'], ['g'], {}, 'bad')], { weights: filled([5, 2]) }), /^MatMul node "bad": inner dimensions differ: \[\w+, 4\] x \[5, 2\] \(4 vs 5\)$/],
  ['a BatchNormalization with 3 scales for 4 channels', batchNorm([3, 4, 4, 4]), /^BatchNormalization node "bad": input 1 has 3 entries for 4 channels$/],
  ['a BatchNormalization with 5 variances for 4 channels', batchNorm([4, 4, 4, 5]), /^BatchNormalization node "bad": input 4 has 5 entries for 4 channels$/],
  ['an InstanceNormalization with 3 scales for 4 channels', [[node('InstanceNormalization', ['c', 'scale', 'shift'], ['m'], {}, 'bad')], { scale: filled([3]), shift: filled([4]) }], /^InstanceNormalization node "bad": input 1 has 3 entries for 4 channels$/],
  [
    'a Concat of 32- and 16-pixel maps',
    [[node('MaxPool', ['c'], ['half'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) }), node('Concat', ['c', 'half'], ['m'], { axis: int(1) }, 'bad')], {}],
    /^Concat node "bad": input shapes differ on axis 2 \(32 vs 16\)$/,
  ],
  ['a Concat of a 4-D and a 3-D value', [[node('Concat', ['c', 'flat'], ['m'], { axis: int(1) }, 'bad')], { flat: filled([1, 4, 32]) }], /^Concat node "bad": inputs have different ranks \(4 and 3\)$/],
  ['an Add of 4 channels and 3', [[node('Add', ['c', 'offsets'], ['m'], {}, 'bad')], { offsets: filled([3, 1, 1]) }], /^Add node "bad": cannot broadcast shapes \[\w+, 4, 32, 32\] and \[3, 1, 1\]$/],
);

// Until 2026-12-07 the CLI loaded these and ONNX Runtime refused them when it compiled or ran the
// model, an LRN of even size with only "Exception during initialization:" (the studio's strict check refused them).
refused.push(
  ['a Squeeze of an axis of size 4', unsqueezeBack([1]).map((part, k) => (k === 0 ? [node('Squeeze', ['c', 'axes'], ['s'], {}, 'bad'), node('Unsqueeze', ['s', 'axes'], ['m'])] : part)) as [Node[], Record<string, Tensor>], /^Squeeze node "bad": cannot squeeze axis 1 of size 4$/],
  ['a PRelu with 3 slopes for 4 channels', [[node('PRelu', ['c', 'slope'], ['m'], {}, 'bad')], { slope: filled([3, 1, 1]) }], /^PRelu node "bad": cannot broadcast shapes \[\w+, 4, 32, 32\] and \[3, 1, 1\]$/],
  ['a Clip whose min is a vector', [[node('Clip', ['c', 'low'], ['m'], {}, 'bad')], { low: filled([2]) }], /^Clip node "bad": min must be a scalar, got shape \[2\]$/],
  ['a Pad with 2 pads for 4 axes', [[node('Pad', ['c', 'pads'], ['m'], {}, 'bad')], { pads: i64([1, 1]) }], /^Pad node "bad": has 2 pads for rank 4$/],
  ['a Resize with 2 sizes for 4 axes', [[node('Resize', ['c', '', '', 'sizes'], ['m'], {}, 'bad')], { sizes: i64([64, 64]) }], /^Resize node "bad": sizes has 2 entries for 4 axes$/],
  ['a Resize with neither scales nor sizes', [[node('Resize', ['c'], ['m'], {}, 'bad')], {}], /^Resize node "bad": one of scales and sizes must be given$/],
  ['a LayerNormalization over axis 9 of 4', [[node('LayerNormalization', ['c', 'scale'], ['m'], { axis: int(9) }, 'bad')], { scale: filled([32]) }], /^LayerNormalization node "bad": axis 9 is outside the input's 4 axes$/],
  ['an LRN of even size', [[node('LRN', ['c'], ['m'], { size: int(4) }, 'bad')], {}], /^LRN node "bad": ONNX Runtime runs LRN only with an odd window size, got 4$/],
  [
    'a Slice naming an axis twice',
    [[node('Slice', ['c', 'starts', 'ends', 'axes'], ['m'], {}, 'bad')], { starts: i64([0, 0]), ends: i64([2, 2]), axes: i64([1, 1]) }],
    /^Slice node "bad": axes \[1, 1\] name axis 1 twice$/,
  ],
  [
    'a Slice with more ends than starts',
    [[node('Slice', ['c', 'starts', 'ends', 'axes'], ['m'], {}, 'bad')], { starts: i64([0]), ends: i64([2, 2]), axes: i64([1]) }],
    /^Slice node "bad": starts \[0\], ends \[2, 2\] and the 1 axes differ in length$/,
  ],
);

// Until 2026-12-07 these loaded: the CLI then failed in ONNX Runtime ("Integer overflow"), and the
// studio answered every request with a memory estimate of billions of gigabytes.
refused.push(
  ['a Conv padded by a billion pixels', conv([4, 4, 3, 3], { pads: ints([1e9, 1e9, 1e9, 1e9]) }), /^Conv node "bad": "m" would have shape \[\w+, 4, 2000000030, 2000000030\]: 1\.6e\+19 elements, more than any tensor can hold\.$/],
  ['a ConvTranspose of stride a billion', convTranspose([4, 1, 3, 3], { strides: ints([1e9, 1e9]) }), /^ConvTranspose node "bad": "m" would have shape \[\w+, 1, 31000000003, 31000000003\]: 9\.6e\+20 elements, more than any tensor can hold\.$/],
);

// Until 2026-12-07 an opset-11 Softmax along an axis its input lacks was refused as 'Flatten node
// "Flatten": axis 9 is out of range', naming a node of the conversion to opset 17, not of the file.
refused.push(['an opset-11 Softmax along axis 9 of 4', [[node('Softmax', ['c'], ['m'], { axis: int(9) }, 'bad')], {}, 1, 11], /^Softmax node "bad": axis 9 is out of range for rank 4$/]);

// Until 2026-12-07 the message quoted every entry the node gave: 30,000 for this perm (170 kB).
refused.push(
  ['a Transpose whose perm names 30,000 axes', [[node('Transpose', ['c'], ['m'], { perm: ints(Array.from({ length: 30_000 }, (_, k) => k)) }, 'bad')], {}], /^Transpose node "bad": perm \[0, 1, 2, 3, 4, 5, 6, 7, \.\.\. 29998, 29999\] \(30000 entries\) does not match rank 4$/],
);

describe('model files with a node that contradicts itself or its inputs', () => {
  it.each(refused)('refuse %s when the CLI loads them', (what, [middle, initializers, batch, opset], message) => {
    const load = (): Model => Model.fromOnnxGraph(decodeModel(classifier(middle, initializers, batch, opset)), engine, what);
    expect(load).toThrow(ConvLensError);
    try {
      load();
    } catch (e) {
      expect((e as ConvLensError).message).toMatch(message);
      expect((e as ConvLensError).hint).toMatch(/re-export|export it again/i);
    }
  });

  it.each(refused)('refuse %s when uploaded to the studio (422), keeping no model', async (what, [middle, initializers, batch, opset], message) => {
    const before = studio().models.list().filter((m) => m.model).map((m) => m.id);
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart(`${what}.onnx`, classifier(middle, initializers, batch, opset)) });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error.message).toMatch(message);
    expect(r.json().error.hint).toMatch(/re-export|export it again/i);
    expect(r.json().error.code).toMatch(/^(SHAPE_MISMATCH|MODEL_UNREADABLE)$/);
    expect(r.body).not.toMatch(/onnxruntime_src|\.(?:h|cc|cpp):\d+|onnxruntime::/);
    expect(studio().models.list().filter((m) => m.model).map((m) => m.id)).toEqual(before);
  });
});
