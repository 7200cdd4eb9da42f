// Runs the built CLI (bin/convlens.js -> dist/) as a user would, from the repository root, and
// returns its exit code and output instead of throwing on a non-zero exit.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'convlens.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function convlens(...args: string[]): Promise<CliResult> {
  try {
    // Summaries printed with --json can be large (explain, featviz); 64 MB leaves room.
    const { stdout, stderr } = await run('node', [CLI, ...args], { cwd: ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as CliResult;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The CLI run from another folder (relative defaults such as out/<command>/ land there). */
export async function convlensIn(cwd: string, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { cwd, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as CliResult;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
