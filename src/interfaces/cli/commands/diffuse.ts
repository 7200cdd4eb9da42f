import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { FASHION_MNIST_CLASSES } from '../../../data/fashion-mnist.js';
import { ConvLensError } from '../../../engine/errors.js';
import { encodeModel } from '../../../engine/onnx/codec.js';
import { writeFileAtomic } from '../../../io/files.js';
import { readImageFile, rawToTensor, encodePng } from '../../../io/image.js';
import { conditionalAccuracy } from '../../../methods/diffusion/evaluate.js';
import { ClassConditionalGenerator, type GenerateResult, type TextToImage } from '../../../methods/diffusion/generate.js';
import { loadDenoiser } from '../../../methods/diffusion/model.js';
import { loadPipeline } from '../../../methods/diffusion/pipeline.js';
import { denoisingFigure, denoisingGif, noisingFigure, pixelImages, samplesFigure } from '../../../methods/diffusion/preview.js';
import { Generator } from '../../../methods/diffusion/random.js';
import { MAX_ETA, MAX_GUIDANCE, SAMPLERS, type SamplerKind } from '../../../methods/diffusion/sampler.js';
import { makeSchedule, parseScheduleKind } from '../../../methods/diffusion/schedule.js';
import { denoiserRunFromCheckpoint, trainDenoiser, type DenoiserConfig, type DenoiserRunInfo } from '../../../methods/diffusion/train.js';
import { loadBuiltinModel } from '../../../models/load.js';
import { writeMetadata } from '../../../models/metadata.js';
import { FASHION_MNIST_LABELS } from '../../../models/zoo/index.js';
import { classConditionalUNet, type UNetOptions } from '../../../models/zoo/unet.js';
import { renderChart, panelsSpec } from '../../../render/chart.js';
import { resizeImage } from '../../../render/heatmap.js';
import { optimizerConfig } from '../../../training/optimizers.js';
import { describeSchedule, parseSchedule } from '../../../training/schedules.js';
import { stepsPerEpoch, type EpochRecord } from '../../../training/trainer.js';
import { freshRunOnly, prepareTrainingRun, parameterCount, trainerOptions } from '../training-run.js';
import { onlyWith, optionRules } from '../option-rules.js';
import { cliJob, type CommonOptions, createEngine, fileOrFolderOut, fraction, intIn, intList, MAX_THREADS, nonNegative, nonNegativeInt, numberIn, numberList, outPath, positiveInt, positiveNumber, seedNumber, threadCount } from '../common.js';
import { defaultOut, OutputFiles, fileSlug } from '../output.js';


interface TrainOptions extends CommonOptions {
  data?: string;
  out: string;
  epochs: number;
  batch: number;
  lr: number;
  lrSchedule: string;
  warmup: number;
  weightDecay: number;
  clipNorm?: number;
  schedule: string;
  timesteps: number;
  widths: number[];
  blocks: number;
  groups: number;
  patch: number;
  uncondProb: number;
  ema: number;
  seed: number;
  limit?: number;
  checkpoint?: string | false;
  checkpointEvery: number;
  resume?: string;
}

export function define(command: Command): void {
  const diffuse = command;
  registerNoise(diffuse);
  registerTrain(diffuse);
  registerSample(diffuse);
  registerEvaluate(diffuse);
}

