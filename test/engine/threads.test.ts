// A session whose caller names no thread count runs on every CPU the process may use. ORT's own
// default (one thread per physical core it detects) gave a single thread on the 2-core machine
// these tests run on, which made every command ~1.7x slower than with --threads 2.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

/** Threads the process gained by creating and running one session with these engine options. */
function threadsAddedBySession(engineOptions: object): number {
  const dist = (file: string): string => JSON.stringify(pathToFileURL(join(ROOT, 'dist', file)).href);
  const script = `
    const { readdirSync } = await import('node:fs');
    const { Engine, GraphBuilder } = await import(${dist('index.js')});
    const { nodeBackend } = await import(${dist('node.js')});
    const threads = () => readdirSync('/proc/self/task').length;
    const engine = new Engine(nodeBackend({ cacheDir: false }), ${JSON.stringify(engineOptions)});
    const b = new GraphBuilder();
    b.output(b.op('Relu', [b.input('x', 'float32', [1, 4])]));
    const graph = b.build();
    const before = threads();
    const session = await engine.compile('relu', () => graph);
    await session.run({ x: { dtype: 'float32', dims: [1, 4], data: new Float32Array(4) } });
    process.stdout.write(String(threads() - before));
  `;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

describe.skipIf(!existsSync('/proc/self/task') || availableParallelism() < 2)('default intra-op threads', () => {
  it('uses every CPU when no count is given', () => {
    const single = threadsAddedBySession({ threads: 1 });
    // ORT's pool has one thread fewer than the count: the calling thread runs work too
    expect(threadsAddedBySession({}) - single).toBe(availableParallelism() - 1);
    expect(threadsAddedBySession({ threads: 2 }) - single).toBe(1);
  });
});
