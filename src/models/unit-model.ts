// Explaining a hidden unit instead of a class (Captum's Neuron* attributions, and "what in this
// image makes channel 42 of fire5 fire"). Rather than teach every method a second kind of target,
// the model is cut at the layer and given a new classifier output: one score per channel, either
// the channel's mean over the positions or its value at one position. Every method, metric and
// figure then works on a unit as it does on a class, with "class" k meaning channel k.
import { ConvLensError, describeValue } from '../engine/errors.js';
import { GraphBuilder } from '../engine/graph/builder.js';
import { pruneGraph } from '../engine/graph/prune.js';
import { METADATA_KEYS } from './metadata.js';
import { Model } from './model.js';

export interface UnitSpec {
  /** a layer as `Model.resolveLayer` takes it */
  layer: string;
  /** one position [row, column] of the feature map; without it, each channel's mean over all positions */
  at?: [number, number];
}

/** The layer of a `--unit` option: "fires.5" (channel means) or "fires.5@6,7" (the units at row 6, column 7). */
export function parseUnitSpec(text: string): UnitSpec {
  const m = /^(.*?)(?:@\s*(\d+)\s*,\s*(\d+))?\s*$/.exec(text);
  const layer = m?.[1]?.trim();
  if (!m || !layer) throw new ConvLensError('INVALID_ARGUMENT', `"${text}" does not name a layer.`, 'Name a layer, e.g. "fires.5", or one position of it, "fires.5@6,7" (row, column; CLI: --unit).');
  return m[2] !== undefined ? { layer, at: [Number(m[2]), Number(m[3])] } : { layer };
}

/** The model whose outputs are the channels of `spec.layer` (their means, or their values at `spec.at`), with the original's preprocessing. */
export function unitModel(model: Model, spec: UnitSpec): Model {
  // The library's callers pass any value: a negative row sliced an empty unit that failed later
  // in a reshape, 1.5 threw a RangeError, and "1" + 1 sliced rows 1 to 11 instead of row 1.
  if (spec.at !== undefined && !(Array.isArray(spec.at) && spec.at.length === 2 && spec.at.every((v) => Number.isSafeInteger(v) && v >= 0))) {
    const shown = Array.isArray(spec.at) ? `[${spec.at.slice(0, 3).map(describeValue).join(', ')}${spec.at.length > 3 ? ', ...' : ''}]` : describeValue(spec.at);
    throw new ConvLensError('INVALID_ARGUMENT', `A unit's position is [row, column], two whole numbers from 0; got ${shown}.`, 'Give the position as [row, column] counted from 0 (CLI: --unit layer@row,col), or leave it out for each channel\'s mean.');
  }
  const value = model.resolveLayer(spec.layer);
  const label = model.layerLabel(value);
  const shape = model.facts(value).shape;
  if (value !== model.input.name && shape?.length === 4 && !model.isChannelsFirst(value)) throw channelsLastLayer(model, value, 'a unit to explain is a channel of an [N, C, H, W] feature map');
  if (value === model.input.name || !shape || shape.length !== 4) {
    const shown = shape ? `[${shape.join(', ')}]` : 'of unknown shape';
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `Layer "${label}" is ${value === model.input.name ? 'the input' : `${shown}, not a feature map [N, C, H, W]`}; a unit to explain is a channel of a convolutional layer.`,
      'Pick a conv, activation or pooling layer inside the network (`convlens summary` lists them with their shapes), or explain a class instead of a unit.',
    );
  }
  const [, channels, height, width] = shape;
  if (typeof channels !== 'number' || typeof height !== 'number' || typeof width !== 'number') {
    throw new ConvLensError('MODEL_UNSUPPORTED', `Layer "${label}" has no fixed shape ([${shape.join(', ')}]) at the model's input size.`, 'Give the model a fixed input size (its preprocessing "size"; CLI: --preprocess) and pick the layer again.');
  }
  if (spec.at) {
    const [row, col] = spec.at;
    if (!(row < height && col < width)) {
      throw new ConvLensError('INVALID_ARGUMENT', `Position ${row},${col} is outside layer "${label}", whose maps are ${height}x${width}.`, `Give a row below ${height} and a column below ${width} (from 0), e.g. ${Math.floor(height / 2)},${Math.floor(width / 2)} for the centre.`);
    }
  }

  const g = model.graph.clone();
  const b = GraphBuilder.over(g, { strict: false });
  const name = b.uniqueName(spec.at ? `${label}@${spec.at.join(',')}` : `${label}_channel_means`);
  if (spec.at) {
    const [row, col] = spec.at;
    const cell = b.op('Slice', [value, b.ints([row, col], 'at'), b.ints([row + 1, col + 1], 'at_end'), b.ints([2, 3], 'hw')]);
    b.op('Flatten', [cell], { axis: 1 }, { outputs: [name] });
  } else {
    b.op('ReduceMean', [value], { axes: [2, 3], keepdims: 0 }, { outputs: [name] });
  }
  g.outputs = [];
  b.output(name);
  pruneGraph(g);
  // "fires.5:207" is the channel's mean, "fires.5:207@6,6" its unit at row 6, column 6
  const where = spec.at ? `@${spec.at.join(',')}` : '';
  g.metadata.set(METADATA_KEYS.labels, JSON.stringify(Array.from({ length: channels }, (_, c) => `${label}:${c}${where}`)));
  g.metadata.set(METADATA_KEYS.preprocessing, JSON.stringify(model.meta.preprocessing));
  // the original's roles name layers past the cut, and its description is of its classes
  g.metadata.delete(METADATA_KEYS.profile);
  g.metadata.delete(METADATA_KEYS.description);
  const unit = new Model(g, model.engine, `${model.name} · ${label}${spec.at ? `@${spec.at.join(',')}` : ''}`, { layer: value, label, ...(spec.at ? { at: spec.at } : {}) });
  unit.meta.warnings = unit.meta.warnings.filter((w) => !w.includes('class labels'));
  if (model.meta.samples !== undefined) unit.meta.samples = model.meta.samples;
  return unit;
}

