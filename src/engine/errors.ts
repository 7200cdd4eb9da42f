/**
 * Errors a user can act on: every one names what went wrong and, in `hint`,
 * the way out. The CLI prints message + hint without a stack trace.
 */
export type ErrorCode =
  | 'MODEL_UNREADABLE'
  | 'MODEL_UNSUPPORTED'
  | 'UNSUPPORTED_OP'
  | 'UNSUPPORTED_OPSET'
  | 'EXTERNAL_DATA_MISSING'
  | 'SHAPE_MISMATCH'
  | 'UNKNOWN_NAME'
  | 'INPUT_UNREADABLE'
  | 'INVALID_ARGUMENT'
  | 'RUNTIME_FAILURE'
  | 'CANCELLED'
  /** a path or request the caller may not use (outside the studio's data folders, another origin) */
  | 'FORBIDDEN'
  /** more work is waiting than the studio queues: try again when some has finished */
  | 'BUSY';

export class ConvLensError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConvLensError';
    this.code = code;
    this.hint = hint;
  }

  /** Message and hint in one string, as the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  ${this.hint}` : this.message;
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[n]!;
}

/**
 * Of a name a caller gave, as much as a message quotes and a suggestion compares: any longer is
 * no near miss of a real name, and a whole one can run to megabytes (an edit distance costs its
 * length times each candidate's: 100 000 characters over a 5000-layer model took 16 s).
 */
export const NAME_SHOWN = 200;

/** `name` in quotes, cut to NAME_SHOWN characters (marked, with its length) when longer. */
export function quotedName(name: string): string {
  return name.length > NAME_SHOWN ? `"${name.slice(0, NAME_SHOWN)}..." (${name.length} characters)` : `"${name}"`;
}

/** The candidates closest to `name`, best first (substring matches rank first). */
export function closestNames(name: string, candidates: Iterable<string>, count = 5): string[] {
  const lower = name.slice(0, NAME_SHOWN).toLowerCase();
  const scored = [...candidates].map((c) => {
    const cl = c.toLowerCase();
    const sub = cl.includes(lower) || lower.includes(cl) ? -1000 : 0;
    return { c, score: sub + editDistance(lower, cl) };
  });
  scored.sort((x, y) => x.score - y.score || x.c.localeCompare(y.c));
  return scored.slice(0, count).map((s) => s.c);
}

/**
 * "No <kind> named X" with the closest candidates. `listedBy` says where the full list is
 * (e.g. "`convlens summary`"); short lists are printed whole instead.
 */
export function unknownNameError(kind: string, name: string, candidates: Iterable<string>, listedBy?: string): ConvLensError {
  const all = [...candidates];
  const close = closestNames(name, all);
  const where = all.length <= 20 ? `All ${all.length}: ${all.join(', ')}.` : listedBy ? `${listedBy} lists all ${all.length}.` : '';
  return new ConvLensError(
    'UNKNOWN_NAME',
    `No ${kind} named ${quotedName(name)}.`,
    all.length === 0 ? `There are no ${kind}s to choose from.` : `Closest ${kind} names: ${close.join(', ')}. ${where}`.trim(),
  );
}

/** How a value of the wrong type reads in a message: `"abc"`, `3`, `null`, `an object`, `a Float32Array`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${typeof value}`;
}
