import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import { ConvLensError, type ErrorCode } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { DEBIAN_FASHION_MNIST_DIR, PACKAGE_DATA_DIR } from '../../data/fashion-mnist.js';
import { FileAccess } from '../../io/file-access.js';
import { AccessPolicy, registerAccessControl, type AccessOptions } from './access.js';
import { EventStreams } from './sse.js';
import { registerModelRoutes } from './routes/models.js';
import { registerImageRoutes } from './routes/images.js';
import { registerInspectRoutes } from './routes/inspect.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerExplainRoutes } from './routes/explain.js';
import { registerChannelsRoutes } from './routes/channels.js';
import { registerConceptsRoutes } from './routes/concepts.js';
import { registerDatasetRoutes } from './routes/dataset.js';
import { registerSynthesizeRoutes } from './routes/synthesize.js';
import { registerDiffusionRoutes } from './routes/diffusion.js';
import { registerMaskRoutes } from './routes/masks.js';
import { MaskRegistry } from './masks.js';
import { JobManager, toApiError } from './jobs.js';
import { ImageRegistry, ModelRegistry, type UploadCaps } from './state.js';
import type { TaskArgs, TaskKind } from './tasks/index.js';
import { defaultJobWorkers, defaultWorkerMemory, MemoryPlan } from './workers/memory.js';
import { WorkerPool, type Lane } from './workers/pool.js';
import type { ImageRef, ModelRef, TaskRequest } from './workers/protocol.js';
import { schemaError } from './schema-errors.js';

export interface StudioOptions extends AccessOptions {
  engine: Engine;
  /** an ONNX file to open at start (besides the built-in model) */
  modelPath?: string;
  /** folder of sample images, one sub-folder per group */
  samplesDir?: string;
  /** folder of the built front end (index.html + assets) */
  webDir?: string;
  /**
   * Folders the API may read datasets and models from, besides the built-in ones (samples/,
   * data/, the uploads folder, the Debian Fashion-MNIST package's folder). `--data` on the CLI.
   */
  dataRoots?: string[];
  /** the folder to put files in for the studio to read (default out/uploads under the working folder) */
  uploadsDir?: string;
  /** the largest single file the API reads from a data folder (default 1 GiB) */
  maxDataFileBytes?: number;
  maxModelBytes?: number;
  maxImageBytes?: number;
  /** the largest uploaded image in pixels (width x height, default 50 million) */
  maxImagePixels?: number;
  /** how many uploaded models are kept, and their total bytes (default 8, 1 GiB) */
  modelUploads?: UploadCaps;
  /** how many uploaded images are kept, and their total bytes (default 256, 256 MiB) */
  imageUploads?: UploadCaps;
  /** how many segments masks are kept, and their total bytes (default 32, 64 MiB) */
  maskUploads?: UploadCaps;
  /** bytes an event stream may leave in a slow client's socket buffer before progress is coalesced (default 256 kB) */
  streamHighWaterBytes?: number;
  /** resident memory all worker processes may hold together (default: a quarter of the machine, 1 to 4 GB); `--memory` */
  workerMemoryBytes?: number;
  /** job worker processes (default by cores: 1 per 2 cores, 1 to 4); jobs beyond them queue; `--workers` */
  jobWorkers?: number;
  /** how long a cancelled job may take to stop by itself before its worker is killed (default 1000 ms) */
  cancelGraceMs?: number;
  /** extra environment for the worker processes (tests: fault injection) */
  workerEnv?: Record<string, string>;
  logger?: boolean;
}

export interface Studio {
  app: FastifyInstance;
  models: ModelRegistry;
  images: ImageRegistry;
  /** segments masks (feature ablation, KernelSHAP, LIME) */
  masks: MaskRegistry;
  jobs: JobManager;
  /** who may use the studio (Host names, same-origin, token) */
  access: AccessPolicy;
  /** which files the API may read (the data folders) */
  files: FileAccess;
  /** the open job event streams */
  streams: EventStreams;
  /** the worker processes every engine run and heavy computation happens in */
  pool: WorkerPool;
  /** what workers and jobs may use of memory */
  memory: MemoryPlan;
  /** Runs a quick request on the interactive worker and returns its answer. */
  call<K extends TaskKind>(kind: K, args: TaskArgs[K], inputs?: TaskInputs, signal?: AbortSignal): Promise<unknown>;
  /** A worker task (for jobs.submit), its batches planned to `budgetBytes` (default: the job budget of its model). */
  task<K extends TaskKind>(kind: K, args: TaskArgs[K], inputs?: TaskInputs): TaskRequest;
  maxImagePixels: number;
  /** the data folder the studio itself writes to (snapshots of uploaded images to index) */
  uploadsDir: string;
}

