import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import { ConvLensError, type ErrorCode } from '../../engine/errors.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { registerModelRoutes } from './routes/models.js';
import { registerImageRoutes } from './routes/images.js';
import { registerInspectRoutes } from './routes/inspect.js';
import { registerJobRoutes } from './routes/jobs.js';
import { registerExplainRoutes } from './routes/explain.js';
import { registerDatasetRoutes } from './routes/dataset.js';
import { registerSynthesizeRoutes } from './routes/synthesize.js';
import { registerDiffusionRoutes } from './routes/diffusion.js';
import { JobManager, toApiError } from './jobs.js';
import { ImageRegistry, ModelRegistry } from './state.js';

export interface StudioOptions {
  engine: Engine;
  /** an ONNX file to open at start (besides the built-in model) */
  modelPath?: string;
  /** folder of sample images, one sub-folder per group */
  samplesDir?: string;
  /** folder of the built front end (index.html + assets) */
  webDir?: string;
  maxModelBytes?: number;
  maxImageBytes?: number;
  logger?: boolean;
}

export interface Studio {
  app: FastifyInstance;
  models: ModelRegistry;
  images: ImageRegistry;
  jobs: JobManager;
}

const fmtMB = (bytes: number): string => (bytes >= 1 << 20 ? `${Math.round(bytes / (1 << 20))} MB` : `${Math.round(bytes / 1024)} kB`);

export const DEFAULT_SAMPLES_DIR = fileURLToPath(new URL('../../../samples', import.meta.url));
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));

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
};

/**
 * The studio server: a JSON/HTTP API over models, images, inspections and long jobs (see
 * docs/api.md), plus the built front end. Binds to loopback unless told otherwise.
 */
export async function createStudio(options: StudioOptions): Promise<Studio> {
  const maxModelBytes = options.maxModelBytes ?? 256 * 1024 * 1024;
  const maxImageBytes = options.maxImageBytes ?? 16 * 1024 * 1024;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 4 * 1024 * 1024 });
  // Per-route file size limits are set where the file is read (models and images differ).
  await app.register(multipart, { limits: { files: 1, fields: 4 } });

  const models = new ModelRegistry(options.engine);
  models.addBuiltin();
  if (options.modelPath) models.addPath(options.modelPath);
  const images = new ImageRegistry();
  images.addSamples(options.samplesDir ?? DEFAULT_SAMPLES_DIR);
  const jobs = new JobManager();
  const studio: Studio = { app, models, images, jobs };

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

  app.get('/api/health', async () => ({ ok: true, models: models.list().length, images: images.list().length, jobsRunning: jobs.running() }));
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
