import {
  ConvLensError
} from "./chunk-N6ATQ4RF.js";

// dist/training/optimizers.js
var decayWeightsOnly = (_name, dims) => dims.length >= 2;
function createOptimizer(config, shapes, decay = decayWeightsOnly) {
  const decays = new Map([...shapes].map(([n, d]) => [n, decay(n, d)]));
  const state = { step: 0, slots: /* @__PURE__ */ new Map() };
  const slot = (kind, name, n) => {
    const key = `${kind}/${name}`;
    let s = state.slots.get(key);
    if (!s)
      state.slots.set(key, s = new Float32Array(n));
    return s;
  };
  const check = (params2, grads) => {
    for (const [name, p] of params2) {
      const g = grads.get(name);
      if (!g || g.length !== p.length)
        throw new Error(`optimizer: gradient of "${name}" missing or of the wrong size`);
    }
  };
  if (config.type === "sgd") {
    const mu = config.momentum ?? 0;
    const wd2 = config.weightDecay ?? 0;
    const nesterov = config.nesterov ?? false;
    if (nesterov && mu <= 0)
      throw new ConvLensError("INVALID_ARGUMENT", "Nesterov momentum needs momentum > 0.");
    return {
      config,
      state,
      update(params2, grads, lr) {
        check(params2, grads);
        for (const [name, p] of params2) {
          const g = grads.get(name);
          const l2 = decays.get(name) ? wd2 : 0;
          if (mu === 0) {
            for (let i = 0; i < p.length; i++)
              p[i] -= lr * (g[i] + l2 * p[i]);
            continue;
          }
          const v = slot("momentum", name, p.length);
          for (let i = 0; i < p.length; i++) {
            const gi = g[i] + l2 * p[i];
            const vi = mu * v[i] + gi;
            v[i] = vi;
            p[i] -= lr * (nesterov ? gi + mu * vi : vi);
          }
        }
        state.step++;
      },
      load(s) {
        loadSlots(state, s, params(shapes));
      }
    };
  }
  const b1 = config.beta1 ?? 0.9;
  const b2 = config.beta2 ?? 0.999;
  const eps = config.epsilon ?? 1e-8;
  const wd = config.weightDecay ?? 0;
  return {
    config,
    state,
    update(params2, grads, lr) {
      check(params2, grads);
      const t = state.step + 1;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const stepSize = lr / c1;
      const sqrtC2 = Math.sqrt(c2);
      for (const [name, p] of params2) {
        const g = grads.get(name);
        const m = slot("m", name, p.length);
        const v = slot("v", name, p.length);
        const decayFactor = decays.get(name) && wd ? 1 - lr * wd : 1;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i];
          const mi = b1 * m[i] + (1 - b1) * gi;
          const vi = b2 * v[i] + (1 - b2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          p[i] = p[i] * decayFactor - stepSize * mi / (Math.sqrt(vi) / sqrtC2 + eps);
        }
      }
      state.step = t;
    },
    load(s) {
      loadSlots(state, s, params(shapes));
    }
  };
}
var params = (shapes) => new Map([...shapes].map(([n, d]) => [n, d.reduce((a, b) => a * b, 1)]));
function loadSlots(state, from, sizes) {
  state.slots.clear();
  for (const [key, value] of from.slots) {
    const name = key.slice(key.indexOf("/") + 1);
    const n = sizes.get(name);
    if (n === void 0)
      throw new ConvLensError("INVALID_ARGUMENT", `Optimizer state has a slot "${key}" for a parameter the model does not have.`, "Resume with the checkpoint of this model.");
    if (n !== value.length)
      throw new ConvLensError("INVALID_ARGUMENT", `Optimizer slot "${key}" has ${value.length} values; the parameter has ${n}.`, "Resume with the checkpoint of this model.");
    state.slots.set(key, Float32Array.from(value));
  }
  state.step = from.step;
}
function clipGradientNorm(grads, maxNorm) {
  let s = 0;
  for (const g of grads.values())
    for (let i = 0; i < g.length; i++)
      s += g[i] * g[i];
  const norm = Math.sqrt(s);
  if (norm > maxNorm && norm > 0) {
    const k = maxNorm / norm;
    for (const g of grads.values())
      for (let i = 0; i < g.length; i++)
        g[i] *= k;
  }
  return norm;
}
function optimizerConfig(type, o) {
  if (type === "sgd")
    return { type: "sgd", momentum: o.momentum ?? 0.9, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 };
  if (type === "adam" || type === "adamw")
    return { type: "adam", beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, epsilon: 1e-8, weightDecay: o.weightDecay ?? 0 };
  throw new ConvLensError("INVALID_ARGUMENT", `Unknown optimizer "${type}".`, "Use sgd (with --momentum) or adam.");
}

export {
  createOptimizer,
  clipGradientNorm,
  optimizerConfig
};
