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
