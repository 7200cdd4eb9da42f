// Every model command runs with its defaults - no layer named - on the built-in CNN, on the
// built-in SqueezeNet, and on models ConvLens has never seen (random VGG- and ResNet-like nets,
// 64 to 224 px, 10 to 1000 classes, with and without a GAP + dense head, one taking any size),
// written as plain .onnx files without ConvLens metadata. The layers each command picks must be
// the model profile's.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../src/engine/graph/ir.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { loadModel } from '../../src/models/load.js';
import type { ModelProfile } from '../../src/models/profile.js';
import { resnet, vggLike } from '../../src/models/zoo/index.js';
import { convnextLike, flattenHead } from '../support/unseen-models.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-any-model-');
const engine = new Engine(nodeBackend());

/** A small ResNet-like net whose input size is free (N, 3, H, W). */
function freeSizeResnet(seed: number): Graph {
  const g = resnet({ widths: [8, 16, 32], blocks: 1, size: 96, classes: 10, seed });
  g.name = 'free_size_resnet';
  g.inputs[0]!.shape = ['N', 3, 'H', 'W'];
  return g;
}

interface Case {
  name: string;
  /** --model value (a built-in name or a file) */
  model?: string;
  classes: number;
}

const cases: Case[] = [
  { name: 'built-in CNN (default)', classes: 10 },
  { name: 'built-in SqueezeNet', model: 'squeezenet', classes: 1000 },
  { name: 'VGG-like, 64 px, 10 classes, GAP + dense', model: join(tmp, 'vgg64.onnx'), classes: 10 },
  { name: 'flatten head, 96 px, 100 classes, no GAP', model: join(tmp, 'flat96.onnx'), classes: 100 },
  { name: 'ResNet-like, 224 px, 1000 classes', model: join(tmp, 'resnet224.onnx'), classes: 1000 },
  { name: 'ResNet-like, any input size, 10 classes', model: join(tmp, 'free.onnx'), classes: 10 },
  { name: 'ConvNeXt-like (channels-last blocks: LayerNorm, Linear, GELU), 64 px, 10 classes', model: join(tmp, 'convnext64.onnx'), classes: 10 },
];

beforeAll(() => {
  writeFileSync(join(tmp, 'vgg64.onnx'), encodeModel(vggLike(3, 64)));
  writeFileSync(join(tmp, 'flat96.onnx'), encodeModel(flattenHead(96, 100, 4)));
  writeFileSync(join(tmp, 'resnet224.onnx'), encodeModel(resnet({ widths: [8, 16, 32, 64], blocks: 1, size: 224, classes: 1000, seed: 5 })));
  writeFileSync(join(tmp, 'free.onnx'), encodeModel(freeSizeResnet(6)));
  writeFileSync(join(tmp, 'convnext64.onnx'), encodeModel(convnextLike(64, 10, 7)));
});

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await engine.dispose();
});

const profileOf = (c: Case): ModelProfile => loadModel(c.model, engine).profile;
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

