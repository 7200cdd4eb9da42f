// How the page prints numbers that people compare across rows (the explanation metrics table).
import { describe, expect, it } from 'vitest';
import { fmtSig } from '../../web/src/format.js';

describe('fmtSig', () => {
  it('keeps three significant figures, so nearby small scores stay apart', () => {
    // a model with uniform 0.1% probabilities: fixed decimals printed 0.001 for all of these
    expect([0.00098, 0.00101, 0.00125].map(fmtSig)).toEqual(['9.80e-4', '0.00101', '0.00125']);
    expect(fmtSig(0.5234)).toBe('0.523');
    expect(fmtSig(12.345)).toBe('12.3');
    expect(fmtSig(123456)).toBe('1.23e5');
  });

  it('prints zero as 0 and a tiny negative with its exponent, never as -0.000', () => {
    expect(fmtSig(0)).toBe('0');
    expect(fmtSig(-0)).toBe('0');
    expect(fmtSig(-2e-7)).toBe('-2.00e-7');
    expect(fmtSig(Number.NaN)).toBe('NaN');
  });
});

describe('progressCount', () => {
  it('prints the running part\'s own count beside the whole parts done', async () => {
    const { progressCount } = await import('../../web/src/format.js');
    expect(progressCount({ done: 0.48, total: 2, within: { done: 120, total: 250, phase: 'kernel-shap' } })).toBe(' · 0/2 · kernel-shap 120/250');
    // a finished part adds nothing the whole count does not say
    expect(progressCount({ done: 1, total: 2, within: { done: 250, total: 250, phase: 'kernel-shap' } })).toBe(' · 1/2');
    expect(progressCount({ done: 0, total: 0 })).toBe('');
    // the phase names the running metric already: its count alone follows
    expect(progressCount({ done: 2.3, total: 4, phase: 'faithfulness: gradcam · deletion/insertion', within: { done: 12, total: 26, phase: 'deletion/insertion' } })).toBe(' · 2/4 · 12/26');
  });
});
