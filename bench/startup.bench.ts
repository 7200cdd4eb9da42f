// Start-up of the CLI as a user meets it: whole-process wall time of `convlens --help`,
// `convlens summary`, `convlens predict <sample>` and the first map (`convlens explain <sample>
// --method saliency`, figure and summary written, on the built-in CNN and on SqueezeNet), the
// compiled CLI in dist/ as `npx convlens` runs it, against a bare `node -e ""` measured in the
// same run, interleaved so that machine load affects every row alike. "Own" time = the command's
// median minus bare Node's. The first round is not counted: it warms the file cache and the
// compiled-session cache, as a user's second run finds them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

const rows: { name: string; args: string[] }[] = [
  { name: 'node -e "" (baseline)', args: ['-e', ''] },
  { name: 'convlens --help', args: [cli, '--help'] },
  { name: 'convlens summary', args: [cli, 'summary'] },
  { name: 'convlens predict <1 image>', args: [cli, 'predict', join(root, 'samples', 'fashion-mnist', 'bag-test18.png')] },
  { name: 'convlens explain --help', args: [cli, 'explain', '--help'] },
  { name: 'first map (built-in CNN)', args: [cli, 'explain', join(root, 'samples', 'fashion-mnist', 'bag-test18.png'), '--method', 'saliency', '--out', join(out, 'cnn')] },
  { name: 'first map (SqueezeNet)', args: [cli, 'explain', join(root, 'samples', 'photos', 'chelsea.png'), '--model', 'squeezenet', '--method', 'saliency', '--out', join(out, 'squeezenet')] },
];

const times = rows.map(() => [] as number[]);
for (let r = -1; r < reps; r++) {
  rows.forEach((row, i) => {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, row.args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - t0;
    if (p.status !== 0) throw new Error(`${row.name} failed (exit ${p.status}): ${p.stderr.toString().slice(0, 400)}`);
    if (r >= 0) times[i]!.push(ms); // the first round warms the file cache
  });
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
