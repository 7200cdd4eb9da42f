// Every user-facing ConvLensError carries a hint: the way out, printed by the CLI on the line
// after the message. This scans src/**/*.ts for `new ConvLensError(` calls and fails, listing
// file:line, for any call with fewer than 3 arguments (code, message, hint) that is not on the
// allowlist below. Errors the user cannot act on (internal invariants, cancellation) are allowed
// to go without a hint; each allowlist entry says why.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hintForStudio } from '../../src/util/ways-out.js';

const root = join(import.meta.dirname, '..', '..');
const srcDir = join(root, 'src');

/**
 * Calls allowed without a hint, keyed by file (relative to the repository) and a fragment of
 * the message argument's source text (not by line number, so edits elsewhere do not break it).
 */
const ALLOWED: { file: string; message: string; why: string }[] = [
  // Cancellation: the user (or the studio shutting down) asked for it; there is nothing to undo.
  { file: 'src/interfaces/server/workers/pool.ts', message: 'The studio is shutting down.', why: 'CANCELLED: the studio is stopping, by the user\'s own request' },
  { file: 'src/interfaces/server/workers/pool.ts', message: "'Cancelled.'", why: 'CANCELLED: the caller cancelled the job' },
  { file: 'src/interfaces/server/tasks/index.ts', message: 'Cancelled the steps.', why: 'CANCELLED: a test fault task, cancelled by the test' },
  // Test-only and internal invariants: no user action reaches them or fixes them.
  { file: 'src/interfaces/server/tasks/index.ts', message: 'Fault tasks run only in tests', why: 'fault injection for the worker-pool tests; no route submits it' },
  { file: 'src/engine/graph/target-head.ts', message: 'to one class gave shape', why: 'caught by methods/explain/scoring.ts, which then scores with the whole model' },
  { file: 'src/render/colormap.ts', message: 'produced an unreadable colour', why: 'invariant: the colormaps are built in (d3 interpolators); a user cannot define one' },
];

interface ErrorCall {
  /** 1-based line of `new ConvLensError(` */
  line: number;
  /** source text of each top-level argument, trimmed */
  args: string[];
}

/** Index just past the string or template literal that starts at `i` (the quote character). */
function skipQuoted(src: string, i: number): number {
  const quote = src[i];
  let j = i + 1;
  while (j < src.length) {
    const c = src[j]!;
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) return j + 1;
    if (quote === '`' && c === '$' && src[j + 1] === '{') {
      j = skipCode(src, j + 2, '}');
      continue;
    }
    if (quote !== '`' && c === '\n') throw new Error(`unterminated string at offset ${i}`);
    j++;
  }
  throw new Error(`unterminated literal at offset ${i}`);
}

/** Index just past a comment starting at `i` ('//' or '/*'), or -1 if there is none there. */
function skipComment(src: string, i: number): number {
  if (src[i] !== '/') return -1;
  if (src[i + 1] === '/') {
    const end = src.indexOf('\n', i);
    return end < 0 ? src.length : end;
  }
  if (src[i + 1] === '*') {
    const end = src.indexOf('*/', i + 2);
    if (end < 0) throw new Error(`unterminated comment at offset ${i}`);
    return end + 2;
  }
  return -1;
}

/** Whether a '/' at `i` starts a regular expression literal (judged by the previous token). */
function startsRegex(src: string, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && /\s/.test(src[k]!)) k--;
  if (k < 0) return true;
  const prev = src[k]!;
  // TypeScript's non-null assertion (`a! / b`) ends an operand
  if (prev === '!' && k > 0 && /[\w$)\]]/.test(src[k - 1]!)) return false;
  if ('([{,;:=!&|?+-*%<>~^'.includes(prev)) return true;
  const word = /[A-Za-z_$]+$/.exec(src.slice(Math.max(0, k - 10), k + 1))?.[0];
  return word !== undefined && ['return', 'typeof', 'case', 'in', 'of', 'void', 'throw'].includes(word);
}

/** Index just past the regular expression literal starting at `i`. */
function skipRegex(src: string, i: number): number {
  let j = i + 1;
  let inClass = false;
  while (j < src.length) {
    const c = src[j]!;
    if (c === '\\') j++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) break;
    else if (c === '\n') throw new Error(`unterminated regex at offset ${i}`);
    j++;
  }
  j++;
  while (j < src.length && /[a-z]/.test(src[j]!)) j++;
  return j;
}

/** Index just past a comment, string, template or regex literal starting at `i`, or -1 when code starts there. */
function skipNonCode(src: string, i: number): number {
  const c = src[i];
  const afterComment = skipComment(src, i);
  if (afterComment >= 0) return afterComment;
  if (c === '"' || c === "'" || c === '`') return skipQuoted(src, i);
  if (c === '/' && startsRegex(src, i)) return skipRegex(src, i);
  return -1;
}

