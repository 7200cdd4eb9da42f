import type { GraphBuilder } from '../graph/builder.js';
import { attrFloat, attrFloats, attrInt, attrInts, attrString, type Attr, type Node } from '../graph/ir.js';
import { ConvLensError } from '../errors.js';

/**
 * Opsets 7 to 10, the ONNX Model Zoo's classics (bvlcalexnet-7, resnet50-v1-7, mobilenetv2-7,
 * googlenet-9, ...), wrote some ops in forms that later opsets replaced. This module rewrites each
 * such node into its opset-11 form, which `normalizeGraph` then takes to opset 17 like any other
 * opset-11 file, so shape rules, backward rules, sessions and every command only ever see the
 * modern form. The original file stays the oracle: `test/engine/legacy-opsets.test.ts` runs each
 * old form in ONNX Runtime against its upgrade.
 *
 * Opsets below 7 are refused when decoding: their `consumed_inputs` and `broadcast` attributes
 * have no later equivalent that ONNX Runtime still runs.
 */

/** What an upgrade did: the node in its opset-11 form, or `emitted` when it wrote replacement nodes itself. */
export type LegacyUpgrade = { node: Node } | { emitted: true };

/** Upsample was deprecated at opset 10 but is converted wherever it appears (ONNX Runtime refuses it there, ConvLens need not). */
export function upgradeLegacyNode(b: GraphBuilder, node: Node, from: number, source: string): LegacyUpgrade {
  const n: Node = { ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } };
  if (n.domain) return { node: n };
  if (n.op === 'Upsample') return { node: upsampleAsResize(b, n) };
  if (n.op === 'ImageScaler') return imageScalerAsMulAdd(b, n);
  if (from >= 11) return { node: n };
  const where = `${source}: ${n.op} node "${n.name}"`;
  // Clip's bounds and Pad's pads are attributes before opset 11: inputs beyond X are a later
  // form the upgrade below would drop (a Clip(x, 0, 6) became the identity).
  if ((n.op === 'Clip' || n.op === 'Pad') && n.inputs.slice(1).some((i) => i)) {
    throw new ConvLensError('MODEL_UNREADABLE', `${where} has ${n.op === 'Clip' ? 'min/max' : 'pads'} inputs, the opset-11 form, in an opset-${from} model.`, 'The model is malformed (its opset_import does not match its ops); re-export it.');
  }
  switch (n.op) {
    case 'Clip': {
      // Opset 6-10: min/max attributes (defaults: no bound); opset 11: optional scalar inputs.
      const min = attrFloat(n, 'min');
      const max = attrFloat(n, 'max');
      n.attrs = {};
      n.inputs = [n.inputs[0]!, min === undefined ? '' : b.scalar(min, `${n.name}_min`), max === undefined ? '' : b.scalar(max, `${n.name}_max`)];
      while (n.inputs[n.inputs.length - 1] === '') n.inputs.pop();
      return { node: n };
    }
    case 'Pad': {
      // Opset 2-10: pads and value attributes; opset 11: inputs.
      const pads = attrInts(n, 'pads');
      if (!pads) throw new ConvLensError('MODEL_UNREADABLE', `${where} has no pads attribute.`, 'The model is malformed; re-export it.');
      const mode = attrString(n, 'mode', 'constant');
      const value = attrFloat(n, 'value', 0);
      n.attrs = { mode: { type: 'string', value: mode } };
      n.inputs = [n.inputs[0]!, b.ints(pads, `${n.name}_pads`)];
      if (mode === 'constant' && value !== 0) n.inputs.push(b.scalar(value, `${n.name}_value`));
      return { node: n };
    }
    case 'Slice': {
      if (from >= 10) return { node: n };
      // Opset 1-9: starts/ends/axes attributes and no steps; opset 10: inputs.
      const starts = attrInts(n, 'starts');
      const ends = attrInts(n, 'ends');
      if (!starts || !ends) throw new ConvLensError('MODEL_UNREADABLE', `${where} lacks its starts or ends attribute.`, 'The model is malformed; re-export it.');
      const axes = attrInts(n, 'axes');
      n.attrs = {};
      n.inputs = [n.inputs[0]!, b.ints(starts, `${n.name}_starts`), b.ints(ends, `${n.name}_ends`), ...(axes ? [b.ints(axes, `${n.name}_axes`)] : [])];
      return { node: n };
    }
    case 'Resize':
      // Only opset 10 has Resize before 11.
      return { node: resize10AsResize11(b, n, where) };
    case 'Dropout': {
      // Before opset 10 the mask had the input's float type (bool from 10 on). An inference
      // graph's Dropout is the identity; the spec leaves its mask unfilled and ONNX Runtime
      // writes zeros, so the upgrade does too.
      if (from >= 10 || !n.outputs[1]) return { node: n };
      b.addNode({ op: 'Identity', name: n.name, inputs: [n.inputs[0]!], outputs: [n.outputs[0]!], attrs: {} });
      const dtype = b.factsOf(n.inputs[0]!).dtype;
      const zero: Attr = { type: 'tensor', value: dtype === 'float64' ? { dtype, dims: [1], data: Float64Array.of(0) } : { dtype: 'float32', dims: [1], data: Float32Array.of(0) } };
      b.addNode({ op: 'ConstantOfShape', name: `${n.name}_mask`, inputs: [b.op('Shape', [n.inputs[0]!])], outputs: [n.outputs[1]], attrs: { value: zero } });
      return { emitted: true };
    }
    case 'BatchNormalization':
      return batchNormSpatial(b, n, where);
    default:
      return { node: n };
  }
}

