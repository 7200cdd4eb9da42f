/// <reference lib="dom" />
// A hidden unit explained from the studio, as `convlens explain --unit` does: in Inside the
// network, "Explain this channel" on SqueezeNet's fire5 takes the page to the Explain tab with the
// unit filled in; the results are labelled with the channel (its value, no percentages), on the
// server and in the browser; shift-clicking a unit, or "Explain one unit…" and a click on it,
// explains that one position. Screenshots: see test/support/screenshots.ts.
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { pixelStats, studioInChromium } from './browser.js';

const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

const CAT = 'photos/chelsea.png';
const FIRE5 = '/fires.5/Concat_output_0';

async function openTab(id: string): Promise<void> {
  await ui.page.click(`[data-testid="tab-${id}"]`);
  await ui.page.waitForSelector(`[data-testid="panel-${id}"]`, { state: 'visible' });
}

const made = (): Promise<string> => ui.page.textContent('[data-testid="explain-made"]').then((t) => t ?? '');

async function shot(name: string): Promise<void> {
  if (!screenshotsWanted()) return;
  // from the top: the sticky tab bar is drawn where the page was scrolled to
  await ui.page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(ui.page, name, { fullPage: true });
}

/** The unit of a channel that fires most on the image: [row, col] in the layer's map, and the map's size. */
async function strongestUnit(layer: string, channel: number): Promise<{ at: [number, number]; h: number; w: number }> {
  const res = await fetch(`${ui.base}/api/activations`, { method: 'POST', body: JSON.stringify({ model: 'squeezenet', image: CAT, layers: [layer] }), headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token } });
  const [{ values }] = ((await res.json()) as { layers: { values: { dims: number[]; data: string } }[] }).layers as [{ values: { dims: number[]; data: string } }];
  const [, , h, w] = values.dims as [number, number, number, number];
  const bytes = Buffer.from(values.data, 'base64');
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).subarray(channel * h * w, (channel + 1) * h * w);
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i]! > data[best]!) best = i;
  expect(data[best]).toBeGreaterThan(0);
  return { at: [Math.floor(best / w), best % w], h, w };
}

