// The forward graph methods use to score many inputs for one target: with logit scores, the
// model reduced to the target's logit where its head allows (engine/graph/target-head.ts);
// otherwise the whole model, the target picked from its output.
import { GraphBuilder } from '../../engine/graph/builder.js';
import { targetHead } from '../../engine/graph/target-head.js';
import type { Graph } from '../../engine/graph/ir.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { targetScores, type ScoreKind } from './target.js';

export interface ScoringGraph {
  graph: Graph;
  output: string;
  /** int64 [1] input naming the class, when the graph computes only its logit */
  target?: string;
  /** each row's target score from `output` */
  scores(out: Tensor, target: number): Float64Array;
}

const cache = new WeakMap<Model, Map<ScoreKind, ScoringGraph>>();

export function scoringGraph(model: Model, score: ScoreKind): ScoringGraph {
  let m = cache.get(model);
  if (!m) cache.set(model, (m = new Map()));
  let s = m.get(score);
  if (!s) {
    let head: ReturnType<typeof targetHead>;
    try {
      head = score === 'logit' ? targetHead(model.graph, model.output) : undefined;
    } catch {
      head = undefined; // a head the reduction cannot follow: score with the whole model
    }
    s = head
      ? { graph: head.graph, output: head.output, target: head.target, scores: (out) => Float64Array.from(out.data as Float32Array) }
      : { graph: withOutput(model.graph, model.output), output: model.output, scores: (out, target) => targetScores(out, Int32Array.of(target), score, model.outputKind) };
    m.set(score, s);
  }
  return s;
}

/**
 * The graph with `output` as an output: a model that ends in a Softmax is scored by the logits
 * before it, which ONNX Runtime fetches only when the graph declares them (a segmentation net's
 * class means before their Softmax, models/class-map.ts, failed every segment method).
 */
function withOutput(graph: Graph, output: string): Graph {
  if (graph.outputs.some((o) => o.name === output)) return graph;
  const g = graph.clone();
  const rest = g.outputs;
  g.outputs = [];
  GraphBuilder.over(g, { strict: false }).output(output);
  g.outputs.push(...rest);
  return g;
}

/** The compiled session of a scoring graph (one per model and graph). */
export async function scoringSession(model: Model, scoring: ScoringGraph): ReturnType<Model['engine']['compile']> {
  return model.engine.compile(`${model.id}|scoring|${scoring.output}`, () => scoring.graph);
}

/** Each row's score of `target` for a batch of inputs [rows, C, H, W]. */
export async function runScoring(session: Awaited<ReturnType<typeof scoringSession>>, scoring: ScoringGraph, model: Model, x: Tensor, target: number): Promise<Float64Array> {
  const feeds: Record<string, Tensor> = { [model.input.name]: x };
  if (scoring.target) feeds[scoring.target] = { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(target)) };
  const out = await session.run(feeds, [scoring.output]);
  return scoring.scores(out[scoring.output]!, target);
}
