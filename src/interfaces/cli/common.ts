import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, freemem, totalmem } from 'node:os';
import { extname, join, sep } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConvLensError } from '../../engine/errors.js';
import { Engine } from '../../engine/runtime/engine.js';
import { nodeBackend } from '../../engine/runtime/node.js';
import { readFileOrExplain } from '../../io/files.js';
import { sampleCount } from '../../io/inputs.js';
import { BUILTIN_MODELS } from '../../models/builtins.js';
import { loadModel, modelSource } from '../../models/load.js';
import { NO_LABELS_WARNING, parseLabels, parsePreprocessing, PREPROCESS_PRESETS } from '../../models/metadata.js';
import type { Model } from '../../models/model.js';
import { OUTPUT_KINDS, type OutputKind } from '../../models/output-kind.js';
import { bytesPerSample, computedConstants, computedConstantsText } from '../../methods/inspect/memory.js';
import { QUEUE_NAME } from '../../methods/dataset/wire.js';
import type { JobOptions, Progress } from '../../engine/jobs.js';

export interface CommonOptions {
  model?: string;
  /** class names file: text (one per line) or a JSON list */
  labels?: string;
  /** preprocessing preset or JSON */
  preprocess?: string;
  /** how the model's outputs are read (single-label, multi-label, regression), over what its file declares */
  outputKind?: OutputKind;
  threads?: number;
  quiet?: boolean;
}

/** A folder path: not empty (LanceDB answered "" with "uri is required"). */
export const folderPath = (v: string): string => {
  if (!v.trim()) throw new InvalidArgumentError('expected a folder path, got an empty string');
  return v;
};

/** An output path (--out): not empty (`-o ''` wrote into the current folder, or trained for minutes and then failed to write). */
export const outPath = (v: string): string => {
  if (!v.trim()) throw new InvalidArgumentError('expected a path, got an empty string');
  return v;
};

/**
 * --out of a command that writes one file of a fixed kind (a PNG figure, an ONNX model): that
 * file, or a folder to write `name` into (an existing folder, a path ending in a separator, or a
 * name without an extension). Most commands take --out as a folder, and `patches --out results`
 * wrote a PNG named "results", without an extension, that nothing opens by a double click.
 */
export const fileOrFolderOut =
  (name: string) =>
  (v: string): string => {
    outPath(v);
    const ext = extname(name);
    if (v.toLowerCase().endsWith(ext.toLowerCase()) && v.length > ext.length) return v;
    let folder = v.endsWith('/') || v.endsWith(sep);
    try {
      folder ||= statSync(v).isDirectory();
    } catch {
      // not there yet: the name decides
    }
    if (folder || extname(v) === '') return join(v, name);
    const kind = ext === '.png' ? 'the figure is a PNG' : `the file is ${ext}`;
    throw new InvalidArgumentError(`${kind}: name a ${ext} file, or a folder to write ${name} into (end it with "/" when its name has a dot), not a ${extname(v)} file`);
  };

/** A Redis URL (redis:// or rediss://), checked before any connection is tried. */
export const redisUrl = (v: string): string => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InvalidArgumentError('expected a Redis URL such as redis://127.0.0.1:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InvalidArgumentError(`expected a redis:// or rediss:// URL, got ${url.protocol}//`);
  return v;
};

/** A BullMQ queue name: BullMQ refuses empty names and ':' (its key separator). */
export const queueName = (v: string): string => {
  if (!QUEUE_NAME.test(v)) throw new InvalidArgumentError('expected 1 to 128 letters, digits, "_", "-" or "."');
  return v;
};

export const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export const nonNegative = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
};

export const nonNegativeInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
};

export const portNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number, 0 to 65535 (0 picks a free one)');
  return n;
};

/**
 * An integer option from `lo` to `hi`. Every count, size and step option has such a range, so an
 * absurd value (a 30000-pixel image, 10000 threads) is refused at once instead of running for
 * minutes or exhausting memory.
 */
export const intIn =
  (lo: number, hi: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer from ${lo} to ${hi}`);
    return n;
  };

/**
 * A --seed. The generators keep 32 bits of state, so a larger seed would silently give the images
 * of a smaller one (2^32 the same as 0); the API's schemas stop at the same bound.
 */
export const MAX_SEED = 4294967295;
export const seedNumber = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > MAX_SEED) throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_SEED} (the generators keep 32 bits)`);
  return n;
};

