import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import { ConvLensError, type ErrorCode } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../../data/fashion-mnist.js';
import { FileAccess } from '../../io/file-access.js';
import { AccessPolicy, registerAccessControl, type AccessOptions } from './access.js';
import { EventStreams } from './sse.js';
import { registerModelRoutes } from './routes/models.js';
import { registerImageRoutes } from './routes/images.js';
import { registerInspectRoutes } from './routes/inspect.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerExplainRoutes } from './routes/explain.js';
import { registerDatasetRoutes } from './routes/dataset.js';
import { registerSynthesizeRoutes } from './routes/synthesize.js';
import { registerDiffusionRoutes } from './routes/diffusion.js';
import { JobManager, toApiError } from './jobs.js';
import { ImageRegistry, ModelRegistry, type UploadCaps } from './state.js';

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
  /** bytes an event stream may leave in a slow client's socket buffer before progress is coalesced (default 256 kB) */
  streamHighWaterBytes?: number;
  logger?: boolean;
}

export interface Studio {
  app: FastifyInstance;
  models: ModelRegistry;
  images: ImageRegistry;
  jobs: JobManager;
  /** who may use the studio (Host names, same-origin, token) */
  access: AccessPolicy;
  /** which files the API may read (the data folders) */
  files: FileAccess;
  /** the open job event streams */
  streams: EventStreams;
  maxImagePixels: number;
}

const fmtMB = (bytes: number): string => (bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MB` : `${Math.round(bytes / 1024)} kB`);

export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../../samples', import.meta.url));
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../data', import.meta.url));
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
};

/**
 * The studio server: a JSON/HTTP API over models, images, inspections and long jobs (see
 * docs/api.md), plus the built front end. Binds to loopback unless told otherwise.
 */
export async function createStudio(options: StudioOptions): Promise<Studio> {
  const maxModelBytes = options.maxModelBytes ?? 256 * 1024 * 1024;
  const maxImageBytes = options.maxImageBytes ?? 16 * 1024 * 1024;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 4 * 1024 * 1024 });
  // Who may ask anything at all comes first, before routing, parsing or static files.
  const bound = (): number | undefined => {
    const a = app.server.listening ? app.server.address() : null;
    return a && typeof a === 'object' ? a.port : undefined;
  };
  const access = new AccessPolicy(options, bound);
  registerAccessControl(app, access);
  // Per-route file size limits are set where the file is read (models and images differ).
  await app.register(multipart, { limits: { files: 1, fields: 4, parts: 6 } });

  const models = new ModelRegistry(options.engine, options.modelUploads);
  models.addBuiltin();
  if (options.modelPath) models.addPath(options.modelPath);
  const images = new ImageRegistry(options.imageUploads);
  images.addSamples(options.samplesDir ?? DEFAULT_SAMPLES_DIR);
  models.onRemove = (m) => images.forgetModel(m);
  const jobs = new JobManager();
  const files = new FileAccess({
    roots: studioDataRoots(options),
    maxFileBytes: options.maxDataFileBytes ?? 1 << 30,
    outsideHint: 'The studio reads datasets and models only from its data folders (samples/, data/, out/uploads and those given with --data); start it with --data <folder> to add one.',
  });
  const streams = new EventStreams(options.streamHighWaterBytes);
  const studio: Studio = { app, models, images, jobs, access, files, streams, maxImagePixels: options.maxImagePixels ?? 50e6 };

  // Cross-origin isolation: the page loads nothing from other origins, and isolation gives its
  // engine worker SharedArrayBuffer, which onnxruntime-web needs for more than one thread.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-embedder-policy', 'require-corp');
  });

  app.setErrorHandler((error: unknown, _req: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ConvLensError) return reply.status(STATUS[error.code] ?? 400).send({ error: toApiError(error) });
    const e = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
    if (e.validation) return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', message: e.message ?? 'invalid request', hint: 'See docs/api.md for the request format.' } });
    if (e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413) {
      return reply.status(413).send({ error: { code: 'TOO_LARGE', message: 'The upload is too large.', hint: `Models up to ${fmtMB(maxModelBytes)}, images up to ${fmtMB(maxImageBytes)}.` } });
    }
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ error: { code: 'INVALID_ARGUMENT', message: e.message ?? 'bad request' } });
    app.log.error(error);
    return reply.status(500).send({ error: toApiError(error) });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'UNKNOWN_NAME', message: `No API route ${req.method} ${req.url.split('?')[0]}.`, hint: 'See docs/api.md for the routes.' } }),
  );

  app.get('/api/health', async () => ({ ok: true, models: models.list().length, images: images.list().length, jobsRunning: jobs.running(), uploads: { models: models.uploads.stats(), images: images.uploads.stats() }, streams: streams.stats() }));
  registerModelRoutes(studio, maxModelBytes);
  registerImageRoutes(studio, maxImageBytes);
  registerInspectRoutes(studio);
  registerJobRoutes(studio);
  registerExplainRoutes(studio);
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
  app.addHook('onClose', async () => jobs.cancelAll());
  return studio;
}