function registerTrain(diffuse: Command): void {
  const train = diffuse.command('train');
  optionRules(train, freshRunOnly('batch', 'lr', 'lrSchedule', 'warmup', 'weightDecay', 'clipNorm', 'schedule', 'timesteps', 'widths', 'blocks', 'groups', 'patch', 'uncondProb', 'ema', 'seed', 'limit'));
  train
    .description('train a class-conditional U-Net noise predictor on Fashion-MNIST (classifier-free guidance ready)')
    .option('-d, --data <dir>', 'folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)')
    .option('-o, --out <file|dir>', 'denoiser to write (.onnx), or a folder for denoiser.onnx', fileOrFolderOut('denoiser.onnx'), defaultOut('diffuse', 'denoiser.onnx'))
    .option('--epochs <n>', 'epochs', positiveInt, 4)
    .option('--batch <n>', 'batch size (1-4096)', intIn(1, 4096), 128)
    .option('--lr <rate>', 'base learning rate (Adam)', positiveNumber, 0.0015)
    .option('--lr-schedule <s>', 'learning-rate schedule: constant, cosine[:min], step:EVERY:GAMMA, exp:GAMMA', 'cosine:0.05')
    .option('--warmup <steps>', 'linear learning-rate warmup steps', nonNegativeInt, 200)
    .option('--weight-decay <wd>', 'AdamW decoupled weight decay on weights', nonNegative, 0)
    .option('--clip-norm <x>', 'clip the global gradient norm', positiveNumber, 1)
    .option('--schedule <kind>', 'noise schedule: linear or cosine', 'cosine')
    .option('--timesteps <T>', 'training timesteps T (2-100000)', intIn(2, 100_000), 1000)
    .option('--widths <list>', 'U-Net widths per resolution, highest first', intList, [32, 64])
    .option('--blocks <n>', 'residual blocks per resolution (1-16)', intIn(1, 16), 1)
    .option('--groups <n>', 'GroupNorm groups (0 = no normalization)', nonNegativeInt, 8)
    .option('--patch <p>', 'space-to-depth patch side: the U-Net runs at 28/p resolution (1-28)', intIn(1, 28), 2)
    .option('--uncond-prob <p>', 'probability of dropping the class (learns the unconditional model for guidance)', fraction, 0.1)
    .option('--ema <decay>', 'exponential moving average of the weights that is exported (0 = raw weights)', fraction, 0.999)
    .option('--seed <n>', 'seed for initialization, shuffling, timesteps, noise and label dropping', seedNumber, 0)
    .option('--limit <n>', 'train on a stratified subset of n images (quick runs)', positiveInt)
    .option('--checkpoint <file>', 'checkpoint file (default: <out>.ckpt)')
    .option('--no-checkpoint', 'do not write checkpoints')
    .option('--checkpoint-every <steps>', 'also checkpoint every this many steps (besides every epoch and on Ctrl-C)', positiveInt, 200)
    .option('--resume <checkpoint>', 'continue an interrupted run from its checkpoint (settings come from the checkpoint; --epochs can extend it)')
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no progress bar, epoch lines or "wrote" line (the final loss still prints)')
    .action(async (opts: TrainOptions, cmd: Command) => {
      const prepared = prepareTrainingRun(opts, cmd, { fresh: (provenance) => newRun(opts, provenance), fromCheckpoint: denoiserRunFromCheckpoint }, 'class-conditional U-Net');
      const { run, out, train, checkpointPath, log } = prepared;
      const engine = createEngine(opts);
      const c = run.config;
      log(
        `training ${run.model.name} (${parameterCount(run.model).toLocaleString('en-US')} parameters) on ${train.source}: ${train.count} images, ` +
          `${c.epochs} epoch${c.epochs === 1 ? '' : 's'} x ${stepsPerEpoch(train.count, c.batchSize)} steps of ${c.batchSize}, ${c.schedule.kind} noise schedule (T = ${c.schedule.steps ?? 1000}), ` +
          `adam lr ${c.lr} ${describeSchedule(c.lrSchedule)}, p(uncond) ${c.uncondProb}, EMA ${c.ema}`,
      );
      const job = cliJob(opts, 'diffuse train', { terminate: true });
      let result;
      try {
        const options = trainerOptions(prepared, job, opts.checkpointEvery, (r) => formatEpoch(r, c.epochs));
        result = await trainDenoiser(engine, run, train, {
          ...options,
          onProgress: (p) => {
            options.onProgress?.(p);
            // Without a terminal (nohup, CI logs): a line every 50 steps instead of the bar.
            if (!process.stderr.isTTY && p.done % 50 === 0) log(`step ${p.done}/${p.total} ${p.phase ?? ''}  loss ${(p.metrics?.loss ?? NaN).toFixed(5)}  ${(p.metrics?.['samples/s'] ?? 0).toFixed(0)} samples/s`);
          },
        });
      } finally {
        job.done();
        await engine.dispose();
      }
      writeMetadata(result.model, { description: `Class-conditional U-Net noise predictor for ${train.source.startsWith('Fashion-MNIST') ? 'Fashion-MNIST' : train.source}, trained by convlens diffuse train` });
      const bytes = encodeModel(result.model);
      writeFileAtomic(out, bytes);
      const last = result.history[result.history.length - 1];
      process.stdout.write(`final loss ${last ? last.loss.toFixed(5) : '-'} after ${result.steps} steps (${Math.round(result.seconds)} s)\n`);
      if (!opts.quiet) process.stdout.write(`wrote ${out} (${Math.round(bytes.length / 1024)} KB)${checkpointPath ? `; checkpoint ${checkpointPath}` : ''}\n`);
    });
}