/**
 * Upsample is Resize with asymmetric coordinates and floor rounding; its scales are an attribute
 * at opsets 7-8 and an input from 9 on.
 */
function upsampleAsResize(b: GraphBuilder, n: Node): Node {
  const mode = attrString(n, 'mode', 'nearest');
  const scalesAttr = attrFloats(n, 'scales');
  const scales = n.inputs[1] || (scalesAttr ? b.constant({ dtype: 'float32', dims: [scalesAttr.length], data: Float32Array.from(scalesAttr) }, `${n.name}_scales`) : undefined);
  if (!scales) throw new ConvLensError('MODEL_UNREADABLE', `Upsample node "${n.name}" has no scales (neither an input nor an attribute).`, 'The model is malformed; re-export it.');
  return {
    ...n,
    op: 'Resize',
    inputs: [n.inputs[0]!, '', scales],
    attrs: {
      mode: { type: 'string', value: mode === 'bilinear' ? 'linear' : mode },
      coordinate_transformation_mode: { type: 'string', value: 'asymmetric' },
      nearest_mode: { type: 'string', value: 'floor' },
    },
  };
}

/**
 * Opset-10 Resize takes (X, scales) and samples at x_out / scale (asymmetric). ONNX Runtime
 * rounds a nearest source coordinate down when upsampling and up when downsampling, which opset
 * 11 says with nearest_mode floor or ceil: one for the whole node, so a node that enlarges one
 * axis and shrinks another is refused.
 */
function resize10AsResize11(b: GraphBuilder, n: Node, where: string): Node {
  const mode = attrString(n, 'mode', 'nearest');
  const attrs: Record<string, Attr> = {
    mode: { type: 'string', value: mode },
    coordinate_transformation_mode: { type: 'string', value: 'asymmetric' },
  };
  if (mode === 'nearest') {
    const scalesValue = n.inputs[1] ? b.valueOf(n.inputs[1]) : undefined;
    if (!scalesValue) throw new ConvLensError('MODEL_UNSUPPORTED', `${where} (opset 10) computes its scales at run time; ConvLens needs them constant to convert it.`, 'Export the model with opset 11 or later, or with constant scales.');
    const scales = Array.from(scalesValue.data as ArrayLike<number>, Number);
    const shrinks = scales.some((s) => s < 1);
    if (shrinks && scales.some((s) => s > 1)) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `${where} (opset 10) enlarges one axis and shrinks another with nearest sampling (scales ${scales.join(', ')}), which has no opset-11 equivalent.`, 'Export the model with opset 11 or later.');
    }
    attrs['nearest_mode'] = { type: 'string', value: shrinks ? 'ceil' : 'floor' };
  }
  return { ...n, inputs: [n.inputs[0]!, '', n.inputs[1]!], attrs };
}

