// Making images (feature visualization, adversarial examples, inversion, DeepDream, style
// transfer, fast style networks) as worker tasks. The route checked ids and ranges; here the
// parameters become method options and the results PNGs.
import { ConvLensError } from '../../../engine/errors.js';
import type { Tensor } from '../../../engine/tensor.js';
import { encodePng, type RawImage } from '../../../io/image.js';
import { attack } from '../../../methods/synthesize/adversarial.js';
import { dream } from '../../../methods/synthesize/dream.js';
import { trainStyleNet } from '../../../methods/synthesize/fast-style.js';
import { encodeStyleNet, loadStyleNet, styleNetInfo, stylize } from '../../../methods/synthesize/stylize.js';
import { classVisualization, featureVisualization, visualizedOutputCaption, type FeatvizOptions, type FeatvizResult } from '../../../methods/synthesize/featviz.js';
import { visualizedClass } from '../../../methods/synthesize/objectives.js';
import { modelInputSize } from '../../../methods/synthesize/graph.js';
import { invert } from '../../../methods/synthesize/inversion.js';
import { decodeImageTensor, decodeModelImage } from '../../../methods/synthesize/io.js';
import { frameSteps, type Frame } from '../../../methods/synthesize/optimize.js';
import type { JobOptions, Progress } from '../../../engine/jobs.js';
import { pixelParam } from '../../../methods/synthesize/params.js';
import { displaySize, encodeGif, perturbationImage, toRaw } from '../../../methods/synthesize/render.js';
import { styleTransfer } from '../../../methods/synthesize/style.js';
import type { Model } from '../../../models/model.js';
import { resizeImage } from '../../../render/heatmap.js';
import type { TaskContext } from './context.js';

export const SYNTH_KINDS = ['featviz', 'adversarial', 'invert', 'dream', 'style', 'style-train', 'fast-style'] as const;
export type SynthKind = (typeof SYNTH_KINDS)[number];

export interface SynthArgs {
  kind: SynthKind;
  image?: string;
  images?: string[];
  styles?: { image: string; weight?: number; name?: string }[];
  params: Record<string, unknown>;
  /** featviz: images optimized together at most (the memory plan); `class:*` runs in batches of this many */
  maxBatch?: number;
  /** featviz with class:*: only these classes (checked by the route) */
  classes?: number[];
  /** style: whether a feature network was sent as the model named "backbone" (else the random texture network) */
  backbone?: boolean;
  /** fast-style: the network, encoded */
  net?: { id: string; bytes: Uint8Array };
}

export interface SynthImage {
  label: string;
  caption?: string;
  png: string;
}

export interface SynthResult {
  kind: SynthKind;
  images: SynthImage[];
  frames: { step: number; label?: string; png: string }[];
  gif?: string;
  summary: Record<string, unknown>;
  /** style-train: the trained network, encoded, for the server to keep */
  trained?: { bytes: Uint8Array; name: string };
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const png = async (img: RawImage): Promise<string> => b64(await encodePng(img));
const num = (p: Record<string, unknown>, key: string, dflt: number, lo = -Infinity, hi = Infinity): number => {
  const v = p[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return dflt;
  if (n < lo || n > hi) {
    const range = hi === Infinity ? `at least ${lo}` : lo === -Infinity ? `at most ${hi}` : `from ${lo} to ${hi}`;
    throw new ConvLensError('INVALID_ARGUMENT', `Parameter "${key}" is ${n}; it must be ${range}.`, `Pass "${key}" ${range}, or leave it out for the default (${dflt}).`);
  }
  return n;
};
const str = (v: unknown, dflt: string): string => (typeof v === 'string' && v !== '' ? v : dflt);

/** Whether a featviz objective asks for one image per class. */
export const isAllClasses = (objective: string): boolean => /^(class|logit):\*$/i.test(objective.trim());

/** The side the strip's frames and the live previews fit in. */
export const PREVIEW_SIDE = 160;

/**
 * The most previews (`progress.preview`) one job sends: a job that keeps more frames (many
 * octaves, layers or class batches) sends an evenly spaced selection of them, its last frame
 * always.
 */
export const PREVIEWS_PER_JOB = 32;

/** A frame as the strip and the live preview show it: a small image scaled up by a whole factor, a large one down, to fit `side`. */
function stripImage(img: RawImage, side = PREVIEW_SIDE): RawImage {
  return Math.max(img.width, img.height) > side ? fitSide(img, side) : displaySize(img, side);
}

/** Frames of image k as PNGs (fitted to the strip's side). */
async function framePngs(frames: readonly Frame[], dims: readonly number[], k = 0): Promise<SynthResult['frames']> {
  return Promise.all(frames.map(async (f) => ({ step: f.step, png: await png(stripImage(toRaw(f.image, dims, k))) })));
}

function fitSide(img: RawImage, side: number): RawImage {
  const k = side / Math.max(img.width, img.height);
  return Math.abs(k - 1) < 1e-6 ? img : resizeImage(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)), 'bilinear');
}

