// How much memory an engine run takes per sample, from the graph's static shapes. Used to plan
// batches to a memory budget (the studio's jobs) instead of by a fixed count: a batch of 16 is
// 3 MB on the 28x28 course CNN and over a gigabyte of activations and gradients on a 224 px
// ImageNet model.
import { BYTES_PER_ELEMENT, isFloatDType, type DType } from '../../engine/tensor.js';
import { inputFreeValues } from '../../engine/graph/constant-values.js';
import type { Model } from '../../models/model.js';

/**
 * Bytes per forward value for each kind of run. Forward runs: ONNX Runtime reuses buffers, so
 * the sum of all values (4 bytes each) bounds them from above. Gradient runs keep every forward
 * value for the backward pass and add a gradient and temporaries beside it: measured at 7.4 bytes
 * per forward value on SqueezeNet 1.1 at 224 px (batches of 4 and 16); 12 leaves room.
 */
export const BYTES_PER_VALUE = { forward: 4, gradient: 12 } as const;

export type RunKind = keyof typeof BYTES_PER_VALUE;

/**
 * Float values one sample makes the model compute (every node output, batch dim excluded), at
 * the model's input size or at `size` [H, W]. Spatial dims the graph leaves open count at the
 * full requested size (an upper bound for layers that downsample).
 */
export function valuesPerSample(model: Model, size?: readonly [number, number]): number {
  let total = 0;
  for (const n of valueSizes(model, size).values()) total += n;
  return Math.ceil(total);
}

/** Floats per sample of every float node output a forward run computes (see valuesPerSample). */
function valueSizes(model: Model, size?: readonly [number, number]): Map<string, number> {
  const b = model.builder();
  const [, , h0, w0] = model.input.shape ?? [];
  const fixed = typeof h0 === 'number' && typeof w0 === 'number';
  const [h, w] = size ?? (fixed ? [h0, w0] : [224, 224]);
  const scale = fixed ? (h * w) / (h0 * w0) : 1;
  const sizes = new Map<string, number>();
  const constant = inputFreeValues(model.graph);
  for (const node of model.graph.nodes) {
    for (const out of node.outputs) {
      if (!out || constant.has(out)) continue;
      let facts;
      try {
        facts = b.factsOf(out);
      } catch {
        continue; // values shape inference cannot reach hold no large tensors in supported models
      }
      if (!facts.shape || facts.value || !isFloatDType(facts.dtype)) continue;
      sizes.set(out, scale * facts.shape.slice(1).reduce<number>((a, d, i) => a * (typeof d === 'number' ? d : i === 1 ? h : i === 2 ? w : 1), 1));
    }
  }
  return sizes;
}

/** A value computed from constants alone that the model leaves to ONNX Runtime, with its size. */
export interface ComputedConstant {
  name: string;
  op: string;
  dims: number[];
  dtype: DType;
  bytes: number;
}

/**
 * The values a model computes from its constants alone and ConvLens did not fold (too costly to
 * fold while loading, or of an op without a reference kernel), largest first. ONNX Runtime
 * computes them when it compiles a session (its constant folding) or in every run, and keeps
 * them as long as the session, whatever the batch: they cost like weights, not per sample. A
 * 1000-node ConstantOfShape upload computes 4 GB of them; counted per sample, without their
 * first axis, they were a few values, and a prediction grew its worker until it was killed.
 */
export function computedConstants(model: Model): ComputedConstant[] {
  const b = model.builder();
  const free = inputFreeValues(model.graph);
  const found: ComputedConstant[] = [];
  for (const node of model.graph.nodes) {
    // an Identity of a weight (exporters write one per shared parameter) is that weight, counted already
    if (node.op === 'Identity') continue;
    for (const out of node.outputs) {
      if (!out || !free.has(out)) continue;
      let facts;
      try {
        facts = b.factsOf(out);
      } catch {
        continue;
      }
      if (facts.value || !facts.shape || !facts.shape.every((d): d is number => typeof d === 'number')) continue;
      const dims = facts.shape;
      found.push({ name: out, op: node.op, dims, dtype: facts.dtype, bytes: dims.reduce((a, d) => a * d, 1) * BYTES_PER_ELEMENT[facts.dtype] });
    }
  }
  return found.sort((x, y) => y.bytes - x.bytes);
}

/** Says what `found` (computedConstants' list, not empty) holds: "1.2 GB of values ... (the largest: ...)". */
export function computedConstantsText(modelName: string, found: readonly ComputedConstant[]): string {
  const total = found.reduce((sum, c) => sum + c.bytes, 0);
  const size = total >= 2 ** 30 ? `${(total / 2 ** 30).toFixed(1)} GB` : `${Math.round(total / 2 ** 20)} MB`;
  const largest = found[0]!;
  const more = found.length > 1 ? ` and ${found.length - 1} more` : '';
  return `"${modelName}" computes ${size} of values from its constants alone, which no input changes (the largest: "${largest.name}", ${largest.op}, [${largest.dims.join(', ')}] ${largest.dtype}${more})`;
}

/**
 * Float values per sample alive at once at the peak of a forward run that returns only `fetched`
 * (and the graph outputs): a value lives from its node to its last consumer, fetched ones to the
 * end, in the graph's node order (ONNX Runtime reuses the buffers of dead values). The sum of all
 * values, which bounds a run that fetches everything, refused a prediction on ResNet-50 (101 MB
 * of values against a peak of a few MB) in the studio's interactive worker.
 */
export function peakValuesPerSample(model: Model, fetched: readonly string[] = [], size?: readonly [number, number]): number {
  return peakOf(model, valueSizes(model, size), fetched);
}

function peakOf(model: Model, sizes: ReadonlyMap<string, number>, fetched: readonly string[]): number {
  const nodes = model.graph.nodes;
  const kept = new Set([...fetched, ...model.graph.outputs.map((o) => o.name)]);
  const lastUse = new Map<string, number>();
  nodes.forEach((node, k) => {
    for (const i of node.inputs) if (i) lastUse.set(i, k);
  });
  let live = 0;
  let peak = 0;
  const dying: number[][] = nodes.map(() => []);
  nodes.forEach((node, k) => {
    for (const out of node.outputs) {
      const n = out ? sizes.get(out) : undefined;
      if (!out || n === undefined) continue;
      live += n;
      if (!kept.has(out)) dying[Math.max(k, lastUse.get(out) ?? k)]!.push(n);
    }
    peak = Math.max(peak, live);
    for (const n of dying[k]!) live -= n;
  });
  return Math.ceil(peak);
}

/** Bytes one sample takes in a run of `kind` (see BYTES_PER_VALUE). */
export function bytesPerSample(model: Model, kind: RunKind, size?: readonly [number, number]): number {
  return valuesPerSample(model, size) * BYTES_PER_VALUE[kind];
}

/**
 * Bytes one sample takes in a forward run that returns only `fetched` and the outputs: the peak
 * of live values, twice over for ONNX Runtime's arena (its freed blocks are reused by size, not
 * merged), and never more than the sum of all values.
 */
export function fetchingBytesPerSample(model: Model, fetched: readonly string[], size?: readonly [number, number]): number {
  const sizes = valueSizes(model, size);
  let all = 0;
  for (const n of sizes.values()) all += n;
  return Math.min(2 * peakOf(model, sizes, fetched), Math.ceil(all)) * BYTES_PER_VALUE.forward;
}

/** Samples per run that fit `budget` bytes, at most `max`; 0 when not even one fits. */
export function samplesWithin(budget: number, perSample: number, max: number): number {
  return Math.max(0, Math.min(max, Math.floor(budget / Math.max(1, perSample))));
}
