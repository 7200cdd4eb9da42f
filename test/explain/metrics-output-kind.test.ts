// Faithfulness metrics on models whose outputs are not one softmax (models/output-kind.ts): the
// curves follow a multi-label output's own sigmoid (never a softmax across the outputs) and a
// regression's value, and the figures say so. The CLI's chart titled a regression's value "target
// logit", its grid called the largest output the "pred", and a multi-label output's sigmoid read as
// a plain "probability", which elsewhere means the softmax's.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { faithfulnessAxisTitle, faithfulnessChart, figureRowLines } from '../../src/methods/explain/figures.js';
import { defaultCurveScore } from '../../src/methods/explain/target.js';
import { deletionInsertion, randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const W = [
  [0.5, -1.25, 2, 0.75],
  [-1, 0.5, 0.25, -0.5],
  [1.5, 1, -0.75, 0.25],
];
const B = [-0.25, 0.5, 0.1];
const IMAGE = [1, 0, 1, 0];
const x = f32([1, 1, 2, 2], IMAGE);
const logits = W.map((w, k) => IMAGE.reduce((a, v, i) => a + v * w[i]!, B[k]!));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** z = W x + b over a 1x2x2 image, with its output kind declared. */
function linearModel(kind: string): Model {
  const b = new GraphBuilder();
  b.graph.name = `linear_${kind}`;
  const image = b.input('image', 'float32', ['N', 1, 2, 2]);
  const flat = b.op('Flatten', [image], { axis: 1 }, { name: 'flat', outputs: ['flat'] });
  const z = b.op('Gemm', [flat, b.initializer('fc.weight', f32([3, 4], W.flat())), b.initializer('fc.bias', f32([3], B))], { transB: 1 }, { name: 'fc', outputs: ['fc'] });
  b.output(z);
  const g = b.build();
  g.metadata.set(METADATA_KEYS.output, kind);
  return new Model(g, engine);
}

describe('deletion/insertion on other output kinds', () => {
  for (const [kind, expected] of [
    ['multi-label', (t: number) => sigmoid(logits[t]!)],
    ['regression', (t: number) => logits[t]!],
  ] as const) {
    it(`a ${kind} model's curves start at the target's ${kind === 'regression' ? 'value' : 'own sigmoid'}`, async () => {
      const model = linearModel(kind);
      for (const t of [0, 1, 2]) {
        // nothing deleted yet: the first point is the untouched image's score
        const [c] = await deletionInsertion(model, x, Int32Array.of(t), [randomMaps(1, 2, 2, 1)], { steps: 4, score: defaultCurveScore(model) });
        expect(c!.deletion[0]![0]).toBeCloseTo(expected(t), 5);
      }
    });
  }
});

describe('the figures name the score', () => {
  it("titles the curves' axis by what they follow", () => {
    expect(faithfulnessAxisTitle({ score: 'logit', outputKind: 'regression' })).toBe("target output's value");
    expect(faithfulnessAxisTitle({ score: 'prob', outputKind: 'multi-label' })).toBe("target's own probability (sigmoid)");
    expect(faithfulnessAxisTitle({ score: 'prob', outputKind: 'single-label' })).toBe('target probability (softmax)');
    expect(faithfulnessAxisTitle({ score: 'logit' })).toBe('target logit');
  });

  it("draws a regression's chart with its value's title", async () => {
    const model = linearModel('regression');
    const [c] = await deletionInsertion(model, x, Int32Array.of(0), [randomMaps(1, 2, 2, 1)], { steps: 4, score: defaultCurveScore(model) });
    const { svg } = await faithfulnessChart({ random: c! }, { score: defaultCurveScore(model), outputKind: model.outputKind });
    expect(svg.replace(/&apos;|&#39;/g, "'")).toContain("target output's value");
    expect(svg).not.toMatch(/target logit/);
  });

  it("names a regression's largest output, not a prediction", async () => {
    const model = linearModel('regression');
    const e = await explain(model, x, { methods: ['gradient'] });
    const lines = figureRowLines(e, 0, 'image.png');
    const largest = logits.indexOf(Math.max(...logits));
    expect(lines[1]).toBe(`largest: output ${largest} (${logits[largest]!.toPrecision(3)})`);
    const single = await explain(linearModel('single-label'), x, { methods: ['gradient'] });
    expect(figureRowLines(single, 0, 'image.png')[1]).toMatch(/^pred: class \d \(\d+\.\d%\)$/);
  });
});