function newRun(opts: TrainOptions, provenance: Record<string, unknown>): DenoiserRunInfo {
  const arch: UNetOptions = { channels: 1, size: 28, widths: opts.widths, blocks: opts.blocks, groups: opts.groups, patch: opts.patch, conditioning: 'scale-shift', classes: FASHION_MNIST_CLASSES, seed: opts.seed };
  let model;
  try {
    model = classConditionalUNet(arch);
  } catch (e) {
    // a width the builder explains carries its own hint; the patch hint is for the resolutions
    if (e instanceof ConvLensError) throw e;
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot build the U-Net: ${(e as Error).message.replace(/\.$/, '')}.`, 'With --patch 2 the U-Net runs at 14x14: use at most 2 widths (14, 7); with --patch 1, up to 3 (28, 14, 7).');
  }
  const config: DenoiserConfig = {
    arch,
    schedule: { kind: parseScheduleKind(opts.schedule), steps: opts.timesteps },
    epochs: opts.epochs,
    batchSize: opts.batch,
    seed: opts.seed,
    optimizer: optimizerConfig('adam', { weightDecay: opts.weightDecay }),
    lr: opts.lr,
    lrSchedule: parseSchedule(opts.lrSchedule),
    warmupSteps: opts.warmup,
    ...(opts.clipNorm ? { clipNorm: opts.clipNorm } : {}),
    uncondProb: opts.uncondProb,
    ema: opts.ema,
  };
  return { model, labels: [...FASHION_MNIST_LABELS], config, provenance };
}

function formatEpoch(r: EpochRecord, epochs: number): string {
  return `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  loss ${r.loss.toFixed(5)}  lr ${r.lr.toPrecision(3)}  ${r.seconds.toFixed(0)} s  ${r.samplesPerSecond.toFixed(0)} samples/s`;
}

/** What each noise schedule is, for the figures' footnotes (only the schedules drawn). */
const SCHEDULE_NOTES: Record<ReturnType<typeof parseScheduleKind>, string> = {
  linear: 'linear: β from 1e-4 to 0.02 (Ho et al. 2020)',
  cosine: 'cosine: ᾱ_t = cos²((t/T + s)/(1 + s) · π/2), s = 0.008 (Nichol & Dhariwal 2021)',
  scaled_linear: 'scaled_linear: √β linear from √1e-4 to √0.02 (Stable Diffusion)',
};

const guidanceList = (v: string): number[] => {
  const scales = numberList(v);
  if (scales.some((g) => g > MAX_GUIDANCE)) throw new InvalidArgumentError(`expected guidance scales from 0 to ${MAX_GUIDANCE}`);
  return scales;
};

const samplerKind = (v: string): SamplerKind => {
  const k = v.trim().toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(k)) throw new InvalidArgumentError(`expected one of: ${SAMPLERS.join(', ')}`);
  return k as SamplerKind;
};
const slug = (s: string): string => fileSlug(s, 'unconditional');

/** The default image of `diffuse noise`: a committed Fashion-MNIST sample. */
const DEFAULT_NOISE_IMAGE = fileURLToPath(new URL('../../../../samples/fashion-mnist/ankle-boot-test0.png', import.meta.url));

interface NoiseOptions extends CommonOptions {
  out: string;
  timesteps: number[];
  schedule: string;
  steps: number;
  seed: number;
}

function registerNoise(diffuse: Command): void {
  diffuse
    .command('noise')
    .description('the forward process: one image noised by the closed form q(x_t | x_0) at chosen steps, one row per noise schedule')
    .argument('[image]', 'image file (default: a Fashion-MNIST ankle boot from samples/)')
    .option('-o, --out <file|dir>', 'figure to write (.png), or a folder for noise.png', fileOrFolderOut('noise.png'), defaultOut('diffuse', 'noise.png'))
    .option('--timesteps <list>', 'timesteps to show (0-based, < T)', intList, [0, 50, 100, 200, 300, 500, 700, 999])
    .option('--schedule <list>', 'noise schedules, one row each: linear, cosine', 'linear,cosine')
    .option('--steps <T>', 'training timesteps T of the schedules (2-10000)', intIn(2, 10_000), 1000)
    .option('--seed <n>', 'seed of the noise (the same noise in every tile)', seedNumber, 0)
    .option('-q, --quiet', 'no messages')
    .action(async (image: string | undefined, opts: NoiseOptions) => {
      const file = image ?? DEFAULT_NOISE_IMAGE;
      const raw = await readImageFile(file, 1);
      const img = raw.width === 28 && raw.height === 28 ? raw : resizeImage(raw, 28, 28, 'bilinear');
      const x0 = rawToTensor(img, { size: [28, 28], channels: 'gray', range: [-1, 1], mean: [0], std: [1], resize: 'stretch' }).data as Float32Array;
      const schedules = opts.schedule.split(',').map((k) => ({ name: k.trim(), schedule: makeSchedule({ kind: parseScheduleKind(k), steps: opts.steps }) }));
      const noise = new Generator(opts.seed).randn(x0.length);
      const png = await noisingFigure({
        x0,
        shape: [1, 28, 28],
        schedules,
        timesteps: opts.timesteps,
        noise,
        title: `Forward process x_t = √ᾱ_t x_0 + √(1-ᾱ_t) ε (${file.replace(/^.*[\\/]/, '')}, seed ${opts.seed})`,
        notes: ['The same ε in every tile; pixels in [-1, 1], clipped for display.', [...new Set(schedules.map((s) => parseScheduleKind(s.name)))].map((k) => SCHEDULE_NOTES[k]).join('; ') + '.'],
      });
      writeFileAtomic(opts.out, png);
      if (!opts.quiet) process.stdout.write(`wrote ${opts.out}\n`);
    });
}

interface SampleOptions extends CommonOptions {
  pipeline?: string;
  negativePrompt?: string;
  steps: number;
  guidance?: number;
  sampler: SamplerKind;
  eta?: number;
  seed: number;
  count: number;
  every: number;
  watch: number;
  allClasses?: boolean;
  out: string;
  gif: boolean;
  width?: number;
  height?: number;
  classify?: boolean;
}

/** The built-in denoiser, a denoiser file (--model), or an SD-style pipeline folder (--pipeline). */
function openGenerator(opts: { model?: string; pipeline?: string; threads?: number }): { engine: ReturnType<typeof createEngine>; gen: TextToImage } {
  const engine = createEngine(opts);
  if (opts.pipeline) {
    if (opts.model) throw new ConvLensError('INVALID_ARGUMENT', 'Give either --model (a denoiser file) or --pipeline (a Stable-Diffusion-style folder), not both.', 'Leave out one of them: --model <file> samples a denoiser from `convlens diffuse train`, --pipeline <dir> a Stable-Diffusion-style folder.');
    return { engine, gen: loadPipeline(opts.pipeline, engine) };
  }
  return { engine, gen: new ClassConditionalGenerator(loadDenoiser(opts.model, engine)) };
}

function registerSample(diffuse: Command): void {
  const sample = diffuse
    .command('sample')
    .description('generate images from text prompts with DDIM or DDPM, classifier-free guidance and negative prompts; writes the samples, the denoising grid and a GIF')
    .argument('[prompts...]', 'prompts: class names for the Fashion-MNIST denoiser ("ankle boot"; "" = unconditional), any text for a pipeline')
    .option('-m, --model <file>', 'denoiser ONNX file written by `convlens diffuse train` (default: the built-in Fashion-MNIST U-Net)')
    .option('--pipeline <dir>', 'a Stable-Diffusion-style ONNX pipeline folder (text_encoder/, unet/, vae_decoder/, tokenizer/; see README)')
    .option('-n, --negative-prompt <text>', 'negative prompt: replaces the unconditional branch of guidance (needs --guidance > 1)')
    .option('--steps <n>', 'num_inference_steps (1-1000)', intIn(1, 1000), 50)
    .option('-g, --guidance <scale>', `guidance_scale (0-${MAX_GUIDANCE}; 1 = the conditional model alone, no guidance; default 3 for the Fashion-MNIST denoiser, 7.5 for pipelines)`, numberIn(0, MAX_GUIDANCE))
    .option('--sampler <kind>', `sampler: ${SAMPLERS.join(', ')}`, samplerKind, 'ddim')
    .option('--eta <eta>', `DDIM eta (0-${MAX_ETA}; 0 = deterministic, the default; 1 = DDPM-like noise)`, numberIn(0, MAX_ETA))
    .option('--seed <n>', 'seed: the same seed and settings give the same images bit for bit', seedNumber, 0)
    .option('-c, --count <n>', 'num_images_per_prompt (1-256)', intIn(1, 256), 4)
    .option('--all-classes', 'one prompt per class of the denoiser')
    .option('--every <k>', 'record x_t and the predicted x_0 every k-th step', positiveInt, 5)
    .option('--watch <n>', 'how many images the denoising grid and GIF follow (the first n)', nonNegativeInt, 4)
    .option('--width <px>', 'pipelines: image width (multiple of 8, 8-2048)', intIn(8, 2048))
    .option('--height <px>', 'pipelines: image height (multiple of 8, 8-2048)', intIn(8, 2048))
    .option('--classify', 'class-conditional: caption each sample with the built-in classifier\'s prediction')
    .option('--no-gif', 'do not write the GIF')
    .option('-o, --out <dir>', 'output folder', outPath, defaultOut('diffuse', 'sample'))
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no progress bar or messages')
    .action(async (prompts: string[], opts: SampleOptions) => {
      const { engine, gen } = openGenerator(opts);
      try {
        if (opts.allClasses) {
          if (!gen.labels) throw new ConvLensError('INVALID_ARGUMENT', '--all-classes needs a class-conditional denoiser.', 'Pass prompts for a pipeline.');
          prompts = [...prompts, ...gen.labels];
        }
        if (!prompts.length) throw new ConvLensError('INVALID_ARGUMENT', 'No prompt given.', gen.labels ? `Pass class names, e.g. "${gen.labels[gen.labels.length - 1]}", or --all-classes ("" = unconditional).` : 'Pass a prompt in quotes.');
        const guidance = opts.guidance ?? (gen.kind === 'stable-diffusion' ? 7.5 : 3);
        if (opts.negativePrompt !== undefined && guidance <= 1 && !opts.quiet) process.stderr.write('warning: the negative prompt has no effect with --guidance <= 1 (it replaces the unconditional branch of guidance)\n');
        // the folder is checked (writable, no other run writing there) before the sampling, not after
        const out = new OutputFiles(opts.out);
        const job = cliJob(opts, 'diffuse sample');
        let r: GenerateResult;
        try {
          r = await gen.generate({
            prompts,
            ...(opts.negativePrompt !== undefined ? { negativePrompt: opts.negativePrompt } : {}),
            numInferenceSteps: opts.steps,
            guidanceScale: guidance,
            numImagesPerPrompt: opts.count,
            seed: opts.seed,
            sampler: opts.sampler,
            ...(opts.eta !== undefined ? { eta: opts.eta } : {}),
            previewEvery: opts.every,
            ...(opts.width ? { width: opts.width } : {}),
            ...(opts.height ? { height: opts.height } : {}),
            ...job,
          });
          // under the job: a Ctrl-C while the samples are drawn and written cancels the writing
          await writeSampleOutputs(gen, r, prompts, opts, engine, out, job.signal);
        } finally {
          job.done();
        }
      } finally {
        await engine.dispose();
      }
    });
  optionRules(sample, [
    ...onlyWith({ when: 'with --pipeline', why: 'a class-conditional denoiser draws images of its own training size', add: 'add --pipeline DIR' }, (o) => o['pipeline'] !== undefined, 'width', 'height'),
    { option: 'classify', when: 'without --pipeline', why: 'the built-in classifier knows the Fashion-MNIST classes, not a pipeline\'s images', applies: (o) => o['pipeline'] === undefined },
    { option: 'eta', when: 'with --sampler ddim', why: 'DDPM always adds the full noise', add: 'use --sampler ddim', applies: (o) => o['sampler'] === 'ddim' },
  ]);
}

async function writeSampleOutputs(gen: TextToImage, r: GenerateResult, prompts: string[], opts: SampleOptions, engine: ReturnType<typeof createEngine>, out: OutputFiles, signal?: AbortSignal): Promise<void> {
  const s = r.settings;
  const describe = `${s.sampler}${s.sampler === 'ddim' ? ` eta ${s.eta}` : ''}, ${s.steps} steps, guidance ${s.guidanceScale}${opts.negativePrompt !== undefined && s.guidanceScale > 1 ? `, negative "${opts.negativePrompt}"` : ''}, seed ${s.seed}`;
  out.stopOn(signal);
  const put = (name: string, bytes: Uint8Array | string): void => void out.write(name, bytes);
  let captions: (string | undefined)[] | undefined;
  let predictions: { label: string; probability: number }[] | undefined;
  if (opts.classify && gen.kind === 'class-conditional') {
    const classifier = loadBuiltinModel(engine);
    const [h, w] = gen.imageSize;
    const x = new Float32Array(r.images.length * h * w);
    r.images.forEach((img, i) => x.set(rawToTensor(img, classifier.meta.preprocessing).data as Float32Array, i * h * w));
    const logits = (await classifier.run({ dtype: 'float32', dims: [r.images.length, 1, h, w], data: x }))[classifier.output]!.data as Float32Array;
    const K = logits.length / r.images.length;
    predictions = r.images.map((_, i) => {
      const row = logits.subarray(i * K, (i + 1) * K);
      const max = Math.max(...row);
      const exps = Array.from(row, (v) => Math.exp(v - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const best = exps.indexOf(Math.max(...exps));
      return { label: classifier.labels[best]!, probability: exps[best]! / sum };
    });
    captions = predictions.map((p) => `${p.label} ${(p.probability * 100).toFixed(0)}%`);
  }
  const rawTo = (imgs: typeof r.images): Float32Array => {
    const c = imgs[0]!.channels;
    const out = new Float32Array(imgs.length * c * imgs[0]!.width * imgs[0]!.height);
    imgs.forEach((img, i) => {
      const plane = img.width * img.height;
      for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) out[i * c * plane + ch * plane + p] = (img.data[p * c + ch]! / 255) * 2 - 1;
    });
    return out;
  };
  const finals = rawTo(r.images);
  const shape = [r.images[0]!.channels, r.images[0]!.height, r.images[0]!.width];
  const finalImage = pixelImages(shape);
  put('samples.png', await samplesFigure({ images: finals, promptOf: r.promptOf, prompts: r.conditions.map((c, i) => (c === prompts[i] ? c : `${prompts[i]} → ${c}`)), toImage: finalImage, title: `${gen.name}: ${describe}`, ...(captions ? { captions, notes: ['Caption: the built-in classifier\'s prediction.'] } : {}) }));
  for (let i = 0; i < r.images.length; i++) {
    const p = r.promptOf[i]!;
    const k = i - r.promptOf.indexOf(p);
    put(`${String(p).padStart(2, '0')}-${slug(prompts[p]!)}-${k}.png`, await encodePng(r.images[i]!));
  }
  const watched = Array.from({ length: Math.min(opts.watch, r.images.length) }, (_, i) => i);
  if (watched.length && r.frames.length) {
    const labels = watched.map((i) => `${prompts[r.promptOf[i]!] || '(unconditional)'} #${i - r.promptOf.indexOf(r.promptOf[i]!) + 1}`);
    const sameSpace = gen.kind === 'class-conditional';
    put('denoising.png', await denoisingFigure({ frames: r.frames, images: watched, labels, toImage: r.frameImage, ...(sameSpace ? { final: { images: finals, toImage: finalImage } } : {}), title: `Denoising: x_t and the predicted clean image every ${opts.every} steps (${describe})`, ...(sameSpace ? {} : { notes: ['Latents shown through a fixed linear latent-to-RGB map (no VAE); the result is the VAE-decoded image (samples.png).'] }) }));
    if (opts.gif) put('denoising.gif', denoisingGif({ frames: r.frames, images: watched, toImage: r.frameImage, ...(sameSpace ? { final: finals } : {}) }));
  }
  const summary = {
    model: gen.name,
    kind: gen.kind,
    prompts,
    conditions: r.conditions,
    ...(opts.negativePrompt !== undefined ? { negativePrompt: opts.negativePrompt, negativeConditions: r.negative } : {}),
    settings: r.settings,
    timesteps: r.timesteps,
    seconds: Math.round(r.seconds * 1000) / 1000,
    secondsPerImage: Math.round((r.seconds / r.images.length) * 1000) / 1000,
    images: r.images.map((_, i) => ({ prompt: prompts[r.promptOf[i]!], ...(predictions ? { predicted: predictions[i] } : {}) })),
    files: [...out.files],
  };
  put('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
  if (!opts.quiet) {
    process.stdout.write(`${r.images.length} images in ${r.seconds.toFixed(1)} s (${(r.seconds / r.images.length).toFixed(2)} s per image; ${describe})\n`);
    if (predictions) {
      const hits = predictions.filter((p, i) => p.label === r.conditions[r.promptOf[i]!]).length;
      process.stdout.write(`classifier agrees with the prompt for ${hits}/${predictions.length}\n`);
    }
  }
  out.report(opts);
}

interface EvaluateOptions extends CommonOptions {
  perClass: number;
  guidance: number[];
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  out?: string;
  json?: boolean;
}

function registerEvaluate(diffuse: Command): void {
  diffuse
    .command('evaluate')
    .description('class-conditional quality: samples per class prompt, classified by the built-in Fashion-MNIST classifier, per guidance scale')
    .option('-m, --model <file>', 'denoiser ONNX file (default: the built-in Fashion-MNIST U-Net)')
    .option('--per-class <n>', 'samples per class and guidance scale (1-10000)', intIn(1, 10_000), 100)
    .option('-g, --guidance <list>', `guidance scales to compare (each 0-${MAX_GUIDANCE})`, guidanceList, [1, 2, 3, 5])
    .option('--steps <n>', 'num_inference_steps (1-1000)', intIn(1, 1000), 50)
    .option('--sampler <kind>', `sampler: ${SAMPLERS.join(', ')}`, samplerKind, 'ddim')
    .option('--eta <eta>', `DDIM eta (0-${MAX_ETA})`, numberIn(0, MAX_ETA), 0)
    .option('--seed <n>', 'seed', seedNumber, 0)
    .option('-o, --out <file|dir>', 'chart of accuracy per class vs guidance scale (.png), or a folder for guidance.png', fileOrFolderOut('guidance.png'))
    .option('--json', 'print the results as JSON')
    .option('--threads <n>', `ONNX Runtime intra-op threads (1-${MAX_THREADS}; default: one per CPU)`, threadCount)
    .option('-q, --quiet', 'no progress bar or "wrote" line (the table still prints)')
    .action(async (opts: EvaluateOptions) => {
      const engine = createEngine(opts);
      const denoiser = loadDenoiser(opts.model, engine);
      const classifier = loadBuiltinModel(engine);
      const job = cliJob(opts, 'diffuse evaluate');
      let results;
      try {
        results = await conditionalAccuracy(denoiser, classifier, { perClass: opts.perClass, guidanceScales: opts.guidance, steps: opts.steps, sampler: opts.sampler, eta: opts.eta, seed: opts.seed, ...job });
      } finally {
        job.done();
        await engine.dispose();
      }
      const labels = denoiser.labels;
      if (opts.out) {
        const spec = panelsSpec(
          [
            {
              title: 'Classified as their prompt (built-in classifier)',
              xTitle: 'guidance scale',
              yTitle: 'accuracy',
              yDomain: [0, 1],
              series: [
                { name: 'mean over classes', x: results.map((r) => r.guidanceScale), y: results.map((r) => r.accuracy) },
                ...labels.map((l, c) => ({ name: l, x: results.map((r) => r.guidanceScale), y: results.map((r) => r.metrics.perClass[c]!.accuracy), dashed: true })),
              ],
            },
          ],
          `${denoiser.name}: ${opts.perClass} samples/class, ${opts.sampler} ${opts.steps} steps`,
        );
        writeFileAtomic(opts.out, (await renderChart(spec)).png);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ model: denoiser.name, perClass: opts.perClass, steps: opts.steps, sampler: opts.sampler, eta: opts.eta, seed: opts.seed, results: results.map((r) => ({ guidanceScale: r.guidanceScale, accuracy: r.accuracy, seconds: r.seconds, perClass: r.metrics.perClass.map((p) => ({ label: p.label, accuracy: p.accuracy })) })) }, null, 2)}\n`);
        return;
      }
      const head = ['class'.padEnd(12), ...results.map((r) => `g=${r.guidanceScale}`.padStart(7))].join(' ');
      process.stdout.write(`${head}\n`);
      labels.forEach((l, c) => process.stdout.write(`${[l.padEnd(12), ...results.map((r) => (r.metrics.perClass[c]!.accuracy * 100).toFixed(1).padStart(7))].join(' ')}\n`));
      process.stdout.write(`${['mean'.padEnd(12), ...results.map((r) => (r.accuracy * 100).toFixed(1).padStart(7))].join(' ')}\n`);
      if (opts.out && !opts.quiet) process.stdout.write(`wrote ${opts.out}\n`);
    });
}
