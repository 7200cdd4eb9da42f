import { GraphBuilder, INTERNAL_OPSET } from '../graph/builder.js';
import { normAxis } from '../graph/facts.js';
import { attrInt, attrInts, attrString, type Graph, type Node } from '../graph/ir.js';
import { ConvLensError } from '../errors.js';
import { windowGeometry } from '../ops/geometry.js';
import { toNumbers } from '../tensor.js';
import { upgradeLegacyNode } from './legacy-opsets.js';
import { checkRequiredInputs } from './required-inputs.js';

/**
 * Rewrites a decoded graph (any supported opset) into the opset-17 form every shape rule,
 * backward rule and kernel is written against, folding constant shape arithmetic on the way.
 * Value and node names are kept, so layer names stay what the user's exporter called them.
 */
export function normalizeGraph(src: Graph, source = 'the model'): Graph {
  const from = src.opset;
  const b = new GraphBuilder();
  const g = b.graph;
  g.name = src.name;
  g.metadata = new Map(src.metadata);
  g.producerName = src.producerName;
  g.producerVersion = src.producerVersion;
  g.docString = src.docString;
  g.extraOpsets = src.extraOpsets.map((o) => ({ ...o }));
  g.valueInfo = new Map(src.valueInfo);
  b.strict = false;
  for (const i of src.inputs) {
    if (src.initializers.has(i.name)) continue;
    b.input(i.name, i.dtype, i.shape);
  }
  for (const [name, t] of src.initializers) b.initializer(name, t);
  for (const node of src.nodes) convertNode(b, node, from, source);
  for (const o of src.outputs) {
    if (!b.has(o.name)) throw new ConvLensError('MODEL_UNREADABLE', `${source}: graph output "${o.name}" is not produced by any node.`, 'The model is malformed; re-export it.');
    b.output(o.name);
    const declared = o.shape;
    const inferred = g.outputs[g.outputs.length - 1]!;
    if (!inferred.shape && declared) inferred.shape = [...declared];
  }
  return b.build();
}

/** ai.onnx ops that do not exist at opset 17 (the ones ConvLens can decompose are handled first). */
const NEWER_THAN_17 = new Set(['BitwiseAnd', 'BitwiseNot', 'BitwiseOr', 'BitwiseXor', 'CenterCropPad', 'Col2Im', 'DeformConv', 'AffineGrid', 'ImageDecoder', 'RegexFullMatch', 'StringConcat', 'StringSplit', 'Attention', 'RMSNormalization', 'RotaryEmbedding']);

const REDUCE_WITH_AXES_ATTR = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

