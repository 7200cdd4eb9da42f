/// <reference lib="dom" />
// The studio in a narrow window (1024×768: a laptop's browser beside an editor, a tablet; down to
// 480 px, a phone). Below
// 1100 px the side bar moves above the tabs' panels; stacked one under the other, the model,
// image and prediction panels filled 1,700 px (each Fashion-MNIST thumbnail 180 px wide), so a
// click on a tab changed nothing the user could see: its panel began two screens further down.
// Screenshots: see test/support/screenshots.ts.
import { describe, expect, it } from 'vitest';
import { saveScreenshot } from '../support/screenshots.js';
import { studioInChromium } from './browser.js';

const ui = studioInChromium({
  timeout: 30_000,
  afterOpen: async (page) => {
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' });
  },
});

/** Where the element's top lies in the window (px from the window's top). */
const topInWindow = (selector: string): Promise<number> => ui.page.$eval(selector, (el) => el.getBoundingClientRect().top);

describe('the studio in a narrow window (Chromium, 1024×768 down to 480 px)', () => {
  it("shows a tab's panel in the window when its tab is clicked, with thumbnails of thumbnail size and one-line tabs", async () => {
    const { page } = ui;
    await page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await page.click('[data-testid="image-photos/chelsea.png"]');
    await expect.poll(() => page.textContent('[data-testid="prediction-bars"]'), { timeout: 20_000 }).toMatch(/cat/);
    const height = page.viewportSize()!.height;

    for (const tab of ['explain', 'synth', 'dataset', 'network']) {
      await page.click(`[data-testid="tab-${tab}"]`);
      await page.waitForSelector(`[data-testid="panel-${tab}"]`, { state: 'visible' });
      // the panel's heading is in the window, below the sticky top bar, once the click has taken effect
      await expect.poll(() => topInWindow(`[data-testid="panel-${tab}"]`), { timeout: 5_000 }).toBeLessThan(height - 200);
      expect(await topInWindow(`[data-testid="panel-${tab}"]`)).toBeGreaterThanOrEqual(40);
    }

    // thumbnails stay thumbnails
    const thumb = await page.$eval('[data-testid="image-fashion-mnist/bag-test18.png"]', (el) => el.getBoundingClientRect().width);
    expect(thumb).toBeLessThan(90);
    // every tab's label on one line
    const lines = await page.$$eval('[role="tab"]', (tabs) =>
      tabs.map((t) => {
        const range = document.createRange();
        range.selectNodeContents(t.firstChild!);
        return { tab: t.textContent, lines: new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size };
      }),
    );
    expect(lines.filter((l) => l.lines !== 1)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1024);

    // narrower still (a tablet upright, a third of a wide screen): every tab in the window, nothing wider than it
    await page.setViewportSize({ width: 800, height: 900 });
    await page.waitForTimeout(100);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    const rights = await page.$$eval('[role="tab"]', (tabs) => tabs.map((t) => t.getBoundingClientRect().right));
    expect(Math.max(...rights)).toBeLessThanOrEqual(800);

    // a phone's width: the tabs no longer fit beside the brand. The tab bar overflowed, and the
    // whole page scrolled sideways (scrollWidth 738); now the bar scrolls within itself, and a
    // clicked tab is shown whole, on one line, with its panel below the bar.
    await page.setViewportSize({ width: 480, height: 900 });
    await page.waitForTimeout(100);
    await saveScreenshot(page, 'narrow-480-tabs');
    const tabIds = await page.$$eval('[role="tab"]', (tabs) => tabs.map((t) => t.getAttribute('data-testid')!));
    for (const id of [...tabIds].reverse()) {
      await page.click(`[data-testid="${id}"]`);
      await page.waitForTimeout(150);
      const box = await page.$eval(`[data-testid="${id}"]`, (t) => {
        const r = t.getBoundingClientRect();
        return { left: r.left, right: r.right, height: r.height };
      });
      expect(box.left, id).toBeGreaterThanOrEqual(0);
      expect(box.right, id).toBeLessThanOrEqual(480);
      expect(box.height, id).toBeGreaterThanOrEqual(40);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), id).toBeLessThanOrEqual(480);
      await expect.poll(() => topInWindow(`[data-testid="panel-${id.replace(/^tab-/, '')}"]`), { timeout: 5_000 }).toBeLessThan(900 - 200);
      if (id === tabIds.at(-1)) await saveScreenshot(page, 'narrow-480-last-tab', { clip: { x: 0, y: 0, width: 480, height: 120 } });
    }
    await page.click('[data-testid="tab-explain"]');
    await page.waitForTimeout(300);
    await saveScreenshot(page, 'narrow-480-explain-tab');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(480);

    // a wide window: every tab in one row beside the brand, none scrolled away
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.waitForTimeout(100);
    const wide = await page.$$eval('[role="tab"]', (tabs) => tabs.map((t) => ({ top: Math.round(t.getBoundingClientRect().top), right: t.getBoundingClientRect().right })));
    expect(new Set(wide.map((t) => t.top)).size).toBe(1);
    expect(Math.max(...wide.map((t) => t.right))).toBeLessThanOrEqual(1280);
    expect(await page.$eval('[role="tablist"]', (bar) => bar.scrollWidth - bar.clientWidth)).toBeLessThanOrEqual(0);
    await saveScreenshot(page, 'wide-1280-explain-tab');
    await page.setViewportSize({ width: 1024, height: 768 });

    await page.click('[data-testid="tab-explain"]');
    await page.waitForTimeout(300);
    await saveScreenshot(page, 'narrow-explain-tab');
    expect(ui.errors).toEqual([]);
  }, 60_000);
});
