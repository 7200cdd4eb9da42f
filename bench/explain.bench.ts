// Attribution benchmark: time per image in steady state (sessions compiled, many images in one
// process) for the attribution methods on the ResNet-18-shaped net at 3x224x224. The baseline is
// a plain forward pass per image in batches of 16, measured right before each method (the machine
// is shared, so a baseline from minutes earlier would drift): a method's cost in forwards is what
// it costs beyond the engine itself. An input gradient needs about one forward and one backward
// through the data path (~2 forwards of work, 3 is the target); Grad-CAM's backward stops at the
// layer (1.8 is the target); the "per unit" column divides by the method's own count of passes
// (IG steps, SmoothGrad samples, occlusion windows, Score-CAM masks).
//
//   npm run bench -- explain            # this file only
//   npm run bench -- explain --quick    # fewer images for the slow methods
//   npm run bench -- explain --only=saliency,gradcam   # some methods only
//   npm run bench -- explain --batch=8                 # another engine batch size than the default
//   npm run bench -- explain --net=squeezenet --quick --only=feature-ablation,kernel-shap,lime
//                                                      # SqueezeNet 1.1 on one photo (chelsea.png)
//
// The segment methods' "per unit" is per forward pass the method would make by brute force (their
// `forwardPasses`: segments + 1, samples + 2, samples). Feature ablation has a brute-force row and
// the exact (incremental) row's largest difference from it on one image, as the occlusion bench's.
// CPU ms is the process's user + system time per image over the call: on a shared machine the
// steadier measure of the work done.
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { loadInputs } from '../src/io/inputs.js';
import { explain, type ExplainOptions } from '../src/methods/explain/index.js';
import { defaultBatchSize } from '../src/methods/explain/session.js';
import { loadModel } from '../src/models/load.js';
import { Model } from '../src/models/model.js';
import { resnet18Like } from '../src/models/zoo/index.js';
import { median } from './util.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const ONLY = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const BATCH = Number([...args].find((a) => a.startsWith('--batch='))?.slice('--batch='.length) ?? 0) || undefined;
const THREADS = 2;
const NET = [...args].find((a) => a.startsWith('--net='))?.slice('--net='.length) ?? 'resnet18';
const PHOTO = 'samples/photos/chelsea.png';


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
  /** engine passes per image the method makes, to report the cost of one (IG steps, ...) */
  units?: { count: number; name: string };
  /** the passes per image brute force would make, read from the result (segment methods) */
  passes?: boolean;
}

