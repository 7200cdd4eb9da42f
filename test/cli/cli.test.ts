import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convlens, ROOT } from '../support/cli.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { encodeNpy, parseNpy } from '../../src/io/npy.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { tempFolder } from '../support/temp-folder.js';

const samples = join(ROOT, 'samples', 'fashion-mnist');
const tmp = tempFolder('convlens-cli-');


beforeAll(() => {
  writeFileSync(join(tmp, 'notes.txt'), 'not an image');
  writeFileSync(join(tmp, 'model.onnx'), encodeModel(courseCnn(1)));
  const full = readFileSync(join(tmp, 'model.onnx'));
  writeFileSync(join(tmp, 'truncated.onnx'), full.subarray(0, Math.floor(full.length / 2)));
  writeFileSync(join(tmp, 'f64.npy'), encodeNpy({ dtype: 'float64', dims: [1, 1, 28, 28], data: new Float64Array(784) }));
  writeFileSync(join(tmp, 'wrong-shape.npy'), encodeNpy({ dtype: 'float32', dims: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32) }));
  writeFileSync(join(tmp, 'good.npy'), encodeNpy({ dtype: 'float32', dims: [2, 1, 28, 28], data: new Float32Array(2 * 784).fill(0.5) }));
});

describe('convlens summary', () => {
  it('prints the course table for the built-in model', async () => {
    const r = await convlens('summary');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total params: 98,442');
    expect(r.stdout).toMatch(/conv4 \(Conv\+Relu\)\s+\(N, 128, 3, 3\)\s+73,856/);
  });

  it('names the layer roles as --layer takes them (fires.5), not by their stored value names', async () => {
    const r = await convlens('summary', '--model', 'squeezenet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^  CAM layer: relu25$/m);
    expect(r.stdout).toMatch(/^  dream layer: fires\.5$/m);
    expect(r.stdout).toMatch(/^  feature layers \(index\): fires\.5, relu25$/m);
    expect(r.stdout).not.toMatch(/_output_0/);
  });

  it('reads a model file given with --model', async () => {
    const r = await convlens('summary', '--model', join(tmp, 'model.onnx'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).totalParams).toBe(98442);
  });

  it('explains a truncated model file', async () => {
    const r = await convlens('summary', '--model', join(tmp, 'truncated.onnx'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('truncated.onnx');
    expect(r.stderr).toMatch(/re-export|truncated/i);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('explains a missing model file', async () => {
    const r = await convlens('summary', '--model', join(tmp, 'nope.onnx'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.onnx');
    expect(r.stderr).toContain('no such file');
  });
});

describe('convlens predict', () => {
  it('gives top-k labels with probabilities for images', async () => {
    const r = await convlens('predict', join(samples, 'trouser-test2.png'), join(samples, 'bag-test18.png'), '-k', '3', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { input: string; top: { label: string; probability: number }[] }[];
    expect(out).toHaveLength(2);
    for (const p of out) {
      expect(p.top).toHaveLength(3);
      expect(p.top[0]!.probability).toBeGreaterThanOrEqual(p.top[1]!.probability);
      expect(p.top.every((t) => t.probability >= 0 && t.probability <= 1)).toBe(true);
    }
  });

  it('accepts preprocessed .npy batches and writes raw logits with --npy', async () => {
    const out = join(tmp, 'logits.npy');
    const r = await convlens('predict', join(tmp, 'good.npy'), '--npy', out);
    expect(r.code).toBe(0);
    const logits = parseNpy(readFileSync(out));
    expect(logits.dims).toEqual([2, 10]);
    expect(logits.dtype).toBe('float32');
  });

  it('rejects a non-image file with the file name and the reason', async () => {
    const r = await convlens('predict', join(tmp, 'notes.txt'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('notes.txt');
    expect(r.stderr).toMatch(/PNG, JPEG or WebP/);
  });

  it('rejects .npy of the wrong dtype and of the wrong shape', async () => {
    const a = await convlens('predict', join(tmp, 'f64.npy'));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/float64.*float32/s);
    const b = await convlens('predict', join(tmp, 'wrong-shape.npy'));
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('(1, 3, 32, 32)');
    expect(b.stderr).toContain('1, 28, 28');
  });

  it('lists the closest layer names for a missing layer', async () => {
    const r = await convlens('activations', join(samples, 'bag-test18.png'), '--layer', 'conv9', '--out', tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No layer named "conv9"');
    expect(r.stderr).toMatch(/Closest layer names: conv\d/);
  });

  it('refuses malformed numbers in options, naming the option and what it expects', async () => {
    const seed = await convlens('featviz', '--seed', 'abc', '--out', tmp);
    expect(seed.code).not.toBe(0);
    expect(seed.stderr).toContain("option '--seed <n>' argument 'abc' is invalid. expected an integer from 0 to 4294967295");
    const port = await convlens('studio', '--port', '99999');
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain('expected a port number, 0 to 65535');
  });

  it('writes any intermediate tensor with activations --layer', async () => {
    const r = await convlens('activations', join(samples, 'bag-test18.png'), '--layer', 'relu2', '--out', tmp);
    expect(r.code).toBe(0);
    const t = parseNpy(readFileSync(join(tmp, 'relu2.npy')));
    expect(t.dims).toEqual([1, 32, 14, 14]);
    expect(Math.min(...(t.data as Float32Array))).toBeGreaterThanOrEqual(0);
  });
});
