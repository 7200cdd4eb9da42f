import { ConvLensError, unknownNameError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import { foldBatchNorms } from '../graph/fold-batchnorm.js';
import type { Graph, Node } from '../graph/ir.js';
import { pruneGraph } from '../graph/prune.js';
import { sumAll, zerosLike } from '../ops/emit.js';
import { findOp, requireOp, type GradContext, type RuleSetSpec } from '../ops/registry.js';
import { isFloatDType } from '../tensor.js';

export type GradientSeed =
  /** d(value)/d(...) for a value with one element (a loss, an objective) */
  | { scalar: string }
  /** vector-Jacobian product: the graph gets one input per value, shaped like it, holding dL/d(value) */
  | { upstream: readonly string[] };

export interface GradientRequest {
  seed: GradientSeed;
  /** Values to differentiate with respect to: graph inputs, initializers or any intermediate value. */
  wrt: readonly string[];
  /** Forward values the combined graph also outputs (logits, activations). */
  outputs?: readonly string[];
  ruleSet?: RuleSetSpec;
  /**
   * Initializers to turn into graph inputs, so a trainer can feed updated values each step
   * (ONNX Runtime cannot update initializers in place).
   */
  parametersAsInputs?: readonly string[];
}

export interface GradientGraph {
  graph: Graph;
  /** wrt value name -> name of the graph output holding its gradient */
  gradientOutputs: Record<string, string>;
  /** seeded value name -> name of the graph input that takes its upstream gradient */
  seedInputs: Record<string, string>;
  /** names of the parameters that became inputs */
  parameterInputs: string[];
}

/**
 * Builds ONE graph that computes the requested forward values and the gradients of the seed
 * with respect to `wrt`, by appending a reverse-mode pass of ONNX ops (rules per op, chosen
 * from the rule set) to the forward graph.
 */
/** A request from a script, checked: `{}` or a seed without names ended in a TypeError deep in the builder. */
function checkRequest(request: GradientRequest): void {
  const names = (v: unknown): boolean => Array.isArray(v) && v.every((n) => typeof n === 'string');
  const seed = (request as Partial<GradientRequest> | undefined)?.seed as Record<string, unknown> | undefined;
  const seedOk = !!seed && typeof seed === 'object' && (typeof seed['scalar'] === 'string' || (names(seed['upstream']) && (seed['upstream'] as unknown[]).length > 0));
  if (!seedOk) throw new ConvLensError('INVALID_ARGUMENT', 'A gradient request needs a seed: { scalar: "<one-element value>" } or { upstream: ["<value>", ...] }.', 'Name what to differentiate, e.g. { seed: { upstream: [model.output] }, wrt: [model.input.name] }.');
  if (!names(request.wrt)) throw new ConvLensError('INVALID_ARGUMENT', 'A gradient request needs wrt: a list of value names to differentiate with respect to.', 'Pass e.g. wrt: [model.input.name] (graph inputs, initializers or intermediate values).');
  for (const [key, v] of [['outputs', request.outputs], ['parametersAsInputs', request.parametersAsInputs]] as const) {
    if (v !== undefined && !names(v)) throw new ConvLensError('INVALID_ARGUMENT', `A gradient request's ${key} must be a list of value names.`, `Pass ${key} as an array of strings, or leave it out.`);
  }
}

export function buildGradientGraph(forward: Graph, request: GradientRequest): GradientGraph {
  checkRequest(request);
  const ruleSet = request.ruleSet ?? 'standard';
  const graph = forward.clone();
  const parameterInputs: string[] = [];
  for (const p of request.parametersAsInputs ?? []) {
    const t = graph.initializers.get(p);
    if (!t) throw unknownNameError('parameter', p, [...graph.initializers.keys()]);
    graph.initializers.delete(p);
    graph.inputs.push({ name: p, dtype: t.dtype, shape: [...t.dims] });
    parameterInputs.push(p);
  }
  const known = graph.valueNames();
  const seeds = 'scalar' in request.seed ? [request.seed.scalar] : [...request.seed.upstream];
  for (const n of [...seeds, ...request.wrt, ...(request.outputs ?? [])]) {
    if (!known.has(n)) throw unknownNameError('value', n, known);
  }
  // Inference BatchNorms nobody asked about join their Conv: the backward pass then needs no
  // per-channel Mul (see foldBatchNorms).
  foldBatchNorms(graph, new Set([...seeds, ...request.wrt, ...(request.outputs ?? []), ...graph.outputs.map((o) => o.name)]));
  const b = GraphBuilder.over(graph);

  // Integer codes of real values (QuantizeLinear outputs in a QDQ model) carry float gradients.
  const codes = new Set(graph.nodes.filter((n) => findOp(n.op)?.outputsAreCodes).flatMap((n) => n.outputs));
  const differentiable = (name: string): boolean => isFloatDType(b.factsOf(name).dtype) || codes.has(name);

  // Values that depend (differentiably) on some wrt value.
  const fromWrt = new Set(request.wrt.filter(differentiable));
  for (const node of graph.nodes) {
    const def = findOp(node.op);
    if (def?.nonDifferentiable) continue;
    const live = node.inputs.some((i, k) => i && fromWrt.has(i) && !def?.noGradInputs?.includes(k));
    if (live) for (const o of node.outputs) if (o && differentiable(o)) fromWrt.add(o);
  }
  // Values some seed depends on.
  const toSeed = new Set(seeds);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]!;
    if (node.outputs.some((o) => toSeed.has(o))) for (const i of node.inputs) if (i) toSeed.add(i);
  }

  const contributions = new Map<string, string[]>();
  const finalGrad = new Map<string, string | undefined>();
  const contribute = (name: string, g: string): void => {
    if (finalGrad.has(name)) throw new Error(`internal: gradient of "${name}" used before all contributions arrived`);
    const l = contributions.get(name);
    if (l) l.push(g);
    else contributions.set(name, [g]);
  };
  const gradOf = (name: string): string | undefined => {
    if (finalGrad.has(name)) return finalGrad.get(name);
    const l = contributions.get(name);
    const g = l && l.length ? sumAll(b, l) : undefined;
    finalGrad.set(name, g);
    return g;
  };

  const seedInputs: Record<string, string> = {};
  for (const s of seeds) {
    const f = b.factsOf(s);
    if (!isFloatDType(f.dtype)) throw new ConvLensError('INVALID_ARGUMENT', `Cannot differentiate "${s}": it has type ${f.dtype}, not a float type.`, 'Differentiate a float value, e.g. the logits rather than an ArgMax or a Cast to integers.');
    if ('scalar' in request.seed) {
      if (f.shape && f.shape.some((d) => d !== 1)) {
        throw new ConvLensError('INVALID_ARGUMENT', `"${s}" has shape [${f.shape.join(', ')}]; a scalar seed needs a single value.`, 'Reduce it to a scalar (ReduceSum/ReduceMean) or seed it with an upstream gradient.');
      }
      contribute(s, b.op('ConstantOfShape', [b.op('Shape', [s])], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } }, { name: b.uniqueName('seed') }));
    } else {
      const inputName = b.uniqueName(`${s}:grad_in`);
      b.input(inputName, f.dtype, f.shape ?? []);
      seedInputs[s] = inputName;
      contribute(s, inputName);
    }
  }

  const active = (node: Node): boolean => node.inputs.some((i) => i && fromWrt.has(i)) && node.outputs.some((o) => o && toSeed.has(o));
  const forwardNodes = graph.nodes.slice();
  for (let k = forwardNodes.length - 1; k >= 0; k--) {
    const node = forwardNodes[k]!;
    if (!active(node)) continue;
    const dys = node.outputs.map((o) => (o ? gradOf(o) : undefined));
    if (dys.every((d) => !d)) continue;
    const def = requireOp(node, 'gradient');
    if (def.nonDifferentiable) continue;
    const rule = typeof ruleSet === 'object' ? (ruleSet.ruleFor(node, def) ?? def.grad!) : (ruleSet !== 'standard' && def.variants?.[ruleSet]) || def.grad!;
    const wants = (i: number): boolean => {
      const n = node.inputs[i];
      return !!n && fromWrt.has(n) && !def.noGradInputs?.includes(i);
    };
    const ctx: GradContext = {
      node,
      b,
      x: (i) => node.inputs[i]!,
      y: (i) => node.outputs[i]!,
      dy: (i) => dys[i],
      wants,
      facts: (name) => b.factsOf(name),
      constant: (i) => (node.inputs[i] ? b.valueOf(node.inputs[i]!) : undefined),
    };
    let grads: (string | undefined)[];
    try {
      grads = rule(ctx);
    } catch (e) {
      if (e instanceof ConvLensError) throw e;
      throw new ConvLensError('UNSUPPORTED_OP', `Cannot differentiate ${node.op} node "${node.name}": ${(e as Error).message}`, 'Fix the input shape or re-export the model with constant attributes.', { cause: e });
    }
    grads.forEach((g, i) => {
      if (g && wants(i)) contribute(node.inputs[i]!, g);
    });
  }

  const gradientOutputs: Record<string, string> = {};
  const outputs: string[] = [];
  for (const w of request.wrt) {
    const g = differentiable(w) ? gradOf(w) : undefined;
    const name = b.uniqueName(`${w}:grad`);
    b.addNode({ op: 'Identity', name: b.uniqueName(`${w}:grad_out`), inputs: [g ?? zerosLike(b, w)], outputs: [name], attrs: {} });
    gradientOutputs[w] = name;
    outputs.push(name);
  }
  graph.outputs = [];
  for (const o of request.outputs ?? []) b.output(o);
  for (const o of outputs) b.output(o);
  b.build();
  pruneGraph(graph);
  return { graph, gradientOutputs, seedInputs, parameterInputs };
}
