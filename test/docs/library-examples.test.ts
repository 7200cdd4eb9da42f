// docs/library.md says its gradient-graph example runs as written: this runs it, as a project that
// installed ConvLens would (node_modules/convlens linked to this checkout, so its "exports" lead to
// dist/; `npm run build` first), and checks it prints the gradients' shapes it says it prints.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIR = mkdtempSync(join(tmpdir(), 'convlens-library-doc-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
mkdirSync(join(DIR, 'node_modules'));
symlinkSync(ROOT, join(DIR, 'node_modules', 'convlens'));
symlinkSync(join(ROOT, 'node_modules', 'tsx'), join(DIR, 'node_modules', 'tsx'));

const blocks = [...readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/library.md', () => {
  it('the gradient-graph example runs as written and prints the shapes its comment gives', () => {
    const example = blocks.find((b) => b.includes('buildGradientGraph('));
    expect(example).toBeDefined();
    const promised = /console\.log\([^\n]*\/\/ (.+)$/m.exec(example!)?.[1];
    expect(promised, 'the example says what it prints').toBeDefined();
    writeFileSync(join(DIR, 'example.mts'), example!);
    const printed = execFileSync(process.execPath, ['--import', 'tsx', 'example.mts'], { cwd: DIR, encoding: 'utf8', env: { ...process.env, CONVLENS_CACHE_DIR: 'off' } });
    expect(printed.replace(/\s+/g, ' ').trim()).toBe(promised!.replace(/\s+/g, ' ').trim());
  }, 60_000);
});
