import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import type { Graph } from '../../../engine/graph/ir.js';
import { backboneProblem } from '../../../methods/synthesize/style.js';
import { encodeStyleNet, loadStyleNet, styleNetInfo } from '../../../methods/synthesize/stylize.js';
import { defaultSize, parseClassList } from '../../../methods/synthesize/featviz.js';
import { modelInputSize } from '../../../methods/synthesize/graph.js';
import { parseObjective } from '../../../methods/synthesize/objectives.js';
import { parseTransforms } from '../../../methods/synthesize/transforms.js';
import { summarize } from '../../../methods/inspect/summary.js';
import { Model } from '../../../models/model.js';
import { textureBackbone } from '../../../models/zoo/texture-backbone.js';
import { idSchema, imageIdSchema } from '../ids.js';
import type { SynthEstimate } from '../synth-estimate.js';
import { isAllClasses, SYNTH_KINDS, type SynthArgs, type SynthKind, type SynthResult } from '../tasks/synthesize.js';

export { SYNTH_KINDS, type SynthImage, type SynthResult } from '../tasks/synthesize.js';

/** The committed fast style network (assets/models/style/README.md). */
export const BUILTIN_STYLE_NET = fileURLToPath(new URL('../../../../assets/models/style/fast-style.onnx', import.meta.url));

type Kind = SynthKind;

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
    // one image per listed class ("0-9,285", labels too); with class:* or no objective
    classes: text(4000),
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
    backbone: oneOf('model', 'texture'),
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
    styles: { type: 'array', items: { type: 'object', required: ['image'], properties: { image: imageIdSchema, weight: real(0, 100), name: text(100) }, additionalProperties: false }, maxItems: 8 },
    net: idSchema,
    params: { type: 'object', properties: SYNTH_PARAMS[kind], additionalProperties: false },
  },
  additionalProperties: false,
});

/** Style networks trained in one session (the built-in one comes on top). */
const MAX_TRAINED_NETS = 8;

/** Bytes per image of featviz beyond the model's own values and gradients: the parameterization, the transformed copies, the optimizer state. */
const FEATVIZ_FACTOR = 1.5;

/** The most images times steps one feature visualization may ask for (1000 classes at 512 steps). */
export const MAX_FEATVIZ_IMAGE_STEPS = 512_000;

/** A backward pass costs about twice a forward one: each optimization step of one image runs about 3 forward passes' worth. */
const STEP_FORWARDS = 3;

