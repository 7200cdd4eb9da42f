// Integer image inputs. Some exports take 8-bit pixels ([N, 3, 224, 224] uint8) and cast them to
// float as their first op, so that the caller need not. Nothing can be differentiated with respect
// to an integer input, and every command feeds float32, so such a model takes float32 pixels
// instead: the casts are dropped (on whole-number pixels they changed nothing) and the model's
// default preprocessing keeps the pixels in [0, 255], as the file expected.
import { ConvLensError } from '../engine/errors.js';
import { attrInt, type Graph } from '../engine/graph/ir.js';
import { isFloatDType } from '../engine/tensor.js';

const FLOAT32 = 1; // TensorProto.FLOAT

export interface FloatInput {
  graph: Graph;
  /** the file's input type when it was an integer type (the pixels are then 0..255) */
  integerInput?: string;
}

/** The graph with a float32 image input; the graph itself when it already has one. */
export function withFloatInput(graph: Graph): FloatInput {
  const input = graph.realInputs()[0];
  if (!input || input.dtype === 'float32') return { graph };
  const readers = graph.consumers().get(input.name) ?? [];
  const castsToFloat = readers.length > 0 && readers.every((n) => n.op === 'Cast' && attrInt(n, 'to', 0) === FLOAT32);
  if (isFloatDType(input.dtype) || !castsToFloat || graph.outputs.some((o) => o.name === input.name)) {
    throw new ConvLensError(
      'MODEL_UNSUPPORTED',
      `Model input "${input.name}" is ${input.dtype}${isFloatDType(input.dtype) ? '' : ' and is used as such, not only cast to float32'}; ConvLens feeds float32 images and differentiates with respect to them.`,
      'Export the model with a float32 input (convert the pixels to float32 outside the model, or as its first op).',
    );
  }
  const g = graph.clone();
  g.inputs = g.inputs.map((i) => (i.name === input.name ? { ...i, dtype: 'float32' } : i));
  g.valueInfo.delete(input.name);
  const casts = new Set(readers.map((r) => r.outputs[0]!));
  g.nodes = g.nodes.filter((n) => !(n.op === 'Cast' && n.inputs[0] === input.name));
  for (const node of g.nodes) node.inputs = node.inputs.map((i) => (casts.has(i) ? input.name : i));
  g.outputs = g.outputs.map((o) => (casts.has(o.name) ? { ...o, name: input.name } : o));
  for (const name of casts) g.valueInfo.delete(name);
  return { graph: g, integerInput: input.dtype };
}
