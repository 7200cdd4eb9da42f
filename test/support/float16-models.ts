// Float16 versions of a float32 graph, as deployment tools write them: everything float16
// (`model.half()` before torch.onnx.export), or onnxconverter-common's convert_float_to_float16
// with keep_io_types (float32 input and output, a Cast at each end).
import type { Graph } from '../../src/engine/graph/ir.js';
import { floatToHalf } from '../../src/engine/reference/kernels/util.js';
import { castTensor, halfToFloat, ONNX_DTYPE_CODES, type Tensor } from '../../src/engine/tensor.js';

const toHalf = (t: Tensor): Tensor => (t.dtype === 'float32' ? { dtype: 'float16', dims: [...t.dims], data: Uint16Array.from(t.data as Float32Array, floatToHalf) } : t);

/** The float32 graph with its weights rounded to float16 values: the function a float16 file holds, computed in float32. */
export function roundedToHalf(graph: Graph): Graph {
  const g = graph.clone();
  for (const [name, t] of g.initializers) if (t.dtype === 'float32') g.initializers.set(name, { ...t, data: Float32Array.from(t.data as Float32Array, (v) => halfToFloat(floatToHalf(v))) });
  return g;
}

/** The graph in float16: `io` 'half' float16 input and output too, 'keep' float32 ones with Casts. */
export function float16Model(graph: Graph, io: 'half' | 'keep'): Graph {
  const g = graph.clone();
  for (const [name, t] of g.initializers) g.initializers.set(name, toHalf(t));
  for (const n of g.nodes) {
    const value = n.attrs['value'];
    if (n.op === 'Constant' && value?.type === 'tensor') n.attrs['value'] = { type: 'tensor', value: toHalf(value.value) };
    const to = n.attrs['to'];
    if (n.op === 'Cast' && to?.type === 'int' && to.value === ONNX_DTYPE_CODES.float32) n.attrs['to'] = { type: 'int', value: ONNX_DTYPE_CODES.float16 };
  }
  for (const [k, v] of g.valueInfo) if (v.dtype === 'float32') g.valueInfo.set(k, { ...v, dtype: 'float16' });
  const input = g.realInputs()[0]!;
  const output = g.outputs[0]!;
  if (io === 'half') {
    g.inputs = g.inputs.map((i) => (i.name === input.name ? { ...i, dtype: 'float16' } : i));
    g.outputs = g.outputs.map((o) => (o.dtype === 'float32' ? { ...o, dtype: 'float16' } : o));
    return g;
  }
  const halfInput = `${input.name}_float16`;
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === input.name ? halfInput : i));
  g.nodes.unshift({ op: 'Cast', name: 'graph_input_cast', inputs: [input.name], outputs: [halfInput], attrs: { to: { type: 'int', value: ONNX_DTYPE_CODES.float16 } } });
  const floatOutput = `${output.name}_float32`;
  g.nodes.push({ op: 'Cast', name: 'graph_output_cast', inputs: [output.name], outputs: [floatOutput], attrs: { to: { type: 'int', value: ONNX_DTYPE_CODES.float32 } } });
  g.outputs = [{ ...output, name: floatOutput, dtype: 'float32' }, ...g.outputs.slice(1)];
  return g;
}

/** The graph in float64 throughout (`model.double()` before the export): weights, constants, casts, input and output. */
export function float64Model(graph: Graph): Graph {
  const g = graph.clone();
  for (const [name, t] of g.initializers) if (t.dtype === 'float32') g.initializers.set(name, castTensor(t, 'float64'));
  for (const n of g.nodes) {
    const value = n.attrs['value'];
    if (n.op === 'Constant' && value?.type === 'tensor' && value.value.dtype === 'float32') n.attrs['value'] = { type: 'tensor', value: castTensor(value.value, 'float64') };
    const to = n.attrs['to'];
    if (n.op === 'Cast' && to?.type === 'int' && to.value === ONNX_DTYPE_CODES.float32) n.attrs['to'] = { type: 'int', value: ONNX_DTYPE_CODES.float64 };
  }
  for (const [k, v] of g.valueInfo) if (v.dtype === 'float32') g.valueInfo.set(k, { ...v, dtype: 'float64' });
  g.inputs = g.inputs.map((i) => (i.dtype === 'float32' ? { ...i, dtype: 'float64' } : i));
  g.outputs = g.outputs.map((o) => (o.dtype === 'float32' ? { ...o, dtype: 'float64' } : o));
  return g;
}
