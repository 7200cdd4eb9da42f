import { ConvLensError } from '../errors.js';
import type { DType, Tensor } from '../tensor.js';
import type { Dim, Node } from './ir.js';

/** What static analysis knows about a value: its type, its shape, and its value when it is a constant. */
export interface ValueFacts {
  dtype: DType;
  shape?: Dim[];
  value?: Tensor;
  /**
   * For int64 shape vectors whose entries are partly symbolic (Shape of a batch-N tensor):
   * the entries as dims. Lets Reshape(x, Concat(Gather(Shape(x), 0), [-1])) infer [N, k].
   */
  dimsValue?: Dim[];
}

/** What a shape rule reports per output (a value only when it can compute one cheaply). */
export type OutputFacts = ValueFacts;

export interface InferContext {
  readonly node: Node;
  readonly opset: number;
  /** Number of inputs given (including omitted optional ones, marked ""). */
  readonly inputCount: number;
  /** Facts about input i, or undefined if it is omitted. */
  input(i: number): ValueFacts | undefined;
  /** Facts about input i, failing with a clear error if it is missing or its shape is unknown. */
  need(i: number): ValueFacts & { shape: Dim[] };
  /** The constant value of input i if static analysis knows it. */
  value(i: number): Tensor | undefined;
  /** An error naming this node; rules `throw ctx.error(...)`. */
  error(message: string, hint?: string): Error;
  /** An error for a node the file itself gets wrong, refused even by lenient inference (see MalformedNode). */
  malformed(message: string, hint?: string): Error;
}

/** The entries of an int64 vector input as dims: from its constant value or its symbolic dims. */
export function dimsOfInput(ctx: InferContext, i: number): Dim[] | undefined {
  const f = ctx.input(i);
  if (!f) return undefined;
  // Sizes, axes and indices are integer tensors; a float one (a damaged or miswired file) holds
  // no dims, and ONNX Runtime refuses the node with its own message.
  if (f.value) return f.value.dtype === 'int64' || f.value.dtype === 'int32' ? Array.from(f.value.data as ArrayLike<number | bigint>, Number) : undefined;
  return f.dimsValue ? [...f.dimsValue] : undefined;
}

export function shapeError(node: Node, message: string, hint?: string): ConvLensError {
  return new ConvLensError('SHAPE_MISMATCH', `${node.op} node "${node.name}": ${shortLists(message)}`, hint);
}

const LISTED = 8;

/**
 * Cuts each bracketed list of more than 2 x LISTED entries in a message to its first and last
 * few, counting the entries: rules quote the lists a node gives (a perm, pads, a target shape),
 * and a Transpose whose perm named 30,000 axes was refused with all 30,000 (a 170 kB message).
 */
export function shortLists(message: string): string {
  return message.replace(/\[([^[\]]*)\]/g, (whole, inner: string) => {
    const entries = inner.split(', ');
    if (entries.length <= 2 * LISTED) return whole;
    return `[${entries.slice(0, LISTED).join(', ')}, ... ${entries.slice(-2).join(', ')}] (${entries.length} entries)`;
  });
}

export const MALFORMED_HINT = 'The model file is malformed (written by a faulty exporter, or edited or damaged since): fix the node or re-export the model.';

/**
 * A node whose attributes, constants or parameters contradict each other or the sizes of its
 * inputs: no input makes it run. Lenient inference (imported models run forward even where a
 * rule lacks the facts it needs) swallows a rule's other errors, so these loaded, and ONNX
 * Runtime refused the node only when it ran: a 500 quoting its kernel on every request, on the
 * CLI after the model had loaded. This class is thrown in every mode, when the model loads.
 */
export class MalformedNode extends ConvLensError {
  constructor(node: Node, message: string, hint: string = MALFORMED_HINT) {
    super('SHAPE_MISMATCH', `${node.op} node "${node.name}": ${shortLists(message)}`, hint);
  }
}

/** More axes than any model's tensor has (numpy allows 64; PyTorch and ONNX Runtime's kernels fewer still). */
export const MAX_TENSOR_RANK = 64;

/**
 * The longest vector whose entries are followed as dims (dimsValue): a shape, or what is made of
 * shapes (pads, sizes, starts and ends of every axis). Longer ones are values like any other:
 * Concat(v, v) repeated doubled a vector of Shape(x) 20 times into 4M symbolic entries (5 s and
 * 690 MB to load, 24 times would have ended the process).
 */
export const MAX_DIMS_VALUE = 4 * MAX_TENSOR_RANK;

const IMPOSSIBLE_RANK_HINT = 'The model is malformed: a constant of this node (a target shape, repeats, axes) asks for an impossible rank. Re-export it.';

