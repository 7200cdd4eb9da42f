// Explaining a hidden unit: the cut model scores a layer's channels (their means, or their values
// at one position), so every method explains a unit as it does a class. Checked against the
// original model's activations, the unit's receptive field, Integrated Gradients' completeness and
// brute-force occlusion; and the CLI's --unit end to end.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { loadInputs } from '../../src/io/inputs.js';
import { explain } from '../../src/methods/explain/index.js';
import { deletionInsertion, road } from '../../src/methods/metrics/index.js';
import { batchedForward } from '../../src/methods/explain/session.js';
import { receptiveFields } from '../../src/models/receptive-field.js';
import { unitRegion } from '../../src/models/region.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { parseUnitSpec, unitModel } from '../../src/models/unit-model.js';
import { convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

/** The graph as a bare export has it: no labels, no preprocessing. */
function withoutMetadata(graph: Graph): Graph {
  const g = graph.clone();
  g.metadata.clear();
  return g;
}

const CAT = join(ROOT, 'samples', 'photos', 'chelsea.png');
const LAYER = 'fires.5';

describe('a hidden unit as the target (SqueezeNet 1.1)', () => {
  const squeezenet = loadBuiltinModel(engine, 'squeezenet');
  const value = squeezenet.resolveLayer(LAYER);
  let cat: Tensor;
  let maps: Tensor;

  it('scores each channel by its mean, or its value at one position, as the original model computes them', async () => {
    cat = (await loadInputs([CAT], squeezenet)).batch;
    maps = (await batchedForward(squeezenet, cat, [value], 1))[value]!;
    const [, C, H, W] = maps.dims as [number, number, number, number];
    const data = maps.data as Float32Array;

    const means = unitModel(squeezenet, { layer: LAYER });
    expect(means.labels).toHaveLength(C);
    expect(means.labels[7]).toBe('fires.5:7');
    const got = (await batchedForward(means, cat, [means.output], 1))[means.output]!;
    expect(got.dims).toEqual([1, C]);
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let p = 0; p < H * W; p++) sum += data[c * H * W + p]!;
      expect((got.data as Float32Array)[c]).toBeCloseTo(sum / (H * W), 4);
    }

    const at = unitModel(squeezenet, { layer: LAYER, at: [3, 9] });
    expect(at.labels[7]).toBe('fires.5:7@3,9');
    const cell = (await batchedForward(at, cat, [at.output], 1))[at.output]!;
    for (let c = 0; c < C; c++) expect((cell.data as Float32Array)[c]).toBe(data[c * H * W + 3 * W + 9]);
  });

  it('a unit at one position gets saliency only inside its receptive field, and some everywhere there', async () => {
    const at: [number, number] = [2, 10];
    const unit = unitModel(squeezenet, { layer: LAYER, at });
    const e = await explain(unit, cat, { methods: ['saliency'] });
    expect(e.unit).toMatchObject({ label: LAYER, at });
    const rf = receptiveFields(squeezenet.graph, squeezenet.builder(), squeezenet.input.name).get(value)!;
    const [H, W] = [cat.dims[2]!, cat.dims[3]!];
    const [top, left, bottom, right] = unitRegion(rf, at[0], at[1], H, W);
    expect(bottom - top).toBeLessThan(H - 1); // the field is a part of the image: the test can fail
    const map = e.attributions[0]!.map.data as Float32Array;
    let outside = 0;
    let inside = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = Math.abs(map[y * W + x]!);
        if (y >= top && y <= bottom && x >= left && x <= right) inside = Math.max(inside, v);
        else outside = Math.max(outside, v);
      }
    }
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(0);
  });

  it('Integrated Gradients of a unit sums to its change from the baseline, and incremental occlusion equals brute force', async () => {
    const unit = unitModel(squeezenet, { layer: LAYER });
    const ig = await explain(unit, cat, { methods: ['integrated-gradients'], integratedGradients: { steps: 64, baseline: 'zero' } });
    expect(ig.images[0]!.predicted.index).toBe(ig.targets[0]);
    expect(Math.abs(ig.attributions[0]!.completeness![0]!.relativeGap)).toBeLessThan(0.02);

    const at = unitModel(squeezenet, { layer: LAYER, at: [6, 6] });
    const occlusion = { window: 32, stride: 16 };
    const fast = await explain(at, cat, { methods: ['occlusion'], occlusion: { ...occlusion, mode: 'incremental' } });
    const slow = await explain(at, cat, { methods: ['occlusion'], occlusion: { ...occlusion, mode: 'brute-force' } });
    // a unit's value is read from one position of a patch: nothing for the plan to report
    expect(fast.attributions[0]!.notes.filter((n) => n.includes('full maps'))).toEqual([]);
    const a = fast.attributions[0]!.raw.data as Float32Array;
    const b = slow.attributions[0]!.raw.data as Float32Array;
    const scale = Math.max(...b.map(Math.abs), fast.images[0]!.target.score);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    expect(diff / scale).toBeLessThan(1e-5);
  });

  it('deletion/insertion and ROAD follow the unit\'s own value (a softmax over channels left them all ~0)', async () => {
    const unit = unitModel(squeezenet, { layer: LAYER, at: [5, 4] });
    const e = await explain(unit, cat, { methods: ['saliency'], target: 100 });
    const [curves] = await deletionInsertion(unit, cat, e.targets, [e.attributions[0]!.map], { steps: 4 });
    // the whole image is the first point of deletion and the last of insertion: the unit's value
    expect(curves!.deletion[0]![0]).toBeCloseTo(e.images[0]!.target.logit, 2);
    expect(curves!.insertion[0]!.at(-1)).toBeCloseTo(e.images[0]!.target.logit, 2);
    expect(e.images[0]!.target.logit).toBeGreaterThan(1);
    // the least relevant 10% lie outside the unit's receptive field: imputing them leaves its value
    const [r] = await road(unit, cat, e.targets, [e.attributions[0]!.map], { fractions: [0.1] });
    expect(r!.lerf[0]![0]).toBeCloseTo(e.images[0]!.target.logit, 3);
  });

  it('refuses what a unit cannot be, naming the way out', async () => {
    expect(() => unitModel(squeezenet, { layer: 'logits' })).toThrow(/not a feature map \[N, C, H, W\]/);
    expect(() => unitModel(squeezenet, { layer: 'input' })).toThrow(/is the input/);
    expect(() => unitModel(squeezenet, { layer: LAYER, at: [13, 0] })).toThrow(/outside layer "fires.5", whose maps are 13x13/);
    expect(() => parseUnitSpec('@3,3')).toThrow(/does not name a layer/);
    expect(parseUnitSpec('fires.5 @ 1, 2')).toEqual({ layer: 'fires.5', at: [1, 2] });
    expect(parseUnitSpec('/fires.5/Concat_output_0')).toEqual({ layer: '/fires.5/Concat_output_0' });
    await expect(explain(unitModel(squeezenet, { layer: LAYER }), cat, { methods: ['saliency'], score: 'prob' })).rejects.toThrow(/probability means nothing over the channels/);
  });

  it('refuses a position that is not two whole numbers from 0, as the library API may pass anything', () => {
    // -1 cut an empty unit that failed in a reshape at the first pass, 1.5 threw a RangeError,
    // and ["1", "2"] sliced rows 1 to 11 ("1" + 1) as if it were one unit
    const bad: unknown[] = [[-1, 0], [1.5, 0], [Number.NaN, 0], ['1', '2'], [1], [1, 2, 3], 5, null];
    for (const at of bad) {
      let thrown: unknown;
      try {
        unitModel(squeezenet, { layer: LAYER, at: at as [number, number] });
      } catch (e) {
        thrown = e;
      }
      expect(thrown, JSON.stringify(at)).toBeInstanceOf(ConvLensError);
      expect((thrown as ConvLensError).message, JSON.stringify(at)).toMatch(/^A unit's position is \[row, column\], two whole numbers from 0; got /);
      expect((thrown as ConvLensError).hint).toMatch(/counted from 0/);
    }
    expect(unitModel(squeezenet, { layer: LAYER, at: [0, 12] }).labels.at(-1)).toBe('fires.5:383@0,12');
  });
});

