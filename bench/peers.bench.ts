// ConvLens against the PyTorch peers (what Captum and pytorch-grad-cam compute, transcribed in
// bench/python/peers.py), as whole processes: the time a user waits for K attribution maps from a
// command, imports and session setup included. ConvLens runs twice per round: as the CLI (which
// also draws its grid figure) and as a script making the same explain() call without figures
// (bench/peers-explain.mjs), the like-for-like peer of the Python script. Same machine, same run, two threads each, the
// same torchvision ResNet-18 (random seeded weights: PyTorch runs the state dict, ConvLens the ONNX
// export of the same module) and the same preprocessed inputs and target class.
//
//   npm run build && npm run bench -- peers            # needs python3-torch and python3-torchvision
//   npm run bench -- peers --quick                     # fewer images, one timed round
//   npm run bench -- peers --only=saliency,gradcam     # some methods only
//   npm run bench -- peers --batch=16                  # ConvLens at this engine batch (default: its own defaults)
//   npm run bench -- peers --peer-batches=1,4,16       # the batch sizes PyTorch is timed at (default: per method)
//   npm run bench -- peers --hugepages                 # both sides with glibc's malloc on transparent huge pages
//
// PyTorch runs each method at several batch sizes and the fastest is the baseline: on this VM,
// where fresh memory is slow, its time varies by up to 1.7x with the batch (saliency was fastest
// at 1, integrated gradients and occlusion at 4, all slowest at 16). ConvLens runs with its
// defaults, as a user gets it.
//
// --hugepages runs both sides with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (glibc 2.35+, Linux with
// transparent huge pages in `madvise` or `always` mode): malloc asks for 2 MB pages, so a process
// takes ~50x fewer page faults. On this VM a fault costs ~15 us and both sides' whole-process times
// drop by a fifth to a third (docs/speed.md); the ratios are reported either way.
//
// Needs Debian's python3-torch and python3-torchvision (apt-get install python3-torch
// python3-torchvision); CONVLENS_PYTHON picks the interpreter. Without them it says so and exits.
// The model, weights and inputs go to $CONVLENS_PEERS_DIR (default: <tmp>/convlens-peers), made
// on the first run. ConvLens runs as installed, with its compiled-session cache, in a folder of
// the bench's own that starts empty for each method: the first run of each method compiles its
// graphs and writes them there (and finds files not yet in the OS cache); it is reported apart
// from the timed rounds, which are later runs, as a user's second command is.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNpy, encodeNpy } from '../src/io/npy.js';
import { writeFileAtomic } from '../src/io/files.js';
import { median } from './util.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const THREADS = 2;
const numberList = (flag: string): number[] | undefined =>
  [...args]
    .find((a) => a.startsWith(`--${flag}=`))
    ?.slice(flag.length + 3)
    .split(',')
    .map(Number);
const BATCH = numberList('batch')?.[0];
const PEER_BATCHES = numberList('peer-batches');
const HUGEPAGES = args.has('--hugepages');
/** The environment of every timed process, ConvLens's and PyTorch's alike. */
const BASE_ENV: NodeJS.ProcessEnv = HUGEPAGES ? { ...process.env, GLIBC_TUNABLES: [process.env['GLIBC_TUNABLES'], 'glibc.malloc.hugetlb=1'].filter(Boolean).join(':') } : process.env;
const TARGET = 1;
const ROOT = join(import.meta.dirname, '..');
const PEERS = join(import.meta.dirname, 'python', 'peers.py');
const LIBRARY = join(import.meta.dirname, 'peers-explain.mjs');

interface Case {
  method: string;
  /** ConvLens CLI options for the same computation */
  convlens: string[];
  /** the same as explain() options (bench/peers-explain.mjs) */
  library: Record<string, unknown>;
  images: number;
  /** batch sizes PyTorch is timed at; the fastest is the baseline */
  peerBatches: number[];
  /** what the comparison on the raw results reduces first (Captum's saliency keeps channels) */
  compare: 'max-over-channels' | 'cam-upsampled' | 'first-channel' | 'same';
}