/**
 * BatchNormalization's `spatial` attribute (opsets 7-8). spatial=1 (the default) is the only form
 * later opsets have. spatial=0 normalizes each position with its own statistics, given as
 * [C, D1, ...] tensors: written here as the per-element arithmetic it is. Statistics of one value
 * per channel (which ONNX Runtime refuses with spatial=0) can only mean spatial=1.
 */
function batchNormSpatial(b: GraphBuilder, n: Node, where: string): LegacyUpgrade {
  const spatial = attrInt(n, 'spatial', 1);
  delete n.attrs['spatial'];
  if (spatial === 1) return { node: n };
  const [x, scale, bias, mean, variance] = n.inputs as [string, string, string, string, string];
  const xShape = b.factsOf(x).shape;
  const statShape = b.factsOf(scale).shape;
  if (!statShape || !xShape) throw new ConvLensError('MODEL_UNSUPPORTED', `${where} uses spatial=0 on values of unknown shape.`, 'Export the model with opset 9 or later (per-channel statistics).');
  if (statShape.length === 1) return { node: n };
  if (n.outputs.slice(1).some((o) => o)) throw new ConvLensError('MODEL_UNSUPPORTED', `${where} uses spatial=0 in training mode.`, 'Export the model in inference mode (model.eval()).');
  if (statShape.length !== xShape.length - 1 || statShape.some((d, i) => d !== xShape[i + 1])) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${where} uses spatial=0 with statistics of shape [${statShape.join(', ')}] for an input of shape [${xShape.join(', ')}].`, 'Export the model with opset 9 or later (per-channel statistics).');
  }
  const epsilon = attrFloat(n, 'epsilon', 1e-5);
  const inverseStd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.scalar(epsilon)])])]);
  const normalized = b.op('Mul', [b.op('Sub', [x, mean]), b.op('Mul', [inverseStd, scale])]);
  b.addNode({ op: 'Add', name: n.name, inputs: [normalized, bias], outputs: [n.outputs[0]!], attrs: {} });
  return { emitted: true };
}

/**
 * ImageScaler (an experimental op of opsets 1-9, gone from 10; the first node of the Zoo's
 * tiny-yolov2 and several Caffe2 conversions): y = scale * x + bias[c] over [N, C, H, W]. Written
 * as the Mul and Add it is, so its gradient and every rule set are the elementwise ops'.
 */
function imageScalerAsMulAdd(b: GraphBuilder, n: Node): LegacyUpgrade {
  const scale = attrFloat(n, 'scale', 1);
  const bias = attrFloats(n, 'bias') ?? [];
  const x = n.inputs[0]!;
  const scaled = bias.length ? `${n.outputs[0]!}_scaled` : n.outputs[0]!;
  b.addNode({ op: 'Mul', name: n.name, inputs: [x, b.scalar(scale, `${n.name}_scale`)], outputs: [scaled], attrs: {} });
  if (bias.length) {
    const perChannel = b.initializer(`${n.name}_bias`, { dtype: 'float32', dims: [1, bias.length, 1, 1], data: Float32Array.from(bias) });
    b.addNode({ op: 'Add', name: `${n.name}_bias_add`, inputs: [scaled, perChannel], outputs: [n.outputs[0]!], attrs: {} });
  }
  return { emitted: true };
}
