// The CLI as a newcomer meets it: `--help` lists every command without loading any command's
// libraries, each command loads only what it uses, default outputs go under out/<command>/ with a
// closing line that names every file, and an output path that cannot be written fails before
// any work with a message instead of a stack trace.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/interfaces/cli/registry.js';
import { convlens, convlensIn, ROOT } from '../support/cli.js';
import { forbiddenImports } from '../support/imports.js';
import { tempFolder } from '../support/temp-folder.js';

const CLI_DIR = join(ROOT, 'src', 'interfaces', 'cli');
const HEAVY = ['onnxruntime-node', 'sharp', 'vega', 'vega-lite', '@lancedb/lancedb', 'apache-arrow', 'bullmq', 'ioredis', 'fastify', '@fastify/', 'protobufjs', 'umap-js', '@saehrimnir/druidjs', 'cli-progress', 'gifenc'];
const heavyImports = (entry: string, allowed: string[] = []): string[] =>
  forbiddenImports(entry, (spec) => HEAVY.some((p) => (spec === p || spec.startsWith(p)) && !allowed.includes(p)));

describe('what each command loads', () => {
  it('the CLI entry point loads no command library (commands are imported when they run)', () => {
    expect(heavyImports(join(CLI_DIR, 'main.ts'))).toEqual([]);
  });

  it('summary and predict load the engine and the model reader, nothing else heavy', () => {
    expect(heavyImports(join(CLI_DIR, 'commands', 'summary.ts'), ['onnxruntime-node', 'protobufjs', 'cli-progress'])).toEqual([]);
    // sharp (libvips) loads on first use (src/io/sharp.ts): a PNG at the model's size never needs it.
    expect(heavyImports(join(CLI_DIR, 'commands', 'predict.ts'), ['onnxruntime-node', 'protobufjs', 'cli-progress'])).toEqual([]);
  });

  it('explain loads the chart library only when it draws a chart', () => {
    expect(heavyImports(join(CLI_DIR, 'commands', 'explain.ts'), ['onnxruntime-node', 'protobufjs', 'cli-progress', 'sharp'])).toEqual([]);
  });

  it('the walk does find heavy imports: the studio command reaches the web server', () => {
    expect(heavyImports(join(CLI_DIR, 'commands', 'studio.ts')).some((f) => f.includes('"fastify"'))).toBe(true);
  });

  it('every command in the registry has a module that defines it', async () => {
    for (const c of COMMANDS) expect(typeof (await c.load()).define, c.name).toBe('function');
  });
});

describe('help', () => {
  it('lists every command with its summary', async () => {
    const r = await convlens('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.name);
    expect(r.stdout).toContain('layer table: output shapes');
  });

  it("shows a command's own options, by --help and by `help <command>`", async () => {
    for (const args of [['explain', '--help'], ['help', 'explain']]) {
      const r = await convlens(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('--method <names>');
    }
  });

  it('suggests the closest command for a typo', async () => {
    const r = await convlens('sumary');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'sumary'/);
    expect(r.stderr).toMatch(/summary/);
  });
});

describe('outputs', () => {
  const image = join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png');

  it('explain writes under out/explain/ by default and names every file it wrote', async () => {
    const cwd = tempFolder('convlens-front-');
    const r = await convlensIn(cwd, 'explain', image, '--method', 'saliency,gradcam', '--npy');
    expect(r.code, r.stderr).toBe(0);
    const dir = join(cwd, 'out', 'explain');
    const written = readdirSync(dir).filter((f) => !f.startsWith('.'));
    expect(written.sort()).toEqual(['bag-test18.gradcam.png', 'bag-test18.saliency.png', 'gradcam.npy', 'grid.png', 'saliency.npy', 'summary.json']);
    const line = r.stdout.split('\n').find((l) => l.startsWith('wrote '))!;
    expect(line).toContain(join('out', 'explain'));
    for (const f of written) expect(line).toContain(f);
  });

  it('a path in the way of the output folder fails before any work, with the way out', async () => {
    const cwd = tempFolder('convlens-front-');
    writeFileSync(join(cwd, 'taken'), 'a file, not a folder');
    for (const out of [join(cwd, 'taken'), join(cwd, 'taken', 'sub')]) {
      const r = await convlensIn(cwd, 'explain', image, '--method', 'saliency', '--out', out);
      expect(r.code, out).toBe(1);
      expect(r.stderr).toMatch(/Cannot create the output folder .*a file is in the way/);
      expect(r.stderr).toContain('--out');
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(existsSync(join(cwd, 'out'))).toBe(false);
  });
});
