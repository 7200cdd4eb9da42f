/// <reference lib="dom" />
// An explanation run right after another image is picked, before the page has that image's
// prediction (and so the model's view of it): the result kept the view the page had when Run was
// pressed, none, and its Input card stayed empty and its maps lay over nothing, opaque, for good.
// The prediction is held back here so the run always starts first.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { studioInChromium } from './browser.js';

const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

/** Mean red, green and blue of a canvas's pixels, and how many of them are drawn (alpha > 0). */
const meanColour = (page: Page, selector: string): Promise<{ rgb: number[]; drawn: number }> =>
  page.$eval(selector, (el) => {
    const c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const sum = [0, 0, 0];
    let drawn = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3]! === 0) continue;
      drawn++;
      for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
    }
    return { rgb: sum.map((s) => s / Math.max(1, drawn)), drawn: drawn / (d.length / 4) };
  });

describe('an explanation of an image picked a moment ago (Chromium, SqueezeNet)', () => {
  it('shows that image under the maps once the page has it (the run started before)', async () => {
    const { page } = ui;
    await page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await page.click('[data-testid="image-photos/astronaut.png"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false' && document.querySelectorAll('[data-testid="prediction-bars"] li').length === 5);
    await page.click('[data-testid="tab-explain"]');
    const methods = await page.$$eval('[data-testid^="method-"]', (els) => els.filter((e) => e instanceof HTMLInputElement && !e.disabled).map((e) => e.getAttribute('data-testid')!));
    for (const m of methods) await page.setChecked(`[data-testid="${m}"]`, m === 'method-gradcam');
    await page.setChecked('[data-testid="explain-metrics"]', false);

    // the cat's prediction comes 2 s late; Run is pressed meanwhile
    let held = 0;
    await page.route('**/api/predict', async (route) => {
      held++;
      await new Promise((r) => setTimeout(r, 2_000));
      await route.continue();
    });
    await page.click('[data-testid="image-photos/chelsea.png"]');
    await page.click('[data-testid="explain-run"]');
    await page.waitForSelector('[data-testid="map-gradcam"]', { timeout: 120_000 });
    expect(held).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid="explain-made"]')).toContain('image chelsea');
    // once the page has the cat as the model sees it, the result's input is the cat
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false');
    const cat = await meanColour(page, '[data-testid="model-input"]');
    await expect
      .poll(async () => {
        const shown = await meanColour(page, '[data-testid="overlay-input"]');
        return shown.drawn === 1 && shown.rgb.every((v, k) => Math.abs(v - cat.rgb[k]!) < 6);
      }, { timeout: 5_000 })
      .toBe(true);
    // and the map lies over it: at opacity 0 the map's card shows the cat alone
    await page.$eval('[data-testid="overlay-opacity"]', (el) => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, '0');
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await expect
      .poll(async () => {
        const shown = await meanColour(page, '[data-testid="overlay-gradcam"]');
        return shown.drawn === 1 && shown.rgb.every((v, k) => Math.abs(v - cat.rgb[k]!) < 6);
      }, { timeout: 5_000 })
      .toBe(true);
    await page.unroute('**/api/predict');
    await ui.shot('explain-input-picked-late');
    expect(ui.errors).toEqual([]);
  }, 180_000);
});
