/// <reference lib="dom" />
// Results at a phone's width (480 px) and a laptop's (1280 px) on SqueezeNet, as
// narrow-window-e2e.test.ts checks the forms: the page never scrolls sideways, pictures keep
// their aspect ratio, and the charts' legends and axis titles lie whole within their canvas.
// At 480 px the deletion and insertion curves sat side by side, 200 px each: Chart.js drew
// "Integrated gradients · AUC 0.055" past both edges of its chart (swatch and AUC cut off) and
// "probability of the target" past the plot's top. Screenshots: see
// test/support/screenshots.ts.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { saveScreenshot } from '../support/screenshots.js';
import { tempFolder } from '../support/temp-folder.js';
import { studioInChromium } from './browser.js';

const CAT = 'photos/chelsea.png';
const tmp = tempFolder('convlens-e2e-narrow-results-');
const ui = studioInChromium({
  timeout: 60_000,
  setup: () => void (process.env['CONVLENS_STORES'] = join(tmp, 'stores')),
  teardown: () => void delete process.env['CONVLENS_STORES'],
  studio: { uploadsDir: join(tmp, 'uploads') },
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

/** Pictures (img, canvas) inside `selector` shown at another aspect ratio than their pixels' (more than 2% off). */
const distorted = (page: Page, selector: string): Promise<string[]> =>
  page.$$eval(`${selector} img, ${selector} canvas`, (els) =>
    els.flatMap((el) => {
      const r = el.getBoundingClientRect();
      const [w, h] = el instanceof HTMLImageElement ? [el.naturalWidth, el.naturalHeight] : [(el as HTMLCanvasElement).width, (el as HTMLCanvasElement).height];
      // Chart.js sizes its canvas to the box itself: its pixels follow the box, at the device's ratio
      if (!w || !h || !r.width || !r.height) return [];
      const off = w / h / (r.width / r.height);
      return Math.abs(off - 1) > 0.02 ? [`${el.getAttribute('data-testid') ?? el.getAttribute('alt') ?? el.tagName}: ${w}×${h} shown ${Math.round(r.width)}×${Math.round(r.height)}`] : [];
    }),
  );

/** The charts whose legend or axis titles Chart.js drew past the canvas's edges (data-fits, set by CurveChart on every draw). */
const unfit = (page: Page): Promise<string[]> =>
  page.$$eval('figure.curve', (figs) => figs.flatMap((f) => (f.querySelector('canvas')?.getAttribute('data-fits') === 'true' ? [] : [`${f.getAttribute('data-testid')}: ${f.querySelector('canvas')?.getAttribute('data-fits') ?? 'not measured'}`])));

const overflow = (page: Page): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('results at a phone\'s width and a laptop\'s (Chromium, SqueezeNet)', () => {
  it('explanations: maps keep their shape, the curves their legends and axis titles, the page its width', async () => {
    const { page } = ui;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await page.click(`[data-testid="image-${CAT}"]`);
    await page.waitForSelector(`[data-testid="image-${CAT}"][aria-pressed="true"]`);
    await page.click('[data-testid="tab-explain"]');
    await page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    const chosen = ['saliency', 'integrated-gradients', 'guided-backprop', 'gradcam'];
    const methods = await page.$$eval('[data-testid^="method-"]', (els) => els.filter((e) => e instanceof HTMLInputElement && !e.disabled).map((e) => e.getAttribute('data-testid')!.replace(/^method-/, '')));
    for (const m of methods) await page.setChecked(`[data-testid="method-${m}"]`, chosen.includes(m));
    await page.fill('[data-testid="ig-steps"]', '8');
    await page.setChecked('[data-testid="explain-metrics"]', true);
    await page.click('[data-testid="explain-run"]');
    await page.waitForSelector('[data-testid="curve-insertion"]', { timeout: 300_000 });
    await page.waitForSelector('[data-testid="auc-table"]');

    for (const width of [1280, 480]) {
      await page.setViewportSize({ width, height: 900 });
      // Chart.js redraws on its container's resize
      await expect.poll(() => unfit(page), { timeout: 5_000 }).toEqual([]);
      expect(await overflow(page), `${width} px: the page scrolls sideways`).toBeLessThanOrEqual(0);
      expect(await distorted(page, '[data-testid="explain-results"]'), `${width} px`).toEqual([]);
      await page.locator('[data-testid="curve-deletion"]').scrollIntoViewIfNeeded();
      await saveScreenshot(page, `explain-curves-${width}`);
    }
    expect(ui.errors).toEqual([]);
  }, 400_000);

  // At 480 px the embedding's 640-px plot and the rows of neighbours (each a label and seven
  // 64-px thumbnails that would not wrap) made the page 822 px wide.
  it('the Dataset tab: an index, neighbours and an embedding fit the window', async () => {
    const { page } = ui;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await page.click(`[data-testid="image-${CAT}"]`);
    await page.waitForSelector(`[data-testid="image-${CAT}"][aria-pressed="true"]`);
    await page.click('[data-testid="tab-dataset"]');
    await page.waitForSelector('[data-testid="folder-samples/photos"]:checked');
    await page.click('[data-testid="index-run"]');
    await page.waitForSelector('[data-testid="store-info"]', { timeout: 180_000 });
    await page.click('[data-testid="nn-source"] button:has-text("the chosen image")');
    await page.click('[data-testid="nn-run"]');
    await page.waitForSelector('[data-testid="nn-results"]');
    await page.click('[data-testid="embed-run"]');
    await page.waitForSelector('[data-testid="embed-canvas"]', { timeout: 60_000 });
    // the plot says what it shows as the Layer picker names the layer (it read "PCA of /relu25/Relu_output_0")
    expect(await page.textContent('[data-testid="embed-title"]')).toBe('PCA of relu25');

    for (const width of [1280, 480]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(200);
      const wide = await page.$$eval('[data-testid="panel-dataset"] *', (els) => els.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(0, 5).map((e) => `${e.tagName}#${e.getAttribute('data-testid') ?? ''}`));
      expect(await overflow(page), `${width} px: the page scrolls sideways past ${wide.join(', ')}`).toBeLessThanOrEqual(0);
      expect(await distorted(page, '[data-testid="panel-dataset"]'), `${width} px`).toEqual([]);
      // every neighbour's thumbnail in the window, whole
      const rights = await page.$$eval('[data-testid="nn-results"] img', (imgs) => imgs.map((i) => i.getBoundingClientRect().right));
      expect(Math.max(...rights)).toBeLessThanOrEqual(width);
      await page.locator('[data-testid="nn-results"]').scrollIntoViewIfNeeded();
      await saveScreenshot(page, `dataset-${width}`, { fullPage: true });
    }
    // the legend beside the plot where there is room for both
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForTimeout(200);
    const plot = (await page.locator('[data-testid="embed-canvas"]').boundingBox())!;
    const legend = (await page.locator('[data-testid="embed-canvas"] >> xpath=../following-sibling::div[1]').boundingBox())!;
    expect(plot.width).toBeCloseTo(640, -1);
    expect(legend.x).toBeGreaterThan(plot.x + plot.width);
    await page.setViewportSize({ width: 480, height: 900 });
    await page.waitForTimeout(200);
    // the plot is scaled down whole, not cut or squashed
    const box = (await page.locator('[data-testid="embed-canvas"]').boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(480);
    expect(box.width / box.height).toBeCloseTo(640 / 520, 2);
    expect(ui.errors).toEqual([]);
  }, 400_000);
});
