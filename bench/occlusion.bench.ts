// Occlusion and Score-CAM benchmark: incremental inference (Krypton), its approximate mode, and
// the faster Score-CAM, each against brute force measured in the same run on the same image:
// the built-in Fashion-MNIST CNN (28x28), SqueezeNet 1.1 and a ResNet-18-shaped net at 224.
// The approximate rows also print their error against the exact map.
//
//   npm run bench -- occlusion                # this file only
//   npm run bench -- occlusion --quick        # one timed call per row
//   npm run bench -- occlusion --sweep        # also tau x drill-down on SqueezeNet and ResNet-18
//   npm run bench -- occlusion --threads=1    # ONNX Runtime threads (default 2)
//   npm run bench -- occlusion --nets=sq,r18  # some of cnn, sq, r18
//
// Besides wall time it prints the process's CPU time per call: on a machine shared with other
// work, CPU time at one thread is the steadier measure of the work done.
import { Engine } from '../src/engine/runtime/engine.js';
import { nodeBackend } from '../src/engine/runtime/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { loadInputs } from '../src/io/inputs.js';
import { explain, windowOffsets, type ExplainOptions } from '../src/methods/explain/index.js';
import { loadBuiltinModel } from '../src/models/load.js';
import { Model } from '../src/models/model.js';
import { resnet18Like } from '../src/models/zoo/index.js';
import { median } from './util.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const SWEEP = args.has('--sweep');
const THREADS = Number([...args].find((a) => a.startsWith('--threads='))?.slice(10) ?? 2);
const CAT = 'samples/photos/chelsea.png';
const NETS = ([...args].find((a) => a.startsWith('--nets='))?.slice(7) ?? 'cnn,sq,r18').split(',');

interface Net {
  name: string;
  model: Model;
  x: Tensor;
  occlusion: { window: number; stride: number };
}

interface Row {
  net: string;
  method: string;
  mode: string;
  ms: number;
  baseline: number;
  cpu: number;
  cpuBaseline: number;
  error?: { max: number; l2: number };
}

interface Timing {
  ms: number;
  cpu: number;
  raw: Float32Array;
  params: Record<string, unknown>;
}

async function timed(model: Model, x: Tensor, options: ExplainOptions, reps: number): Promise<Timing> {
  await explain(model, x, options); // compiles the sessions this mode uses
  const ts: number[] = [];
  const cpus: number[] = [];
  let last;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    last = await explain(model, x, options);
    const c = process.cpuUsage(c0);
    ts.push(performance.now() - t0);
    cpus.push((c.user + c.system) / 1000);
  }
  const a = last!.attributions[0]!;
  return { ms: median(ts), cpu: median(cpus), raw: a.raw.data as Float32Array, params: a.params };
}

const row = (net: string, method: string, mode: string, t: Timing, base: Timing, err?: { max: number; l2: number }): Row => ({ net, method, mode, ms: t.ms, baseline: base.ms, cpu: t.cpu, cpuBaseline: base.cpu, ...(err ? { error: err } : {}) });

/** max |a - b| / max |b| and ||a - b|| / ||b||. */
function error(a: Float32Array, b: Float32Array): { max: number; l2: number } {
  let dm = 0;
  let bm = 0;
  let d2 = 0;
  let b2 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    dm = Math.max(dm, Math.abs(d));
    bm = Math.max(bm, Math.abs(b[i]!));
    d2 += d * d;
    b2 += b[i]! * b[i]!;
  }
  return { max: dm / bm, l2: Math.sqrt(d2 / b2) };
}

