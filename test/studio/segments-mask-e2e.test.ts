/// <reference lib="dom" />
// A segments mask from the studio's Explain panel: "my mask (PNG)" as the segmentation, a PNG
// uploaded, its segments shown over the image, and feature ablation and LIME run over them. A
// 16-bit mask is refused with the reason, in the studio's words (no CLI flags). Screenshots:
// see test/support/screenshots.ts.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { pixelStats, studioInChromium } from './browser.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { tempFolder } from '../support/temp-folder.js';

// a data folder with a mask in it (masks/halves-mask.png: the bag's top and bottom halves) and an image beside it
const DATA = tempFolder('convlens-mask-data-');
const ui = studioInChromium({
  timeout: 30_000,
  studio: { dataRoots: [DATA] },
  setup: () => {
    mkdirSync(join(DATA, 'masks'));
    const halves = Uint8Array.from({ length: 28 * 28 }, (_, p) => (p < 14 * 28 ? 40 : 200));
    writeFileSync(join(DATA, 'masks', 'halves-mask.png'), encodePng({ width: 28, height: 28, depth: 8, channels: 1, data: halves }));
    writeFileSync(join(DATA, 'notes.txt'), 'not a mask');
  },
  teardown: () => rmSync(DATA, { recursive: true, force: true }),
});
const BAG = 'fashion-mnist/bag-test18.png';

async function shot(name: string): Promise<void> {
  if (!screenshotsWanted()) return;
  await ui.page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(ui.page, name, { fullPage: true });
}

/** 280x280 (ten times the bag image): a red disc, a green left band, blue elsewhere: 3 segments. */
async function maskPng(): Promise<Buffer> {
  const n = 280;
  const px = Buffer.alloc(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) px.set(Math.hypot(y - 150, x - 160) < 70 ? [230, 30, 30] : x < 90 ? [30, 200, 30] : [30, 60, 230], (y * n + x) * 3);
  return sharp(px, { raw: { width: n, height: n, channels: 3 } }).png().toBuffer();
}

