// The TypeScript examples of the README and docs/*.md are what a new user copies first, so each
// one is compiled and (unless it needs a browser) run here, as a project that installed ConvLens
// would (node_modules/convlens linked to this checkout, so its "exports" lead to dist/; `npm run
// build` first), with a `cat.png` beside it as docs/library.md asks. Compiling uses the settings
// docs/library.md's users have (strict, nodenext); an example that stops compiling, or throws when
// run, fails here. Running keeps this test short: examples with long optimizations run with tiny
// settings (SHRUNK below: each replacement must still find its text, so the doc cannot drift from
// what is run), the rest as written.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempFolder } from '../support/temp-folder.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIR = tempFolder('convlens-library-doc-');
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
mkdirSync(join(DIR, 'node_modules'));
symlinkSync(ROOT, join(DIR, 'node_modules', 'convlens'));
for (const dependency of ['tsx', '@types', 'undici-types', 'onnxruntime-web', 'onnxruntime-common']) symlinkSync(join(ROOT, 'node_modules', dependency), join(DIR, 'node_modules', dependency));
copyFileSync(join(ROOT, 'samples', 'photos', 'chelsea.png'), join(DIR, 'cat.png'));

interface Example {
  /** e.g. docs/library.md#2 (the page's second TypeScript block) */
  name: string;
  file: string;
  code: string;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const EXAMPLES: Example[] = DOCS.flatMap((doc) =>
  [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
    name: `${doc}#${i + 1}`,
    file: `${doc.replace(/[/.]/g, '-')}-${i + 1}.mts`,
    code: m[1]!,
  })),
);
for (const example of EXAMPLES) writeFileSync(join(DIR, example.file), example.code);

/** Tiny settings for examples whose optimizations or sweeps take long as written: [doc text, text run]. */
const SHRUNK: Record<string, [string, string][]> = {
  'docs/library.md#3': [
    ['steps: 128', 'steps: 2'],
    ['steps: 20', 'steps: 2'],
  ],
  'docs/explain.md#1': [['steps: 64', 'steps: 4']],
  // the same calls on the Fashion-MNIST CNN, whose 28x28 input takes a 16x16 window at stride 8 too
  'docs/occlusion.md#1': [
    ["loadModel('squeezenet', engine)", "loadModel('fashion-cnn', engine)"],
    ['samples/photos/chelsea.png', 'samples/fashion-mnist/bag-test18.png'],
  ],
};

/** Examples whose every console.log says, in its trailing comment, exactly what it prints. */
const PRINTS_AS_COMMENTED = new Set(['docs/library.md#2', 'docs/models.md#1']);

/** Examples that run in a browser (onnxruntime-web, fetch of the page's model): compiled only. */
const inBrowser = (example: Example): boolean => example.code.includes("from 'onnxruntime-web");

/** tsc's diagnostics for the examples, compiled together as a consumer's modules (empty when they compile). */
function compileExamples(): string[] {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--ignoreConfig', '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', '--preserveSymlinks', '--skipLibCheck', ...EXAMPLES.map((e) => e.file)];
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd: DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (e) {
    const byFile = new Map(EXAMPLES.map((example) => [example.file, example.name]));
    return String((e as { stdout?: string }).stdout ?? e)
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .map((line) => line.replace(/^([^(]+)/, (file) => byFile.get(file) ?? file));
  }
}

/** The example as run: its SHRUNK settings applied, each of which must still be found. */
function asRun(example: Example): string {
  let code = example.code;
  for (const [from, to] of SHRUNK[example.name] ?? []) {
    expect(code, `${example.name} still has "${from}" (update SHRUNK in this test with the doc)`).toContain(from);
    code = code.replaceAll(from, to);
  }
  return code;
}

describe('the TypeScript examples of the README and docs/*.md', () => {
  it('are there, each page with a Library section having at least one', () => {
    const pages = new Set(EXAMPLES.map((e) => e.name.split('#')[0]));
    for (const page of ['docs/library.md', 'docs/explain.md', 'docs/models.md', 'docs/occlusion.md']) expect(pages).toContain(page);
    for (const name of [...Object.keys(SHRUNK), ...PRINTS_AS_COMMENTED]) expect(EXAMPLES.map((e) => e.name)).toContain(name);
  });

  it('compile as a project using ConvLens compiles them (strict, nodenext)', () => {
    expect(compileExamples()).toEqual([]);
  }, 120_000);

  for (const example of EXAMPLES.filter((e) => !inBrowser(e))) {
    it(`${example.name} runs${SHRUNK[example.name] ? ' (with tiny settings)' : ' as written'}`, () => {
      const file = `run-${example.file}`;
      const written = [...example.code.matchAll(/(?:writeFileSync|writeFileAtomic|writeImagePng)\('([^']+)'/g)].map((m) => m[1]!);
      for (const name of written) rmSync(join(DIR, name), { force: true });
      writeFileSync(join(DIR, file), asRun(example));
      const printed = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: DIR, encoding: 'utf8', env: { ...process.env, CONVLENS_CACHE_DIR: 'off' } });
      if (PRINTS_AS_COMMENTED.has(example.name)) {
        const promised = [...example.code.matchAll(/^console\.log\([^\n]*\/\/ (.+)$/gm)].map((m) => m[1]!.replace(/\s+/g, ' ').trim());
        expect(promised.length, 'the example says what it prints').toBeGreaterThan(0);
        expect(printed.trim().split('\n').map((line) => line.replace(/\s+/g, ' ').trim())).toEqual(promised);
      }
      // the files an example says it writes are there
      for (const name of written) expect(existsSync(join(DIR, name)), `${example.name} wrote ${name}`).toBe(true);
    }, 120_000);
  }
});
