import { ConvLensError } from '../engine/errors.js';
import type { Graph, ValueInfo } from '../engine/graph/ir.js';
import { parseJson } from '../util/json.js';
import { WAYS_OUT } from '../util/ways-out.js';

/**
 * How raw images become model input. Stored as JSON in the ONNX metadata_props key
 * `convlens.preprocessing`, so a model file describes itself.
 */
export interface Preprocessing {
  /** [height, width] the image is resized to */
  size: [number, number];
  /** channel order the model expects; 'gray' = one channel (luma) */
  channels: 'rgb' | 'bgr' | 'gray';
  /** pixel values 0..255 are first mapped linearly onto this range */
  range: [number, number];
  /** then (v - mean[c]) / std[c] per channel */
  mean: number[];
  std: number[];
  /** 'stretch' resizes to size; 'crop' resizes the shorter side then center-crops (ImageNet style) */
  resize: 'stretch' | 'crop';
  /**
   * with resize 'crop': the fraction of the resized shorter side the centre crop keeps (default
   * 224/256 = 0.875, the ImageNet convention: shorter side to 256, crop 224); 1 crops the
   * largest centred square
   */
  crop?: number;
  /** colors of a grayscale dataset inverted (e.g. white-on-black MNIST digits from black-on-white photos) */
  invert?: boolean;
}

export const METADATA_KEYS = {
  labels: 'convlens.labels',
  preprocessing: 'convlens.preprocessing',
  description: 'convlens.description',
  training: 'convlens.training',
  metrics: 'convlens.metrics',
  /** layer roles chosen by the model's author (see models/profile.ts ProfileOverrides) */
  profile: 'convlens.profile',
  /** the sample folder whose images fit the model (samples/<group>: photos, fashion-mnist, ...) */
  samples: 'convlens.samples',
  /** where the weights come from and their licence (free text) */
  provenance: 'convlens.provenance',
  /** how the outputs are read: single-label, multi-label or regression (see models/output-kind.ts) */
  output: 'convlens.output',
} as const;

export interface ModelMetadata {
  labels: string[];
  preprocessing: Preprocessing;
  description: string;
  /** what was assumed because the file did not say */
  warnings: string[];
  training?: unknown;
  metrics?: unknown;
  /** layer roles from metadata (validated against the graph by the profile) */
  profile?: Record<string, unknown>;
  /** sample folder that fits the model, when the file says */
  samples?: string;
  provenance?: string;
  /** the output kind to write (reading it is the model's: models/output-kind.ts) */
  outputKind?: 'single-label' | 'multi-label' | 'regression';
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** How a user tells ConvLens what a model's file does not say. */
const DESCRIBE_HINT = { labels: WAYS_OUT.describeLabels.cli, preprocessing: WAYS_OUT.describePreprocessing.cli };

/**
 * What one of a model's outputs is called: a class, or a regression's output (its outputs are
 * values, no classes: an age, a landmark's coordinates).
 */
export function outputNoun(kind: 'single-label' | 'multi-label' | 'regression' | undefined): 'class' | 'output' {
  return kind === 'regression' ? 'output' : 'class';
}

/** The labels a model whose file names no outputs gets: "class 0", ... (a regression's "output 0", ...). */
export function numberedLabels(count: number, kind?: 'single-label' | 'multi-label' | 'regression'): string[] {
  const noun = outputNoun(kind);
  return Array.from({ length: count }, (_, i) => `${noun} ${i}`);
}

/** Whether labels are numberedLabels (the file named no outputs): such a model has no names to look up. */
export function areNumberedLabels(labels: readonly string[]): boolean {
  return labels.every((l, i) => l === `class ${i}`) || labels.every((l, i) => l === `output ${i}`);
}

/** The start of the warning about numbered labels, which naming the outputs drops. */
export const NO_LABELS_WARNING = /^no (class|output) labels in the model/;

/**
 * Reads ConvLens metadata from a graph, filling gaps with defaults and saying what was assumed.
 * `outputKind`: a regression's unnamed outputs are "output 0", ..., not classes.
 */
export function readMetadata(graph: Graph, input: ValueInfo, outputClasses: number | undefined, o: { integerPixels?: boolean; outputKind?: 'single-label' | 'multi-label' | 'regression' } = {}): ModelMetadata {
  const warnings: string[] = [];
  const parse = <T>(key: string): T | undefined => {
    const raw = graph.metadata.get(key);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      warnings.push(`metadata ${key} is not valid JSON; ignored`);
      return undefined;
    }
  };
  const shape = input.shape ?? [];
  const c = typeof shape[1] === 'number' ? shape[1] : 3;
  const h = typeof shape[2] === 'number' ? shape[2] : 224;
  const w = typeof shape[3] === 'number' ? shape[3] : h;

