/// <reference lib="dom" />
// "Channels behind this prediction" in the Explain tab, as `convlens channels` is on the CLI: on
// SqueezeNet's fire5 and the cat, the page ranks the channels as the API does, draws each one's
// map over the photo, and "Explain this channel" turns the form to that channel as a hidden unit,
// whose explanation is labelled with it. "Compute on: this browser" ranks them on the page's own
// engine (the engine worker), as the API does, and refuses as the API does. Screenshots: see
// test/support/screenshots.ts.
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { saveScreenshot, screenshotsWanted } from '../support/screenshots.js';
import { pixelStats, studioInChromium } from './browser.js';

const ui = studioInChromium({
  timeout: 60_000,
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

const CAT = 'photos/chelsea.png';

async function shot(name: string, selector?: string): Promise<void> {
  if (!screenshotsWanted()) return;
  // from the top: the sticky tab bar is drawn where the page was scrolled to
  await ui.page.evaluate(() => window.scrollTo(0, 0));
  const clip = selector ? await ui.page.evaluate((s) => {
    const r = document.querySelector(s)!.getBoundingClientRect();
    return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
  }, selector) : undefined;
  await saveScreenshot(ui.page, name, { fullPage: true, ...(clip ? { clip } : {}) });
}

interface Ranked {
  methods: { method: string; top: { channel: number; label: string }[] }[];
}

async function apiChannels(body: Record<string, unknown>): Promise<Ranked> {
  const post = await fetch(`${ui.base}/api/channels`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token } });
  expect(post.status).toBe(202);
  const { job } = (await post.json()) as { job: string };
  const events = await (await fetch(`${ui.base}/api/jobs/${job}/events`, { headers: { [TOKEN_HEADER]: ui.studio.access.token } })).text();
  const last = events.split('\n\n').filter((c) => c.includes('data: ')).at(-1)!;
  return (JSON.parse(last.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { result: Ranked }).result;
}

describe('the channels behind a prediction in the studio (SqueezeNet, Chromium)', () => {
  it('ranks fire5\'s channels as the API does, and "Explain this channel" explains the top one as a unit', async () => {
    await ui.page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await ui.page.click(`[data-testid="image-${CAT}"]`);
    await ui.page.waitForSelector(`[data-testid="image-${CAT}"][aria-pressed="true"]`);
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="channels-panel"]', { state: 'visible' });
    // the features SqueezeNet's class conv reads by default (its CAM layer, relu25, is the class maps: channel k is class k), and the two cheap methods
    expect(await ui.page.inputValue('[data-testid="channels-layer"]')).toBe('fires.7');
    expect(await ui.page.isChecked('[data-testid="channels-method-gradient-x-activation"]')).toBe(true);
    expect(await ui.page.isChecked('[data-testid="channels-method-deeplift"]')).toBe(true);
    expect(await ui.page.isChecked('[data-testid="channels-method-integrated-gradients"]')).toBe(false);
    await ui.page.click('[data-testid="channels-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('fires.5');
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.inputValue('[data-testid="channels-layer"]')).toBe('fires.5');
    await ui.page.click('[data-testid="channels-run"]');
    await ui.page.waitForSelector('[data-testid="channels-results"]', { timeout: 120_000 });
    expect(await ui.page.textContent('[data-testid="channels-made"]')).toMatch(/layer fires\.5 \[384×13×13\] · class 285 \(Egyptian cat\) · logit [\d.]+ · computed on the server$/);

    const want = await apiChannels({ model: 'squeezenet', image: CAT, layer: 'fires.5', methods: ['gradient-x-activation', 'deeplift'], top: 8 });
    for (const m of want.methods) {
      const labels = await ui.page.locator(`[data-testid="channels-list-${m.method}"] > li`).evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      // each card shows its channel number whole, whatever the layer's name
      expect(await ui.page.textContent(`[data-testid="channel-number-${m.method}-1"]`)).toBe(`channel ${m.top[0]!.channel}`);
      expect(labels, m.method).toEqual(m.top.map((t) => t.label));
    }
    // the maps are drawn over the photo (opaque everywhere, though a map is transparent near 0), and they are not flat
    expect((await pixelStats(ui.page, '[data-testid="channel-gradient-x-activation-1"] canvas')).std).toBeGreaterThan(5);
    await expect
      .poll(() =>
        ui.page.evaluate(() => {
          const c = document.querySelector('[data-testid="channel-deeplift-1"] canvas') as HTMLCanvasElement;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let clear = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i]! < 255) clear++;
          return clear;
        }),
      )
      .toBe(0);
    await shot('channels-ranked', '[data-testid="channels-panel"]');

    const top = want.methods[0]!.top[0]!;
    await ui.page.click('[data-testid="channels-explain-gradient-x-activation-1"]');
    expect(await ui.page.getAttribute('[data-testid="explain-subject"] button:has-text("hidden unit")', 'aria-checked')).toBe('true');
    expect(await ui.page.inputValue('[data-testid="explain-unit-layer"]')).toBe('fires.5');
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe(`${top.channel} · ${top.label}`);
    expect(await ui.page.inputValue('[data-testid="explain-unit-row"]')).toBe('');
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="explain-made"]:has-text("computed on the server")', { timeout: 120_000 });
    expect(await ui.page.textContent('[data-testid="explain-results"] h2')).toContain(top.label);
    expect(await ui.page.textContent('[data-testid="explain-made"]')).toMatch(new RegExp(`explaining ${top.label.replace('.', '\\.')} \\(`));
    await shot('channels-then-unit');
    expect(ui.errors).toEqual([]);
  });

  it('skips ablation at a branch with the library\'s reason while the other methods rank, and cancels a long ranking', async () => {
    await ui.page.click('[data-testid="channels-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('fires.7/expand1x1_relu');
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.inputValue('[data-testid="channels-layer"]')).toBe('fires.7/expand1x1_relu');
    await ui.page.setChecked('[data-testid="channels-method-ablation"]', true);
    await ui.page.click('[data-testid="channels-run"]');
    // ablation is skipped there with the library's reason; the methods the layer allows still rank
    await expect.poll(() => ui.page.textContent('[data-testid="channels-skipped-ablation"]').catch(() => null), { timeout: 60_000 }).toMatch(/skipped: .*another branch bypasses it/);
    expect(await ui.page.isVisible('[data-testid="channels-deeplift"]')).toBe(true);
    await shot('channels-refused', '[data-testid="channels-panel"]');
    // conductance reads the layer in the full network, so it ranks the branch's channels too
    await ui.page.setChecked('[data-testid="channels-method-ablation"]', false);
    await ui.page.setChecked('[data-testid="channels-method-conductance"]', true);
    await ui.page.fill('[data-testid="channels-steps"]', '8');
    await ui.page.click('[data-testid="channels-run"]');
    await ui.page.waitForSelector('[data-testid="channels-list-conductance"] > li', { timeout: 60_000 });
    expect(await ui.page.isVisible('[data-testid="channels-skipped-ablation"]')).toBe(false);
    expect(await ui.page.textContent('[data-testid="channels-conductance"]')).toMatch(/Conductance/);
    await ui.page.setChecked('[data-testid="channels-method-conductance"]', false);
    // fire5 with 1000 IG steps and ablation of 256 channels takes far longer than the cancel
    await ui.page.click('[data-testid="channels-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('fires.5');
    await ui.page.keyboard.press('Enter');
    await ui.page.setChecked('[data-testid="channels-method-integrated-gradients"]', true);
    await ui.page.fill('[data-testid="channels-steps"]', '1000');
    await ui.page.click('[data-testid="channels-run"]');
    await ui.page.waitForSelector('[data-testid="channels-cancel"]');
    await ui.page.click('[data-testid="channels-cancel"]');
    await ui.page.waitForSelector('[data-testid="channels-notice"]:has-text("Cancelled")', { timeout: 30_000 });
    // the earlier ranking stays
    expect(await ui.page.locator('[data-testid="channels-results"]').count()).toBe(1);
    expect(ui.errors).toEqual([]);
  }, 120_000);

  it('sends the score, steps, rule, baseline and ablation mode set in the panel, and refuses the probability for DeepLIFT alone before a run', async () => {
    await ui.page.click('[data-testid="channels-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('fires.7');
    await ui.page.keyboard.press('Enter');
    for (const m of ['gradient-x-activation', 'integrated-gradients', 'conductance', 'ablation']) await ui.page.setChecked(`[data-testid="channels-method-${m}"]`, false);
    await ui.page.setChecked('[data-testid="channels-method-deeplift"]', true);
    // DeepLIFT alone shows its baseline only; the path and ablation options are not there to set
    expect(await ui.page.isVisible('[data-testid="channels-baseline"]')).toBe(true);
    expect(await ui.page.isVisible('[data-testid="channels-steps"]')).toBe(false);
    expect(await ui.page.isVisible('[data-testid="channels-ablation"]')).toBe(false);
    await ui.page.click('[data-testid="channels-score"] button:has-text("probability")');
    expect(await ui.page.textContent('[data-testid="channels-conflict"]')).toMatch(/DeepLIFT decomposes the logit.*pick the logit score, or add a method/);
    expect(await ui.page.textContent('[data-testid="channels-conflict"]')).not.toMatch(/--/);
    expect(await ui.page.isDisabled('[data-testid="channels-run"]')).toBe(true);

    await ui.page.setChecked('[data-testid="channels-method-integrated-gradients"]', true);
    await ui.page.setChecked('[data-testid="channels-method-ablation"]', true);
    expect(await ui.page.isVisible('[data-testid="channels-conflict"]')).toBe(false);
    await ui.page.fill('[data-testid="channels-steps"]', '8');
    await ui.page.selectOption('[data-testid="channels-rule"]', 'riemann-trapezoid');
    await ui.page.selectOption('[data-testid="channels-baseline"]', 'blurred');
    await ui.page.selectOption('[data-testid="channels-ablation"]', 'baseline');
    await shot('channels-controls', '[data-testid="channels-panel"]');

    const sent = ui.page.waitForRequest((r) => r.url().endsWith('/api/channels') && r.method() === 'POST');
    await ui.page.click('[data-testid="channels-run"]');
    const body = (await sent).postDataJSON() as Record<string, unknown>;
    const want = { model: 'squeezenet', image: CAT, layer: 'fires.7', methods: ['deeplift', 'integrated-gradients', 'ablation'], top: 8, score: 'prob', steps: 8, rule: 'riemann-trapezoid', baseline: 'blurred', ablation: 'baseline' };
    expect(body).toEqual(want);
    await ui.page.waitForSelector('[data-testid="channels-list-ablation"] > li', { timeout: 120_000 });
    // the probability is what the ranking explains, and the channels are the API's for those options
    expect(await ui.page.textContent('[data-testid="channels-made"]')).toMatch(/layer fires\.7 \[512×13×13\] · class 285 \(Egyptian cat\) · prob 0\.\d+ · computed on the server$/);
    const api = await apiChannels(want);
    for (const m of api.methods) {
      const labels = await ui.page.locator(`[data-testid="channels-list-${m.method}"] > li`).evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      expect(labels, m.method).toEqual(m.top.map((t) => t.label));
    }
    await shot('channels-ranked-with-options', '[data-testid="channels-panel"]');
    expect(ui.errors).toEqual([]);
  }, 180_000);
  it('ranks the channels in this browser as the server does for the same options, and refuses as the server does', async () => {
    await ui.page.click('[data-testid="channels-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('fires.5');
    await ui.page.keyboard.press('Enter');
    for (const m of ['deeplift', 'ablation', 'conductance']) await ui.page.setChecked(`[data-testid="channels-method-${m}"]`, false);
    for (const m of ['gradient-x-activation', 'integrated-gradients']) await ui.page.setChecked(`[data-testid="channels-method-${m}"]`, true);
    await ui.page.click('[data-testid="channels-score"] button:has-text("logit")');
    await ui.page.fill('[data-testid="channels-steps"]', '8');
    await ui.page.selectOption('[data-testid="channels-rule"]', 'riemann-trapezoid');
    await ui.page.selectOption('[data-testid="channels-baseline"]', 'blurred');
    await ui.page.fill('[data-testid="channels-top"]', '6');
    await ui.page.click('[data-testid="channels-where"] button:has-text("this browser")');
    const asked: string[] = [];
    const onRequest = (r: { method(): string; url(): string }): void => void asked.push(`${r.method()} ${new URL(r.url()).pathname}`);
    ui.page.on('request', onRequest);
    await ui.page.click('[data-testid="channels-run"]');
    await ui.page.waitForSelector('[data-testid="channels-made"]:has-text("computed in this browser")', { timeout: 180_000 });
    ui.page.off('request', onRequest);
    // the page fetched the model and the input tensor, and ranked the channels itself
    expect(asked).toContain('POST /api/input');
    expect(asked.filter((r) => r.startsWith('POST /api/channels'))).toEqual([]);
    expect(await ui.page.textContent('[data-testid="channels-made"]')).toMatch(/layer fires\.5 \[384×13×13\] · class 285 \(Egyptian cat\) · logit [\d.]+ · computed in this browser$/);
    const server = await apiChannels({ model: 'squeezenet', image: CAT, layer: 'fires.5', methods: ['gradient-x-activation', 'integrated-gradients'], top: 6, score: 'logit', steps: 8, rule: 'riemann-trapezoid', baseline: 'blurred' });
    expect(server.methods.map((m) => m.method)).toEqual(['gradient-x-activation', 'integrated-gradients']);
    for (const m of server.methods) {
      const labels = await ui.page.locator(`[data-testid="channels-list-${m.method}"] > li`).evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
      expect(labels, m.method).toEqual(m.top.map((t) => t.label));
    }
    expect((await pixelStats(ui.page, '[data-testid="channel-integrated-gradients-1"] canvas')).std).toBeGreaterThan(5);
    await shot('channels-in-browser', '[data-testid="channels-panel"]');

    // 1000 IG steps take far longer than the cancel, which stops the worker between two runs
    await ui.page.fill('[data-testid="channels-steps"]', '1000');
    await ui.page.click('[data-testid="channels-run"]');
    await ui.page.waitForSelector('[data-testid="channels-phase"]:has-text("in this browser")', { timeout: 60_000 });
    // the time left, from the pace measured in the page, as a server job shows it
    await ui.page.waitForSelector('[data-testid="channels-phase"]:has-text("left")', { timeout: 60_000 });
    expect(await ui.page.textContent('[data-testid="channels-phase"]')).toMatch(/\(in this browser\) · .* · about \d+ (s|min) left$/);
    await shot('channels-in-browser-time-left', '[data-testid="channels-panel"]');
    await ui.page.click('[data-testid="channels-cancel"]');
    await ui.page.waitForSelector('[data-testid="channels-notice"]:has-text("Cancelled")', { timeout: 30_000 });
    expect(await ui.page.isVisible('[data-testid="channels-error"]')).toBe(false);
    expect(await ui.page.textContent('[data-testid="channels-made"]')).toMatch(/computed in this browser$/);
    await ui.page.fill('[data-testid="channels-steps"]', '8');

    // a layer the model does not have: the library's refusal, in the studio's words as the route says it
    await ui.page.click('[data-testid="channels-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('no.such.layer');
    await ui.page.keyboard.press('Enter');
    await ui.page.click('[data-testid="channels-run"]');
    await ui.page.waitForSelector('[data-testid="channels-error"]', { timeout: 60_000 });
    const refused = await fetch(`${ui.base}/api/channels`, { method: 'POST', body: JSON.stringify({ model: 'squeezenet', image: CAT, layer: 'no.such.layer', methods: ['gradient-x-activation', 'integrated-gradients'], top: 6, score: 'logit', steps: 8, rule: 'riemann-trapezoid', baseline: 'blurred' }), headers: { 'content-type': 'application/json', [TOKEN_HEADER]: ui.studio.access.token } });
    expect(refused.status).toBe(404);
    const { error } = (await refused.json()) as { error: { message: string; hint?: string } };
    expect(await ui.page.textContent('[data-testid="channels-error"] .error-message')).toBe(error.message);
    expect(await ui.page.textContent('[data-testid="channels-error"] .error-hint')).toBe(error.hint);
    expect(await ui.page.textContent('[data-testid="channels-error"]')).not.toMatch(/--/);
    await shot('channels-in-browser-refused', '[data-testid="channels-panel"]');
    // the earlier ranking stays
    expect(await ui.page.textContent('[data-testid="channels-made"]')).toMatch(/computed in this browser$/);
    expect(ui.errors).toEqual([]);
  }, 240_000);
});