/** A real-valued option from `lo` to `hi` (a stabilizer, a noise level): the same reason as intIn. */
export const numberIn =
  (lo: number, hi: number) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected a number from ${lo} to ${hi}`);
    return n;
  };

/** ONNX Runtime intra-op threads: more than a few per core only adds contention. */
export const MAX_THREADS = Math.max(16, 4 * availableParallelism());
export const threadCount = intIn(1, MAX_THREADS);

/** Largest image side the synthesis commands make (a 2048x2048 image already needs GBs of activations on an ImageNet model). */
export const MAX_SIDE = 2048;

/** `--size 224` or `--size 128x160` (height x width), each side from 8 to MAX_SIDE. */
export const imageSize = (v: string): [number, number] => {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(v.trim());
  const hw: [number, number] | undefined = m ? [Number(m[1]), Number(m[2] ?? m[1])] : undefined;
  if (!hw || hw.some((d) => d < 8 || d > MAX_SIDE)) throw new InvalidArgumentError(`expected N or HxW with sides from 8 to ${MAX_SIDE}, e.g. 224 or 128x160`);
  return hw;
};

/** An option that takes one of a few names; anything else is refused with the list. */
export const choiceOption = (flags: string, description: string, choices: readonly string[], defaultValue?: string): Option => {
  const o = new Option(flags, description).choices(choices);
  return defaultValue === undefined ? o : o.default(defaultValue);
};

/** A probability that must leave something over, e.g. a validation split or a label-dropping rate. */
export const fraction = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError('expected a fraction in [0, 1)');
  return n;
};

export const intList = (v: string): number[] => {
  const nums = v.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!nums.length || nums.some((n) => !Number.isInteger(n) || n < 0)) throw new InvalidArgumentError('expected a comma-separated list of integers >= 0');
  return nums;
};

export const numberList = (v: string): number[] => {
  const nums = v.split(',').map((s) => Number(s.trim()));
  if (!nums.length || nums.some((n) => !Number.isFinite(n) || n < 0)) throw new InvalidArgumentError('expected a comma-separated list of numbers >= 0');
  return nums;
};

/** For repeatable options that also take comma-separated lists: `--style a.png --style b.png` or `--style a.png,b.png`. */
export const commaList = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').filter(Boolean)];

export const MODEL_OPTION_HELP = `ONNX model file or a built-in: ${BUILTIN_MODELS.map((m) => m.name).join(', ')} (default: ${BUILTIN_MODELS[0]!.name})`;

/** Adds the options that describe the model: which one, and what its file does not say. */
export function withModelOptions(c: Command, modelHelp = MODEL_OPTION_HELP): Command {
  return c
    .option('-m, --model <file|name>', modelHelp)
    .option('--labels <file>', 'class names for the model: a text file (one per line) or a JSON list (overrides the model\'s own)')
    .option('--preprocess <preset|json>', `how images become model input: ${PREPROCESS_PRESETS.join(', ')}, or JSON {"size":[h,w],"range":[0,1],"mean":[...],"std":[...],"resize":"crop"|"stretch"}`)
    .option('--output-kind <kind>', `how the model's outputs are read: ${OUTPUT_KINDS.join(', ')} (default: the file's declaration, else multi-label for a Sigmoid over several outputs, else single-label)`, (v: string) => parseOutputKindOption(v));
}

/** An --output-kind value, refused the commander way (an InvalidArgumentError naming the kinds). */
function parseOutputKindOption(v: string): OutputKind {
  const kind = OUTPUT_KINDS.find((k) => k === v.trim().toLowerCase());
  if (!kind) throw new InvalidArgumentError(`expected one of ${OUTPUT_KINDS.join(', ')}`);
  return kind;
}

/** Adds the options every command shares. */
export function withCommon(c: Command): Command {
  return withModelOptions(c)
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no warnings, progress bars or "wrote" lines (results still print)');
}

/** Prints a warning (or note) line to stderr unless --quiet. */
export const warner =
  (opts: CommonOptions, kind: 'warning' | 'note' = 'warning') =>
  (text: string): void => {
    if (!opts.quiet) process.stderr.write(`${kind}: ${text}\n`);
  };

/** Gradient work above this share of the machine's memory, or of what is free now, is announced before it starts. */
export const MEMORY_NOTE_FRACTION = { total: 0.5, free: 0.8 } as const;

/**
 * What a synthesis at a size the user picked may hold (the estimate's upper bound, from the
 * graph: every forward value kept for the backward pass, a gradient and temporaries beside it),
 * when that is a large share of the machine: a 2048-pixel DeepDream on VGG-11 held 6.7 GB
 * (estimated 10.2).
 */
export function memoryNoteText(what: string, model: Model, size: readonly [number, number], machine = { total: totalmem(), free: freemem() }): string | undefined {
  const bytes = bytesPerSample(model, 'gradient', size);
  if (bytes < machine.total * MEMORY_NOTE_FRACTION.total && bytes < machine.free * MEMORY_NOTE_FRACTION.free) return undefined;
  const gb = (b: number): string => (b / 2 ** 30).toFixed(1);
  return `${what} at ${size[1]}x${size[0]} on ${model.name} may hold up to ${gb(bytes)} GB of memory (this machine has ${gb(machine.total)} GB, ${gb(machine.free)} GB free); memory grows with the pixel count, so half the side needs a quarter.`;
}

/**
 * The memory this process may use: the machine's, or less where its container (a cgroup memory
 * limit) or its address-space limit (`ulimit -v`) says so. Planned against the machine alone, a
 * model computing 3.7 GB from its constants passed on a 24 GB machine under a 6 GB `ulimit -v`,
 * and ONNX Runtime ran out of memory after 44 s, hinting at fewer methods or a smaller input.
 */
export function processMemory(): { total: number; limit?: string } {
  const machine = totalmem();
  let total = machine;
  let limit: string | undefined;
  // 2^64 (or 0 on some versions) when no cgroup limit applies
  const constrained = process.constrainedMemory?.() ?? 0;
  if (constrained > 0 && constrained < total) {
    total = constrained;
    limit = "its container's memory limit";
  }
  const addressSpace = addressSpaceLimit();
  if (addressSpace !== undefined && addressSpace < total) {
    total = addressSpace;
    limit = 'its address-space limit, `ulimit -v`';
  }
  return limit ? { total, limit } : { total };
}

/** The process's address-space limit in bytes (Linux: /proc/self/limits), if any. */
function addressSpaceLimit(): number | undefined {
  try {
    const line = /^Max address space\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line && line[1] !== 'unlimited' ? Number(line[1]) : undefined;
  } catch {
    return undefined; // not Linux: the machine's memory stands
  }
}

/**
 * Refuses a model whose values computed from its constants alone (left to ONNX Runtime when it
 * loads) cannot fit this process's memory (processMemory): ONNX Runtime holds them about twice
 * over while it compiles and runs the graph (measured: 8.0 GB at the peak for an upload of 1000
 * ConstantOfShape nodes of a million values, 3.7 GB; its constant folding keeps every value it
 * computes, so they count in all, not by what a run holds at once), and past that memory the
 * command was killed without a word, or ran out in ONNX Runtime naming an allocation and asking
 * whether the input fits the model.
 */
export function checkConstantsFit(model: Model, machine: { total: number; limit?: string } = processMemory()): void {
  const found = computedConstants(model);
  const bytes = found.reduce((sum, c) => sum + c.bytes, 0);
  if (2 * bytes <= machine.total * INPUT_MEMORY_FRACTION) return;
  const gb = (machine.total / 2 ** 30).toFixed(1);
  const memory = machine.limit ? `the ${gb} GB this process may use (${machine.limit})` : `this machine's ${gb} GB`;
  throw new ConvLensError(
    'INVALID_ARGUMENT',
    `${computedConstantsText(model.name, found)}; ONNX Runtime would hold about twice that, more than half of ${memory}.`,
    `Re-export the model without those values or with smaller ones, or run it ${machine.limit ? 'with a higher limit or ' : ''}on a machine with that memory.`,
  );
}

