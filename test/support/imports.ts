// Walks the static import graph of TypeScript sources (type-only imports and dynamic import()
// excluded, as they load nothing when the module loads) and reports forbidden packages with the
// chain of files that pulls each one in.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;

function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Every import of a package for which `forbidden(spec)` holds, reachable from `entry`. */
export function forbiddenImports(entry: string, forbidden: (spec: string) => boolean): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (/^\s*(?:import|export)\s+type\s/.test(m[0].trimStart())) continue;
      const here = [...chain, relative(ROOT, file)];
      if (spec.startsWith('.')) {
        const next = resolveLocal(file, spec);
        if (next) walk(next, here);
        else if (!/\?url$|\.css$/.test(spec)) found.push(`${here.join(' -> ')}: cannot resolve "${spec}"`);
      } else if (forbidden(spec)) {
        found.push(`${here.join(' -> ')} imports "${spec}"`);
      }
    }
  };
  walk(entry, []);
  return found;
}
