import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ConvLensError } from '../../engine/errors.js';
import { throwIfCancelled } from '../../engine/jobs.js';
import { onUnguardedWait, prepareOutputDir, writeFileAtomic } from '../../io/files.js';
import { acquireLockFile, commandLine, describeWriter, type WriterInfo, type WriterLock } from '../../io/writer-lock.js';

/** Where a command writes by default: out/<command>/ in the current folder. */
/** The dataset store `convlens index` writes and patches, neighbors and embed read. */
export const DEFAULT_STORE = join('out', 'index');

/** A label as part of a file name: lower case, runs of other characters as one '-' ("T-shirt/top" -> t-shirt-top). */
export const fileSlug = (s: string, empty = 'unnamed'): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || empty;

export const defaultOut = (command: string, file?: string): string => join('out', command, ...(file ? [file] : []));

/**
 * Unique, file-system-safe stems for the inputs, one call per input in order (a.png, a.png again
 * -> a, a-2): inputs from different folders often share a name, and their files must not
 * overwrite each other. Rows of a .npy ("t.npy#3") keep their row number ("t-3").
 */
export function stemmer(): (source: string) => string {
  const seen = new Map<string, number>();
  const taken = new Set<string>();
  return (s) => {
    const base = basename(s).replace(/\.[^.#]+(#|$)/, '$1').replace(/#/g, '-').replace(/[^\w.-]+/g, '_') || 'input';
    let k = seen.get(base) ?? 0;
    let stem: string;
    // a, a, a-2 must not give a, a-2, a-2
    do stem = ++k === 1 ? base : `${base}-${k}`;
    while (taken.has(stem));
    seen.set(base, k);
    taken.add(stem);
    return stem;
  };
}

/**
 * Names that tell inputs apart in text and figures: each file name, with as many of its parent
 * folders as it takes to differ from the others (a/x.png and b/x.png, not x.png twice); the same
 * path given twice is numbered.
 */
export function distinctNames(sources: readonly string[]): string[] {
  const parts = sources.map((s) => s.split(/[\\/]+/).filter(Boolean));
  const depth = parts.map(() => 1);
  const named = (): string[] => parts.map((p, i) => p.slice(-depth[i]!).join('/') || sources[i]!);
  for (let grew = true; grew; ) {
    grew = false;
    const names = named();
    const count = new Map<string, number>();
    for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
    names.forEach((n, i) => {
      if (count.get(n)! > 1 && depth[i]! < parts[i]!.length) {
        depth[i]!++;
        grew = true;
      }
    });
  }
  const seen = new Map<string, number>();
  return named().map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n} (${k})`;
  });
}

/** The writer lock a run holds in its output folder. */
export const OUTPUT_LOCK = '.convlens-writer.lock';

/** Most file names the "wrote" line lists one by one. */
const MAX_LISTED = 40;

/**
 * The files one command run writes under its output folder. The folder is created (or refused
 * with a clear error) before any work starts and removed again if the run writes nothing into
 * it, every file is written atomically, and the closing "wrote" line lists them all.
 */
export class OutputFiles {
  private readonly written: string[] = [];
  private readonly known = new Set<string>();
  /** input files by identity ("dev:ino") -> the path as given */
  private readonly inputs = new Map<string, string>();
  /** the run's cancellation: once aborted, no further file is written */
  private signal: AbortSignal | undefined;
  /** the folder's writer lock while this run holds it */
  private lock: WriterLock | undefined;

  constructor(readonly dir: string) {
    // `-o ''` wrote into the current folder and reported "wrote /: ..."
    if (!dir.trim()) throw new ConvLensError('INVALID_ARGUMENT', 'The output path (--out) is empty.', 'Name a folder, e.g. --out out/run1 (or . for the current folder).');
    prepareOutputDir(dir);
    // The lock is taken now, before any work. Taken at the first write, as until 2026-12-07, two
    // runs started together both passed a check for a holder and did all their work, and the one
    // that came to write second failed then (often the one started first: it had more to write).
    // While a read waits on a pipe a stop signal ends the process without its exit listeners, so
    // the lock steps aside for the wait and is taken again after it (io/files.ts).
    this.lockFolder();
    onUnguardedWait(
      () => this.unlockFolder(),
      () => this.lockFolder(),
    );
    process.prependOnceListener('exit', () => this.unlockFolder());
  }

  private busy(w: WriterInfo | undefined): ConvLensError {
    return new ConvLensError(
      'INVALID_ARGUMENT',
      `The output folder "${this.dir}" is being written by another run${w ? `: ${describeWriter(w)}` : ` (${join(this.dir, OUTPUT_LOCK)} exists)`}.`,
      `Wait for it to finish, or write to another folder (--out ${join(this.dir, 'run2')}).`,
    );
  }

  /**
   * One run at a time writes into a folder: two explain runs into the same --out each renamed their
   * files over the other's, leaving a grid.png of one and a summary.json of the other. The lock
   * file is held until the process ends (released before its empty output folders are removed).
   */
  private lockFolder(): void {
    this.lock ??= acquireLockFile(join(this.dir, OUTPUT_LOCK), commandLine(), (w) => this.busy(w));
  }

  private unlockFolder(): void {
    this.lock?.release();
    this.lock = undefined;
  }

  /** For commands whose --out names one file: its folder is prepared the same way. */
  static forFile(path: string): OutputFiles {
    if (!path.trim()) throw new ConvLensError('INVALID_ARGUMENT', 'The output path (--out) is empty.', 'Name the file to write, e.g. --out out/model.onnx.');
    return new OutputFiles(dirname(path));
  }

  /**
   * Never writes over the run's own input files: `inputs` are remembered by file identity (links
   * and other spellings of the path included), `names` - the fixed names the command writes
   * (result.png, figure.png, ...) - are checked now, before any work, and every later write
   * again. `dream result.png --out .` replaced the photo with its dream without a word.
   */
  keepInputs(inputs: readonly (string | undefined)[], names: readonly string[]): void {
    for (const input of inputs) {
      if (!input) continue;
      const id = fileId(input);
      if (id) this.inputs.set(id, input);
    }
    for (const name of names) this.refuseInput(name);
  }

  private refuseInput(name: string): void {
    if (!this.inputs.size) return;
    const id = fileId(join(this.dir, name));
    const input = id && this.inputs.get(id);
    if (input) {
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `The input "${input}" is where this run writes ${name} (--out ${this.dir}); it would be overwritten.`,
        `Write to another folder (--out ${join(this.dir, 'run2')}), or copy the input elsewhere first.`,
      );
    }
  }

  /**
   * Writes no more files once `signal` is aborted: a Ctrl-C while the results were rendered (the
   * PNGs of 30 methods take seconds) was seen by nothing, and the run wrote everything and exited 0.
   */
  stopOn(signal: AbortSignal | undefined): void {
    this.signal = signal;
  }

  /** Writes `name` (relative to the folder) and returns it. */
  write(name: string, data: Uint8Array | string): string {
    throwIfCancelled(this.signal, 'writing the results');
    const path = join(this.dir, name);
    this.refuseInput(name);
    writeFileAtomic(path, data);
    this.record(path);
    return name;
  }

  /** Records a file written elsewhere (a checkpoint, a file the method wrote itself). */
  record(path: string): void {
    if (this.known.has(path)) return;
    this.known.add(path);
    this.written.push(path);
  }

  get files(): readonly string[] {
    return this.written;
  }

  /** "wrote out/explain/: grid.png, summary.json", or "wrote out/train/model.onnx" for one file. */
  describe(): string {
    if (!this.written.length) return `wrote nothing to ${this.dir}`;
    if (this.written.length === 1) return `wrote ${this.written[0]}`;
    const names = this.written.map((p) => {
      const r = relative(this.dir, p);
      return r.startsWith('..') ? p : r;
    });
    // thousands of per-image files (explain over a folder) are counted, not listed
    if (names.length > MAX_LISTED) return `wrote ${join(this.dir, '/')}: ${names.length} files (${names.slice(0, 3).join(', ')}, ..., ${names.slice(-2).join(', ')})`;
    return `wrote ${join(this.dir, '/')}: ${names.join(', ')}`;
  }

  /**
   * Files in the folder named like this run's numbered files that this run did not write: a
   * second `diffuse sample` with 4 samples into the folder of an earlier run with 12 left
   * sample-004..011.png beside the new ones, as if they were one run's.
   */
  leftovers(): string[] {
    const written = new Set(this.written.filter((p) => dirname(p) === this.dir || dirname(p) === join(this.dir)).map((p) => basename(p)));
    const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const shapes = [...new Set([...written].filter((n) => /\d/.test(n)).map((n) => n.split(/\d+/).map(escape).join('\\d+')))].map((p) => new RegExp(`^${p}$`));
    if (!shapes.length) return [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => !written.has(n) && shapes.some((r) => r.test(n))).sort();
  }

  /** Prints the "wrote" line: to stdout, or to stderr when stdout carries JSON; not with --quiet. */
  report(opts: { quiet?: boolean; json?: boolean }): void {
    if (opts.quiet) return;
    (opts.json ? process.stderr : process.stdout).write(`${this.describe()}\n`);
    const old = this.leftovers();
    if (old.length) {
      const shown = old.length > 4 ? `${old.slice(0, 3).join(', ')}, ..., ${old.at(-1)}` : old.join(', ');
      process.stderr.write(`note: ${join(this.dir, '/')} also holds ${old.length} file${old.length === 1 ? '' : 's'} named like this run's that it did not write (${shown}), from an earlier run; write each run to its own folder (--out) to keep them apart\n`);
    }
  }
}

/** A file's identity (device and inode), or undefined when there is no such file. */
function fileId(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return st.isFile() ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}
