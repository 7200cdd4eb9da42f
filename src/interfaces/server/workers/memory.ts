// The studio's memory plan: how much resident memory its workers may hold together (`--memory`),
// each job worker's share, and what a job may plan its batches to within that share. A job
// whose smallest batch cannot fit is refused before it starts, with the numbers; a worker that
// still grows past its share (an estimate that was wrong) is stopped by the pool.
import { totalmem } from 'node:os';
import { ConvLensError } from '../../../engine/errors.js';
import { isFloatDType } from '../../../engine/tensor.js';
import { bytesPerSample, computedConstants, computedConstantsText, fetchingBytesPerSample, samplesWithin, type ComputedConstant, type RunKind } from '../../../methods/inspect/memory.js';
import type { Model } from '../../../models/model.js';

const MB = 1 << 20;
const GB = 1 << 30;
const mb = (bytes: number): string => (bytes >= GB ? `${(bytes / GB).toFixed(1)} GB` : `${Math.round(bytes / MB)} MB`);

/**
 * A worker's resident memory besides its task's batches: Node, ONNX Runtime, the method modules
 * (measured: 80 MB idle, 143 MB after a SqueezeNet prediction, with the model and its session).
 */
export const WORKER_BASE_BYTES = 192 * MB;
/** Weight copies a worker may hold: the model it decoded, and one per compiled session (forward, gradients of several methods). */
const WEIGHT_COPIES = 4;
/** What a job plans to, of what its worker may hold beyond the base and weights: room for estimate error and the results it builds. */
const PLANNED_FRACTION = 0.75;

/**
 * Default memory for all workers together: a quarter of the machine, between 1 and 4 GB. At 2.5 GB
 * the interactive worker's 640 MB could not hold a ConvNeXt-tiny (109 MB of weights, held four
 * times over) for a prediction.
 */
export function defaultWorkerMemory(total = totalmem()): number {
  return Math.round(Math.min(4 * GB, Math.max(1 * GB, total / 4)));
}

/** Job workers by core count: one per two cores beyond the first (the interactive worker and the server need some), 1 to 4. */
export function defaultJobWorkers(cores: number): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

export interface PlanOptions {
  /** image size [H, W] when it is not the model's input size */
  size?: readonly [number, number];
  /** the most samples a run needs (the batch is not planned larger) */
  max: number;
  /** bytes per sample in the task beyond the model's own values (e.g. featviz parameterization), as a factor (default 1) */
  factor?: number;
  /** bytes per sample of `kind` when measured elsewhere (a worker, on a model the server does not hold) */
  bytesPerSample?: number;
  /** the worker it runs on (default a job worker) */
  worker?: 'job' | 'interactive';
  /** forward runs: the values the run returns besides the outputs (others are freed as the run goes) */
  fetched?: readonly string[];
  /** copies of the weights the task holds (default: the decoded model and its sessions); 1 for a task that compiles no session */
  weightCopies?: number;
}

export class MemoryPlan {
  /** resident memory a job worker may reach */
  readonly jobWorkerBytes: number;
  /** resident memory the interactive worker may reach */
  readonly interactiveBytes: number;
  /** JavaScript heap limit of a worker, MB */
  readonly heapMb: number;

  constructor(
    /** resident memory all workers may hold together */
    readonly totalBytes: number,
    readonly jobWorkers: number,
  ) {
    if (!(totalBytes >= 512 * MB)) throw new ConvLensError('INVALID_ARGUMENT', `The studio needs at least 512 MB for its workers, got ${mb(totalBytes)}.`, 'Pass --memory 1 or more (GB).');
    this.interactiveBytes = Math.max(384 * MB, Math.round(totalBytes / 4));
    this.jobWorkerBytes = Math.round((totalBytes - this.interactiveBytes) / Math.max(1, jobWorkers));
    this.heapMb = Math.max(512, Math.round(this.jobWorkerBytes / 2 / MB));
  }

  /** Bytes a task on `model` may plan its batches to (0 when the model alone fills the worker). */
  budget(model?: Model, worker: 'job' | 'interactive' = 'job', weightCopies = WEIGHT_COPIES): number {
    const limit = worker === 'job' ? this.jobWorkerBytes : this.interactiveBytes;
    return Math.max(0, Math.floor((limit - WORKER_BASE_BYTES - weightCopies * (model ? weightBytes(model) + constantBytes(model) : 0)) * PLANNED_FRACTION));
  }

  /**
   * Samples per engine run of `kind` on `model` that fit the job budget (at most `o.max`).
   * Refuses, naming the numbers, when not even one fits.
   */
  batch(what: string, model: Model, kind: RunKind, o: PlanOptions): number {
    const bytes = o.bytesPerSample !== undefined ? o.bytesPerSample : kind === 'forward' && o.fetched ? fetchingBytesPerSample(model, o.fetched, o.size) : bytesPerSample(model, kind, o.size);
    const per = Math.ceil(bytes * (o.factor ?? 1));
    const n = samplesWithin(this.budget(model, o.worker, o.weightCopies), per, o.max);
    if (n < 1) throw this.tooLarge(what, per, model, o.worker, kind, o.weightCopies);
    return n;
  }

