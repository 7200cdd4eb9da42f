// How many inputs an ONNX op cannot do without, checked on every node of an imported model
// before it is converted. A node that lost a required input (a hostile or truncated file) used
// to reach code that reads `inputs[0]` as a name: a Dropout without inputs became an Identity of
// `undefined` ('No value named "undefined"', an internal error in encodeModel on the CLI, or
// "Identity node: input 0 is required" naming an op the file does not have), a Concat of nothing
// a TypeError. The counts are ONNX's (onnx/defs), as of the opset that changed them.
import { ConvLensError } from '../errors.js';
import type { Node } from '../graph/ir.js';

/** Required leading inputs by op, the same at every opset ConvLens reads. */
const REQUIRED: Record<string, number> = {};
const needs = (count: number, ops: string): void => {
  for (const op of ops.split(/\s+/).filter(Boolean)) REQUIRED[op] = count;
};
needs(
  1,
  `Abs Acos Acosh Asin Asinh Atan Atanh Ceil Celu Cos Cosh Elu Erf Exp Floor Gelu HardSigmoid HardSwish Identity IsInf IsNaN
   LeakyRelu Log Mish Neg Not Reciprocal Relu Round Selu Shrink Sigmoid Sign Sin Sinh Softplus Softsign Sqrt Tan Tanh ThresholdedRelu
   Dropout Softmax LogSoftmax Hardmax Flatten Transpose Shape Size Cast Clip MaxPool AveragePool LpPool GlobalAveragePool GlobalMaxPool
   GlobalLpPool LRN ArgMax ArgMin ReduceMean ReduceMax ReduceMin ReduceProd ReduceSum ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
   ReduceSumSquare Squeeze Split ConstantOfShape Concat Sum Max Min Mean DepthToSpace SpaceToDepth NonZero ImageScaler
   MeanVarianceNormalization EyeLike Trilu CumSum DynamicQuantizeLinear`,
);
needs(
  2,
  `Add Sub Mul Div Pow Mod MatMul MatMulInteger Conv ConvTranspose ConvInteger PRelu Equal Less Greater LessOrEqual GreaterOrEqual
   And Or Xor BitShift Gather GatherElements GatherND Expand Tile Gemm CastLike QuantizeLinear DequantizeLinear LayerNormalization
   `,
);
needs(3, 'Where InstanceNormalization ScatterND ScatterElements OneHot Range');
needs(5, 'BatchNormalization');
needs(8, 'QLinearConv QLinearMatMul');

/** Ops whose required inputs changed with the opset: [first opset of the count, count], newest last. */
const BY_OPSET: Record<string, [number, number][]> = {
  Reshape: [[1, 1], [5, 2]],
  Pad: [[1, 1], [11, 2]],
  Slice: [[1, 1], [10, 3]],
  Upsample: [[1, 1], [9, 2]],
  Resize: [[10, 2], [11, 1]],
  Unsqueeze: [[1, 1], [13, 2]],
  TopK: [[1, 1], [10, 2]],
};

/** How many leading inputs `op` needs at `opset`; 0 for ops not listed (custom domains, ops ConvLens refuses elsewhere). */
export function requiredInputs(op: string, opset: number): number {
  const versions = BY_OPSET[op];
  if (versions) return versions.filter(([since]) => since <= opset).at(-1)?.[1] ?? versions[0]![1];
  return REQUIRED[op] ?? 0;
}

/**
 * Refuses a node of the default domain that leaves one of its required inputs out or empty,
 * naming the node, its op and the position: the file's fault, found before any rule reads it.
 */
export function checkRequiredInputs(node: Node, opset: number, source: string): void {
  if (node.domain) return;
  const required = requiredInputs(node.op, opset);
  for (let k = 0; k < required; k++) {
    if (node.inputs[k]) continue;
    const given = node.inputs.filter(Boolean).length;
    const has = given === 0 ? 'has no inputs' : node.inputs.length > k ? `leaves input ${k} empty` : `has ${given} input${given === 1 ? '' : 's'}`;
    throw new ConvLensError(
      'MODEL_UNREADABLE',
      `${source}: ${node.op} node "${node.name}" ${has}; ${node.op} needs ${required === 1 ? 'an input' : `${required} inputs`}.`,
      'The model file is malformed (a node lost an input); re-export it.',
    );
  }
}
