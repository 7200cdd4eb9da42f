// Numbers as the page prints them. No imports: unit tests load this file under Node.

/**
 * Three significant figures, for scores compared side by side: a model whose probabilities are
 * all near 0.001 gave every method "0.001" with fixed decimals, and a tiny negative "-0.000".
 */
export function fmtSig(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  return v.toPrecision(3);
}

/**
 * The count after a job's phase: " · 0/2" (whole parts done of all), and while a part runs its
 * own count, " · 0/2 · kernel-shap 120/250". The whole count alone read "0/2" for a long
 * method's entire run while the bar moved, as if it were stuck.
 */
export function progressCount(p: { done: number; total: number; phase?: string | undefined; within?: { done: number; total: number; phase?: string } | undefined }): string {
  if (!(p.total > 0)) return '';
  const whole = ` · ${Math.floor(p.done)}/${p.total}`;
  const w = p.within;
  if (!w || !(w.total > 0) || w.done >= w.total) return whole;
  // a metric's phase already ends in its name ("faithfulness: gradcam · ROAD"): not twice
  const name = w.phase && !p.phase?.endsWith(w.phase) ? `${w.phase} ` : '';
  return `${whole} · ${name}${Math.floor(w.done)}/${w.total}`;
}

/**
 * A prediction's score: its probability in percent (a softmax's, or a multi-label head's own
 * sigmoid), or a regression output's value, which has none.
 */
export function predictionScore(t: { probability?: number | undefined; logit: number }, digits = 1): string {
  return t.probability === undefined ? fmtSig(t.logit) : `${(100 * t.probability).toFixed(digits)}%`;
}