/** The image being optimized, as progress events carry it (`progress.preview`) for the page to show. */
export interface SynthPreview {
  /** counted as the job's progress counts steps (over all octaves, layers or batches) */
  step: number;
  png: string;
  /**
   * What the picture shows, where the form alone does not say: the class of the image shown
   * (featviz class:*, whose batches each hold other classes) or the amplified perturbation
   * (adversarial)
   */
  label?: string;
}

/** Whether the `index`-th of `expected` frames is among the `budget` a job sends: evenly spaced, the last always. */
export function previewSent(index: number, expected: number, budget = PREVIEWS_PER_JOB): boolean {
  if (expected <= budget) return index < budget;
  return Math.floor(((index + 1) * budget) / expected) > Math.floor((index * budget) / expected);
}

/**
 * Sends kept frames of the first image (the ones of the strip and the GIF, or the ones a method
 * keeps for the preview alone) as progress events of their own, fitted to the strip's 160 px;
 * of the `expected` frames a run will keep, at most PREVIEWS_PER_JOB go out (previewSent).
 * Progress events between frames carry none, so a run sends a frame's PNG once, not with every
 * step. The worker's progress throttle lets an event with a new preview through
 * (throttleProgress in jobs.ts).
 */
interface PreviewOptions {
  /** frames the run will keep */
  expected: number;
  /** the job's steps, as its progress counts them */
  totalSteps: number;
  /** what a frame shows (SynthPreview.label), when the picture does not say */
  label?: (frame: Frame) => string | undefined;
  /** the picture of a frame's first image and what it shows (default: the image itself) */
  picture?: (frame: Frame, dims: number[]) => { image: RawImage; label: string };
}

function previewing(onProgress: NonNullable<JobOptions['onProgress']>, { expected, totalSteps, label, picture }: PreviewOptions): Required<Pick<FeatvizOptions, 'onProgress' | 'onFrame'>> & { settled: () => Promise<void> } {
  // a first frame (step 0) comes before any progress: its event carries the job's step count
  let last: Progress = { done: 0, total: totalSteps, phase: 'starting' };
  let told = 0;
  let sent = 0;
  // frames are encoded one after the other, so their events go out in step order
  let sending = Promise.resolve();
  return {
    onProgress: (p) => {
      last = p;
      onProgress(p);
    },
    onFrame: (frame, shape) => {
      const index = told++;
      // the hard cap holds the bound should a method keep more frames than it was expected to
      if (!previewSent(index, expected) || sent >= PREVIEWS_PER_JOB) return;
      sent++;
      const dims = [shape.batch, shape.channels, shape.height, shape.width];
      // made small now: a queue of frames waiting for their PNGs holds no full-size images
      const drawn = picture?.(frame, dims);
      const image = stripImage(drawn?.image ?? toRaw(frame.image, dims, 0));
      const named = drawn?.label ?? label?.(frame);
      sending = sending.then(async () => {
        const preview: SynthPreview = { step: frame.step, png: await png(image), ...(named ? { label: named } : {}) };
        onProgress({ ...last, preview } as Progress);
      });
    },
    // the last frame's event goes out before the result, not after it
    settled: () => sending,
  };
}

