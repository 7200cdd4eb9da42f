/// <reference lib="dom" />
// End-to-end test of the studio's Diffusion tab: the real server in-process, the built page
// (dist/web) in Debian's headless Chromium driven by playwright-core. It fills in the prompt,
// negative prompt, steps, guidance, seed and count, runs the job, checks that the live
// denoising view appeared while it ran, that the samples and the frame viewer are drawn, and that
// an unmappable prompt shows the server's error with the known prompts. Screenshots go to
// test-artifacts/studio/.
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

async function fill(testId: string, value: string): Promise<void> {
  await page.fill(`[data-testid="${testId}"]`, value);
}

beforeAll(async () => {
  browser = await openStudioPage(studio);
  ({ page, errors: pageErrors } = browser);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await studio.app.close();
  await engine.dispose();
});

describe('studio: diffusion tab in Chromium', () => {
  it('generates images for a prompt, showing the denoising live, then the samples and every recorded step', async () => {
    await page.click('[data-testid="tab-diffusion"]');
    await page.waitForSelector('[data-testid="panel-diffusion"]', { state: 'visible' });
    // The class names of the denoiser are offered as prompts.
    await page.waitForSelector('[data-testid="diffusion-classes"] button');
    expect(await page.locator('[data-testid="diffusion-classes"] button').allTextContents()).toContain('Ankle boot');

    await page.click('[data-testid="diffusion-classes"] button:has-text("Trouser")');
    expect(await page.inputValue('[data-testid="diffusion-prompt"]')).toBe('Trouser');
    await fill('diffusion-negative', 'dress');
    await fill('diffusion-steps', '100');
    await fill('diffusion-guidance', '3');
    await fill('diffusion-seed', '7');
    await fill('diffusion-count', '4');
    // Record whether the live view shows up while the job runs.
    await page.evaluate(() => {
      const w = window as unknown as { sawLive: number };
      w.sawLive = 0;
      new MutationObserver(() => {
        const label = document.querySelector('[data-testid="diffusion-live-frame-label"]');
        if (label) w.sawLive++;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.click('[data-testid="diffusion-run"]');
    await page.waitForSelector('[data-testid="diffusion-results"]', { timeout: 90_000 });
    expect(await page.evaluate(() => (window as unknown as { sawLive: number }).sawLive)).toBeGreaterThan(0);

    const title = await page.textContent('[data-testid="diffusion-results"] h2');
    expect(title).toContain('Trouser');
    expect(title).toContain('not Dress');
    expect(await page.textContent('[data-testid="diffusion-results"]')).toContain('100 steps · guidance 3 · seed 7');
    // Four decoded samples, not flat.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid^="diffusion-image-"]')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 28));
    expect(await page.locator('[data-testid^="diffusion-image-"]').count()).toBe(4);
    const spread = await page.$eval('[data-testid="diffusion-image-0"]', (el) => {
      const img = el as HTMLImageElement;
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < d.length; i += 4) {
        lo = Math.min(lo, d[i]!);
        hi = Math.max(hi, d[i]!);
      }
      return hi - lo;
    });
    expect(spread).toBeGreaterThan(100);
    // The frame viewer ends on the last step; moving the slider to 0 shows the first (t = 990, pure noise in).
    expect(await page.textContent('[data-testid="diffusion-frame-label"]')).toContain('step 100/100');
    await page.$eval('[data-testid="diffusion-frame-slider"]', (el) => {
      const input = el as HTMLInputElement;
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      set.call(input, '0');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(await page.textContent('[data-testid="diffusion-frame-label"]')).toContain('step 1/100 · t = 990');
    expect(await page.locator('[data-testid="diffusion-frame"] img').count()).toBe(8);
    expect(await page.getAttribute('[data-testid="diffusion-gif"]', 'href')).toMatch(/^data:image\/gif;base64,R0lGOD/);
    await shot('diffusion-01-samples');
  });

  it('shows the server\'s error for a prompt the model cannot map', async () => {
    await fill('diffusion-prompt', 'a spaceship');
    await page.click('[data-testid="diffusion-run"]');
    await page.waitForSelector('[data-testid="diffusion-error"]');
    const text = await page.textContent('[data-testid="diffusion-error"]');
    expect(text).toContain('Cannot map the prompt "a spaceship"');
    expect(text).toContain('Ankle boot');
    await shot('diffusion-02-error');
    expect(pageErrors).toEqual([]);
  });
});
