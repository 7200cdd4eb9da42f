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
// A command on a big model may move to a process with huge pages (dist/interfaces/cli/launch.js).
await (await import(launch.href)).relaunchForHugePages(fileURLToPath(import.meta.url), process.argv.slice(2));
await import(main.href);