describe('segments masks in the studio (Chromium)', () => {
  it('uploads a mask, shows its segments over the image, and runs feature ablation and LIME over them', async () => {
    await ui.page.click(`[data-testid="image-${BAG}"]`);
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="method-feature-ablation"]');
    for (const box of await ui.page.$$('[data-testid^="method-"]')) {
      const id = (await box.getAttribute('data-testid'))!.slice('method-'.length);
      if (await box.isEnabled()) await box.setChecked(id === 'feature-ablation' || id === 'lime');
    }
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    await ui.page.selectOption('[data-testid="segmentation"]', 'mask');
    expect(await ui.page.isVisible('[data-testid="segment-count"]')).toBe(false);

    // a 16-bit label map is refused, with the reason and no CLI flag
    const labels16 = Uint16Array.from({ length: 28 * 28 }, (_, p) => Number(p % 28 >= 14));
    await ui.page.setInputFiles('[data-testid="segments-mask-file"]', { name: 'labels16.png', mimeType: 'image/png', buffer: Buffer.from(encodePng({ width: 28, height: 28, depth: 16, channels: 1, data: labels16 })) });
    const refusal = await ui.page.waitForSelector('[data-testid="segments-mask-error"]');
    const text = (await refusal.textContent()) ?? '';
    expect(text).toMatch(/16 bits per sample/);
    expect(text).not.toMatch(/--[a-z]/);
    await shot('01-mask-refused-16bit');

    await ui.page.setInputFiles('[data-testid="segments-mask-file"]', { name: 'disc.png', mimeType: 'image/png', buffer: await maskPng() });
    await expect.poll(() => ui.page.textContent('[data-testid="segments-mask-info"]')).toMatch(/disc: 3 segments, 280×280/);
    expect(await ui.page.isVisible('[data-testid="segments-mask-error"]')).toBe(false);
    const overlay = await pixelStats(ui.page, '[data-testid="segments-mask-overlay"]');
    expect(overlay.distinct).toBeGreaterThan(3);
    await ui.page.locator('[data-testid="segments-mask-overlay"]').scrollIntoViewIfNeeded();
    await shot('02-mask-uploaded');

    await ui.page.fill('[data-testid="segment-samples"]', '30');
    const sent = ui.page.waitForRequest((r) => r.url().endsWith('/api/explain') && r.method() === 'POST');
    await ui.page.click('[data-testid="explain-run"]');
    const body = (await sent).postDataJSON() as { params: { segments: Record<string, unknown> } };
    expect(body.params.segments).toEqual({ samples: 30, baseline: 'zero', mask: expect.stringMatching(/^mask\//) });
    await ui.page.waitForSelector('[data-testid="map-lime"]', { timeout: 60_000 });
    await ui.page.waitForSelector('[data-testid="map-feature-ablation"]');
    await expect.poll(() => ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    // each segment method's card names the mask its segments came from, and their count
    for (const m of ['feature-ablation', 'lime']) {
      expect(await ui.page.textContent(`[data-testid="segments-${m}"]`)).toBe('segments: disc, 3 segments');
    }
    await ui.page.locator('[data-testid="map-lime"]').scrollIntoViewIfNeeded();
    await shot('03-mask-explained');

    expect(ui.errors).toEqual([]);
  });

  it('draws the mask once, in the segments box only: not again under DeepLIFT, nor there once no segment method is ticked', async () => {
    // (continues from the run above: the disc mask uploaded, feature ablation and LIME ticked)
    // DeepLIFT's options are its baseline alone: the mask showed again under them, and there alone
    await ui.page.setChecked('[data-testid="method-deeplift"]', true);
    await ui.page.waitForSelector('[data-testid="deeplift-baseline"]');
    expect(await ui.page.locator('[data-testid="segments-mask-overlay"]').count()).toBe(1);
    await shot('04-mask-beside-deeplift');
    for (const m of ['feature-ablation', 'lime']) await ui.page.setChecked(`[data-testid="method-${m}"]`, false);
    await expect.poll(() => ui.page.locator('[data-testid="segmentation"]').count()).toBe(0);
    expect(await ui.page.locator('[data-testid="segments-mask-overlay"]').count()).toBe(0);
    expect(ui.errors).toEqual([]);
  });

  it('takes a mask from the data folders: the PNGs there are listed, masks first, and the one picked is read by the server', async () => {
    await ui.page.setChecked('[data-testid="method-lime"]', true);
    await ui.page.selectOption('[data-testid="segmentation"]', 'mask');
    await ui.page.click('[data-testid="segments-mask-path"]');
    const list = ui.page.locator('[data-testid="segments-mask-path-list"] li[role="option"]');
    await expect.poll(() => list.count()).toBeGreaterThan(1);
    // the mask-named file first; the sample photos are PNGs too, but never the text file
    expect(await list.first().getAttribute('data-value')).toBe(join(DATA, 'masks', 'halves-mask.png'));
    expect(await ui.page.textContent('[data-testid="segments-mask-path-list"]')).not.toMatch(/notes\.txt/);
    await ui.page.fill('[data-testid="segments-mask-path"]', 'halves');
    const sent = ui.page.waitForRequest((r) => r.url().endsWith('/api/masks') && r.method() === 'POST');
    await ui.page.click('[data-testid="segments-mask-path-list"] li[role="option"]');
    expect((await sent).postDataJSON()).toEqual({ path: join(DATA, 'masks', 'halves-mask.png') });
    await expect.poll(() => ui.page.textContent('[data-testid="segments-mask-info"]')).toMatch(/halves-mask: 2 segments, 28×28/);
    expect(await pixelStats(ui.page, '[data-testid="segments-mask-overlay"]').then((s) => s.distinct)).toBeGreaterThan(2);
    await ui.page.locator('[data-testid="segments-mask-overlay"]').scrollIntoViewIfNeeded();
    await shot('04-mask-from-data-folder');
    expect(ui.errors).toEqual([]);
  });
});
