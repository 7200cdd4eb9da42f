import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConvLensError } from '../../engine/errors.js';
import type { Backend, Session, ValueInfo } from '../../engine/runtime/backend.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { readFileOrExplain } from '../../io/files.js';
import type { RawImage } from '../../io/image.js';
import { parseJson } from '../../util/json.js';
import { ClipTokenizer } from './clip-tokenizer.js';
import { checkRequest, type GenerateRequest, type GenerateResult, type TextToImage } from './generate.js';
import { latentImages, pixelImages } from './preview.js';
import { sample, type DiffusionModel, type Frame } from './sampler.js';
import { makeSchedule, type NoiseSchedule, type ScheduleKind } from './schedule.js';

/**
 * A Stable-Diffusion-style text-to-image pipeline from ONNX components, laid out as diffusers'
 * ONNX exports are (`optimum-cli export onnx --model <sd-model> DIR`, or diffusers'
 * convert_stable_diffusion_checkpoint_to_onnx.py):
 *
 *   DIR/text_encoder/model.onnx   input_ids int32|int64 [B, 77] -> last_hidden_state [B, 77, D] (first output)
 *   DIR/unet/model.onnx           sample [B, 4, h, w], timestep float32|int64 [1], encoder_hidden_states [B, 77, D] -> noise prediction [B, 4, h, w]
 *   DIR/vae_decoder/model.onnx    latent_sample [B, 4, h, w] -> sample [B, 3, 8h, 8w] in [-1, 1]
 *   DIR/tokenizer/vocab.json, merges.txt (CLIP BPE), special_tokens_map.json (pad token, optional)
 *   DIR/scheduler/scheduler_config.json   beta_start, beta_end, beta_schedule, num_train_timesteps,
 *                                         steps_offset, set_alpha_to_one, prediction_type (optional)
 *   DIR/vae_decoder/config.json   scaling_factor (optional, default 0.18215)
 *
 * The same samplers, guidance and negative prompts as the class-conditional model run on the
 * latents; previews show the latents through a fixed linear latent-to-RGB map. Sessions are
 * opened from the files by the runtime itself (Backend.openSession: external-data weights beside
 * them work, and multi-GB U-Nets never pass through JavaScript memory as one buffer).
 */
export interface PipelineSchedulerConfig {
  betaStart: number;
  betaEnd: number;
  betaSchedule: ScheduleKind;
  trainTimesteps: number;
  stepsOffset: number;
  setAlphaToOne: boolean;
  predictionType: 'epsilon' | 'v_prediction';
  timestepSpacing: 'leading' | 'trailing' | 'linspace';
}

interface Component {
  session: Session;
  inputs: Map<string, ValueInfo>;
  path: string;
}

const SD_SCHEDULER: PipelineSchedulerConfig = {
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  trainTimesteps: 1000,
  stepsOffset: 1,
  setAlphaToOne: false,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
};

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileOrExplain(path, 'pipeline configuration').toString('utf8');
  const parsed = parseJson(text);
  if (parsed.fault !== undefined) throw new ConvLensError('MODEL_UNREADABLE', `${path} is not valid JSON (${parsed.fault}).`, 'Copy the file again from the pipeline export.');
  return parsed.value as Record<string, unknown>;
}

