// `npm test` leaves nothing in the user's temp folder: tests make temp folders only through
// tempFolder() (removed after each test file, even one that fails half-way), and the run as a whole,
// with every process it starts, writes into a temp folder of its own that is removed and checked for
// leftovers at the end (test/support/temp-sandbox.ts). Hundreds of convlens-* folders used to pile
// up in /tmp after a few runs, and the studio's end-to-end tests wrote screenshots into fixed
// folders under /tmp on every run (now only where CONVLENS_TEST_SHOTS says: test/support/screenshots.ts).
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { parseAst } from 'vite';
import { describe, expect, it } from 'vitest';
import { removeTempFolders, tempFolder } from '../support/temp-folder.js';

const TEST = join(import.meta.dirname, '..');
const HELPERS = ['support/temp-folder.ts', 'support/temp-sandbox.ts'];

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testSources(join(dir, e.name)) : /\.m?ts$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** `line: path` of each string or template literal in a TypeScript source that begins with a path under /tmp (comments and paths inside longer strings are not paths the code uses). */
function tmpPathLiterals(source: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const n = node as { type?: string; start?: number; value?: unknown; quasis?: { value: { cooked: string | null } }[] };
    const text = n.type === 'Literal' && typeof n.value === 'string' ? n.value : n.type === 'TemplateLiteral' ? n.quasis![0]!.value.cooked : undefined;
    if (text != null && /^\/tmp(\/|$)/.test(text)) found.push(`${source.slice(0, n.start).split('\n').length}: ${text}`);
    Object.values(n).forEach(visit);
  };
  visit(parseAst(source, { lang: 'ts' }));
  return found;
}

describe('temp folders in tests', () => {
  it('are made only through tempFolder(), never with a bare mkdtemp or a path under tmpdir()', () => {
    const self = relative(TEST, import.meta.filename);
    const offenders = testSources(TEST)
      .map((file) => relative(TEST, file))
      .filter((file) => !HELPERS.includes(file) && file !== self)
      .flatMap((file) =>
        readFileSync(join(TEST, file), 'utf8')
          .split('\n')
          .flatMap((line, i) => (/\bmkdtemp(Sync)?\b|\btmpdir\s*\(/.test(line) && !/^\s*(\/\/|\*)/.test(line) ? [`test/${file}:${i + 1}`] : [])),
      );
    expect(offenders, 'use tempFolder() from test/support/temp-folder.ts').toEqual([]);
  });

  it('never name a fixed path under /tmp: it outlives the run, and other runs share it', () => {
    expect(tmpPathLiterals("// '/tmp/in-a-comment'\nconst a = `/tmp/${name}.png`, b = \"/tmp\";\n/* '/tmp/c' */ const d = 'not /tmp/d', e = join('/tmp/e', f);\n")).toEqual(['2: /tmp/', '2: /tmp', '3: /tmp/e']);
    const offenders = testSources(TEST).flatMap((file) => tmpPathLiterals(readFileSync(file, 'utf8')).map((found) => `test/${relative(TEST, file)}:${found}`));
    expect(offenders, 'make folders with tempFolder() (test/support/temp-folder.ts), save screenshots with saveScreenshot() (test/support/screenshots.ts)').toEqual([]);
  });

  it('live in a temp folder of this run, not in the shared one', () => {
    expect(basename(tmpdir())).toMatch(/^convlens-test-run-/);
    expect(tempFolder('convlens-where-').startsWith(tmpdir())).toBe(true);
  });

  it('are removed with everything in them, read-only folders included', () => {
    const folder = tempFolder('convlens-removed-');
    mkdirSync(join(folder, 'locked', 'deeper'), { recursive: true });
    writeFileSync(join(folder, 'locked', 'deeper', 'file'), 'x');
    chmodSync(join(folder, 'locked', 'deeper'), 0o500);
    chmodSync(join(folder, 'locked'), 0o500);
    removeTempFolders();
    expect(existsSync(folder)).toBe(false);
  });
});
