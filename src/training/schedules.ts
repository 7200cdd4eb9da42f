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
  /**
   * cosine from the base rate down to base * minFactor when the run ends, as PyTorch's
   * CosineAnnealingLR(T_max = total steps): the last step's rate is just above it
   */
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
      // step / (total - 1) reached the end on the last step: with the default factor 0 its rate
      // was 0, a whole forward and backward pass that changed nothing
      const t = Math.min(1, step / Math.max(1, o.totalSteps));
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
  const forms = 'Use constant, cosine, cosine:0.01 (final factor), step:5:0.5 (x0.5 every 5 epochs) or exp:0.9 (x0.9 per epoch).';
  const bad = (): ConvLensError => new ConvLensError('INVALID_ARGUMENT', `Cannot read the schedule "${text}".`, forms);
  // A readable schedule with a value out of range says which value and the range, not "cannot read".
  const value = (i: number, what: string, ok: (n: number) => boolean, range: string, example: string): number => {
    const raw = rest[i]!;
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!ok(n)) throw new ConvLensError('INVALID_ARGUMENT', `The ${what} in the schedule "${text}" is ${raw || 'empty'}; it must be ${range}.`, `For example ${example}.`);
    return n;
  };
  const factor = (n: number): boolean => Number.isFinite(n) && n >= 0;
  switch (kind) {
    case 'constant':
      if (rest.length) throw bad();
      return { type: 'constant' };
    case 'cosine':
      if (rest.length > 1) throw bad();
      return rest.length ? { type: 'cosine', minFactor: value(0, 'final factor', (n) => factor(n) && n <= 1, 'from 0 to 1 (the share of the learning rate left at the end)', 'cosine:0.01, or cosine (down to 0)') } : { type: 'cosine' };
    case 'step':
      if (rest.length !== 2) throw bad();
      return {
        type: 'step',
        every: value(0, 'interval', (n) => Number.isInteger(n) && n >= 1, 'a whole number of epochs, 1 or more', 'step:5:0.5 (x0.5 every 5 epochs)'),
        gamma: value(1, 'factor', factor, 'a number >= 0 (below 1 lowers the rate)', 'step:5:0.5 (x0.5 every 5 epochs)'),
      };
    case 'exp':
    case 'exponential':
      if (rest.length !== 1) throw bad();
      return { type: 'exponential', gamma: value(0, 'factor', factor, 'a number >= 0 (below 1 lowers the rate)', 'exp:0.9 (x0.9 per epoch)') };
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