  let labels = parse<string[]>(METADATA_KEYS.labels);
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    if (labels !== undefined) warnings.push(`metadata ${METADATA_KEYS.labels} is not a list of strings; ignored`);
    const n = outputClasses ?? 0;
    const noun = outputNoun(o.outputKind);
    labels = numberedLabels(n, o.outputKind);
    if (n) warnings.push(`no ${noun} labels in the model; using "${noun} 0".."${noun} ${n - 1}" (${DESCRIBE_HINT.labels})`);
  }

  const stored = parse<Partial<Preprocessing>>(METADATA_KEYS.preprocessing);
  let preprocessing: Preprocessing;
  if (o.integerPixels) {
    // the file took 8-bit pixels: whatever normalization it needs is inside it
    preprocessing = { size: [h, w], channels: c === 1 ? 'gray' : 'rgb', range: [0, 255], mean: new Array<number>(c).fill(0), std: new Array<number>(c).fill(1), resize: c === 3 && h >= 160 ? 'crop' : 'stretch' };
  } else if (c === 3) {
    preprocessing = { size: [h, w], channels: 'rgb', range: [0, 1], mean: IMAGENET_MEAN, std: IMAGENET_STD, resize: h >= 160 ? 'crop' : 'stretch' };
  } else {
    preprocessing = { size: [h, w], channels: c === 1 ? 'gray' : 'rgb', range: [0, 1], mean: new Array<number>(c).fill(0), std: new Array<number>(c).fill(1), resize: 'stretch' };
  }
  if (stored) {
    preprocessing = { ...preprocessing, ...stored };
    if (preprocessing.mean.length !== (preprocessing.channels === 'gray' ? 1 : 3) || preprocessing.std.length !== preprocessing.mean.length) {
      warnings.push('metadata preprocessing mean/std do not match the channel count; using them per channel anyway');
    }
  } else {
    const geometry = preprocessing.resize === 'crop' ? `shorter side to ${Math.round(Math.min(h, w) / 0.875)}, centre crop ${h}x${w}` : `resized to ${h}x${w}`;
    warnings.push(
      o.integerPixels
        ? `no preprocessing in the model metadata; assuming ${c === 1 ? 'grayscale' : c === 3 ? 'RGB' : `${c}-channel`} pixels in [0,255] as the model's integer input took them, ${geometry} (${DESCRIBE_HINT.preprocessing})`
        : c === 3
        ? `no preprocessing in the model metadata; assuming RGB in [0,1] normalized with ImageNet mean/std, ${geometry} (${DESCRIBE_HINT.preprocessing})`
        : `no preprocessing in the model metadata; assuming ${c === 1 ? 'grayscale' : `${c}-channel`} input in [0,1], ${geometry} (${DESCRIBE_HINT.preprocessing})`,
    );
  }
  return {
    labels,
    preprocessing,
    description: graph.metadata.get(METADATA_KEYS.description) ?? '',
    warnings,
    training: parse(METADATA_KEYS.training),
    metrics: parse(METADATA_KEYS.metrics),
    ...profileAndSamples(graph, parse, warnings),
  };
}

function profileAndSamples(graph: Graph, parse: <T>(key: string) => T | undefined, warnings: string[]): Pick<ModelMetadata, 'profile' | 'samples' | 'provenance'> {
  const out: Pick<ModelMetadata, 'profile' | 'samples' | 'provenance'> = {};
  const profile = parse<unknown>(METADATA_KEYS.profile);
  if (profile !== undefined) {
    if (profile && typeof profile === 'object' && !Array.isArray(profile)) out.profile = profile as Record<string, unknown>;
    else warnings.push(`metadata ${METADATA_KEYS.profile} is not a JSON object; ignored`);
  }
  const samples = graph.metadata.get(METADATA_KEYS.samples);
  if (samples) out.samples = samples;
  const provenance = graph.metadata.get(METADATA_KEYS.provenance);
  if (provenance) out.provenance = provenance;
  return out;
}

/** Writes metadata into a graph's metadata_props. */
export function writeMetadata(graph: Graph, meta: Partial<Omit<ModelMetadata, 'warnings'>>): void {
  for (const [k, v] of metadataEntries(meta)) graph.metadata.set(k, v);
}

