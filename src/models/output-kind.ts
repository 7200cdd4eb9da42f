// What a model's output scores mean. Every output was read as a single-label classifier's logits,
// whose probabilities are their softmax: a multi-label head (CelebA's 40 attributes, each a
// Sigmoid of its own logit) printed "top-5 classes" at ~2.6% each, a softmax over 40 independent
// probabilities that summed to 100%, and explained each attribute's Sigmoid output as its
// "logit"; a regression head (an age estimator's [N, 1]) became a binary classifier's two
// classes. The kind is read from the graph where it shows (a Sigmoid over several outputs is a
// multi-label head), and a model's file may declare it (metadata `convlens.output`), which wins:
// raw logits trained with BCE, or a regression, look like any classifier's logits in a graph.
import type { GraphBuilder } from '../engine/graph/builder.js';
import type { Graph } from '../engine/graph/ir.js';
import { abbreviateName } from '../util/names.js';
import { finalActivation } from './final-activation.js';
import { METADATA_KEYS } from './metadata.js';

/**
 * single-label: one class per image, probabilities are the softmax of the scores (the default);
 * multi-label: independent yes/no outputs, each one's probability the sigmoid of its own logit;
 * regression: the outputs are values, with no probability.
 */
export type OutputKind = 'single-label' | 'multi-label' | 'regression';

export const OUTPUT_KINDS: readonly OutputKind[] = ['single-label', 'multi-label', 'regression'];

/** The metadata key a model's file declares its output kind in (a plain string, one of OUTPUT_KINDS). */
export const OUTPUT_KIND_KEY = METADATA_KEYS.output;

const SIGMOID: ReadonlySet<string> = new Set(['Sigmoid']);

export interface OutputReading {
  kind: OutputKind;
  /** the value whose rows are explained and ranked: a multi-label head's logits before its Sigmoid */
  scores: string;
  /** what was decided, for a load note; undefined for a single-label classifier read as always */
  note?: string;
}

/**
 * How to read the graph's first output, `scores` (the value before a final Softmax, if any):
 * the file's declared kind when it gives one, else multi-label when the output is a Sigmoid of
 * several scores, else single-label. A multi-label head's Sigmoid is looked through, as a
 * Softmax is, so its logits are explained; its probability is their sigmoid.
 */
export function readOutput(graph: Graph, b: GraphBuilder, scores: string, declared: OutputKind | undefined): OutputReading {
  const output = abbreviateName(graph.outputs[0]!.name);
  const shape = b.has(scores) ? b.factsOf(scores).shape : undefined;
  const count = shape?.length === 2 && typeof shape[1] === 'number' ? shape[1] : undefined;
  const sigmoid = finalActivation(graph, scores, SIGMOID);
  const before = sigmoid?.inputs[0];
  const beforeShape = before && b.has(before) ? b.factsOf(before).shape : undefined;
  // an elementwise Sigmoid of [N, K] logits (maybe reshaped on the way): its input holds them
  const logits = before && beforeShape?.length === 2 && beforeShape[1] === count ? before : undefined;
  if (declared === undefined) {
    if (!sigmoid || count === undefined || count < 2) return { kind: 'single-label', scores };
    return {
      kind: 'multi-label',
      scores: logits ?? scores,
      note: `the model's output "${output}" is a Sigmoid of ${count} scores, a multi-label head's (independent yes/no outputs): ConvLens ${logits ? `explains each output's logit, before the Sigmoid, and ` : ''}gives each output its own probability, the sigmoid${logits ? ' of its logit' : ''}, not a softmax over the outputs; predictions list the outputs by probability, which need not sum to 100%`,
    };
  }
  if (declared === 'multi-label') {
    return {
      kind: declared,
      scores: logits ?? scores,
      note: logits
        ? `the model is declared a multi-label head: ConvLens explains each output's logit, before the Sigmoid of "${output}", and gives each output its own probability, the sigmoid of its logit`
        : `the model is declared a multi-label head: ConvLens reads "${output}" as ${count ?? 'its'} logits and gives each output its own probability, their sigmoid (not a softmax over the outputs)`,
    };
  }
  if (declared === 'regression') return { kind: declared, scores, note: `the model is declared a regression: ConvLens explains and shows "${output}"'s values as they are, with no class probabilities (explain by the output's value, the logit score)` };
  return { kind: declared, scores };
}

/** The output kind a graph's metadata declares, if any; a value that names none is a warning, and ignored. */
export function declaredOutputKind(graph: Graph): { kind?: OutputKind; warning?: string } {
  const raw = graph.metadata.get(OUTPUT_KIND_KEY);
  if (raw === undefined) return {};
  const kind = OUTPUT_KINDS.find((k) => k === raw.trim());
  return kind ? { kind } : { warning: `metadata ${OUTPUT_KIND_KEY} is not one of ${OUTPUT_KINDS.join(', ')}; ignored` };
}

/** Each output's probability under the kind: a softmax over the row, each one's sigmoid, or none for a regression. */
export function outputProbabilities(kind: OutputKind, row: ArrayLike<number>): Float64Array | undefined {
  if (kind === 'regression') return undefined;
  if (kind === 'multi-label') return Float64Array.from({ length: row.length }, (_, i) => sigmoid(row[i]!));
  return softmaxRow(row);
}

/** Softmax of one row of scores, computed stably. */
export function softmaxRow(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
