/// <reference lib="dom" />
// End-to-end test of the studio's "Make images" tab: the real server in-process, the built page
// in Debian's Chromium (playwright-core), as test/studio/e2e.test.ts does. Runs feature
// visualization and an adversarial example, checks the pictures are drawn, cancels a long job,
// runs the fast style network inside the page on onnxruntime-web (checked against
// onnxruntime-node on the same pixels), and saves screenshots where CONVLENS_TEST_SHOTS asks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_STYLE_NET } from '../../src/interfaces/server/routes/synthesize.js';
import { loadStyleNet, stylize } from '../../src/methods/synthesize/stylize.js';
import { pixelStats, setRange, studioInChromium, type PixelStats } from './browser.js';

const ui = studioInChromium({
  afterOpen: (page) => ui.page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' }).then(() => undefined),
});

interface Pixels {
  width: number;
  height: number;
  data: number[];
}

async function canvasPixels(selector: string): Promise<Pixels> {
  return ui.page.$eval(selector, (el) => {
    const c = el as HTMLCanvasElement;
    return { width: c.width, height: c.height, data: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data) };
  });
}

const imageStats = (selector: string): Promise<PixelStats> => pixelStats(ui.page, selector);

describe('Make images tab in Chromium', () => {
  it('runs a class visualization: ten labelled images with predictions, the steps and a GIF', async () => {
    await ui.page.click('[data-testid="tab-synth"]');
    await ui.page.waitForSelector('[data-testid="panel-synth"]', { state: 'visible' });
    await ui.page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
    await ui.page.fill('[data-testid="synth-objective"]', 'class:*');
    await ui.page.fill('[data-testid="synth-steps"]', '24');
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-image-9"]', { timeout: 60_000 });
    const captions = await ui.page.locator('[data-testid="synth-images"] figcaption b').allTextContents();
    expect(captions).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    const s = await imageStats('[data-testid="synth-image-1"] img');
    expect(s.width).toBeGreaterThanOrEqual(112);
    expect(s.std, 'the visualization has structure').toBeGreaterThan(10);
    expect(await ui.page.locator('[data-testid="synth-frames"] img').count()).toBeGreaterThanOrEqual(3);
    await imageStats('[data-testid="synth-gif"]');
    await ui.shot('10-featviz');
  });

  it('makes an adversarial example for the chosen image and shows the perturbation amplified', async () => {
    await ui.page.click('[data-testid="image-fashion-mnist/ankle-boot-test0.png"]');
    await ui.page.click('[data-testid="synth-kind"] button:has-text("Adversarial")');
    await ui.page.fill('[data-testid="synth-epsilon"]', '12');
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-image-2"] figcaption b:has-text("adversarial")', { timeout: 60_000 });
    const texts = await ui.page.locator('[data-testid="synth-images"] figcaption').allInnerTexts();
    expect(texts[0]).toContain('Ankle boot');
    expect(texts[1]).toMatch(/L∞ 12\.0\/255/);
    expect(texts[2]).not.toContain('Ankle boot');
    const pert = await imageStats('[data-testid="synth-image-1"] img');
    expect(pert.std).toBeGreaterThan(10);
    await ui.shot('11-adversarial');
  });

  it('shows progress for a long job and cancels it; the page stays usable', async () => {
    await ui.page.click('[data-testid="synth-kind"] button:has-text("Feature visualization")');
    await ui.page.fill('[data-testid="synth-steps"]', '4000');
    // ten classes at 4000 steps: the page shows the cost and asks first
    await expect.poll(() => ui.page.textContent('[data-testid="synth-estimate"]'), { timeout: 30_000 }).toMatch(/^10 images × 4,000 steps/);
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-confirm"]');
    await ui.page.click('[data-testid="synth-confirm-run"]');
    await ui.page.waitForSelector('[data-testid="synth-progress"]');
    await ui.page.waitForFunction(() => /\d+\/4000/.test(document.querySelector('[data-testid="synth-phase"]')?.textContent ?? ''));
    await ui.page.click('[data-testid="synth-cancel"]');
    await ui.page.waitForSelector('[data-testid="synth-notice"]:has-text("Cancelled")');
    expect(await ui.page.isVisible('[data-testid="synth-progress"]')).toBe(false);
    expect(await ui.page.isVisible('[data-testid="synth-error"]')).toBe(false);
    // the previous result is still shown
    expect(await ui.page.locator('[data-testid="synth-images"] img').count()).toBe(3);
    await ui.shot('12-synth-cancelled');
  });

  it('runs the fast style network in the browser on onnxruntime-web, as onnxruntime-node does, and restyles live with the blend slider', async () => {
    await ui.page.click('[data-testid="tab-synth"]');
    await ui.page.waitForSelector('[data-testid="panel-synth"]', { state: 'visible' });
    await ui.page.click('[data-testid="synth-kind"] button:has-text("Fast style")');
    await ui.page.waitForSelector('[data-testid="synth-net"] option[value="builtin"]', { state: 'attached' });
    await ui.page.check('[data-testid="synth-in-browser"]');
    await ui.page.waitForSelector('[data-testid="browser-style-output"][data-weights="0.5,0.5"]', { timeout: 60_000 });
    expect(await ui.page.isVisible('[data-testid="synth-run"]')).toBe(false);
    // The studio is cross-origin isolated, so the worker gets every core (up to 4) as threads.
    expect(await ui.page.evaluate('crossOriginIsolated')).toBe(true);
    const cores = (await ui.page.evaluate('navigator.hardwareConcurrency')) as number;
    const threads = Math.max(1, Math.min(4, cores));
    expect(await ui.page.textContent('[data-testid="browser-style-caption"]')).toMatch(new RegExp(`stylized in \\d+ ms · onnxruntime-web \\(WebAssembly, ${threads} threads?, in a worker\\)`));

    // The oracle: the same network on the same input pixels in Node.
    const content = await canvasPixels('[data-testid="browser-style-content"]');
    const inBrowser = await canvasPixels('[data-testid="browser-style-output"]');
    expect(Math.max(content.width, content.height)).toBe(384);
    const graph = loadStyleNet(readFileSync(BUILTIN_STYLE_NET), 'the built-in style network');
    const toTensor = (p: Pixels) => {
      const n = p.width * p.height;
      const data = new Float32Array(3 * n);
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[c * n + i] = p.data[i * 4 + c]! / 255;
      return { dtype: 'float32' as const, dims: [1, 3, p.height, p.width], data };
    };
    const inNode = (await stylize(ui.engine, graph, toTensor(content), [0.5, 0.5])).data as Float32Array;
    const n = content.width * content.height;
    expect([inBrowser.width, inBrowser.height]).toEqual([content.width, content.height]);
    // Both sides quantize to 8 bits the same way. WebAssembly and native x64 kernels sum in a
    // different order (and native fuses multiply-adds), so outputs differ by float rounding that,
    // through 15 convolutions and instance normalizations, flips a value's 8-bit rounding now and
    // then: never by more than one level, and for 0.05% of the values (measured; the bound is 0.2%).
    let worst = 0;
    let off = 0;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) {
        const expected = Math.round(Math.min(1, Math.max(0, inNode[c * n + i]!)) * 255);
        const d = Math.abs(inBrowser.data[i * 4 + c]! - expected);
        worst = Math.max(worst, d);
        if (d > 0) off++;
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(off / (3 * n)).toBeLessThan(0.002);
    await ui.shot('13-fast-style-in-browser');

    // Live: the slider restyles without a job (all gravel at 0).
    await setRange(ui.page, '[data-testid="synth-blend"]', 0);
    await ui.page.waitForSelector('[data-testid="browser-style-output"][data-weights="1,0"]', { timeout: 30_000 });
    const gravel = await canvasPixels('[data-testid="browser-style-output"]');
    let changed = 0;
    for (let i = 0; i < gravel.data.length; i++) changed += Math.abs(gravel.data[i]! - inBrowser.data[i]!);
    expect(changed / gravel.data.length, 'another blend, another picture').toBeGreaterThan(5);
    expect(await ui.page.isVisible('[data-testid="browser-style-error"]')).toBe(false);
    await ui.shot('14-fast-style-in-browser-gravel');
  });

  it('raised no page errors', () => {
    expect(ui.errors).toEqual([]);
  });
});
