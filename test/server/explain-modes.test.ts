// The studio takes the perturbation methods' modes (occlusion.mode, segments.mode) as the library
// does: each mode (and LIME's regression "lasso") is accepted and reaches the method, and an unknown
// mode is a 400 naming the field.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject } = inProcessStudio();

const explain = (method: string, params: Record<string, unknown>) =>
  inject({ method: 'POST', url: '/api/explain', payload: { model: 'builtin', image: 'fashion-mnist/bag-test18.png', methods: [method], params } });

/** The final event of a job: its result's maps' params, or the error. */
async function finalEvent(job: string): Promise<{ type: string; result?: { maps: { params: Record<string, unknown> }[] }; error?: { message: string } }> {
  const events = await jobEvents<{ type: string }>(inject, job);
  return events.at(-1)!;
}

describe('perturbation modes in explain requests', () => {
  const cases: [method: string, key: string, modes: string[]][] = [
    ['occlusion', 'occlusion', ['incremental', 'brute-force', 'approximate']],
    ['feature-ablation', 'segments', ['incremental', 'brute-force']],
    ['feature-ablation', 'feature-ablation', ['incremental']],
  ];
  for (const [method, key, modes] of cases) {
    it(`${key}.mode is accepted and reaches ${method}`, async () => {
      for (const mode of modes) {
        const extra = method === 'feature-ablation' ? { segmentation: 'grid', count: 16 } : { window: 14 };
        const r = await explain(method, { [key]: { mode, ...extra } });
        expect(r.statusCode, `${key}.mode ${mode}: ${r.body}`).toBe(202);
        const last = await finalEvent(r.json().job);
        expect(last.type, JSON.stringify(last)).toBe('result');
        // The builtin model is too small for incremental inference to pay: by default brute force
        // runs, so only a mode that reached the method runs the others.
        expect(last.result!.maps[0]!.params['mode']).toBe(mode);
      }
    });

    it(`an unknown ${key}.mode is a 400 naming the field`, async () => {
      const r = await explain(method, { [key]: { mode: 'fastest' } });
      expect(r.statusCode).toBe(400);
      const { error } = r.json() as { error: { code: string; message: string } };
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain(`${key}/mode`);
      expect(error.message).toMatch(/equal to one of the allowed values/);
    });
  }

  it('lime takes regression "lasso" (Captum\'s surrogate) and reports it', async () => {
    const r = await explain('lime', { lime: { regression: 'lasso', segmentation: 'grid', count: 4, samples: 20 } });
    expect(r.statusCode, r.body).toBe(202);
    const last = await finalEvent(r.json().job);
    expect(last.type, JSON.stringify(last)).toBe('result');
    expect(last.result!.maps[0]!.params).toMatchObject({ regression: 'lasso', alpha: 0.01 });
  });
});

describe('KernelSHAP and LIME samples in explain requests', () => {
  it('takes as many coalitions as the page offers, and refuses one more naming the field', async () => {
    const { REPORT_MAX_SEGMENT_SAMPLES } = await import('../../src/methods/explain/request-limits.js');
    const page = (await import('node:fs')).readFileSync(join(ROOT, 'web/src/components/ExplainPanel.tsx'), 'utf8');
    // the page's field is bounded by the same number (it offered 10,000 against the server's 2,000)
    expect(/label="samples" value=\{seg\.samples\} min=\{1\} max=\{([^}]+)\}/.exec(page)?.[1]).toBe('REPORT_MAX_SEGMENT_SAMPLES');
    const most = await explain('kernel-shap', { segments: { samples: REPORT_MAX_SEGMENT_SAMPLES, count: 4, segmentation: 'grid' } });
    expect(most.statusCode, most.body).toBe(202);
    // 4 segments have 16 coalitions: KernelSHAP scores them all, whatever the samples asked
    expect((await finalEvent(most.json().job)).type).toBe('result');
    const over = await explain('kernel-shap', { segments: { samples: REPORT_MAX_SEGMENT_SAMPLES + 1 } });
    expect(over.statusCode).toBe(400);
    expect(over.body).toMatch(/samples/);
  });
});