/**
 * A signal that fires when the client of `reply` goes away before its answer (the page aborts a
 * request it no longer needs): the worker then skips or stops the work.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** What a task runs on: a model (by registry id or ref), more models by name, images by id. */
export interface TaskInputs {
  model?: string | ModelRef;
  models?: Record<string, string | ModelRef>;
  images?: readonly string[];
  budgetBytes?: number;
}

const fmtMB = (bytes: number): string => (bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MB` : `${Math.round(bytes / 1024)} kB`);

export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../../samples', import.meta.url));
export const DEFAULT_DATA_DIR = PACKAGE_DATA_DIR;
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));
export const DEFAULT_UPLOADS_DIR = resolve('out', 'uploads');

/** Every folder the studio's API may read from, in order: built-in ones, then the given ones. */
export function studioDataRoots(options: Pick<StudioOptions, 'samplesDir' | 'dataRoots' | 'uploadsDir'>): string[] {
  return [options.samplesDir ?? DEFAULT_SAMPLES_DIR, DEFAULT_DATA_DIR, options.uploadsDir ?? DEFAULT_UPLOADS_DIR, DEBIAN_FASHION_MNIST_DIR, ...(options.dataRoots ?? [])];
}

const STATUS: Record<ErrorCode, number> = {
  MODEL_UNREADABLE: 422,
  MODEL_UNSUPPORTED: 422,
  UNSUPPORTED_OP: 422,
  UNSUPPORTED_OPSET: 422,
  EXTERNAL_DATA_MISSING: 422,
  SHAPE_MISMATCH: 422,
  UNKNOWN_NAME: 404,
  INPUT_UNREADABLE: 415,
  INVALID_ARGUMENT: 400,
  RUNTIME_FAILURE: 500,
  CANCELLED: 409,
  FORBIDDEN: 403,
  BUSY: 503,
};

/**
 * The studio server: a JSON/HTTP API over models, images, inspections and long jobs (see
 * docs/api.md), plus the built front end. Binds to loopback unless told otherwise.
 */
export async function createStudio(options: StudioOptions): Promise<Studio> {
  const maxModelBytes = options.maxModelBytes ?? 256 * 1024 * 1024;
  const maxImageBytes = options.maxImageBytes ?? 16 * 1024 * 1024;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 4 * 1024 * 1024,
    // ids are up to 128 characters (ids.ts); Fastify's default of 100 made longer ones unreachable (414)
    routerOptions: { maxParamLength: 256 },
    // Fastify's default removeAdditional strips keys a schema does not list: a misspelt or
    // unsupported parameter answered 202 and the result was computed without it, unannounced.
    // Refused instead (400 naming the key); verbose gives the error the object's schema, whose
    // keys the hint lists.
    ajv: { customOptions: { removeAdditional: false, verbose: true } },
    // Fastify's own refusals (a bad %-escape in the URL, an over-long path segment) in the API's error shape
    frameworkErrors: (error, _req, reply: FastifyReply) => {
      const code = (error as { code?: string }).code;
      const tooLong = code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply
        .status(tooLong ? 414 : 400)
        .send({ error: { code: 'INVALID_ARGUMENT', message: tooLong ? 'A part of the URL path is longer than 256 characters.' : 'The URL is malformed (a %-escape that is not valid UTF-8).', hint: 'See docs/api.md for the routes; ids are 1 to 128 characters.' } });
    },
  });
  // Who may ask anything at all comes first, before routing, parsing or static files.
  const bound = (): number | undefined => {
    const a = app.server.listening ? app.server.address() : null;
    return a && typeof a === 'object' ? a.port : undefined;
  };
  const access = new AccessPolicy(options, bound);
  registerAccessControl(app, access);
  // Query strings are closed as bodies are: a misspelt or unsupported parameter (`?layr=conv2`,
  // `?__proto__=`) is a 400 naming it, not an answer computed without it. Every API route takes
  // `token` (the access token a page is opened with); routes with no parameters take nothing else.
  // Numbers in the URL are digits: Ajv's coercion read "Infinity", "1e400", "0x10" and " 5" as
  // numbers, and Infinity passed both `integer` and `maximum` (a channel of Infinity reached the worker).
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    type Props = { properties?: Record<string, { type?: string } & Record<string, unknown>> } & Record<string, unknown>;
    const schema = (route.schema ??= {}) as { querystring?: Props; params?: Props };
    const given = schema.querystring ?? { type: 'object' };
    schema.querystring = { ...given, properties: { ...given.properties, token: { type: 'string', maxLength: 1024 } }, additionalProperties: false };
    const numeric = (part: 'querystring' | 'params'): [string, string][] =>
      Object.entries(schema[part]?.properties ?? {})
        .filter(([, p]) => p.type === 'integer' || p.type === 'number')
        .map(([k, p]) => [k, p.type!]);
    const checks = [...numeric('querystring').map(([k, t]) => ['querystring', k, t] as const), ...numeric('params').map(([k, t]) => ['params', k, t] as const)];
    if (!checks.length) return;
    const digits = (req: FastifyRequest): void => {
      for (const [part, key, type] of checks) {
        const raw = (part === 'querystring' ? req.query : req.params) as Record<string, unknown>;
        const v = raw[key];
        if (typeof v !== 'string') continue; // absent, or an array the schema refuses
        if (!(type === 'integer' ? /^-?\d{1,16}$/ : /^-?\d{1,16}(\.\d{1,16})?$/).test(v)) {
          const shown = JSON.stringify(v.length > 32 ? `${v.slice(0, 32)}...` : v);
          throw new ConvLensError('INVALID_ARGUMENT', `${part}/${key} must be ${type === 'integer' ? 'a whole number' : 'a number'} in decimal digits; got ${shown}.`, 'See docs/api.md for the request format.');
        }
      }
    };
    const before = route.preValidation;
    route.preValidation = [...(before === undefined ? [] : Array.isArray(before) ? before : [before]), async (req: FastifyRequest) => digits(req)];
  });
  // Per-route file size limits are set where the file is read (models and images differ).
  await app.register(multipart, { limits: { files: 1, fields: 4, parts: 6 } });

  const models = new ModelRegistry(options.engine, options.modelUploads);
  models.addBuiltin();
  if (options.modelPath) models.addPath(options.modelPath);
  const images = new ImageRegistry(options.imageUploads);
  images.addSamples(options.samplesDir ?? DEFAULT_SAMPLES_DIR);
  const masks = new MaskRegistry(options.maskUploads);
  const fileOptions = {
    roots: studioDataRoots(options),
    maxFileBytes: options.maxDataFileBytes ?? 1 << 30,
    outsideHint: 'The studio reads datasets and models only from its data folders (samples/, data/, out/uploads and those given with --data); start it with --data <folder> to add one.',
  };
  const files = new FileAccess(fileOptions);
  const jobWorkers = options.jobWorkers ?? defaultJobWorkers(availableParallelism());
  const memory = new MemoryPlan(options.workerMemoryBytes ?? defaultWorkerMemory(), jobWorkers);
  const pool = new WorkerPool({
    jobWorkers,
    ...(options.engine.options.threads ? { threads: options.engine.options.threads } : {}),
    init: { files: fileOptions },
    jobRssBytes: memory.jobWorkerBytes,
    interactiveRssBytes: memory.interactiveBytes,
    heapMb: memory.heapMb,
    ...(options.cancelGraceMs !== undefined ? { graceMs: options.cancelGraceMs } : {}),
    ...(options.workerEnv ? { env: options.workerEnv } : {}),
  });
  models.onRemove = (id) => pool.forget([id]);
  const jobs = new JobManager({ pool });
  const streams = new EventStreams(options.streamHighWaterBytes);
  const refOf = (m: string | ModelRef): ModelRef => (typeof m === 'string' ? models.ref(m) : m);
  const task = <K extends TaskKind>(kind: K, args: TaskArgs[K], inputs: TaskInputs = {}): TaskRequest => {
    const model = inputs.model !== undefined ? refOf(inputs.model) : undefined;
    const imageRefs: ImageRef[] = (inputs.images ?? []).map((id) => images.ref(id));
    return {
      kind,
      ...(model ? { model } : {}),
      ...(inputs.models ? { models: Object.fromEntries(Object.entries(inputs.models).map(([k, m]) => [k, refOf(m)])) } : {}),
      images: imageRefs,
      args: args as Record<string, unknown>,
      budgetBytes: inputs.budgetBytes ?? memory.budget(typeof inputs.model === 'string' ? models.require(inputs.model) : undefined),
    };
  };
  const call = <K extends TaskKind>(kind: K, args: TaskArgs[K], inputs: TaskInputs = {}, signal?: AbortSignal, lane: Lane = 'interactive'): Promise<unknown> =>
    pool.run(task(kind, args, { ...inputs, budgetBytes: inputs.budgetBytes ?? memory.budget(typeof inputs.model === 'string' ? models.require(inputs.model) : undefined, 'interactive') }), lane, signal ? { signal } : {});
  const studio: Studio = { app, models, images, masks, jobs, access, files, streams, pool, memory, call, task, maxImagePixels: options.maxImagePixels ?? 50e6, uploadsDir: resolve(options.uploadsDir ?? DEFAULT_UPLOADS_DIR) };

  // Cross-origin isolation: the page loads nothing from other origins, and isolation gives its
  // engine worker SharedArrayBuffer, which onnxruntime-web needs for more than one thread.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-embedder-policy', 'require-corp');
  });

  app.setErrorHandler((error: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ConvLensError) return reply.status(STATUS[error.code] ?? 400).send({ error: toApiError(error) });
    const e = error as { statusCode?: number; code?: string; message?: string; validation?: unknown; validationContext?: string };
    if (e.validation) return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', ...schemaError(e.validation as Parameters<typeof schemaError>[0], e.validationContext, e.message ?? 'invalid request') } });
    // more parts than a form of one file has: not "too large", which sent the user to shrink their file
    if (e.code === 'FST_PARTS_LIMIT' || e.code === 'FST_FILES_LIMIT' || e.code === 'FST_FIELDS_LIMIT') {
      return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', message: 'The upload has more parts than one file.', hint: 'Send multipart/form-data with one "file" field and nothing else, as a browser form does.' } });
    }
    if (e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413) {
      return reply.status(413).send({ error: { code: 'TOO_LARGE', message: 'The upload is too large.', hint: `Models up to ${fmtMB(maxModelBytes)}, images up to ${fmtMB(maxImageBytes)}.` } });
    }
    // Fastify's parser refuses prototype keys as it refuses broken JSON, and says only the latter
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', message: 'The body is not valid JSON, or holds a "__proto__" key or a "constructor" with a "prototype" (refused: they would reach the objects of the server).', hint: 'Send one JSON object with the fields of docs/api.md.' } });
    }
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ error: { code: 'INVALID_ARGUMENT', message: e.message ?? 'bad request' } });
    // busboy's refusals of a malformed multipart body ("Multipart: Boundary not found") carry no status
    if (typeof e.message === 'string' && /^(Multipart|Malformed part header|Unexpected end of (form|multipart))/i.test(e.message)) {
      return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', message: `The upload is not a valid multipart form (${e.message}).`, hint: 'Send multipart/form-data with a boundary and one "file" field, as a browser form does.' } });
    }
    app.log.error(error);
    return reply.status(500).send({ error: toApiError(error) });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'UNKNOWN_NAME', message: `No API route ${req.method} ${req.url.split('?')[0]}.`, hint: 'See docs/api.md for the routes.' } }),
  );

  app.get('/api/health', async () => {
    const workers = pool.stats();
    return {
      ok: true,
      models: models.list().length,
      images: images.list().length,
      jobsRunning: jobs.running(),
      jobsQueued: jobs.queued(),
      uploads: { models: models.uploads.stats(), images: images.uploads.stats(), masks: masks.uploads.stats() },
      streams: streams.stats(),
      workers: workers.workers,
      memory: { ...workers.rssBytes, workerLimit: memory.totalBytes, jobWorkerLimit: memory.jobWorkerBytes, interactiveLimit: memory.interactiveBytes, killed: workers.killed },
    };
  });
  registerModelRoutes(studio, maxModelBytes);
  registerImageRoutes(studio, maxImageBytes);
  registerMaskRoutes(studio, maxImageBytes);
  registerInspectRoutes(studio);
  registerJobRoutes(studio);
  registerExplainRoutes(studio);
  registerChannelsRoutes(studio);
  registerConceptsRoutes(studio);
  registerDatasetRoutes(studio);
  registerSynthesizeRoutes(studio);
  registerDiffusionRoutes(studio, options.engine);

  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  if (existsSync(webDir)) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/', index: ['index.html'] });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/html').send('<p>The ConvLens front end is not built. Run <code>npm run build</code> in the convlens folder, then restart the studio.</p>'),
    );
  }
  app.addHook('onClose', async () => {
    jobs.cancelAll();
    await pool.close();
    models.dispose();
  });
  return studio;
}
