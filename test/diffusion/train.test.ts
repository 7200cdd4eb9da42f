import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectSamples } from '../../src/data/dataset.js';
import { loadFashionMnist, SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { ClassConditionalDenoiser, readDiffusionMetadata } from '../../src/methods/diffusion/model.js';
import { denoiserRunFromCheckpoint, trainDenoiser, type DenoiserConfig } from '../../src/methods/diffusion/train.js';
import { FASHION_MNIST_LABELS } from '../../src/models/zoo/index.js';
import { classConditionalUNet, UNET_IO, type UNetOptions } from '../../src/models/zoo/unet.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-diffusion-train-');
afterAll(async () => {
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

const arch: UNetOptions = { channels: 1, size: 28, widths: [8, 16], patch: 2, groups: 4, classes: 10, seed: 3 };
const ds = selectSamples(loadFashionMnist('train', SUBSET_DIR), Array.from({ length: 48 }, (_, i) => i * 7));
const config = (over: Partial<DenoiserConfig> = {}): DenoiserConfig => ({
  arch,
  schedule: { kind: 'cosine' },
  epochs: 2,
  batchSize: 16,
  seed: 5,
  optimizer: { type: 'adam' },
  lr: 3e-3,
  lrSchedule: { type: 'cosine' },
  warmupSteps: 2,
  clipNorm: 1,
  uncondProb: 0.2,
  ema: 0.9,
  ...over,
});
const weights = (g: Graph): string => [...g.initializers].filter(([, t]) => t.dtype === 'float32').map(([n, t]) => `${n}:${Buffer.from((t.data as Float32Array).buffer).toString('base64')}`).join('|');

describe('the class-conditional U-Net', () => {
  it('has the documented inputs and outputs, starts at eps = 0, and runs at any batch size', async () => {
    const g = classConditionalUNet(arch);
    expect(g.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([
      [UNET_IO.sample, 'float32', ['N', 1, 28, 28]],
      [UNET_IO.timestep, 'float32', ['N']],
      [UNET_IO.classLabels, 'int64', ['N']],
    ]);
    expect(g.outputs[0]!.name).toBe(UNET_IO.output);
    expect(g.initializers.get('class_embedding.weight')!.dims).toEqual([11, 32]);
    const session = await engine.compileOnce(g);
    const n = 3;
    const out = await session.run({
      sample: { dtype: 'float32', dims: [n, 1, 28, 28], data: new Float32Array(n * 784).map((_, i) => Math.sin(i)) },
      timestep: { dtype: 'float32', dims: [n], data: Float32Array.of(0, 500, 999) },
      class_labels: { dtype: 'int64', dims: [n], data: BigInt64Array.of(0n, 9n, 10n) },
    });
    expect(out[UNET_IO.output]!.dims).toEqual([n, 1, 28, 28]);
    expect(Math.max(...(out[UNET_IO.output]!.data as Float32Array).map(Math.abs))).toBe(0);
    await session.release();
  });
});

describe('training the denoiser (predict the noise)', () => {
  it('a run stopped and resumed from its checkpoint ends with the same weights bit for bit (EMA included)', async () => {
    const run = { model: classConditionalUNet(arch), labels: [...FASHION_MNIST_LABELS], config: config() };
    const full = await trainDenoiser(engine, run, ds);
    expect(full.steps).toBe(6);
    expect(full.completed).toBe(true);
    for (const h of full.history) expect(h.loss).toBeGreaterThan(0);

    const ckpt = join(tmp, 'run.ckpt');
    const first = await trainDenoiser(engine, { ...run, model: classConditionalUNet(arch) }, ds, { checkpoint: { path: ckpt }, stopAtStep: 4 });
    expect(first.completed).toBe(false);
    const c = loadCheckpoint(ckpt);
    const resumed = denoiserRunFromCheckpoint(c, 'test');
    expect(resumed.config).toEqual(run.config);
    const second = await trainDenoiser(engine, resumed, ds, { resume: c });
    expect(second.completed).toBe(true);
    expect(weights(second.model)).toBe(weights(full.model));

    // The exported file describes itself and samples.
    const meta = readDiffusionMetadata(full.model, 'test');
    expect(meta).toMatchObject({ kind: 'class-conditional-unet', predictionType: 'epsilon', nullClass: 10, labels: FASHION_MNIST_LABELS });
    expect(meta.schedule.kind).toBe('cosine');
    const d = new ClassConditionalDenoiser(full.model, engine, meta, 'tiny');
    const eps = await d.predict(new Float32Array(2 * 784).fill(0.1), 2, 500, [3, 10]);
    expect(eps.length).toBe(2 * 784);
    expect(eps.some((v) => v !== 0)).toBe(true);
  });

  it('without EMA exports the raw weights, which differ from the EMA export', async () => {
    const a = await trainDenoiser(engine, { model: classConditionalUNet(arch), labels: [...FASHION_MNIST_LABELS], config: config({ epochs: 1, ema: 0 }) }, ds);
    const b = await trainDenoiser(engine, { model: classConditionalUNet(arch), labels: [...FASHION_MNIST_LABELS], config: config({ epochs: 1 }) }, ds);
    expect(weights(a.model)).not.toBe(weights(b.model));
  });
});
