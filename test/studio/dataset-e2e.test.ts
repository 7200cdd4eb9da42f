/// <reference lib="dom" />
// End-to-end test of the studio's dataset lens: the real server in-process (stores in a
// temporary folder), the built page in Debian's headless Chromium via playwright-core. Indexes
// the committed Fashion-MNIST subset from the page, then checks the top patches (also opened by
// clicking a unit in the feature-map view), the neighbours and the embedding plot (zoom, hover).
// Screenshots go where CONVLENS_TEST_SHOTS asks (test/support/screenshots.ts).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveScreenshot } from '../support/screenshots.js';
import { pixelStats, studioInChromium } from './browser.js';
import { tempFolder } from '../support/temp-folder.js';

const stores = tempFolder('convlens-e2e-stores-');
const ui = studioInChromium({
  setup: () => void (process.env['CONVLENS_STORES'] = stores),
  teardown: () => {
    rmSync(stores, { recursive: true, force: true });
    delete process.env['CONVLENS_STORES'];
  },
});

async function imagesLoaded(selector: string): Promise<number> {
  await ui.page.waitForFunction((sel) => {
    const imgs = [...document.querySelectorAll(`${sel} img`)] as HTMLImageElement[];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, selector);
  return ui.page.locator(`${selector} img`).count();
}

describe('dataset lens in the studio (Chromium)', () => {
  it('indexes the Fashion-MNIST subset from the page and shows a channel\'s top patches', async () => {
    await ui.page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' });
    await ui.page.click('[data-testid="tab-dataset"]');
    await ui.page.waitForSelector('[data-testid="panel-dataset"]', { state: 'visible' });
    await ui.page.click('[data-testid="index-subset"]');
    await ui.page.waitForSelector('[data-testid="store-info"]', { timeout: 90_000 });
    expect(await ui.page.textContent('[data-testid="store-info"]')).toMatch(/2000 images · layers relu3 \(64@7×7\), relu4 \(128@3×3\)/);
    await ui.page.waitForSelector('[data-testid="patch-grid"]');
    // 8 patches, each with its crop and guided-backprop map
    expect(await imagesLoaded('[data-testid="patch-grid"]')).toBe(16);
    const { stores: list } = (await (await fetch(`${ui.base}/api/dataset/stores`)).json()) as { stores: { id: string }[] };
    expect(list).toHaveLength(1);
    const top = (await (await fetch(`${ui.base}/api/dataset/stores/${list[0]!.id}/top?layer=relu4&channel=0&k=8`)).json()) as { patches: { value: number; image: number }[] };
    expect(await ui.page.getAttribute('[data-testid="patch-0"]', 'title')).toContain(`image #${top.patches[0]!.image}`);
    await ui.shot('dataset-patches');
  });

  it('opens a channel\'s top patches from a unit clicked in the feature-map view', async () => {
    await ui.page.click('[data-testid="tab-network"]');
    await ui.page.click('[data-testid="layer-relu3"]');
    await ui.page.click('[data-testid="channel-5"]');
    await ui.page.click('[data-testid="unit-hover"]', { position: { x: 100, y: 100 } });
    await ui.page.waitForSelector('[data-testid="panel-dataset"]', { state: 'visible' });
    await ui.page.waitForFunction(() => document.querySelector('[data-testid="dataset-patches"]')?.textContent?.includes('relu3 channel 5'));
    expect(await ui.page.$eval('[data-testid="patches-channel"]', (e) => (e as HTMLInputElement).value)).toBe('5');
    expect(await imagesLoaded('[data-testid="patch-grid"]')).toBe(16);
    expect(await ui.page.textContent('[data-testid="dataset-patches"]')).toContain('18×18 px receptive field');
  });

  it('finds neighbours in feature space and in pixel space', async () => {
    await ui.page.fill('[data-testid="nn-index"]', '7');
    await ui.page.click('[data-testid="nn-run"]');
    await ui.page.waitForSelector('[data-testid="nn-results"]');
    expect(await imagesLoaded('[data-testid="nn-feature"]')).toBe(8);
    expect(await imagesLoaded('[data-testid="nn-pixel"]')).toBe(8);
    expect(await ui.page.textContent('[data-testid="nn-results"]')).toMatch(/ms \((vector index|flat scan)\)/);
    await saveScreenshot(ui.page.locator('[data-testid="dataset-neighbours"]'), 'dataset-neighbours');
  });

  it('draws an embedding that zooms and shows the image under the cursor', async () => {
    await ui.page.selectOption('[data-testid="embed-sample"]', '300');
    await ui.page.click('[data-testid="embed-run"]');
    const canvas = ui.page.locator('[data-testid="embed-canvas"]');
    await canvas.waitFor({ timeout: 60_000 });
    expect(await canvas.getAttribute('data-points')).toBe('300');
    expect((await pixelStats(ui.page, '[data-testid="embed-canvas"]')).distinct).toBeGreaterThan(10); // ten class colours on white
    // hover over a drawn point: find a coloured pixel in the canvas itself, so the test does not
    // depend on where the layout puts the plot (it can sit below the fold)
    await canvas.scrollIntoViewIfNeeded();
    const point = await canvas.evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      const r = c.getBoundingClientRect();
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! > 0 && data[i]! + data[i + 1]! + data[i + 2]! < 600) {
          const px = (i / 4) % c.width;
          const py = Math.floor(i / 4 / c.width);
          return { x: (px + 0.5) * (r.width / c.width), y: (py + 0.5) * (r.height / c.height) };
        }
      }
      return null;
    });
    expect(point).not.toBeNull();
    const box = (await canvas.boundingBox())!;
    expect(box.y + point!.y).toBeLessThan(900); // in the viewport after scrolling
    await ui.page.mouse.move(box.x + point!.x, box.y + point!.y);
    const found = await ui.page
      .locator('[data-testid="embed-hover"]')
      .waitFor({ timeout: 5_000 })
      .then(() => true, () => false);
    expect(found).toBe(true);
    await ui.page.waitForFunction(() => {
      const img = document.querySelector('[data-testid="embed-hover"] img') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth === 28;
    });
    await ui.page.mouse.wheel(0, -300);
    await ui.page.waitForFunction(() => /zoom ×1\.[2-9]/.test(document.querySelector('[data-testid="dataset-embedding"]')?.textContent ?? ''));
    await saveScreenshot(ui.page.locator('[data-testid="dataset-embedding"]'), 'dataset-embedding');
    expect(ui.errors).toEqual([]);
  });

  it('deletes the index from disk after asking, and offers to index again', async () => {
    const { stores: list } = (await (await fetch(`${ui.base}/api/dataset/stores`)).json()) as { stores: { id: string }[] };
    expect(list).toHaveLength(1);
    let asked = '';
    ui.page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await ui.page.click('[data-testid="store-delete"]');
    await ui.page.waitForSelector('[data-testid="dataset-no-index"]', { timeout: 30_000 });
    expect(asked).toMatch(/^Delete the index ".*" \(2000 images\) from disk\?/);
    expect(existsSync(join(stores, list[0]!.id))).toBe(false);
    expect((await (await fetch(`${ui.base}/api/dataset/stores`)).json()).stores).toEqual([]);
    expect(ui.errors).toEqual([]);
  });
});
