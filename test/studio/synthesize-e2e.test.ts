/// <reference lib="dom" />
// End-to-end test of the studio's "Make images" tab: the real server in-process, the built page
// in Debian's Chromium (playwright-core), as test/studio/e2e.test.ts does. Runs feature
// visualization and an adversarial example, checks the pictures are drawn, cancels a long job,
// and saves screenshots in test-artifacts/studio/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createStudio } from '../../src/interfaces/server/app.js';
import { openStudioPage, type StudioPage } from './browser.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';


const engine = new Engine(nodeBackend(), { threads: 2 });
const studio = await createStudio({ engine });
let browser: StudioPage | undefined;
let page: Page;
let pageErrors: string[] = [];

async function shot(name: string): Promise<void> {
  await browser?.shot(name);
}

/** Natural size and pixel spread of a rendered <img>. */
async function imageStats(selector: string): Promise<{ width: number; height: number; std: number }> {
  await page.waitForSelector(selector, { state: 'visible' });
  await page.waitForFunction((s) => {
    const i = document.querySelector(s) as HTMLImageElement | null;
    return !!i && i.complete && i.naturalWidth > 0;
  }, selector);
  return page.$eval(selector, (el) => {
    const img = el as HTMLImageElement;
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    let q = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      const l = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
      s += l;
      q += l * l;
    }
    const m = s / n;
    return { width: c.width, height: c.height, std: Math.sqrt(Math.max(0, q / n - m * m)) };
  });
}

beforeAll(async () => {
  browser = await openStudioPage(studio);
  ({ page, errors: pageErrors } = browser);
  await page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await studio.app.close();
  await engine.dispose();
});

describe('Make images tab in Chromium', () => {
  it('runs a class visualization: ten labelled images with predictions, the steps and a GIF', async () => {
    await page.click('[data-testid="tab-synth"]');
    await page.waitForSelector('[data-testid="panel-synth"]', { state: 'visible' });
    await page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
    await page.fill('[data-testid="synth-objective"]', 'class:*');
    await page.fill('[data-testid="synth-steps"]', '24');
    await page.click('[data-testid="synth-run"]');
    await page.waitForSelector('[data-testid="synth-image-9"]', { timeout: 60_000 });
    const captions = await page.locator('[data-testid="synth-images"] figcaption b').allTextContents();
    expect(captions).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    const s = await imageStats('[data-testid="synth-image-1"] img');
    expect(s.width).toBeGreaterThanOrEqual(112);
    expect(s.std, 'the visualization has structure').toBeGreaterThan(10);
    expect(await page.locator('[data-testid="synth-frames"] img').count()).toBeGreaterThanOrEqual(3);
    await imageStats('[data-testid="synth-gif"]');
    await shot('10-featviz');
  });

  it('makes an adversarial example for the chosen image and shows the perturbation amplified', async () => {
    await page.click('[data-testid="image-fashion-mnist/ankle-boot-test0.png"]');
    await page.click('[data-testid="synth-kind"] button:has-text("Adversarial")');
    await page.fill('[data-testid="synth-epsilon"]', '12');
    await page.click('[data-testid="synth-run"]');
    await page.waitForSelector('[data-testid="synth-image-2"] figcaption b:has-text("adversarial")', { timeout: 60_000 });
    const texts = await page.locator('[data-testid="synth-images"] figcaption').allInnerTexts();
    expect(texts[0]).toContain('Ankle boot');
    expect(texts[1]).toMatch(/L∞ 12\.0\/255/);
    expect(texts[2]).not.toContain('Ankle boot');
    const pert = await imageStats('[data-testid="synth-image-1"] img');
    expect(pert.std).toBeGreaterThan(10);
    await shot('11-adversarial');
  });

  it('shows progress for a long job and cancels it; the page stays usable', async () => {
    await page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
    await page.fill('[data-testid="synth-steps"]', '4000');
    await page.click('[data-testid="synth-run"]');
    await page.waitForSelector('[data-testid="synth-progress"]');
    await page.waitForFunction(() => /\d+\/4000/.test(document.querySelector('[data-testid="synth-phase"]')?.textContent ?? ''));
    await page.click('[data-testid="synth-cancel"]');
    await page.waitForSelector('[data-testid="synth-notice"]:has-text("Cancelled")');
    expect(await page.isVisible('[data-testid="synth-progress"]')).toBe(false);
    expect(await page.isVisible('[data-testid="synth-error"]')).toBe(false);
    // the previous result is still shown
    expect(await page.locator('[data-testid="synth-images"] img').count()).toBe(3);
    await shot('12-synth-cancelled');
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