export function readSchedulerConfig(dir: string): PipelineSchedulerConfig {
  const j = readJson(join(dir, 'scheduler', 'scheduler_config.json')) ?? {};
  const num = (k: string, d: number): number => (typeof j[k] === 'number' ? (j[k] as number) : d);
  const kind = typeof j.beta_schedule === 'string' ? j.beta_schedule : SD_SCHEDULER.betaSchedule;
  const betaSchedule: ScheduleKind = kind === 'squaredcos_cap_v2' ? 'cosine' : kind === 'linear' ? 'linear' : kind === 'scaled_linear' ? 'scaled_linear' : (() => {
    throw new ConvLensError('MODEL_UNSUPPORTED', `The pipeline's scheduler uses beta_schedule "${String(kind)}".`, 'Supported: linear, scaled_linear, squaredcos_cap_v2.');
  })();
  const pred = j.prediction_type === 'v_prediction' ? 'v_prediction' : j.prediction_type === undefined || j.prediction_type === 'epsilon' ? 'epsilon' : (() => {
    throw new ConvLensError('MODEL_UNSUPPORTED', `The pipeline's scheduler predicts "${String(j.prediction_type)}".`, 'Supported: epsilon, v_prediction.');
  })();
  const spacing = j.timestep_spacing === 'trailing' || j.timestep_spacing === 'linspace' ? j.timestep_spacing : 'leading';
  return {
    betaStart: num('beta_start', SD_SCHEDULER.betaStart),
    betaEnd: num('beta_end', SD_SCHEDULER.betaEnd),
    betaSchedule,
    trainTimesteps: num('num_train_timesteps', SD_SCHEDULER.trainTimesteps),
    stepsOffset: num('steps_offset', j.steps_offset === undefined && Object.keys(j).length ? 0 : SD_SCHEDULER.stepsOffset),
    setAlphaToOne: typeof j.set_alpha_to_one === 'boolean' ? j.set_alpha_to_one : SD_SCHEDULER.setAlphaToOne,
    predictionType: pred,
    timestepSpacing: spacing,
  };
}

async function openComponent(backend: Backend, dir: string, name: string, threads: number | undefined): Promise<Component> {
  const path = join(dir, name, 'model.onnx');
  if (!existsSync(path)) {
    throw new ConvLensError('INPUT_UNREADABLE', `The pipeline folder "${dir}" has no ${name}/model.onnx.`, 'Export the pipeline to ONNX (e.g. `optimum-cli export onnx --model <model id> DIR`); ConvLens needs text_encoder/, unet/, vae_decoder/ and tokenizer/.');
  }
  const session = await backend.openSession(path, threads ? { threads } : {});
  return { session, inputs: new Map(session.inputs.map((i) => [i.name, i])), path };
}

function requireInput(c: Component, name: string, what: string): ValueInfo {
  const i = c.inputs.get(name);
  if (!i) throw new ConvLensError('MODEL_UNSUPPORTED', `${c.path} has no input "${name}" (${what}); its inputs: ${[...c.inputs.keys()].join(', ')}.`, 'ConvLens expects the input names of diffusers/optimum ONNX exports.');
  return i;
}

async function run(c: Component, feeds: Record<string, Tensor>): Promise<Tensor> {
  try {
    const out = await c.session.run(feeds);
    return out[c.session.outputNames[0]!]!;
  } catch (e) {
    throw new ConvLensError('RUNTIME_FAILURE', `ONNX Runtime failed running ${c.path}: ${(e as Error).message}`, 'Check that the pipeline folder\'s models come from one export; if memory ran out, ask for smaller or fewer images (CLI: --width, --height, --count).', { cause: e });
  }
}

export interface PipelineOptions {
  threads?: number;
}

/** The U-Net on latents as a DiffusionModel (conditions = text embeddings [77 x D]). */
class LatentUNet implements DiffusionModel<Float32Array> {
  readonly clipRange = undefined;
  constructor(
    readonly unet: Component,
    readonly schedule: NoiseSchedule,
    readonly shape: readonly number[],
    readonly predictionType: 'epsilon' | 'v_prediction',
    readonly embeddingShape: readonly number[],
    readonly maxBatch = 8,
  ) {}

