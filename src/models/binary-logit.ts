// Binary classifiers with one logit. A "yes/no" model (pneumonia or not, a defect or not) usually
// ends in ONE logit l [N, 1], often followed by a Sigmoid; a binary segmentation net's 1-channel
// map reaches here as its mean over the pixels (class-map.ts). Read as a softmax over one class,
// the "probability" was always 1 (its gradient 0: every probability map flat), the predicted
// class always 0, there was no other class to explain, and a trailing Sigmoid was explained
// instead of the logit before it. As pytorch-grad-cam's BinaryClassifierOutputTarget (category 1
// scores l, category 0 scores -l), the logit becomes two classes: [-l/2, l/2]. Their softmax is
// [1 - sigmoid(l), sigmoid(l)] exactly (the model's own probability when it ended in a Sigmoid),
// class 1 is predicted where l > 0, and every method, metric and the studio work unchanged. The
// price of the symmetry: a class's logit is half of +-l, so logit attributions are exactly half
// of those of +-l (same maps, colours and signs; [0, l] would keep class 1's exact but leave class
// 0 a constant score with flat maps). Probability attributions are exactly those of sigmoid(+-l).
import { GraphBuilder } from '../engine/graph/builder.js';
import type { Graph } from '../engine/graph/ir.js';
import { finalActivation, isSoftmaxOverOne, softmaxOverOneNote } from './final-activation.js';
import { abbreviateName } from '../util/names.js';
import { METADATA_KEYS } from './metadata.js';

/** What loading made of one logit l, for the load notes. */
export const TWO_CLASSES_NOTE =
  'ConvLens gives it two classes, class 1 scored by l and class 0 by -l, as the logits [-l/2, l/2] whose softmax is [1 - sigmoid(l), sigmoid(l)] ' +
  '(class 1 is predicted where l > 0, with probability sigmoid(l); logit scores and their attributions are half of +-l\'s)';

const ACTIVATIONS_OF_ONE: ReadonlySet<string> = new Set(['Sigmoid', 'Softmax', 'LogSoftmax']);

export interface TwoClasses {
  graph: Graph;
  /** set when the first output was one logit: what was done, for a load note */
  note?: string;
}

/**
 * The graph with a first output of one logit per image ([N, 1], or [N]) made two classes
 * [-l/2, l/2], after a Softmax when the output was the logit's Sigmoid (so the output is still
 * the model's probability, and the logits before it are what is explained). Any other graph is
 * returned as it is.
 */
export function withTwoClassLogit(graph: Graph, input: string): TwoClasses {
  const output = graph.outputs[0];
  const declared = output?.shape;
  if (!output || (declared && !(declared.length <= 2 && declared.slice(1).every((d) => d === 1)))) return { graph };
  const g = graph.clone();
  const b = GraphBuilder.over(g, { strict: false });
  const shape = b.has(output.name) ? b.factsOf(output.name).shape : undefined;
  const batch = b.has(input) ? b.factsOf(input).shape?.[0] : undefined;
  const single = (s: readonly unknown[] | undefined): boolean => !!s && s.length >= 1 && s.length <= 2 && s[0] === batch && s.slice(1).every((d) => d === 1);
  if (!single(shape) || batch === undefined) return { graph };

  const found = finalActivation(g, output.name, ACTIVATIONS_OF_ONE);
  // a Softmax over one value is 1 whatever the logit: read the logit before it, as under a Sigmoid
  const constant = !!found && isSoftmaxOverOne(found, b);
  const sigmoid = found && (found.op === 'Sigmoid' || constant) ? found : undefined;
  // the Sigmoid is elementwise: the value before it holds the same one logit, in some shape
  const before = sigmoid?.inputs[0];
  const beforeShape = before && b.has(before) ? b.factsOf(before).shape : undefined;
  const lookThrough = !!before && !!beforeShape && beforeShape[0] === batch && beforeShape.slice(1).every((d) => d === 1);
  const logit = lookThrough ? before! : output.name;
  // [N, 1, 1, 1] or [N] to [N, 1], keeping the batch's symbol
  const column = b.factsOf(logit).shape?.length === 2 ? logit : b.op('Flatten', [logit], { axis: 1 }, { name: b.uniqueName('binary_logit_column') });
  const halves = b.constant({ dtype: 'float32', dims: [1, 2], data: Float32Array.of(-0.5, 0.5) }, 'binary_halves');
  const name = b.uniqueName(`${output.name}_two_classes`);
  if (lookThrough) {
    const two = b.op('Mul', [column, halves], {}, { name: b.uniqueName('two_classes'), outputs: [b.uniqueName(`${logit}_two_classes`)] });
    b.op('Softmax', [two], { axis: -1 }, { name: b.uniqueName('two_classes_softmax'), outputs: [name] });
  } else {
    b.op('Mul', [column, halves], {}, { name: b.uniqueName('two_classes'), outputs: [name] });
  }
  const rest = g.outputs.slice(1);
  g.outputs = [];
  b.output(name);
  g.outputs.push(...rest);
  if (constant && lookThrough) return { graph: g, note: `${softmaxOverOneNote(sigmoid!, abbreviateName(output.name), `the value before it ("${abbreviateName(logit)}") as the logit l of a binary classifier`)}: ${TWO_CLASSES_NOTE}` };
  const what = lookThrough ? `the sigmoid of one logit l ("${abbreviateName(output.name)}")` : `one logit l ("${abbreviateName(output.name)}")`;
  // a raw single output looks the same whether it is a logit or a regression's value (an age)
  const regression = lookThrough ? '' : ` (if it is a regression's value instead, an age say, declare the model a regression in its metadata, ${METADATA_KEYS.output} = regression; CLI: --output-kind regression, or convlens describe --output-kind regression to write it)`;
  return { graph: g, note: `the model's output is ${what}, a binary classifier's: ${TWO_CLASSES_NOTE}${regression}` };
}

/**
 * A binary classifier's class names: a single name (what the one logit detects, "pneumonia")
 * names class 1, and class 0 is its negation; two names are class 0's and class 1's.
 */
export function binaryLabels(labels: readonly string[]): string[] {
  return labels.length === 1 ? [`not ${labels[0]}`, labels[0]!] : [...labels];
}