/**
 * Refuses, before a rule builds the shape, a shape vector that gives its output more axes than
 * any tensor has: a Reshape's target, an Expand's or ConstantOfShape's shape, Unsqueeze's axes
 * (`extra`: the axes the output has besides). A vector of a million ones (a ConstantOfShape,
 * a few bytes of file) took the Expand rule 9 s to build into a shape, and Unsqueeze's check
 * for repeated axes is quadratic in them.
 */
export function checkRankOfShapeInput(ctx: InferContext, i: number, extra = 0): void {
  const length = ctx.input(i)?.shape?.[0];
  if (typeof length === 'number' && length + extra > MAX_TENSOR_RANK) {
    throw ctx.malformed(`input "${ctx.node.inputs[i]}" gives the output ${length + extra} axes; ConvLens handles tensors of up to ${MAX_TENSOR_RANK}`, IMPOSSIBLE_RANK_HINT);
  }
}

/**
 * Refuses a computed size that no tensor can have. Shape rules compute sizes from a file's
 * attributes and constants: an Upsample scale of -2, NaN or 1e30, pads of -100 on a 32-pixel
 * axis or a Reshape to [-2, -4] gave negative, NaN or astronomically large sizes that loaded
 * without a word; memory plans then added negative bytes (a value of size -1 cancelled a huge
 * one) or NaN (a batch of NaN samples), and every request failed inside ONNX Runtime or with
 * "Invalid typed array length".
 */
export function checkComputedShape(node: Node, value: string, shape: readonly Dim[] | undefined): void {
  if (!shape) return;
  // A shape vector of 100,000 ones (ConstantOfShape, a few bytes of file) made a Reshape's output
  // that many axes: every later node copied the shape (3000 ReLUs after it filled 4 GB and ended
  // the process), and each folded element walked them all.
  if (shape.length > MAX_TENSOR_RANK) {
    throw shapeError(
      node,
      `"${value}" would have ${shape.length} axes; ConvLens handles tensors of up to ${MAX_TENSOR_RANK}.`,
      IMPOSSIBLE_RANK_HINT,
    );
  }
  shape.forEach((d, axis) => {
    if (typeof d !== 'number' || (Number.isSafeInteger(d) && d >= 0)) return;
    const what = d < 0 ? 'a negative size' : Number.isInteger(d) || !Number.isFinite(d) ? 'a size no tensor can have' : 'not a whole number';
    throw shapeError(
      node,
      `"${value}" would have size ${d} on axis ${axis}: ${what}.`,
      'The model is malformed: an attribute or constant of this node (scales, pads, starts/ends, a target shape) asks for an impossible size. Re-export it.',
    );
  });
  // Each axis can be a whole number and the tensor still too large to count: Conv pads of 1e9 on
  // a 32-pixel map, a ConvTranspose stride of 1e9. It loaded; ONNX Runtime then failed with
  // "Integer overflow" on the CLI, and the studio answered every request with a memory estimate
  // in the billions of gigabytes.
  const elements = shape.reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1);
  if (elements > Number.MAX_SAFE_INTEGER) {
    throw shapeError(
      node,
      `"${value}" would have shape [${shape.join(', ')}]: ${elements.toPrecision(2)} elements, more than any tensor can hold.`,
      'The model is malformed: an attribute or constant of this node (strides, pads, scales, a target shape) asks for an impossible size. Re-export it.',
    );
  }
}

// ---- dimension arithmetic with symbols

let symbolCounter = 0;
/** A fresh symbol for a dimension that depends on run-time sizes. */
export function freshSymbol(hint: string): string {
  return `${hint}?${++symbolCounter}`;
}

export function isStatic(shape: readonly Dim[] | undefined): shape is number[] {
  return shape !== undefined && shape.every((d) => typeof d === 'number');
}

export function broadcastShapes(node: Node, shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    let d: Dim = 1;
    // two different symbols: either may be 1, so the result is neither (a fresh symbol, unless a number settles it)
    let unknown = false;
    for (const s of shapes) {
      const e = s[s.length - rank + k];
      if (e === undefined || e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) {
        if (typeof d === 'number' && typeof e === 'number') {
          throw new MalformedNode(node, `cannot broadcast shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`);
        }
        // a symbol against a number: the number wins (the symbol must equal it or be 1)
        if (typeof e === 'number') d = e;
        else if (typeof d !== 'number') unknown = true;
      }
    }
    out.push(unknown && typeof d !== 'number' ? freshSymbol('broadcast') : d);
  }
  return out;
}

/** Normalizes a possibly negative axis against a rank. */
export function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new MalformedNode(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function dimProduct(dims: readonly Dim[]): Dim {
  let p = 1;
  const symbols: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') p *= d;
    else symbols.push(d);
  }
  if (symbols.length === 0) return p;
  // N x 1 x 1 is still N (Flatten after global pooling keeps the batch symbol).
  return symbols.length === 1 && p === 1 ? symbols[0]! : freshSymbol('prod');
}
