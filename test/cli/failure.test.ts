// How the CLI reports a failure: a ConvLensError as message and way out, a system error in words
// with no stack, and anything else as a ConvLens fault with what a report needs (exit code 70).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { describeFailure, EXIT_CODES } from '../../src/interfaces/cli/failure.js';
import { toApiError } from '../../src/interfaces/server/jobs.js';
import { CLI, ROOT } from '../support/cli.js';

const systemError = (code: string, syscall: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(`${code}: something, ${syscall}`), { code, syscall, errno: -1, ...extra });

describe('describeFailure', () => {
  it('a ConvLensError: message and hint, exit 1 (130 when cancelled)', () => {
    expect(describeFailure(new ConvLensError('INVALID_ARGUMENT', 'Bad --steps.', 'Give 1 to 1000.'))).toEqual({ text: 'Bad --steps.\n  Give 1 to 1000.', exitCode: 1 });
    expect(describeFailure(new ConvLensError('CANCELLED', 'Cancelled.')).exitCode).toBe(130);
  });

  it('a system error: what could not be done, why, and the way out; no stack', () => {
    const full = describeFailure(systemError('ENOSPC', 'write', { fd: 1 }));
    expect(full.exitCode).toBe(1);
    expect(full.text).toBe('Cannot write to the standard output: the disk is full (ENOSPC).\n  Redirect the output to a disk with space, or write results to files (--out).');
    const files = describeFailure(systemError('EMFILE', 'open', { path: '/data/x.png' }));
    expect(files.text).toBe('Cannot read or open "/data/x.png": too many open files (EMFILE).\n  Raise the limit (ulimit -n) or give fewer inputs per run.');
    expect(describeFailure(systemError('EWEIRD', 'fsync')).text).toMatch(/^Cannot fsync: EWEIRD\./);
    expect(full.text).not.toContain(' at ');
  });

  it('a store LanceDB cannot read: said to be damaged, with the way out, by the CLI and the studio', () => {
    const lance = new Error('Failed to get next batch from stream: lance error: LanceError(IO): Generic memory error: Invalid range 0..1489 for object of size 16 bytes, /rustc/x/library/core/src/ops/function.rs:250:5');
    expect(describeFailure(lance)).toEqual({ text: 'The dataset store could not be read: LanceDB reports a damaged data file (IO error).\n  Index the dataset again into a new store (CLI: convlens index DATASET --store DIR).', exitCode: 1 });
    // the studio's jobs say it in the studio's words (the worker reports errors through toApiError)
    expect(toApiError(lance)).toEqual({ code: 'INPUT_UNREADABLE', message: 'The dataset store could not be read: LanceDB reports a damaged data file (IO error).', hint: 'Index the dataset again into a new store.' });
    expect(toApiError(new TypeError('x is undefined'))).toEqual({ code: 'INTERNAL', message: 'x is undefined' });
  });

  it('anything else: said to be a ConvLens fault, with versions and the stack for the report, exit 70', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'shape')");
    const { text, exitCode } = describeFailure(bug);
    expect(exitCode).toBe(EXIT_CODES.bug);
    expect(text.split('\n')[0]).toBe("an internal error stopped the command: TypeError: Cannot read properties of undefined (reading 'shape')");
    expect(text).toContain('This is a fault in ConvLens, not in your input. Please report it');
    expect(text).toMatch(/ConvLens \d+\.\d+\.\d+, Node v\d+/);
    expect(text).toContain('failure.test.ts'); // the stack, indented
    expect(describeFailure('a string thrown').text).toContain('a string thrown');
  });
});

it.runIf(existsSync('/dev/full'))('the CLI writing to a full disk says so, without a stack, exit 1', async () => {
  const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = execFile('sh', ['-c', `node "${CLI}" summary --model squeezenet > /dev/full`], { cwd: ROOT, timeout: 60_000 }, (error, _stdout, stderr) => done({ code: error ? (error as { code?: number }).code ?? null : 0, stderr }));
    void child;
  });
  expect(result.code).toBe(1);
  expect(result.stderr).toBe('convlens: Cannot write to the standard output: the disk is full (ENOSPC).\n  Redirect the output to a disk with space, or write results to files (--out).\n');
}, 90_000);
