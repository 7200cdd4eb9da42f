import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import type { Graph } from '../../../engine/graph/ir.js';
import type { Tensor } from '../../../engine/tensor.js';
import { encodePng, type RawImage } from '../../../io/image.js';
import type { JobOptions } from '../../../methods/jobs.js';
import { attack } from '../../../methods/synthesize/adversarial.js';
import { dream } from '../../../methods/synthesize/dream.js';
import { trainStyleNet } from '../../../methods/synthesize/fast-style.js';
import { encodeStyleNet, loadStyleNet, styleNetInfo, stylize } from '../../../methods/synthesize/stylize.js';
import { featureVisualization } from '../../../methods/synthesize/featviz.js';
import { modelChannels, modelInputSize } from '../../../methods/synthesize/graph.js';
import { invert } from '../../../methods/synthesize/inversion.js';
import { decodeImageTensor } from '../../../methods/synthesize/io.js';
import type { Frame } from '../../../methods/synthesize/optimize.js';
import { pixelParam } from '../../../methods/synthesize/params.js';
import { displaySize, encodeGif, perturbationImage, toRaw } from '../../../methods/synthesize/render.js';
import { styleTransfer } from '../../../methods/synthesize/style.js';
import type { Model } from '../../../models/model.js';
import { resizeImage } from '../../../render/heatmap.js';
import { idSchema, imageIdSchema } from '../ids.js';

/** The committed fast style network (assets/models/style/README.md). */
export const BUILTIN_STYLE_NET = fileURLToPath(new URL('../../../../assets/models/style/fast-style.onnx', import.meta.url));

export const SYNTH_KINDS = ['featviz', 'adversarial', 'invert', 'dream', 'style', 'style-train', 'fast-style'] as const;
type Kind = (typeof SYNTH_KINDS)[number];

interface SynthBody {
  model?: string;
  image?: string;
  images?: string[];
  styles?: { image: string; weight?: number; name?: string }[];
  net?: string;
  params?: Record<string, unknown>;
}

// Every parameter's range, checked before a job starts (400 otherwise); docs/api.md lists them.
const int = (minimum: number, maximum: number): Record<string, unknown> => ({ type: 'integer', minimum, maximum });
const real = (minimum: number, maximum: number): Record<string, unknown> => ({ type: 'number', minimum, maximum });
const text = (maxLength = 256): Record<string, unknown> => ({ type: 'string', maxLength });
const oneOf = (...values: string[]): Record<string, unknown> => ({ enum: values });
const SEED = int(0, 4294967295);
const WEIGHT = real(0, 1e6);
const LAYERS = { anyOf: [text(4096), { type: 'array', items: text(), maxItems: 32 }] };

export const SYNTH_PARAMS: Record<Kind, Record<string, Record<string, unknown>>> = {
  featviz: {
    objective: text(1000),
    param: oneOf('fourier', 'pixel', 'pixel-clip'),
    transforms: text(1000),
    steps: int(1, 4096),
    lr: real(1e-6, 10),
    seed: SEED,
    batch: int(1, 16),
    start: oneOf('zero', 'noise'),
    background: real(0, 1),
    tv: WEIGHT,
    l1: WEIGHT,
    l2: WEIGHT,
    blurEvery: int(1, 4096),
    blurSigma: real(0.01, 100),
    frames: int(0, 16),
  },
  adversarial: {
    method: oneOf('pgd', 'fgsm'),
    norm: oneOf('linf', 'l2'),
    epsilon: real(1e-6, 10),
    steps: int(1, 1000),
    target: { anyOf: [int(0, 1e6), text(200)] },
    randomStart: { type: 'boolean' },
  },
  invert: { layers: LAYERS, steps: int(1, 4000), tv: WEIGHT },
  dream: {
    layer: text(),
    objective: text(1000),
    octaves: int(1, 8),
    octaveScale: real(1.05, 3),
    steps: int(1, 200),
    stepSize: real(1e-5, 1),
    jitter: int(0, 256),
    guide: imageIdSchema,
    maxSide: int(16, 1024),
  },
  style: {
    contentWeight: WEIGHT,
    styleWeight: WEIGHT,
    tvWeight: WEIGHT,
    styleScale: real(0.05, 4),
    keepColors: { type: 'boolean' },
    optimizer: oneOf('lbfgs', 'adam'),
    steps: int(1, 2000),
    maxSide: int(16, 768),
  },
  'style-train': { size: int(16, 256), batch: int(1, 8), steps: int(1, 20000), lr: real(1e-6, 1), width: int(2, 64), blocks: int(1, 8), tvWeight: WEIGHT },
  'fast-style': { weights: { type: 'array', items: real(-100, 100), maxItems: 64 }, maxSide: int(16, 1024) },
};

