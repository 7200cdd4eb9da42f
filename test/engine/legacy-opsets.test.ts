// Opsets 7-10 (src/engine/onnx/legacy-opsets.ts): the ONNX Model Zoo's classics are opset 7-9
// files. Each case writes a small model in its ORIGINAL old form, runs that file in ONNX Runtime
// (the oracle), loads it the way every command does (decodeModel + normalizeGraph), runs the
// upgraded graph in ONNX Runtime on the same input, and compares every output to float32
// rounding; structural checks make sure the old form was actually rewritten. Gradients through
// the upgraded ops are checked against float64 finite differences.
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { normalizeGraph } from '../../src/engine/onnx/import.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { engineGradients, finiteDifferences, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';
import {
  expectConvLensError,
  expectSameOutputs,
  f32,
  float,
  floats,
  handGraph,
  i64,
  int,
  ints,
  node,
  own,
  runOrt,
  str,
  type HandGraph,
  type OrtResult,
} from '../support/onnx-files.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const randomInput = (dims: number[], seed: number): Tensor => f32(dims, randn(rng(seed), dims.reduce((a, b) => a * b, 1)));

/** The old-form file run by ONNX Runtime against its upgrade; both results and the upgraded graph. */
async function upgradeAndCompare(h: HandGraph, feeds: Record<string, Tensor>): Promise<{ original: Record<string, OrtResult>; graph: Graph }> {
  const bytes = own(encodeModel(handGraph(h)));
  const original = await runOrt(bytes, feeds);
  const graph = normalizeGraph(decodeModel(bytes, { source: `opset-${h.opset} case` }), `opset-${h.opset} case`);
  expect(graph.opset).toBe(17);
  const upgraded = await runOrt(own(encodeModel(graph)), feeds);
  expectSameOutputs(upgraded, original);
  return { original, graph };
}

const named = (g: Graph, name: string): Node => {
  const n = g.nodes.find((m) => m.name === name);
  if (!n) throw new Error(`no node "${name}" in the upgraded graph`);
  return n;
};
const one = (opset: number, x: number[], nodes: Node[], outputs: HandGraph['outputs'], initializers: Record<string, Tensor> = {}): HandGraph => ({
  opset,
  inputs: [{ name: 'x', dtype: 'float32', shape: x }],
  outputs,
  nodes,
  initializers,
});

