import { ConvLensError } from '../engine/errors.js';

/**
 * Learning-rate schedules, as a pure function of the global step, so a resumed run continues on
 * the same curve without extra state.
 */
export type ScheduleConfig =
  | { type: 'constant' }
  /** multiply by `gamma` every `every` epochs */
  | { type: 'step'; every: number; gamma: number }
  /** multiply by `gamma` every epoch (smoothly, per step) */
  | { type: 'exponential'; gamma: number }
  /** cosine from the base rate down to base * minFactor at the last step */
  | { type: 'cosine'; minFactor?: number };

export interface ScheduleOptions {
  schedule: ScheduleConfig;
  baseLr: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** linear warmup from ~0 to the scheduled rate over this many steps */
  warmupSteps?: number;
}

/** The learning rate for (0-based) `step`. */
export function learningRate(o: ScheduleOptions, step: number): number {
  const s = o.schedule;
  const epoch = step / Math.max(1, o.stepsPerEpoch);
  let lr: number;
  switch (s.type) {
    case 'constant':
      lr = o.baseLr;
      break;
    case 'step':
      lr = o.baseLr * s.gamma ** Math.floor(Math.floor(epoch + 1e-9) / s.every);
      break;
    case 'exponential':
      lr = o.baseLr * s.gamma ** epoch;
      break;
    case 'cosine': {
      const min = s.minFactor ?? 0;
      const t = Math.min(1, step / Math.max(1, o.totalSteps - 1));
      lr = o.baseLr * (min + ((1 - min) * (1 + Math.cos(Math.PI * t))) / 2);
      break;
    }
  }
  const w = o.warmupSteps ?? 0;
  if (w > 0 && step < w) lr *= (step + 1) / w;
  return lr;
}

/** Parses a CLI schedule: `constant`, `cosine[:minFactor]`, `step:EVERY:GAMMA`, `exp:GAMMA`. */
export function parseSchedule(text: string): ScheduleConfig {
  const [kind, ...rest] = text.trim().toLowerCase().split(':');
  const nums = rest.map(Number);
  const bad = (): ConvLensError =>
    new ConvLensError('INVALID_ARGUMENT', `Cannot read the schedule "${text}".`, 'Use constant, cosine, cosine:0.01 (final factor), step:5:0.5 (x0.5 every 5 epochs) or exp:0.9 (x0.9 per epoch).');
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) throw bad();
  switch (kind) {
    case 'constant':
      if (nums.length) throw bad();
      return { type: 'constant' };
    case 'cosine':
      if (nums.length > 1 || (nums[0] ?? 0) > 1) throw bad();
      return nums.length ? { type: 'cosine', minFactor: nums[0]! } : { type: 'cosine' };
    case 'step':
      if (nums.length !== 2 || nums[0]! < 1 || !Number.isInteger(nums[0])) throw bad();
      return { type: 'step', every: nums[0]!, gamma: nums[1]! };
    case 'exp':
    case 'exponential':
      if (nums.length !== 1) throw bad();
      return { type: 'exponential', gamma: nums[0]! };
    default:
      throw bad();
  }
}

export function describeSchedule(s: ScheduleConfig): string {
  switch (s.type) {
    case 'constant':
      return 'constant';
    case 'cosine':
      return s.minFactor ? `cosine:${s.minFactor}` : 'cosine';
    case 'step':
      return `step:${s.every}:${s.gamma}`;
    case 'exponential':
      return `exp:${s.gamma}`;
  }
}
