#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/interfaces/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('convlens: the compiled CLI is missing (dist/). Run `npm run build` in the convlens folder first.');
  process.exit(2);
}
await import(main.href);