/** Runs a synthesis; `summary.seconds` is the run's own time in the worker (the server learns its speed from it). */
export async function synthesizeTask(ctx: TaskContext, a: SynthArgs): Promise<SynthResult> {
  const t0 = performance.now();
  const r = await synthesize(ctx, a);
  return { ...r, summary: { ...r.summary, seconds: (performance.now() - t0) / 1000 } };
}

async function synthesize(ctx: TaskContext, a: SynthArgs): Promise<SynthResult> {
  const p = a.params;
  const kind = a.kind;
  const job = ctx.job;
  const tensorOf = (id: string, channels: 1 | 3, o: { size?: [number, number]; maxSide?: number }): Promise<Tensor> => {
    const img = ctx.image(id);
    return decodeImageTensor(img.bytes, `image "${img.name}"`, channels, o);
  };
  // the pixels predict sees (the model's resize or centre crop), in image space
  const modelTensorOf = (id: string, model: Model): Promise<Tensor> => {
    const img = ctx.image(id);
    return decodeModelImage(img.bytes, `image "${img.name}"`, model);
  };
  const need = (id: string | undefined): string => {
    if (!id) throw new ConvLensError('INVALID_ARGUMENT', `${kind} needs an image.`, 'Pass "image": an id from GET /api/images.');
    return id;
  };
  switch (kind) {
    case 'featviz': {
      const model = ctx.model();
      const objective = str(p['objective'], 'class:*');
      const steps = num(p, 'steps', 128, 1, 4096);
      const frames = num(p, 'frames', 6, 0, 16);
      const all = isAllClasses(objective);
      // class:* runs in batches, each sending its frames (classVisualization), as many as classesInBatches makes
      const batches = all ? Math.ceil((a.classes?.length ?? model.profile.classes) / Math.max(1, a.maxBatch ?? model.labels.length)) : 1;
      // a batch of classes shows its first image; the page says whose it is
      const className = (k: number): string => `class ${k} (${model.labels[k] ?? `class ${k}`})`;
      const shownClass = (frame: Frame): string | undefined => (frame.classes?.length ? className(frame.classes[0]!) + (frame.classes.length > 1 ? `, the first of ${frame.classes.length} in this batch` : '') : undefined);
      const preview = job.onProgress ? previewing(job.onProgress, { expected: batches * frameSteps(steps, frames).size, totalSteps: batches * steps, label: shownClass }) : undefined;
      const paramName = str(p['param'], 'fourier');
      const options: Omit<FeatvizOptions, 'objective'> = {
        param: paramName === 'pixel-clip' ? pixelParam({ range: 'clip' }) : (paramName as 'fourier' | 'pixel'),
        transforms: str(p['transforms'], 'standard'),
        steps,
        lr: num(p, 'lr', 0.05, 1e-6, 10),
        seed: num(p, 'seed', 0),
        ...(p['batch'] !== undefined ? { batch: num(p, 'batch', 1, 1, 16) } : {}),
        start: str(p['start'], 'noise') as 'zero' | 'noise',
        ...(p['background'] !== undefined ? { background: num(p, 'background', 0.5, 0, 1) } : {}),
        penalties: { tv: num(p, 'tv', 0, 0), l1: num(p, 'l1', 0, 0), l2: num(p, 'l2', 0, 0) },
        regularizers: p['blurEvery'] ? { blur: { every: num(p, 'blurEvery', 8, 1), sigma: num(p, 'blurSigma', 0.5, 0.01) } } : {},
        frames,
        ...job,
        ...(preview ? { onProgress: preview.onProgress, onFrame: preview.onFrame } : {}),
      };
      const r = all ? await classesInBatches(model, options, a.maxBatch ?? model.labels.length, job, a.classes) : await featureVisualization(model, { ...options, objective });
      await preview?.settled();
      const n = r.images.dims[0]!;
      const classes = all ? (a.classes ?? model.labels.map((_, k) => k)) : undefined;
      const labels = classes ? classes.map((k) => model.labels[k] ?? `class ${k}`) : Array.from({ length: n }, (_, k) => (n > 1 ? `image ${k + 1}` : objective));
      const visualized = all ? undefined : visualizedClass(objective, model);
      const caption = (k: number): string | undefined => {
        const prediction = r.predictions[k];
        return visualizedOutputCaption(model, prediction, classes?.[k] ?? visualized) ?? (prediction ? predictedCaption(prediction) : undefined);
      };
      return {
        kind,
        images: await Promise.all(Array.from({ length: n }, async (_, k) => ({ label: labels[k] ?? `image ${k + 1}`, ...(caption(k) !== undefined ? { caption: caption(k)! } : {}), png: await png(displaySize(toRaw(r.images.data as Float32Array, r.images.dims, k), 160)) }))),
        frames: await framePngs(r.frames, r.images.dims, 0),
        gif: b64(encodeGif(r.frames.map((f) => displaySize(toRaw(f.image, r.images.dims, 0), 160)))),
        summary: { model: model.name, objective: r.objective, params: r.params, history: r.history.filter((_, i) => i % 8 === 0).map((h) => ({ step: h.step, value: h.value })) },
      };
    }
    case 'adversarial': {
      const model = ctx.model();
      const size = modelInputSize(model);
      if (!size) throw new ConvLensError('MODEL_UNSUPPORTED', 'Adversarial examples need a classifier with a fixed input size.', 'Choose a classifier with a fixed input size, e.g. the built-in fashion-cnn or squeezenet.');
      const x = await modelTensorOf(need(a.image), model);
      const eps = num(p, 'epsilon', 8 / 255, 1e-6, 10);
      const method = str(p['method'], 'pgd') as 'pgd' | 'fgsm';
      const norm = str(p['norm'], 'linf') as 'linf' | 'l2';
      const askedSteps = num(p, 'steps', 40, 1, 1000);
      // FGSM is one step whatever was asked
      const steps = method === 'fgsm' ? 1 : askedSteps;
      // The adversarial image looks like the original throughout; what changes as PGD runs is the
      // perturbation, shown amplified. Under L∞ at the budget's scale, so it is seen to grow to it.
      const clean = x.data as Float32Array;
      const perturbationPicture = (frame: Frame, dims: number[]): { image: RawImage; label: string } => {
        const per = dims[1]! * dims[2]! * dims[3]!;
        const delta = new Float32Array(per);
        for (let i = 0; i < per; i++) delta[i] = frame.image[i]! - clean[i]!;
        const pert = perturbationImage(delta, [1, dims[1]!, dims[2]!, dims[3]!], 0, norm === 'linf' ? eps : undefined);
        return { image: pert.image, label: `perturbation, amplified ×${(0.5 / pert.scale).toFixed(0)}` };
      };
      const frames = Math.min(steps + 1, 9);
      const preview = job.onProgress ? previewing(job.onProgress, { expected: frameSteps(steps, frames).size, totalSteps: steps, picture: perturbationPicture }) : undefined;
      const r = await attack(model, x, {
        method,
        norm,
        epsilon: eps,
        steps: askedSteps,
        ...(p['target'] !== undefined && p['target'] !== '' ? { target: p['target'] as number | string } : {}),
        randomStart: !!p['randomStart'],
        // judged as the 8-bit picture it is shown and saved as
        quantize: true,
        ...job,
        ...(preview ? { frames, onProgress: preview.onProgress, onFrame: preview.onFrame } : {}),
      });
      await preview?.settled();
      const pi = r.perImage[0]!;
      const pert = perturbationImage(r.perturbation.data as Float32Array, r.perturbation.dims, 0);
      return {
        kind,
        images: [
          { label: 'original', caption: predictedCaption(pi.original), png: await png(displaySize(toRaw(x.data as Float32Array, x.dims), 168)) },
          { label: 'perturbation (amplified)', caption: `×${(0.5 / pert.scale).toFixed(0)} · L∞ ${(pi.linf * 255).toFixed(1)}/255 · L2 ${pi.l2.toFixed(2)}`, png: await png(displaySize(pert.image, 168)) },
          { label: 'adversarial', caption: predictedCaption(pi.adversarial), png: await png(displaySize(toRaw(r.images.data as Float32Array, r.images.dims), 168)) },
        ],
        frames: [],
        summary: { model: model.name, ...pi, params: r.params, history: r.history },
      };
    }
    case 'invert': {
      const model = ctx.model();
      const x = await modelTensorOf(need(a.image), model);
      const layers = Array.isArray(p['layers']) ? (p['layers'] as string[]) : str(p['layers'], '').split(',').filter(Boolean);
      const chosen = layers.length ? layers : model.profile.inversionLayers;
      const steps = num(p, 'steps', 200, 1, 4000);
      // frames for the live preview alone (the result shows each layer's reconstruction)
      const perLayer = Math.max(1, Math.floor(PREVIEWS_PER_JOB / chosen.length));
      const preview = job.onProgress ? previewing(job.onProgress, { expected: chosen.length * frameSteps(steps, perLayer).size, totalSteps: chosen.length * steps }) : undefined;
      const r = await invert(model, x, {
        layers: chosen,
        steps,
        tv: num(p, 'tv', 0.5, 0),
        ...job,
        ...(preview ? { frames: perLayer, keepFrames: false, onProgress: preview.onProgress, onFrame: preview.onFrame } : {}),
      });
      await preview?.settled();
      return {
        kind,
        images: [
          { label: 'input', png: await png(displaySize(toRaw(x.data as Float32Array, x.dims), 112)) },
          ...(await Promise.all(r.inversions.map(async (inv) => ({ label: model.layerLabel(inv.layer), caption: `feature distance ${inv.distance.toFixed(3)}`, png: await png(displaySize(toRaw(inv.images.data as Float32Array, inv.images.dims), 112)) })))),
        ],
        frames: [],
        summary: { model: model.name, params: r.params, layers: r.inversions.map((i) => ({ layer: i.layer, distance: i.distance, pixelMse: i.pixelError })) },
      };
    }
    case 'dream': {
      const model = ctx.model();
      const guide = typeof p['guide'] === 'string' && p['guide'] ? p['guide'] : undefined;
      const x = await tensorOf(need(a.image), 3, { maxSide: num(p, 'maxSide', 256, 16, 1024) });
      const octaves = num(p, 'octaves', 4, 1, 8);
      const steps = num(p, 'steps', 10, 1, 200);
      // frames for the live preview alone (the result shows each octave's end)
      const perOctave = Math.max(2, Math.floor(PREVIEWS_PER_JOB / octaves));
      const preview = job.onProgress ? previewing(job.onProgress, { expected: octaves * frameSteps(steps, perOctave).size, totalSteps: octaves * steps }) : undefined;
      const r = await dream(model, x, {
        ...(typeof p['layer'] === 'string' && p['layer'] ? { layer: p['layer'] } : {}),
        ...(typeof p['objective'] === 'string' && p['objective'] ? { objective: p['objective'] } : {}),
        octaves,
        octaveScale: num(p, 'octaveScale', 1.4, 1.05, 3),
        steps,
        stepSize: num(p, 'stepSize', 1.5 / 255, 1e-5, 1),
        jitter: num(p, 'jitter', 32, 0, 256),
        ...(guide ? { guide: await tensorOf(guide, 3, { maxSide: 256 }) } : {}),
        ...job,
        ...(preview ? { frames: perOctave, keepFrames: false, onProgress: preview.onProgress, onFrame: preview.onFrame } : {}),
      });
      await preview?.settled();
      return {
        kind,
        images: [
          { label: 'input', png: await png(fitSide(toRaw(x.data as Float32Array, x.dims), 320)) },
          { label: `dream (${typeof r.params['layer'] === 'string' ? model.layerLabel(r.params['layer']) : 'objective'})`, png: await png(fitSide(toRaw(r.image.data as Float32Array, r.image.dims), 320)) },
        ],
        frames: await Promise.all(r.octaves.map(async (o, k) => ({ step: k + 1, label: `octave ${k + 1}`, png: await png(fitSide(toRaw(o.data as Float32Array, o.dims), 160)) }))),
        summary: { model: model.name, params: r.params, ...(r.notes ? { notes: r.notes } : {}) },
      };
    }
    case 'style': {
      const styles = a.styles ?? [];
      const side = num(p, 'maxSide', 192, 16, 768);
      const content = a.image ? await tensorOf(a.image, 3, { maxSide: side }) : undefined;
      // the feature network the route chose (absent: the random texture network)
      const backbone = a.backbone ? ctx.model('backbone') : undefined;
      const steps = num(p, 'steps', 60, 1, 2000);
      const frames = 5;
      const preview = job.onProgress ? previewing(job.onProgress, { expected: frameSteps(steps, frames).size, totalSteps: steps }) : undefined;
      const r = await styleTransfer(ctx.engine, {
        ...(backbone ? { backbone } : {}),
        ...(content ? { content } : { size: [side, side] as [number, number] }),
        styles: await Promise.all(styles.map(async (s) => ({ image: await tensorOf(s.image, 3, { maxSide: 512 }), weight: s.weight ?? 1 }))),
        ...(p['contentWeight'] !== undefined ? { contentWeight: num(p, 'contentWeight', 0.1, 0) } : {}),
        ...(p['styleWeight'] !== undefined ? { styleWeight: num(p, 'styleWeight', 1, 0) } : {}),
        ...(p['tvWeight'] !== undefined ? { tvWeight: num(p, 'tvWeight', 0.5, 0) } : {}),
        styleScale: num(p, 'styleScale', 1, 0.05, 4),
        keepColors: !!p['keepColors'],
        optimizer: str(p['optimizer'], 'lbfgs') as 'lbfgs' | 'adam',
        steps,
        frames,
        ...job,
        ...(preview ? { onProgress: preview.onProgress, onFrame: preview.onFrame } : {}),
      });
      await preview?.settled();
      const out = toRaw(r.image.data as Float32Array, r.image.dims);
      return {
        kind,
        images: [...(content ? [{ label: 'content', png: await png(fitSide(toRaw(content.data as Float32Array, content.dims), 256)) }] : []), { label: content ? 'result' : 'texture', png: await png(fitSide(out, 256)) }],
        frames: await framePngs(r.frames, r.image.dims),
        gif: b64(encodeGif(r.frames.map((f) => fitSide(toRaw(f.image, r.image.dims), 192)), 200, 1000)),
        summary: { model: backbone?.name ?? 'texture', params: r.params, history: r.history.map((h) => ({ step: h.step, loss: -h.value })) },
      };
    }
    case 'style-train': {
      const styles = a.styles ?? [];
      const content = a.images ?? [];
      // The studio names a style by its image unless told: the same image picked twice (or two
      // uploads of one file name) gets a number, since the method refuses names alike.
      const imageNames = styles.map((s) => s.name ?? ctx.image(s.image).name);
      const names = imageNames.map((n, i) => (styles[i]!.name !== undefined || imageNames.indexOf(n) === i ? n : `${n} ${imageNames.slice(0, i + 1).filter((m) => m === n).length}`));
      const r = await trainStyleNet(ctx.engine, {
        styles: await Promise.all(styles.map(async (s, i) => ({ name: names[i]!, image: await tensorOf(s.image, 3, { maxSide: 256 }) }))),
        content: await Promise.all(content.map((c) => tensorOf(c, 3, { maxSide: 256 }))),
        size: num(p, 'size', 64, 16, 256),
        batch: num(p, 'batch', 2, 1, 8),
        steps: num(p, 'steps', 100, 1, 20000),
        lr: num(p, 'lr', 2e-3, 1e-6, 1),
        width: num(p, 'width', 8, 2, 64),
        blocks: num(p, 'blocks', 2, 1, 8),
        tvWeight: num(p, 'tvWeight', 0.1, 0),
        ...job,
      });
      const preview = await tensorOf(content[0]!, 3, { maxSide: 192 });
      const outs = await Promise.all(r.styles.map((_, k) => stylize(ctx.engine, r.graph, preview, r.styles.map((__, j) => (j === k ? 1 : 0)))));
      return {
        kind,
        images: await Promise.all(outs.map(async (o, k) => ({ label: r.styles[k]!, png: await png(toRaw(o.data as Float32Array, o.dims)) }))),
        frames: [],
        // the server names the network (summary.net) when it keeps it
        summary: { styles: r.styles, seconds: r.seconds, completed: r.completed, history: r.history.filter((_, i) => i % 10 === 0), ...(r.notes ? { notes: r.notes } : {}) },
        trained: { bytes: encodeStyleNet(r.graph), name: `trained ${new Date().toISOString().slice(11, 19)}` },
      };
    }
    case 'fast-style': {
      if (!a.net) throw new ConvLensError('INVALID_ARGUMENT', 'fast-style needs a style network.', 'GET /api/style-nets lists them.');
      const graph = loadStyleNet(a.net.bytes, `style network "${a.net.id}"`);
      const { names } = styleNetInfo(graph);
      const weights = Array.isArray(p['weights']) ? (p['weights'] as number[]).map(Number) : names.map((_, k) => (k === 0 ? 1 : 0));
      const x = await tensorOf(need(a.image), 3, { maxSide: num(p, 'maxSide', 384, 16, 1024) });
      const t0 = performance.now();
      const y = await stylize(ctx.engine, graph, x, weights);
      job.onProgress?.({ done: 1, total: 1, phase: 'stylized' });
      return {
        kind,
        images: [
          { label: 'content', png: await png(fitSide(toRaw(x.data as Float32Array, x.dims), 320)) },
          { label: names.map((s, k) => (weights[k] ? `${weights[k] === 1 ? '' : `${weights[k]} `}${s}` : '')).filter(Boolean).join(' + '), caption: `${Math.round(performance.now() - t0)} ms`, png: await png(fitSide(toRaw(y.data as Float32Array, y.dims), 320)) },
        ],
        frames: [],
        summary: { net: a.net.id, styles: names, weights },
      };
    }
  }
}

/**
 * `class:*` as a sequence of batches of at most `maxBatch` classes, so a 1000-class model runs
 * within the job's memory budget (one batch of all classes would need gigabytes). Progress runs
 * over all batches; frames and history are the first batch's.
 */
async function classesInBatches(model: Model, o: Omit<FeatvizOptions, 'objective'>, maxBatch: number, job: TaskContext['job'], classes?: number[]): Promise<FeatvizResult> {
  return classVisualization(model, { ...job, ...o, start: o.start as 'zero' | 'noise' | undefined, batchSize: Math.max(1, maxBatch), ...(classes ? { classes } : {}) });
}

/**
 * The caption under a synthesized or attacked image: the model's prediction on it, said to be one.
 * A bare "Trouser 38.3%" under featviz's "Sandal" tile, or under "original", read as the class
 * the image was made for or its true label.
 */
function predictedCaption(p: { label: string; probability: number }): string {
  return `predicted ${p.label} ${(100 * p.probability).toFixed(1)}%`;
}