/** The share of the machine's memory a command's batch of inputs (and what it keeps per input) may take. */
export const INPUT_MEMORY_FRACTION = 0.5;

/**
 * Refuses, before any file is read, more inputs than fit in memory at once: predict,
 * activations and explain load every input into one batch (explain also keeps each method's
 * maps beside it), so a folder of 10,000 photos meant ~6 GB of inputs before the first map, and
 * a machine without that memory found out after minutes of decoding. `copies`: arrays of one
 * input's size kept per input.
 */
export function checkInputsFit(files: readonly string[], model: Model, copies: number, command: string, machine = { total: totalmem() }, hint?: string): void {
  const [c, h, w] = model.inputDims();
  const count = sampleCount(files, model);
  const perInput = inputBytes(model, copies);
  const limit = machine.total * INPUT_MEMORY_FRACTION;
  if (count * perInput <= limit) return;
  const most = inputsThatFit(model, copies, machine);
  const gb = (b: number): string => (b / 2 ** 30).toFixed(1);
  if (perInput > limit) {
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `One ${c}x${h}x${w} input would hold about ${gb(perInput)} GB in \`${command}\`, more than half of this machine's ${gb(machine.total)} GB.`,
      'The model takes inputs too large for this machine: export it (or describe it with --preprocess, for a model of any size) at a smaller input size.',
    );
  }
  throw new ConvLensError(
    'INVALID_ARGUMENT',
    `${count} inputs would hold about ${gb(count * perInput)} GB at once in \`${command}\` (${c}x${h}x${w} each, ${(perInput / 2 ** 20).toFixed(1)} MB with what it keeps per input), more than half of this machine's ${gb(machine.total)} GB.`,
    hint ?? `Run at most ${most} per command (e.g. \`ls DIR/* | xargs -n ${most} convlens ${command} ...\`, each with its own --out)${command === 'explain' ? ', or fewer methods' : ''}.`,
  );
}

