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
