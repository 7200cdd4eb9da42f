// One writer per resource: a process holds a lock file beside (or inside) what it writes: an index
// run a store's `writer.lock`, a training run its checkpoint's `.lock`. The file is created with
// O_EXCL, so of two writers starting together exactly one gets it; it names the holder (pid, host,
// start time, command) so the other can say who is writing and since when. A lock whose process is
// gone (same host, pid not running, or our own pid but not taken by this process: a previous
// process that had the same pid) is stale and taken over; the takeover itself runs under a second
// exclusive marker, so two processes that both find the lock stale cannot remove each other's fresh
// lock. Released on return, error and Ctrl-C (finally blocks), and on process exit for a process
// that exits with the lock still held.
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ConvLensError } from '../engine/errors.js';
import { ensureDir } from './files.js';
import { systemReason } from '../util/system-errors.js';

export interface WriterInfo {
  pid: number;
  hostname: string;
  /** ISO time the writer took the lock */
  started: string;
  /** what is writing: the command line, or the studio job */
  command: string;
}

export interface WriterLock {
  readonly path: string;
  readonly info: WriterInfo;
  /** the writer whose stale lock was taken over (it ended without releasing it) */
  readonly replaced?: WriterInfo;
  release(): void;
}

/** Locks taken by this process (path -> the content it wrote). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // process.exit (a second Ctrl-C, an uncaught error) skips finally blocks: drop our locks here.
  process.on('exit', () => {
    for (const [path, content] of held) releaseIfOurs(path, content);
  });
}

function releaseIfOurs(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

function readLock(path: string): { info?: WriterInfo; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const info = JSON.parse(text) as WriterInfo;
    if (typeof info.pid === 'number' && typeof info.hostname === 'string') return { info, text };
  } catch {
    // a writer between creating the file and writing it, or a torn file: judged by age below
  }
  return { text };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock's holder is certainly gone (only decidable on the same host). */
function isStale(path: string, lock: { info?: WriterInfo; text: string }): boolean {
  const { info } = lock;
  if (!info) {
    // unreadable content: a writer dies between O_EXCL create and write only in a tiny window
    try {
      return Date.now() - statSync(path).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
  if (info.hostname !== hostname()) return false;
  if (info.pid === process.pid) return held.get(path) !== lock.text;
  return !pidAlive(info.pid);
}

/** This process's command line, as a writer's description ("convlens index data --store s"). */
export function commandLine(): string {
  const script = process.argv[1] ?? '';
  const name = /convlens(\.js)?$/.test(script) ? 'convlens' : script.split(/[\\/]/).pop() || 'node';
  return [name, ...process.argv.slice(2)].join(' ');
}

/** Describes a writer for messages: "pid 123 on host (convlens index ...), since 12:00:01". */
export function describeWriter(w: WriterInfo): string {
  const since = new Date(w.started);
  const age = Math.max(0, Math.round((Date.now() - since.getTime()) / 1000));
  const ago = age < 120 ? `${age} s ago` : age < 7200 ? `${Math.round(age / 60)} min ago` : `${(age / 3600).toFixed(1)} h ago`;
  return `pid ${w.pid} on ${w.hostname} ("${w.command}"), since ${since.toISOString()} (${ago})`;
}

/** The live holder of the lock file at `path`, if any (a stale lock counts as none). */
export function lockHolder(path: string): WriterInfo | undefined {
  const lock = readLock(path);
  if (!lock?.info || isStale(path, lock)) return undefined;
  return lock.info;
}

const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Removes a stale lock, under an exclusive takeover marker (see the file comment); false if another process is at it. */
function takeOver(path: string, staleText: string): boolean {
  const marker = `${path}.takeover`;
  try {
    mkdirSync(marker);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // another process is taking over; a marker left by a process killed mid-takeover is old
    try {
      if (Date.now() - statSync(marker).mtimeMs > 10_000) rmdirSync(marker);
    } catch {
      // gone meanwhile
    }
    return false;
  }
  try {
    if (readLock(path)?.text === staleText) rmSync(path, { force: true });
  } finally {
    rmdirSync(marker);
  }
  return true;
}

/**
 * Takes the lock file at `path` (its folder is created if needed), or throws `busy(holder)`:
 * the holder is undefined when its file cannot be read (it is being created, or is torn).
 */
export function acquireLockFile(path: string, command: string, busy: (holder: WriterInfo | undefined) => ConvLensError): WriterLock {
  ensureDir(dirname(path));
  const info: WriterInfo = { pid: process.pid, hostname: hostname(), started: new Date().toISOString(), command };
  const content = `${JSON.stringify(info)}\n`;
  let replaced: WriterInfo | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ConvLensError('INVALID_ARGUMENT', `Cannot create the lock file "${path}": ${systemReason((e as NodeJS.ErrnoException).code)?.[0] ?? (e as NodeJS.ErrnoException).code ?? 'the system refused'}.`, `Check that the folder ${dirname(path)} is writable.`, { cause: e });
      }
      const lock = readLock(path);
      if (!lock) continue; // released meanwhile
      if (isStale(path, lock)) {
        replaced = lock.info ?? replaced;
        if (!takeOver(path, lock.text)) pause(20);
        continue;
      }
      const w = lock.info;
      if (!w && attempt < 49) {
        pause(20); // its writer is between creating and filling the file
        continue;
      }
      throw busy(w);
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    held.set(path, content);
    installExitHook();
    return {
      path,
      info,
      ...(replaced ? { replaced } : {}),
      release: () => {
        if (held.get(path) !== content) return;
        held.delete(path);
        releaseIfOurs(path, content);
      },
    };
  }
  throw new ConvLensError('RUNTIME_FAILURE', `Could not take the lock "${path}" (it kept changing hands).`, 'Another process is starting and stopping writes here; try again.');
}