/** The metadata_props entries (key -> string value) that store the given parts. */
export function metadataEntries(meta: Partial<Omit<ModelMetadata, 'warnings'>>): Map<string, string> {
  const out = new Map<string, string>();
  if (meta.labels) out.set(METADATA_KEYS.labels, JSON.stringify(meta.labels));
  if (meta.preprocessing) out.set(METADATA_KEYS.preprocessing, JSON.stringify(meta.preprocessing));
  if (meta.description !== undefined) out.set(METADATA_KEYS.description, meta.description);
  if (meta.training !== undefined) out.set(METADATA_KEYS.training, JSON.stringify(meta.training));
  if (meta.metrics !== undefined) out.set(METADATA_KEYS.metrics, JSON.stringify(meta.metrics));
  if (meta.profile !== undefined) out.set(METADATA_KEYS.profile, JSON.stringify(meta.profile));
  if (meta.samples !== undefined) out.set(METADATA_KEYS.samples, meta.samples);
  if (meta.provenance !== undefined) out.set(METADATA_KEYS.provenance, meta.provenance);
  if (meta.outputKind !== undefined) out.set(METADATA_KEYS.output, meta.outputKind);
  return out;
}

// ------------------------------------------------------------------ describing a model from outside

export const PREPROCESS_PRESETS = ['imagenet', 'imagenet-crop', 'imagenet-stretch', 'unit-range'] as const;

/**
 * A preprocessing from a preset name or JSON, for a model with the given input shape.
 * imagenet: RGB, shorter side to 256/224 of the input, centre crop, ImageNet mean/std (the
 * torchvision evaluation transform); imagenet-crop: the same normalization, the largest centred
 * square resized to the input; imagenet-stretch: the whole image stretched to the input;
 * unit-range: pixels in [0, 1], no normalization, stretched (gray models: one channel). JSON
 * gives any fields of Preprocessing (size, channels, range, mean, std, resize, crop, invert);
 * missing ones come from `base` (what the model already assumes).
 */
