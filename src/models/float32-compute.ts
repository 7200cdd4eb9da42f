// Float16 models. Deployment exports compute in float16: `model.half()` before torch.onnx.export
// (float16 input and output), or onnxconverter-common's convert_float_to_float16 with the input
// and output kept float32 (a Cast at each end). ConvLens feeds float32 pixels, its gradient rules
// build float32 constants, and ONNX Runtime's CPU kernels for float16 are few: the first was
// refused ("input is float16"), the second explained as flat maps (the gradient stopped at the
// output Cast) and then failed to compile. Loaded, such a model computes in float32 with its
// float16 weights converted exactly: the explanations are of the same function, without float16's
// rounding along the way (its outputs differ from the file's by that rounding, ~1e-3 relative).
import type { Attr, Graph, Node } from '../engine/graph/ir.js';
import { castTensor, ONNX_DTYPE_CODES, type Tensor } from '../engine/tensor.js';

const FLOAT32 = ONNX_DTYPE_CODES.float32;
/** attributes that name an output type: Cast's `to`, and `dtype` (RandomNormal, EyeLike, ...) */
const TYPE_ATTRIBUTES = new Set(['to', 'dtype']);

export interface Float32Compute {
  graph: Graph;
  /** set when the file computed in float16 or float64: what was done, for a load note */
  note?: string;
}

type Narrower = 'float16' | 'float64';

const toFloat32 = (t: Tensor, from: Narrower): Tensor => (t.dtype === from ? castTensor(t, 'float32') : t);

function attributeInFloat32(key: string, a: Attr, from: Narrower): Attr {
  if (a.type === 'tensor' && a.value.dtype === from) return { type: 'tensor', value: toFloat32(a.value, from) };
  if (a.type === 'int' && TYPE_ATTRIBUTES.has(key) && a.value === ONNX_DTYPE_CODES[from]) return { type: 'int', value: FLOAT32 };
  return a;
}

function computesIn(graph: Graph, from: Narrower): boolean {
  const values = [...graph.inputs, ...graph.outputs, ...graph.valueInfo.values()];
  if (values.some((v) => v.dtype === from)) return true;
  if ([...graph.initializers.values()].some((t) => t.dtype === from)) return true;
  return graph.nodes.some((n) => Object.entries(n.attrs).some(([key, a]) => attributeInFloat32(key, a, from) !== a));
}

/**
 * The graph computing in float32 where the file computes in float16, or in float64 from a float64
 * input (`model.double()`: refused as "input is float64"; a float32 model's own float64 steps
 * stay); the graph itself otherwise.
 */
export function withFloat32Compute(graph: Graph): Float32Compute {
  const input = graph.realInputs()[0];
  const from: Narrower | undefined = computesIn(graph, 'float16') ? 'float16' : input?.dtype === 'float64' ? 'float64' : undefined;
  if (!from) return { graph };
  const g = graph.clone();
  for (const [name, t] of g.initializers) g.initializers.set(name, toFloat32(t, from));
  g.nodes = g.nodes.map((n): Node => ({ ...n, attrs: Object.fromEntries(Object.entries(n.attrs).map(([key, a]) => [key, attributeInFloat32(key, a, from)])) }));
  const float32 = <V extends { dtype: string }>(v: V): V => (v.dtype === from ? { ...v, dtype: 'float32' } : v);
  g.inputs = g.inputs.map(float32);
  g.outputs = g.outputs.map(float32);
  g.valueInfo = new Map([...g.valueInfo].map(([k, v]) => [k, float32(v)]));
  if (from === 'float64') {
    return { graph: g, note: 'the model computes in float64 in the file; ConvLens computes it in float32, its weights rounded to float32 and its float64 input and output made float32 (scores differ from the file\'s by about 1e-7 of a value)' };
  }
  const io = input?.dtype === 'float16' ? '; its float16 input and output become float32' : '';
  return {
    graph: g,
    note: `the model computes in float16 in the file; ConvLens computes it in float32 with the same weights${io}, so its scores differ from the file's by float16's rounding (about 1e-3 of a value)`,
  };
}
