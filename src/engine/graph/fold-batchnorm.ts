import type { Tensor } from '../tensor.js';
import { attrFloat, attrInt, type Graph, type Node } from './ir.js';

/**
 * Folds inference-mode BatchNormalization into the Conv before it (in place): W'[o] = W[o] * s[o],
 * b'[o] = (b[o] - mean[o]) * s[o] + beta[o], s = gamma / sqrt(var + eps), and the Conv then
 * writes the BatchNormalization's output. ONNX Runtime fuses the pair in a forward graph itself;
 * in a gradient graph the backward pass would still scale dy per channel (a Mul over a whole
 * activation, which also keeps the tensor off ORT's blocked NCHWc layout), whereas the folded
 * Conv's backward uses W' directly.
 *
 * Only where nothing else can tell: the Conv output feeds this BatchNormalization alone and is
 * not in `keep` (values the caller names as seeds, wrt or outputs, and graph outputs), and the
 * weights and statistics are constants (initializers that are not graph inputs, or Constant
 * nodes) not in `keep`. Returns how many pairs were folded.
 */
export function foldBatchNorms(graph: Graph, keep: ReadonlySet<string>): number {
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const constants = new Map<string, Tensor>();
  for (const [name, t] of graph.initializers) if (!inputs.has(name)) constants.set(name, t);
  for (const n of graph.nodes) {
    const v = n.attrs['value'];
    if (n.op === 'Constant' && !n.domain && v?.type === 'tensor') constants.set(n.outputs[0]!, v.value);
  }
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of graph.outputs) consumers.set(o.name, (consumers.get(o.name) ?? 0) + 1);
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);

  const constant = (name: string | undefined): Tensor | undefined => {
    if (!name || keep.has(name)) return undefined;
    const t = constants.get(name);
    return t && t.dtype === 'float32' ? t : undefined;
  };
  const dropped = new Set<Node>();
  let folded = 0;
  for (const bn of graph.nodes) {
    if (bn.op !== 'BatchNormalization' || bn.domain || attrInt(bn, 'training_mode', 0) !== 0) continue;
    if (bn.outputs.slice(1).some((o) => o)) continue;
    const x = bn.inputs[0]!;
    const conv = producer.get(x);
    if (!conv || conv.op !== 'Conv' || conv.domain || dropped.has(conv) || keep.has(x) || consumers.get(x) !== 1) continue;
    const w = constant(conv.inputs[1]);
    const bias = conv.inputs[2] ? constant(conv.inputs[2]) : undefined;
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constant(bn.inputs[i]));
    if (!w || (conv.inputs[2] && !bias) || !gamma || !beta || !mean || !variance) continue;
    const m = w.dims[0]!;
    if ([gamma, beta, mean, variance].some((t) => t.data.length !== m) || (bias && bias.data.length !== m)) continue;
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const per = w.data.length / m;
    const wd = w.data as Float32Array;
    const folded_w = new Float32Array(wd.length);
    const folded_b = new Float32Array(m);
    for (let o = 0; o < m; o++) {
      const s = (gamma.data[o] as number) / Math.sqrt((variance.data[o] as number) + eps);
      for (let k = o * per; k < (o + 1) * per; k++) folded_w[k] = wd[k]! * s;
      folded_b[o] = (((bias?.data[o] as number | undefined) ?? 0) - (mean.data[o] as number)) * s + (beta.data[o] as number);
    }
    const wName = uniqueName(graph, `${conv.name || 'conv'}.bn_folded.weight`);
    const bName = uniqueName(graph, `${conv.name || 'conv'}.bn_folded.bias`);
    graph.initializers.set(wName, { dtype: 'float32', dims: [...w.dims], data: folded_w });
    graph.initializers.set(bName, { dtype: 'float32', dims: [m], data: folded_b });
    conv.inputs = [conv.inputs[0]!, wName, bName];
    conv.outputs = [bn.outputs[0]!];
    graph.valueInfo.delete(x);
    dropped.add(bn);
    folded++;
  }
  if (folded) graph.nodes = graph.nodes.filter((n) => !dropped.has(n));
  return folded;
}

function uniqueName(graph: Graph, hint: string): string {
  const taken = graph.valueNames();
  let name = hint;
  for (let k = 1; taken.has(name) || graph.initializers.has(name); k++) name = `${hint}_${k}`;
  return name;
}