function convertNode(b: GraphBuilder, node: Node, from: number, source: string): void {
  // before the legacy upgrade and the rewrites below, which read the inputs they expect
  checkRequiredInputs(node, from, source);
  const upgraded = upgradeLegacyNode(b, node, from, source);
  if ('emitted' in upgraded) return;
  const n = upgraded.node;
  const constInts = (i: number, what: string): number[] | undefined => {
    const name = n.inputs[i];
    if (!name) return undefined;
    const v = b.valueOf(name);
    if (!v) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: ${n.op} node "${n.name}" computes its ${what} at run time; ConvLens needs them constant to convert opset ${from} to ${INTERNAL_OPSET}.`, 'Export the model with opset 17, or with constant-folding enabled.');
    }
    return toNumbers(v);
  };
  const moveAttrToInput = (key: string, position: number): void => {
    const v = attrInts(n, key);
    delete n.attrs[key];
    if (v) {
      while (n.inputs.length < position) n.inputs.push('');
      n.inputs[position] = b.ints(v, `${n.name}_${key}`);
    }
  };
  if (!n.domain) {
    if (n.op === 'Resize') checkResizeScales(b, n, node.op, source);
    if (from < 13) {
      if (n.op === 'Squeeze' || n.op === 'Unsqueeze' || n.op === 'ReduceSum') moveAttrToInput('axes', 1);
      if (n.op === 'Split') moveAttrToInput('split', 1);
      if ((n.op === 'Softmax' || n.op === 'LogSoftmax') && convertOldSoftmax(b, n)) return;
    }
    if (from >= 18) {
      if (REDUCE_WITH_AXES_ATTR.includes(n.op)) {
        const axes = constInts(1, 'reduction axes');
        n.inputs = [n.inputs[0]!];
        const noop = attrInt(n, 'noop_with_empty_axes', 0);
        delete n.attrs['noop_with_empty_axes'];
        if (axes && axes.length) n.attrs['axes'] = { type: 'ints', value: axes };
        else if (noop) {
          b.addNode({ op: 'Identity', name: n.name, inputs: [n.inputs[0]!], outputs: n.outputs, attrs: {} });
          return;
        }
      }
      if (n.op === 'Split' && n.attrs['num_outputs']) {
        delete n.attrs['num_outputs'];
        if (!n.inputs[1]) {
          const x = b.shapeOf(n.inputs[0]!);
          const axis = attrInt(n, 'axis', 0);
          const d = x[axis < 0 ? axis + x.length : axis];
          if (typeof d !== 'number') throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: Split node "${n.name}" splits a dynamic axis into num_outputs parts.`, 'Export with static sizes on that axis.');
          const k = n.outputs.length;
          const chunk = Math.ceil(d / k);
          n.inputs[1] = b.ints(Array.from({ length: k }, (_, i) => (i < k - 1 ? chunk : d - chunk * (k - 1))));
        }
      }
      if (n.op === 'Pad' && n.inputs[3]) {
        const axes = constInts(3, 'pad axes')!;
        const pads = constInts(1, 'pads')!;
        const r = b.shapeOf(n.inputs[0]!).length;
        const full = new Array<number>(2 * r).fill(0);
        axes.forEach((a0, i) => {
          const a = a0 < 0 ? a0 + r : a0;
          full[a] = pads[i]!;
          full[a + r] = pads[i + axes.length]!;
        });
        n.inputs = [n.inputs[0]!, b.ints(full), n.inputs[2] ?? ''];
        while (n.inputs.length && n.inputs[n.inputs.length - 1] === '') n.inputs.pop();
      }
      if (n.op === 'Resize') {
        if (attrInt(n, 'antialias', 0)) throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: Resize node "${n.name}" uses antialias=1, which ConvLens does not differentiate.`, 'Export without antialiasing.');
        if (n.attrs['axes']) throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: Resize node "${n.name}" uses the axes attribute (opset 18).`, 'Export with full-rank scales or sizes.');
        const policy = attrString(n, 'keep_aspect_ratio_policy', 'stretch');
        if (policy !== 'stretch') throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: Resize node "${n.name}" uses keep_aspect_ratio_policy=${policy}.`, 'Export with explicit sizes.');
        delete n.attrs['antialias'];
        delete n.attrs['keep_aspect_ratio_policy'];
        if (attrString(n, 'coordinate_transformation_mode', 'half_pixel') === 'half_pixel_symmetric') {
          throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: Resize node "${n.name}" uses half_pixel_symmetric coordinates (opset 19).`, 'Export with half_pixel or align_corners.');
        }
      }
    }
    if (from >= 19) {
      if (n.op === 'AveragePool' && n.attrs['dilations']) {
        if ((attrInts(n, 'dilations') ?? []).some((d) => d !== 1)) {
          throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: AveragePool node "${n.name}" uses dilations (opset 19), which ConvLens does not support.`, 'Export the model without dilated average pooling.');
        }
        delete n.attrs['dilations'];
      }
      // saturate only concerns float8 targets, which ConvLens does not handle anyway.
      if (n.op === 'Cast') delete n.attrs['saturate'];
    }
    if ((n.op === 'QuantizeLinear' || n.op === 'DequantizeLinear') && from >= 19) settleQuantizationAttributes(b, n, source);
    if (n.op === 'Gelu' || n.op === 'Mish' || n.op === 'GroupNormalization') {
      decomposeNewOp(b, n, from);
      return;
    }
    if (NEWER_THAN_17.has(n.op)) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: ${n.op} node "${n.name}" uses an op introduced after opset 17, which ConvLens does not convert.`, 'Export the model with opset 17, or with this op decomposed into older ops.');
    }
    if (n.op === 'Dropout') {
      // Inference graph: Dropout is the identity (a mask output, if used, is all true).
      b.addNode({ op: 'Identity', name: n.name, inputs: [n.inputs[0]!], outputs: [n.outputs[0]!], attrs: {} });
      if (n.outputs[1]) {
        const shape = b.op('Shape', [n.inputs[0]!]);
        b.addNode({ op: 'ConstantOfShape', name: `${n.name}_mask`, inputs: [shape], outputs: [n.outputs[1]], attrs: { value: { type: 'tensor', value: { dtype: 'bool', dims: [1], data: Uint8Array.of(1) } } } });
      }
      return;
    }
    if (n.op === 'BatchNormalization') {
      delete n.attrs['spatial'];
      delete n.attrs['is_test'];
      delete n.attrs['consumed_inputs'];
      const training = from < 14 ? n.outputs.length > 1 : attrInt(n, 'training_mode', 0) === 1;
      if (training) {
        // Opset 17 training mode has exactly Y, running_mean, running_var, all named (ONNX
        // Runtime crashes on unnamed statistics outputs); opsets < 14 also had saved_mean/var.
        if (n.outputs.slice(3).some((o) => o)) {
          throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: BatchNormalization node "${n.name}" outputs saved_mean/saved_var (opset < 14 training form).`, 'Export the model in inference mode (model.eval()) or with opset 14+.');
        }
        n.outputs = [0, 1, 2].map((i) => n.outputs[i] || b.uniqueName(`${n.name}_stat${i}`));
        n.attrs['training_mode'] = { type: 'int', value: 1 };
      } else {
        n.outputs = [n.outputs[0]!];
        delete n.attrs['training_mode'];
      }
    }
    if ((n.op === 'Conv' || n.op === 'MaxPool' || n.op === 'AveragePool') && attrString(n, 'auto_pad', 'NOTSET') !== 'NOTSET') {
      // Explicit pads: ONNX Runtime rejects SAME_* with dilations, and rules read pads anyway.
      const xs = b.factsOf(n.inputs[0]!).shape;
      const kernel = n.op === 'Conv' ? b.factsOf(n.inputs[1]!).shape?.slice(2) : attrInts(n, 'kernel_shape');
      if (xs && kernel && kernel.every((k): k is number => typeof k === 'number') && xs.slice(2).every((d) => typeof d === 'number')) {
        const geo = windowGeometry(n, xs.slice(2), kernel);
        n.attrs['pads'] = { type: 'ints', value: [...geo.padBegin, ...geo.padEnd] };
        delete n.attrs['auto_pad'];
      }
    }
  }
  b.addNode(n);
}

/**
 * ONNX Runtime takes only positive scales; a scale of 0, a negative one or NaN (an old
 * Upsample's attribute, a Resize's constant) loaded, then failed every run at the session's
 * creation with a message from ONNX Runtime's sources. Said here, when the file is read.
 */
function checkResizeScales(b: GraphBuilder, n: Node, op: string, source: string): void {
  const scales = n.inputs[2] ? b.valueOf(n.inputs[2]) : undefined;
  if (!scales || scales.data.length === 0) return;
  const values = toNumbers(scales);
  const bad = values.findIndex((s) => !(Number.isFinite(s) && s > 0));
  if (bad < 0) return;
  throw new ConvLensError(
    'MODEL_UNREADABLE',
    `${source}: ${op} node "${n.name}" has scale ${values[bad]} on axis ${bad}; scales must be positive finite numbers.`,
    'The model is malformed; re-export it.',
  );
}

/**
 * Opsets 19-21 gave QuantizeLinear/DequantizeLinear attributes opset 17 does not know:
 * `saturate` (float8 targets only, so nothing to do for int8), `block_size` (blocked
 * quantization, refused) and `output_dtype` (the target type without a zero point: becomes a
 * zero point of that type, which says the same at opset 13).
 */
function settleQuantizationAttributes(b: GraphBuilder, n: Node, source: string): void {
  delete n.attrs['saturate'];
  if (attrInt(n, 'block_size', 0) !== 0) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: ${n.op} node "${n.name}" uses blocked quantization (block_size ${attrInt(n, 'block_size', 0)}, opset 21).`, 'Quantize per tensor or per channel (onnxruntime.quantization with per_channel=True writes that).');
  }
  delete n.attrs['block_size'];
  const code = attrInt(n, 'output_dtype', 0);
  delete n.attrs['output_dtype'];
  if (code === 0) return;
  const dtype = code === 2 ? 'uint8' : code === 3 ? 'int8' : undefined;
  if (!dtype) throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: ${n.op} node "${n.name}" quantizes to ONNX type ${code}; ConvLens handles int8 and uint8.`, 'Quantize to 8-bit integers (QuantType.QInt8 or QUInt8).');
  if (!n.inputs[2]) {
    while (n.inputs.length < 2) n.inputs.push('');
    n.inputs[2] = b.constant({ dtype, dims: [], data: dtype === 'int8' ? new Int8Array(1) : new Uint8Array(1) }, `${n.name}_zero_point`);
  }
}

/** Opset < 13 Softmax coerces to 2-D at `axis` (default 1); rewrite as Flatten, Softmax, Reshape. */
function convertOldSoftmax(b: GraphBuilder, n: Node): boolean {
  const x = n.inputs[0]!;
  const shape = b.factsOf(x).shape;
  const axis = attrInt(n, 'axis', 1);
  if (shape) {
    const r = shape.length;
    // checked here, on the file's node: the Flatten it becomes below would be refused under a name the file does not have
    const a = normAxis(n, axis, r);
    if (a === r - 1) {
      // Same semantics as opset 13 along the last axis.
      b.addNode({ ...n, attrs: { axis: { type: 'int', value: -1 } } });
      return true;
    }
  }
  const flat = b.op('Flatten', [x], { axis });
  const soft = b.op(n.op, [flat], { axis: -1 });
  b.addNode({ op: 'Reshape', name: n.name, inputs: [soft, b.op('Shape', [x])], outputs: n.outputs, attrs: {} });
  return true;
}

/**
 * Ops newer than opset 17 that CNNs use, rewritten in opset-17 ops under the original output
 * names (so the backward pass comes from the primitive rules).
 */
function decomposeNewOp(b: GraphBuilder, n: Node, from: number): void {
  const x = n.inputs[0]!;
  const out = n.outputs[0]!;
  const finish = (op: string, inputs: string[], attrs: Node['attrs'] = {}): void => {
    b.addNode({ op, name: n.name, inputs, outputs: [out], attrs });
  };
  if (n.op === 'Gelu') {
    const half = b.op('Mul', [x, b.scalar(0.5)]);
    if (attrString(n, 'approximate', 'none') === 'tanh') {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = b.op('Mul', [b.op('Mul', [x, x]), x]);
      const inner = b.op('Mul', [b.op('Add', [x, b.op('Mul', [cube, b.scalar(0.044715)])]), b.scalar(Math.sqrt(2 / Math.PI))]);
      finish('Mul', [half, b.op('Add', [b.op('Tanh', [inner]), b.scalar(1)])]);
    } else {
      finish('Mul', [half, b.op('Add', [b.op('Erf', [b.op('Mul', [x, b.scalar(Math.SQRT1_2)])]), b.scalar(1)])]);
    }
    return;
  }
  if (n.op === 'Mish') {
    finish('Mul', [x, b.op('Tanh', [b.op('Softplus', [x])])]);
    return;
  }
  // GroupNormalization: normalize over (channels of a group) x spatial, then per-channel affine
  // (opset 21; opset 18 gave scale and bias per group, repeated here over the group's channels).
  const shape = b.shapeOf(x);
  const c = shape[1];
  const groups = attrInt(n, 'num_groups', 1);
  const eps = n.attrs['epsilon']?.type === 'float' ? (n.attrs['epsilon'].value as number) : 1e-5;
  if (typeof c !== 'number') throw new ConvLensError('MODEL_UNSUPPORTED', `GroupNormalization node "${n.name}" needs a static channel count.`, 'Re-export the model with static shapes (a fixed input size and ONNX shape inference), so the node\'s input has a known channel count.');
  const grouped = b.op('Reshape', [x, b.ints([0, groups, -1])]);
  const mean = b.op('ReduceMean', [grouped], { axes: [2], keepdims: 1 });
  const centered = b.op('Sub', [grouped, mean]);
  const variance = b.op('ReduceMean', [b.op('Mul', [centered, centered])], { axes: [2], keepdims: 1 });
  const normed = b.op('Div', [centered, b.op('Sqrt', [b.op('Add', [variance, b.scalar(eps)])])]);
  const back = b.op('Reshape', [normed, b.op('Shape', [x])]);
  const perChannel = (name: string): string => {
    const size = b.shapeOf(name)[0];
    const v = from < 21 && size === groups && groups !== c ? b.op('Reshape', [b.op('Expand', [b.op('Reshape', [name, b.ints([groups, 1])]), b.ints([groups, c / groups])]), b.ints([c])]) : name;
    return b.op('Reshape', [v, b.ints([c, ...new Array<number>(shape.length - 2).fill(1)])]);
  };
  finish('Add', [b.op('Mul', [back, perChannel(n.inputs[1]!)]), perChannel(n.inputs[2]!)]);
}
