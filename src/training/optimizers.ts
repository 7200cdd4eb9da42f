import { ConvLensError } from '../engine/errors.js';

/**
 * Optimizers update parameters in place in plain loops over Float32Arrays: for the models
 * ConvLens trains this costs well under 1% of a step (the graph run dominates), and keeps the
 * parameters in host memory, where checkpoints and the exported model read them.
 */
export type OptimizerConfig =
  | {
      type: 'sgd';
      /** heavy-ball momentum (PyTorch convention: v = mu * v + g; p -= lr * v); 0 = plain SGD */
      momentum?: number;
      nesterov?: boolean;
      /** L2 penalty added to the gradient (g += wd * p), as torch.optim.SGD */
      weightDecay?: number;
    }
  | {
      type: 'adam';
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      /** decoupled weight decay (AdamW: p -= lr * wd * p), applied to the parameters `decay` selects */
      weightDecay?: number;
    };

export interface OptimizerState {
  /** number of updates applied so far */
  step: number;
  /** named per-parameter buffers ("momentum/conv1.weight", "m/...", "v/...") */
  slots: Map<string, Float32Array>;
}

export interface Optimizer {
  readonly config: OptimizerConfig;
  /**
   * Applies one update to every parameter in `params`, in place, with gradients `grads` and
   * learning rate `lr`.
   */
  update(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void;
  readonly state: OptimizerState;
  /** Replaces the state (resume from a checkpoint); slot sizes must match the parameters. */
  load(state: OptimizerState): void;
}

/** Default weight-decay filter: weights (rank >= 2: conv kernels, dense matrices), not biases or normalization scales. */
export const decayWeightsOnly = (_name: string, dims: readonly number[]): boolean => dims.length >= 2;

export function createOptimizer(config: OptimizerConfig, shapes: ReadonlyMap<string, readonly number[]>, decay: (name: string, dims: readonly number[]) => boolean = decayWeightsOnly): Optimizer {
  const decays = new Map([...shapes].map(([n, d]) => [n, decay(n, d)]));
  const state: OptimizerState = { step: 0, slots: new Map() };
  const slot = (kind: string, name: string, n: number): Float32Array => {
    const key = `${kind}/${name}`;
    let s = state.slots.get(key);
    if (!s) state.slots.set(key, (s = new Float32Array(n)));
    return s;
  };
  const check = (params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>): void => {
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g || g.length !== p.length) throw new Error(`optimizer: gradient of "${name}" missing or of the wrong size`);
    }
  };

  if (config.type === 'sgd') {
    const mu = config.momentum ?? 0;
    const wd = config.weightDecay ?? 0;
    const nesterov = config.nesterov ?? false;
    if (nesterov && mu <= 0) throw new ConvLensError('INVALID_ARGUMENT', 'Nesterov momentum needs momentum > 0.', 'Give a momentum above 0, e.g. --momentum 0.9, or leave out --nesterov.');
    return {
      config,
      state,
      update(params, grads, lr) {
        check(params, grads);
        for (const [name, p] of params) {
          const g = grads.get(name)!;
          const l2 = decays.get(name) ? wd : 0;
          if (mu === 0) {
            for (let i = 0; i < p.length; i++) p[i]! -= lr * (g[i]! + l2 * p[i]!);
            continue;
          }
          const v = slot('momentum', name, p.length);
          for (let i = 0; i < p.length; i++) {
            const gi = g[i]! + l2 * p[i]!;
            const vi = mu * v[i]! + gi;
            v[i] = vi;
            p[i]! -= lr * (nesterov ? gi + mu * vi : vi);
          }
        }
        state.step++;
      },
      load(s) {
        loadSlots(state, s, params(shapes));
      },
    };
  }

  const b1 = config.beta1 ?? 0.9;
  const b2 = config.beta2 ?? 0.999;
  const eps = config.epsilon ?? 1e-8;
  const wd = config.weightDecay ?? 0;
  return {
    config,
    state,
    update(params, grads, lr) {
      check(params, grads);
      const t = state.step + 1;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const stepSize = lr / c1;
      const sqrtC2 = Math.sqrt(c2);
      for (const [name, p] of params) {
        const g = grads.get(name)!;
        const m = slot('m', name, p.length);
        const v = slot('v', name, p.length);
        const decayFactor = decays.get(name) && wd ? 1 - lr * wd : 1;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          const mi = b1 * m[i]! + (1 - b1) * gi;
          const vi = b2 * v[i]! + (1 - b2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          // PyTorch's formulation: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
          p[i] = p[i]! * decayFactor - (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps);
        }
      }
      state.step = t;
    },
    load(s) {
      loadSlots(state, s, params(shapes));
    },
  };
}

const params = (shapes: ReadonlyMap<string, readonly number[]>): Map<string, number> => new Map([...shapes].map(([n, d]) => [n, d.reduce((a, b) => a * b, 1)]));

function loadSlots(state: OptimizerState, from: OptimizerState, sizes: Map<string, number>): void {
  state.slots.clear();
  for (const [key, value] of from.slots) {
    const name = key.slice(key.indexOf('/') + 1);
    const n = sizes.get(name);
    if (n === undefined) throw new ConvLensError('INVALID_ARGUMENT', `Optimizer state has a slot "${key}" for a parameter the model does not have.`, 'Resume with the checkpoint of this model.');
    if (n !== value.length) throw new ConvLensError('INVALID_ARGUMENT', `Optimizer slot "${key}" has ${value.length} values; the parameter has ${n}.`, 'Resume with the checkpoint of this model.');
    state.slots.set(key, Float32Array.from(value));
  }
  state.step = from.step;
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradientNorm(grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  const norm = Math.sqrt(s);
  if (norm > maxNorm && norm > 0) {
    const k = maxNorm / norm;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= k;
  }
  return norm;
}

/** Parses `sgd`, `adam` plus the numeric options of the CLI into a config. */
export function optimizerConfig(type: string, o: { momentum?: number; nesterov?: boolean; weightDecay?: number; beta1?: number; beta2?: number }): OptimizerConfig {
  if (type === 'sgd') return { type: 'sgd', momentum: o.momentum ?? 0.9, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 };
  if (type === 'adam' || type === 'adamw') return { type: 'adam', beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, epsilon: 1e-8, weightDecay: o.weightDecay ?? 0 };
  throw new ConvLensError('INVALID_ARGUMENT', `Unknown optimizer "${type}".`, 'Use sgd (with --momentum) or adam.');
}