describe('explaining a hidden unit in the studio (SqueezeNet, Chromium)', () => {
  it('"Explain this channel" fills in the unit, and the results are labelled with it', async () => {
    await ui.page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await ui.page.click(`[data-testid="image-${CAT}"]`);
    await ui.page.waitForSelector(`[data-testid="image-${CAT}"][aria-pressed="true"]`);
    await openTab('network');
    await ui.page.click(`[data-testid="layer-${FIRE5}"]`);
    await ui.page.click('[data-testid="channel-100"]');
    await ui.page.click('[data-testid="unit-explain"]');
    await ui.page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    expect(await ui.page.getAttribute('[data-testid="explain-subject"] button:has-text("hidden unit")', 'aria-checked')).toBe('true');
    expect(await ui.page.inputValue('[data-testid="explain-unit-layer"]')).toBe('fires.5');
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe('100 · fires.5:100');
    expect(await ui.page.inputValue('[data-testid="explain-unit-row"]')).toBe('');
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="explain-made"]:has-text("computed on the server")', { timeout: 120_000 });
    expect(await ui.page.textContent('[data-testid="explain-results"] h2')).toContain('fires.5:100');
    const line = await made();
    expect(line).toMatch(/explaining fires\.5:100 \([\d.]+\) · most active fires\.5:\d+ \([\d.]+\)/);
    expect(line).not.toMatch(/%|class \d|logit/);
    for (const m of ['gradcam', 'saliency']) expect((await pixelStats(ui.page, `[data-testid="overlay-${m}"]`)).std).toBeGreaterThan(5);
    await shot('unit-channel-server');
    expect(ui.errors).toEqual([]);
  });

  it('shift-clicking a unit explains that position, and the browser computes it too', async () => {
    await openTab('network');
    await ui.page.locator('[data-testid="unit-hover"]').scrollIntoViewIfNeeded();
    const box = (await ui.page.locator('[data-testid="unit-hover"]').boundingBox())!;
    // the unit of channel 100 that fires most (on the cat's eye): a unit at 0 has no gradient at all
    const { at, h, w } = await strongestUnit('fires.5', 100);
    const where = `${at[0]},${at[1]}`;
    const position = { x: ((at[1] + 0.5) / w) * box.width, y: ((at[0] + 0.5) / h) * box.height };
    await ui.page.locator('[data-testid="unit-hover"]').hover({ position });
    expect(await ui.page.getAttribute('[data-testid="rf-overlay"]', 'data-unit')).toBe(where);
    await ui.page.locator('[data-testid="unit-hover"]').click({ modifiers: ['Shift'], position });
    await ui.page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    expect([await ui.page.inputValue('[data-testid="explain-unit-row"]'), await ui.page.inputValue('[data-testid="explain-unit-col"]')]).toEqual(at.map(String));
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe(`100 · fires.5:100@${where}`);
    await ui.page.click('[data-testid="explain-where"] button:has-text("this browser")');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="explain-made"]:has-text("computed in this browser")', { timeout: 180_000 });
    expect(await made()).toMatch(new RegExp(`explaining fires\\.5:100@${where} \\([\\d.]+\\) · most active fires\\.5:\\d+@${where} \\([\\d.]+\\)`));
    // the unit sees only its receptive field: saliency is drawn there, and not flat
    expect((await pixelStats(ui.page, '[data-testid="overlay-saliency"]')).std).toBeGreaterThan(5);
    await shot('unit-position-browser');
    // a position outside the map is the library's refusal, shown in the page
    await ui.page.fill('[data-testid="explain-unit-row"]', '40');
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
    await ui.page.click('[data-testid="explain-run"]');
    await expect.poll(() => ui.page.textContent('[data-testid="explain-error"]'), { timeout: 30_000 }).toMatch(new RegExp(`Position 40,${at[1]} is outside layer "fires.5", whose maps are 13x13`));
    expect(ui.errors).toEqual([]);
  });

  it('"Explain one unit…" turns the next plain click on the map into that unit\'s explanation (no modifier to guess)', async () => {
    await openTab('network');
    await ui.page.locator('[data-testid="unit-hover"]').scrollIntoViewIfNeeded();
    const box = (await ui.page.locator('[data-testid="unit-hover"]').boundingBox())!;
    const { at, h, w } = await strongestUnit('fires.5', 100);
    const position = { x: ((at[1] + 0.5) / w) * box.width, y: ((at[0] + 0.5) / h) * box.height };
    // Escape leaves the mode: a plain click would then open the Dataset tab, as before
    await ui.page.click('[data-testid="unit-explain-pick"]');
    expect(await ui.page.textContent('[data-testid="unit-info"]')).toMatch(/Click a unit of the map to explain it/);
    await ui.page.keyboard.press('Escape');
    expect(await ui.page.getAttribute('[data-testid="unit-explain-pick"]', 'aria-pressed')).toBe('false');
    await ui.page.click('[data-testid="unit-explain-pick"]');
    expect(await ui.page.getAttribute('[data-testid="unit-explain-pick"]', 'aria-pressed')).toBe('true');
    await ui.page.locator('[data-testid="unit-hover"]').hover({ position });
    expect(await ui.page.textContent('[data-testid="unit-info"]')).toMatch(/click: explain this unit/);
    await saveScreenshot(ui.page.locator('[data-testid="unit-view"]'), 'unit-pick-mode');
    await ui.page.locator('[data-testid="unit-hover"]').click({ position });
    await ui.page.waitForSelector('[data-testid="panel-explain"]', { state: 'visible' });
    expect(await ui.page.isVisible('[data-testid="panel-dataset"]')).toBe(false);
    expect([await ui.page.inputValue('[data-testid="explain-unit-row"]'), await ui.page.inputValue('[data-testid="explain-unit-col"]')]).toEqual(at.map(String));
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe(`100 · fires.5:100@${at[0]},${at[1]}`);
    // one click only: back on the map, the mode is over
    await openTab('network');
    expect(await ui.page.getAttribute('[data-testid="unit-explain-pick"]', 'aria-pressed')).toBe('false');
    expect(ui.errors).toEqual([]);
  });
});
