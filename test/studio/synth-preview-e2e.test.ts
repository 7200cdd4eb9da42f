/// <reference lib="dom" />
// "Make images" shows the image while it is optimized: the frames a feature visualization or a
// style transfer keeps for its strip arrive as the job runs (test/server/synth-preview.test.ts),
// and the page draws the latest one with its step in place of the spinner. Screenshots: see
// test/support/screenshots.ts.
import { describe, expect, it } from 'vitest';
import { loadBuiltinModel } from '../../src/models/load.js';
import { saveScreenshot } from '../support/screenshots.js';
import { pixelStats, studioInChromium } from './browser.js';

const ui = studioInChromium({
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' }).then(() => undefined),
});

describe('Make images: the image as it is optimized (Chromium)', () => {
  it('draws the latest kept frame while the job runs', async () => {
    const { page } = ui;
    await page.click('[data-testid="tab-synth"]');
    await page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
    await page.fill('[data-testid="synth-objective"]', 'class:3');
    await page.fill('[data-testid="synth-steps"]', '2000');
    await page.click('[data-testid="synth-run"]');
    if (await page.isVisible('[data-testid="synth-confirm-run"]')) await page.click('[data-testid="synth-confirm-run"]');
    await page.waitForSelector('[data-testid="synth-progress"]');
    // a frame past the start, shown while the job still runs (its progress bar is there)
    await page.waitForFunction(() => /step ([1-9]\d*) of 2000/.test(document.querySelector('[data-testid="synth-preview-step"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await page.isVisible('[data-testid="synth-progress"]')).toBe(true);
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="synth-preview"] img') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth > 0;
    });
    const stats = await pixelStats(page, '[data-testid="synth-preview"] img');
    expect(stats.std, 'the preview is a picture, not a flat tile').toBeGreaterThan(5);
    await saveScreenshot(page, '4-synth-preview-running', { fullPage: true });
    await page.click('[data-testid="synth-cancel"]');
    await page.waitForSelector('[data-testid="synth-notice"]');
    expect(await page.isVisible('[data-testid="synth-preview"]')).toBe(false);
    expect(ui.errors).toEqual([]);
  });

  it("names the class a class:* preview shows (each batch's first image)", async () => {
    const { page } = ui;
    await page.click('[data-testid="tab-synth"]');
    await page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
    await page.fill('[data-testid="synth-objective"]', 'class:*');
    await page.fill('[data-testid="synth-steps"]', '2000');
    await page.click('[data-testid="synth-run"]');
    if (await page.isVisible('[data-testid="synth-confirm-run"]')) await page.click('[data-testid="synth-confirm-run"]');
    await page.waitForSelector('[data-testid="synth-preview-label"]', { timeout: 60_000 });
    expect(await page.isVisible('[data-testid="synth-progress"]')).toBe(true);
    // the built-in model's ten classes fit one batch: its first image is class 0's
    const labels = loadBuiltinModel(ui.engine).labels;
    expect(await page.textContent('[data-testid="synth-preview-label"]')).toBe(`class 0 (${labels[0]}), the first of ${labels.length} in this batch`);
    expect(await page.getAttribute('[data-testid="synth-preview"] img', 'alt')).toMatch(new RegExp(`^class 0 \\(.+\\).* at step \\d+$`));
    await saveScreenshot(page, '6-class-preview-running', { fullPage: true });
    await page.click('[data-testid="synth-cancel"]');
    await page.waitForSelector('[data-testid="synth-notice"]');
    expect(ui.errors).toEqual([]);
  });

  it('draws style transfer as it optimizes too, a frame past the start while the job runs', async () => {
    const { page } = ui;
    await page.click('[data-testid="tab-synth"]');
    await page.click('[data-testid="synth-kind"] button:has-text("Style / texture")');
    await page.selectOption('[data-testid="synth-content"]', 'photos/chelsea.png');
    await page.selectOption('[data-testid="synth-style"]', 'textures/brick.png');
    await page.click('[data-testid="synth-run"]');
    if (await page.isVisible('[data-testid="synth-confirm-run"]')) await page.click('[data-testid="synth-confirm-run"]');
    await page.waitForSelector('[data-testid="synth-progress"]');
    // the form's 100 L-BFGS steps keep 5 frames: one past the start, while the job still runs (or
    // the job's end, when none came while it ran)
    await page.waitForFunction(() => /step ([1-9]\d*) of 100/.test(document.querySelector('[data-testid="synth-preview-step"]')?.textContent ?? '') || !document.querySelector('[data-testid="synth-progress"]'), undefined, { timeout: 100_000 });
    expect(await page.evaluate(() => document.querySelector('[data-testid="synth-preview-step"]')?.textContent ?? 'no preview')).toMatch(/step ([1-9]\d*) of 100/);
    expect(await page.isVisible('[data-testid="synth-progress"]')).toBe(true);
    const stats = await pixelStats(page, '[data-testid="synth-preview"] img');
    expect(stats.std, 'the preview is a picture, not a flat tile').toBeGreaterThan(5);
    await saveScreenshot(page, '5-style-preview-running', { fullPage: true });
    await page.click('[data-testid="synth-cancel"]');
    await page.waitForSelector('[data-testid="synth-notice"]');
    expect(ui.errors).toEqual([]);
  });

  it('draws an adversarial (PGD) attack as it runs: the perturbation, amplified, growing (SqueezeNet)', async () => {
    const { page } = ui;
    await page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await page.click('[data-testid="image-photos/chelsea.png"]');
    await page.waitForSelector('[data-testid="image-photos/chelsea.png"][aria-pressed="true"]');
    await page.click('[data-testid="tab-synth"]');
    await page.click('[data-testid="synth-kind"] button:has-text("Adversarial")');
    await page.fill('[data-testid="synth-epsilon"]', '8');
    await page.click('[data-testid="synth-run"]');
    if (await page.isVisible('[data-testid="synth-confirm-run"]')) await page.click('[data-testid="synth-confirm-run"]');
    await page.waitForSelector('[data-testid="synth-progress"]');
    // a frame past the start while the attack still runs (40 PGD steps on SqueezeNet: seconds each here)
    await page.waitForFunction(() => /step ([1-9]\d*) of 40/.test(document.querySelector('[data-testid="synth-preview-step"]')?.textContent ?? ''), undefined, { timeout: 120_000 });
    expect(await page.isVisible('[data-testid="synth-progress"]')).toBe(true);
    expect(await page.textContent('[data-testid="synth-preview-label"]')).toBe('perturbation, amplified ×16');
    await page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="synth-preview"] img') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth > 0;
    });
    const stats = await pixelStats(page, '[data-testid="synth-preview"] img');
    expect(stats.std, 'a perturbation past the start is not flat grey').toBeGreaterThan(5);
    await saveScreenshot(page, '7-adversarial-preview-running', { fullPage: true });
    await page.click('[data-testid="synth-cancel"]');
    await page.waitForSelector('[data-testid="synth-notice"]');
    expect(ui.errors).toEqual([]);
  }, 180_000);
});
