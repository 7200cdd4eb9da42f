// `convlens evaluate` on models whose outputs are not one softmax (models/output-kind.ts): a
// multi-label head is scored output by output (accuracy at probability 0.5, average precision),
// not by an argmax accuracy and a softmax loss; a regression has no value to be compared with in
// Fashion-MNIST, and is refused with the reason.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-evaluate-kind-');
const data = ['--data', 'data/fashion-mnist-subset'];

describe('evaluate by output kind', () => {
  it('scores a multi-label model output by output, with no confusion matrix', async () => {
    const out = join(tmp, 'cm.png');
    const r = await convlens('evaluate', ...data, '--output-kind', 'multi-label', '--json', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { outputKind: string; accuracy?: number; confusion?: unknown; meanAccuracy: number; exactMatch: number; meanAveragePrecision: number; perAttribute: { label: string; accuracy: number; averagePrecision: number; positives: number; total: number }[] };
    expect(m.outputKind).toBe('multi-label');
    expect(m.accuracy).toBeUndefined();
    expect(m.confusion).toBeUndefined();
    // the subset has 200 images of each class: each output says yes for 200 of 2000
    expect(m.perAttribute.map((a) => a.positives)).toEqual(Array(10).fill(200));
    expect(m.perAttribute.every((a) => a.total === 2000)).toBe(true);
    expect(m.meanAccuracy).toBeCloseTo(m.perAttribute.reduce((s, a) => s + a.accuracy, 0) / 10, 12);
    expect(m.meanAveragePrecision).toBeCloseTo(m.perAttribute.reduce((s, a) => s + a.averagePrecision, 0) / 10, 12);
    // a trained classifier's logits rank its classes well even read as independent outputs
    expect(m.meanAveragePrecision).toBeGreaterThan(0.8);
    expect(m.exactMatch).toBeLessThanOrEqual(Math.min(...m.perAttribute.map((a) => a.accuracy)));
    expect(r.stderr).toMatch(/no confusion-matrix image for a multi-label model/);
    expect(existsSync(out)).toBe(false);

    const text = await convlens('evaluate', ...data, '--output-kind', 'multi-label', '--no-image');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/mean average precision 0\.\d{4}/);
    expect(text.stdout).not.toMatch(/^accuracy /m);
  }, 120_000);

  it('refuses a regression, saying why', async () => {
    const r = await convlens('evaluate', ...data, '--output-kind', 'regression', '--no-image');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/is a regression: its outputs are values, and Fashion-MNIST labels each image with a class/);
    expect(r.stderr).toMatch(/--output-kind single-label/);
  }, 60_000);
});
