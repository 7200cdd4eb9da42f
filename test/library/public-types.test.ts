// A project that uses ConvLens writes declarations of its own (a library built on it, or any
// project with `declaration: true`): every type that reaches it through a value it gets must be
// importable from the package's entries, and so must the types of the options and results it
// writes down itself (named-types.mts). This compiles consumer modules (consumer/) against the
// built package, installed as a consumer has it (node_modules/convlens, here a link to this
// checkout, so its "exports" lead to dist/*.d.ts), with the settings docs/library.md's users
// have: strict, nodenext. Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempFolder } from '../support/temp-folder.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OUT = tempFolder('convlens-consumer-');
afterAll(() => rmSync(OUT, { recursive: true, force: true }));
mkdirSync(join(OUT, 'node_modules'));
symlinkSync(ROOT, join(OUT, 'node_modules', 'convlens'));
for (const types of ['@types', 'undici-types']) symlinkSync(join(ROOT, 'node_modules', types), join(OUT, 'node_modules', types));
const MODULES = ['inferred-types.mts', 'named-types.mts'];
for (const module of MODULES) copyFileSync(join(ROOT, 'test', 'library', 'consumer', module), join(OUT, module));

/** tsc's diagnostics for the consumer modules (empty when they compile). */
function compileConsumer(): string[] {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--ignoreConfig', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--preserveSymlinks', '--declaration', '--emitDeclarationOnly', '--outDir', join(OUT, 'out'), ...MODULES];
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd: OUT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e).split('\n').filter((line) => line.includes('error TS'));
  }
}

describe('the published types, from a consumer', () => {
  it("every type a documented call takes or returns can be named from 'convlens', 'convlens/node' or 'convlens/studio'", () => {
    expect(compileConsumer()).toEqual([]);
  }, 120_000);
});
