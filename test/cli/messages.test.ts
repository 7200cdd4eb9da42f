// Messages say what actually happened and what to do: a refusal names the real problem (not an
// internal shape error downstream of it), never claims a fallback it did not take, and options
// given together mean what a user reading the help would expect.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { featureVisualization } from '../../src/methods/synthesize/featviz.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-messages-');
const bag = join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png');
const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const refused = (r: { code: number; stderr: string }, pattern: RegExp): void => {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |broadcast/);
};

describe('featviz', () => {
  it('class:* with --batch draws every class, that many at a time', async () => {
    const out = join(tmp, 'per-class');
    const r = await convlens('featviz', '--objective', 'class:*', '--batch', '3', '--steps', '2', '--frames', '1', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/10 classes at 28x28 run as 4 batches of up to 3/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { images: unknown[]; batches: { count: number; size: number } };
    expect(summary.images).toHaveLength(10);
    expect(summary.batches).toEqual({ count: 4, size: 3 });
  }, 60_000);

  it('a class:* batch that cannot hold every class is refused by the method, naming both numbers', async () => {
    const model = loadBuiltinModel(engine);
    await expect(featureVisualization(model, { objective: 'class:*', batch: 2, steps: 1 })).rejects.toThrow(/one image per class, 10 in one batch; a batch of 2 cannot hold them/);
  });

  it('one start image for ten classes asks for one per image', async () => {
    refused(await convlens('featviz', '--start', bag, '--steps', '2', '--out', join(tmp, 'start')), /\[1, 1, 28, 28\]; \[10, 1, 28, 28\] are needed[\s\S]*one start image per image made \(10\)/);
  }, 60_000);

  it('--facets names a class the model does not have as such, not as "0 images"', async () => {
    const r = await convlens('featviz', '--facets', '2', '--target', '99', '--steps', '2', '--out', join(tmp, 'facets'));
    refused(r, /No class "99": the model has 10 classes[\s\S]*index \(0-9\)/);
    expect(r.stderr).not.toMatch(/0 images/);
  }, 60_000);

  it('--facets on a model that does not read Fashion-MNIST images says so', async () => {
    refused(await convlens('featviz', '--model', 'squeezenet', '--facets', '2', '--target', '5', '--steps', '2', '--out', join(tmp, 'sq')), /clusters Fashion-MNIST training images \(1x28x28\); this model reads 3x224x224 images/);
  }, 60_000);
});

describe('describe', () => {
  it('a profile naming a missing layer is refused without claiming a fallback, and nothing is written', async () => {
    const out = join(tmp, 'described.onnx');
    const r = await convlens('describe', '--model', 'squeezenet', '--profile', '{"camLayer":"nope"}', '-o', out);
    refused(r, /does not fit the model, so nothing was written: camLayer names a layer the graph does not have/);
    expect(r.stderr).not.toMatch(/instead|ignored/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe('empty values', () => {
  // An unset shell variable gives ''; read as given it switched modes without a word.
  it.each([
    [['train', '--resume', '', '--epochs', '1'], /--resume is empty/],
    [['style', '', '--style', join(ROOT, 'samples', 'textures', 'brick.png')], /The content argument is empty/],
    [['explain', '', '--out', join(tmp, 'empty')], /The inputs argument is empty/],
    [['explain', bag, '--labels', '', '--out', join(tmp, 'empty')], /--labels is empty/],
    [['summary', '--model', ''], /--model is empty/],
  ])('refuses %j', async (args, pattern) => {
    refused(await convlens(...args), pattern);
    expect(existsSync(join(tmp, 'empty'))).toBe(false);
  }, 60_000);

  it('keeps the values that may be empty: no transforms', async () => {
    const r = await convlens('featviz', '--objective', 'class:Bag', '--transforms', '', '--steps', '2', '--frames', '1', '--out', join(tmp, 'no-transforms'));
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp, 'no-transforms', 'summary.json'), 'utf8')).params.transforms).toEqual([]);
  }, 60_000);
});

describe('options a mode would ignore', () => {
  it.each([
    [['train', '--optimizer', 'adam', '--momentum', '0.5', '--epochs', '1', '-o', join(tmp, 'ignored', 'm.onnx')], /--momentum applies only with --optimizer sgd; here it would be ignored[\s\S]*or add --optimizer sgd/],
    [['train', '--resume', join(tmp, 'none.ckpt'), '--lr', '0.1'], /--lr applies only to a fresh run/],
    [['adversarial', bag, '--method', 'fgsm', '--step-size', '0.1', '--out', join(tmp, 'ignored')], /--step-size applies only with --method pgd/],
    [['adversarial', bag, '--seed', '3', '--out', join(tmp, 'ignored')], /--seed applies only with --random-start/],
    [['style', bag, '--net', join(tmp, 'net.onnx'), '--style', bag, '--out', join(tmp, 'ignored')], /--style applies only without --net/],
    [['style', bag, '--style', bag, '--blend', '1', '--out', join(tmp, 'ignored')], /--blend applies only with --net/],
    [['style', '--style', bag, '--keep-colors', '--out', join(tmp, 'ignored')], /--keep-colors applies only with a content image/],
    [['style', '--style', bag, '--backbone', 'texture', '--model', 'squeezenet', '--out', join(tmp, 'ignored')], /--model applies only with --backbone model \(--backbone texture uses the built-in random network\)/],
    [['dream', bag, '--layer', 'relu3', '--objective', 'channel:relu3:0', '--out', join(tmp, 'ignored')], /--layer applies only without --objective/],
    [['index', 'data/fashion-mnist-subset', '--queue', 'q', '--store', join(tmp, 'ignored')], /--queue applies only with --redis/],
    [['explain', bag, '--method', 'gradcam', '--steps', '32', '--out', join(tmp, 'ignored')], /--steps applies only with --method integrated-gradients[\s\S]*add integrated-gradients to --method/],
    [['explain', bag, '--method', 'saliency', '--layer', 'relu3', '--out', join(tmp, 'ignored')], /--layer applies only with a method that reads a layer/],
    [['explain', bag, '--method', 'saliency', '--eigen-smooth', '--out', join(tmp, 'ignored')], /--eigen-smooth applies only with a CAM-family method/],
    [['explain', bag, '--method', 'gradcam', '--window', '7', '--out', join(tmp, 'ignored')], /--window applies only with --method occlusion/],
    [['explain', bag, '--method', 'gradcam', '--seed', '1', '--out', join(tmp, 'ignored')], /--seed applies only with a seeded method/],
  ])('refuses %j before any work', async (args, pattern) => {
    refused(await convlens(...args), pattern);
    expect(existsSync(join(tmp, 'ignored'))).toBe(false);
  }, 60_000);

  it('takes each option with a method that reads it, whatever else is asked for', async () => {
    const out = join(tmp, 'together');
    const r = await convlens('explain', bag, '--method', 'ig,gradcam,smoothgrad', '--steps', '4', '--layer', 'relu3', '--samples', '3', '--seed', '2', '--out', out);
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { methods?: unknown };
    expect(JSON.stringify(summary)).toMatch(/"steps":4/);
  }, 60_000);
});

describe('option rules name real options', () => {
  it('every command that declares rules runs its help and a refusal without a rule fault', async () => {
    // a rule naming an option the command lacks throws a plain Error (exit 70) whenever it runs
    for (const args of [
      ['train', '--resume', join(tmp, 'none.ckpt'), '--epochs', '1'],
      ['diffuse', 'train', '--resume', join(tmp, 'none.ckpt'), '--seed', '3'],
      ['explain', bag, '--out', join(tmp, 'rules')],
      ['adversarial', bag, '--steps', '1', '--out', join(tmp, 'rules')],
      ['dream', bag, '--steps', '1', '--octaves', '1', '--out', join(tmp, 'rules')],
      ['style', '--style', bag, '--steps', '1', '--size', '32x32', '--out', join(tmp, 'rules')],
      ['index', 'data/fashion-mnist-subset', '--limit', '10', '--store', join(tmp, 'rules-store')],
    ]) {
      const r = await convlens(...args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).not.toBe(70);
      expect(r.stderr).not.toMatch(/option rule for unknown option/);
    }
  }, 120_000);

  it('diffuse train with --resume refuses settings the checkpoint holds', async () => {
    refused(await convlens('diffuse', 'train', '--resume', join(tmp, 'none.ckpt'), '--seed', '3'), /--seed applies only to a fresh run/);
  }, 60_000);
});