describe('convlens explain --unit', () => {
  it('explains a channel picked by --target, and says it is a unit in the summary, the figure and stdout', async () => {
    const out = tempFolder('convlens-unit-');
    try {
      const r = await convlens('explain', CAT, '--model', 'squeezenet', '--unit', `${LAYER}@6,6`, '--target', '100', '--method', 'saliency,gradcam', '--out', out);
      // channel 100 does not fire at (6, 6): its flat maps say so, and nothing else is noted
      expect(r.stderr.split('\n').filter((l) => /warning|note/i.test(l) && !l.includes("the map is flat (its values sum in magnitude to 0.0 against the unit's value of 0.00): the unit barely moves"))).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/most active fires\.5:\d+@6,6 \([\d.]+\), explaining fires\.5:100@6,6/);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary.unit).toEqual({ layer: LAYER, value: '/fires.5/Concat_output_0', at: [6, 6] });
      expect(summary.inputs[0].target).toMatchObject({ index: 100, label: 'fires.5:100@6,6' });

      const bad = await convlens('explain', CAT, '--model', 'squeezenet', '--unit', LAYER, '--score', 'prob', '--out', out);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/probability means nothing over the channels of layer "fires.5"[\s\S]*Leave the score at logit/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('does not warn about missing class labels on a model it only cuts at a layer (but still about preprocessing)', async () => {
    const out = tempFolder('convlens-unit-');
    try {
      // the built-in CNN's file carries its labels; a bare torchvision-style export does not
      const bare = join(out, 'bare.onnx');
      writeFileSync(bare, encodeModel(withoutMetadata(loadBuiltinModel(engine, 'fashion-cnn').graph)));
      const plain = await convlens('explain', join(ROOT, 'samples', 'fashion-mnist', readdirSync(join(ROOT, 'samples', 'fashion-mnist'))[0]!), '--model', bare, '--method', 'saliency', '--out', join(out, 'a'));
      expect(plain.stderr).toMatch(/no class labels/);
      const unit = await convlens('explain', join(ROOT, 'samples', 'fashion-mnist', readdirSync(join(ROOT, 'samples', 'fashion-mnist'))[0]!), '--model', bare, '--unit', '#2', '--method', 'saliency', '--out', join(out, 'b'));
      expect(unit.code).toBe(0);
      expect(unit.stderr).not.toMatch(/no class labels/);
      expect(unit.stderr).toMatch(/no preprocessing/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
