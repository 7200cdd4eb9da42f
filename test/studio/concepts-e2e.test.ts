/// <reference lib="dom" />
// "Concepts a layer holds" in the Explain tab, as `convlens concepts` is on the CLI: on SqueezeNet
// over the cat and the coffee cup, the page shows the concepts the API finds (their headers: top
// class and probability), the concepts together and each one's map over every image, and it fits
// a narrow window, and a long run shows its progress and stops on Cancel; on the built-in Fashion-MNIST CNN it runs too, and a layer with fewer channels
// than the concepts asked for is refused with the route's message. Screenshots: see test/support/screenshots.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { ROOT } from '../support/cli.js';
import { saveScreenshot } from '../support/screenshots.js';
import { pixelStats, studioInChromium } from './browser.js';

const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

const CAT = 'photos/chelsea.png';
const CUP = 'photos/coffee.png';

const shot = (name: string, selector: string): Promise<void> => saveScreenshot(ui.page.locator(selector), name);

interface Concepts {
  concepts: { concept: number; classes?: { label: string; probability: number }[] }[];
}

async function apiConcepts(body: Record<string, unknown>): Promise<Concepts> {
  const post = await fetch(`${ui.base}/api/concepts`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token } });
  expect(post.status).toBe(202);
  const { job } = (await post.json()) as { job: string };
  const events = await (await fetch(`${ui.base}/api/jobs/${job}/events`, { headers: { [TOKEN_HEADER]: ui.studio.access.token } })).text();
  const last = events.split('\n\n').filter((c) => c.includes('data: ')).at(-1)!;
  return (JSON.parse(last.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { result: Concepts }).result;
}

async function setLayer(layer: string): Promise<void> {
  await ui.page.click('[data-testid="concepts-layer"]');
  await ui.page.keyboard.press('Control+A');
  await ui.page.keyboard.type(layer);
  await ui.page.keyboard.press('Enter');
}

