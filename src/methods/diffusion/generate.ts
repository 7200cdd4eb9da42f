import { ConvLensError } from '../../engine/errors.js';
import type { RawImage } from '../../io/image.js';
import type { JobOptions } from '../../engine/jobs.js';
import type { ClassConditionalDenoiser } from './model.js';
import { pixelImages, type ToImage } from './preview.js';
import { conditionIndex, resolvePrompt } from './prompts.js';
import { sample, type Frame, type SamplerKind } from './sampler.js';

/**
 * Text to image, the way diffusers' pipelines are called: prompts, negative prompt,
 * num_inference_steps, guidance_scale, num_images_per_prompt, a seed, a sampler; plus what it
 * takes to watch: x_t and the predicted clean image every k-th step. Implemented by the
 * class-conditional denoiser (prompts = class names) and by Stable-Diffusion-style ONNX pipelines.
 */
export interface GenerateRequest extends JobOptions {
  prompts: readonly string[];
  /** one for all prompts, or one per prompt; "" or absent = the unconditional branch */
  negativePrompt?: string | readonly string[] | undefined;
  numInferenceSteps?: number;
  guidanceScale?: number;
  numImagesPerPrompt?: number;
  seed?: number;
  sampler?: SamplerKind;
  eta?: number;
  /** record every k-th step (0 = none) */
  previewEvery?: number;
  /** each recorded step as it happens, with its pictures (live views) */
  onFrame?: (frame: Frame, view: { toImage: ToImage }) => void | Promise<void>;
  /** Stable Diffusion: output size in pixels (multiples of 8; default: the U-Net's latent size x 8) */
  width?: number;
  height?: number;
}

export interface GenerateResult {
  /** the final images as pixels, prompt-major (prompt 0's images first) */
  images: RawImage[];
  promptOf: number[];
  /** what each prompt was mapped to ("Ankle boot", or the prompt text for text encoders) */
  conditions: string[];
  negative: string[] | undefined;
  frames: Frame[];
  /** pictures of recorded x_t / x_0 (latents: an approximate RGB preview) */
  frameImage: ToImage;
  timesteps: number[];
  seconds: number;
  settings: { steps: number; guidanceScale: number; sampler: SamplerKind; eta: number; seed: number; numImagesPerPrompt: number; rowsPerStep: number };
}

export interface TextToImage {
  readonly name: string;
  readonly kind: 'class-conditional' | 'stable-diffusion';
  /** for class-conditional models: the prompts it understands */
  readonly labels?: readonly string[];
  /** one sample's pixel size [height, width] at the default settings */
  readonly imageSize: [number, number];
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

export function checkRequest(r: GenerateRequest): void {
  if (!r.prompts.length) throw new ConvLensError('INVALID_ARGUMENT', 'Nothing to generate: give at least one prompt.', 'Pass a prompt such as "ankle boot" ("" for the unconditional model).');
  if (r.prompts.length > 64) throw new ConvLensError('INVALID_ARGUMENT', `${r.prompts.length} prompts are too many for one run (at most 64).`, 'Split the prompts over several runs of at most 64 each.');
  const n = r.numImagesPerPrompt ?? 1;
  if (!Number.isInteger(n) || n < 1 || n * r.prompts.length > 1024) {
    throw new ConvLensError('INVALID_ARGUMENT', `num_images_per_prompt ${n} x ${r.prompts.length} prompts is out of range.`, 'Ask for 1 to 1024 images per run.');
  }
  if (Array.isArray(r.negativePrompt) && r.negativePrompt.length !== r.prompts.length) {
    throw new ConvLensError('INVALID_ARGUMENT', `${r.negativePrompt.length} negative prompts for ${r.prompts.length} prompts.`, 'Give one negative prompt for all prompts, or one per prompt.');
  }
}

/** The class-conditional U-Net as a text-to-image model: prompts are its class names. */
export class ClassConditionalGenerator implements TextToImage {
  readonly kind = 'class-conditional';
  constructor(readonly denoiser: ClassConditionalDenoiser) {}

  get name(): string {
    return this.denoiser.name;
  }

  get labels(): readonly string[] {
    return this.denoiser.labels;
  }

  get imageSize(): [number, number] {
    return [this.denoiser.shape[1]!, this.denoiser.shape[2]!];
  }

  async generate(r: GenerateRequest): Promise<GenerateResult> {
    checkRequest(r);
    const d = this.denoiser;
    const conds = r.prompts.map((p) => resolvePrompt(p, d.labels));
    const negs = r.negativePrompt === undefined ? undefined : (typeof r.negativePrompt === 'string' ? r.prompts.map(() => r.negativePrompt as string) : [...r.negativePrompt]).map((p) => resolvePrompt(p, d.labels, 'negative prompt'));
    const toImage = pixelImages(d.shape, d.clipRange);
    const steps = r.numInferenceSteps ?? 50;
    const scale = r.guidanceScale ?? 1;
    const kind = r.sampler ?? 'ddim';
    const eta = r.eta ?? (kind === 'ddpm' ? 1 : 0);
    const seed = r.seed ?? 0;
    const perPrompt = r.numImagesPerPrompt ?? 1;
    const res = await sample(d, {
      conditions: conds.map((c) => conditionIndex(c, d.unconditional)),
      unconditional: d.unconditional,
      negative: negs?.map((c) => conditionIndex(c, d.unconditional)),
      guidanceScale: scale,
      numImagesPerPrompt: perPrompt,
      steps,
      sampler: kind,
      eta,
      seed,
      previewEvery: r.previewEvery ?? 0,
      ...(r.onFrame ? { onFrame: (f: Frame) => r.onFrame!(f, { toImage }) } : {}),
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.onProgress ? { onProgress: r.onProgress } : {}),
    });
    return {
      images: Array.from({ length: res.count }, (_, i) => toImage(res.images, i)),
      promptOf: res.promptOf,
      conditions: conds.map((c) => (c.kind === 'class' ? c.label : '(unconditional)')),
      negative: negs?.map((c) => (c.kind === 'class' ? c.label : '(unconditional)')),
      frames: res.frames,
      frameImage: toImage,
      timesteps: res.timesteps,
      seconds: res.seconds,
      settings: { steps, guidanceScale: scale, sampler: kind, eta, seed, numImagesPerPrompt: perPrompt, rowsPerStep: res.rowsPerStep },
    };
  }
}
