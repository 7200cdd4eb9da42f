// Diffusion benchmark: the built-in class-conditional U-Net (assets/models/fashion-unet.onnx).
//
//   npm run bench -- diffusion          # this file only
//   npm run bench -- diffusion --quick  # fewer repetitions
//
// Sampling: seconds per image for 50 DDIM steps, with classifier-free guidance (2 U-Net rows per
// image and step) and without (guidance_scale 1), at 1 and 16 images per run (batched runs
// amortize ONNX Runtime's per-run overhead). Training: the denoiser's training step (forward,
// MSE loss on the noise, all parameter gradients) alone, and the trainer loop (`fit`: batch
// assembly with timesteps, noise and label dropping drawn per step, the graph, Adam, EMA) on
// Fashion-MNIST, in samples/s and the time of one 60,000-image epoch.
import { loadFashionMnist, hasFashionMnist, SUBSET_DIR } from '../src/data/fashion-mnist.js';
import { selectSamples } from '../src/data/dataset.js';
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import { ClassConditionalDenoiser, loadDenoiser } from '../src/methods/diffusion/model.js';
import { sample } from '../src/methods/diffusion/sampler.js';
import { trainDenoiser, type DenoiserConfig } from '../src/methods/diffusion/train.js';
import { FASHION_MNIST_LABELS } from '../src/models/zoo/index.js';
import { classConditionalUNet, type UNetOptions } from '../src/models/zoo/unet.js';
import { meanSquaredError } from '../src/training/losses.js';
import { buildTrainingGraph } from '../src/training/step.js';
import { Trainer } from '../src/training/trainer.js';
import { time } from './util.js';

const QUICK = process.argv.includes('--quick');
const THREADS = 2;
const engine = new Engine(nodeBackend(), { threads: THREADS });

const denoiser: ClassConditionalDenoiser = loadDenoiser(undefined, engine);
const arch = (JSON.parse(denoiser.graph.metadata.get('convlens.training') ?? '{}') as { arch?: UNetOptions }).arch ?? {};
console.log(`ConvLens diffusion benchmark: ${denoiser.name} (${denoiser.parameterCount().toLocaleString('en-US')} parameters, ${JSON.stringify(arch)}), onnxruntime-node, ${THREADS} intra-op threads`);

// ------------------------------------------------------------------ sampling
console.log('\nSampling, DDIM 50 steps (eta 0)');
console.log(['images per run'.padEnd(16), 'guidance'.padEnd(22), 'U-Net rows/step'.padStart(16), 's/run'.padStart(8), 's/image'.padStart(9), 'images/s'.padStart(9)].join('  '));
for (const count of [1, 16]) {
  for (const scale of [3, 1]) {
    const conditions = Array.from({ length: count }, (_, i) => i % 10);
    const ms = await time(() => sample(denoiser, { conditions, unconditional: denoiser.unconditional, guidanceScale: scale, steps: 50, seed: 1 }), QUICK ? 2 : 4, 1);
    const rows = count * (scale > 1 ? 2 : 1);
    console.log([String(count).padEnd(16), (scale > 1 ? `${scale} (cond + uncond)` : '1 (conditional only)').padEnd(22), String(rows).padStart(16), (ms / 1000).toFixed(3).padStart(8), (ms / 1000 / count).toFixed(4).padStart(9), ((count * 1000) / ms).toFixed(1).padStart(9)].join('  '));
  }
}

// ------------------------------------------------------------------ training
const BATCH = 128;
const model = classConditionalUNet({ ...arch, classes: 10 });
const training = buildTrainingGraph(model, { loss: (b, p) => meanSquaredError(b, p, b.input('noise', 'float32', [...b.shapeOf(p)])) });
const trainer = new Trainer(engine, training, model.initializers, { optimizer: { type: 'adam' } });
const rand = (n: number): Float32Array => new Float32Array(n).map(() => Math.random() * 2 - 1);
const feeds = {
  sample: { dtype: 'float32' as const, dims: [BATCH, 1, 28, 28], data: rand(BATCH * 784) },
  timestep: { dtype: 'float32' as const, dims: [BATCH], data: new Float32Array(BATCH).map(() => Math.floor(Math.random() * 1000)) },
  class_labels: { dtype: 'int64' as const, dims: [BATCH], data: BigInt64Array.from({ length: BATCH }, (_, i) => BigInt(i % 11)) },
  noise: { dtype: 'float32' as const, dims: [BATCH, 1, 28, 28], data: rand(BATCH * 784) },
};
const stepMs = await time(() => trainer.step(feeds, 1e-4), QUICK ? 3 : 8, 2);
await trainer.dispose();

const full = hasFashionMnist('train') ? loadFashionMnist('train') : loadFashionMnist('train', SUBSET_DIR);
const steps = QUICK ? 8 : 24;
const ds = selectSamples(full, Array.from({ length: steps * BATCH }, (_, i) => i % full.count));
const config: DenoiserConfig = { arch, schedule: { kind: 'linear' }, epochs: 1, batchSize: BATCH, seed: 0, optimizer: { type: 'adam' }, lr: 1e-3, lrSchedule: { type: 'constant' }, warmupSteps: 0, clipNorm: 1, uncondProb: 0.1, ema: 0.999 };
let loopSps = 0;
await trainDenoiser(engine, { model: classConditionalUNet({ ...arch, classes: 10 }), labels: [...FASHION_MNIST_LABELS], config }, ds, {
  onEpoch: (r) => (loopSps = r.samplesPerSecond),
});
const epoch = (sps: number): string => `${(60000 / sps / 60).toFixed(1)} min`;
console.log(`\nTraining (Adam, batch ${BATCH}, predict the noise; ${ds.source})`);
console.log(['what'.padEnd(58), 'ms/step'.padStart(9), 'samples/s'.padStart(10), 'epoch'.padStart(9)].join('  '));
console.log(['training graph step (forward, loss, gradients, Adam)'.padEnd(58), stepMs.toFixed(0).padStart(9), ((BATCH * 1000) / stepMs).toFixed(1).padStart(10), epoch((BATCH * 1000) / stepMs).padStart(9)].join('  '));
console.log(['trainer loop (noising, label dropping, step, EMA), first epoch'.padEnd(58), ((BATCH * 1000) / loopSps).toFixed(0).padStart(9), loopSps.toFixed(1).padStart(10), epoch(loopSps).padStart(9)].join('  '));
await engine.dispose();
