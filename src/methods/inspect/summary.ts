import { GraphBuilder } from '../../engine/graph/builder.js';
import { attrInt, attrInts, type Dim, type Node } from '../../engine/graph/ir.js';
import { isFloatDType, sizeOf } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { countedParameters, parameterValues } from '../../models/parameters.js';
import { receptiveFields, type ReceptiveField } from './receptive-field.js';

/** One row of the model summary: a layer as a user thinks of it (a conv with its activation, say). */
export interface LayerRow {
  /** node name of the layer's main op */
  name: string;
  /** display type, e.g. "Conv+Relu" */
  type: string;
  /** value name of the layer's output (after a fused activation) */
  output: string;
  /** output shape including the batch dim */
  shape: Dim[];
  params: number;
  /** floating-point operations per sample (a multiply-add counts 2) */
  flops: number;
  receptiveField: ReceptiveField | undefined;
  nodes: string[];
  /** the number `--layer '#k'` takes for the row's output */
  number?: number;
}

export interface ModelSummary {
  name: string;
  /** `inferredAt`: the [H, W] the rows' shapes, FLOPs and receptive fields are for, when the model takes any size */
  input: { name: string; shape: Dim[]; inferredAt?: [number, number] };
  rows: LayerRow[];
  totalParams: number;
  trainableParams: number;
  totalFlops: number;
}

const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign']);
const FUSES_ACTIVATION = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'BatchNormalization', 'InstanceNormalization', 'Add']);
const RESHAPES = new Set(['Flatten', 'Reshape', 'Squeeze']);
// QuantizeLinear/DequantizeLinear round a layer's output for the next one (QDQ models): no layer of their own.
const HIDDEN = new Set(['Constant', 'Identity', 'Dropout', 'Shape', 'Gather', 'Unsqueeze', 'Concat', 'Cast', 'ConstantOfShape', 'QuantizeLinear', 'DequantizeLinear']);

/** Keras-style model summary with output shapes, parameters, FLOPs and receptive fields. */
export function summarize(model: Model): ModelSummary {
  const graph = model.graph;
  const b = model.builder();
  const consumers = graph.consumers();
  const rfs = receptiveFields(graph, b, model.input.name);
  const per = (shape: Dim[] | undefined): number => (shape ? shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1) : 0);
  const rows: LayerRow[] = [];
  const fused = new Set<Node>();
  const params = parameterValues(graph);
  const perImage = onePerBatch(model);
  const flopsOf = (n: Node): number => nodeFlops(n, perImage);
  const paramsOf = (n: Node): number => n.inputs.reduce((acc, i) => {
    const t = i ? params.get(i) : undefined;
    return acc + (t ? sizeOf(t.dims) : 0);
  }, 0);
  for (const node of graph.nodes) {
    if (fused.has(node)) continue;
    const out = node.outputs[0];
    if (!out) continue;
    const facts = b.factsOf(out);
    if (!isFloatDType(facts.dtype) || facts.value) continue;
    if (HIDDEN.has(node.op) && !(node.op === 'Concat' && (facts.shape?.length ?? 0) === 4)) continue;
    const row: LayerRow = { name: node.name, type: node.op, output: out, shape: facts.shape ?? [], params: paramsOf(node), flops: flopsOf(node), receptiveField: rfs.get(out), nodes: [node.name] };
    // Fold an activation that is the sole consumer, as Keras shows Conv2D(activation='relu').
    const next = soleConsumer(consumers.get(out));
    if (next && FUSES_ACTIVATION.has(node.op) && ACTIVATIONS.has(next.op)) absorb(row, next);
    // Fold a flatten right after global pooling: it only drops the 1x1 spatial dims.
    const after = soleConsumer(consumers.get(row.output));
    if (after && RESHAPES.has(after.op) && (node.op === 'GlobalAveragePool' || node.op === 'GlobalMaxPool') && per(b.factsOf(after.outputs[0]!).shape) === per(row.shape)) {
      absorb(row, after);
      row.type = node.op;
    }
    rows.push(row);
  }
  function absorb(row: LayerRow, n: Node): void {
    fused.add(n);
    row.type = `${row.type}+${n.op}`;
    row.output = n.outputs[0]!;
    row.shape = b.factsOf(row.output).shape ?? [];
    row.params += paramsOf(n);
    row.flops += flopsOf(n);
    row.receptiveField = rfs.get(row.output);
    row.nodes.push(n.name);
  }
  for (const row of rows) {
    const k = model.layerNumber(row.output);
    if (k !== undefined) row.number = k;
  }
  let total = 0;
  let trainable = 0;
  for (const [name, t] of countedParameters(graph)) {
    total += sizeOf(t.dims);
    if (!/running_(mean|var)|\.num_batches/.test(name) && !isBatchNormStat(model, name)) trainable += sizeOf(t.dims);
  }
  return {
    name: model.name,
    input: { name: model.input.name, shape: model.input.shape ?? [], ...inferredAt(model) },
    rows,
    totalParams: total,
    trainableParams: trainable,
    totalFlops: rows.reduce((a, r) => a + r.flops, 0),
  };
}

/** The size a model that takes any image size is summarized at (its preprocessing size). */
function inferredAt(model: Model): { inferredAt?: [number, number] } {
  const [, , h, w] = model.input.shape ?? [];
  if (typeof h === 'number' && typeof w === 'number') return {};
  const [, , H, W] = model.builder().shapeOf(model.input.name);
  return typeof H === 'number' && typeof W === 'number' ? { inferredAt: [H, W] } : {};
}

function soleConsumer(list: Node[] | undefined): Node | undefined {
  return list && list.length === 1 ? list[0] : undefined;
}