async function main(): Promise<void> {
  const engine = new Engine(nodeBackend(), { threads: THREADS });
  const builtin = loadBuiltinModel(engine);
  const nets: Net[] = [];
  if (NETS.includes('cnn')) nets.push({ name: 'built-in CNN 28x28', model: builtin, x: (await loadInputs(['samples/fashion-mnist/ankle-boot-test0.png'], builtin)).batch, occlusion: { window: 4, stride: 1 } });
  if (NETS.includes('sq')) {
    const sq = loadBuiltinModel(engine, 'squeezenet');
    nets.push({ name: 'SqueezeNet 1.1 224', model: sq, x: (await loadInputs([CAT], sq)).batch, occlusion: { window: 16, stride: 8 } });
  }
  const r18 = new Model(resnet18Like(0, 224, 1000), engine, 'resnet18_like');
  if (NETS.includes('r18')) nets.push({ name: 'ResNet-18-shaped 224', model: r18, x: (await loadInputs([CAT], r18)).batch, occlusion: { window: 16, stride: 8 } });
  console.log(`ConvLens occlusion benchmark: onnxruntime-node, ${THREADS} threads; one image per call; brute force measured in the same run is the baseline`);

  const rows: Row[] = [];
  const reps = (net: Net): number => (QUICK || net.model !== builtin ? 1 : 3);
  for (const net of nets) {
    const occ = net.occlusion;
    const windows = windowOffsets(net.x.dims[2]!, occ.window, occ.stride).length * windowOffsets(net.x.dims[3]!, occ.window, occ.stride).length;
    const label = `occlusion ${occ.window}/${occ.stride} (${windows} windows)`;
    process.stderr.write(`  ${net.name}: ${label}\n`);
    const brute = await timed(net.model, net.x, { methods: ['occlusion'], occlusion: { ...occ, mode: 'brute-force' } }, reps(net));
    rows.push(row(net.name, label, 'brute-force', brute, brute));
    const inc = await timed(net.model, net.x, { methods: ['occlusion'], occlusion: { ...occ, mode: 'incremental' } }, reps(net));
    const exactError = error(inc.raw, brute.raw);
    rows.push(row(net.name, label, `incremental (est. ${inc.params['estimatedSpeedup']}x by MACs)`, inc, brute, exactError));
    const settings: [number | undefined, number | undefined][] = SWEEP && net.model !== builtin ? [[undefined, undefined], [0.75, 1], [0.6, 1], [0.5, 1], [1, 0.5], [1, 0.25], [0.75, 0.25]] : [[undefined, undefined]];
    for (const [tau, drillDown] of settings) {
      const approx = await timed(net.model, net.x, { methods: ['occlusion'], occlusion: { ...occ, mode: 'approximate', ...(tau !== undefined ? { tau } : {}), ...(drillDown !== undefined ? { drillDown } : {}) } }, reps(net));
      rows.push(row(net.name, label, `approximate tau ${approx.params['tau']}, drill-down ${approx.params['drillDown']}`, approx, brute, error(approx.raw, brute.raw)));
    }

    process.stderr.write(`  ${net.name}: scorecam\n`);
    const scBrute = await timed(net.model, net.x, { methods: ['scorecam'], scorecam: { mode: 'brute-force' } }, reps(net));
    const channels = scBrute.params['channels'];
    const scLabel = `scorecam ${String(scBrute.params['layer']).slice(0, 20)} (${channels} ch)`;
    rows.push(row(net.name, scLabel, 'brute-force', scBrute, scBrute));
    const scFast = await timed(net.model, net.x, { methods: ['scorecam'] }, reps(net));
    rows.push(row(net.name, scLabel, `incremental (${scFast.params['maskedInputs']} masks, ${scFast.params['incrementalMasks']} local)`, scFast, scBrute, error(scFast.raw, scBrute.raw)));
  }
  await engine.dispose();

  console.log('\nper image (median of timed calls after a warm-up call): wall ms and speedup = brute force / this; CPU ms of the process and the same ratio; error = max |diff| / max |brute-force map| and relative L2');
  console.log(['net'.padEnd(22), 'method'.padEnd(36), 'mode'.padEnd(44), 'ms'.padStart(8), 'speedup'.padStart(8), 'CPU ms'.padStart(8), 'CPU x'.padStart(7), 'max err'.padStart(9), 'L2 err'.padStart(9)].join('  '));
  for (const r of rows) {
    console.log([r.net.padEnd(22), r.method.padEnd(36), r.mode.padEnd(44), r.ms.toFixed(0).padStart(8), `${(r.baseline / r.ms).toFixed(2)}x`.padStart(8), r.cpu.toFixed(0).padStart(8), `${(r.cpuBaseline / r.cpu).toFixed(2)}x`.padStart(7), (r.error ? r.error.max.toExponential(1) : '').padStart(9), (r.error ? r.error.l2.toExponential(1) : '').padStart(9)].join('  '));
  }
}

await main();
