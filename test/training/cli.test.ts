import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CLI, convlens, ROOT } from '../support/cli.js';
import { SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { checkpointProgress } from '../../src/training/trainer.js';
import { tinyAnySizeCnn, tinyCnn } from './tiny.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-train-cli-');


/** Starts `convlens train ...`, waits until its checkpoint records at least `minStep` steps, then sends `signal`. */
async function interruptAfterCheckpoint(args: string[], ckpt: string, minStep: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; step: number }> {
  const child = spawn('node', [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, sig) => res({ code, signal: sig })));
  let step = -1;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    if (child.exitCode !== null) break;
    if (!existsSync(ckpt)) continue;
    step = checkpointProgress(loadCheckpoint(ckpt))!.step;
    if (step >= minStep) break;
  }
  child.kill(signal);
  const r = await exited;
  return { ...r, stderr, step };
}

const metadataOf = (file: string): Record<string, unknown> => {
  const g = decodeModel(readFileSync(file), { source: file });
  return Object.fromEntries(Object.values(METADATA_KEYS).map((k) => [k, g.metadata.has(k) ? (k === METADATA_KEYS.description ? g.metadata.get(k) : JSON.parse(g.metadata.get(k)!)) : undefined]));
};

describe('convlens train', () => {
  it('trains on the committed subset and writes a self-describing model', async () => {
    const out = join(tmp, 'quick.onnx');
    const r = await convlens('train', '--data', SUBSET_DIR, '--limit', '500', '--epochs', '2', '--batch', '25', '--out', out, '--no-checkpoint');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/epoch 1\/2 {2}loss \d\.\d{4} {2}acc \d\.\d{4} {2}val_loss/);
    expect(r.stdout).toMatch(/test accuracy 0\.\d{4} \(\d+\/2000\)/);
    const meta = metadataOf(out);
    expect(meta[METADATA_KEYS.labels]).toHaveLength(10);
    expect(meta[METADATA_KEYS.preprocessing]).toMatchObject({ size: [28, 28], channels: 'gray', range: [0, 1] });
    expect(meta[METADATA_KEYS.training]).toMatchObject({ epochs: 2, batchSize: 25, trainSamples: 450, validationSamples: 50, steps: 36, command: expect.stringContaining('convlens train --data') });
    expect(meta[METADATA_KEYS.metrics]).toMatchObject({ test_accuracy: expect.any(Number), val_accuracy: expect.any(Number) });
    expect(meta[METADATA_KEYS.description]).toContain('trained by convlens train');
    const s = await convlens('summary', '--model', out, '--json');
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout).totalParams).toBe(98442);
  });

  it('trains a model defined with the builder API (with BatchNorm) given as --model', async () => {
    const init = join(tmp, 'tiny-bn.onnx');
    writeFileSync(init, encodeModel(tinyCnn(0, true)));
    const out = join(tmp, 'tiny-bn-trained.onnx');
    const r = await convlens('train', '--model', init, '--data', SUBSET_DIR, '--limit', '300', '--epochs', '2', '--batch', '20', '--lr', '0.005', '--out', out, '--no-checkpoint', '--no-test');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('training tiny_bn (');
    const trained = decodeModel(readFileSync(out), { source: out });
    const before = tinyCnn(0, true).initializers.get('bn2.running_var')!.data as Float32Array;
    expect(Array.from(trained.initializers.get('bn2.running_var')!.data as Float32Array)).not.toEqual(Array.from(before));
    const e = await convlens('evaluate', '--model', out, '--data', SUBSET_DIR, '--no-image');
    expect(Number(/^accuracy (\d\.\d+)/m.exec(e.stdout)?.[1])).toBeGreaterThan(0.3);
  });

  it('a run killed mid-way resumes from the step its checkpoint saved and finishes', async () => {
    const out = join(tmp, 'killed.onnx');
    const ckpt = `${out}.ckpt`;
    const args = ['train', '--data', SUBSET_DIR, '--limit', '400', '--epochs', '4', '--batch', '16', '--checkpoint-every', '10', '--no-test', '--threads', '1', '--out', out];
    const killed = await interruptAfterCheckpoint(args, ckpt, 10, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false); // it never finished
    const saved = checkpointProgress(loadCheckpoint(ckpt))!;
    const total = 4 * Math.ceil(360 / 16);
    expect(saved.step).toBeGreaterThanOrEqual(10);
    expect(saved.step).toBeLessThan(total);
    const r = await convlens('train', '--resume', ckpt, '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resuming from ${ckpt}: step ${saved.step}, epoch ${saved.epoch + 1}/4, batch ${saved.batchInEpoch}`);
    // epochs finished before the kill are not repeated: only the remaining epoch lines are printed
    const printed = [...r.stderr.matchAll(/^epoch (\d)\/4/gm)].map((m) => Number(m[1]));
    expect(printed).toEqual([1, 2, 3, 4].slice(saved.epoch));
    const training = metadataOf(out)[METADATA_KEYS.training] as { steps: number; history: unknown[] };
    expect(training.steps).toBe(total);
    expect(training.history).toHaveLength(4);
    expect(checkpointProgress(loadCheckpoint(ckpt))!.step).toBe(total);
    // the finished run's checkpoint again: nothing to train, said as such (it printed "epoch 5/4")
    const again = await convlens('train', '--resume', ckpt, '--threads', '1');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`its run is complete (4 of 4 epochs, step ${total}); nothing is left to train. Give --epochs with more than 4`);
    expect(again.stderr).not.toMatch(/epoch 5\/4/);
  });

  it('Ctrl-C saves a checkpoint and exits cleanly with a hint how to resume', async () => {
    const out = join(tmp, 'interrupted.onnx');
    const ckpt = join(tmp, 'interrupted.ckpt');
    const r = await interruptAfterCheckpoint(['train', '--data', SUBSET_DIR, '--epochs', '3', '--batch', '16', '--checkpoint-every', '5', '--checkpoint', ckpt, '--out', out], ckpt, 5, 'SIGINT');
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Training stopped at step \d+ of 171/);
    expect(r.stderr).toContain(`continue with --resume ${ckpt}`);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(checkpointProgress(loadCheckpoint(ckpt))!.step).toBeGreaterThanOrEqual(5);
  });

  it('a blow-up on the last step stops the run, names the extreme setting and writes no model or checkpoint', async () => {
    const out = join(tmp, 'blown.onnx');
    // one step in all: the update of that step makes the weights infinite, and no later loss sees it
    const r = await convlens('train', '--data', SUBSET_DIR, '--limit', '100', '--epochs', '1', '--no-test', '--weight-decay', '1e308', '--threads', '2', '-q', '--out', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Training diverged at step 1: its update made "[^"]+" -?Infinity/);
    expect(r.stderr).toMatch(/--weight-decay 1e\+308 is far outside the usual range/);
    expect(r.stdout).not.toContain('NaN');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.ckpt`)).toBe(false);
  });

  it('a blow-up names the settings that can cause it, not --lr alone', async () => {
    const r = await convlens('train', '--data', SUBSET_DIR, '--limit', '100', '--epochs', '1', '--no-test', '--optimizer', 'sgd', '--momentum', '0.99', '--lr', '1e300', '--threads', '2', '-q', '--out', join(tmp, 'blown-lr.onnx'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/--lr 1e\+300 is far outside the usual range/);
  });

  it('an --out or --checkpoint that is a folder or runs through a file is refused before training', async () => {
    // a folder named like the file --out takes (a folder named otherwise gets model.onnx written into it)
    const folder = join(tmp, 'a-folder.onnx');
    mkdirSync(folder, { recursive: true });
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [['--out', folder], /Cannot write ".*a-folder\.onnx" \(--out\): it is a folder\.\n\s+Name a file inside it, e\.g\. --out .*a-folder\.onnx\/model\.onnx/],
      [['--out', join(file, 'm.onnx')], /Cannot write ".*a-file\/m\.onnx" \(--out\): cannot create its folder .*a file is in the way/],
      [['--out', join(tmp, 'fine.onnx'), '--checkpoint', folder], /Cannot write ".*a-folder\.onnx" \(--checkpoint\): it is a folder/],
    ];
    for (const [args, message] of cases) {
      const r = await convlens('train', '--data', SUBSET_DIR, '--limit', '100', '--epochs', '1', '--no-test', '--threads', '2', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/epoch 1\/1/);
    }
    expect(existsSync(`${folder}.ckpt`)).toBe(false);
    expect(existsSync(join(tmp, 'fine.onnx'))).toBe(false);
    const style = await convlens('style-train', '--style', join(ROOT, 'samples', 'textures', 'brick.png'), '--content', join(ROOT, 'samples', 'photos', 'rocket.jpg'), '--steps', '1', '--size', '16', '--width', '2', '--blocks', '1', '--out', folder);
    expect(style.code).toBe(1);
    expect(style.stderr).toMatch(/Cannot write ".*a-folder\.onnx" \(--out\): it is a folder/);
    const diffuse = await convlens('diffuse', 'train', '--data', SUBSET_DIR, '--limit', '20', '--batch', '20', '--widths', '8', '--groups', '0', '--epochs', '1', '--out', folder);
    expect(diffuse.code).toBe(1);
    expect(diffuse.stderr).toMatch(/Cannot write ".*a-folder\.onnx" \(--out\): it is a folder/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('--momentum 1 or more is refused before training', async () => {
    const r = await convlens('train', '--optimizer', 'sgd', '--momentum', '1', '--out', join(tmp, 'm.onnx'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--momentum.*\[0, 1\)/);
  });
});

describe('the model convlens train is given', () => {
  it('is named as every command names it, not by the exporter\'s graph name', async () => {
    const exported = tinyCnn(0);
    exported.name = 'torch_jit'; // what torch.onnx.export calls every graph
    const init = join(tmp, 'my-cnn.onnx');
    writeFileSync(init, encodeModel(exported));
    const r = await convlens('train', '--model', init, '--data', SUBSET_DIR, '--limit', '20', '--epochs', '1', '--batch', '10', '--out', join(tmp, 'my-cnn-trained.onnx'), '--no-checkpoint', '--no-test');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('training my-cnn (');
    expect(r.stderr).not.toContain('torch_jit');
    // one epoch of two steps, said as such ("1 epochs x 2 steps" before)
    expect(r.stderr).toContain('1 epoch x 2 steps of 10,');
  });

  it('that takes images of any size is trained, and written, at 28x28', async () => {
    const init = join(tmp, 'any-size.onnx');
    writeFileSync(init, encodeModel(tinyAnySizeCnn(0)));
    const out = join(tmp, 'any-size-trained.onnx');
    const r = await convlens('train', '--model', init, '--data', SUBSET_DIR, '--limit', '20', '--epochs', '1', '--batch', '10', '--out', out, '--no-checkpoint', '--no-test');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('training any-size (');
    expect(decodeModel(readFileSync(out), { source: out }).inputs[0]!.shape).toEqual(['N', 1, 28, 28]);
  });

  it.each([
    ['squeezenet', () => 'squeezenet', /The model "squeezenet" takes 224x224 RGB images \(input \[\w+, 3, 224, 224\]\); Fashion-MNIST holds 28x28 gray images/],
    ['an RGB 32x32 model', () => modelFile('rgb32', { channels: 3, size: 32, classes: 10 }), /The model "rgb32" takes 32x32 RGB images .*Fashion-MNIST holds 28x28 gray images/],
    ['a model of 5 classes', () => modelFile('five', { channels: 1, size: 28, classes: 5 }), /The model "five" gives output \[N, 5\]; training on Fashion-MNIST needs 10 class scores per image/],
  ])('that does not fit Fashion-MNIST (%s) is refused before any output or work, with the way out', async (_, model, message) => {
    const out = join(tmp, `misfit-${Math.random().toString(36).slice(2)}`);
    const r = await convlens('train', '--model', model(), '--data', SUBSET_DIR, '--limit', '20', '--epochs', '1', '--out', join(out, 'model.onnx'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^convlens: [^\n]*\n {2}Train a model made for 28x28 gray images with 10 outputs[^\n]*--model fashion-cnn[^\n]*\n$/);
    expect(existsSync(out)).toBe(false); // no folder, model, checkpoint or lock
  });
});

function modelFile(name: string, images: { channels: number; size: number; classes: number }): string {
  const path = join(tmp, `${name}.onnx`);
  const graph = tinyCnn(0, false, images);
  graph.name = 'torch_jit'; // named by its file, as an exported model is
  writeFileSync(path, encodeModel(graph));
  return path;
}

describe('a damaged checkpoint', () => {
  // the hint used to send every command's user to `convlens train`, whose checkpoints the others refuse
  it.each([
    [['train'], 'convlens train'],
    [['diffuse', 'train'], 'convlens diffuse train'],
    [['style-train', '--style', join(ROOT, 'samples', 'textures', 'brick.png'), '--content', join(ROOT, 'samples', 'photos', 'chelsea.png')], 'convlens style-train'],
  ])('%j --resume names the command whose checkpoint to pass', async (command, writtenBy) => {
    const name = writtenBy.replaceAll(' ', '-');
    const truncated = join(tmp, `truncated-${name}.ckpt`);
    writeFileSync(truncated, Buffer.concat([Buffer.from('CLCKPT\r\n'), Buffer.from([200, 0, 0, 0]), Buffer.from('{"format":')]));
    const r = await convlens(...command, '--resume', truncated, '--out', join(tmp, `from-truncated-${name}.onnx`), '--threads', '1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is not a usable ConvLens checkpoint: the header is truncated');
    expect(r.stderr).toContain(`Pass a file written by \`${writtenBy}\``);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('convlens evaluate', () => {
  it('the built-in model on the full Fashion-MNIST test set: accuracy >= 0.90, per class, confusion-matrix image', async () => {
    const png = join(tmp, 'confusion.png');
    const r = await convlens('evaluate', '-o', png);
    expect(r.code, r.stderr).toBe(0);
    const acc = Number(/^accuracy (\d\.\d+) \((\d+)\/10000\)$/m.exec(r.stdout)?.[1]);
    expect(acc).toBeGreaterThanOrEqual(0.9);
    expect(r.stdout).toMatch(/^ {2}Ankle boot\s+\d\.\d{4} {2}\(\d+\/1000\)$/m);
    expect(r.stderr).not.toContain('untrained');
    const info = await sharp(png).metadata();
    expect(info.format).toBe('png');
    expect(info.width).toBeGreaterThan(600);
  });

  it('--json on the committed subset', async () => {
    const r = await convlens('evaluate', '--data', SUBSET_DIR, '--json', '--no-image');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.total).toBe(2000);
    expect(j.perClass).toHaveLength(10);
    expect(j.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(2000);
    expect(j.correct).toBe(j.confusion.reduce((a: number, row: number[], i: number) => a + row[i]!, 0));
  });

  it('a missing dataset: says where it looked and how to get the data', async () => {
    const r = await convlens('evaluate', '--data', join(tmp, 'no-such-folder'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Fashion-MNIST test set not found\. Looked in: .*no-such-folder \(no such folder\)/);
    expect(r.stderr).toContain('apt-get install dataset-fashion-mnist');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
