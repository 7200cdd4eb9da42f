// dist/util/random.js
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = a + 1831565813 >>> 0;
    let t = a;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function normalSource(seed) {
  const uniform = seededRandom(seed);
  let spare;
  return () => {
    if (spare !== void 0) {
      const s = spare;
      spare = void 0;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}
function gaussian(rand) {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

// dist/models/init.js
function heNormal(rand, dims, fanIn) {
  const n = dims.reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++)
    data[i] = gaussian(rand) * std;
  return { dtype: "float32", dims, data };
}
function glorotUniform(rand, dims, fanIn, fanOut) {
  const n = dims.reduce((a, b) => a * b, 1);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++)
    data[i] = (rand() * 2 - 1) * limit;
  return { dtype: "float32", dims, data };
}
function filled(dims, value) {
  return { dtype: "float32", dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value) };
}

export {
  seededRandom,
  normalSource,
  gaussian,
  heNormal,
  glorotUniform,
  filled
};