// Cases run concurrently: most of each command's time is process start-up, model loading and
// compiling. A test runs several commands, so on a loaded machine it gets more than the default time.
const SLOW = 600_000;
describe.concurrent.each(cases)('every command with its defaults on $name', (c) => {
  const m = c.model ? ['--model', c.model] : [];
  const out = (cmd: string): string => join(tmp, `${c.name.replace(/\W+/g, '_')}-${cmd}`);
  const photo = 'samples/photos/chelsea.png';
  const many = c.classes > 10 ? ['--classes', '0,1'] : [];
  const steps = ['--steps', '1'];

  it('summary, predict, activations, describe', async () => {
    const p = profileOf(c);
    const s = await convlens('summary', ...m, '--json');
    expect(s.code, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as { profile: ModelProfile }).profile.camLayer).toBe(p.camLayer);
    if (c.model?.endsWith('.onnx')) expect(s.stderr).toMatch(/convlens describe/); // metadata missing: says how to add it
    const pr = await convlens('predict', photo, ...m, '-k', '2', '--json');
    expect(pr.code, pr.stderr).toBe(0);
    expect((JSON.parse(pr.stdout) as { top: unknown[] }[])[0]!.top).toHaveLength(2);
    const a = await convlens('activations', photo, ...m, '-o', out('act'), '-q');
    expect(a.code, a.stderr).toBe(0);
    for (const l of p.featureLayers) expect(existsSync(join(out('act'), `${l.replace(/[^\w.-]+/g, '_')}.npy`)), l).toBe(true);
    const labels = `${out('labels')}.txt`;
    writeFileSync(labels, Array.from({ length: c.classes }, (_, k) => `thing ${k}`).join('\n'));
    const d = await convlens('describe', ...(c.model ? m : ['--model', 'fashion-cnn']), '--labels', labels, '--samples', 'photos', '-o', join(out('described'), 'm.onnx'), '--json');
    expect(d.code, d.stderr).toBe(0);
    const again = await convlens('predict', photo, '--model', join(out('described'), 'm.onnx'), '-k', '1', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { top: { label: string }[] }[])[0]!.top[0]!.label).toMatch(/^thing \d+$/);
  }, SLOW);

  it('explain: CAM-type layers from the profile; CAM skipped with the reason where there is no GAP + dense head', async () => {
    const p = profileOf(c);
    const r = await convlens('explain', photo, ...m, '--method', 'saliency,gradcam,cam', '--no-images', '-o', out('explain'), '-q');
    expect(r.code, r.stderr).toBe(0);
    const summary = json(join(out('explain'), 'summary.json')) as { methods: { method: string; layer?: { name: string } }[]; skipped?: { method: string; reason: string }[] };
    expect(summary.methods.find((x) => x.method === 'gradcam')!.layer!.name).toBe(p.camLayer);
    if (p.head === 'gap-dense') expect(summary.methods.map((x) => x.method)).toContain('cam');
    else expect(summary.skipped!.map((x) => x.method)).toEqual(['cam']);
  }, SLOW);

  it('featviz, adversarial, invert, dream, style (a few steps each)', async () => {
    const p = profileOf(c);
    const f = await convlens('featviz', ...m, ...many, ...steps, '--frames', '2', '-o', out('featviz'), '-q');
    expect(f.code, f.stderr).toBe(0);
    expect(existsSync(join(out('featviz'), 'result.png'))).toBe(true);
    if (p.input.fixed) {
      const adv = await convlens('adversarial', photo, ...m, ...steps, '-o', out('adv'), '-q');
      expect(adv.code, adv.stderr).toBe(0);
    }
    const inv = await convlens('invert', photo, ...m, ...steps, '-o', out('invert'), '-q');
    expect(inv.code, inv.stderr).toBe(0);
    expect((json(join(out('invert'), 'summary.json'))['layers'] as { layer: string }[]).map((l) => l.layer)).toEqual(p.inversionLayers);
    const dr = await convlens('dream', photo, ...m, '--octaves', '2', ...steps, '--max-side', '96', '-o', out('dream'), '-q');
    expect(dr.code, dr.stderr).toBe(0);
    expect((json(join(out('dream'), 'summary.json'))['params'] as { layer: string }).layer).toBe(p.dreamLayer);
    // the CNN is gray and cannot judge colour textures: without --model, style uses SqueezeNet
    const st = await convlens('style', photo, '--style', 'samples/textures/brick.png', ...m, '--max-side', '64', '--steps', '2', '-o', out('style'), '-q');
    expect(st.code, st.stderr).toBe(0);
    const model = json(join(out('style'), 'summary.json'))['model'] as { name: string };
    expect(model.name).toBe(c.model ? loadModel(c.model, engine).name : 'squeezenet');
  }, SLOW);

  it('index, patches, neighbors, embed on a small image folder', async () => {
    const p = profileOf(c);
    const store = out('store');
    const ix = await convlens('index', 'samples', ...m, '--store', store, '--batch', '8', '-q', '--json');
    if (!p.input.fixed) {
      // the dataset lens stores fixed-size scans: refused before any work, with the way out
      expect(ix.code).toBe(1);
      expect(ix.stderr).toMatch(/any size.*fixed input size/s);
      return;
    }
    expect(ix.code, ix.stderr).toBe(0);
    expect((JSON.parse(ix.stdout) as { layers: string[] }).layers).toEqual(p.featureLayers);
    const pa = await convlens('patches', '--store', store, ...m, '--channels', '0-1', '-k', '2', '-o', join(out('patches'), 'p.png'), '-q');
    expect(pa.code, pa.stderr).toBe(0);
    const nb = await convlens('neighbors', '--store', store, ...m, '--ids', '0', '-k', '2', '-o', join(out('neighbors'), 'n.png'), '--json', '-q');
    expect(nb.code, nb.stderr).toBe(0);
    const em = await convlens('embed', '--store', store, ...m, '--method', 'pca', '--grid', '0', '-o', out('embed'), '-q');
    expect(em.code, em.stderr).toBe(0);
  }, SLOW);
});
