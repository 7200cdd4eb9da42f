// Checks of the numeric options the synthesis entry points take from library callers: the CLI
// and the studio range-check their flags, but a script reaches dream(), invert() and attack()
// directly, where a 0 or a NaN used to end in a TypeError or a non-finite image.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';

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

/**
 * Images a synthesis starts from: [N, C, H, W] float32 in image space, [0, 1]. A NaN image was
 * attacked into NaNs and reported as "not fooled"; 0-255 pixels were clipped to white.
 */
export function imagesOption(images: Tensor, what: string): Tensor {
  const d = images?.dims;
  if (!images || images.dtype !== 'float32' || !Array.isArray(d) || d.length !== 4 || !(d[1] === 1 || d[1] === 3) || d.some((n) => !(n >= 1))) {
    throw new ConvLensError('INVALID_ARGUMENT', `The ${what} must be a float32 tensor [N, C, H, W] with 1 or 3 channels, got ${images?.dtype ?? typeof images} [${Array.isArray(d) ? d.join(', ') : '?'}].`, 'Pass images as the CLI reads them (readModelImage in convlens/node gives [1, C, H, W] in [0, 1]).');
  }
  const data = images.data as Float32Array;
  let bad = 0;
  let outside = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) bad++;
    else if (v < 0 || v > 1) outside++;
  }
  if (bad) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} have ${bad} NaN or infinite value${bad === 1 ? '' : 's'}.`, 'Pass finite pixel values in [0, 1].');
  if (outside) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} have ${outside} value${outside === 1 ? '' : 's'} outside [0, 1]; synthesis works in image space, before the model's preprocessing.`, 'Scale pixels to [0, 1] (divide 0-255 values by 255); the model\'s mean/std normalization is applied inside.');
  return images;
}
