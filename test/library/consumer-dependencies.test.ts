// "overrides" in package.json shape only this repository's own install: a project that installs
// ConvLens gets whatever its dependencies' ranges resolve to. A version pinned there to keep
// Node 20 working (light-my-request 6.6.0, whose cookie 1.x runs on Node 20; 6.8 pulls cookie 2,
// engines node >= 22, and `npm install --engine-strict` on Node 20 then fails) must therefore
// also be a dependency of ours, with the override following it ("$name").
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; overrides?: Record<string, unknown> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };

describe('versions pinned for Node 20 reach projects that install ConvLens', () => {
  const pinned = Object.keys(pkg.overrides ?? {});

  it('every overridden package is also a dependency, and the override refers to it', () => {
    expect(pinned.length).toBeGreaterThan(0);
    for (const name of pinned) {
      expect(pkg.dependencies[name], name).toBeDefined();
      expect(pkg.overrides![name], name).toBe(`$${name}`);
    }
  });

  it('the lock resolves each of them once, to the version the dependency range allows', () => {
    for (const name of pinned) {
      const copies = Object.entries(lock.packages).filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`));
      expect(copies.map(([path]) => path), name).toEqual([`node_modules/${name}`]);
      const range = pkg.dependencies[name]!;
      const [major, minor] = copies[0]![1].version!.split('.');
      // ~x.y.z admits x.y.*: the range given is a tilde range, and the lock stays inside it
      expect(range.startsWith(`~${major}.${minor}.`), `${name} ${range} vs ${copies[0]![1].version}`).toBe(true);
    }
  });
});
