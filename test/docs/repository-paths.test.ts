// The docs tell readers to run the figure scripts (`npx tsx scripts/segments-figure.ts`) and the
// benchmarks (`npm run bench -- explain`) from a fresh clone: they must read the repository's own
// samples and models, not files of the machine they were written on (they read SqueezeNet and the
// photos from /work/shared/, so a clone got ENOENT). System programs and Debian's data sets
// (/usr/...), devices and the studio's URL paths are not files of the repository.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCES = ['scripts', 'bench'].flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|mts|mjs|js)$/.test(f)).map((f) => `${dir}/${f}`));
const OUTSIDE_REPOSITORY = /^\/(?!usr\/|dev\/|proc\/|api\/|assets\/)[\w.-]+\//;

/** Absolute paths in a source's string literals (comments dropped: they may show example shell lines). */
function absolutePaths(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return [...code.matchAll(/['"`](\/[^'"`\s$]*)/g)].map((m) => m[1]!).filter((p) => OUTSIDE_REPOSITORY.test(p));
}

describe('scripts and benchmarks from a fresh clone', () => {
  it('finds the sources', () => {
    expect(SOURCES).toContain('scripts/segments-figure.ts');
    expect(SOURCES).toContain('bench/explain.bench.ts');
    expect(absolutePaths("const a = '/work/shared/x.png'; const b = `/home/me/${f}`; // '/tmp/in-a-comment'\nconst c = '/usr/bin/python3';")).toEqual(['/work/shared/x.png', '/home/me/']);
  });

  it('read no file outside the repository (samples/ and assets/models/ have the photos and SqueezeNet)', () => {
    const outside = SOURCES.flatMap((file) => absolutePaths(readFileSync(join(ROOT, file), 'utf8')).map((path) => `${file}: ${path}`));
    expect(outside).toEqual([]);
  });
});
