// Runs every bench/*.bench.ts in its own process (so one benchmark's memory and threads do not
// disturb the next) and forwards arguments: `npm run bench -- --quick`, or
// `npm run bench -- engine` to run only files whose name contains "engine".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const files = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort((a, b) => (a.startsWith('engine') ? -1 : b.startsWith('engine') ? 1 : a.localeCompare(b)));
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, f), ...flags], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
