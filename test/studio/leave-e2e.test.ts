/// <reference lib="dom" />
// Leaving the page cancels the jobs it was waiting on (web/src/api.ts followJob): the page does
// not find its jobs again after a reload, and a job left running held the only job worker for
// minutes (Inception v3 with every explanation method ran on for over ten) while the reloaded
// page's next job waited behind it, with nothing on the page to cancel it.
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { studioInChromium } from './browser.js';

const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

describe('leaving the studio page (Chromium)', () => {
  it('cancels the explanation job the page was following', async () => {
    const { page } = ui;
    await page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await page.click('[data-testid="tab-explain"]');
    await page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    // a long job: occlusion with a small stride and the faithfulness curves
    for (const box of await page.locator('input[data-testid^="method-"]').all()) if (!(await box.isDisabled())) await box.setChecked(false);
    await page.setChecked('[data-testid="method-occlusion"]', true);
    await page.setChecked('[data-testid="method-smoothgrad"]', true);
    const started = page.waitForResponse((r) => r.url().endsWith('/api/explain') && r.request().method() === 'POST');
    await page.click('[data-testid="explain-run"]');
    const { job } = (await (await started).json()) as { job: string };
    await page.waitForSelector('[data-testid="explain-cancel"]');
    const state = async (): Promise<string> => {
      const r = await fetch(`${ui.base}/api/jobs/${job}`, { headers: { [TOKEN_HEADER]: ui.studio.access.token } });
      return ((await r.json()) as { state: string }).state;
    };
    expect(['queued', 'running']).toContain(await state());
    await page.reload();
    await expect.poll(state, { timeout: 15_000, interval: 250 }).toBe('cancelled');
    expect(ui.errors).toEqual([]);
  }, 120_000);
});
