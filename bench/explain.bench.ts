// Attribution benchmark: time per image in steady state (sessions compiled, many images in one
// process) for the attribution methods on the ResNet-18-shaped net at 3x224x224. The baseline,
// measured in the same run, is a plain forward pass per image in batches of 16: a method's cost in
// forwards is what it costs beyond the engine itself (a gradient method is about one forward and
// one backward; occlusion and Score-CAM are hundreds of forwards).
//
//   npm run bench -- explain            # this file only
//   npm run bench -- explain --quick    # fewer images for the slow methods
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { explain, type ExplainOptions } from '../src/methods/explain/index.js';
import { defaultBatchSize } from '../src/methods/explain/session.js';
import { Model } from '../src/models/model.js';
import { resnet18Like } from '../src/models/zoo/index.js';
import { median, time } from './util.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const THREADS = 2;


/** Smooth random images (sums of low-frequency waves), in a normalized-input range. */
function images(n: number, size: number, seed: number): Tensor {
  const data = new Float32Array(n * 3 * size * size);
  let a = seed;
  const rand = (): number => ((a = (a * 1103515245 + 12345) >>> 0), a / 2 ** 32);
  for (let i = 0; i < n * 3; i++) {
    const [fx, fy, ph, amp] = [rand() * 0.1, rand() * 0.1, rand() * 6.28, 0.5 + rand()];
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[i * size * size + y * size + x] = amp * Math.sin(fx * x + fy * y + ph) + 0.2 * (rand() - 0.5);
  }
  return { dtype: 'float32', dims: [n, 3, size, size], data };
}

interface Case {
  name: string;
  params: string;
  options: Omit<ExplainOptions, 'methods'> & { methods: string[] };
  /** images per timed call, and timed calls */
  images: number;
  reps: number;
}

async function main(): Promise<void> {
  const engine = new Engine(nodeBackend(), { threads: THREADS });
  const model = new Model(resnet18Like(0, 224, 1000), engine, 'resnet18_like');
  const layer = model.lastSpatialLayer();
  const batch = defaultBatchSize(model);
  console.log(`ConvLens attribution benchmark: ResNet-18-shaped net, 3x224x224, 1000 classes, random weights; onnxruntime-node, ${THREADS} threads; engine batch ${batch}; CAM layer ${layer}`);
  const slow = QUICK ? 1 : 2;
  const cases: Case[] = [
    { name: 'saliency', params: 'max |grad| over channels', options: { methods: ['saliency'] }, images: 16, reps: QUICK ? 2 : 3 },
    { name: 'gradcam', params: `layer ${layer}`, options: { methods: ['gradcam'] }, images: 16, reps: QUICK ? 2 : 3 },
    { name: 'guided-backprop', params: 'guided ReLU rule set', options: { methods: ['guided-backprop'] }, images: 16, reps: QUICK ? 2 : 3 },
    { name: 'integrated-gradients', params: '50 steps, black baseline', options: { methods: ['integrated-gradients'], integratedGradients: { steps: 50 } }, images: slow, reps: 1 },
    { name: 'smoothgrad', params: '50 samples, noise 15%', options: { methods: ['smoothgrad'], smoothgrad: { samples: 50 } }, images: slow, reps: 1 },
    { name: 'occlusion', params: '16x16 window, stride 8 (729 windows)', options: { methods: ['occlusion'], occlusion: { window: 16, stride: 8 } }, images: slow, reps: 1 },
    { name: 'scorecam', params: `layer ${layer} (512 masks)`, options: { methods: ['scorecam'] }, images: slow, reps: 1 },
  ];
  const rows: { name: string; params: string; ms: number; images: number }[] = [];
  const batchOf16 = images(16, 224, 1000);
  const forwardMs = (await time(() => model.run(batchOf16), QUICK ? 3 : 5, 2, 'forward (baseline), batch 16')) / 16;
  let seed = 1;
  for (const c of cases) {
    // Warm-up: compiles the sessions this method uses.
    await explain(model, images(1, 224, seed++), c.options);
    const per: number[] = [];
    for (let r = 0; r < c.reps; r++) {
      const x = images(c.images, 224, seed++);
      const t0 = performance.now();
      await explain(model, x, c.options);
      per.push((performance.now() - t0) / c.images);
    }
    const ms = median(per);
    process.stderr.write(`    ${c.name}: ${ms.toFixed(0)} ms/image\n`);
    rows.push({ name: c.name, params: c.params, ms, images: c.images * c.reps });
  }
  await engine.dispose();

  console.log('\nmilliseconds per image, steady state (median over timed calls; each call explains a batch of images)');
  console.log(`baseline: one forward pass, ${forwardMs.toFixed(1)} ms/image`);
  console.log(['method'.padEnd(22), 'parameters'.padEnd(38), 'ms/image'.padStart(10), 'forwards'.padStart(9), 'images'.padStart(7)].join('  '));
  for (const r of rows) console.log([r.name.padEnd(22), r.params.padEnd(38), r.ms.toFixed(1).padStart(10), (r.ms / forwardMs).toFixed(1).padStart(9), String(r.images).padStart(7)].join('  '));
}

await main();
