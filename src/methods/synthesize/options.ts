// Checks of the numeric options the synthesis entry points take from library callers: the CLI
// and the studio range-check their flags, but a script reaches dream(), invert() and attack()
// directly, where a 0 or a NaN used to end in a TypeError or a non-finite image.
import { ConvLensError } from '../../engine/errors.js';

/** `value` when it is an integer of at least `min`; `flag` names the CLI option that sets it. */
export function wholeNumberOption(value: number, what: string, flag: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} must be an integer of at least ${min}, got ${value}.`, `Use ${min} or more (CLI: ${flag}).`);
  return value;
}

/** `value` when it is finite and above `min` (or at least `min` when `inclusive`). */
export function finiteOption(value: number, what: string, flag: string, min = 0, inclusive = false): number {
  const ok = Number.isFinite(value) && (inclusive ? value >= min : value > min);
  if (!ok) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} must be a finite number ${inclusive ? 'of at least' : 'above'} ${min}, got ${value}.`, `Use a number ${inclusive ? 'of at least' : 'above'} ${min} (CLI: ${flag}).`);
  return value;
}

/**
 * The longest image side a synthesis takes from a library caller: twice the CLI's --size limit,
 * and far below where one image's activations outgrow a typed array (100000 px threw RangeError).
 */
export const MAX_SYNTHESIS_SIDE = 4096;

/** An image size [H, W] with whole sides from 8 (below that the model's pooling leaves nothing) to MAX_SYNTHESIS_SIDE. */
export function imageSizeOption(size: readonly number[]): [number, number] {
  if (!Array.isArray(size) || size.length !== 2 || size.some((d) => !Number.isInteger(d) || d < 8 || d > MAX_SYNTHESIS_SIDE)) {
    throw new ConvLensError('INVALID_ARGUMENT', `The image size must be [height, width] with whole sides from 8 to ${MAX_SYNTHESIS_SIDE}, got ${Array.isArray(size) ? `[${size.join(', ')}]` : String(size)}.`, 'Use e.g. size: [224, 224], or leave it out for the model\'s input size (CLI: --size).');
  }
  return [size[0]!, size[1]!];
}
