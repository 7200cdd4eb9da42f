/// <reference lib="dom" />
// Controls that must fit what is loaded, not a default: the class-names placeholder of an
// unlabelled model (it showed ImageNet's "tench, goldfish" for a 2-class model), the embedding's
// image counts for a small store (it offered 1000 for 7 images), and the diffusion settings row,
// whose η field wrapped alone onto a line of its own at common widths. Screenshots: see
// test/support/screenshots.ts.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { studioInChromium } from './browser.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { tempFolder } from '../support/temp-folder.js';

const stores = tempFolder('convlens-fit-stores-');
const ui = studioInChromium({
  timeout: 30_000,
  setup: () => void (process.env['CONVLENS_STORES'] = stores),
  teardown: () => {
    rmSync(stores, { recursive: true, force: true });
    delete process.env['CONVLENS_STORES'];
  },
});

async function shot(name: string): Promise<void> {
  if (!screenshotsWanted()) return;
  await ui.page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(ui.page, name, { fullPage: true });
}

/** An RGB classifier with `classes` outputs and no class names in it. */
function unlabelledModel(classes: number): Uint8Array {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(3));
  const x = b.input('image', 'float32', ['N', 3, 16, 16]);
  b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', classes));
  return encodeModel(b.build());
}

async function waitForJob(id: string): Promise<void> {
  for (;;) {
    const job = (await (await fetch(`${ui.base}/api/jobs/${id}`)).json()) as { state: string; error?: unknown };
    if (job.state === 'done') return;
    if (job.state !== 'queued' && job.state !== 'running') throw new Error(`job ${id} ended ${job.state}: ${JSON.stringify(job.error)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('controls that fit the loaded model and store (Chromium)', () => {
  it('asks an unlabelled model for as many class names as it has, with generic examples', async () => {
    const { page } = ui;
    for (const classes of [2, 5]) {
      const entry = ui.studio.models.addUpload(`unlabelled-${classes}.onnx`, unlabelledModel(classes));
      await page.reload();
      await page.waitForSelector(`[data-testid="model-select"] option[value="${entry.id}"]`, { state: 'attached' });
      await page.selectOption('[data-testid="model-select"]', entry.id);
      await page.waitForSelector('[data-testid="model-describe"][open]');
      if (classes === 2) await shot('1-labels-placeholder-2-classes');
      const placeholder = (await page.getAttribute('[data-testid="describe-labels"]', 'placeholder'))!;
      expect(placeholder).not.toMatch(/tench|goldfish/);
      // the first and the last of this model's classes, by index: no class it does not have
      expect(placeholder).toContain('class 0');
      expect(placeholder).toContain(`class ${classes - 1}`);
      expect(placeholder).not.toContain(`class ${classes}`);
    }
  });

  it('offers the embedding no more images than the store holds, and says so', async () => {
    const { page } = ui;
    // from the page: state-changing requests must come from the studio's own origin
    const res = await page.evaluate(async () => {
      const r = await fetch('/api/dataset/index', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'builtin', limit: 7, id: 'seven' }) });
      return { status: r.status, body: (await r.json()) as { job: string } };
    });
    expect(res.status).toBe(202);
    await waitForJob(res.body.job);
    await page.reload();
    await page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' });
    await page.selectOption('[data-testid="model-select"]', 'builtin');
    await page.click('[data-testid="tab-dataset"]');
    await page.waitForSelector('[data-testid="store-info"]');
    expect(await page.textContent('[data-testid="store-info"]')).toMatch(/\b7 images/);
    await page.locator('[data-testid="dataset-embedding"]').scrollIntoViewIfNeeded();
    await saveScreenshot(page.locator('[data-testid="dataset-embedding"]'), '2-embedding-small-store');
    // what the options say: no count above the store's, the whole store offered (a store under
    // the server's least sample sends that least; the embedding takes what there is)
    const offered = await page.locator('[data-testid="embed-sample"] option').allTextContents();
    expect(offered).toEqual(['all 7']);
    expect(await page.$eval('[data-testid="embed-sample"]', (s) => (s as HTMLSelectElement).selectedOptions[0]!.textContent)).toBe('all 7');
    expect(await page.textContent('[data-testid="embed-sample-note"]')).toContain('holds 7 images');
    // and it embeds all 7
    await page.click('[data-testid="embed-run"]');
    await page.waitForSelector('[data-testid="embed-canvas"]', { timeout: 60_000 });
    expect(await page.getAttribute('[data-testid="embed-canvas"]', 'data-points')).toBe('7');
    await saveScreenshot(page.locator('[data-testid="dataset-embedding"]'), '2-embedding-small-store-embedded');
  });

  it('keeps the diffusion sampler\'s η beside the other settings at 1280, 1024 and 800 px', async () => {
    const { page } = ui;
    await page.click('[data-testid="tab-diffusion"]');
    await page.waitForSelector('[data-testid="diffusion-eta"]', { state: 'visible' });
    // every width from a narrow window to a wide one (the wrap depends on the exact width), with
    // screenshots at common ones
    for (let width = 760; width <= 1600; width += 8) {
      await page.setViewportSize({ width, height: 900 });
      // the settings row's controls, top edge of each: η must share its line with another control
      const lines = await page.evaluate(() => {
        const eta = document.querySelector('[data-testid="diffusion-eta"]')!.closest('label, .field') as HTMLElement;
        const row = eta.parentElement!;
        const tops = [...row.children].map((c) => Math.round((c as HTMLElement).getBoundingClientRect().top));
        const etaTop = Math.round(eta.getBoundingClientRect().top);
        return { etaAlone: tops.filter((t) => Math.abs(t - etaTop) < 12).length === 1, children: tops.length };
      });
      if (lines.etaAlone) await saveScreenshot(page.locator('[data-testid="panel-diffusion"]'), `3-diffusion-eta-alone-${width}`);
      expect(lines.children).toBeGreaterThan(1);
      expect(lines.etaAlone, `η alone on its line at ${width} px`).toBe(false);
      if ([800, 1024, 1280].includes(width)) await saveScreenshot(page.locator('[data-testid="panel-diffusion"]'), `3-diffusion-${width}`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(ui.errors).toEqual([]);
  });
});
