// The studio's HTTP API (docs/api.md), typed. The page uses nothing else.

export type Dim = number | string;

export interface ApiErrorBody {
  code: string;
  message: string;
  hint?: string;
}

/** How a model's outputs read (src/models/output-kind.ts), as --output-kind names them. */
export type OutputKindName = 'single-label' | 'multi-label' | 'regression';
export const OUTPUT_KIND_NAMES: readonly OutputKindName[] = ['single-label', 'multi-label', 'regression'];

export interface Model {
  id: string;
  name: string;
  source: 'builtin' | 'path' | 'upload';
  /** the model's own short name (results and dataset stores use it) */
  shortName?: string;
  error?: ApiErrorBody;
  input?: { name: string; shape: Dim[] };
  labels?: string[];
  /** how the outputs read: a softmax's classes, independent attributes (each its own sigmoid), or values with no probability */
  outputKind?: 'single-label' | 'multi-label' | 'regression';
  preprocessing?: { size?: [number, number]; channels?: string; [k: string]: unknown };
  description?: string;
  warnings?: string[];
  parameters?: number;
  defaultLayer?: string;
  /** the layer the Channels panel starts at (on a segmentation net, the features its classifier conv reads) */
  channelsLayer?: string;
  /** the sample folder whose images fit the model (photos, fashion-mnist, ...) */
  sampleGroup?: string;
  /** which layer plays which part in each method (src/models/profile.ts) */
  profile?: Profile;
  /** explanation methods the model's structure rules out, with the reason */
  unavailableMethods?: Record<string, { reason: string; hint?: string }>;
  /** what the studio was told about the model (POST /api/models/:id/describe) */
  described?: { labels?: number; preprocessing?: Record<string, unknown>; outputKind?: OutputKindName };
}

export type { ModelProfile as Profile } from '../../src/models/profile.js';
import type { ModelProfile as Profile } from '../../src/models/profile.js';

export type { ReceptiveField } from '../../src/methods/inspect/region.js';
import type { ReceptiveField } from '../../src/methods/inspect/region.js';
import type { ChannelEntry as ChannelRankingEntry, ChannelsReport, ChannelsRequest as ChannelRankingRequest } from '../../src/methods/explain/channel-ranking.js';
import { estimateRemaining, type PaceBaseline } from './remaining';

export interface SummaryRow {
  name: string;
  type: string;
  output: string;
  shape: Dim[];
  params: number;
  flops: number;
  receptiveField?: ReceptiveField;
  nodes: string[];
}

export interface Pickable {
  name: string;
  node: string;
  op: string;
  shape: Dim[];
  /** the short name the server also takes (a module path such as `fires.5`) */
  label?: string;
  /** its number in the summary's numbering (`#k`) */
  number?: number;
  /** an [N, C, H, W] feature map (false for a channels-last [N, H, W, C] value) */
  featureMap?: boolean;
  /** a 4-D value CAM-type methods read as a map, as --layer takes it (false inside a window attention, 1x1, off the output's path) */
  camMap?: boolean;
}

/** A vision transformer's tokens that CAM-type methods read as the map of their patch grid (src/models/token-grid.ts). */
export interface TokenLayer extends Pickable {
  grid: { tokenAxis: 1 | 2; prefix: number; height: number; width: number; channels: number };
}

export interface Summary {
  name?: string;
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  totalFlops: number;
  pickable: Pickable[];
  /** the token layers CAM-type methods take besides maps, in graph order (absent from older servers) */
  tokenLayers?: TokenLayer[];
}

export interface WireTensor {
  dtype: 'float32';
  dims: number[];
  data: string;
}

export interface ImageEntry {
  id: string;
  name: string;
  source: 'sample' | 'upload';
  group: string;
  url: string;
}

export interface TopClass {
  index: number;
  label: string;
  /** a softmax's, or a multi-label head's own sigmoid; none for a regression (src/models/output-kind.ts) */
  probability?: number;
  logit: number;
}