export function registerSynthesizeRoutes({ app, models, images, jobs, memory, task }: Studio): void {
  // The random texture network, for planning memory only (shape inference; it never runs here).
  let texture: Model | undefined;
  const textureModel = (): Model => (texture ??= new Model(textureBackbone(), models.require('builtin').engine, 'texture-backbone', undefined, { classMap: 'keep' }));
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

  // a style network id as every id (ids.ts): an unchecked one went into the 404's message and was meant for the file name header
  app.get<{ Params: { id: string } }>('/api/style-nets/:id/onnx', { schema: { params: { type: 'object', required: ['id'], properties: { id: idSchema } } } }, async (req, reply) => {
    const n = net(req.params.id);
    return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${req.params.id}.onnx"`).send(Buffer.from(encodeStyleNet(n.graph)));
  });

  // Unknown kinds only: each kind has its own route below, with its own parameter ranges.
  app.post('/api/synthesize/:kind', { schema: { params: { type: 'object', properties: { kind: { enum: [...SYNTH_KINDS] } }, required: ['kind'] } } }, async () => {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown synthesis kind.`, `Use one of ${SYNTH_KINDS.join(', ')}.`);
  });
  for (const kind of SYNTH_KINDS) {
    app.post<{ Body: SynthBody }>(`/api/synthesize/${kind}`, { schema: { body: bodySchema(kind) } }, (req, reply) => synthesize(kind, req.body, reply));
    // The same request checked and costed, without starting it: the page shows it before big runs.
    app.post<{ Body: SynthBody }>(`/api/synthesize/${kind}/estimate`, { schema: { body: bodySchema(kind) } }, async (req) => estimate(kind, req.body));
  }

  // Speeds measured on finished jobs (GFLOP per second of the worker's run), by model id: the
  // long-job estimate's time. Speed depends on the model (kernels, sizes), so another model's
  // speed is only a hint and says so.
  // Kinds differ as much as models do (a DeepDream step over octaves ran at a third of an
  // inversion step's GFLOP per second on SqueezeNet), so a speed is kept per model and kind, and
  // a stand-in says which of the two it shares.
  const speeds = new Map<string, number>();
  const speedKey = (kind: Kind, modelId: string): string => `${kind}\u0000${modelId}`;
  const lastOfKind = new Map<Kind, number>();
  const lastOfModel = new Map<string, number>();
  let lastSpeed: number | undefined;
  const speedFor = (kind: Kind, modelId: string | undefined): SynthEstimate['speed'] | undefined => {
    const exact = modelId !== undefined ? speeds.get(speedKey(kind, modelId)) : undefined;
    if (exact) return { gflopPerSecond: exact, from: 'this model' };
    const sameKind = lastOfKind.get(kind);
    if (sameKind) return { gflopPerSecond: sameKind, from: 'another model' };
    const sameModel = modelId !== undefined ? lastOfModel.get(modelId) : undefined;
    if (sameModel) return { gflopPerSecond: sameModel, from: 'another kind of job' };
    return lastSpeed ? { gflopPerSecond: lastSpeed, from: 'another model' } : undefined;
  };
  const flopsCache = new WeakMap<Model, number>();
  const forwardFlops = (model: Model, size: readonly [number, number]): number | undefined => {
    let f = flopsCache.get(model);
    if (f === undefined) {
      try {
        f = summarize(model).totalFlops;
      } catch {
        f = 0;
      }
      flopsCache.set(model, f);
    }
    if (!f) return undefined;
    // FLOPs scale with the image area for a model that takes any size
    const own = modelInputSize(model) ?? model.meta.preprocessing.size;
    return (f * size[0] * size[1]) / (own[0] * own[1]);
  };

  /** The work a request asks for (images, steps, batches) and its cost, from the model's FLOPs and the measured speed. */
  function estimate(kind: Kind, body: SynthBody): SynthEstimate<Kind> {
    const plan = checkRequest(kind, body);
    const imageSteps = plan.images * plan.steps;
    const model = plan.modelId !== undefined ? models.require(plan.modelId) : undefined;
    const flops = model && plan.size ? forwardFlops(model, plan.size) : undefined;
    const gflop = flops !== undefined ? (STEP_FORWARDS * flops * imageSteps) / 1e9 : undefined;
    const speed = speedFor(kind, plan.modelId);
    return {
      kind,
      images: plan.images,
      steps: plan.steps,
      batches: Math.ceil(plan.images / plan.batchSize),
      batchSize: plan.batchSize,
      imageSteps,
      ...(gflop !== undefined ? { gflop } : {}),
      ...(gflop !== undefined && speed ? { seconds: gflop / speed.gflopPerSecond, speed } : {}),
    };
  }

  /** Records the speed of a finished job (its estimate's GFLOP over the worker's seconds). */
  const timed = (kind: Kind, body: SynthBody, modelId: string | undefined) => (r: unknown): unknown => {
    const seconds = (r as SynthResult).summary?.['seconds'];
    if (modelId === undefined || typeof seconds !== 'number' || seconds <= 0) return r;
    try {
      const gflop = estimate(kind, body).gflop;
      if (gflop) {
        const speed = gflop / seconds;
        speeds.set(speedKey(kind, modelId), speed);
        lastOfKind.set(kind, speed);
        lastOfModel.set(modelId, speed);
        lastSpeed = speed;
      }
    } catch {
      // the model left the registry meanwhile: nothing to learn
    }
    return r;
  };

  /** A trained network comes back encoded from the worker; the server keeps it (the latest few) under a new id. */
  const keepTrained = (r: unknown): SynthResult => {
    const result = r as SynthResult;
    if (!result.trained) return result;
    const { trained, ...rest } = result;
    const id = randomUUID();
    for (const old of [...nets.keys()].filter((k) => k !== 'builtin').slice(0, Math.max(0, nets.size - MAX_TRAINED_NETS))) nets.delete(old);
    nets.set(id, { name: trained.name, graph: loadStyleNet(trained.bytes, 'the trained style network') });
    return { ...rest, summary: { net: id, netName: trained.name, ...rest.summary } };
  };

  /** A checked request: the worker's arguments, what it holds, and the work it asks for. */
  interface Plan {
    args: SynthArgs;
    modelId: string | undefined;
    backboneId: string | undefined;
    used: Set<string>;
    /** images optimized, steps each, images per batch, at which size (for FLOPs) */
    images: number;
    steps: number;
    batchSize: number;
    size?: readonly [number, number];
  }

  // Checks what can be checked before the job starts (unknown ids, layers and classes 404, ranges
  // and memory 400), then runs the method on a job worker (tasks/synthesize.ts).
  async function synthesize(kind: Kind, body: SynthBody, reply: FastifyReply): Promise<FastifyReply> {
    const { args, modelId, backboneId, used } = checkRequest(kind, body);
    const request = task('synthesize', args, { ...(modelId !== undefined ? { model: modelId } : {}), ...(backboneId !== undefined ? { models: { backbone: backboneId } } : {}), images: [...used] });
    // What the job runs on is held until it ends (an upload is not evicted or deleted under it).
    const holds = [...(modelId !== undefined ? [models.pin(modelId)] : []), ...(backboneId !== undefined ? [models.pin(backboneId)] : []), ...[...used].map((id) => images.pin(id))];
    const then = kind === 'style-train' ? keepTrained : timed(kind, body, modelId);
    const job = jobs.submit(`synthesize:${kind}`, request, holds, then);
    return reply.status(202).send({ job });
  }

  function checkRequest(kind: Kind, body: SynthBody): Plan {
    const p = body.params ?? {};
    const numberOr = (key: string, dflt: number): number => (typeof p[key] === 'number' ? (p[key] as number) : dflt);
    let work: Pick<Plan, 'images' | 'steps' | 'batchSize' | 'size'> = { images: 1, steps: 1, batchSize: 1 };
    const used = new Set<string>();
    const useImage = (id: string): string => {
      images.require(id);
      used.add(id);
      return id;
    };
    const needImage = (): string => {
      if (!body.image) throw new ConvLensError('INVALID_ARGUMENT', `${kind} needs an image.`, 'Pass "image": an id from GET /api/images.');
      return useImage(body.image);
    };
    let modelId: string | undefined;
    let backboneId: string | undefined;
    const needModel = (): ReturnType<typeof models.require> => {
      modelId = body.model ?? 'builtin';
      return models.require(modelId);
    };
    const args: SynthArgs = { kind, params: p };
    const oneImage = (what: string, model: ReturnType<typeof models.require>, size: readonly [number, number]): void => {
      memory.batch(what, model, 'gradient', { size, max: 1, factor: FEATVIZ_FACTOR });
    };
    switch (kind) {
      case 'featviz': {
        const model = needModel();
        const size = defaultSize(model);
        const fit = memory.batch('Feature visualization', model, 'gradient', { size, max: Math.max(1, model.labels.length), factor: FEATVIZ_FACTOR });
        const objective = typeof p['objective'] === 'string' && p['objective'] ? p['objective'] : 'class:*';
        const batch = typeof p['batch'] === 'number' ? p['batch'] : undefined;
        const steps = numberOr('steps', 128);
        const selection = typeof p['classes'] === 'string' && p['classes'].trim() ? p['classes'] : undefined;
        if (selection !== undefined && !isAllClasses(objective)) {
          throw new ConvLensError('INVALID_ARGUMENT', '"classes" goes with the objective class:* (one image per listed class).', 'Leave out "objective", or "classes".');
        }
        const perClass = isAllClasses(objective);
        if (!perClass && batch !== undefined && batch > fit) {
          throw new ConvLensError('INVALID_ARGUMENT', `A batch of ${batch} images at ${size[0]}x${size[1]} does not fit this studio's memory per job; ${fit} do${fit === 1 ? 'es' : ''}.`, `Use batch ${fit} or less, or start the studio with more memory (convlens studio --memory <GB>).`);
        }
        // Layers, channels and classes named by the objective are checked now, not in the job.
        if (!perClass) parseObjective(objective).layers(model);
        if (typeof p['transforms'] === 'string') parseTransforms(p['transforms'], size[0]);
        const classes = selection !== undefined ? parseClassList(selection, model.labels) : undefined;
        if (classes) args.classes = classes;
        const count = perClass ? (classes?.length ?? model.profile.classes) : (batch ?? 1);
        if (count * steps > MAX_FEATVIZ_IMAGE_STEPS) {
          throw new ConvLensError('INVALID_ARGUMENT', `${count} images at ${steps} steps (${(count * steps).toLocaleString('en-US')} image-steps) is more than one request may ask for (${MAX_FEATVIZ_IMAGE_STEPS.toLocaleString('en-US')}).`, 'Pick fewer classes ("classes": "0-9,285") or fewer steps.');
        }
        // class:* runs as a sequence of batches of at most `fit` classes.
        args.maxBatch = fit;
        work = { images: count, steps, batchSize: perClass ? Math.min(fit, count) : count, size };
        break;
      }
      case 'adversarial': {
        const model = needModel();
        needImage();
        const size = modelInputSize(model);
        if (!size) throw new ConvLensError('MODEL_UNSUPPORTED', 'Adversarial examples need a classifier with a fixed input size.', 'Choose a classifier with a fixed input size, e.g. the built-in fashion-cnn or squeezenet.');
        oneImage('An adversarial example', model, size);
        work = { images: 1, steps: p['method'] === 'fgsm' ? 1 : numberOr('steps', 40), batchSize: 1, size };
        break;
      }
      case 'invert': {
        const model = needModel();
        needImage();
        const size = modelInputSize(model) ?? model.meta.preprocessing.size;
        oneImage('Inversion', model, size);
        const layers = Array.isArray(p['layers']) ? (p['layers'] as string[]) : typeof p['layers'] === 'string' ? p['layers'].split(',').map((l) => l.trim()).filter(Boolean) : [];
        for (const l of layers) model.resolveLayer(l);
        work = { images: layers.length || model.profile.inversionLayers.length, steps: numberOr('steps', 200), batchSize: 1, size };
        break;
      }
      case 'dream': {
        const model = needModel();
        needImage();
        if (typeof p['guide'] === 'string' && p['guide']) useImage(p['guide']);
        const side = typeof p['maxSide'] === 'number' ? p['maxSide'] : 256;
        oneImage('DeepDream', model, [side, side]);
        if (typeof p['layer'] === 'string' && p['layer']) model.resolveLayer(p['layer']);
        if (typeof p['objective'] === 'string' && p['objective']) parseObjective(p['objective']).layers(model);
        // the octaves grow to maxSide: about half the last octave's area on average
        work = { images: 1, steps: numberOr('octaves', 4) * numberOr('steps', 10), batchSize: 1, size: [Math.round(side * 0.7), Math.round(side * 0.7)] };
        break;
      }
      case 'style': {
        const styles = body.styles ?? [];
        if (!styles.length) throw new ConvLensError('INVALID_ARGUMENT', 'Style transfer needs at least one style image.', 'Pass "styles": [{ "image": "<id>", "weight": 1 }].');
        for (const s of styles) useImage(s.image);
        if (body.image) args.image = useImage(body.image);
        args.styles = styles;
        // The feature network: the selected model when it can serve (RGB, spatial layers), else the
        // built-in SqueezeNet; params.backbone "texture" asks for the random texture network.
        if (p['backbone'] !== 'texture') {
          const selected = body.model !== undefined ? models.require(body.model) : undefined;
          const problem = selected ? backboneProblem(selected) : undefined;
          if (selected && problem && p['backbone'] === 'model') throw new ConvLensError('MODEL_UNSUPPORTED', `Model "${selected.name}" cannot be the style network: ${problem}.`, 'Choose an RGB model, or backbone "texture".');
          backboneId = selected && !problem ? body.model : models.get('squeezenet')?.model ? 'squeezenet' : undefined;
          args.backbone = backboneId !== undefined;
        }
        // The optimized image is as large as maxSide: planned before the job, as for DeepDream (a
        // 768-px texture synthesis needed ~2.3 GB and its worker was stopped for memory).
        const side = typeof p['maxSide'] === 'number' ? p['maxSide'] : 192;
        oneImage('Style transfer', backboneId !== undefined ? models.require(backboneId) : textureModel(), [side, side]);
        break;
      }
      case 'style-train': {
        const styles = body.styles ?? [];
        const content = body.images ?? [];
        if (!styles.length || !content.length) throw new ConvLensError('INVALID_ARGUMENT', 'Training a style network needs style images and content images.', 'Pass "styles": [{ "image": id, "name": ... }] and "images": [content ids].');
        for (const s of styles) useImage(s.image);
        for (const c of content) useImage(c);
        args.styles = styles;
        args.images = content;
        break;
      }
      case 'fast-style': {
        needImage();
        const id = body.net ?? 'builtin';
        const n = net(id);
        const { names } = styleNetInfo(n.graph);
        const weights = Array.isArray(p['weights']) ? (p['weights'] as number[]).map(Number) : names.map((_, k) => (k === 0 ? 1 : 0));
        if (weights.length !== names.length) throw new ConvLensError('INVALID_ARGUMENT', `The network holds ${names.length} styles (${names.join(', ')}); ${weights.length} weights given.`, `Pass "weights" with one number per style, in the order ${names.join(', ')}.`);
        args.net = { id, bytes: encodeStyleNet(n.graph) };
        break;
      }
    }
    if (body.image && kind !== 'style') args.image = body.image;
    if (kind === 'style' || kind === 'style-train') work = { images: 1, steps: numberOr('steps', kind === 'style' ? 60 : 100), batchSize: 1 };
    return { args, modelId, backboneId, used, ...work };
  }
}
