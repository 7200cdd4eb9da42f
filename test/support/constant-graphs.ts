// Graphs for the uploads that compute values from their constants alone (costly to fold, or too
// large to hold): the built-in CNN made to read such a value, and the few nodes they are built of.
import type { Graph, Node } from '../../src/engine/graph/ir.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { i64, int } from './onnx-files.js';

/** The built-in CNN with `extra` nodes before its first layer, which then reads input + 0 * sum(`read`). */
export function cnnReading(extra: Node[], read: string): Graph {
  const g = courseCnn();
  const input = g.inputs[0]!.name;
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === input ? 'input_plus_zero' : i));
  g.initializers.set('zero', { dtype: 'float32', dims: [], data: Float32Array.of(0) });
  g.nodes = [
    ...extra,
    { op: 'ReduceSum', name: 'sum_extra', inputs: [read], outputs: ['extra_sum'], attrs: { keepdims: int(0) } },
    { op: 'Mul', name: 'times_zero', inputs: ['extra_sum', 'zero'], outputs: ['extra_zero'], attrs: {} },
    { op: 'Add', name: 'plus_zero', inputs: [input, 'extra_zero'], outputs: ['input_plus_zero'], attrs: {} },
    ...g.nodes,
  ];
  return g;
}

/** A node with one output, named after it. */
export const nodeOf = (op: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node => ({ op, name: output, inputs, outputs: [output], attrs });

/** A float32 scalar constant. */
export const floatConstant = (name: string, v: number): Node => ({ op: 'Constant', name, inputs: [], outputs: [name], attrs: { value: { type: 'tensor', value: { dtype: 'float32', dims: [], data: Float32Array.of(v) } } } });

/** An int64 vector constant (a shape). */
export const shapeConstant = (name: string, dims: number[]): Node => ({ op: 'Constant', name, inputs: [], outputs: [name], attrs: { value: { type: 'tensor', value: i64(dims) } } });

/** A ConstantOfShape of float32 `v`, shaped by the value `shape`. */
export const fill = (name: string, shape: string, v: number): Node => ({ op: 'ConstantOfShape', name, inputs: [shape], outputs: [name], attrs: { value: { type: 'tensor', value: { dtype: 'float32', dims: [1], data: Float32Array.of(v) } } } });