export interface Prediction {
  top: TopClass[];
  input: { width: number; height: number; png: string };
  /** what makes this prediction doubtful (NaN outputs, an image scaled up 2x or more) */
  warnings?: string[];
}

export interface LayerActivation {
  name: string;
  op: string;
  node: string;
  values: WireTensor;
}

export interface Filters {
  layer: string;
  output: string;
  weights: WireTensor;
  layers: string[];
}

export interface Progress {
  done: number;
  total: number;
  phase?: string;
  metrics?: unknown;
  /** the current part's own count while done/total count parts (an explain job's methods) */
  within?: { done: number; total: number; phase?: string };
}

export interface Curve {
  x: number[];
  y: number[];
  auc: number;
}

export interface ExplainMapInfo {
  method: string;
  signed: boolean;
  ms?: number;
  /** what the reader should know of how this map was made (a QDQ model's straight-through gradients, ...) */
  notes?: string[];
  /** the method's resolved options (a segments mask's run: segmentation "mask", mask: its name, segments: counts per image) */
  params?: Record<string, unknown>;
}

export interface ExplainMap extends ExplainMapInfo {
  values: WireTensor;
  raw?: WireTensor;
}

export interface SkippedMethod {
  method: string;
  reason: string;
  hint?: string;
  /** an error, not the model's structure */
  failed?: boolean;
}

export interface ExplainResult {
  /** set when a hidden unit was explained: labels name channels ("fires.5:207@6,6") and scores are its values, not probabilities */
  unit?: { layer: string; label: string; at?: [number, number] };
  target: { index: number; label: string; score: number };
  /** the top class, or for a unit the most active channel (then without a probability) */
  predicted?: { index: number; label: string; logit: number; probability?: number };
  maps: ExplainMap[];
  skipped?: SkippedMethod[];
  metrics?: Record<string, { deletion?: Curve; insertion?: Curve; road?: { fractions: number[]; morf: number[]; lerf: number[]; combined: number }; infidelity?: number }>;
  /** the pass that predicted the class first; methods that reuse its gradients report ~0 ms of their own */
  predictionPass?: { kind: string; ms: number };
  /** the model-randomization check, when asked for: each step's maps and their similarity to the trained model's */
  sanity?: SanityResult<WireTensor>;
  /** max-sensitivity per method, when asked for (lower is more stable) */
  sensitivity?: { samples: number; radius: number; seed: number; methods: Record<string, number> };
}

/** One method's similarity to the trained model's map after a step; null where none is defined (a constant map). */
export interface SanityScores {
  spearman: number | null;
  spearmanAbs: number | null;
  ssim: number | null;
  constant: boolean;
}

export interface SanityResult<T> {
  seed: number;
  /** layers with weights in the model */
  available: number;
  /** the layers randomized, output first, cumulative */
  layers: string[];
  steps: { layer: string; maps: Record<string, T>; scores: Record<string, SanityScores> }[];
}

export interface ExplainRequest {
  model: string;
  image: string;
  methods: string[];
  layer?: string;
  target?: number | string;
  score: 'logit' | 'prob';
  params: Record<string, Record<string, unknown>>;
  metrics: boolean;
  /** a hidden layer's channel instead of a class: its mean, or its value at [row, col]; `target` is then the channel */
  unit?: { layer: string; at?: [number, number] };
  /** also the model-randomization check: `layers` layers with weights randomized from the output */
  sanity?: { layers?: number; seed?: number };
  /** also max-sensitivity on `samples` perturbed copies */
  sensitivity?: { samples?: number; seed?: number };
}

/** A segments mask the server holds (POST /api/masks): its colours are the segments. */
import type { MaskDescription as MaskEntry } from '../../src/interfaces/server/masks.js';
export type { MaskEntry };
/** A PNG in the studio's data folders, offered as a mask (GET /api/masks/files). */
import type { DataFolderPng } from '../../src/interfaces/server/routes/dataset-sources.js';
export type { DataFolderPng };