describe('opset 7-10 forms agree with ONNX Runtime running the original file', () => {
  it('Clip with min/max attributes (opset 7): both, one, none', async () => {
    const { graph } = await upgradeAndCompare(
      one(7, [2, 3, 4, 4], [
        node('Clip', ['x'], ['both'], { min: float(-0.5), max: float(0.7) }, 'both'),
        node('Clip', ['x'], ['low'], { min: float(0) }, 'low'),
        node('Clip', ['x'], ['high'], { max: float(6) }, 'high'),
        node('Clip', ['x'], ['none'], {}, 'none'),
      ], ['both', 'low', 'high', 'none']),
      { x: randomInput([2, 3, 4, 4], 1) },
    );
    for (const name of ['both', 'low', 'high', 'none']) expect(named(graph, name).attrs, name).toEqual({});
    expect(named(graph, 'both').inputs).toHaveLength(3);
    expect(named(graph, 'low').inputs).toHaveLength(2);
    expect(named(graph, 'high').inputs[1]).toBe('');
  });

  it('Pad with pads/value attributes (opset 7): constant with a value, reflect, edge', async () => {
    const { graph } = await upgradeAndCompare(
      one(7, [1, 2, 4, 5], [
        node('Pad', ['x'], ['constant'], { pads: ints([0, 0, 1, 2, 0, 0, 2, 1]), value: float(-1.5) }, 'constant'),
        node('Pad', ['x'], ['zero'], { pads: ints([0, 0, 1, 1, 0, 0, 1, 1]) }, 'zero'),
        node('Pad', ['x'], ['reflect'], { pads: ints([0, 0, 2, 1, 0, 0, 1, 2]), mode: str('reflect') }, 'reflect'),
        node('Pad', ['x'], ['edge'], { pads: ints([0, 0, 0, 3, 0, 0, 2, 0]), mode: str('edge') }, 'edge'),
      ], ['constant', 'zero', 'reflect', 'edge']),
      { x: randomInput([1, 2, 4, 5], 2) },
    );
    for (const name of ['constant', 'zero', 'reflect', 'edge']) expect(named(graph, name).attrs['pads'], name).toBeUndefined();
    expect(named(graph, 'constant').inputs).toHaveLength(3);
  });

  it('Slice with starts/ends/axes attributes (opset 7 and 9): with and without axes, negative and huge ends', async () => {
    for (const opset of [7, 9]) {
      const { graph } = await upgradeAndCompare(
        one(opset, [2, 6, 5, 4], [
          node('Slice', ['x'], ['axes'], { starts: ints([1, 1]), ends: ints([5, -1]), axes: ints([1, 3]) }, 'with_axes'),
          node('Slice', ['x'], ['all'], { starts: ints([0, 2, 1]), ends: ints([1, 2147483647, -1]) }, 'no_axes'),
        ], ['axes', 'all']),
        { x: randomInput([2, 6, 5, 4], 3) },
      );
      expect(named(graph, 'with_axes').attrs).toEqual({});
      expect(named(graph, 'with_axes').inputs).toHaveLength(4);
      expect(named(graph, 'no_axes').inputs).toHaveLength(3);
    }
  });

  for (const mode of ['nearest', 'linear']) {
    it(`Upsample with a scales attribute (opset 7), mode=${mode}`, async () => {
      const { graph, original } = await upgradeAndCompare(
        one(7, [1, 2, 3, 4], [node('Upsample', ['x'], ['y'], { mode: str(mode), scales: floats([1, 1, 2, 3]) }, 'up')], ['y']),
        { x: randomInput([1, 2, 3, 4], 4) },
      );
      expect(original['y']!.dims).toEqual([1, 2, 6, 12]);
      expect(named(graph, 'up').op).toBe('Resize');
    });
  }

  const resize10 = (mode: string, scales: number[]): HandGraph =>
    one(10, [1, 2, 7, 9], [node('Resize', ['x', 'scales'], ['y'], { mode: str(mode) }, 'resize')], ['y'], { scales: f32([4], scales) });
  for (const mode of ['nearest', 'linear']) {
    for (const scales of [[1, 1, 2, 3], [1, 1, 0.5, 0.6], [1, 1, 1.5, 1]]) {
      it(`Resize (opset 10: no roi input, asymmetric sampling), mode=${mode}, scales ${scales.join(',')}`, async () => {
        const { graph } = await upgradeAndCompare(resize10(mode, scales), { x: randomInput([1, 2, 7, 9], 5) });
        const r = named(graph, 'resize');
        expect(r.inputs[1]).toBe('');
        expect(r.attrs['coordinate_transformation_mode']).toEqual({ type: 'string', value: 'asymmetric' });
      });
    }
  }

  it('Resize (opset 10) that enlarges one axis and shrinks another by nearest sampling is refused by name', () => {
    const bytes = own(encodeModel(handGraph(resize10('nearest', [1, 1, 2, 0.5]))));
    const e = expectConvLensError(() => normalizeGraph(decodeModel(bytes, { source: 'r.onnx' }), 'r.onnx'), 'MODEL_UNSUPPORTED');
    expect(e.message).toContain('"resize"');
  });

  it('ImageScaler (experimental, opsets 1-9): scale and per-channel bias as Mul and Add', async () => {
    const { graph } = await upgradeAndCompare(
      one(8, [2, 3, 4, 5], [node('ImageScaler', ['x'], ['y'], { scale: float(0.017), bias: floats([-2.1, -2.0, -1.8]) }, 'scaler')], ['y']),
      { x: randomInput([2, 3, 4, 5], 16) },
    );
    expect(graph.nodes.map((n) => n.op).filter((op) => op !== 'Constant')).toEqual(['Mul', 'Add']);
    // scale defaults to 1 (ONNX Runtime's kernel needs the bias attribute)
    await upgradeAndCompare(one(9, [1, 2, 3, 3], [node('ImageScaler', ['x'], ['y'], { bias: floats([0.5, -0.5]) }, 'scaler')], ['y']), { x: randomInput([1, 2, 3, 3], 17) });
  });

  it('Dropout with a ratio attribute and a float mask output (opset 7)', async () => {
    const { graph, original } = await upgradeAndCompare(
      one(7, [2, 5], [node('Dropout', ['x'], ['y', 'mask'], { ratio: float(0.5) }, 'drop')], ['y', 'mask']),
      { x: randomInput([2, 5], 6) },
    );
    expect(Array.from(original['mask']!.data, Number)).toEqual(new Array<number>(10).fill(0));
    expect(named(graph, 'drop').op).toBe('Identity');
  });

  it('BatchNormalization spatial=0 with per-position statistics (opset 7); spatial=1 written out', async () => {
    const c = 3;
    const stats = (dims: number[], seed: number, positive: boolean): Tensor => f32(dims, randn(rng(seed), dims.reduce((a, b) => a * b, 1)).map((v) => (positive ? 0.5 + Math.abs(v) : v)));
    const perPosition = [c, 4, 5];
    const { graph } = await upgradeAndCompare(
      one(7, [2, c, 4, 5], [
        node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['positions'], { spatial: int(0), epsilon: float(1e-3) }, 'per_position'),
        node('BatchNormalization', ['x', 'sc', 'bc', 'mc', 'vc'], ['channels'], { spatial: int(1) }, 'per_channel'),
      ], ['positions', 'channels'], {
        s: stats(perPosition, 1, true), b: stats(perPosition, 2, false), m: stats(perPosition, 3, false), v: stats(perPosition, 4, true),
        sc: stats([c], 5, true), bc: stats([c], 6, false), mc: stats([c], 7, false), vc: stats([c], 8, true),
      }),
      { x: randomInput([2, c, 4, 5], 7) },
    );
    expect(graph.nodes.some((n) => n.attrs['spatial'])).toBe(false);
    expect(named(graph, 'per_position').op).toBe('Add');
    expect(named(graph, 'per_channel').op).toBe('BatchNormalization');
  });

  it('BatchNormalization spatial=0 with one statistic per channel (which ONNX Runtime refuses) reads as spatial=1', () => {
    const c = 3;
    const h = one(7, [1, c, 2, 2], [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['y'], { spatial: int(0) }, 'bn')], ['y'], {
      s: f32([c], [1, 2, 3]), b: f32([c], [0, 0, 0]), m: f32([c], [0, 1, 0]), v: f32([c], [1, 1, 1]),
    });
    const graph = normalizeGraph(decodeModel(own(encodeModel(handGraph(h))), { source: 'bn' }), 'bn');
    expect(named(graph, 'bn').op).toBe('BatchNormalization');
    expect(named(graph, 'bn').attrs['spatial']).toBeUndefined();
  });

  it('BatchNormalization spatial=0 with statistics that fit neither reading is refused by name', () => {
    const h = one(7, [1, 3, 2, 2], [node('BatchNormalization', ['x', 's', 's', 's', 's'], ['y'], { spatial: int(0) }, 'bn')], ['y'], { s: f32([3, 4], new Array<number>(12).fill(1)) });
    const e = expectConvLensError(() => normalizeGraph(decodeModel(own(encodeModel(handGraph(h))), { source: 'bn.onnx' }), 'bn.onnx'), 'MODEL_UNSUPPORTED');
    expect(e.message).toContain('spatial=0');
  });

  it('opsets below 7 are refused with the reason and the way out', () => {
    const bytes = own(encodeModel(handGraph(one(6, [1, 2], [node('Relu', ['x'], ['y'])], ['y']))));
    const e = expectConvLensError(() => decodeModel(bytes, { source: 'old.onnx' }), 'UNSUPPORTED_OPSET');
    expect(e.message).toContain('opset 6');
    expect(e.hint).toContain('convert_version');
  });

  it('a file importing the ai.onnx opset twice is refused: read at the last (7), its opset-11 Clip(x, 0, 1) became the identity', async () => {
    const h = one(11, [1, 4], [node('Clip', ['x', 'low', 'high'], ['y'], {}, 'clip')], ['y'], { low: f32([], [0]), high: f32([], [1]) });
    const graph = handGraph(h);
    graph.extraOpsets.push({ domain: '', version: 7 });
    const bytes = own(encodeModel(graph));
    await expect(runOrt(bytes, { x: f32([1, 4], [-5, 0.5, 5, 2]) })).rejects.toThrow(/invalid model/i); // ONNX Runtime reads it at 7 too, and refuses the Clip
    const e = expectConvLensError(() => normalizeGraph(decodeModel(bytes, { source: 'twice.onnx' }), 'twice.onnx'), 'MODEL_UNREADABLE');
    expect(e.message).toBe('twice.onnx imports the ai.onnx opset twice, as 11 and 7; its ops cannot be read at both.');
    // the same version twice is only redundant
    const same = handGraph(h);
    same.extraOpsets.push({ domain: 'ai.onnx', version: 11 });
    expect(normalizeGraph(decodeModel(own(encodeModel(same)), { source: 'same.onnx' })).nodes.find((n) => n.name === 'clip')?.inputs).toHaveLength(3);
  });

  it('opset-11 inputs on an old Clip or Pad are refused, not dropped', () => {
    const cases: [HandGraph, string][] = [
      [one(7, [1, 4], [node('Clip', ['x', 'low', 'high'], ['y'], {}, 'clip')], ['y'], { low: f32([], [0]), high: f32([], [1]) }), 'Clip node "clip" has min/max inputs, the opset-11 form, in an opset-7 model.'],
      [one(9, [1, 4], [node('Pad', ['x', 'pads'], ['y'], { pads: ints([0, 1, 0, 1]) }, 'pad')], ['y'], { pads: i64([0, 2, 0, 2]) }), 'Pad node "pad" has pads inputs, the opset-11 form, in an opset-9 model.'],
    ];
    for (const [h, message] of cases) {
      const e = expectConvLensError(() => normalizeGraph(decodeModel(own(encodeModel(handGraph(h))), { source: 'mixed.onnx' }), 'mixed.onnx'), 'MODEL_UNREADABLE');
      expect(e.message).toBe(`mixed.onnx: ${message}`);
    }
  });
});