  async predict(x: Float32Array, n: number, t: number, conditions: readonly Float32Array[]): Promise<Float32Array> {
    const per = this.shape.reduce((a, b) => a * b, 1);
    const embPer = this.embeddingShape.reduce((a, b) => a * b, 1);
    const tInfo = requireInput(this.unet, 'timestep', 'the timestep');
    const tType = tInfo.type;
    const tDims = tInfo.shape.length === 0 ? [] : [1];
    const timestep: Tensor =
      tType === 'int64' ? { dtype: 'int64', dims: tDims, data: BigInt64Array.of(BigInt(t)) } : tType === 'int32' ? { dtype: 'int32', dims: tDims, data: Int32Array.of(t) } : tType === 'float32' ? { dtype: 'float32', dims: tDims, data: Float32Array.of(t) } : (() => {
        throw new ConvLensError('MODEL_UNSUPPORTED', `${this.unet.path}: timestep of type ${tType} is not supported.`, 'Use a float32 export (fp16 exports are not supported on the CPU).');
      })();
    const out = new Float32Array(n * per);
    for (let start = 0; start < n; start += this.maxBatch) {
      const m = Math.min(this.maxBatch, n - start);
      const emb = new Float32Array(m * embPer);
      for (let i = 0; i < m; i++) emb.set(conditions[start + i]!, i * embPer);
      const r = await run(this.unet, {
        sample: { dtype: 'float32', dims: [m, ...this.shape], data: x.slice(start * per, (start + m) * per) },
        timestep,
        encoder_hidden_states: { dtype: 'float32', dims: [m, ...this.embeddingShape], data: emb },
      });
      if (r.data.length !== m * per) throw new ConvLensError('SHAPE_MISMATCH', `${this.unet.path} returned ${r.dims.join('x')} for a latent batch of ${m} x [${this.shape.join(', ')}].`, 'Check that unet/ belongs to this pipeline: its output must have the shape of its "sample" input.');
      out.set(r.data as Float32Array, start * per);
    }
    return out;
  }
}