function isBatchNormStat(model: Model, name: string): boolean {
  return model.graph.nodes.some((n) => n.op === 'BatchNormalization' && (n.inputs[3] === name || n.inputs[4] === name));
}

/**
 * Shapes for counting FLOPs per image: inferred at a batch of one, and the batch the counts are
 * divided by (1; a model whose batch is fixed in its file runs that many). Counting every axis of
 * every value at batch 1, rather than all but the first at a symbolic batch, counts what moves
 * the batch off the first axis: PyTorch's attention reshapes [L, N, C] to [L, N x heads, C / heads],
 * and with N symbolic the N x heads rows were a size of 1 and the tokens axis was dropped as the
 * batch (ViT-B/16 counted 22.6 of its 35 GFLOPs).
 */
function onePerBatch(model: Model): { b: GraphBuilder; batch: number } {
  const g = model.graph.clone();
  const input = g.inputs.find((i) => i.name === model.input.name)!;
  const [n, c, h, w] = model.builder().shapeOf(model.input.name);
  if (typeof n === 'number') return { b: model.builder(), batch: n };
  input.shape = [1, c!, h!, w!];
  try {
    return { b: GraphBuilder.over(g, { strict: false }), batch: 1 };
  } catch {
    return { b: model.builder(), batch: 1 }; // at the symbolic batch, as the table shows it
  }
}

/** FLOPs per sample of one node (multiply-add = 2; comparisons and activations = 1 per element). */
function nodeFlops(node: Node, { b, batch }: { b: GraphBuilder; batch: number }): number {
  const count = (name: string | undefined): number => {
    if (!name) return 0;
    let s: Dim[] | undefined;
    try {
      s = b.factsOf(name).shape;
    } catch {
      return 0;
    }
    return s ? s.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1) / batch : 0;
  };
  const out = count(node.outputs[0]);
  switch (node.op) {
    case 'Conv': {
      const w = b.shapeOf(node.inputs[1]!) as number[];
      const macs = out * w.slice(1).reduce((a, d) => a * d, 1);
      return 2 * macs + (node.inputs[2] ? out : 0);
    }
    case 'ConvTranspose': {
      const w = b.shapeOf(node.inputs[1]!) as number[];
      // weight [Cin, Cout/group, kh, kw]: each input value meets the Cout/group filters of its group
      const macs = count(node.inputs[0]) * w[1]! * w.slice(2).reduce((a, d) => a * d, 1);
      return 2 * macs + (node.inputs[2] ? out : 0);
    }
    case 'Gemm':
    case 'MatMul': {
      const a = b.shapeOf(node.inputs[0]!);
      const k = node.op === 'Gemm' && attrInt(node, 'transA', 0) ? a[0] : a[a.length - 1];
      return 2 * out * (typeof k === 'number' ? k : 1) + (node.inputs[2] ? out : 0);
    }
    case 'MaxPool':
    case 'AveragePool':
      return out * (attrInts(node, 'kernel_shape') ?? [1]).reduce((p, q) => p * q, 1);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return count(node.inputs[0]);
    case 'BatchNormalization':
      return 2 * out;
    case 'InstanceNormalization':
    case 'Softmax':
    case 'LogSoftmax':
      return 5 * out;
    default:
      return ACTIVATIONS.has(node.op) || ['Add', 'Sub', 'Mul', 'Div', 'Sum'].includes(node.op) ? out : 0;
  }
}

/** The summary as a text table, like Keras' model.summary(). */
export function formatSummary(s: ModelSummary): string {
  // a symbolic batch reads N; other symbolic sizes by their own names (a free-size input's h, w)
  const fmtShape = (d: Dim[]): string => `(${d.map((x, k) => (typeof x === 'number' ? String(x) : k === 0 ? 'N' : x)).join(', ')})`;
  const fmtRf = (r: ReceptiveField | undefined): string => {
    if (!r) return '';
    if (r.global) return 'whole image';
    const pair = (a: [number, number]): string => (a[0] === a[1] ? fmt(a[0]) : `${fmt(a[0])}x${fmt(a[1])}`);
    return `${pair(r.size)} / ${pair(r.jump)} / ${pair(r.start)}`;
  };
  const header = ['#', 'Layer (type)', 'Output Shape', 'Param #', 'FLOPs', 'Receptive field (size / jump / start)'];
  const body = s.rows.map((r) => [r.number !== undefined ? `#${r.number}` : '', `${r.name} (${r.type})`, fmtShape(r.shape), r.params.toLocaleString('en-US'), humanFlops(r.flops), fmtRf(r.receptiveField)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 3 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = (ch: string): string => ch.repeat(widths.reduce((a, w) => a + w + 2, -2));
  return [
    `Model: "${s.name}"   input ${s.input.name} ${fmtShape(s.input.shape)}${s.input.inferredAt ? `: any size; shapes, FLOPs and receptive fields below at ${s.input.inferredAt[0]}x${s.input.inferredAt[1]} (its preprocessing size)` : ''}`,
    rule('='),
    line(header),
    rule('='),
    ...body.map(line),
    rule('='),
    `Total params: ${s.totalParams.toLocaleString('en-US')}`,
    `Trainable params: ${s.trainableParams.toLocaleString('en-US')}`,
    `Non-trainable params: ${(s.totalParams - s.trainableParams).toLocaleString('en-US')}`,
    `FLOPs per image: ${humanFlops(s.totalFlops)} (a multiply-add counts 2)`,
    rule('_'),
  ].join('\n');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function humanFlops(f: number): string {
  if (f >= 1e9) return `${(f / 1e9).toFixed(2)} G`;
  if (f >= 1e6) return `${(f / 1e6).toFixed(2)} M`;
  if (f >= 1e3) return `${(f / 1e3).toFixed(1)} k`;
  return String(f);
}
