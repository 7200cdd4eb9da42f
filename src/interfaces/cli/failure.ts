// What the CLI prints when a command fails. A ConvLensError names the problem and the way out; a
// system error (a full disk, a closed stdout, too many open files) is a fact about the machine, said
// in words with no stack; anything else is a fault of ours, said as one and with what a report needs.
import { readFileSync } from 'node:fs';
import { ConvLensError } from '../../engine/errors.js';
import { damagedStoreError } from '../../methods/dataset/store-errors.js';
import { systemReason } from '../../util/system-errors.js';

/** Exit codes: 1 for a problem the user can fix, 130 after a Ctrl-C, 70 (sysexits' EX_SOFTWARE) for a ConvLens bug. */
export const EXIT_CODES = { problem: 1, cancelled: 130, bug: 70 } as const;

const STREAMS: Record<number, string> = { 1: 'the standard output', 2: 'the standard error' };

export function describeFailure(e: unknown): { text: string; exitCode: number } {
  if (e instanceof ConvLensError) return { text: e.describe(), exitCode: e.code === 'CANCELLED' ? EXIT_CODES.cancelled : EXIT_CODES.problem };
  const system = e as Partial<NodeJS.ErrnoException> & { fd?: number };
  if (e instanceof Error && typeof system.code === 'string' && typeof system.syscall === 'string') {
    const known = systemReason(system.code);
    const target = system.path ? ` "${system.path}"` : system.syscall === 'write' ? ` to ${STREAMS[system.fd ?? 1] ?? 'the standard output'}` : '';
    const action = system.syscall === 'write' ? 'write' : system.syscall === 'open' || system.syscall === 'read' ? 'read or open' : system.syscall;
    const toStream = system.syscall === 'write' && !system.path;
    const hint = toStream && (system.code === 'ENOSPC' || system.code === 'EDQUOT') ? 'Redirect the output to a disk with space, or write results to files (--out).' : known?.[1];
    if (known) return { text: `Cannot ${action}${target}: ${known[0]} (${system.code}).\n  ${hint}`, exitCode: EXIT_CODES.problem };
    return { text: `Cannot ${action}${target}: ${system.code}.\n  ${system.message}`, exitCode: EXIT_CODES.problem };
  }
  const damaged = damagedStoreError(e);
  if (damaged) return { text: damaged.describe(), exitCode: EXIT_CODES.problem };
  const detail = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
  return {
    text: [
      `an internal error stopped the command: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      '  This is a fault in ConvLens, not in your input. Please report it with the command you ran',
      `  (ConvLens ${version()}, Node ${process.version}, ${process.platform}-${process.arch}) and these details:`,
      ...detail.split('\n').map((l) => `    ${l.trim()}`),
    ].join('\n'),
    exitCode: EXIT_CODES.bug,
  };
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'version unknown';
  } catch {
    return 'version unknown';
  }
}
