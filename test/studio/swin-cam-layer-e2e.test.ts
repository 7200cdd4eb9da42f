/// <reference lib="dom" />
// The CAM layer picker on a Swin-like model: it listed every 4-D value, the attention inside
// its windows too ([N * windows, heads, positions, positions]), which --layer refuses as cut
// into windows. Now it lists the maps a CAM reads (the summary's camMap): the patch embedding
// and the block's channels-last map, not the attention's values.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { swinLike } from '../support/unseen-models.js';
import { studioInChromium } from './browser.js';

const ui = studioInChromium({ timeout: 60_000 });
const IMAGE = 'photos/coffee.png';

describe('the CAM layer picker on a Swin-like model (Chromium)', () => {
  it('lists the maps a CAM reads and not the values inside the window attention', async () => {
    const { page } = ui;
    const swin = ui.studio.models.addUpload('swin-like.onnx', encodeModel(swinLike(16, 8, 2, 2, 10, 3)));
    await page.reload();
    await page.waitForSelector(`[data-testid="model-select"] option[value="${swin.id}"]`, { state: 'attached' });
    await page.selectOption('[data-testid="model-select"]', swin.id);
    await page.click(`[data-testid="image-${IMAGE}"]`);
    await page.click('[data-testid="tab-explain"]');
    await page.waitForSelector('[data-testid="method-gradcam"]');
    await page.setChecked('[data-testid="method-gradcam"]', true);
    await page.click('[data-testid="explain-layer"]');
    const list = page.locator('[data-testid="explain-layer-list"] li[role="option"]');
    await expect.poll(() => list.count()).toBeGreaterThan(1);
    const values = await list.evaluateAll((items) => items.map((li) => li.getAttribute('data-value')));
    expect(values).toContain('patch_embed');
    expect(values).toContain('block');
    for (const v of ['attn.scores', 'attn.softmax', 'attn.mixed']) expect(values).not.toContain(v);
    if (screenshotsWanted()) await saveScreenshot(page, 'swin-cam-layers', { fullPage: true });
    expect(ui.errors).toEqual([]);
  }, 120_000);
});