  /**
   * Refuses a task that decodes the model and preprocesses one image but compiles no session (the
   * input tensor a page computes with): the weights once, the tensor and the decoded image must
   * fit. Planned as a forward run, VGG-16's four weight copies (2.1 GB) refused it at the default
   * --memory, so the page could not compute on a model that its own memory holds.
   */
  checkInput(what: string, model: Model, worker: 'job' | 'interactive' = 'interactive'): void {
    const [, c, h0, w0] = model.input.shape ?? [];
    const [h, w] = typeof h0 === 'number' && typeof w0 === 'number' ? [h0, w0] : model.meta.preprocessing.size;
    // the tensor, and the decoded image and its display copy (RGBA bytes at most as many)
    const bytes = (typeof c === 'number' ? c : 3) * h * w * 4 * 3;
    if (bytes > this.budget(model, worker, 1)) throw this.tooLarge(what, bytes, model, worker, 'input', 1);
  }

  /** Refuses work whose estimated bytes exceed the job budget. */
  check(what: string, bytes: number, model?: Model): void {
    if (bytes > this.budget(model)) throw this.tooLarge(what, bytes, model);
  }

  private tooLarge(what: string, bytes: number, model?: Model, worker: 'job' | 'interactive' = 'job', kind: RunKind | 'input' = 'gradient', weightCopies = WEIGHT_COPIES): ConvLensError {
    const weights = model ? weightBytes(model) : 0;
    const limit = worker === 'job' ? this.jobWorkerBytes : this.interactiveBytes;
    const constants = model ? constantsOf(model) : [];
    const constantTotal = constants.reduce((sum, c) => sum + c.bytes, 0);
    // the values the model computes from constants alone leave no room: they are the problem, not the request
    if (model && constantTotal > 0 && Math.floor((limit - WORKER_BASE_BYTES - weightCopies * weights) * PLANNED_FRACTION) >= bytes) {
      return new ConvLensError(
        'INVALID_ARGUMENT',
        `${what} cannot run: ${computedConstantsText(model.name, constants)}; ONNX Runtime holds them beside the weights in each compiled graph, ${mb(weightCopies * (weights + constantTotal))} with ${weightCopies === 1 ? 'one copy' : `${weightCopies} copies`}, and ${worker === 'job' ? `a job worker on this studio may hold ${mb(limit)}` : `the interactive worker on this studio may hold ${mb(limit)}`}.`,
        'Re-export the model without those values or with smaller ones, or start the studio with more memory for its workers: convlens studio --memory <GB>.',
      );
    }
    // the weights alone fill the worker: no smaller request fits, only more memory does
    if (model && limit - WORKER_BASE_BYTES - weightCopies * weights <= 0) {
      const copies = weightCopies === 1 ? `its ${mb(weights)} of weights` : `${weightCopies} copies of its ${mb(weights)} of weights (${mb(weightCopies * weights)})`;
      return new ConvLensError(
        'INVALID_ARGUMENT',
        `${what} cannot run on "${model.name}" here: ${copies} beside the worker's own ${mb(WORKER_BASE_BYTES)} fill ${worker === 'job' ? `a job worker's ${mb(limit)}` : `the interactive worker's ${mb(limit)}`} on this studio, whatever is asked.`,
        'Start the studio with more memory for its workers (CLI: convlens studio --memory <GB>; the interactive worker gets a quarter of it, and fewer --workers give each job worker more).',
      );
    }
    const where = worker === 'job' ? `a job on this studio may use ${mb(this.budget(model, worker, weightCopies))} (of ${mb(this.jobWorkerBytes)} per job worker)` : `a quick request on this studio may use ${mb(this.budget(model, worker, weightCopies))} (of ${mb(this.interactiveBytes)} for the interactive worker)`;
    const values = kind === 'input' ? 'the image and its input tensor' : kind === 'forward' ? 'activations' : 'activations and gradients';
    return new ConvLensError(
      'INVALID_ARGUMENT',
      `${what} needs about ${mb(bytes)} of memory at once${model ? ` (${values} of "${model.name}", beside ${mb(weightCopies * weights)} of ${weightCopies === 1 ? 'weights' : 'weight copies'})` : ''}; ${where}.`,
      'Ask for less (a smaller image size, fewer images or points), or start the studio with more memory for its workers: convlens studio --memory <GB> (and fewer --workers).',
    );
  }
}

const constantsByModel = new WeakMap<Model, ComputedConstant[]>();

/** The values `model` computes from its constants alone and leaves to ONNX Runtime (computed once per model). */
function constantsOf(model: Model): ComputedConstant[] {
  let found = constantsByModel.get(model);
  if (!found) constantsByModel.set(model, (found = computedConstants(model)));
  return found;
}

/** Bytes of the values `model` computes from its constants alone: ONNX Runtime keeps them like weights, once per compiled graph. */
export function constantBytes(model: Model): number {
  return constantsOf(model).reduce((sum, c) => sum + c.bytes, 0);
}

/** Bytes of a model's float weights. */
export function weightBytes(model: Model): number {
  let n = 0;
  for (const t of model.graph.initializers.values()) if (isFloatDType(t.dtype)) n += t.data.byteLength;
  return n;
}
