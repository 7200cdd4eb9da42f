import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConvLensError } from '../../engine/errors.js';
import type { Graph } from '../../engine/graph/ir.js';
import { decodeModel } from '../../engine/onnx/codec.js';
import type { CompiledGraph, Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { readFileOrExplain } from '../../io/files.js';
import type { UNetInfo } from '../../models/zoo/unet.js';
import type { DiffusionModel } from './sampler.js';
import { makeSchedule, type NoiseSchedule, type ScheduleConfig } from './schedule.js';

/** How a denoiser file describes itself: ONNX metadata_props key `convlens.diffusion` (JSON). */
export interface DiffusionMetadata {
  kind: 'class-conditional-unet';
  schedule: Required<ScheduleConfig>;
  predictionType: 'epsilon' | 'v_prediction';
  /** the value range images live in (x_0 is clipped to it while sampling) */
  sampleRange: [number, number];
  /** the conditions: class names in class-index order */
  labels: string[];
  /** the class index meaning "no condition" (classifier-free guidance's unconditional branch) */
  nullClass: number;
  io: UNetInfo;
}

export const DIFFUSION_METADATA_KEY = 'convlens.diffusion';

export function writeDiffusionMetadata(g: Graph, meta: DiffusionMetadata): void {
  g.metadata.set(DIFFUSION_METADATA_KEY, JSON.stringify(meta));
}

export function readDiffusionMetadata(g: Graph, source: string): DiffusionMetadata {
  const raw = g.metadata.get(DIFFUSION_METADATA_KEY);
  const hint = 'Pass a denoiser written by `convlens diffuse train` (or leave out --model for the built-in one); Stable-Diffusion-style pipelines go with --pipeline DIR.';
  if (!raw) throw new ConvLensError('MODEL_UNSUPPORTED', `${source} is not a ConvLens denoiser (no ${DIFFUSION_METADATA_KEY} metadata).`, hint);
  let meta: DiffusionMetadata;
  try {
    meta = JSON.parse(raw) as DiffusionMetadata;
  } catch {
    throw new ConvLensError('MODEL_UNREADABLE', `${source}: metadata ${DIFFUSION_METADATA_KEY} is not valid JSON.`, hint);
  }
  if (meta.kind !== 'class-conditional-unet' || !Array.isArray(meta.labels) || !meta.io || !meta.schedule) {
    throw new ConvLensError('MODEL_UNSUPPORTED', `${source}: unknown denoiser kind "${String(meta.kind)}".`, hint);
  }
  return meta;
}

/** The committed Fashion-MNIST denoiser (made by `convlens diffuse train`, see assets/models/fashion-unet.md). */
export const BUILTIN_DENOISER_PATH = fileURLToPath(new URL('../../../assets/models/fashion-unet.onnx', import.meta.url));

/**
 * A class-conditional noise predictor eps(x_t, t, class) on ONNX Runtime, as a DiffusionModel
 * for the samplers: conditions are class indices, `nullClass` is the unconditional branch.
 */
export class ClassConditionalDenoiser implements DiffusionModel<number> {
  readonly schedule: NoiseSchedule;
  readonly shape: readonly number[];
  readonly predictionType: 'epsilon' | 'v_prediction';
  readonly clipRange: [number, number];
  readonly unconditional: number;
  private session: Promise<CompiledGraph> | undefined;
  /** rows per engine run (bigger batches are split) */
  maxBatch = 128;

  constructor(
    readonly graph: Graph,
    readonly engine: Engine,
    readonly meta: DiffusionMetadata,
    readonly name: string,
    private readonly key = `denoiser:${name}:${Math.random().toString(36).slice(2)}`,
  ) {
    this.schedule = makeSchedule(meta.schedule);
    const input = graph.inputs.find((i) => i.name === meta.io.sample);
    const shape = input?.shape?.slice(1) ?? [];
    if (!input || shape.length !== 3 || !shape.every((d) => typeof d === 'number')) {
      throw new ConvLensError('MODEL_UNSUPPORTED', `The denoiser "${name}" needs an input "${meta.io.sample}" of static shape [N, C, H, W].`, 'Use a denoiser written by `convlens diffuse train`, or re-export this one with a fixed sample size [N, C, H, W].');
    }
    this.shape = shape as number[];
    this.predictionType = meta.predictionType;
    this.clipRange = meta.sampleRange;
    this.unconditional = meta.nullClass;
  }

  get labels(): string[] {
    return this.meta.labels;
  }

  parameterCount(): number {
    let n = 0;
    for (const t of this.graph.initializers.values()) if (t.dtype === 'float32') n += t.data.length;
    return n;
  }

  async predict(x: Float32Array, n: number, t: number, conditions: readonly number[]): Promise<Float32Array> {
    this.session ??= this.engine.compile(this.key, () => this.graph);
    const session = await this.session;
    const per = this.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n * per);
    const io = this.meta.io;
    for (let start = 0; start < n; start += this.maxBatch) {
      const m = Math.min(this.maxBatch, n - start);
      const feeds: Record<string, Tensor> = {
        [io.sample]: { dtype: 'float32', dims: [m, ...this.shape], data: x.subarray(start * per, (start + m) * per) },
        [io.timestep]: { dtype: 'float32', dims: [m], data: new Float32Array(m).fill(t) },
        [io.classLabels]: { dtype: 'int64', dims: [m], data: BigInt64Array.from(conditions.slice(start, start + m), (c) => BigInt(c)) },
      };
      const r = await session.run(feeds, [io.output]);
      out.set(r[io.output]!.data as Float32Array, start * per);
    }
    return out;
  }
}

/** Loads a denoiser file (default: the built-in Fashion-MNIST U-Net). */
export function loadDenoiser(path: string | undefined, engine: Engine): ClassConditionalDenoiser {
  const file = path ?? BUILTIN_DENOISER_PATH;
  if (path === undefined && !existsSync(file)) {
    throw new ConvLensError('INPUT_UNREADABLE', `The built-in denoiser ${file} is missing.`, 'Train one with `convlens diffuse train --out model.onnx` and pass it with --model.');
  }
  const graph = decodeModel(readFileOrExplain(file, 'denoiser'), { source: `denoiser "${file}"` });
  const meta = readDiffusionMetadata(graph, `"${file}"`);
  return new ClassConditionalDenoiser(graph, engine, meta, path === undefined ? 'fashion-unet' : file.replace(/^.*[\\/]/, '').replace(/\.onnx$/, ''));
}
