// What `npm pack` puts in the tarball is what another project gets: every file the package's
// "exports" and the studio need at run time, nothing of the repository's tests, and source maps
// that a consumer's debugger or `node --enable-source-maps` can use without the repository's src/.
// Reads dist/ as built (npm run build first); --ignore-scripts keeps `prepare` from rebuilding.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[];
const files = new Set(packed[0]!.files.map((f) => f.path));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>>; bin: Record<string, string> };

describe('the packed tarball', () => {
  it('ships the licence package.json names, and the provenance notes of the weights and images beside them', () => {
    // package.json said MIT with no licence text in the tarball
    expect(files.has('LICENSE')).toBe(true);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    for (const note of ['assets/models/squeezenet1.1/README.md', 'samples/SOURCES.md']) expect(files.has(note), note).toBe(true);
  });

  it('holds every file the exports and the bin name', () => {
    const targets = [...Object.values(pkg.exports).flatMap((conditions) => Object.values(conditions)), ...Object.values(pkg.bin)].map((p) => posix.normalize(p));
    expect(targets.filter((t) => !files.has(t))).toEqual([]);
  });

  it("holds the studio's built front end and the built-in models", () => {
    expect(files.has('dist/web/index.html')).toBe(true);
    expect([...files].some((f) => f.startsWith('dist/web/assets/') && f.endsWith('.wasm'))).toBe(true);
    expect([...files].filter((f) => f.startsWith('assets/models/') && f.endsWith('.onnx')).length).toBeGreaterThan(0);
  });

  it('holds none of the tests', () => {
    expect([...files].filter((f) => /^test\/|\.test\.[jt]s$/.test(f))).toEqual([]);
  });

  it('ships source maps whose every source is in the tarball or inside the map', () => {
    const maps = [...files].filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    const unusable = maps.filter((m) => {
      const map = JSON.parse(readFileSync(join(ROOT, m), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sources.some((s, i) => !files.has(posix.join(dirname(m), s)) && typeof map.sourcesContent?.[i] !== 'string');
    });
    expect(unusable.slice(0, 5)).toEqual([]);
  });
});