const CASES: Case[] = [
  { method: 'saliency', convlens: ['--method', 'saliency'], library: { methods: ['saliency'] }, images: QUICK ? 16 : 64, peerBatches: [1, 4, 16], compare: 'max-over-channels' },
  { method: 'gradcam', convlens: ['--method', 'gradcam'], library: { methods: ['gradcam'] }, images: QUICK ? 16 : 64, peerBatches: [1, 4, 16], compare: 'cam-upsampled' },
  { method: 'integrated-gradients', convlens: ['--method', 'integrated-gradients', '--steps', '50', '--baseline', 'zero'], library: { methods: ['integrated-gradients'], integratedGradients: { steps: 50, baseline: 'zero' } }, images: QUICK ? 1 : 4, peerBatches: [4, 16], compare: 'same' },
  { method: 'occlusion', convlens: ['--method', 'occlusion', '--window', '16', '--stride', '8'], library: { methods: ['occlusion'], occlusion: { window: 16, stride: 8 } }, images: QUICK ? 1 : 2, peerBatches: [4, 16], compare: 'first-channel' },
];

function findPython(): string | undefined {
  const candidates = [process.env['CONVLENS_PYTHON'], 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

interface Timed {
  /** wall-clock seconds */
  seconds: number;
  /** user + system CPU seconds of the process and its threads, when GNU time is there to tell */
  cpu?: number;
  stdout: string;
}

// GNU time reports a child's CPU time: on a machine shared with other jobs, wall time mostly
// measures how much of the cores the others left, CPU time how much work each side did.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const TIME_TAG = 'PEERS_CPU';

function timedRun(cmd: string, argv: string[], env: NodeJS.ProcessEnv = BASE_ENV): Timed {
  const [exe, full] = GNU_TIME ? [GNU_TIME, ['-f', `${TIME_TAG} %U %S`, cmd, ...argv]] : [cmd, argv];
  const t0 = performance.now();
  const r = spawnSync(exe, full, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr || r.stdout}`);
  const m = new RegExp(`${TIME_TAG} ([\\d.]+) ([\\d.]+)`).exec(r.stderr);
  return { seconds, ...(m ? { cpu: Number(m[1]) + Number(m[2]) } : {}), stdout: r.stdout };
}

/** ||a - b|| / ||b|| over all elements. */
function relativeL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function readFloats(path: string): { dims: number[]; data: Float32Array } {
  const t = parseNpy(readFileSync(path), path);
  return { dims: [...t.dims], data: t.data as Float32Array };
}

/** The PyTorch result reduced to what ConvLens's .npy holds, for the agreement check. */
function comparable(c: Case, py: { dims: number[]; data: Float32Array }, cl: { dims: number[]; data: Float32Array }, python: string, dir: string): Float32Array {
  if (c.compare === 'same') return py.data;
  if (c.compare === 'first-channel') {
    const [n, ch, h, w] = py.dims as [number, number, number, number];
    const out = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++) out.set(py.data.subarray(i * ch * h * w, i * ch * h * w + h * w), i * h * w);
    return out;
  }
  if (c.compare === 'max-over-channels') {
    const [n, ch, h, w] = py.dims as [number, number, number, number];
    const out = new Float32Array(n * h * w);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < h * w; p++) {
        let m = 0;
        for (let k = 0; k < ch; k++) m = Math.max(m, py.data[(i * ch + k) * h * w + p]!);
        out[i * h * w + p] = m;
      }
    return out;
  }
  // ConvLens's gradcam.npy is at the layer's resolution; upsample it the way Captum does (bilinear).
  const up = join(dir, 'cl-upsampled.npy');
  const script = `import numpy as np, torch, torch.nn.functional as F\nx = torch.from_numpy(np.load(${JSON.stringify(join(dir, 'cl-cam.npy'))}))\nnp.save(${JSON.stringify(up)}, F.interpolate(x, size=(224, 224), mode='bilinear').numpy())`;
  writeFileAtomic(join(dir, 'cl-cam.npy'), encodeNpy({ dtype: 'float32', dims: cl.dims, data: cl.data }));
  timedRun(python, ['-c', script]);
  const upsampled = readFloats(up);
  cl.dims = upsampled.dims;
  cl.data = upsampled.data;
  return py.data;
}

async function main(): Promise<void> {
  const python = findPython();
  if (!python) {
    console.log('peers: skipped. PyTorch was not found (python3 with torch and torchvision); install Debian\'s python3-torch and python3-torchvision, or point CONVLENS_PYTHON at an interpreter that has them.');
    return;
  }
  const bin = join(ROOT, 'bin', 'convlens.js');
  if (!existsSync(join(ROOT, 'dist', 'interfaces', 'cli', 'main.js'))) {
    console.log('peers: skipped. The CLI is not built; run `npm run build` first (the comparison times the `convlens` command).');
    return;
  }
  const dir = process.env['CONVLENS_PEERS_DIR'] ?? join(tmpdir(), 'convlens-peers');
  mkdirSync(dir, { recursive: true });
  const maxImages = Math.max(...CASES.map((c) => c.images));
  if (!existsSync(join(dir, 'resnet18.onnx')) || !existsSync(join(dir, 'x.npy')) || readFloats(join(dir, 'x.npy')).dims[0]! < maxImages) {
    process.stderr.write(`    exporting a random-weight torchvision ResNet-18 to ${dir}\n`);
    timedRun(python, [PEERS, 'export', '--dir', dir, '--images', String(Math.max(64, maxImages))]);
  }
  const versions = JSON.parse(timedRun(python, ['-c', 'import json, torch, torchvision; print(json.dumps([torch.__version__, torchvision.__version__]))']).stdout) as string[];
  const all = readFloats(join(dir, 'x.npy'));
  const per = all.data.length / all.dims[0]!;
  const rounds = QUICK ? 1 : 2;
  console.log(`ConvLens vs PyTorch peers (Captum / pytorch-grad-cam transcribed): torchvision ResNet-18, 3x224x224, random weights, target class ${TARGET}; ${THREADS} threads each; ConvLens at ${BATCH ? `batch ${BATCH}` : 'its default batch sizes'}, PyTorch at its fastest of the batch sizes listed; whole processes, median of ${rounds} timed round(s); PyTorch ${versions[0]}, torchvision ${versions[1]}; GLIBC_TUNABLES=${BASE_ENV['GLIBC_TUNABLES'] ?? '(unset)'}`);

  const rows: string[][] = [];
  const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  for (const c of CASES.filter((k) => !only || only.includes(k.method))) {
    const inputs = join(dir, `x-${c.images}.npy`);
    if (!existsSync(inputs)) writeFileAtomic(inputs, encodeNpy({ dtype: 'float32', dims: [c.images, ...all.dims.slice(1)], data: all.data.slice(0, c.images * per) }));
    const out = mkdtempSync(join(tmpdir(), 'convlens-peers-out-'));
    const env = { ...BASE_ENV, CONVLENS_CACHE_DIR: join(out, 'session-cache') };
    const convlensArgs = [bin, 'explain', inputs, '--model', join(dir, 'resnet18.onnx'), ...c.convlens, '--target', String(TARGET), '--threads', String(THREADS), ...(BATCH ? ['--batch-size', String(BATCH)] : []), '--no-images', '--npy', '--out', out];
    const peerBatches = PEER_BATCHES ?? c.peerBatches;
    const pyArgs = (batch: number, save?: string): string[] => [PEERS, 'run', '--dir', dir, '--method', c.method, '--images', String(c.images), '--threads', String(THREADS), '--batch', String(batch), '--target', String(TARGET), ...(save ? ['--save', save] : [])];
    // The same computation as a library call with no figures (what the Python script does).
    const libraryArgs = [LIBRARY, join(dir, 'resnet18.onnx'), inputs, join(out, 'lib.npy'), String(THREADS), JSON.stringify({ ...c.library, target: TARGET, ...(BATCH ? { batchSize: BATCH } : {}) })];
    try {
      // First round: untimed for the ratios, and the agreement check.
      const cold = timedRun(process.execPath, convlensArgs, env);
      timedRun(process.execPath, libraryArgs, env); // the script's graphs into the cache too, if they differ
      timedRun(python, pyArgs(peerBatches[0]!, join(out, 'py.npy')));
      const cl = readFloats(join(out, `${c.method}.npy`));
      const py = readFloats(join(out, 'py.npy'));
      const reference = comparable(c, py, cl, python, out); // may upsample cl in place first
      const agreement = relativeL2(cl.data, reference);
      const runs: Record<string, Timed[]> = { cli: [], lib: [] };
      for (const b of peerBatches) runs[`torch ${b}`] = [];
      for (let r = 0; r < rounds; r++) {
        runs['cli']!.push(timedRun(process.execPath, convlensArgs, env));
        runs['lib']!.push(timedRun(process.execPath, libraryArgs, env));
        for (const b of peerBatches) runs[`torch ${b}`]!.push(timedRun(python, pyArgs(b)));
        const last = (k: string): string => `${runs[k]![r]!.seconds.toFixed(1)} s (CPU ${runs[k]![r]!.cpu?.toFixed(1) ?? '?'} s)`;
        process.stderr.write(`    ${c.method}: ConvLens CLI ${last('cli')}, script ${last('lib')}, ${peerBatches.map((b) => `PyTorch batch ${b} ${last(`torch ${b}`)}`).join(', ')}\n`);
      }
      const fastest = peerBatches.reduce((best, b) => (median(runs[`torch ${b}`]!.map((x) => x.seconds)) < median(runs[`torch ${best}`]!.map((x) => x.seconds)) ? b : best));
      runs['torch'] = runs[`torch ${fastest}`]!;
      const wall = (k: string): number => median(runs[k]!.map((x) => x.seconds));
      const cpu = (k: string): number | undefined => (runs[k]!.every((x) => x.cpu !== undefined) ? median(runs[k]!.map((x) => x.cpu!)) : undefined);
      const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined ? (a / b).toFixed(2) : '-');
      rows.push([
        c.method,
        String(c.images),
        cold.seconds.toFixed(1),
        wall('cli').toFixed(1),
        wall('lib').toFixed(1),
        wall('torch').toFixed(1),
        `${fastest} of ${peerBatches.join('/')}`,
        ratio(wall('cli'), wall('torch')),
        ratio(wall('lib'), wall('torch')),
        cpu('lib')?.toFixed(1) ?? '-',
        cpu('torch')?.toFixed(1) ?? '-',
        ratio(cpu('lib'), cpu('torch')),
        agreement.toExponential(1),
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  console.log('\nseconds per whole process (K images). CLI = `convlens explain` (also draws grid.png and writes summary.json; on Linux it relaunches itself with glibc malloc on huge pages for this 47 MB model unless CONVLENS_HUGE_PAGES=off, see docs/speed.md), script = the same explain() call with no figures (bench/peers-explain.mjs), both as installed (compiled sessions cached on disk); CLI first = the first CLI run of the method, with an empty cache. CPU = user + system over all threads (GNU time). PyTorch = its fastest batch size (median per batch size); ratios = ConvLens / PyTorch. agreement = relative L2 distance between the two raw results');
  const head = ['method', 'K', 'CLI first', 'CLI', 'script', 'PyTorch', 'PyTorch batch', 'CLI ratio', 'script ratio', 'script CPU', 'PyTorch CPU', 'CPU ratio', 'agreement'];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(head.map((h, i) => h.padStart(width[i]!)).join('  '));
  for (const r of rows) console.log(r.map((v, i) => v.padStart(width[i]!)).join('  '));
}

await main();