/** POST /api/channels: the top channels of a layer behind a class score, per layer method (the page's "this browser" runs the same request). */
export type ChannelsRequest = ChannelRankingRequest & { model: string; image: string };

/** One of a method's top channels; its map is a wire tensor in the server's answer, a tensor in the browser's. */
export type ChannelEntry<M = WireTensor> = ChannelRankingEntry<M>;

/** The answer: the same shape from the server's job and the browser's engine (methods/explain/channel-ranking.ts). */
export type ChannelsResult<M = WireTensor> = ChannelsReport<M>;

/** POST /api/concepts: a layer's activations over the images factorized into concepts (`convlens concepts`); the answer's maps are wire tensors. */
import type { ConceptsRequest as ConceptsOptions, ConceptsResult } from '../../src/interfaces/server/tasks/concepts.js';
export type ConceptsRequest = ConceptsOptions & { model: string; images: string[] };
export type { ConceptsResult };

/** An error answer of the API (or a network failure), with the server's message and hint. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    public hint?: string,
    /** the whole body, e.g. a Model with `error` for a 422 model upload */
    readonly body?: unknown,
  ) {
    super(message);
  }
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = (body as { error?: ApiErrorBody | string; message?: string } | undefined)?.error;
    if (e && typeof e === 'object') throw new ApiError(res.status, e.code, e.message, e.hint, body);
    if (res.status === 413) throw new ApiError(413, 'TOO_LARGE', 'The upload is too large.', undefined, body);
    const msg = (body as { message?: string } | undefined)?.message ?? (typeof e === 'string' ? e : `${res.status} ${res.statusText}`);
    throw new ApiError(res.status, res.status === 404 ? 'NOT_FOUND' : 'HTTP_ERROR', msg, undefined, body);
  }
  return body as T;
}

/** One JSON (or multipart) call to the studio API; failures become ApiErrors with the server's code and hint. */
export async function request<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      ...(body instanceof FormData ? { body } : body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', 'The studio server cannot be reached. Is `convlens studio` still running?');
  }
  return parse<T>(res);
}

/** A binary GET (an ONNX file, an image); failures become ApiErrors as in `request`. */
export async function requestBytes(url: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch {
    throw new ApiError(0, 'NETWORK', 'The studio server cannot be reached. Is `convlens studio` still running?');
  }
  if (!res.ok) await parse(res);
  return res.blob();
}

const upload = (file: File): FormData => {
  const form = new FormData();
  form.append('file', file, file.name);
  return form;
};

export const api = {
  models: () => request<{ models: Model[] }>('GET', '/api/models').then((r) => r.models),
  summary: (id: string) => request<Summary>('GET', `/api/models/${encodeURIComponent(id)}/summary`),
  filters: (id: string, layer?: string) =>
    request<Filters>('GET', `/api/models/${encodeURIComponent(id)}/filters${layer ? `?layer=${encodeURIComponent(layer)}` : ''}`),
  uploadModel: (file: File) => request<Model>('POST', '/api/models', upload(file)),
  images: () => request<{ images: ImageEntry[] }>('GET', '/api/images').then((r) => r.images),
  uploadImage: (file: File) => request<ImageEntry>('POST', '/api/images', upload(file)),
  uploadMask: (file: File) => request<MaskEntry>('POST', '/api/masks', upload(file)),
  maskFromDataFolder: (path: string) => request<MaskEntry>('POST', '/api/masks', { path }),
  dataFolderPngs: () => request<{ files: DataFolderPng[]; truncated: boolean }>('GET', '/api/masks/files'),
  predict: (model: string, image: string, k = 5, signal?: AbortSignal) => request<Prediction>('POST', '/api/predict', { model, image, k }, signal),
  activations: (model: string, image: string, layers?: string[], signal?: AbortSignal) =>
    request<{ layers: LayerActivation[] }>('POST', '/api/activations', { model, image, ...(layers ? { layers } : {}) }, signal).then((r) => r.layers),
  describeModel: (id: string, body: { labels?: string; preprocess?: string; outputKind?: OutputKindName }) => request<Model>('POST', `/api/models/${encodeURIComponent(id)}/describe`, body),
  explain: (req: ExplainRequest) => request<{ job: string | { id: string } }>('POST', '/api/explain', req),
  channels: (req: ChannelsRequest) => request<{ job: string | { id: string } }>('POST', '/api/channels', req),
  concepts: (req: ConceptsRequest) => request<{ job: string | { id: string } }>('POST', '/api/concepts', req),
  cancelJob: (id: string) => request<{ cancelled: boolean }>('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
};

export type JobEvent =
  /** remainingSeconds: from the job's measured pace (remaining.ts), once it means something */
  | { type: 'progress'; progress: Progress; remainingSeconds?: number }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: ApiErrorBody }
  | { type: 'cancelled' };

