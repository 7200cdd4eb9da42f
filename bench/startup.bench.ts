// Start-up of the CLI as a user meets it: whole-process wall time of `convlens --help`,
// `convlens summary` and `convlens predict <sample>` (the compiled CLI in dist/, as `npx
// convlens` runs it), against a bare `node -e ""` measured in the same run, interleaved so that
// machine load affects every row alike. "Own" time = the command's median minus bare Node's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './util.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'convlens.js');
if (!existsSync(join(root, 'dist', 'interfaces', 'cli', 'main.js'))) {
  console.error('startup bench: the CLI is not built (dist/ is missing); run `npm run build` first.');
  process.exit(1);
}
const quick = process.argv.includes('--quick');
const reps = quick ? 5 : 15;

const rows: { name: string; args: string[] }[] = [
  { name: 'node -e "" (baseline)', args: ['-e', ''] },
  { name: 'convlens --help', args: [cli, '--help'] },
  { name: 'convlens summary', args: [cli, 'summary'] },
  { name: 'convlens predict <1 image>', args: [cli, 'predict', join(root, 'samples', 'fashion-mnist', 'bag-test18.png')] },
  { name: 'convlens explain --help', args: [cli, 'explain', '--help'] },
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
console.log(`${'command'.padEnd(30)} ${'median'.padStart(9)} ${'own'.padStart(9)}  ${'x bare node'.padStart(11)}`);
rows.forEach((row, i) => {
  const m = median(times[i]!);
  const own = i === 0 ? '' : `${(m - base).toFixed(0)} ms`;
  console.log(`${row.name.padEnd(30)} ${`${m.toFixed(0)} ms`.padStart(9)} ${own.padStart(9)}  ${(m / base).toFixed(2).padStart(11)}`);
});