const bodySchema = (kind: Kind): Record<string, unknown> => ({
  type: 'object',
  properties: {
    model: idSchema,
    image: imageIdSchema,
    images: { type: 'array', items: imageIdSchema, maxItems: 16 },
    styles: { type: 'array', items: { type: 'object', required: ['image'], properties: { image: imageIdSchema, weight: real(0, 100), name: text(100) } }, maxItems: 8 },
    net: idSchema,
    params: { type: 'object', properties: SYNTH_PARAMS[kind], additionalProperties: false },
  },
  additionalProperties: false,
});

/** Style networks trained in one session (the built-in one comes on top). */
const MAX_TRAINED_NETS = 8;

export interface SynthImage {
  label: string;
  caption?: string;
  png: string;
}

export interface SynthResult {
  kind: Kind;
  images: SynthImage[];
  frames: { step: number; label?: string; png: string }[];
  gif?: string;
  summary: Record<string, unknown>;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const png = async (img: RawImage): Promise<string> => b64(await encodePng(img));
const num = (v: unknown, dflt: number, lo = -Infinity, hi = Infinity): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return dflt;
  if (n < lo || n > hi) throw new ConvLensError('INVALID_ARGUMENT', `Parameter ${n} is outside ${lo}..${hi}.`);
  return n;
};
const str = (v: unknown, dflt: string): string => (typeof v === 'string' && v !== '' ? v : dflt);

/** Frames of image k as PNGs (upscaled to `side`). */
async function framePngs(frames: readonly Frame[], dims: readonly number[], k = 0, side = 160): Promise<SynthResult['frames']> {
  return Promise.all(frames.map(async (f) => ({ step: f.step, png: await png(displaySize(toRaw(f.image, dims, k), side)) })));
}

function fitSide(img: RawImage, side: number): RawImage {
  const k = side / Math.max(img.width, img.height);
  return Math.abs(k - 1) < 1e-6 ? img : resizeImage(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)), 'bilinear');
}

