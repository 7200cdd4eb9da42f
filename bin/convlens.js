#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/interfaces/cli/main.js', import.meta.url);
const launch = new URL('../dist/interfaces/cli/launch.js', import.meta.url);
if (!existsSync(fileURLToPath(main)) || !existsSync(fileURLToPath(launch))) {
  console.error('convlens: the compiled CLI is missing (dist/). Run `npm run build` in the convlens folder first.');
  process.exit(2);
}
// A command on a big model may move to a process with huge pages (dist/interfaces/cli/launch.js
// decides). Only a command naming a model can, so the others do not even load that module.
const args = process.argv.slice(2);
const env = process.env;
if (process.platform === 'linux' && (env.CONVLENS_HUGE_PAGES || env.CONVLENS_LAUNCHER_PID || args.some((a) => a.startsWith('--model') || a.startsWith('-m')))) {
  await (await import(launch.href)).relaunchForHugePages(fileURLToPath(import.meta.url), args);
}
await import(main.href);