async function main(): Promise<void> {
  const engine = new Engine(nodeBackend(), { threads: THREADS });
  const squeezenet = NET === 'squeezenet';
  const model = squeezenet ? loadModel('squeezenet', engine) : new Model(resnet18Like(0, 224, 1000), engine, 'resnet18_like');
  // SqueezeNet explains one photo (every image of a call is that photo); the random net smooth random images.
  const photo = squeezenet ? (await loadInputs([PHOTO], model)).batch : undefined;
  const inputs = (n: number, seed: number): Tensor => {
    if (!photo) return images(n, 224, seed);
    const data = new Float32Array(n * photo.data.length);
    for (let i = 0; i < n; i++) data.set(photo.data as Float32Array, i * photo.data.length);
    return { dtype: 'float32', dims: [n, ...photo.dims.slice(1)], data };
  };
  const layer = model.lastSpatialLayer();
  const batch = BATCH ? `${BATCH}` : `${defaultBatchSize(model, 'gradient')} (gradient runs), ${defaultBatchSize(model, 'forward')} (forward runs)`;
  const netName = squeezenet ? `SqueezeNet 1.1, ${PHOTO}` : 'ResNet-18-shaped net, 3x224x224, 1000 classes, random weights';
  console.log(`ConvLens attribution benchmark: ${netName}; onnxruntime-node, ${THREADS} threads; engine batch ${batch}; CAM layer ${layer}`);
  const slow = QUICK ? 1 : 2;
  const sharedPerRun = Math.max(1, (BATCH ?? defaultBatchSize(model, 'gradient')) - 1);
  const cases: Case[] = [
    { name: 'saliency', params: 'max |grad| over channels', options: { methods: ['saliency'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'gradcam', params: `layer ${layer}`, options: { methods: ['gradcam'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'guided-backprop', params: 'guided ReLU rule set', options: { methods: ['guided-backprop'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'integrated-gradients', params: '50 steps, black baseline', options: { methods: ['integrated-gradients'], integratedGradients: { steps: 50 } }, images: slow, reps: 1, units: { count: 50, name: 'step' } },
    { name: 'smoothgrad', params: '50 samples, noise 15%', options: { methods: ['smoothgrad'], smoothgrad: { samples: 50 } }, images: slow, reps: 1, units: { count: 50, name: 'sample' } },
    { name: 'occlusion', params: '16x16 window, stride 8 (729 windows)', options: { methods: ['occlusion'], occlusion: { window: 16, stride: 8 } }, images: slow, reps: 1, units: { count: 729, name: 'window' } },
    { name: 'scorecam', params: `layer ${layer} (512 masks)`, options: { methods: ['scorecam'] }, images: slow, reps: 1, units: { count: 512, name: 'mask' } },
    { name: 'deconvnet', params: 'deconvnet ReLU rule set', options: { methods: ['deconvnet'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'lrp', params: 'epsilon-gamma-box composite', options: { methods: ['lrp'] }, images: 16, reps: QUICK ? 3 : 7 },
    // DeepLIFT runs share a row: one black baseline for batch - 1 images, or one image for
    // batch - 1 of its baselines
    { name: 'deeplift', params: 'rescale rule, black baseline', options: { methods: ['deeplift'] }, images: 16, reps: QUICK ? 3 : 7, units: { count: 1 + 1 / sharedPerRun, name: 'row (images and a shared baseline row)' } },
    { name: 'deeplift-shap', params: '8 noise baselines', options: { methods: ['deeplift-shap'] }, images: slow, reps: QUICK ? 1 : 2, units: { count: 8 + Math.ceil(8 / sharedPerRun), name: 'row (baselines and a shared image row)' } },
    { name: 'gradient-shap', params: '50 samples, 8 noise baselines', options: { methods: ['gradient-shap'] }, images: slow, reps: 1, units: { count: 50, name: 'sample' } },
    { name: 'fullgrad', params: 'input and every bias gradient', options: { methods: ['fullgrad'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'cam', params: 'GAP + dense head weights', options: { methods: ['cam'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'gradcam++', params: `layer ${layer}`, options: { methods: ['gradcam++'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'layercam', params: `layer ${layer}`, options: { methods: ['layercam'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'xgradcam', params: `layer ${layer}`, options: { methods: ['xgradcam'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'hirescam', params: `layer ${layer}`, options: { methods: ['hirescam'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'eigencam', params: `layer ${layer}, first principal component`, options: { methods: ['eigencam'] }, images: 16, reps: QUICK ? 3 : 7 },
    { name: 'ablationcam', params: `layer ${layer} (512 channels ablated)`, options: { methods: ['ablationcam'] }, images: slow, reps: 1, units: { count: 512, name: 'channel' } },
    { name: 'feature-ablation', params: '50 SLIC segments asked, zero baseline', options: { methods: ['feature-ablation'] }, images: slow, reps: QUICK ? 2 : 3, passes: true },
    { name: 'feature-ablation-brute', params: 'the same, brute force', options: { methods: ['feature-ablation'], segments: { mode: 'brute-force' } }, images: slow, reps: QUICK ? 2 : 3, passes: true },
    { name: 'kernel-shap', params: '50 SLIC segments, 256 samples', options: { methods: ['kernel-shap'] }, images: slow, reps: 1, passes: true },
    { name: 'lime', params: '50 SLIC segments, 256 samples', options: { methods: ['lime'] }, images: slow, reps: 1, passes: true },
  ];
  const chosen = (ONLY ? cases.filter((c) => ONLY.includes(c.name) || (c.name === 'feature-ablation-brute' && ONLY.includes('feature-ablation'))) : cases).map((c) => (BATCH ? { ...c, options: { ...c.options, batchSize: BATCH } } : c));
  const rows: { name: string; params: string; ms: number; cpuMs: number; forwardMs: number; forwards: number; images: number; units?: Case['units']; note?: string }[] = [];
  const batchOf16 = inputs(16, 1000);
  const forwardMs = async (): Promise<number> => {
    const t0 = performance.now();
    await model.run(batchOf16);
    return (performance.now() - t0) / 16;
  };
  await forwardMs(); // compiles the forward session
  let seed = 1;
  for (const c of chosen) {
    // Warm-up: compiles the sessions this method uses.
    const warm = await explain(model, inputs(1, seed++), c.options);
    let note: string | undefined;
    if (c.name === 'feature-ablation') {
      // The exact mode against brute force on the warm-up image (as the occlusion bench's error column).
      const reference = await explain(model, inputs(1, seed - 1), { ...c.options, segments: { mode: 'brute-force' } });
      const a = warm.attributions[0]!.raw.data as Float32Array;
      const b = reference.attributions[0]!.raw.data as Float32Array;
      let diff = 0;
      let scale = Math.abs(reference.images[0]!.target.score);
      for (let i = 0; i < a.length; i++) (diff = Math.max(diff, Math.abs(a[i]! - b[i]!))), (scale = Math.max(scale, Math.abs(b[i]!)));
      const p = warm.attributions[0]!.params;
      note = `${String(p['mode'])}, window ${JSON.stringify(p['ablationWindow'] ?? null)}, ${JSON.stringify(p['incrementalSegments'] ?? null)} of ${JSON.stringify(p['segments'])} segments, est. ${JSON.stringify(p['estimatedSpeedup'] ?? null)}x by MACs; max diff vs brute force ${(diff / scale).toExponential(1)} of the score`;
    }
    // Each timed call is paired with a forward pass just before it, and the ratio is taken per
    // pair: other jobs on the machine slow both alike, so the ratios scatter less than the times.
    const per: number[] = [];
    const cpu: number[] = [];
    const fwd: number[] = [];
    const ratio: number[] = [];
    let passes = 0;
    for (let r = 0; r < c.reps; r++) {
      const x = inputs(c.images, seed++);
      const f = await forwardMs();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const e = await explain(model, x, c.options);
      const used = process.cpuUsage(c0);
      const ms = (performance.now() - t0) / c.images;
      if (c.passes) passes = (e.attributions[0]!.params['forwardPasses'] as number[]).reduce((t, v) => t + v, 0) / c.images;
      per.push(ms);
      cpu.push((used.user + used.system) / 1000 / c.images);
      fwd.push(f);
      ratio.push(ms / f);
    }
    const units = c.passes ? { count: passes, name: 'pass' } : c.units;
    process.stderr.write(`    ${c.name}: ${median(per).toFixed(0)} ms/image (${per.map((v) => v.toFixed(0)).join(', ')}), CPU ${median(cpu).toFixed(0)} ms/image, forward ${median(fwd).toFixed(1)} ms/image, ${median(ratio).toFixed(2)} forwards${note ? `; ${note}` : ''}\n`);
    rows.push({ name: c.name, params: c.params, ms: median(per), cpuMs: median(cpu), forwardMs: median(fwd), forwards: median(ratio), images: c.images * c.reps, ...(units ? { units } : {}), ...(note ? { note } : {}) });
  }
  await engine.dispose();

  console.log('\nmilliseconds per image, steady state (median over timed calls; each call explains a batch of images)');
  console.log('forward = a forward pass per image (batch 16) timed just before each call; forwards = median over calls of ms/image / that forward; per unit = forwards / passes per image');
  console.log(['method'.padEnd(22), 'parameters'.padEnd(38), 'ms/image'.padStart(10), 'CPU ms'.padStart(8), 'forward'.padStart(8), 'forwards'.padStart(9), 'per unit'.padStart(16), 'images'.padStart(7)].join('  '));
  for (const r of rows) {
    const units = r.forwards;
    const perUnit = r.units ? `${(units / r.units.count).toFixed(2)} / ${r.units.name}` : '';
    console.log([r.name.padEnd(22), r.params.padEnd(38), r.ms.toFixed(1).padStart(10), r.cpuMs.toFixed(0).padStart(8), r.forwardMs.toFixed(1).padStart(8), units.toFixed(2).padStart(9), perUnit.padStart(16), String(r.images).padStart(7)].join('  '));
  }
  for (const r of rows) if (r.note) console.log(`${r.name}: ${r.note}`);
}

await main();
