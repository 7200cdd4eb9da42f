// dist/engine/errors.js
var ConvLensError = class extends Error {
  code;
  hint;
  constructor(code, message, hint, options) {
    super(message, options);
    this.name = "ConvLensError";
    this.code = code;
    this.hint = hint;
  }
  /** Message and hint in one string, as the CLI prints it. */
  describe() {
    return this.hint ? `${this.message}
  ${this.hint}` : this.message;
  }
};
function editDistance(a, b) {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[n];
}
function closestNames(name, candidates, count = 5) {
  const lower = name.toLowerCase();
  const scored = [...candidates].map((c) => {
    const cl = c.toLowerCase();
    const sub = cl.includes(lower) || lower.includes(cl) ? -1e3 : 0;
    return { c, score: sub + editDistance(lower, cl) };
  });
  scored.sort((x, y) => x.score - y.score || x.c.localeCompare(y.c));
  return scored.slice(0, count).map((s) => s.c);
}
function unknownNameError(kind, name, candidates, listedBy) {
  const all = [...candidates];
  const close = closestNames(name, all);
  const where = all.length <= 20 ? `All ${all.length}: ${all.join(", ")}.` : listedBy ? `${listedBy} lists all ${all.length}.` : "";
  return new ConvLensError("UNKNOWN_NAME", `No ${kind} named "${name}".`, all.length === 0 ? `There are no ${kind}s to choose from.` : `Closest ${kind} names: ${close.join(", ")}. ${where}`.trim());
}

export {
  ConvLensError,
  closestNames,
  unknownNameError
};