/**
 * Scans code from `i` to the first unbalanced `close`, returning the index just past it; with
 * `onComma`, reports the index of each comma at the top level (depth 0) along the way.
 */
function skipCode(src: string, i: number, close: string, onComma?: (at: number) => void): number {
  const stack: string[] = [];
  let j = i;
  while (j < src.length) {
    const c = src[j]!;
    const past = skipNonCode(src, j);
    if (past >= 0) {
      j = past;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') stack.push(c === '(' ? ')' : c === '[' ? ']' : '}');
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.length === 0) {
        if (c !== close) throw new Error(`unbalanced '${c}' at offset ${j}`);
        return j + 1;
      }
      if (stack.pop() !== c) throw new Error(`mismatched '${c}' at offset ${j}`);
    } else if (c === ',' && stack.length === 0) onComma?.(j);
    j++;
  }
  throw new Error(`no closing '${close}' after offset ${i}`);
}

/** Whether code text holds nothing but white space and comments. */
function isBlank(text: string): boolean {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').trim() === '';
}

/** Every `new ConvLensError(...)` call in the source text, outside comments and strings. */
function findErrorCalls(src: string): ErrorCall[] {
  const calls: ErrorCall[] = [];
  const head = /\bnew\s+ConvLensError\s*\(/y;
  let i = 0;
  while (i < src.length) {
    const past = skipNonCode(src, i);
    if (past >= 0) {
      i = past;
      continue;
    }
    head.lastIndex = i;
    const m = head.exec(src);
    if (m && (i === 0 || !/[\w$.]/.test(src[i - 1]!))) {
      const open = i + m[0].length;
      const commas: number[] = [];
      const end = skipCode(src, open, ')', (at) => commas.push(at));
      const bounds = [open - 1, ...commas, end - 1];
      const args = bounds
        .slice(1)
        .map((b, k) => src.slice(bounds[k]! + 1, b).trim())
        .filter((a, k, all) => !(k === all.length - 1 && isBlank(a))); // after a trailing comma
      calls.push({ line: src.slice(0, i).split('\n').length, args });
      i = end;
      continue;
    }
    i++;
  }
  return calls;
}

/** Whether a call passes a hint: a third argument that is not undefined or an empty string. */
function hasHint(c: ErrorCall): boolean {
  return c.args.length >= 3 && !/^(undefined|''|""|``)$/.test(c.args[2]!);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('findErrorCalls', () => {
  it('counts top-level arguments, skipping commas and parens in strings, templates, regexes and comments', () => {
    const src = [
      `// new ConvLensError('X', 'in a comment')`,
      `const s = "new ConvLensError('X', 'in a string')";`,
      `throw new ConvLensError('INVALID_ARGUMENT', \`a, b (\${f(1, ')')}) \\\` ,\`, 'x, y)'.replace(/[,)]/g, ''));`,
      `throw new ConvLensError(`,
      `  'SHAPE_MISMATCH',`,
      `  'two, (args)', // only, (two`,
      `);`,
      `throw new ConvLensError('A', 'm', "hint, with (comma)", { cause: e });`,
      `const x = a / b; throw new ConvLensError('A', 'after, division');`,
    ].join('\n');
    const calls = findErrorCalls(src);
    expect(calls.map((c) => [c.line, c.args.length])).toEqual([
      [3, 3],
      [4, 2],
      [8, 4],
      [9, 2],
    ]);
    expect(calls[0]!.args[2]).toBe(`'x, y)'.replace(/[,)]/g, '')`);
    expect(calls[1]!.args[1]).toBe(`'two, (args)'`);
  });

  it('does not take undefined or an empty string for a hint', () => {
    const [a, b, c] = findErrorCalls(`new ConvLensError('A', 'm', undefined, { cause: e }); new ConvLensError('A', 'm', ''); new ConvLensError('A', 'm', 'Do this.');`);
    expect([hasHint(a!), hasHint(b!), hasHint(c!)]).toEqual([false, false, true]);
  });
});

describe('ConvLensError hints', () => {
  const calls = tsFiles(srcDir).flatMap((path) => {
    const file = relative(root, path).split('\\').join('/');
    let found: ErrorCall[];
    try {
      found = findErrorCalls(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    return found.map((c) => ({ file, ...c }));
  });

  it('finds the calls', () => {
    expect(calls.length).toBeGreaterThan(300);
  });

  it('every user-facing error says the way out (a hint argument)', () => {
    const isAllowed = (file: string, message: string): boolean => ALLOWED.some((a) => a.file === file && message.includes(a.message));
    const missing = calls
      .filter((c) => !hasHint(c) && !isAllowed(c.file, c.args[1] ?? ''))
      .map((c) => `${c.file}:${c.line}  ${c.args[1]?.replace(/\s+/g, ' ').slice(0, 90)}`);
    expect(missing, `ConvLensError calls without a hint:\n${missing.join('\n')}`).toEqual([]);
  });

  it('every allowlist entry still matches a call without a hint', () => {
    const stale = ALLOWED.filter(
      (a) => !calls.some((c) => c.file === a.file && !hasHint(c) && (c.args[1] ?? '').includes(a.message)),
    ).map((a) => `${a.file}: ${a.message}`);
    expect(stale).toEqual([]);
  });
});

describe('hints as the studio shows them', () => {
  /** Hints no studio request reaches, or that name the CLI as such; each says why. */
  const CLI_ONLY: { file: string; why: string; hint?: string }[] = [
    { file: 'src/training/', why: 'convlens train and diffuse train; the studio trains only style networks, on fixed settings' },
    { file: 'src/models/zoo/', why: 'architectures built by the train commands' },
    { file: 'src/methods/diffusion/pipeline.ts', why: 'Stable-Diffusion pipelines are CLI only (--pipeline)' },
    { file: 'src/methods/diffusion/model.ts', why: 'the studio samples with the built-in denoiser only' },
    { file: 'src/methods/synthesize/fast-style.ts', hint: '--resume', why: 'resuming a style network\'s training is CLI only' },
    { file: 'src/methods/dataset/context.ts', hint: '--model', why: 'the studio lists a model\'s own stores only' },
    { file: 'src/methods/dataset/lock.ts', hint: '--store', why: 'a studio store is named by its id, and its lock holder is named in the hint' },
    { file: 'src/interfaces/server/state.ts', hint: 'with the CLI', why: 'names the CLI as the place to go' },
  ];
  // Library and server errors reach the studio's page (src/interfaces/cli never runs there).
  const studioReachable = tsFiles(srcDir)
    .map((path) => relative(root, path).split('\\').join('/'))
    .filter((file) => !file.startsWith('src/interfaces/cli/'))
    .flatMap((file) => findErrorCalls(readFileSync(join(root, file), 'utf8')).map((c) => ({ file, ...c })));

  it('name no CLI flag or command once made for the studio (its own start options aside)', () => {
    const cliOnly = studioReachable
      .filter((c) => hasHint(c) && !CLI_ONLY.some((a) => c.file.startsWith(a.file) && (a.hint === undefined || c.args[2]!.includes(a.hint))))
      .map((c) => ({ ...c, shown: hintForStudio(c.args[2]!) }))
      // the studio's start options (convlens studio --memory 8, --workers 1) are the way out for its limits
      .filter((c) => /(^|[\s(`'"])--[a-z]|\bconvlens [a-z]/.test(c.shown.replace(/convlens studio --memory <GB>|--memory|--workers/g, '')))
      .map((c) => `${c.file}:${c.line}  ${c.shown.replace(/\s+/g, ' ').slice(0, 140)}`);
    expect(cliOnly, `hints that show CLI flags or commands in the studio:\n${cliOnly.join('\n')}`).toEqual([]);
  });

  it('drops the CLI\'s asides and puts the studio\'s controls for the CLI\'s ways out', () => {
    expect(hintForStudio('Use 1 or more steps (CLI: --steps).')).toBe('Use 1 or more steps.');
    expect(hintForStudio('Use a window from 1 to 9 pixels (occlusion "window"; CLI: --window).')).toBe('Use a window from 1 to 9 pixels (occlusion "window").');
    expect(hintForStudio('Use the Adam optimizer (CLI: --optimizer adam), or no transforms.')).toBe('Use the Adam optimizer, or no transforms.');
    expect(hintForStudio('Check the name; `convlens summary --model <file>` lists a model\'s layers.')).toBe("Check the name; the Layers tab lists a model's layers.");
    expect(hintForStudio('Pass a label (`convlens predict` shows the labels).')).toBe('Pass a label (the Prediction panel shows the labels).');
    // a command that began a sentence still does (the studio's "No layer named …" hint read "fires.1. the Layers tab lists …")
    expect(hintForStudio('Closest layer names: conv0, fires.1. `convlens summary` lists all 65 layers.')).toBe('Closest layer names: conv0, fires.1. The Layers tab lists all 65 layers.');
    expect(hintForStudio('`convlens predict` shows the labels.')).toBe('The Prediction panel shows the labels.');
  });
});
