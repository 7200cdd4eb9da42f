import { ConvLensError } from '../errors.js';
import { MalformedNode, shapeError } from '../graph/facts.js';
import { attrInt, attrInts, attrString, type Dim, type Node } from '../graph/ir.js';

/**
 * Sliding-window geometry shared by Conv, ConvTranspose and the pools: the shape rules,
 * the reference kernels, the backward rules and the receptive-field analysis all read
 * attributes through here so they cannot disagree.
 */
export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** begin pads per spatial axis */
  padBegin: number[];
  /** end pads per spatial axis (for pools in ceil mode, the pad actually used may be larger) */
  padEnd: number[];
  /** output spatial size; a symbol when the input size is symbolic */
  out: Dim[];
  ceilMode: boolean;
}

/** A window (kernel, pool) larger than the padded input it slides over: the input is too small for the model. */
export class WindowDoesNotFit extends ConvLensError {
  constructor(node: Node, message: string) {
    super('SHAPE_MISMATCH', `${node.op} node "${node.name}": ${message}`, 'The input image is too small for this model; use a larger input.');
  }
}

/**
 * Geometry of a Conv or pooling window over `inSpatial`. `kernel` comes from the weight
 * (Conv) or the kernel_shape attribute (pools).
 */
export function windowGeometry(node: Node, inSpatial: readonly Dim[], kernel: readonly number[]): WindowGeometry {
  const r = inSpatial.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const ceilMode = attrInt(node, 'ceil_mode', 0) === 1;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0);
  if (kernel.length !== r || strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    throw new MalformedNode(node, `window attributes do not match ${r} spatial dims (kernel [${kernel}], strides [${strides}], dilations [${dilations}], pads [${pads}])`);
  }
  checkWindowAttributes(node, { kernel, strides, dilations, pads });
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const k = kernel[i]!;
    const s = strides[i]!;
    const d = dilations[i]!;
    const ext = (k - 1) * d + 1;
    const n = inSpatial[i]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      if (typeof n !== 'number') throw shapeError(node, `auto_pad=${autoPad} needs a static input size`, 'Fix the model input size first.');
      const o = Math.ceil(n / s);
      const total = Math.max(0, (o - 1) * s + ext - n);
      const small = Math.floor(total / 2);
      padBegin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      padEnd.push(autoPad === 'SAME_UPPER' ? total - small : small);
      out.push(o);
      continue;
    }
    if (autoPad === 'VALID') {
      padBegin.push(0);
      padEnd.push(0);
    } else if (autoPad === 'NOTSET') {
      padBegin.push(pads[i]!);
      padEnd.push(pads[i + r]!);
    } else {
      throw new MalformedNode(node, `unknown auto_pad "${autoPad}"`);
    }
    if (typeof n !== 'number') {
      out.push(`${node.name}_out${i}`);
      continue;
    }
    const span = n + padBegin[i]! + padEnd[i]! - ext;
    if (span < 0) {
      throw new WindowDoesNotFit(node, `window of extent ${ext} does not fit the padded input size ${n + padBegin[i]! + padEnd[i]!} on spatial axis ${i}`);
    }
    let o = ceilMode ? Math.ceil(span / s) + 1 : Math.floor(span / s) + 1;
    // PyTorch and ONNX Runtime drop a last window that would start entirely in the end padding.
    if (ceilMode && (o - 1) * s >= n + padBegin[i]!) o--;
    out.push(o);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, out, ceilMode };
}

export interface TransposeGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  outputPadding: number[];
  out: Dim[];
}

/** Geometry of ConvTranspose, including output_shape and auto_pad handling as the ONNX spec defines it. */
export function transposeGeometry(node: Node, inSpatial: readonly Dim[], kernel: readonly number[]): TransposeGeometry {
  const r = inSpatial.length;
  const strides = attrInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const outputPadding = attrInts(node, 'output_padding') ?? new Array<number>(r).fill(0);
  const outputShape = attrInts(node, 'output_shape');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * r).fill(0);
  if (kernel.length !== r || strides.length !== r || dilations.length !== r || pads.length !== 2 * r || outputPadding.length !== r) {
    throw new MalformedNode(node, `window attributes do not match ${r} spatial dims (kernel [${kernel}], strides [${strides}], dilations [${dilations}], pads [${pads}], output_padding [${outputPadding}])`);
  }
  checkWindowAttributes(node, { kernel, strides, dilations, pads, outputPadding });
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const n = inSpatial[i]!;
    const ext = (kernel[i]! - 1) * dilations[i]! + 1;
    const target = outputShape ? outputShape[outputShape.length - r + i]! : autoPad.startsWith('SAME') && typeof n === 'number' ? n * strides[i]! : undefined;
    if (target !== undefined) {
      if (typeof n !== 'number') throw shapeError(node, 'output_shape/auto_pad needs a static input size');
      const total = strides[i]! * (n - 1) + outputPadding[i]! + ext - target;
      const half = Math.floor(total / 2);
      if (total < 0) {
        // A requested size beyond the natural one: ONNX Runtime (and PyTorch's output_size)
        // add the extra rows at the end rather than splitting a negative pad across both ends.
        padBegin.push(0);
        padEnd.push(total);
      } else if (autoPad === 'SAME_UPPER') {
        padBegin.push(half);
        padEnd.push(total - half);
      } else {
        padBegin.push(total - half);
        padEnd.push(half);
      }
      out.push(target);
      continue;
    }
    padBegin.push(autoPad === 'VALID' ? 0 : pads[i]!);
    padEnd.push(autoPad === 'VALID' ? 0 : pads[i + r]!);
    out.push(typeof n === 'number' ? strides[i]! * (n - 1) + outputPadding[i]! + ext - padBegin[i]! - padEnd[i]! : `${node.name}_out${i}`);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, outputPadding, out };
}

/**
 * Window sizes, strides and dilations are positive and pads are not negative, as ONNX Runtime
 * requires: a zero stride made an infinite output size (a damaged file's summary printed
 * "(N, 64, 3, Infinity)" and the gradient graph could not be written).
 */
function checkWindowAttributes(node: Node, a: { kernel: readonly number[]; strides: readonly number[]; dilations: readonly number[]; pads: readonly number[]; outputPadding?: readonly number[] }): void {
  const positive = (name: string, values: readonly number[]): void => {
    if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new MalformedNode(node, `${name} [${values.join(', ')}] must be positive integers`, 'The model file is damaged or was written by a faulty exporter; export it again.');
  };
  positive('kernel', a.kernel);
  positive('strides', a.strides);
  positive('dilations', a.dilations);
  if (a.pads.some((v) => !Number.isInteger(v) || v < 0)) throw new MalformedNode(node, `pads [${a.pads.join(', ')}] must not be negative`, 'The model file is damaged or was written by a faulty exporter; export it again.');
  if (a.outputPadding?.some((v) => !Number.isInteger(v) || v < 0)) throw new MalformedNode(node, `output_padding [${a.outputPadding.join(', ')}] must not be negative`, 'The model file is damaged or was written by a faulty exporter; export it again.');
}
