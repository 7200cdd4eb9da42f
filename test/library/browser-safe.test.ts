// The library's main entry ('convlens') and the studio's engine worker must run in a
// browser: nothing they import, however indirectly, may reach a Node built-in or a Node-only
// package. This walks the real import graph of the sources, so a stray `import ... from 'node:fs'`
// deep in a method fails here with the chain that pulls it in, not later in someone's bundler.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE_ONLY = ['onnxruntime-node', 'sharp', 'fastify', '@fastify/', '@lancedb/', 'apache-arrow', 'bullmq', 'ioredis', 'cli-progress', 'commander'];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;

function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Every forbidden import reachable from `entry`, with the chain of files that leads to it. */
function nodeOnlyImports(entry: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(IMPORT)) {
      const spec = m[1]!;
      // type-only imports vanish at compile time
      if (/^\s*(?:import|export)\s+type\s/.test(m[0].trimStart())) continue;
      const here = [...chain, relative(ROOT, file)];
      if (spec.startsWith('.')) {
        const next = resolveLocal(file, spec);
        if (next) walk(next, here);
        else if (!/\?url$|\.css$/.test(spec)) found.push(`${here.join(' -> ')}: cannot resolve "${spec}"`);
      } else if (spec.startsWith('node:') || NODE_ONLY.some((p) => spec === p || spec.startsWith(p))) {
        found.push(`${here.join(' -> ')} imports "${spec}"`);
      }
    }
  };
  walk(entry, []);
  return found;
}

describe('code that must run in a browser', () => {
  it("the library's main entry (src/index.ts) reaches no Node built-in or Node-only package", () => {
    expect(nodeOnlyImports(join(ROOT, 'src', 'index.ts'))).toEqual([]);
  });

  it("the studio's engine worker (web/src/engine.worker.ts) reaches none either", () => {
    expect(nodeOnlyImports(join(ROOT, 'web', 'src', 'engine.worker.ts'))).toEqual([]);
  });

  it('the walk does find one: the Node entry (src/node.ts) imports Node built-ins', () => {
    const found = nodeOnlyImports(join(ROOT, 'src', 'node.ts'));
    expect(found.some((f) => /"node:fs"|"sharp"|"onnxruntime-node"/.test(f))).toBe(true);
  });
});
