/// <reference lib="dom" />
// The model-randomization sanity check from the studio's Explain tab, as `convlens explain
// --sanity` draws it: on the built-in CNN, per method the trained map and then the map after
// each randomized layer with its similarity scores, a chart of similarity against the layers
// randomized, and the one-sentence reading of it. Max-sensitivity comes alongside. Screenshots:
// see test/support/screenshots.ts.
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { pixelStats, studioInChromium } from './browser.js';

const SAMPLE = 'fashion-mnist/bag-test18.png';
const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' }).then(() => undefined),
});

describe('the sanity check in the studio (built-in CNN, Chromium)', () => {
  it('runs the cascade on the server and draws it, with its scores, chart and reading', async () => {
    await ui.page.click(`[data-testid="image-${SAMPLE}"]`);
    await ui.page.waitForSelector(`[data-testid="image-${SAMPLE}"][aria-pressed="true"]`);
    // the image as the model sees it, which the maps are drawn over
    await ui.page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false');
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    await ui.page.waitForSelector('[data-testid="method-gradcam"]');
    // the default methods: Grad-CAM and saliency
    expect(await ui.page.isChecked('[data-testid="method-gradcam"]')).toBe(true);
    expect(await ui.page.isChecked('[data-testid="method-saliency"]')).toBe(true);
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    expect(await ui.page.isVisible('[data-testid="sanity-layers"]')).toBe(false);
    await ui.page.setChecked('[data-testid="explain-sanity"]', true);
    // the default: 4 layers from the output; the field stops at the 5 the model has
    expect(await ui.page.inputValue('[data-testid="sanity-layers"]')).toBe('4');
    expect(await ui.page.getAttribute('[data-testid="sanity-layers"]', 'max')).toBe('5');
    await ui.page.fill('[data-testid="sanity-layers"]', '3');
    await ui.page.setChecked('[data-testid="explain-sensitivity"]', true);
    await ui.page.fill('[data-testid="sensitivity-samples"]', '3');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="sanity-results"]', { timeout: 60_000 });
    await expect.poll(() => ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);

    expect(await ui.page.textContent('[data-testid="sanity-interpretation"]')).toContain('Maps that still look the same after randomization do not depend on what the model learned');
    for (const m of ['gradcam', 'saliency']) {
      const row = `[data-testid="sanity-row-${m}"]`;
      // trained, then the three randomization steps, left to right
      expect(await ui.page.locator(`${row} figure`).count()).toBe(4);
      expect(await ui.page.locator(`${row} figcaption`).allTextContents()).toEqual(['trained', 'randomized to logits', 'randomized to conv4', 'randomized to conv3']);
      for (let k = 1; k <= 3; k++) {
        const scores = (await ui.page.textContent(`[data-testid="sanity-${m}-${k}-scores"]`)) ?? '';
        expect(scores, `${m} step ${k}`).toMatch(/^ρ (-?\d\.\d\d|—) · \|ρ\| (-?\d\.\d\d|—) · SSIM (-?\d\.\d\d|—)$|constant map/);
      }
      expect((await pixelStats(ui.page, `[data-testid="sanity-${m}-3"] canvas`)).std).toBeGreaterThan(1);
    }
    // the bag shows through the maps: the input is drawn under them
    expect((await pixelStats(ui.page, '[data-testid="overlay-input"]')).std).toBeGreaterThan(5);
    // the chart: a line per method
    expect(await ui.page.isVisible('[data-testid="sanity-chart"] canvas')).toBe(true);
    expect((await pixelStats(ui.page, '[data-testid="sanity-chart"] canvas')).std).toBeGreaterThan(5);
    await ui.page.click('[data-testid="sanity-metric"] button:has-text("SSIM")');
    // max-sensitivity beside it
    expect(await ui.page.locator('[data-testid="sensitivity-table"] tbody tr').count()).toBe(2);
    // the page names no CLI flag
    const text = (await ui.page.textContent('[data-testid="panel-explain"]')) ?? '';
    expect(text).not.toMatch(/--sanity|--sensitivity|convlens explain/);

    if (screenshotsWanted()) {
      // from the top of the page, clipped to the part: the sticky tab bar stays above it
      await ui.page.evaluate(() => window.scrollTo(0, 0));
      for (const [part, name] of [['explain-results', 'sanity-results'], ['explain-form', 'sanity-form']] as const) {
        const box = (await ui.page.locator(`[data-testid="${part}"]`).boundingBox())!;
        await saveScreenshot(ui.page, name, { fullPage: true, clip: box });
      }
    }
    expect(ui.errors).toEqual([]);
  });

  it('runs in this browser too, the same cascade', async () => {
    await ui.page.click('[data-testid="explain-where"] button:has-text("this browser")');
    await ui.page.setChecked('[data-testid="explain-sensitivity"]', false);
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="explain-made"]:has-text("computed in this browser")', { timeout: 120_000 });
    await ui.page.waitForSelector('[data-testid="sanity-results"]');
    await expect.poll(() => ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    expect(await ui.page.locator('[data-testid="sanity-row-gradcam"] figcaption').allTextContents()).toEqual(['trained', 'randomized to logits', 'randomized to conv4', 'randomized to conv3']);
    expect(await ui.page.isVisible('[data-testid="sensitivity-table"]')).toBe(false);
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
    expect(ui.errors).toEqual([]);
  }, 180_000);

  it('refuses more layers than the model has with the server\'s message', async () => {
    // past the field's own bound (typed in by the page's API caller): the answer is a 400 before a job
    const r = await fetch(`${ui.base}/api/explain`, { method: 'POST', body: JSON.stringify({ model: 'builtin', image: SAMPLE, methods: ['saliency'], sanity: { layers: 40 } }), headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/sanity\/layers/);
  });
});
