import type { Graph, ValueInfo } from '../engine/graph/ir.js';

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
  /** colors of a grayscale dataset inverted (e.g. white-on-black MNIST digits from black-on-white photos) */
  invert?: boolean;
}

export const METADATA_KEYS = {
  labels: 'convlens.labels',
  preprocessing: 'convlens.preprocessing',
  description: 'convlens.description',
  training: 'convlens.training',
  metrics: 'convlens.metrics',
} as const;

export interface ModelMetadata {
  labels: string[];
  preprocessing: Preprocessing;
  description: string;
  /** what was assumed because the file did not say */
  warnings: string[];
  training?: unknown;
  metrics?: unknown;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Reads ConvLens metadata from a graph, filling gaps with defaults and saying what was assumed. */
export function readMetadata(graph: Graph, input: ValueInfo, outputClasses: number | undefined): ModelMetadata {
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
    labels = Array.from({ length: n }, (_, i) => `class ${i}`);
    if (n) warnings.push(`no class labels in the model; using "class 0".."class ${n - 1}"`);
  }

  const stored = parse<Partial<Preprocessing>>(METADATA_KEYS.preprocessing);
  let preprocessing: Preprocessing;
  if (c === 3) {
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
    warnings.push(
      c === 3
        ? 'no preprocessing in the model metadata; assuming RGB in [0,1] normalized with ImageNet mean/std'
        : `no preprocessing in the model metadata; assuming ${c === 1 ? 'grayscale' : `${c}-channel`} input in [0,1]`,
    );
  }
  return {
    labels,
    preprocessing,
    description: graph.metadata.get(METADATA_KEYS.description) ?? '',
    warnings,
    training: parse(METADATA_KEYS.training),
    metrics: parse(METADATA_KEYS.metrics),
  };
}

/** Writes metadata into a graph's metadata_props. */
export function writeMetadata(graph: Graph, meta: Partial<Omit<ModelMetadata, 'warnings'>>): void {
  if (meta.labels) graph.metadata.set(METADATA_KEYS.labels, JSON.stringify(meta.labels));
  if (meta.preprocessing) graph.metadata.set(METADATA_KEYS.preprocessing, JSON.stringify(meta.preprocessing));
  if (meta.description !== undefined) graph.metadata.set(METADATA_KEYS.description, meta.description);
  if (meta.training !== undefined) graph.metadata.set(METADATA_KEYS.training, JSON.stringify(meta.training));
  if (meta.metrics !== undefined) graph.metadata.set(METADATA_KEYS.metrics, JSON.stringify(meta.metrics));
}
