// The model profile (roles from structure, never names), friendly layer names, built-in model
// names, describing a model from outside (presets, labels, metadata written into the file), and
// class visualizations in memory-bounded batches.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { activationsPerImage, classVisualization, CLASS_BATCH_MEMORY, defaultClassSelection, parseClassList, synthesisBatchSize } from '../../src/methods/synthesize/featviz.js';
import { BUILTIN_MODELS, findBuiltin } from '../../src/models/builtins.js';
import { readModelMetadata, setModelMetadata } from '../../src/models/describe.js';
import { loadModel } from '../../src/models/load.js';
import { METADATA_KEYS, parseLabels, parsePreprocessing, writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { resnet, vggLike } from '../../src/models/zoo/index.js';
import { receptiveFields } from '../../src/models/receptive-field.js';
import { explain } from '../../src/methods/explain/index.js';
import { spatialLayer } from '../../src/methods/explain/layers.js';
import { classIndex } from '../../src/methods/explain/target.js';
import { convnextLike, squeezeExciteLike } from '../support/unseen-models.js';
import { LongJobNotice } from '../../src/interfaces/cli/common.js';
import { f32, handGraph, int, ints, node } from '../support/onnx-files.js';

const engine = new Engine(nodeBackend());
afterAll(async () => {
  await engine.dispose();
});

/** The same graph with every value and node renamed to meaningless names (initializers too). */
function scrambled(g: Graph): { graph: Graph; rename: Map<string, string> } {
  const out = g.clone();
  const rename = new Map<string, string>();
  let k = 0;
  const name = (v: string): string => {
    if (!v) return v;
    if (!rename.has(v)) rename.set(v, `t${(k++ * 7919) % 100003}`);
    return rename.get(v)!;
  };
  for (const v of g.valueNames()) name(v);
  out.nodes = out.nodes.map((n, i) => ({ ...n, name: `n${(i * 31) % 997}`, inputs: n.inputs.map(name), outputs: n.outputs.map(name) }));
  out.inputs = out.inputs.map((i) => ({ ...i, name: name(i.name) }));
  out.outputs = out.outputs.map((o) => ({ ...o, name: name(o.name) }));
  out.initializers = new Map([...g.initializers].map(([n, t]) => [name(n), t]));
  out.valueInfo = new Map();
  return { graph: out, rename };
}

describe('model profile', () => {
  it('derives the same roles from structure alone: renaming every value and node changes nothing', () => {
    for (const g of [vggLike(0, 64), resnet({ widths: [8, 16, 32, 64], blocks: 2, size: 128, classes: 20 })]) {
      const original = new Model(g, engine).profile;
      const { graph, rename } = scrambled(g);
      const p = new Model(graph, engine).profile;
      const map = (v: string | undefined): string | undefined => (v === undefined ? undefined : rename.get(v));
      expect(p.camLayer).toBe(map(original.camLayer));
      expect(p.dreamLayer).toBe(map(original.dreamLayer));
      expect(p.firstConv).toBe(map(original.firstConv));
      expect(p.styleLayers).toEqual(original.styleLayers.map(map));
      expect(p.contentLayers).toEqual(original.contentLayers.map(map));
      expect(p.featureLayers).toEqual(original.featureLayers.map(map));
      expect(p.inversionLayers).toEqual(original.inversionLayers.map(map));
    }
  });

  it('picks block outputs of a ResNet (never a value a shortcut bypasses), the last one before GAP for CAM', () => {
    const m = new Model(resnet({ widths: [8, 16, 32, 64], blocks: 2, size: 128, classes: 20 }), engine);
    const p = m.profile;
    expect(p.head).toBe('gap-dense');
    expect(p.camLayer).toBe('layer4.1.relu2');
    expect(p.firstConv).toBe('conv1');
    // every candidate is a block output, the stem or the max-pool: inside a block the shortcut is live too
    for (const l of p.layers) expect(l.name).toMatch(/^(relu|maxpool|layer\d\.\d\.relu2)$/);
    // units of the dream layer see a good part of the image, but not all of it
    const dream = p.layers.find((l) => l.name === p.dreamLayer)!;
    expect(dream.reach).toBeGreaterThan(0.3);
    expect(dream.reach).toBeLessThan(1);
    expect(p.inversionLayers[p.inversionLayers.length - 1]).toBe(m.output);
  });

  it('in channels-last blocks (ConvNeXt) picks only [N, C, H, W] maps, and fields pass the permutes, LayerNorms and Linears', async () => {
    const m = new Model(convnextLike(64, 10, 3), engine);
    const p = m.profile;
    expect(p.camLayer).toBe('stage1.block.add');
    // no [N, H, W, C] value inside a block is a candidate, though it is 4-D with H*W > 1
    for (const l of p.layers) expect(l.name, l.name).toMatch(/^(stem\.(conv|unpermute)|down1\.(unpermute|conv)|stage\d\.block\.add)$/);
    const fields = receptiveFields(m.graph, m.builder(), m.input.name);
    // stem 4x4/4, then a 7x7 depthwise conv: 4 + 6 * 4 = 28 px, through the block's permute, LayerNorm and Linears
    expect(fields.get('stem.unpermute')!.size).toEqual([4, 4]);
    for (const v of ['stage0.block.norm', 'stage0.block.pwconv2', 'stage0.block.unpermute', 'stage0.block.add']) expect(fields.get(v)!.size, v).toEqual([28, 28]);
    expect(m.isChannelsFirst('stage0.block.norm')).toBe(false);
    expect(m.isChannelsFirst('stage0.block.add')).toBe(true);
    expect(() => spatialLayer(m, 'stage1.block.norm')).toThrow(/is channels-last \(\[N, H, W, C\] between the model's permutes, shape \[N, 8, 8, 16\]\)/);
    const e = await explain(m, { dtype: 'float32', dims: [1, 3, 64, 64], data: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i)) }, { methods: ['gradcam'] });
    expect(e.attributions[0]!.raw.dims).toEqual([1, 1, 8, 8]); // the 8x8 map of the last stage, not the [8, 8, 16] channels-last one
  });

  it('a squeeze-and-excitation gate leaves receptive fields local (EfficientNet, RegNet, MobileNetV3)', () => {
    const m = new Model(squeezeExciteLike(64, 10, 4), engine);
    const fields = receptiveFields(m.graph, m.builder(), m.input.name);
    // the gate scales each channel by one number per image; where a unit fires is still its 3x3 window's doing
    expect(fields.get('stage0.se.scale')).toEqual(fields.get('stage0.act'));
    expect(fields.get('stage2.se.scale')!.global).toBe(false);
    expect(fields.get('stage2.se.scale')!.size).toEqual([15, 15]); // 3 + 2 * 2 + 2 * 4
    expect(fields.get('stage0.se.gate')!.global).toBe(true); // the gate itself did see the whole image
    for (const l of m.profile.layers) expect(l.reach, l.name).toBeLessThan(1);
  });

  it('never takes the image itself for a layer: a tf2onnx NHWC input transposed and normalized before the first conv', () => {
    const g = handGraph({
      opset: 13,
      inputs: [{ name: 'images:0', dtype: 'float32', shape: ['unk__1', 32, 32, 3] }],
      outputs: ['logits'],
      nodes: [
        node('Sub', ['images:0', 'mean'], ['centred']),
        node('Transpose', ['centred'], ['transpose_in:0'], { perm: ints([0, 3, 1, 2]) }),
        node('Mul', ['transpose_in:0', 'scale'], ['scaled']),
        node('Conv', ['scaled', 'w1'], ['c1'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }),
        node('Relu', ['c1'], ['r1']),
        node('Conv', ['r1', 'w2'], ['c2'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
        node('Relu', ['c2'], ['r2']),
        node('GlobalAveragePool', ['r2'], ['gap']),
        node('Flatten', ['gap'], ['flat']),
        node('Gemm', ['flat', 'fw'], ['logits'], { transB: int(1) }),
      ],
      initializers: { mean: f32([3], [0.5, 0.5, 0.5]), scale: f32([], [2]), w1: f32([4, 3, 3, 3], new Array<number>(108).fill(0.1)), w2: f32([6, 4, 3, 3], new Array<number>(216).fill(0.1)), fw: f32([5, 6], new Array<number>(30).fill(0.1)) },
    });
    const p = new Model(g, engine).profile;
    const roles = [...p.styleLayers, ...p.contentLayers, ...p.featureLayers, ...p.inversionLayers, p.dreamLayer, p.camLayer];
    for (const early of ['transpose_in:0', 'scaled']) expect(roles).not.toContain(early);
    expect(p.layers.map((l) => l.name)).toEqual(['r1', 'r2']);
    expect(p.styleLayers).toEqual(['r1', 'r2']);
  });

  it('follows the model\'s own metadata roles, and ignores (with a warning) roles naming missing layers', () => {
    const g = vggLike(0, 64);
    writeMetadata(g, { profile: { dreamLayer: 'relu2', styleLayers: ['relu1', 'relu9'], unknownRole: 'x' } });
    const p = new Model(g, engine).profile;
    expect(p.dreamLayer).toBe('relu2');
    expect(p.source.dreamLayer).toBe('metadata');
    expect(p.source.styleLayers).toBe('graph');
    expect(p.warnings.join(' ')).toMatch(/styleLayers.*relu9/);
    expect(p.warnings.join(' ')).toMatch(/unknown role "unknownRole"/);
  });

  it('the built-in CNN keeps its familiar roles through its metadata, not code', () => {
    const m = loadModel(undefined, engine);
    expect(m.meta.profile).toBeDefined();
    expect(m.profile).toMatchObject({ dreamLayer: 'relu3', featureLayers: ['relu3', 'relu4'], sampleGroup: 'fashion-mnist' });
    expect(m.profile.source.dreamLayer).toBe('metadata');
  });
});

describe('layer names as users type them', () => {
  const sq = loadModel('squeezenet', engine);

  it('accepts value names, node names (with or without the slash), module paths, #k and any case', () => {
    expect(sq.resolveLayer('/fires.5/Concat_output_0')).toBe('/fires.5/Concat_output_0');
    expect(sq.resolveLayer('/fires.5/Concat')).toBe('/fires.5/Concat_output_0');
    expect(sq.resolveLayer('fires.5/Concat')).toBe('/fires.5/Concat_output_0');
    expect(sq.resolveLayer('fires.5')).toBe('/fires.5/Concat_output_0'); // the module's output
    expect(sq.resolveLayer('FIRES.5/concat')).toBe('/fires.5/Concat_output_0');
    const k = sq.layerNumber('/fires.5/Concat_output_0')!;
    expect(sq.resolveLayer(`#${k}`)).toBe('/fires.5/Concat_output_0');
    expect(sq.layerLabel('/fires.5/Concat_output_0')).toBe('fires.5');
  });

  it('quotes a name of any length cut short, and compares only its start, so a huge one answers at once', () => {
    // an edit distance costs the name's length times each candidate's: 100 000 characters over
    // SqueezeNet's layers and 1000 labels took seconds, and the message quoted the whole name
    // (timed against the same lookup of a name as long as the part compared, in the same run, so
    // a loaded machine slows both: uncut, the long name costs 500 times the short one)
    const long = 'x'.repeat(100_000);
    const short = 'x'.repeat(200);
    for (const attempt of [(name: string) => sq.resolveLayer(name), (name: string) => classIndex(sq, name, 1000)]) {
      const timed = (name: string): { ms: number; thrown: unknown } => {
        const t0 = performance.now();
        try {
          attempt(name);
        } catch (e) {
          return { ms: performance.now() - t0, thrown: e };
        }
        return { ms: performance.now() - t0, thrown: undefined };
      };
      const baseline = Math.min(...[0, 1, 2].map(() => timed(short).ms));
      const { ms, thrown } = timed(long);
      expect(ms).toBeLessThan(10 * baseline + 50);
      expect(thrown).toBeInstanceOf(ConvLensError);
      const { message, hint } = thrown as ConvLensError;
      expect(message).toMatch(/^No (layer|class label) named "x{200}\.\.\." \(100000 characters\)\.$/);
      expect(hint!.length).toBeLessThan(2000);
    }
  });

  it('suggests the closest names for a typo', () => {
    try {
      sq.resolveLayer('fire5');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConvLensError);
      expect((e as ConvLensError).hint).toMatch(/Closest layer names: fires\.5/);
    }
    expect(() => sq.resolveLayer('#9999')).toThrow(/No layer #9999/);
  });

  it('accepts PyTorch\'s qualified module names (features.1.0.block.0), which torch.onnx.export scopes as /features/features.1/features.1.0/block/block.0', () => {
    const g = squeezeExciteLike(32, 4, 1);
    // node names as the exporter scopes an EfficientNet's modules
    const scope = (name: string): string => {
      const m = /^stage(\d)\.(.*)$/.exec(name);
      if (!m) return name;
      const [, s, rest] = m;
      const block = `/features/features.${s}/features.${s}.0`;
      if (rest === 'conv') return `${block}/block/block.0/Conv`;
      if (rest === 'act') return `${block}/block/block.0/Relu`;
      if (rest === 'se.scale') return `${block}/Mul`;
      return `${block}/block/block.1/${rest!.replace(/^se\./, '').replace('.', '/')}/Op`;
    };
    g.nodes = g.nodes.map((n) => ({ ...n, name: scope(n.name) }));
    const m = new Model(g, engine);
    expect(m.resolveLayer('features/features.1')).toBe('stage1.se.scale'); // the exporter's scope path
    expect(m.resolveLayer('features.1')).toBe('stage1.se.scale');
    expect(m.resolveLayer('features.1.0')).toBe('stage1.se.scale');
    expect(m.resolveLayer('features.1.0.block.0')).toBe('stage1.act');
    expect(m.resolveLayer('features.2.0.block.1')).toBe('stage2.se.gate');
  });

  it('"input" names the model\'s input whatever the exporter called it (the help\'s example works on any model)', () => {
    const m = new Model(squeezeExciteLike(32, 4, 1), engine);
    expect(m.input.name).toBe('image');
    expect(m.resolveLayer('input')).toBe('image');
    expect(m.resolveLayer('Input')).toBe('image');
    expect(m.resolveLayer('image')).toBe('image');
  });
});

describe('built-in models and describing a model', () => {
  it('resolves built-in names before paths and lists them when neither matches', () => {
    expect(findBuiltin('SqueezeNet1.1')?.name).toBe('squeezenet');
    expect(BUILTIN_MODELS.map((m) => m.name)).toEqual(['fashion-cnn', 'squeezenet']);
    expect(() => loadModel('no-such-model.onnx', engine)).toThrow(ConvLensError);
    try {
      loadModel('no-such-model.onnx', engine);
    } catch (e) {
      expect((e as ConvLensError).hint).toMatch(/fashion-cnn, squeezenet/);
    }
  });

  it('presets and JSON describe preprocessing; wrong fields are named', () => {
    expect(parsePreprocessing('imagenet', ['N', 3, 224, 224])).toMatchObject({ size: [224, 224], resize: 'crop', crop: 0.875, mean: [0.485, 0.456, 0.406] });
    expect(parsePreprocessing('imagenet-crop', ['N', 3, 96, 96])).toMatchObject({ size: [96, 96], resize: 'crop', crop: 1 });
    expect(parsePreprocessing('unit-range', ['N', 1, 28, 28])).toMatchObject({ channels: 'gray', range: [0, 1], mean: [0], std: [1] });
    expect(parsePreprocessing('{"mean":[0.5,0.5,0.5],"std":[0.5,0.5,0.5]}', ['N', 3, 64, 64])).toMatchObject({ size: [64, 64], mean: [0.5, 0.5, 0.5] });
    expect(() => parsePreprocessing('imagenet', ['N', 1, 28, 28])).toThrow(/RGB models/);
    expect(() => parsePreprocessing('{"stdev":[1]}', ['N', 3, 64, 64])).toThrow(/Unknown preprocessing field "stdev"/);
    expect(() => parsePreprocessing('{"std":[0,1,1]}', ['N', 3, 64, 64])).toThrow(/"std"/);
    expect(() => parsePreprocessing('imagenet-ish', ['N', 3, 64, 64])).toThrow(/not a preset/);
    // model inputs are float32: scales whose pixels overflow it would feed Infinity and NaN to every method
    expect(() => parsePreprocessing('{"range":[0,1e308]}', ['N', 1, 28, 28])).toThrow(/"range" must fit float32/);
    expect(() => parsePreprocessing('{"std":[1e-300]}', ['N', 1, 28, 28])).toThrow(/"std" must fit float32 and not round to zero/);
    expect(() => parsePreprocessing('{"range":[0,3e38],"mean":[-3e38]}', ['N', 1, 28, 28])).toThrow(/maps pixels outside float32: \(3e\+38 - -3e\+38\) \/ 1 overflows/);
    expect(parsePreprocessing('{"range":[0,255],"mean":[127.5],"std":[1e-30]}', ['N', 1, 28, 28]).std).toEqual([1e-30]);
  });

  it('labels come from text or JSON and must match the outputs', () => {
    expect(parseLabels('cat\ndog\n', 'f', 2)).toEqual(['cat', 'dog']);
    expect(parseLabels('["cat","dog"]', 'f', 2)).toEqual(['cat', 'dog']);
    expect(() => parseLabels('cat\ndog\n', 'labels.txt', 3)).toThrow(/2 class names; the model has 3 outputs/);
    expect(() => parseLabels('[1,2]', 'f')).toThrow(/not a list of strings/);
  });

  it('writes metadata into the file without touching any other byte, replacing keys already there', () => {
    const bytes = encodeModel(vggLike(1, 32));
    const once = setModelMetadata(bytes, new Map([[METADATA_KEYS.samples, 'photos'], [METADATA_KEYS.description, 'first']]));
    const twice = setModelMetadata(once, new Map([[METADATA_KEYS.description, 'second']]));
    expect(readModelMetadata(twice)).toEqual(new Map([[METADATA_KEYS.samples, 'photos'], [METADATA_KEYS.description, 'second']]));
    // the original fields are kept byte for byte, in order, ahead of the metadata entries
    expect(Buffer.from(twice.subarray(0, bytes.length)).equals(Buffer.from(bytes))).toBe(true);
    const g = decodeModel(twice);
    expect(g.metadata.get(METADATA_KEYS.description)).toBe('second');
    expect(g.nodes.length).toBe(decodeModel(bytes).nodes.length);
    expect(() => setModelMetadata(Uint8Array.from([0x0a, 0xff, 0xff]), new Map())).toThrow(/Cannot read/);
  });

  it('the shipped SqueezeNet is the original file plus ConvLens metadata', () => {
    const file = readFileSync(findBuiltin('squeezenet')!.file);
    const meta = readModelMetadata(file);
    expect(JSON.parse(meta.get(METADATA_KEYS.labels)!)).toHaveLength(1000);
    expect(meta.get(METADATA_KEYS.samples)).toBe('photos');
    expect(meta.get(METADATA_KEYS.provenance)).toMatch(/Apache License 2\.0/);
  });

  it('a model without metadata says what it assumed and how to describe it', () => {
    const m = new Model(vggLike(0, 64), engine, 'plain');
    const text = m.meta.warnings.join('\n');
    expect(text).toMatch(/no class labels.*--labels FILE.*convlens describe/);
    expect(text).toMatch(/no preprocessing.*--preprocess.*convlens describe/);
    m.describe({ labels: Array.from({ length: 10 }, (_, k) => `c${k}`), preprocessing: parsePreprocessing('unit-range', m.input.shape!) });
    expect(m.meta.warnings).toEqual([]);
    expect(() => m.describe({ labels: ['a', 'b'] })).toThrow(/2 class names given/);
  });
});

describe('class visualizations of many classes', () => {
  it('run as a sequence of bounded batches, in class order, reporting each batch and progress over all', async () => {
    const m = new Model(resnet({ widths: [4, 8], blocks: 1, size: 32, classes: 7, seed: 2 }), engine, 'tiny');
    const batches: number[][] = [];
    const progress: number[] = [];
    const r = await classVisualization(m, { classes: [6, 0, 3, 5, 1], batchSize: 2, steps: 2, frames: 2, onBatch: ({ classes }) => void batches.push(classes), onProgress: (p) => progress.push(p.done / p.total) });
    expect(batches).toEqual([[6, 0], [3, 5], [1]]);
    expect(r.images.dims).toEqual([5, 3, 32, 32]);
    expect(r.predictions).toHaveLength(5);
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
    expect(parseClassList('0-2,5', m.labels)).toEqual([0, 1, 2, 5]);
    expect(() => parseClassList('3-1', m.labels)).toThrow(/backwards/);
    expect(() => parseClassList('9', m.labels)).toThrow(/does not exist/);
    expect(parseClassList(' All ', m.labels)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(defaultClassSelection(m.labels)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(defaultClassSelection(Array.from({ length: 1000 }, (_, k) => `c${k}`))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('size the batch from the activations an image needs: SqueezeNet at 224 never gets all 1000 classes at once', () => {
    const sq = loadModel('squeezenet', engine);
    const n = synthesisBatchSize(sq, [224, 224]);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThan(64);
    expect(n * activationsPerImage(sq, [224, 224]) * 16).toBeLessThanOrEqual(CLASS_BATCH_MEMORY);
    expect(synthesisBatchSize(sq, [112, 112])).toBeGreaterThan(n); // smaller images, bigger batches
  });
});

describe('long-job notice', () => {
  it('says once per phase when the rest will take over a minute, timed after warm-up', () => {
    let t = 0;
    const said: string[] = [];
    const notice = new LongJobNotice((s) => said.push(s), 60, () => t);
    // 1000 steps, the first two slow (compilation), then 0.1 s each: 100 s in all
    notice.observe({ done: 1, total: 1000, phase: 'octave 1/4' });
    t = 20_000;
    notice.observe({ done: 2, total: 1000, phase: 'octave 1/4' });
    for (let k = 3; k <= 40; k++) {
      t += 100;
      notice.observe({ done: k, total: 1000, phase: 'octave 1/4' });
    }
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/about 2 min to go/);
    // a fast phase says nothing
    const quiet = new LongJobNotice((s) => said.push(s), 60, () => t);
    for (let k = 1; k <= 50; k++) {
      t += 10;
      quiet.observe({ done: k, total: 50, phase: 'fast' });
    }
    expect(said).toHaveLength(1);
  });

  it('says again when a later phase is much slower than the first (invert: a cheap first layer, then deep ones)', () => {
    let t = 0;
    const said: string[] = [];
    const notice = new LongJobNotice((s) => said.push(s), 60, () => t);
    // 9 layers of 200 steps: the first at 36 ms a step, the rest at 400 ms (about 10.7 min in all);
    // each layer's first step compiles (2 s)
    const msPerStep = (layer: number): number => (layer === 0 ? 36 : 400);
    for (let layer = 0; layer < 9; layer++) {
      for (let k = 1; k <= 200; k++) {
        t += k === 1 ? 2_000 : msPerStep(layer);
        notice.observe({ done: layer * 200 + k, total: 1800, phase: `inverting layer ${layer}` });
      }
    }
    expect(said[0]).toMatch(/^note: about \d+ s to go \(\d+\/1800 done, now inverting layer 0\)/);
    // the second layer's pace (400 ms x 1600 steps: about 11 min) is said as soon as it is timed
    expect(said[1]).toMatch(/^note: now about 1[01] min to go \(20\d\/1800 done, now inverting layer 1\)/);
    // and the same pace after that is not said again
    expect(said).toHaveLength(2);
  });

  it('times a run whose phase names each unit (the sanity check\'s layers) as one run', () => {
    let t = 0;
    const said: string[] = [];
    const notice = new LongJobNotice((s) => said.push(s), 60, () => t);
    notice.observe({ done: 0, total: 122, phase: 'sanity: trained model' });
    for (let k = 1; k <= 8; k++) {
      t += 2_300;
      notice.observe({ done: k, total: 122, phase: `sanity: randomized down to layer ${k}` });
    }
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/about 4 min to go \(\d+\/122 done, now sanity: randomized down to layer \d\)/);
    // another method's progress starting from 0 is timed on its own
    const other = new LongJobNotice((s) => said.push(s), 60, () => t);
    other.observe({ done: 5, total: 100, phase: 'a' });
    other.observe({ done: 0, total: 100, phase: 'b' });
    for (let k = 1; k <= 4; k++) {
      t += 100;
      other.observe({ done: k, total: 100, phase: 'b' });
    }
    expect(said).toHaveLength(1);
  });
});
