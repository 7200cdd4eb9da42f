// Checks shared by the metrics that score a batch's targets: a target out of range reads past a
// row of logits and turns every curve into NaN, without this check saying which one was wrong.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { classCount } from '../explain/session.js';

/** Throws unless `x` is a batch the model takes and `targets` holds one class index per image. */
export function checkScoredBatch(model: Model, x: Tensor, targets: ArrayLike<number>): void {
  model.checkInput(x, { anyCount: true });
  const n = x.dims[0]!;
  if (targets.length !== n) {
    throw new ConvLensError('INVALID_ARGUMENT', `${targets.length} targets given for ${n} images.`, `Pass ${n} class indices, one per image (explain() returns them as \`targets\`).`);
  }
  const classes = classCount(model);
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= classes) {
      throw new ConvLensError('INVALID_ARGUMENT', `Target ${t} of image ${i} is out of range: model "${model.name}" has ${classes} classes (0-${classes - 1}).`, 'Pass class indices in range (explain() returns them as `targets`).');
    }
  }
}
