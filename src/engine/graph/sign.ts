// Which values of a graph can never be negative, whatever the input. Rule sets use it to drop
// terms that are zero by construction: LRP's gamma and z+ rules split a layer's input into its
// positive and negative parts, and after a ReLU the negative part, with every product it feeds,
// is zero (on ResNet-18 that halves the rule's convolutions).
import { attrFloat, attrString, type Graph, type Node } from './ir.js';
import type { Tensor } from '../tensor.js';

/** Ops whose output is never negative, whatever their inputs. */
const NEVER_NEGATIVE = new Set(['Relu', 'Sigmoid', 'HardSigmoid', 'Softmax', 'Abs', 'Exp', 'Softplus', 'Sqrt', 'Shape', 'Size']);
/** Ops whose output is never negative when their first input is not (they move, select or average values). */
const KEEPS_FIRST = new Set(['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout', 'Slice', 'Gather', 'GatherElements', 'MaxPool', 'GlobalMaxPool', 'AveragePool', 'GlobalAveragePool', 'ReduceMax', 'ReduceMin', 'ReduceMean', 'ReduceSum', 'Expand', 'Tile', 'DepthToSpace', 'SpaceToDepth', 'Cast', 'Split']);
/** Ops whose output is never negative when every (non-empty) input is not. */
const KEEPS_ALL = new Set(['Concat', 'Add', 'Mul', 'Min', 'Sum', 'Mean']);

/**
 * The names of the values of `graph` that are >= 0 for every input (NaN aside). Conservative:
 * a value left out may still never be negative.
 */
export function nonNegativeValues(graph: Graph): Set<string> {
  const producers = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producers.set(o, n);
  const constantOf = (name: string): Tensor | undefined => {
    if (graph.inputs.some((i) => i.name === name)) return undefined; // an initializer that is also an input may be fed
    const init = graph.initializers.get(name);
    if (init) return init;
    const p = producers.get(name);
    const v = p?.op === 'Constant' ? p.attrs['value'] : undefined;
    return v?.type === 'tensor' ? v.value : undefined;
  };
  const out = new Set<string>();
  const nonNegative = (name: string | undefined): boolean => {
    if (!name) return true; // an omitted optional input
    if (out.has(name)) return true;
    const t = constantOf(name);
    if (!t) return false;
    const data = t.data as ArrayLike<number | bigint>;
    for (let i = 0; i < data.length; i++) if (!(data[i]! >= 0)) return false;
    return true;
  };
  for (const node of graph.nodes) {
    if (node.domain) continue;
    if (outputNonNegative(node, nonNegative)) for (const o of node.outputs) if (o) out.add(o);
  }
  return out;
}

function outputNonNegative(node: Node, nonNegative: (name: string | undefined) => boolean): boolean {
  const inputs = node.inputs;
  if (NEVER_NEGATIVE.has(node.op)) return true;
  if (KEEPS_FIRST.has(node.op)) return nonNegative(inputs[0]);
  if (KEEPS_ALL.has(node.op)) return inputs.every((i) => nonNegative(i));
  switch (node.op) {
    case 'Max':
      return inputs.some((i) => !!i && nonNegative(i));
    case 'Clip': {
      // The bounds are inputs from opset 11, attributes before.
      const [x, low, high] = inputs;
      if (low ? nonNegative(low) : attrFloat(node, 'min', -Infinity) >= 0) return true;
      return nonNegative(x) && (high ? nonNegative(high) : attrFloat(node, 'max', Infinity) >= 0);
    }
    case 'ThresholdedRelu':
      return attrFloat(node, 'alpha', 1) >= 0;
    case 'LeakyRelu':
    case 'Elu':
    case 'Celu':
    case 'Selu':
    case 'HardSwish':
      return nonNegative(inputs[0]); // identity or a positive multiple on x >= 0
    case 'Div':
      return nonNegative(inputs[0]) && nonNegative(inputs[1]);
    case 'Pad': {
      // Constant padding with a negative value brings negatives in; edge and reflect copy the input.
      if (!nonNegative(inputs[0])) return false;
      if (attrString(node, 'mode', 'constant') !== 'constant') return true;
      return inputs[2] ? nonNegative(inputs[2]) : attrFloat(node, 'value', 0) >= 0;
    }
    case 'Resize':
    case 'Upsample': {
      // Nearest and (bi)linear interpolation average; cubic overshoots.
      const mode = attrString(node, 'mode', 'nearest');
      return mode !== 'cubic' && nonNegative(inputs[0]);
    }
    default:
      return false;
  }
}
