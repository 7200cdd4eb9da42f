// The CLI's launcher: for a big model, run the command in a second Node process whose malloc uses
// transparent huge pages (src/interfaces/huge-pages.ts says why). bin/convlens.js calls this before
// it loads anything else, and only for a command naming a model, so a command that stays in this
// process pays a few stat calls, and one that moves pays a second Node start (~0.13 s) to save
// ~0.5-0.7 s on a ResNet-18 explanation (3 s on VGG-11).
//
// The launcher stays until the command ends and then ends the same way (exit code or signal).
// Signals sent to it reach the command; a terminal's Ctrl-C reaches both (one process group), and
// the command takes the two as one (`cliJob` in common.ts). If the launcher is killed outright,
// the command notices within a second and stops as on SIGTERM.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { findBuiltin } from '../../models/builtins.js';
import { hugePagesSetting, hugePageSystem, withHugePages, type HugePageSystem } from '../huge-pages.js';

/**
 * Models from this size on move to a huge-page process. Below it the second start costs about what
 * huge pages save: SqueezeNet (4.8 MB) saved 0.15 s on one photo; ResNet-18 (47 MB) 0.6-0.7 s.
 */
export const RELAUNCH_MODEL_BYTES = 16 << 20;

/** Set in the command's environment: the launcher's pid, which the command watches. */
export const LAUNCHER_ENV = 'CONVLENS_LAUNCHER_PID';

const STOP_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGKILL']);

/** Commands that stay: help, and the studio, which starts its workers with huge pages itself. */
const STAYS = new Set(['help', 'studio']);

/** The value of --model / -m on a command line (`--model x`, `--model=x`, `-m x`, `-mx`), if given. */
export function modelArgument(args: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === '--model' || a === '-m') found = args[++i];
    else if (a.startsWith('--model=')) found = a.slice('--model='.length);
    else if (a.startsWith('-m') && !a.startsWith('--') && a.length > 2) found = a.slice(2);
  }
  return found;
}

/**
 * The environment to relaunch the command with, or undefined to run it here. `sizeOf` gives a
 * file's size in bytes (undefined when it cannot be read: the command then runs here and reports
 * the missing file itself).
 */
export function relaunchEnvironment(args: readonly string[], env: NodeJS.ProcessEnv, system: HugePageSystem, sizeOf: (path: string) => number | undefined, cwd = process.cwd()): NodeJS.ProcessEnv | undefined {
  const next = withHugePages(env, system);
  if (!next) return undefined;
  if (args.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version')) return undefined;
  const command = args.find((a) => !a.startsWith('-'));
  if (command === undefined || STAYS.has(command)) return undefined;
  if (hugePagesSetting(env) === 'on') return next;
  const model = modelArgument(args);
  if (model === undefined) return undefined;
  const file = findBuiltin(model)?.file ?? resolve(cwd, model);
  const size = sizeOf(file);
  return size !== undefined && size >= RELAUNCH_MODEL_BYTES ? next : undefined;
}

function fileSize(path: string): number | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `script args` in a huge-page process when that pays, and never returns then (this process
 * ends as the command does). Returns when the command should run in this process.
 */
export async function relaunchForHugePages(script: string, args: readonly string[]): Promise<void> {
  watchLauncher();
  // A debugger's port is taken by this process; the command stays where it is being debugged.
  if (process.execArgv.some((a) => a.startsWith('--inspect'))) return;
  const env = relaunchEnvironment(args, process.env, hugePageSystem(), fileSize);
  if (!env) return;
  // Loaded only here: node:child_process alone is ~5 ms of every command's start.
  const [{ spawn }, { constants }] = await Promise.all([import('node:child_process'), import('node:os')]);
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: 'inherit', env: { ...env, [LAUNCHER_ENV]: String(process.pid) } });
  const started = await new Promise<boolean>((done) => {
    child.once('spawn', () => done(true));
    child.once('error', () => done(false));
  });
  if (!started) return;
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const s of forwarded) process.on(s, forward);
  await new Promise<never>(() => {
    child.once('exit', (code, signal) => {
      for (const s of forwarded) process.off(s, forward);
      if (!signal) process.exit(code ?? 1);
      // Stopped by a signal: end by the same one, so a shell or a parent sees what the command saw
      // (not for crashes, whose core dump the command has already written).
      const status = 128 + (constants.signals[signal] ?? 0);
      if (STOP_SIGNALS.has(signal)) {
        process.kill(process.pid, signal);
        setTimeout(() => process.exit(status), 100);
      } else {
        process.exit(status);
      }
    });
  });
}

/** In a relaunched command: stop as on SIGTERM when the launcher is gone (killed outright). */
function watchLauncher(): void {
  const launcher = process.env[LAUNCHER_ENV];
  if (launcher === undefined) return;
  // Processes this command starts (index workers) have another parent.
  delete process.env[LAUNCHER_ENV];
  if (Number(launcher) !== process.ppid) return;
  const timer = setInterval(() => {
    if (process.ppid === Number(launcher)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  timer.unref();
}
