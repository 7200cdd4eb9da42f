// Synthesis benchmark: optimization iterations per second at 3x224x224 on the VGG-like and the
// ResNet-18-shaped nets (random weights), for feature visualization (Fourier parameterization,
// decorrelated colour, Lucid's random transforms, a channel objective), DeepDream (pixels, a roll
// jitter, layer L2, L1-normalized step) and style transfer (Gram matching on 4 layers + content
// on one, Adam); and frames per second of the fast style network at 512x512. The baseline,
// measured in the same run, is one plain forward pass of the same net at the same size: an
// iteration costs one forward and one backward through the synthesis graph, so its cost in
// forwards shows what the optimization loop adds beyond the engine's gradient.
//
//   npm run bench -- synthesize            # this file only
//   npm run bench -- synthesize --quick    # fewer iterations
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { resnet18Like, vggLike } from '../src/models/zoo/index.js';
import { styleNet } from '../src/models/zoo/style-net.js';
import { stylize } from '../src/methods/synthesize/stylize.js';
import { extractFeatures, SynthesisSession } from '../src/methods/synthesize/graph.js';
import { channel, featureMatch, gramMatch, layerL2, sum, weighted, type Objective } from '../src/methods/synthesize/objectives.js';
import { ascend, type AscentOptions } from '../src/methods/synthesize/optimize.js';
import { fourierParam, pixelParam, type Parameterization } from '../src/methods/synthesize/params.js';
import { roll, standardTransforms } from '../src/methods/synthesize/transforms.js';
import { seededRandom } from '../src/models/init.js';
import { time as medianTime } from './util.js';

const QUICK = process.argv.includes('--quick');
const THREADS = 2;
const SIZE = 224;

function image(seed: number, size = SIZE): Tensor {
  const rand = seededRandom(seed);
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    const [fx, fy, ph] = [rand() * 0.1, rand() * 0.1, rand() * 6.28];
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[(c * size + y) * size + x] = 0.5 + 0.3 * Math.sin(fx * x + fy * y + ph) + 0.1 * (rand() - 0.5);
  }
  return { dtype: 'float32', dims: [1, 3, size, size], data };
}

interface Case {
  method: string;
  net: string;
  setup: string;
  its: number;
  forwardMs: number;
}

async function time(model: Model, param: Parameterization, objective: Objective, o: Omit<AscentOptions, 'steps'> & { warp?: boolean }, start?: Float32Array): Promise<number> {
  const shape = { batch: 1, channels: 3 as const, height: SIZE, width: SIZE };
  const session = await SynthesisSession.create({ model, shape, param, objective, ...(o.warp ? { warp: { height: SIZE, width: SIZE } } : {}) });
  const theta = start ? Float32Array.from(start) : param.init(shape, seededRandom(1));
  await ascend(session, theta, { ...o, steps: 2 }); // warm-up: session compiled, caches hot
  const steps = QUICK ? 5 : 20;
  const t0 = performance.now();
  await ascend(session, theta, { ...o, steps: steps - 1 }); // steps - 1 updates + 1 final evaluation = `steps` graph runs
  return steps / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const engine = new Engine(nodeBackend(), { threads: THREADS });
  console.log(`ConvLens synthesis benchmark: 3x${SIZE}x${SIZE}, random weights, onnxruntime-node, ${THREADS} threads; one iteration = one forward + backward run of the synthesis graph and the in-array update`);
  const nets = [
    { name: 'VGG-like', model: new Model(vggLike(0, SIZE), engine, 'vgg_like'), deep: 'relu4', layers: ['relu1', 'relu2', 'relu3', 'relu4'], content: 'relu3' },
    { name: 'ResNet-18-shaped', model: new Model(resnet18Like(0, SIZE, 1000), engine, 'resnet18_like'), deep: 'layer3.1.relu2', layers: ['relu', 'layer1.1.relu2', 'layer2.1.relu2', 'layer3.1.relu2'], content: 'layer2.1.relu2' },
  ];
  const rows: Case[] = [];
  for (const n of nets) {
    const forwardMs = await medianTime(() => n.model.run(image(11)), QUICK ? 5 : 20, 3, `${n.name} forward (baseline)`);
    const fv = await time(n.model, fourierParam(), channel(n.deep, 3), { lr: 0.05, optimizer: 'adam', transforms: standardTransforms(SIZE), warp: true });
    rows.push({ method: 'feature visualization', net: n.name, setup: `channel ${n.deep}:3, Fourier + decorrelated, standard transforms, Adam`, its: fv, forwardMs });
    process.stderr.write(`  ${n.name} featviz ${fv.toFixed(2)} it/s\n`);
    const dr = await time(n.model, pixelParam({ range: 'clip' }), layerL2(n.deep), { lr: 1.5 / 255, optimizer: 'l1-sgd', transforms: [roll(32)], warp: true }, image(3).data as Float32Array);
    rows.push({ method: 'DeepDream', net: n.name, setup: `layer ${n.deep} L2, pixels, roll jitter 32, L1-normalized step`, its: dr, forwardMs });
    process.stderr.write(`  ${n.name} dream ${dr.toFixed(2)} it/s\n`);
    const style = image(5);
    const content = image(7);
    const grams = await extractFeatures(n.model, style, n.layers.map((layer) => ({ layer, gram: true })));
    const [cf] = await extractFeatures(n.model, content, [{ layer: n.content }]);
    const objective = sum(...n.layers.map((l, i) => weighted(0.25, gramMatch(l, grams[i]!))), weighted(0.1, featureMatch(n.content, cf!)));
    const st = await time(n.model, pixelParam({ range: 'clip' }), objective, { lr: 0.02, optimizer: 'adam' }, content.data as Float32Array);
    rows.push({ method: 'style transfer', net: n.name, setup: `Gram on ${n.layers.length} layers + content ${n.content}, pixels, Adam`, its: st, forwardMs });
    process.stderr.write(`  ${n.name} style ${st.toFixed(2)} it/s\n`);
  }
  // Fast style network (the committed architecture: width 16, 3 residual blocks, 2 styles) at 512x512.
  const g = styleNet({ styles: 2, size: 512 });
  const x = image(9, 512);
  await stylize(engine, g, x, [0.5, 0.5]);
  const reps = QUICK ? 3 : 10;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await stylize(engine, g, x, [0.5, 0.5]);
  const fps = reps / ((performance.now() - t0) / 1000);
  await engine.dispose();

  console.log('\niterations per second (median-free: mean over the timed run)');
  console.log(['method'.padEnd(22), 'net'.padEnd(18), 'it/s'.padStart(7), 'forward ms'.padStart(11), 'it / forward'.padStart(13), '  setup'].join('  '));
  for (const r of rows) {
    const ratio = 1000 / r.its / r.forwardMs;
    console.log([r.method.padEnd(22), r.net.padEnd(18), r.its.toFixed(2).padStart(7), r.forwardMs.toFixed(1).padStart(11), `${ratio.toFixed(1)}x`.padStart(13), `  ${r.setup}`].join('  '));
  }
  console.log(`\nfast style network (width 16, 3 residual blocks, 2 styles blended), 1x3x512x512: ${fps.toFixed(2)} frames/s (${(1000 / fps).toFixed(0)} ms/frame)`);
}

await main();