describe('gradients through upgraded ops agree with finite differences', () => {
  it('Pad, Slice, Clip, Upsample (opset 7) and per-position BatchNormalization', async () => {
    const perPosition = [2, 8, 10];
    const h: HandGraph = {
      opset: 7,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 2, 5, 6] }],
      outputs: ['y'],
      nodes: [
        node('Pad', ['x'], ['padded'], { pads: ints([0, 0, 1, 0, 0, 0, 1, 1]), mode: str('reflect') }, 'pad'), // 7x7
        node('Slice', ['padded'], ['sliced'], { starts: ints([0, 1]), ends: ints([4, 6]), axes: ints([2, 3]) }, 'slice'), // 4x5
        node('Clip', ['sliced'], ['clipped'], { min: float(-0.8), max: float(0.9) }, 'clip'),
        node('Upsample', ['clipped'], ['up'], { mode: str('linear'), scales: floats([1, 1, 2, 2]) }, 'upsample'), // 8x10
        node('BatchNormalization', ['up', 's', 'b', 'm', 'v'], ['y'], { spatial: int(0) }, 'bn'),
      ],
      initializers: {
        s: randomInput(perPosition, 11), b: randomInput(perPosition, 12), m: randomInput(perPosition, 13),
        v: f32(perPosition, randn(rng(14), 160).map((v) => 0.5 + Math.abs(v))),
      },
    };
    const x = randomInput([2, 2, 5, 6], 15);
    const graph = normalizeGraph(decodeModel(own(encodeModel(handGraph(h))), { source: 'grad case' }), 'grad case');
    const dy = randomInput([2, 2, 8, 10], 16);
    const wrt = ['x', 's', 'clipped'];
    const got = await engineGradients(engine, graph, { x }, 'y', dy, wrt);
    const fd = finiteDifferences(graph, { x }, 'y', dy, wrt, { maxCoords: 80 });
    for (const w of wrt) {
      const ref = fd.get(w)!;
      expect(relativeMaxError(got.get(w)!.data as Float32Array, ref.values, ref.indices), w).toBeLessThan(1e-5);
    }
  });

  it('Resize (opset 10), nearest and linear', async () => {
    for (const mode of ['nearest', 'linear']) {
      const h = one(10, [1, 2, 4, 5], [node('Resize', ['x', 'scales'], ['y'], { mode: str(mode) }, 'resize')], ['y'], { scales: f32([4], [1, 1, 2, 3]) });
      const graph = normalizeGraph(decodeModel(own(encodeModel(handGraph(h))), { source: 'grad case' }), 'grad case');
      const x = randomInput([1, 2, 4, 5], 21);
      const dy = randomInput([1, 2, 8, 15], 22);
      const got = await engineGradients(engine, graph, { x }, 'y', dy, ['x']);
      const fd = finiteDifferences(graph, { x }, 'y', dy, ['x']).get('x')!;
      expect(relativeMaxError(got.get('x')!.data as Float32Array, fd.values, fd.indices), mode).toBeLessThan(1e-5);
    }
  });
});
