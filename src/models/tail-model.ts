// The network after a layer, as a model of its own whose input is the layer's activations: layer
// attributions that change the activations themselves (Integrated Gradients along a path between
// two activations, as Captum's LayerIntegratedGradients; a channel set to zero) then run only the
// tail, and every gradient and scoring helper works on it as on any model.
import { ConvLensError } from '../engine/errors.js';
import { pruneGraph } from '../engine/graph/prune.js';
import { METADATA_KEYS } from './metadata.js';
import { Model } from './model.js';

/**
 * Whether every path from the input to the output passes through `value`: only then is the
 * output a function of that value alone, and a tail cut there computes the whole model.
 */
export function cutsEveryPath(model: Model, value: string): boolean {
  const producers = model.graph.producers();
  const seen = new Set<string>();
  const stack = [model.output];
  while (stack.length) {
    const v = stack.pop()!;
    if (v === value || seen.has(v)) continue;
    seen.add(v);
    if (v === model.input.name) return false;
    const p = producers.get(v);
    if (p) for (const i of p.inputs) if (i) stack.push(i);
  }
  return true;
}

/** The model from `value` (a [N, C, h, w] activation) to the original output, with the original's labels. */
export function tailModel(model: Model, value: string): Model {
  const label = model.layerLabel(value);
  const shape = model.facts(value).shape;
  if (value === model.input.name || !shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) {
    throw new ConvLensError('INVALID_ARGUMENT', `Layer "${label}" has shape [${shape?.join(', ') ?? '?'}]; the network can be cut only at a feature map [N, C, H, W] of fixed size.`, 'Pick a conv, activation or pooling layer inside the network (`convlens summary` lists them with their shapes).');
  }
  if (!cutsEveryPath(model, value)) {
    // A branch around the layer (a residual shortcut, the other half of a concat) would need the
    // image too, and a model has one input: name layers that do cut the network in two.
    const cuts = model
      .pickableValues()
      .filter((p) => p.shape.length === 4 && p.name !== model.input.name && model.isChannelsFirst(p.name) && cutsEveryPath(model, p.name))
      .map((p) => model.layerLabel(p.name))
      .slice(-6);
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `The output of model "${model.name}" does not depend on the image through layer "${label}" alone: another branch bypasses it (a shortcut or a parallel path), so its activations cannot be replaced on their own.`,
      `Pick a layer every path passes through (a block's output)${cuts.length ? `, e.g. ${cuts.join(', ')}` : ''}; gradient-x-activation and deeplift work at any layer.`,
    );
  }
  const g = model.graph.clone();
  const [, c, h, w] = shape as [unknown, number, number, number];
  g.inputs = [{ name: value, dtype: 'float32', shape: [model.input.shape![0]!, c, h, w] }];
  g.nodes = g.nodes.filter((n) => !n.outputs.includes(value));
  g.outputs = g.outputs.filter((o) => o.name === model.output);
  pruneGraph(g);
  g.valueInfo.delete(value);
  // the original's preprocessing and roles describe an image and layers before the cut
  g.metadata.delete(METADATA_KEYS.preprocessing);
  g.metadata.delete(METADATA_KEYS.profile);
  g.metadata.set(METADATA_KEYS.labels, JSON.stringify(model.labels));
  const tail = new Model(g, model.engine, `${model.name} after ${label}`, undefined, { inputLayout: 'channels-first' });
  const got = tail.input.shape!;
  if (tail.input.name !== value || got[1] !== c || got[2] !== h || got[3] !== w) {
    // the cut must hand the tail the layer as it is (no layout guess, no transpose)
    throw new ConvLensError('MODEL_UNSUPPORTED', `Layer "${label}" ([N, ${c}, ${h}, ${w}]) looks like a channels-last image, so the network cannot be cut there.`, 'Pick another layer.');
  }
  return tail;
}

const tails = new WeakMap<Model, Map<string, Model>>();

/** `tailModel`, one per original and layer, so repeated requests reuse its compiled sessions. */
export function cachedTailModel(model: Model, value: string): Model {
  let byLayer = tails.get(model);
  if (!byLayer) tails.set(model, (byLayer = new Map()));
  let tail = byLayer.get(value);
  if (!tail) byLayer.set(value, (tail = tailModel(model, value)));
  return tail;
}
