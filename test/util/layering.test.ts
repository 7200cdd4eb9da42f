// The folder layout is the architecture: each floor of src/ imports only its own floor and the
// ones below it, so the engine runs in the browser worker without the rest, and a change up high
// never reaches down. Files, models and datasets share a floor (reading a model is file I/O, and
// an image is read for a model's preprocessing).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

const FLOORS: Record<string, number> = {
  util: 0,
  engine: 1,
  io: 2,
  models: 2,
  data: 2,
  training: 3,
  render: 3,
  methods: 4,
  interfaces: 5,
  // entry points: the library, its Node part and the studio
  'index.ts': 6,
  'node.ts': 6,
  'studio.ts': 6,
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative module specifiers a file imports, statically or dynamically (type-only imports included). */
export function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.[^']+)'/g)].map((m) => m[1]!);
}

const floorOf = (file: string): string => relative(SRC, file).split('/')[0]!;

describe('floors of src/', () => {
  it('every top-level entry of src/ has a floor', () => {
    const entries = readdirSync(SRC).filter((e) => !e.endsWith('.d.ts'));
    expect(entries.filter((e) => FLOORS[e] === undefined)).toEqual([]);
  });

  it('finds static, dynamic and type-only imports', () => {
    const text = "import { a } from './a.js';\nimport type { B } from '../b.js';\nconst c = await import('../../c.js');\nimport './side-effect.js';\nimport x from 'sharp';";
    expect(importsOf(text)).toEqual(['./a.js', '../b.js', '../../c.js', './side-effect.js']);
  });

  it('no file imports from a floor above its own', () => {
    const upward: string[] = [];
    for (const file of sources(SRC)) {
      const from = floorOf(file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const to = floorOf(normalize(join(dirname(file), spec)));
        if (FLOORS[to] === undefined) upward.push(`${relative(SRC, file)} imports ${spec}, outside src/`);
        else if (FLOORS[to]! > FLOORS[from]!) upward.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
