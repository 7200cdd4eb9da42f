// An upload dividing integers by a constant zero (Div or Mod): ONNX leaves the result undefined
// and ONNX Runtime refuses the model when it compiles it. It is refused where it loads, naming
// the node, and the studio keeps what it had; until 2026-12-07 it loaded, and every request on it
// then failed (predict 422 quoting "[ONNXRuntimeError] : 1 : FAIL : operator() Integer modulo by
// zero" with a hint about ops ONNX Runtime does not implement, an explanation job the same).
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { i64, int } from '../support/onnx-files.js';
import { inProcessStudio, multipart } from './page-inject.js';

const { inject } = inProcessStudio();

/** The built-in CNN reading input + 0 * sum(float(`op`(a, divisor))), `a` made by `dividend` from the input's name. */
function dividing(op: 'Div' | 'Mod', dividend: (input: string) => Node[], divisor: number[]): Graph {
  const g = courseCnn();
  const input = g.inputs[0]!.name;
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === input ? 'input_plus_zero' : i));
  g.initializers.set('zero', { dtype: 'float32', dims: [], data: Float32Array.of(0) });
  g.nodes = [
    ...dividend(input),
    { op: 'Constant', name: 'divisor', inputs: [], outputs: ['divisor'], attrs: { value: { type: 'tensor', value: i64(divisor) } } },
    { op, name: 'quotient', inputs: ['a', 'divisor'], outputs: ['q'], attrs: {} },
    { op: 'Cast', name: 'as_float', inputs: ['q'], outputs: ['qf'], attrs: { to: int(1) } },
    { op: 'ReduceSum', name: 'sum_extra', inputs: ['qf'], outputs: ['extra_sum'], attrs: { keepdims: int(0) } },
    { op: 'Mul', name: 'times_zero', inputs: ['extra_sum', 'zero'], outputs: ['extra_zero'], attrs: {} },
    { op: 'Add', name: 'plus_zero', inputs: [input, 'extra_zero'], outputs: ['input_plus_zero'], attrs: {} },
    ...g.nodes,
  ];
  return g;
}

const constantDividend = (): Node[] => [{ op: 'Constant', name: 'a', inputs: [], outputs: ['a'], attrs: { value: { type: 'tensor', value: i64([5, 7]) } } }];
const shapeDividend = (input: string): Node[] => [{ op: 'Shape', name: 'a', inputs: [input], outputs: ['a'], attrs: {} }];
const pixelDividend = (input: string): Node[] => [{ op: 'Cast', name: 'a', inputs: [input], outputs: ['a'], attrs: { to: int(7) } }];

const uploads: [string, Graph, RegExp][] = [
  ['Div of two constants by zero', dividing('Div', constantDividend, [0]), /^Div node "quotient": divides int64 values by zero \(its divisor "divisor"\)/],
  ['Mod of two constants by zero', dividing('Mod', constantDividend, [0]), /^Mod node "quotient": divides int64 values by zero \(its divisor "divisor"\)/],
  ['Div of the input\'s shape by [1, 0, 1, 1]', dividing('Div', shapeDividend, [1, 0, 1, 1]), /^Div node "quotient": divides int64 values by zero \(entry 1 of its divisor "divisor"\)/],
  ['Mod of the pixels cast to int64 by zero', dividing('Mod', pixelDividend, [0]), /^Mod node "quotient": divides int64 values by zero/],
];

describe('uploads dividing integers by a constant zero', () => {
  for (const [what, graph, message] of uploads) {
    it(`are refused where they load, and the studio keeps what it had: ${what}`, async () => {
      const kept = await inject({ method: 'POST', url: '/api/models', ...multipart('kept.onnx', encodeModel(courseCnn(3))) });
      expect(kept.statusCode).toBe(201);
      const before = (await inject({ method: 'GET', url: '/api/models' })).json() as { models: { id: string; name: string }[] };
      const r = await inject({ method: 'POST', url: '/api/models', ...multipart('division.onnx', encodeModel(graph)) });
      expect(r.statusCode, r.body).toBe(422);
      const error = r.json().error as { message: string; hint: string };
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/ONNXRuntimeError|operator\(\)/);
      expect(error.hint).toMatch(/re-export/i);
      const after = (await inject({ method: 'GET', url: '/api/models' })).json() as { models: { id: string; name: string }[] };
      // the refused file is listed only to show its error; nothing the studio had is evicted
      expect(after.models.map((m) => m.id)).toEqual(expect.arrayContaining(before.models.map((m) => m.id)));
      expect(after.models).toHaveLength(before.models.length + 1);
      const refused = await inject({ method: 'POST', url: '/api/predict', payload: { model: after.models.find((m) => !before.models.some((b) => b.id === m.id))!.id, image: 'fashion-mnist/bag-test18.png', k: 1 } });
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(refused.statusCode).toBeLessThan(500);
      for (const model of [kept.json().id as string, 'builtin']) {
        const p = await inject({ method: 'POST', url: '/api/predict', payload: { model, image: 'fashion-mnist/bag-test18.png', k: 1 } });
        expect(p.statusCode, p.body).toBe(200);
      }
    });
  }

  it('still load and run when no divisor entry is zero', async () => {
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('nonzero.onnx', encodeModel(dividing('Mod', pixelDividend, [3]))) });
    expect(up.statusCode, up.body).toBe(201);
    const p = await inject({ method: 'POST', url: '/api/predict', payload: { model: up.json().id as string, image: 'fashion-mnist/bag-test18.png', k: 1 } });
    expect(p.statusCode, p.body).toBe(200);
  });
});