export class StableDiffusionPipeline implements TextToImage {
  readonly kind = 'stable-diffusion';
  readonly labels = undefined;
  readonly schedule: NoiseSchedule;

  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly tokenizer: ClipTokenizer,
    readonly textEncoder: Component,
    readonly unet: Component,
    readonly vaeDecoder: Component,
    readonly scheduler: PipelineSchedulerConfig,
    readonly vaeScale: number,
    readonly latentChannels: number,
    readonly defaultLatentSize: [number, number],
  ) {
    this.schedule = makeSchedule({ kind: scheduler.betaSchedule, steps: scheduler.trainTimesteps, betaStart: scheduler.betaStart, betaEnd: scheduler.betaEnd });
  }

  static async open(dir: string, backend: Backend, options: PipelineOptions = {}): Promise<StableDiffusionPipeline> {
    if (!existsSync(dir)) throw new ConvLensError('INPUT_UNREADABLE', `The pipeline folder "${dir}" does not exist.`, 'Pass the folder of an ONNX export (text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/).');
    if (!statSync(dir).isDirectory()) throw new ConvLensError('INPUT_UNREADABLE', `"${dir}" is a file, not a pipeline folder.`, `Pass the folder of the ONNX export that holds it (text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/)${dir.endsWith('.onnx') ? '; a denoiser file from `convlens diffuse train` goes with --model' : ''}.`);
    const tokenizer = ClipTokenizer.fromFolder(join(dir, 'tokenizer'));
    const [textEncoder, unet, vaeDecoder] = await Promise.all(['text_encoder', 'unet', 'vae_decoder'].map((c) => openComponent(backend, dir, c, options.threads)));
    requireInput(textEncoder!, 'input_ids', 'the token ids');
    const sampleInfo = requireInput(unet!, 'sample', 'the latents');
    requireInput(unet!, 'encoder_hidden_states', 'the text embeddings');
    requireInput(vaeDecoder!, 'latent_sample', 'the latents to decode');
    const vaeConfig = readJson(join(dir, 'vae_decoder', 'config.json')) ?? {};
    const unetConfig = readJson(join(dir, 'unet', 'config.json')) ?? {};
    const vaeScale = typeof vaeConfig.scaling_factor === 'number' ? vaeConfig.scaling_factor : 0.18215;
    const channels = typeof sampleInfo.shape[1] === 'number' ? sampleInfo.shape[1] : typeof unetConfig.in_channels === 'number' ? unetConfig.in_channels : 4;
    const size = typeof unetConfig.sample_size === 'number' ? unetConfig.sample_size : 64;
    const h = typeof sampleInfo.shape[2] === 'number' ? sampleInfo.shape[2] : size;
    const w = typeof sampleInfo.shape[3] === 'number' ? sampleInfo.shape[3] : size;
    const name = (readJson(join(dir, 'model_index.json'))?._name_or_path as string | undefined) ?? dir.replace(/[\\/]+$/, '').replace(/^.*[\\/]/, '');
    return new StableDiffusionPipeline(dir, name, tokenizer, textEncoder!, unet!, vaeDecoder!, readSchedulerConfig(dir), vaeScale, channels, [h, w]);
  }

  get imageSize(): [number, number] {
    return [this.defaultLatentSize[0] * 8, this.defaultLatentSize[1] * 8];
  }

  /** Text embeddings [77, D] of each text (one text encoder run for the distinct texts). */
  async encodeText(texts: readonly string[]): Promise<{ embeddings: Float32Array[]; shape: number[]; truncated: string[] }> {
    const unique = [...new Set(texts)];
    const L = this.tokenizer.maxLength;
    const info = requireInput(this.textEncoder, 'input_ids', 'the token ids');
    const encoded = unique.map((t) => this.tokenizer.encode(t));
    const flat = encoded.flatMap((e) => e.ids);
    const ids: Tensor = info.type === 'int64' ? { dtype: 'int64', dims: [unique.length, L], data: BigInt64Array.from(flat, (v) => BigInt(v)) } : { dtype: 'int32', dims: [unique.length, L], data: Int32Array.from(flat) };
    const out = await run(this.textEncoder, { input_ids: ids });
    const dims = out.dims as number[];
    if (dims.length !== 3 || dims[0] !== unique.length || dims[1] !== L) throw new ConvLensError('SHAPE_MISMATCH', `${this.textEncoder.path} returned [${dims.join(', ')}]; expected [${unique.length}, ${L}, D] (last_hidden_state first).`, 'Check that text_encoder/ belongs to this pipeline and returns last_hidden_state as its first output.');
    const per = dims[1]! * dims[2]!;
    const data = out.data as Float32Array;
    const byText = new Map(unique.map((t, i) => [t, data.slice(i * per, (i + 1) * per)]));
    return { embeddings: texts.map((t) => byText.get(t)!), shape: [dims[1]!, dims[2]!], truncated: unique.filter((_, i) => encoded[i]!.truncated) };
  }

  /** Latents [B, C, h, w] (as the sampler leaves them) -> RGB images through the VAE decoder. */
  async decode(latents: Float32Array, count: number, shape: readonly number[]): Promise<RawImage[]> {
    const per = shape.reduce((a, b) => a * b, 1);
    const images: RawImage[] = [];
    for (let i = 0; i < count; i++) {
      const z = new Float32Array(per);
      for (let j = 0; j < per; j++) z[j] = latents[i * per + j]! / this.vaeScale;
      const out = await run(this.vaeDecoder, { latent_sample: { dtype: 'float32', dims: [1, ...shape], data: z } });
      const dims = out.dims as number[];
      if (dims.length !== 4 || dims[1] !== 3) throw new ConvLensError('SHAPE_MISMATCH', `${this.vaeDecoder.path} returned [${dims.join(', ')}]; expected an RGB image [1, 3, H, W].`, 'Check that vae_decoder/ belongs to this pipeline and decodes latents to RGB images.');
      images.push(pixelImages(dims.slice(1), [-1, 1])(out.data as Float32Array, 0));
    }
    return images;
  }

  async generate(r: GenerateRequest): Promise<GenerateResult> {
    checkRequest(r);
    const height = r.height ?? this.imageSize[0];
    const width = r.width ?? this.imageSize[1];
    if (height % 8 || width % 8) throw new ConvLensError('INVALID_ARGUMENT', `Height and width must be multiples of 8, got ${height}x${width}.`, `Use a height and width that are multiples of 8 (CLI: --height, --width), e.g. ${Math.max(8, Math.round(height / 8) * 8)}x${Math.max(8, Math.round(width / 8) * 8)}.`);
    const fixed = this.unet.inputs.get('sample')!.shape;
    if ((typeof fixed[2] === 'number' && fixed[2] !== height / 8) || (typeof fixed[3] === 'number' && fixed[3] !== width / 8)) {
      throw new ConvLensError('INVALID_ARGUMENT', `This U-Net was exported for ${Number(fixed[2]) * 8}x${Number(fixed[3]) * 8} images; ${height}x${width} was asked for.`, 'Leave out --width/--height.');
    }
    const shape = [this.latentChannels, height / 8, width / 8];
    const scale = r.guidanceScale ?? 7.5;
    const guided = scale > 1;
    const negatives = r.negativePrompt === undefined ? r.prompts.map(() => '') : typeof r.negativePrompt === 'string' ? r.prompts.map(() => r.negativePrompt as string) : [...r.negativePrompt];
    const texts = [...r.prompts, ...(guided ? [...negatives, ''] : [])];
    const enc = await this.encodeText(texts);
    const cond = enc.embeddings.slice(0, r.prompts.length);
    const neg = guided ? enc.embeddings.slice(r.prompts.length, 2 * r.prompts.length) : [];
    const uncond = guided ? enc.embeddings[enc.embeddings.length - 1]! : cond[0]!;
    const model = new LatentUNet(this.unet, this.schedule, shape, this.scheduler.predictionType, enc.shape);
    const steps = r.numInferenceSteps ?? 50;
    const kind = r.sampler ?? 'ddim';
    const eta = r.eta ?? (kind === 'ddpm' ? 1 : 0);
    const seed = r.seed ?? 0;
    const perPrompt = r.numImagesPerPrompt ?? 1;
    const toImage = latentImages(shape);
    const res = await sample(model, {
      conditions: cond,
      unconditional: uncond,
      ...(guided ? { negative: neg } : {}),
      guidanceScale: scale,
      numImagesPerPrompt: perPrompt,
      steps,
      sampler: kind,
      eta,
      seed,
      spacing: this.scheduler.timestepSpacing,
      stepsOffset: this.scheduler.stepsOffset,
      finalAlphaCumprod: this.scheduler.setAlphaToOne ? 1 : this.schedule.alphasCumprod[0]!,
      previewEvery: r.previewEvery ?? 0,
      ...(r.onFrame ? { onFrame: (f: Frame) => r.onFrame!(f, { toImage }) } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.onProgress ? { onProgress: r.onProgress } : {}),
    });
    const images = await this.decode(res.images, res.count, shape);
    return {
      images,
      promptOf: res.promptOf,
      conditions: [...r.prompts],
      negative: r.negativePrompt === undefined ? undefined : negatives,
      frames: res.frames,
      frameImage: toImage,
      timesteps: res.timesteps,
      seconds: res.seconds,
      settings: { steps, guidanceScale: scale, sampler: kind, eta, seed, numImagesPerPrompt: perPrompt, rowsPerStep: res.rowsPerStep },
    };
  }

  async release(): Promise<void> {
    for (const c of [this.textEncoder, this.unet, this.vaeDecoder]) await c.session.release();
  }
}

/** Opens a pipeline folder lazily (the CLI and studio call generate right after). */
export function loadPipeline(dir: string, engine: Engine): TextToImage {
  let opened: Promise<StableDiffusionPipeline> | undefined;
  const threads = engine.options.threads;
  const get = (): Promise<StableDiffusionPipeline> => (opened ??= StableDiffusionPipeline.open(dir, engine.backend, threads ? { threads } : {}));
  const name = dir.replace(/[\\/]+$/, '').replace(/^.*[\\/]/, '');
  return {
    kind: 'stable-diffusion',
    name,
    imageSize: [512, 512],
    async generate(r) {
      return (await get()).generate(r);
    },
  };
}