describe('the concepts a layer holds in the studio (Chromium)', () => {
  it('on SqueezeNet, shows the concepts of fire7 over two photos as the API finds them, each over every image', async () => {
    await ui.page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await ui.page.click(`[data-testid="image-${CAT}"]`);
    await ui.page.waitForSelector(`[data-testid="image-${CAT}"][aria-pressed="true"]`);
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="concepts-panel"]', { state: 'visible' });
    expect(await ui.page.inputValue('[data-testid="concepts-layer"]')).toBe('fires.7');
    await ui.page.click('[data-testid="concepts-images"] summary');
    await ui.page.check(`[data-testid="concepts-image-${CUP}"]`);
    expect(await ui.page.textContent('[data-testid="concepts-images"] summary')).toBe('Images: this and 1 more');
    await ui.page.fill('[data-testid="concepts-components"]', '4');
    await ui.page.click('[data-testid="concepts-run"]');
    await ui.page.waitForSelector('[data-testid="concepts-results"]', { timeout: 120_000 });
    expect(await ui.page.textContent('[data-testid="concepts-made"]')).toMatch(/layer fires\.7 \[512×13×13\] · 4 concepts over 2 images · \d+% of the activations unexplained/);

    const want = await apiConcepts({ model: 'squeezenet', images: [CAT, CUP], layer: 'fires.7', components: 4, top: 3, seed: 0 });
    const headers = await ui.page.locator('[data-testid="concepts-legend"] > li b').allTextContents();
    expect(headers).toEqual(want.concepts.map((c) => `${c.concept}. ${c.classes![0]!.label} ${(100 * c.classes![0]!.probability).toFixed(0)}%`));
    // per image: the concepts together and one tile per concept, headed by its top class
    for (const row of [0, 1]) {
      expect(await ui.page.locator(`[data-testid="concepts-row-${row}"] li`).count()).toBe(5);
      expect(await ui.page.textContent(`[data-testid="concepts-map-${row}-1"] b`)).toBe(headers[0]);
    }
    // the maps are drawn over the photo and differ between concepts
    const together = await pixelStats(ui.page, '[data-testid="concepts-together-0"] canvas');
    expect(together.std).toBeGreaterThan(5);
    const difference = await ui.page.evaluate(() => {
      const pixels = (n: number): Uint8ClampedArray => {
        const c = document.querySelector(`[data-testid="concepts-map-0-${n}"] canvas`) as HTMLCanvasElement;
        return c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      };
      const [a, b] = [pixels(1), pixels(2)];
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
      return sum / a.length;
    });
    expect(difference).toBeGreaterThan(2);
    await shot('squeezenet', '[data-testid="concepts-panel"]');

    // a narrow window (a phone's width): the tiles wrap, nothing of the panel runs off the side
    // (the page's tab bar scrolls sideways there, as it does without this panel)
    await ui.page.setViewportSize({ width: 480, height: 900 });
    const outside = await ui.page.$$eval('[data-testid="concepts-panel"] *', (els) => els.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.outerHTML.slice(0, 80)));
    expect(outside).toEqual([]);
    const perRow = await ui.page.$$eval('[data-testid="concepts-row-0"] li', (els) => new Set(els.map((e) => Math.round(e.getBoundingClientRect().top))).size);
    expect(perRow).toBeGreaterThan(1);
    await shot('squeezenet-narrow', '[data-testid="concepts-panel"]');
    await ui.page.setViewportSize({ width: 1280, height: 900 });

    // a long factorization shows its progress and stops on Cancel, the earlier concepts still shown
    await setLayer('relu0');
    await ui.page.fill('[data-testid="concepts-components"]', '64');
    await ui.page.click('[data-testid="concepts-run"]');
    await ui.page.waitForSelector('[data-testid="concepts-cancel"]', { timeout: 60_000 });
    await expect.poll(() => ui.page.textContent('[data-testid="concepts-phase"]'), { timeout: 60_000 }).toMatch(/factorizing/);
    await shot('squeezenet-running', '[data-testid="concepts-panel"] .run-row');
    await ui.page.click('[data-testid="concepts-cancel"]');
    await ui.page.waitForSelector('[data-testid="concepts-notice"]', { timeout: 30_000 });
    expect(await ui.page.textContent('[data-testid="concepts-notice"]')).toMatch(/^Cancelled/);
    expect(await ui.page.textContent('[data-testid="concepts-made"]')).toMatch(/layer fires\.7/);
    expect(ui.errors).toEqual([]);
    // the studio guide describes the panel
    expect(readFileSync(join(ROOT, 'docs/studio.md'), 'utf8')).toMatch(/### Concepts a layer holds[\s\S]*\*\*Find concepts\*\*/);
  }, 180_000);

  it('on the built-in Fashion-MNIST CNN, finds concepts, and refuses more concepts than a layer has channels with the route\'s message', async () => {
    await ui.page.selectOption('[data-testid="model-select"]', 'builtin');
    await ui.page.click('[data-testid="image-fashion-mnist/bag-test18.png"]');
    await ui.page.waitForSelector('[data-testid="image-fashion-mnist/bag-test18.png"][aria-pressed="true"]');
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="concepts-panel"]', { state: 'visible' });
    // SqueezeNet's concepts are not shown under another model
    expect(await ui.page.locator('[data-testid="concepts-results"]').count()).toBe(0);
    await ui.page.$eval('[data-testid="concepts-images"]', (d) => ((d as HTMLDetailsElement).open = true));
    await ui.page.check('[data-testid="concepts-image-fashion-mnist/trouser-test2.png"]');
    await ui.page.fill('[data-testid="concepts-components"]', '3');
    await ui.page.click('[data-testid="concepts-run"]');
    await ui.page.waitForSelector('[data-testid="concepts-results"]', { timeout: 60_000 });
    expect(await ui.page.textContent('[data-testid="concepts-made"]')).toMatch(/3 concepts over 2 images/);
    expect(await ui.page.locator('[data-testid="concepts-legend"] > li').count()).toBe(3);
    await shot('fashion', '[data-testid="concepts-panel"]');

    await setLayer('conv1');
    await ui.page.fill('[data-testid="concepts-components"]', '20');
    await ui.page.click('[data-testid="concepts-run"]');
    await ui.page.waitForSelector('[data-testid="concepts-error"]');
    expect(await ui.page.textContent('[data-testid="concepts-error"]')).toMatch(/Cannot find 20 concepts in layer "conv1"[\s\S]*Ask for 1 to 16 concepts/);
    expect(await ui.page.textContent('[data-testid="concepts-error"]')).not.toMatch(/--components/);
  }, 120_000);
});
