/// <reference lib="dom" />
// Cancelling a computation in this browser while the page is still downloading the model: the
// engine worker gives the download up at once (it goes on and is kept for the next run), where it
// used to wait for all of it (550 MB of VGG-16 before the cancel was seen). The download is held
// back here by the test, as a slow connection to the studio would. Screenshots: see
// test/support/screenshots.ts.
import { describe, expect, it } from 'vitest';
import { saveScreenshot } from '../support/screenshots.js';
import { studioInChromium } from './browser.js';

const SAMPLE = 'fashion-mnist/bag-test18.png';
const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' }).then(() => undefined),
});

describe('cancelling a computation in this browser (Chromium)', () => {
  it('stops while the model downloads, and the page computes once it has come', async () => {
    const { page } = ui;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked = 0;
    await page.context().route('**/api/models/*/onnx', async (route) => {
      asked++;
      await held;
      await route.continue();
    });
    await page.click(`[data-testid="image-${SAMPLE}"]`);
    await page.waitForSelector(`[data-testid="image-${SAMPLE}"][aria-pressed="true"]`);
    await page.click('[data-testid="tab-explain"]');
    await page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    await page.setChecked('[data-testid="explain-metrics"]', false);
    await page.click('[data-testid="explain-where"] button:has-text("this browser")');
    await page.click('[data-testid="explain-run"]');
    await page.waitForSelector('[data-testid="job-phase"]:has-text("loading the model")');
    await expect.poll(() => asked, { timeout: 30_000 }).toBe(1);
    const cancelledAt = Date.now();
    await page.click('[data-testid="explain-cancel"]');
    // the download is still held: the cancel does not wait for it
    await page.waitForSelector('[data-testid="explain-notice"]:has-text("Cancelled")', { timeout: 10_000 });
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(await page.isVisible('[data-testid="job-progress"]')).toBe(false);
    expect(await page.isEnabled('[data-testid="explain-run"]')).toBe(true);
    await saveScreenshot(page.locator('[data-testid="explain-form"]'), 'browser-cancelled-while-loading');

    // the connection catches up; the next run uses the model the cancelled one began to fetch
    release();
    await page.click('[data-testid="explain-run"]');
    await page.waitForSelector('[data-testid="explain-made"]:has-text("computed in this browser")', { timeout: 60_000 });
    expect(await page.isVisible('[data-testid="explain-error"]')).toBe(false);
    expect(asked).toBe(1);
    expect(ui.errors).toEqual([]);
  }, 120_000);
});
