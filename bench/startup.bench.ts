// Start-up of the CLI as a user meets it: whole-process wall time of `convlens --help`,
// `convlens summary`, `convlens predict <sample>` and the first map (`convlens explain <sample>
// --method saliency`, figure and summary written, on the built-in CNN and on SqueezeNet, and when
// its first map file appears), the
// compiled CLI in dist/ as `npx convlens` runs it, against a bare `node -e ""` measured in the
// same run, interleaved so that machine load affects every row alike. "Own" time = the command's
// median minus bare Node's. The first round is not counted: it warms the file cache, as a
// user's second run finds it.
import { spawn } from 'node:child_process';
import { existsSync, type FSWatcher, mkdirSync, mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './util.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'convlens.js');
if (!existsSync(join(root, 'dist', 'interfaces', 'cli', 'main.js'))) {
  console.error('startup bench: the CLI is not built (dist/ is missing); run `npm run build` first.');
  process.exit(1);
}
const quick = process.argv.includes('--quick');
const out = mkdtempSync(join(tmpdir(), 'convlens-startup-'));
process.on('exit', () => rmSync(out, { recursive: true, force: true }));
const reps = quick ? 5 : 15;

interface Row {
  name: string;
  args: string[];
  /** also time the first file whose name ends so in this folder (the first map, written before the grid) */
  first?: { dir: string; suffix: string };
}

const firstMap = (name: string, dir: string, image: string[], model: string[]): Row => ({
  name,
  args: [cli, 'explain', ...image, ...model, '--method', 'saliency', '--out', dir],
  first: { dir, suffix: '.saliency.png' },
});

const rows: Row[] = [
  { name: 'node -e "" (baseline)', args: ['-e', ''] },
  { name: 'convlens --help', args: [cli, '--help'] },
  { name: 'convlens summary', args: [cli, 'summary'] },
  { name: 'convlens predict <1 image>', args: [cli, 'predict', join(root, 'samples', 'fashion-mnist', 'bag-test18.png')] },
  { name: 'convlens explain --help', args: [cli, 'explain', '--help'] },
  firstMap('explain (built-in CNN)', join(out, 'cnn'), [join(root, 'samples', 'fashion-mnist', 'bag-test18.png')], []),
  firstMap('explain (SqueezeNet)', join(out, 'squeezenet'), [join(root, 'samples', 'photos', 'chelsea.png')], ['--model', 'squeezenet']),
];

/** Whole-process wall time, and when the row's first file appeared (a rename into place, seen by inotify). */
async function timeRun(row: Row): Promise<{ ms: number; firstMs?: number }> {
  let firstMs: number | undefined;
  let watcher: FSWatcher | undefined;
  if (row.first) {
    rmSync(row.first.dir, { recursive: true, force: true });
    mkdirSync(row.first.dir, { recursive: true });
  }
  const t0 = performance.now();
  if (row.first) {
    const { suffix } = row.first;
    watcher = watch(row.first.dir, (_event, file) => {
      if (firstMs === undefined && file?.endsWith(suffix) && !file.startsWith('.')) firstMs = performance.now() - t0;
    });
  }
  const child = spawn(process.execPath, row.args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const ms = performance.now() - t0;
  watcher?.close();
  if (code !== 0) throw new Error(`${row.name} failed (exit ${code}): ${stderr.slice(0, 400)}`);
  if (row.first && firstMs === undefined) throw new Error(`${row.name}: no file ending in ${row.first.suffix} appeared in ${row.first.dir}`);
  return { ms, ...(firstMs !== undefined ? { firstMs } : {}) };
}

const times = rows.map(() => [] as number[]);
const firsts = rows.map(() => [] as number[]);
for (let r = -1; r < reps; r++) {
  for (const [i, row] of rows.entries()) {
    const { ms, firstMs } = await timeRun(row);
    if (r < 0) continue; // the first round warms the file cache
    times[i]!.push(ms);
    if (firstMs !== undefined) firsts[i]!.push(firstMs);
  }
}

const base = median(times[0]!);
console.log(`CLI start-up, median of ${reps} whole-process runs (interleaved), on ${process.arch} with Node ${process.version}`);
// The fastest run is the one other jobs on the machine disturbed least.
console.log(`${'command'.padEnd(30)} ${'median'.padStart(9)} ${'own'.padStart(9)}  ${'x bare node'.padStart(11)} ${'fastest'.padStart(9)} ${'own'.padStart(9)}`);
const baseFastest = Math.min(...times[0]!);
rows.forEach((row, i) => {
  const m = median(times[i]!);
  const fastest = Math.min(...times[i]!);
  const own = (ms: number): string => (i === 0 ? '' : `${ms.toFixed(0)} ms`);
  console.log(
    `${row.name.padEnd(30)} ${`${m.toFixed(0)} ms`.padStart(9)} ${own(m - base).padStart(9)}  ${(m / base).toFixed(2).padStart(11)} ${`${fastest.toFixed(0)} ms`.padStart(9)} ${own(fastest - baseFastest).padStart(9)}`,
  );
});
console.log(`\nfirst map on disk, from the process start (explain --method saliency writes each map before the grid figure)`);
rows.forEach((row, i) => {
  if (!firsts[i]!.length) return;
  console.log(`${row.name.padEnd(30)} ${`${median(firsts[i]!).toFixed(0)} ms`.padStart(9)} median, ${`${Math.min(...firsts[i]!).toFixed(0)} ms`.padStart(7)} fastest; process ends at ${median(times[i]!).toFixed(0)} ms`);
});