/** Bytes a command keeps per input: `copies` arrays of the input's size, and its decoded pixels. */
function inputBytes(model: Model, copies: number): number {
  const [c, h, w] = model.inputDims();
  return c * h * w * 4 * copies + h * w * 3;
}

/** How many inputs fit at once in the machine's share for inputs (at least one). */
export function inputsThatFit(model: Model, copies: number, machine = { total: totalmem() }): number {
  return Math.max(1, Math.floor((machine.total * INPUT_MEMORY_FRACTION) / inputBytes(model, copies)));
}

/**
 * The inputs in chunks of at most `perChunk` samples (default: as many as fit in memory at once),
 * in order; a file is never split, and one that alone does not fit is refused before any is read.
 */
export function inputChunks(files: readonly string[], model: Model, copies: number, command: string, perChunk?: number, machine = { total: totalmem() }): string[][] {
  const most = Math.min(perChunk ?? Infinity, inputsThatFit(model, copies, machine));
  const chunks: string[][] = [];
  let current: string[] = [];
  let inCurrent = 0;
  for (const file of files) {
    const n = sampleCount([file], model);
    if (n > most) checkInputsFit([file], model, copies, command, machine, `Split "${file}" into smaller .npy files.`);
    if (current.length && inCurrent + n > most) {
      chunks.push(current);
      current = [];
      inCurrent = 0;
    }
    current.push(file);
    inCurrent += n;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * Engine + model for a command, with --labels/--preprocess applied, printing metadata warnings to
 * stderr. Every command but the forward-only ones (predict, evaluate) looks inside the model, so
 * a model of integer ops is refused here, before the command's own work.
 */
export function openModel(opts: CommonOptions, use: { forwardOnly?: boolean; classesUnused?: boolean } = {}): { engine: Engine; model: Model } {
  const engine = createEngine(opts);
  const model = loadModel(opts.model, engine, opts.outputKind ? { outputKind: opts.outputKind } : {});
  if (!use.forwardOnly) model.requireFloatComputation();
  checkConstantsFit(model);
  applyDescription(model, opts, use.classesUnused);
  return { engine, model };
}

/** Applies --labels and --preprocess to a loaded model and prints what is still assumed (unless quiet). */
export function applyDescription(model: Model, opts: CommonOptions, classesUnused = false): void {
  const labels = opts.labels ? parseLabels(readFileOrExplain(opts.labels, 'labels file').toString('utf8'), `labels file "${opts.labels}"`, model.binary ? undefined : model.profile.classes) : undefined;
  const preprocessing = opts.preprocess ? parsePreprocessing(opts.preprocess, model.input.shape ?? [], model.meta.preprocessing) : undefined;
  if (labels || preprocessing) model.describe({ ...(labels ? { labels } : {}), ...(preprocessing ? { preprocessing } : {}) });
  const warn = warner(opts);
  // a run explaining a hidden unit never names a class: their missing labels do not matter
  for (const w of [...model.meta.warnings, ...model.profile.warnings]) if (!(classesUnused && NO_LABELS_WARNING.test(w))) warn(w);
}

/**
 * The layer of a dataset store a command reads when --layer is not given: the profile's feature
 * layer for the purpose (`first`: the mid layer, for top patches; `last`: the deepest, for
 * neighbours and embeddings) when the store holds it, else the store's first or last layer.
 */
export function defaultStoreLayer(model: Model, indexed: readonly string[], which: 'first' | 'last', note?: (message: string) => void): string {
  const wanted = model.profile.featureLayers;
  const order = which === 'first' ? wanted : [...wanted].reverse();
  const hit = order.find((l) => indexed.includes(l));
  if (hit) return hit;
  const layer = which === 'first' ? indexed[0]! : indexed[indexed.length - 1]!;
  // A store indexed with --layers of its own, or before the model's default layers changed.
  note?.(`the store holds none of the model's default feature layers (${wanted.map((l) => model.layerLabel(l)).join(', ')}); using its ${which} indexed layer, ${model.layerLabel(layer)}. Give --layer to choose.`);
  return layer;
}

/** How summaries name the model: its name and where it came from (a built-in or a file). */
export function modelInfo(model: Model, opts: CommonOptions): { name: string; file: string; builtin?: string } {
  const src = modelSource(opts.model);
  return 'builtin' in src ? { name: model.name, file: 'built-in', builtin: src.builtin.name } : { name: model.name, file: src.file };
}

export function createEngine(opts: CommonOptions): Engine {
  // Every method of an explain run may compile its own gradient graph, each session keeping an
  // arena at its largest run (25 methods on EfficientNet-B0 reached 3.8 GB): past a quarter of the
  // machine, sessions of earlier methods are released before new ones are compiled.
  const ceiling = { measure: () => process.memoryUsage().rss, bytes: Math.round(totalmem() / 4) };
  return new Engine(nodeBackend(), { ceiling, ...(opts.threads ? { threads: opts.threads } : {}) });
}

/**
 * Job options for a CLI run: a progress bar on stderr (unless quiet or not a terminal) and
 * Ctrl-C as cancellation (a second Ctrl-C exits at once). SIGTERM cancels the same way (unless
 * `terminate` is false): every job has something to clean up when stopped (its output folder's or
 * checkpoint's lock, a temporary file, worker processes, queued jobs), and a killed run said nothing.
 */
export type CliJob = JobOptions & { done(): void };

/** Two SIGINTs this close together are one Ctrl-C (no one presses twice in a quarter second). */
export const SAME_CTRL_C_MS = 250;

/** How long after a Ctrl-C-cancelled job ends a further SIGINT is taken as that Ctrl-C's late copy. */
export const LATE_CTRL_C_MS = 2000;

export function cliJob(opts: CommonOptions, label: string, o: { terminate?: boolean } = {}): CliJob {
  const controller = new AbortController();
  let cancelledAt = 0;
  const onSigint = (): void => {
    if (controller.signal.aborted) {
      // A relaunched command (launch.ts) gets one Ctrl-C twice: from the terminal and from its launcher.
      if (performance.now() - cancelledAt < SAME_CTRL_C_MS) return;
      process.exit(130);
    }
    cancelledAt = performance.now();
    process.stderr.write('\nCancelling (Ctrl-C again to quit now)...\n');
    controller.abort();
  };
  const onSigterm = (): void => {
    if (controller.signal.aborted) process.exit(143);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  if (o.terminate !== false) process.on('SIGTERM', onSigterm);
  const show = !opts.quiet && process.stderr.isTTY;
  const bar = show
    ? new cliProgress.SingleBar(
        { format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, stream: process.stderr, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  const estimate = new LongJobNotice((text) => {
    if (opts.quiet) return;
    if (bar && started) bar.stop();
    process.stderr.write(`${text}\n`);
    if (bar && started) started = false;
  });
  return {
    signal: controller.signal,
    onProgress(p: Progress) {
      estimate.observe(p);
      if (!bar) return;
      const info = [p.phase, ...Object.entries(p.metrics ?? {}).map(([k, v]) => `${k} ${formatMetric(v)}`)].filter(Boolean).join(' ');
      if (!started) {
        bar.start(p.total, p.done, { info });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { info });
      }
    },
    done() {
      if (started) bar?.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      // A relaunched command's second copy of the Ctrl-C that cancelled it (its launcher's) can
      // arrive after a quick cancellation ends, on a busy machine; without a handler it would
      // kill the process before it says "Cancelled" and exits with 130.
      if (cancelledAt) {
        const late = (): void => undefined;
        process.on('SIGINT', late);
        setTimeout(() => process.off('SIGINT', late), LATE_CTRL_C_MS).unref();
      }
    },
  };
}

/**
 * Says early, once per run of progress (one total), when the rest will take more than a minute:
 * the time of a few units after the first two (compilation and warm-up excluded) times the
 * units left. A phase of several units (an inverted layer, an octave) is also timed on its own
 * pace, after its own first two units: phases can differ in cost many times over (inverting
 * SqueezeNet's first conv took 36 ms a step, its last layers ten times that, so "about 63 s to go"
 * was said for a run of 15 min), and when the current phase's pace puts the end well past what
 * was said, the note is said again with the new figure.
 */
export class LongJobNotice {
  private phase: string | undefined;
  private total = 0;
  private first: { at: number; done: number } | undefined;
  /** where the current phase began, and its timing after its own warm-up */
  private phaseStart = 0;
  private phaseFirst: { at: number; done: number } | undefined;
  /** when the last note was said and the end it gave, per total */
  private told = new Map<number, { at: number; end: number }>();

  constructor(
    private readonly say: (text: string) => void,
    private readonly thresholdSeconds = 60,
    private readonly now: () => number = () => performance.now(),
  ) {}

  observe(p: Progress): void {
    const phase = p.phase ?? '';
    // A new run of progress starts over (another total, or counting from below where it was); a
    // phase that names each unit ("sanity: randomized down to conv3") is the same run going on.
    if (p.total !== this.total || (this.first && p.done < this.first.done) || (phase !== this.phase && p.done === 0)) {
      this.total = p.total;
      this.first = undefined;
    }
    if (phase !== this.phase || p.done < this.phaseStart) {
      this.phaseStart = p.done;
      this.phaseFirst = undefined;
    }
    this.phase = phase;
    const now = this.now();
    if (!this.phaseFirst && p.done >= this.phaseStart + 2) this.phaseFirst = { at: now, done: p.done };
    if (!this.first) {
      if (p.done >= Math.min(2, p.total - 1)) this.first = { at: now, done: p.done };
      return;
    }
    const left = Math.max(this.secondsLeft(this.first, p, now) ?? 0, (this.phaseFirst && this.secondsLeft(this.phaseFirst, p, now)) ?? 0);
    if (left <= this.thresholdSeconds) return;
    const told = this.told.get(p.total);
    // said again only when the end moves out by a minute and half the time promised, or more
    if (told && now / 1000 + left <= told.end + Math.max(this.thresholdSeconds, (told.end - told.at) / 2)) return;
    this.told.set(p.total, { at: now / 1000, end: now / 1000 + left });
    this.say(`note: ${told ? 'now ' : ''}about ${formatDuration(left)} to go (${p.done}/${p.total} done${phase ? `, now ${phase}` : ''}); Ctrl-C stops it cleanly`);
  }

  /** The rest at the pace since `from`, once a few units (or 5 s) were timed. */
  private secondsLeft(from: { at: number; done: number }, p: Progress, now: number): number | undefined {
    const units = p.done - from.done;
    const elapsed = (now - from.at) / 1000;
    if (units < 1 || elapsed < 1 || (units < 3 && elapsed < 5)) return undefined;
    return ((p.total - p.done) * elapsed) / units;
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function formatMetric(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4);
}