export function parsePreprocessing(spec: string, inputShape: readonly (number | string | undefined)[], base?: Preprocessing): Preprocessing {
  const c = typeof inputShape[1] === 'number' ? inputShape[1] : 3;
  const h = typeof inputShape[2] === 'number' ? inputShape[2] : base?.size[0] ?? 224;
  const w = typeof inputShape[3] === 'number' ? inputShape[3] : base?.size[1] ?? h;
  const channels: Preprocessing['channels'] = c === 1 ? 'gray' : 'rgb';
  const imagenet = (resize: Preprocessing['resize'], crop?: number): Preprocessing => {
    if (c !== 3) throw new ConvLensError('INVALID_ARGUMENT', `The ${spec} preset is for RGB models; this model takes ${c} channel${c === 1 ? '' : 's'}.`, 'Use the preset unit-range (CLI: --preprocess unit-range), or JSON such as {"channels":"gray","range":[0,1],"mean":[0.5],"std":[0.5]}.');
    return { size: [h, w], channels: 'rgb', range: [0, 1], mean: IMAGENET_MEAN, std: IMAGENET_STD, resize, ...(crop !== undefined ? { crop } : {}) };
  };
  const text = spec.trim();
  switch (text.toLowerCase()) {
    case 'imagenet':
      return imagenet('crop', 224 / 256);
    case 'imagenet-crop':
      return imagenet('crop', 1);
    case 'imagenet-stretch':
      return imagenet('stretch');
    case 'unit-range':
      return { size: [h, w], channels, range: [0, 1], mean: new Array<number>(c === 1 ? 1 : 3).fill(0), std: new Array<number>(c === 1 ? 1 : 3).fill(1), resize: 'stretch' };
  }
  const { value: parsed, fault } = parseJson(text);
  if (fault !== undefined) {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot read the preprocessing "${spec}": not a preset (${PREPROCESS_PRESETS.join(', ')}) and not JSON (${fault}).`, 'Use a preset, or JSON such as {"size":[224,224],"range":[0,1],"mean":[0.5,0.5,0.5],"std":[0.5,0.5,0.5],"resize":"stretch"}.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConvLensError('INVALID_ARGUMENT', `The preprocessing JSON must be an object, got ${text.slice(0, 40)}.`, 'E.g. {"range":[0,1],"mean":[0.5],"std":[0.5]}.');
  const p = parsed as Record<string, unknown>;
  const known = ['size', 'channels', 'range', 'mean', 'std', 'resize', 'crop', 'invert'];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConvLensError('INVALID_ARGUMENT', `Unknown preprocessing field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}.`, `Fields: ${known.join(', ')}.`);
  const start: Preprocessing = base ?? { size: [h, w], channels, range: [0, 1], mean: new Array<number>(c === 1 ? 1 : 3).fill(0), std: new Array<number>(c === 1 ? 1 : 3).fill(1), resize: 'stretch' };
  const out: Preprocessing = { ...start, ...(p as Partial<Preprocessing>) };
  checkPreprocessing(out, c);
  return out;
}

/** Throws with the field at fault when a preprocessing cannot be applied to a model with `c` input channels. */
export function checkPreprocessing(p: Preprocessing, c: number): void {
  const bad = (field: string, why: string): never => {
    throw new ConvLensError('INVALID_ARGUMENT', `Preprocessing field "${field}" ${why}.`, 'See docs/models.md for every field and the presets.');
  };
  const nums = (v: unknown, n: number): boolean => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!nums(p.size, 2) || !p.size.every((v) => Number.isInteger(v) && v > 0)) bad('size', 'must be [height, width], positive integers');
  if (!['rgb', 'bgr', 'gray'].includes(p.channels)) bad('channels', 'must be "rgb", "bgr" or "gray"');
  if ((p.channels === 'gray') !== (c === 1)) bad('channels', `is "${p.channels}" but the model takes ${c} channel${c === 1 ? '' : 's'}`);
  if (!nums(p.range, 2) || !(p.range[1] !== p.range[0])) bad('range', 'must be [low, high], two different numbers');
  const k = p.channels === 'gray' ? 1 : 3;
  if (!(nums(p.mean, k) || nums(p.mean, 1))) bad('mean', `must hold ${k} number${k > 1 ? 's' : ''}`);
  if (!(nums(p.std, k) || nums(p.std, 1)) || p.std.some((v) => v === 0)) bad('std', `must hold ${k} non-zero number${k > 1 ? 's' : ''}`);
  // Model inputs are float32: a scale whose pixels overflow it feeds Infinity and NaN to every method.
  const f32 = Math.fround;
  const fits = (v: number): boolean => Number.isFinite(f32(v));
  if (!p.range.every(fits)) bad('range', 'must fit float32 (magnitudes up to 3.4e38)');
  if (!p.mean.every(fits)) bad('mean', 'must fit float32 (magnitudes up to 3.4e38)');
  if (!p.std.every((v) => fits(v) && f32(v) !== 0)) bad('std', 'must fit float32 and not round to zero in it (magnitudes up to 3.4e38, above 1e-45)');
  for (let ch = 0; ch < k; ch++) {
    const at = (list: number[]): number => list[list.length === 1 ? 0 : ch]!;
    for (const end of p.range) {
      if (!fits((f32(end) - f32(at(p.mean))) / f32(at(p.std)))) {
        throw new ConvLensError('INVALID_ARGUMENT', `Preprocessing maps pixels outside float32: (${end} - ${at(p.mean)}) / ${at(p.std)} overflows.`, 'Model inputs are float32; choose a range, mean and std whose pixels stay below 3.4e38.');
      }
    }
  }
  if (p.resize !== 'stretch' && p.resize !== 'crop') bad('resize', 'must be "stretch" or "crop"');
  if (p.crop !== undefined && !(typeof p.crop === 'number' && p.crop > 0 && p.crop <= 1)) bad('crop', 'must be a fraction in (0, 1]');
}

/** Longest class name a labels file may give. */
export const MAX_LABEL_LENGTH = 512;

/** Class names from a labels file: JSON (a list of strings) or text, one name per line. */
export function parseLabels(text: string, source: string, classes?: number): string[] {
  const trimmed = text.trim();
  let labels: string[];
  if (trimmed.startsWith('[')) {
    const { value: parsed, fault } = parseJson(trimmed);
    if (fault !== undefined) throw new ConvLensError('INPUT_UNREADABLE', `${source} starts like a JSON list but is not valid JSON (${fault}).`, 'Write a JSON list of strings, or plain text with one class name per line.');
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) throw new ConvLensError('INPUT_UNREADABLE', `${source} is JSON but not a list of strings.`, 'Write ["name 0", "name 1", ...] or one name per line.');
    labels = parsed;
  } else {
    labels = text.split(/\r?\n/).map((l) => l.trim());
    while (labels.length && labels[labels.length - 1] === '') labels.pop();
  }
  if (!labels.length) throw new ConvLensError('INPUT_UNREADABLE', `${source} holds no class names.`, 'One name per line, or a JSON list.');
  // Names are drawn into figures: a 100,000-character "name" kept the confusion matrix rendering for minutes.
  const long = labels.findIndex((l) => l.length > MAX_LABEL_LENGTH);
  if (long >= 0) throw new ConvLensError('INPUT_UNREADABLE', `${source}: class ${long} has a name of ${labels[long]!.length} characters; at most ${MAX_LABEL_LENGTH} are allowed.`, 'Is it a labels file (one class name per line, or a JSON list of names)?');
  if (classes !== undefined && labels.length !== classes) {
    throw new ConvLensError('INVALID_ARGUMENT', `${source} holds ${labels.length} class names; the model has ${classes} outputs.`, 'Give one name per output, in the model\'s output order.');
  }
  return labels;
}
