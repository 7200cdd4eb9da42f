// The library's main entry ('convlens') and the studio's engine worker must run in a
// browser: nothing they import, however indirectly, may reach a Node built-in or a Node-only
// package. This walks the real import graph of the sources, so a stray `import ... from 'node:fs'`
// deep in a method fails here with the chain that pulls it in, not later in someone's bundler.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forbiddenImports } from '../support/imports.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE_ONLY = ['onnxruntime-node', 'sharp', 'fastify', '@fastify/', '@lancedb/', 'apache-arrow', 'bullmq', 'ioredis', 'cli-progress', 'commander'];

/** Every forbidden import reachable from `entry`, with the chain of files that leads to it. */
const nodeOnlyImports = (entry: string): string[] =>
  forbiddenImports(entry, (spec) => spec.startsWith('node:') || NODE_ONLY.some((p) => spec === p || spec.startsWith(p)));

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
