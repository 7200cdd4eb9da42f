// docs/api.md and the server agree on the routes: every route the studio serves under /api/ is in
// the document (its tables, or the request line of a JSON example), and every route the document
// lists is served. POST /api/models/:id/describe and GET /api/dataset/folders were served without
// a word in the document.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { inProcessStudio } from './page-inject.js';

const { studio } = inProcessStudio();

type Route = { method: string; path: string };

/** The routes of Fastify's route tree (`printRoutes({ commonPrefix: false })`), HEAD left out. */
function servedRoutes(tree: string): Route[] {
  const out: Route[] = [];
  const stack: { depth: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│]*)(?:[└├]── )(\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length;
    while (stack.length && stack.at(-1)!.depth >= depth) stack.pop();
    const path = (stack.at(-1)?.path ?? '') + m[2]!;
    stack.push({ depth, path });
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.push({ method, path: path.startsWith('/') ? path : `/${path}` });
  }
  return out.filter((r) => r.path.startsWith('/api/'));
}

/** The routes docs/api.md names: table rows `| GET | `/api/...` |`, request lines `POST /api/...` and inline `GET /api/...`. */
function documentedRoutes(doc: string): Route[] {
  const rows = [...doc.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `(\/api\/[^`]+)` \|/gm)];
  const requests = [...doc.matchAll(/^(GET|POST|PUT|PATCH|DELETE) (\/api\/\S+)$/gm)];
  const inline = [...doc.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/api\/[^`\s]+)`/g)];
  return [...rows, ...requests, ...inline].map((m) => ({ method: m[1]!, path: m[2]! }));
}

/** A path pattern as a regex: `:name` and `<name>` one segment, `*` the rest. */
const pattern = (path: string): RegExp => new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[\w]+|<[\w]+>/g, '[^/]+').replace(/\*/g, '.+')}$`);
const same = (a: Route, b: Route): boolean => a.method === b.method && (pattern(a.path).test(b.path) || pattern(b.path).test(a.path));

describe('docs/api.md: routes', () => {
  it('lists every route the studio serves, and serves every route it lists', () => {
    const served = servedRoutes(studio().app.printRoutes({ commonPrefix: false }));
    const documented = documentedRoutes(readFileSync(join(ROOT, 'docs/api.md'), 'utf8'));
    // the parsers read what they should (a change of either format fails here, not silently)
    expect(served.length).toBeGreaterThan(30);
    expect(served).toContainEqual({ method: 'POST', path: '/api/explain' });
    expect(documented.length).toBeGreaterThan(30);
    expect(served.filter((s) => !documented.some((d) => same(d, s))).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    expect(documented.filter((d) => !served.some((s) => same(d, s))).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});
