/// <reference lib="dom" />
// The CAM layer picker on a vision transformer: CAM-type methods read a ViT's tokens as their
// patch grid's map (models/token-grid.ts), and --layer takes any block's, but the picker listed
// 4-D maps alone (on a ViT, only the patch embedding, which comes before attention), so a studio
// user had the default tokens or nothing. Now the token layers are listed as --layer takes them,
// the default among them with its badge, and the map is the picked block's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { studioInChromium } from './browser.js';

const ui = studioInChromium({ timeout: 60_000 });
const IMAGE = 'photos/coffee.png';
const block = (k: number): string => `encoder/layers/encoder_layer_${k}/ln_1`;

interface Explained {
  maps: { method: string; params: { layer?: string }; raw: { dims: number[]; data: string } }[];
}

async function result(job: string): Promise<Explained> {
  const events = await (await fetch(`${ui.base}/api/jobs/${job}/events`, { headers: { [TOKEN_HEADER]: ui.studio.access.token } })).text();
  const last = events.split('\n\n').filter((c) => c.includes('data: ')).at(-1)!;
  const event = JSON.parse(last.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { type: string; result: Explained };
  expect(event.type).toBe('result');
  return event.result;
}

async function apiExplain(body: Record<string, unknown>): Promise<Explained> {
  const post = await fetch(`${ui.base}/api/explain`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token } });
  expect(post.status).toBe(202);
  return result(((await post.json()) as { job: string }).job);
}

describe('the CAM layer picker on a vision transformer (Chromium)', () => {
  it("lists the blocks' token layers as --layer takes them, and Grad-CAM runs at the one picked", async () => {
    const { page } = ui;
    const vit = ui.studio.models.addUpload('vit.onnx', readFileSync(join(import.meta.dirname, '..', 'fixtures', 'vit-cam', 'model.onnx')));
    await page.reload();
    await page.waitForSelector(`[data-testid="model-select"] option[value="${vit.id}"]`, { state: 'attached' });
    await page.selectOption('[data-testid="model-select"]', vit.id);
    await page.click(`[data-testid="image-${IMAGE}"]`);
    await page.waitForSelector(`[data-testid="image-${IMAGE}"][aria-pressed="true"]`);
    await page.click('[data-testid="tab-explain"]');
    await page.waitForSelector('[data-testid="method-gradcam"]');
    for (const box of await page.$$('input[data-testid^="method-"]')) {
      const id = (await box.getAttribute('data-testid'))!.slice('method-'.length);
      if (await box.isEnabled()) await box.setChecked(id === 'gradcam');
    }
    await page.setChecked('[data-testid="explain-metrics"]', false);

    // the default is the profile's: the tokens the last attention reads
    await expect.poll(() => page.inputValue('[data-testid="explain-layer"]')).toBe(block(1));
    await page.click('[data-testid="explain-layer"]');
    const list = page.locator('[data-testid="explain-layer-list"] li[role="option"]');
    await expect.poll(() => list.count()).toBeGreaterThan(2);
    const values = await list.evaluateAll((items) => items.map((li) => li.getAttribute('data-value')));
    expect(values).toContain(block(0));
    expect(values).toContain(block(1));
    const defaultOption = page.locator(`[data-testid="explain-layer-list"] li[data-value="${block(1)}"]`);
    expect(await defaultOption.textContent()).toContain('CAM layer');
    expect(await defaultOption.textContent()).toContain('tokens as a 16×4×4 map');
    if (screenshotsWanted()) {
      await page.keyboard.press('Control+A');
      await page.keyboard.type('ln_1');
      await page.waitForSelector(`[data-testid="explain-layer-list"] li[data-value="${block(1)}"]`);
      await saveScreenshot(page, 'token-layers', { fullPage: true });
    }

    // another block's tokens, picked by typing
    await page.keyboard.press('Control+A');
    await page.keyboard.type('encoder_layer_0/ln_1');
    await page.waitForSelector(`[data-testid="explain-layer-list"] li[data-value="${block(0)}"]`);
    await page.click(`[data-testid="explain-layer-list"] li[data-value="${block(0)}"]`);
    expect(await page.inputValue('[data-testid="explain-layer"]')).toBe(block(0));

    const started = page.waitForResponse((r) => r.url().endsWith('/api/explain') && r.request().method() === 'POST');
    await page.click('[data-testid="explain-run"]');
    const { job } = (await (await started).json()) as { job: string };
    const shown = (await result(job)).maps.find((m) => m.method === 'gradcam')!;
    await page.waitForSelector('[data-testid="overlay-gradcam"]', { timeout: 60_000 });
    const wanted = (await apiExplain({ model: vit.id, image: IMAGE, methods: ['gradcam'], metrics: false, layer: block(0) })).maps[0]!;
    const byDefault = (await apiExplain({ model: vit.id, image: IMAGE, methods: ['gradcam'], metrics: false })).maps[0]!;
    expect(shown.raw.dims).toEqual([1, 1, 4, 4]);
    expect(shown.params.layer).toBe(wanted.params.layer);
    expect(shown.raw.data).toBe(wanted.raw.data);
    expect(shown.raw.data).not.toBe(byDefault.raw.data);
    expect(await page.textContent('[data-testid="npy-gradcam"]')).toContain('[1×1×4×4]');
    if (screenshotsWanted()) await saveScreenshot(page.getByTestId('map-gradcam'), 'block-0-gradcam');
    expect(ui.errors).toEqual([]);
  }, 180_000);
});
