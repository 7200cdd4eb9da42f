// Which class an attribution explains (the target) and which number stands for it (the score).
import { ConvLensError, describeValue, unknownNameError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { areNumberedLabels, outputNoun } from '../../models/metadata.js';
import type { Model } from '../../models/model.js';
import { outputProbabilities, type OutputKind } from '../../models/output-kind.js';

/**
 * The class to explain: 'predicted' (default: each image's top class), a class index, a label
 * (exact, case-insensitive, or ignoring punctuation: "ankle-boot" finds "Ankle boot"), or one
 * of those per image.
 */
export type TargetSpec = 'predicted' | number | string | readonly (number | string)[];

/**
 * What is differentiated / measured: the pre-softmax logit of the target (default, as in
 * Captum's and pytorch-grad-cam's usual setup with a logits model), or its softmax probability.
 */
export type ScoreKind = 'logit' | 'prob';

export const SCORE_KINDS: readonly ScoreKind[] = ['logit', 'prob'];

/**
 * What deletion/insertion and ROAD curves follow unless told: the target's probability, as RISE
 * and ROAD do; a hidden unit's own value, since a softmax over a layer's channels means nothing
 * (their curves were all ~0: a unit's "probability" against hundreds of channels).
 */
export function defaultCurveScore(model: Model): ScoreKind {
  return model.unit || model.outputKind === 'regression' ? 'logit' : 'prob';
}

/**
 * What a score is called in summaries: a regression's "logit" is the output's value itself (it
 * has no softmax before which it could be a logit).
 */
export function scoreName(model: Model, score: ScoreKind): ScoreKind | 'value' {
  return model.outputKind === 'regression' && score === 'logit' ? 'value' : score;
}

export function checkScore(score: string, model?: Model): ScoreKind {
  const kind = score === 'probability' ? 'prob' : score;
  if (kind !== 'logit' && kind !== 'prob') throw new ConvLensError('INVALID_ARGUMENT', `Unknown score "${score}".`, 'Use "logit" (pre-softmax score, the default) or "prob" (softmax probability).');
  if (kind === 'prob' && model?.unit) {
    throw new ConvLensError('INVALID_ARGUMENT', `A softmax probability means nothing over the channels of layer "${model.unit.label}": a unit is explained by its own value.`, 'Leave the score at logit (the default) when explaining a unit.');
  }
  if (kind === 'prob' && model?.outputKind === 'regression') {
    throw new ConvLensError('INVALID_ARGUMENT', `Model "${model.name}" is a regression: its outputs are values, with no probability to explain.`, 'Leave the score at logit (the default), which explains the output\'s value.');
  }
  return kind;
}

const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/**
 * The class a label names: the exact label, else the one label equal ignoring case, else the
 * one equal ignoring punctuation ("ankle-boot" finds "Ankle boot"); -1 when none. A looser
 * match that fits several labels is refused: ImageNet has "Cardigan" (the corgi, 264) and
 * "cardigan" (the sweater, 474), and "CARDIGAN" silently explained the dog.
 */
export function labelIndex(labels: readonly string[], spec: string): number {
  const k = labels.indexOf(spec);
  if (k >= 0) return k;
  // the spec's forms once, not per label: a 100 000-character target lowercased for each of 1000 labels took 0.2 s
  const lower = spec.toLowerCase();
  const squashed = squash(spec);
  for (const same of [(l: string) => l.toLowerCase() === lower, (l: string) => squashed !== '' && squash(l) === squashed]) {
    const hits = labels.flatMap((l, i) => (same(l) ? [i] : []));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) {
      throw new ConvLensError('INVALID_ARGUMENT', `"${spec}" matches ${hits.length} class labels: ${hits.map((i) => `"${labels[i]}" (${i})`).join(', ')}.`, `Give the label exactly as written or the class index (${hits.join(' or ')}).`);
    }
  }
  return -1;
}

/** One target (index or label) as a class index, with errors that say what the model has. */
export function classIndex(model: Model, spec: number | string, classes: number): number {
  if (typeof spec !== 'number' && typeof spec !== 'string') {
    throw new ConvLensError('INVALID_ARGUMENT', `A target is a class index or a label, got ${describeValue(spec)}.`, 'Pass a class index (0-' + (classes - 1) + '), a label, "predicted", or one of those per image.');
  }
  if (typeof spec === 'number' || /^\s*-?\d+\s*$/.test(spec)) {
    const k = Number(spec);
    if (!Number.isInteger(k) || k < 0 || k >= classes) {
      // a unit's "classes" are channels: say so, or the message asks for a class the layer has no notion of
      if (model.unit) throw new ConvLensError('INVALID_ARGUMENT', `Channel ${spec} is out of range: layer "${model.unit.label}" has ${classes} channels (0-${classes - 1}).`, `Pass a channel index in range, or leave the target out for the most active channel.`);
      // a regression's outputs are values, no classes
      const noun = outputNoun(model.outputKind);
      throw new ConvLensError('INVALID_ARGUMENT', `Target ${noun} ${spec} is out of range: model "${model.name}" has ${classes} ${noun === 'class' ? 'classes' : 'outputs'} (0-${classes - 1}).`, `Pass ${noun === 'class' ? 'a class' : 'an output'} index in range or a label (\`convlens predict\` shows the labels).`);
    }
    return k;
  }
  const labels = model.labels.slice(0, classes);
  const k = labelIndex(labels, spec);
  if (k >= 0) return k;
  throw areNumberedLabels(labels) ? model.unknownClassError(spec) : unknownNameError(`${outputNoun(model.outputKind)} label`, spec, labels);
}

/** A target entry that stands for the row's top class, to be picked from its logits. */
export const PREDICTED = -1;

/**
 * The targets that need no logits: class indices for targets given by index or label, PREDICTED
 * where the spec asks for each image's top class.
 */
export function presetTargets(model: Model, spec: TargetSpec | undefined, n: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  if (Array.isArray(spec) && spec.length !== n) {
    throw new ConvLensError('INVALID_ARGUMENT', `${spec.length} targets given for ${n} images.`, 'Give one target for all images or exactly one per image.');
  }
  for (let i = 0; i < n; i++) {
    const s: number | string | undefined = Array.isArray(spec) ? (spec as (number | string)[])[i] : (spec as number | string | undefined);
    out[i] = s === undefined || s === 'predicted' ? PREDICTED : classIndex(model, s, classes);
  }
  return out;
}

/** Resolves the target of each image of a batch from its logits [N, K]. */
export function resolveTargets(model: Model, spec: TargetSpec | undefined, logits: Tensor): Int32Array {
  const n = logits.dims[0]!;
  const classes = logits.dims[logits.dims.length - 1]!;
  const data = logits.data as Float32Array;
  const out = presetTargets(model, spec, n, classes);
  for (let i = 0; i < n; i++) {
    if (out[i] !== PREDICTED) continue;
    let best = 0;
    for (let k = 1; k < classes; k++) if (data[i * classes + k]! > data[i * classes + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/**
 * The score of each row's target: logit, or probability (the softmax's, or under a multi-label
 * head the target's own sigmoid; `kind` is the model's outputKind).
 */
export function targetScores(logits: Tensor, targets: Int32Array, score: ScoreKind, kind: OutputKind = 'single-label'): Float64Array {
  const n = logits.dims[0]!;
  const classes = logits.dims[logits.dims.length - 1]!;
  const data = logits.data as Float32Array;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i % targets.length]!;
    const row = data.subarray(i * classes, (i + 1) * classes);
    out[i] = score === 'logit' ? row[t]! : outputProbabilities(kind, row)?.[t] ?? row[t]!;
  }
  return out;
}