/**
 * Jobs this page is waiting on. A reload or a closed tab cancels them: no page can show their
 * results (the page does not find its jobs again), and a job left running held the only job
 * worker for minutes (Inception v3 with every method ran on for over ten) while the reloaded
 * page's next job waited behind it, with nothing on the page to cancel it.
 */
const followed = new Set<string>();
if (typeof window !== 'undefined') {
  const cancelFollowed = (): void => {
    for (const id of followed) void fetch(`/api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE', keepalive: true }).catch(() => undefined);
    followed.clear();
  };
  // beforeunload: on a reload, Chromium did not send the DELETE when asked from pagehide alone
  window.addEventListener('beforeunload', cancelFollowed);
  window.addEventListener('pagehide', cancelFollowed);
}

/**
 * Follows a job's event stream until its one final event. Returns a function that stops
 * listening (it does not cancel the job: DELETE /api/jobs/:id does, and leaving the page).
 */
export function followJob(id: string, onEvent: (e: JobEvent) => void): () => void {
  const es = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  followed.add(id);
  let finished = false;
  const finish = (e: JobEvent): void => {
    if (finished) return;
    finished = true;
    followed.delete(id);
    es.close();
    onEvent(e);
  };
  const data = (ev: Event): unknown => {
    try {
      return JSON.parse((ev as MessageEvent<string>).data);
    } catch {
      return undefined;
    }
  };
  let pace: PaceBaseline | null = null;
  es.addEventListener('progress', (ev) => {
    const d = data(ev) as { progress?: Progress; runningMs?: number } | undefined;
    if (finished || !d?.progress) return;
    const estimate = estimateRemaining(pace, { ...d.progress, runningMs: d.runningMs });
    pace = estimate.baseline;
    onEvent({ type: 'progress', progress: d.progress, ...(estimate.seconds !== undefined ? { remainingSeconds: estimate.seconds } : {}) });
  });
  es.addEventListener('result', (ev) => finish({ type: 'result', result: (data(ev) as { result: unknown }).result }));
  es.addEventListener('cancelled', () => finish({ type: 'cancelled' }));
  // 'error' is both the server's named event (a MessageEvent with data) and EventSource's own
  // connection error (a plain Event). The browser reconnects by itself after a dropped
  // connection and the server replays the job's events, so only a closed source is final.
  es.addEventListener('error', (ev) => {
    if (ev instanceof MessageEvent && typeof ev.data === 'string') {
      const d = data(ev) as { error?: ApiErrorBody } | undefined;
      finish({ type: 'error', error: d?.error ?? { code: 'INTERNAL', message: 'The job failed.' } });
    } else if (es.readyState === EventSource.CLOSED) {
      finish({ type: 'error', error: { code: 'NETWORK', message: 'Lost the connection to the job.' } });
    }
  });
  return () => {
    finished = true;
    followed.delete(id);
    es.close();
  };
}

export function jobId(r: { job: string | { id: string } }): string {
  return typeof r.job === 'string' ? r.job : r.job.id;
}