export function registerSynthesizeRoutes({ app, models, images, jobs }: Studio): void {
  const nets = new Map<string, { name: string; graph: Graph }>();
  const net = (id: string): { name: string; graph: Graph } => {
    const hit = nets.get(id);
    if (hit) return hit;
    if (id === 'builtin' && existsSync(BUILTIN_STYLE_NET)) {
      const entry = { name: 'built-in fast style network', graph: loadStyleNet(readFileSync(BUILTIN_STYLE_NET), 'the built-in style network') };
      nets.set('builtin', entry);
      return entry;
    }
    throw new ConvLensError('UNKNOWN_NAME', `No style network "${id}".`, 'GET /api/style-nets lists them; train one with POST /api/synthesize/style-train.');
  };
  const tensorOf = async (id: string, channels: 1 | 3, o: { size?: [number, number]; maxSide?: number }): Promise<Tensor> => {
    const img = images.require(id);
    return decodeImageTensor(img.bytes, `image "${img.name}"`, channels, o);
  };

  app.get('/api/style-nets', async () => {
    const list: { id: string; name: string; styles: string[] }[] = [];
    if (existsSync(BUILTIN_STYLE_NET)) {
      try {
        list.push({ id: 'builtin', name: net('builtin').name, styles: styleNetInfo(net('builtin').graph).names });
      } catch {
        // an unreadable committed file is reported when used
      }
    }
    for (const [id, n] of nets) if (id !== 'builtin') list.push({ id, name: n.name, styles: styleNetInfo(n.graph).names });
    return { nets: list };
  });

  app.get<{ Params: { id: string } }>('/api/style-nets/:id/onnx', async (req, reply) => {
    const n = net(req.params.id);
    return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${req.params.id}.onnx"`).send(Buffer.from(encodeStyleNet(n.graph)));
  });

  // Unknown kinds only: each kind has its own route below, with its own parameter ranges.
  app.post('/api/synthesize/:kind', { schema: { params: { type: 'object', properties: { kind: { enum: [...SYNTH_KINDS] } }, required: ['kind'] } } }, async () => {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown synthesis kind.`, `Use one of ${SYNTH_KINDS.join(', ')}.`);
  });
  for (const kind of SYNTH_KINDS) app.post<{ Body: SynthBody }>(`/api/synthesize/${kind}`, { schema: { body: bodySchema(kind) } }, (req, reply) => synthesize(kind, req.body, reply));

  async function synthesize(kind: Kind, body: SynthBody, reply: FastifyReply): Promise<FastifyReply> {
    const p = body.params ?? {};
    // What the job runs on is held until it ends (an upload is not evicted or deleted under it).
    const holds: (() => void)[] = [];
    const needModel = (): Model => {
      const id = body.model ?? 'builtin';
      const model = models.require(id);
      holds.push(models.pin(id));
      return model;
    };
    const needImage = (): string => {
      if (!body.image) throw new ConvLensError('INVALID_ARGUMENT', `${kind} needs an image.`, 'Pass "image": an id from GET /api/images.');
      images.require(body.image);
      holds.push(images.pin(body.image));
      return body.image;
    };
    const useImage = (id: string): void => {
      images.require(id);
      holds.push(images.pin(id));
    };
    // Validate what can be checked before the job starts (unknown ids fail with 404 now).
    let run: (job: JobOptions) => Promise<SynthResult>;
    try {
      switch (kind) {
        case 'featviz': {
          const model = needModel();
          run = async (job) => {
            const objective = str(p['objective'], 'class:*');
            const paramName = str(p['param'], 'fourier');
            const r = await featureVisualization(model, {
              objective,
              param: paramName === 'pixel-clip' ? pixelParam({ range: 'clip' }) : (paramName as 'fourier' | 'pixel'),
              transforms: str(p['transforms'], 'standard'),
              steps: num(p['steps'], 128, 1, 4096),
              lr: num(p['lr'], 0.05, 1e-6, 10),
              seed: num(p['seed'], 0),
              ...(p['batch'] !== undefined ? { batch: num(p['batch'], 1, 1, 16) } : {}),
              start: str(p['start'], 'noise') as 'zero' | 'noise',
              ...(p['background'] !== undefined ? { background: num(p['background'], 0.5, 0, 1) } : {}),
              penalties: { tv: num(p['tv'], 0, 0), l1: num(p['l1'], 0, 0), l2: num(p['l2'], 0, 0) },
              regularizers: p['blurEvery'] ? { blur: { every: num(p['blurEvery'], 8, 1), sigma: num(p['blurSigma'], 0.5, 0.01) } } : {},
              frames: num(p['frames'], 6, 0, 16),
              ...job,
            });
            const n = r.images.dims[0]!;
            const labels = objective.trim() === 'class:*' ? model.labels : Array.from({ length: n }, (_, k) => (n > 1 ? `image ${k + 1}` : objective));
            return {
              kind,
              images: await Promise.all(Array.from({ length: n }, async (_, k) => ({ label: labels[k] ?? `image ${k + 1}`, ...(r.predictions[k] ? { caption: `${r.predictions[k]!.label} ${(100 * r.predictions[k]!.probability).toFixed(1)}%` } : {}), png: await png(displaySize(toRaw(r.images.data as Float32Array, r.images.dims, k), 160)) }))),
              frames: await framePngs(r.frames, r.images.dims, 0),
              gif: b64(encodeGif(r.frames.map((f) => displaySize(toRaw(f.image, r.images.dims, 0), 160)))),
              summary: { objective: r.objective, params: r.params, history: r.history.filter((_, i) => i % 8 === 0).map((h) => ({ step: h.step, value: h.value })) },
            };
          };
          break;
        }
        case 'adversarial': {
          const model = needModel();
          const id = needImage();
          const size = modelInputSize(model);
          if (!size) throw new ConvLensError('MODEL_UNSUPPORTED', 'Adversarial examples need a classifier with a fixed input size.');
          run = async (job) => {
            const x = await tensorOf(id, modelChannels(model), { size });
            const eps = num(p['epsilon'], 8 / 255, 1e-6, 10);
            const r = await attack(model, x, {
              method: str(p['method'], 'pgd') as 'pgd' | 'fgsm',
              norm: str(p['norm'], 'linf') as 'linf' | 'l2',
              epsilon: eps,
              steps: num(p['steps'], 40, 1, 1000),
              ...(p['target'] !== undefined && p['target'] !== '' ? { target: p['target'] as number | string } : {}),
              randomStart: !!p['randomStart'],
              ...job,
            });
            const pi = r.perImage[0]!;
            const pert = perturbationImage(r.perturbation.data as Float32Array, r.perturbation.dims, 0);
            return {
              kind,
              images: [
                { label: 'original', caption: `${pi.original.label} ${(100 * pi.original.probability).toFixed(1)}%`, png: await png(displaySize(toRaw(x.data as Float32Array, x.dims), 168)) },
                { label: 'perturbation (amplified)', caption: `×${(0.5 / pert.scale).toFixed(0)} · L∞ ${(pi.linf * 255).toFixed(1)}/255 · L2 ${pi.l2.toFixed(2)}`, png: await png(displaySize(pert.image, 168)) },
                { label: 'adversarial', caption: `${pi.adversarial.label} ${(100 * pi.adversarial.probability).toFixed(1)}%`, png: await png(displaySize(toRaw(r.images.data as Float32Array, r.images.dims), 168)) },
              ],
              frames: [],
              summary: { ...pi, params: r.params, history: r.history },
            };
          };
          break;
        }
        case 'invert': {
          const model = needModel();
          const id = needImage();
          run = async (job) => {
            const size = modelInputSize(model) ?? [128, 128];
            const x = await tensorOf(id, modelChannels(model), { size });
            const layers = Array.isArray(p['layers']) ? (p['layers'] as string[]) : str(p['layers'], '').split(',').filter(Boolean);
            const chosen = layers.length ? layers : model.pickableValues().filter((v) => ['Conv', 'MaxPool', 'Gemm'].includes(v.op)).map((v) => v.name);
            const r = await invert(model, x, { layers: chosen, steps: num(p['steps'], 200, 1, 4000), tv: num(p['tv'], 0.5, 0), ...job });
            return {
              kind,
              images: [
                { label: 'input', png: await png(displaySize(toRaw(x.data as Float32Array, x.dims), 112)) },
                ...(await Promise.all(r.inversions.map(async (inv) => ({ label: inv.layer, caption: `feature distance ${inv.distance.toFixed(3)}`, png: await png(displaySize(toRaw(inv.images.data as Float32Array, inv.images.dims), 112)) })))),
              ],
              frames: [],
              summary: { params: r.params, layers: r.inversions.map((i) => ({ layer: i.layer, distance: i.distance, pixelMse: i.pixelError })) },
            };
          };
          break;
        }
        case 'dream': {
          const model = needModel();
          const id = needImage();
          const guide = typeof p['guide'] === 'string' && p['guide'] ? (useImage(p['guide']), p['guide']) : undefined;
          run = async (job) => {
            const x = await tensorOf(id, 3, { maxSide: num(p['maxSide'], 256, 16, 1024) });
            const r = await dream(model, x, {
              ...(typeof p['layer'] === 'string' && p['layer'] ? { layer: p['layer'] } : {}),
              ...(typeof p['objective'] === 'string' && p['objective'] ? { objective: p['objective'] } : {}),
              octaves: num(p['octaves'], 4, 1, 8),
              octaveScale: num(p['octaveScale'], 1.4, 1.05, 3),
              steps: num(p['steps'], 10, 1, 200),
              stepSize: num(p['stepSize'], 1.5 / 255, 1e-5, 1),
              jitter: num(p['jitter'], 32, 0, 256),
              ...(guide ? { guide: await tensorOf(guide, 3, { maxSide: 256 }) } : {}),
              frames: 2,
              ...job,
            });
            return {
              kind,
              images: [
                { label: 'input', png: await png(fitSide(toRaw(x.data as Float32Array, x.dims), 320)) },
                { label: `dream (${r.params['layer']})`, png: await png(fitSide(toRaw(r.image.data as Float32Array, r.image.dims), 320)) },
              ],
              frames: await Promise.all(r.octaves.map(async (o, k) => ({ step: k + 1, label: `octave ${k + 1}`, png: await png(fitSide(toRaw(o.data as Float32Array, o.dims), 160)) }))),
              summary: { params: r.params },
            };
          };
          break;
        }
        case 'style': {
          const styles = body.styles ?? [];
          if (!styles.length) throw new ConvLensError('INVALID_ARGUMENT', 'Style transfer needs at least one style image.', 'Pass "styles": [{ "image": "<id>", "weight": 1 }].');
          for (const s of styles) useImage(s.image);
          if (body.image) useImage(body.image);
          run = async (job) => {
            const side = num(p['maxSide'], 192, 16, 768);
            const content = body.image ? await tensorOf(body.image, 3, { maxSide: side }) : undefined;
            const r = await styleTransfer(models.require('builtin').engine, {
              ...(content ? { content } : { size: [side, side] as [number, number] }),
              styles: await Promise.all(styles.map(async (s) => ({ image: await tensorOf(s.image, 3, { maxSide: 512 }), weight: s.weight ?? 1 }))),
              ...(p['contentWeight'] !== undefined ? { contentWeight: num(p['contentWeight'], 0.1, 0) } : {}),
              ...(p['styleWeight'] !== undefined ? { styleWeight: num(p['styleWeight'], 1, 0) } : {}),
              ...(p['tvWeight'] !== undefined ? { tvWeight: num(p['tvWeight'], 0.5, 0) } : {}),
              styleScale: num(p['styleScale'], 1, 0.05, 4),
              keepColors: !!p['keepColors'],
              optimizer: str(p['optimizer'], 'lbfgs') as 'lbfgs' | 'adam',
              steps: num(p['steps'], 60, 1, 2000),
              frames: 5,
              ...job,
            });
            const out = toRaw(r.image.data as Float32Array, r.image.dims);
            return {
              kind,
              images: [...(content ? [{ label: 'content', png: await png(fitSide(toRaw(content.data as Float32Array, content.dims), 256)) }] : []), { label: content ? 'result' : 'texture', png: await png(fitSide(out, 256)) }],
              frames: await Promise.all(r.frames.map(async (f) => ({ step: f.step, png: await png(fitSide(toRaw(f.image, r.image.dims), 160)) }))),
              gif: b64(encodeGif(r.frames.map((f) => fitSide(toRaw(f.image, r.image.dims), 192)), 200, 1000)),
              summary: { params: r.params, history: r.history.map((h) => ({ step: h.step, loss: -h.value })) },
            };
          };
          break;
        }
        case 'style-train': {
          const styles = body.styles ?? [];
          const content = body.images ?? [];
          if (!styles.length || !content.length) throw new ConvLensError('INVALID_ARGUMENT', 'Training a style network needs style images and content images.', 'Pass "styles": [{ "image": id, "name": ... }] and "images": [content ids].');
          for (const s of styles) useImage(s.image);
          for (const c of content) useImage(c);
          run = async (job) => {
            const engine = models.require('builtin').engine;
            const r = await trainStyleNet(engine, {
              styles: await Promise.all(styles.map(async (s) => ({ name: s.name ?? images.require(s.image).name, image: await tensorOf(s.image, 3, { maxSide: 256 }) }))),
              content: await Promise.all(content.map((c) => tensorOf(c, 3, { maxSide: 256 }))),
              size: num(p['size'], 64, 16, 256),
              batch: num(p['batch'], 2, 1, 8),
              steps: num(p['steps'], 100, 1, 20000),
              lr: num(p['lr'], 2e-3, 1e-6, 1),
              width: num(p['width'], 8, 2, 64),
              blocks: num(p['blocks'], 2, 1, 8),
              tvWeight: num(p['tvWeight'], 0.1, 0),
              ...job,
            });
            const id = randomUUID();
            for (const old of [...nets.keys()].filter((k) => k !== 'builtin').slice(0, Math.max(0, nets.size - MAX_TRAINED_NETS))) nets.delete(old);
            nets.set(id, { name: `trained ${new Date().toISOString().slice(11, 19)} (${r.styles.join(', ')})`, graph: r.graph });
            const preview = await tensorOf(content[0]!, 3, { maxSide: 192 });
            const outs = await Promise.all(r.styles.map((_, k) => stylize(engine, r.graph, preview, r.styles.map((__, j) => (j === k ? 1 : 0)))));
            return {
              kind,
              images: await Promise.all(outs.map(async (o, k) => ({ label: r.styles[k]!, png: await png(toRaw(o.data as Float32Array, o.dims)) }))),
              frames: [],
              summary: { net: id, styles: r.styles, seconds: r.seconds, completed: r.completed, history: r.history.filter((_, i) => i % 10 === 0) },
            };
          };
          break;
        }
        case 'fast-style': {
          const id = needImage();
          const n = net(body.net ?? 'builtin');
          const { names } = styleNetInfo(n.graph);
          const weights = Array.isArray(p['weights']) ? (p['weights'] as number[]).map(Number) : names.map((_, k) => (k === 0 ? 1 : 0));
          if (weights.length !== names.length) throw new ConvLensError('INVALID_ARGUMENT', `The network holds ${names.length} styles (${names.join(', ')}); ${weights.length} weights given.`);
          run = async (job) => {
            const x = await tensorOf(id, 3, { maxSide: num(p['maxSide'], 384, 16, 1024) });
            const t0 = performance.now();
            const y = await stylize(models.require('builtin').engine, n.graph, x, weights);
            job.onProgress?.({ done: 1, total: 1, phase: 'stylized' });
            return {
              kind,
              images: [
                { label: 'content', png: await png(fitSide(toRaw(x.data as Float32Array, x.dims), 320)) },
                { label: names.map((s, k) => (weights[k] ? `${weights[k] === 1 ? '' : `${weights[k]} `}${s}` : '')).filter(Boolean).join(' + '), caption: `${Math.round(performance.now() - t0)} ms`, png: await png(fitSide(toRaw(y.data as Float32Array, y.dims), 320)) },
              ],
              frames: [],
              summary: { net: body.net ?? 'builtin', styles: names, weights },
            };
          };
          break;
        }
      }
      const job = jobs.start(`synthesize:${kind}`, run, holds);
      return reply.status(202).send({ job });
    } catch (e) {
      for (const release of holds) release();
      throw e;
    }
  }
}