/** Cut models per original and unit, so repeated requests reuse one model and its sessions. */
const cuts = new WeakMap<Model, Map<string, Model>>();
const CUTS_PER_MODEL = 4;

/**
 * `unitModel`, kept per original model (a long-lived server or page asks for the same unit again
 * and again: each new cut would build its sessions anew). The least recently used cut leaves first;
 * all of them go with the original.
 */
export function cachedUnitModel(model: Model, spec: UnitSpec): Model {
  let byUnit = cuts.get(model);
  if (!byUnit) cuts.set(model, (byUnit = new Map()));
  const key = JSON.stringify([spec.layer, spec.at ?? null]);
  const hit = byUnit.get(key);
  if (hit) {
    byUnit.delete(key);
    byUnit.set(key, hit);
    return hit;
  }
  const cut = unitModel(model, spec);
  byUnit.set(key, cut);
  while (byUnit.size > CUTS_PER_MODEL) byUnit.delete(byUnit.keys().next().value as string);
  return cut;
}

/**
 * The refusal for a layer inside a channels-last block ([N, H, W, C] between the model's
 * permutes): it is a feature map, only its channel axis is last, so the way out is the layer
 * after the block permutes back.
 */
export function channelsLastLayer(model: Model, value: string, needs: string): ConvLensError {
  const shape = model.facts(value).shape ?? [];
  const after = model.channelsFirstAfter(value);
  return new ConvLensError(
    'INVALID_ARGUMENT',
    `Layer "${model.layerLabel(value)}" is ${model.notChannelsFirst(value)}, shape [${shape.join(', ')}]); ${needs}.`,
    after.length ? `Pick the layer after the block permutes back to [N, C, H, W], e.g. ${after.join(', ')} (\`convlens summary\` lists the layers with their shapes).` : 'Pick a layer whose shape `convlens summary` shows as [N, C, H, W].',
  );
}
