/// <reference lib="dom" />
// End-to-end test of the studio's Diffusion tab: the real server in-process, the built page
// (dist/web) in Debian's headless Chromium driven by playwright-core. It fills in the prompt,
// negative prompt, steps, guidance, seed and count, runs the job, checks that the live
// denoising view appeared while it ran, that the samples and the frame viewer are drawn, and that
// an unmappable prompt shows the server's error with the known prompts. Screenshots go where
// CONVLENS_TEST_SHOTS asks (test/support/screenshots.ts).
import { describe, expect, it } from 'vitest';
import { pixelStats, setRange, studioInChromium } from './browser.js';

const ui = studioInChromium();

async function fill(testId: string, value: string): Promise<void> {
  await ui.page.fill(`[data-testid="${testId}"]`, value);
}

describe('studio: diffusion tab in Chromium', () => {
  it('generates images for a prompt, showing the denoising live, then the samples and every recorded step', async () => {
    await ui.page.click('[data-testid="tab-diffusion"]');
    await ui.page.waitForSelector('[data-testid="panel-diffusion"]', { state: 'visible' });
    // The class names of the denoiser are offered as prompts.
    await ui.page.waitForSelector('[data-testid="diffusion-classes"] button');
    expect(await ui.page.locator('[data-testid="diffusion-classes"] button').allTextContents()).toContain('Ankle boot');

    await ui.page.click('[data-testid="diffusion-classes"] button:has-text("Trouser")');
    expect(await ui.page.inputValue('[data-testid="diffusion-prompt"]')).toBe('Trouser');
    await fill('diffusion-negative', 'dress');
    await fill('diffusion-steps', '100');
    await fill('diffusion-guidance', '3');
    await fill('diffusion-seed', '7');
    await fill('diffusion-count', '4');
    // Record whether the live view shows up while the job runs.
    await ui.page.evaluate(() => {
      const w = window as unknown as { sawLive: number };
      w.sawLive = 0;
      new MutationObserver(() => {
        const label = document.querySelector('[data-testid="diffusion-live-frame-label"]');
        if (label) w.sawLive++;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await ui.page.click('[data-testid="diffusion-run"]');
    await ui.page.waitForSelector('[data-testid="diffusion-results"]', { timeout: 90_000 });
    expect(await ui.page.evaluate(() => (window as unknown as { sawLive: number }).sawLive)).toBeGreaterThan(0);

    const title = await ui.page.textContent('[data-testid="diffusion-results"] h2');
    expect(title).toContain('Trouser');
    expect(title).toContain('not Dress');
    expect(await ui.page.textContent('[data-testid="diffusion-results"]')).toContain('100 steps · guidance 3 · seed 7');
    // Four decoded samples, not flat.
    await ui.page.waitForFunction(() => [...document.querySelectorAll('[data-testid^="diffusion-image-"]')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 28));
    expect(await ui.page.locator('[data-testid^="diffusion-image-"]').count()).toBe(4);
    const sample = await pixelStats(ui.page, '[data-testid="diffusion-image-0"]');
    expect(sample.max - sample.min).toBeGreaterThan(100);
    // The frame viewer ends on the last step; moving the slider to 0 shows the first (t = 990, pure noise in).
    expect(await ui.page.textContent('[data-testid="diffusion-frame-label"]')).toContain('step 100/100');
    await setRange(ui.page, '[data-testid="diffusion-frame-slider"]', 0);
    expect(await ui.page.textContent('[data-testid="diffusion-frame-label"]')).toContain('step 1/100 · t = 990');
    expect(await ui.page.locator('[data-testid="diffusion-frame"] img').count()).toBe(8);
    expect(await ui.page.getAttribute('[data-testid="diffusion-gif"]', 'href')).toMatch(/^data:image\/gif;base64,R0lGOD/);
    await ui.shot('diffusion-01-samples');
  });

  it('shows the server\'s error for a prompt the model cannot map', async () => {
    await fill('diffusion-prompt', 'a spaceship');
    await ui.page.click('[data-testid="diffusion-run"]');
    await ui.page.waitForSelector('[data-testid="diffusion-error"]');
    const text = await ui.page.textContent('[data-testid="diffusion-error"]');
    expect(text).toContain('Cannot map the prompt "a spaceship"');
    expect(text).toContain('Ankle boot');
    await ui.shot('diffusion-02-error');
    expect(ui.errors).toEqual([]);
  });
});
