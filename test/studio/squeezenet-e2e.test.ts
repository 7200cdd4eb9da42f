/// <reference lib="dom" />
// End-to-end test of the studio on the built-in ImageNet SqueezeNet 1.1, every tab, in Debian's
// Chromium (playwright-core), as a user would: the cat photo is predicted with ImageNet names;
// SqueezeNet's layers are shown and picked by their module names; explanations take their target
// from a searchable picker and show what the model rules out; images are made from picked layers
// and from a unit of Inside the network; the sample photos and textures are indexed and answer
// neighbours; the diffusion tab says it does not use SqueezeNet. Screenshots go where
// CONVLENS_TEST_SHOTS asks (test/support/screenshots.ts).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { pixelStats, studioInChromium } from './browser.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-e2e-squeezenet-');
const ui = studioInChromium({
  timeout: 60_000,
  setup: () => void (process.env['CONVLENS_STORES'] = join(tmp, 'stores')),
  teardown: () => {
    rmSync(tmp, { recursive: true, force: true });
    delete process.env['CONVLENS_STORES'];
  },
  studio: { uploadsDir: join(tmp, 'uploads') },
  afterOpen: (page) => page.waitForSelector('[data-testid="model-select"] option[value="squeezenet"]', { state: 'attached' }).then(() => undefined),
});

const CAT = 'photos/chelsea.png';
const FIRE5 = '/fires.5/Concat_output_0';

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(ui.base + path, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers as Record<string, string> | undefined), [TOKEN_HEADER]: ui.studio.access.token } });
  expect(res.ok, `${path} answered ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

async function predicted(): Promise<void> {
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false' && document.querySelectorAll('[data-testid="prediction-bars"] li').length === 5);
}

async function openTab(id: string): Promise<void> {
  await ui.page.click(`[data-testid="tab-${id}"]`);
  await ui.page.waitForSelector(`[data-testid="panel-${id}"]`, { state: 'visible' });
}

async function expectPicture(selector: string): Promise<void> {
  const s = await pixelStats(ui.page, selector);
  expect(s.width * s.height, `${selector} has no pixels`).toBeGreaterThan(0);
  expect(s.distinct, `${selector} is a flat colour`).toBeGreaterThan(16);
  expect(s.std, `${selector} has no contrast`).toBeGreaterThan(5);
}

describe('the studio on SqueezeNet (Chromium)', () => {
  it('chooses SqueezeNet: photos come first in the gallery, the cat is predicted with ImageNet names', async () => {
    await ui.page.selectOption('[data-testid="model-select"]', 'squeezenet');
    // the gallery leads with the model's sample group, and the page switches to a photo
    await expect.poll(() => ui.page.getAttribute('.gallery-heading >> nth=0', 'data-group'), { timeout: 10_000 }).toBe('photos');
    expect(await ui.page.textContent('.gallery-heading >> nth=0')).toContain('fit this model');
    await ui.page.click(`[data-testid="image-${CAT}"]`);
    await ui.page.waitForSelector(`[data-testid="image-${CAT}"][aria-pressed="true"]`);
    await predicted();
    const want = await api<{ top: { label: string; probability: number }[] }>('/api/predict', { method: 'POST', body: JSON.stringify({ model: 'squeezenet', image: CAT, k: 5 }) });
    const bars = await ui.page.locator('[data-testid="prediction-bars"] li').allInnerTexts();
    want.top.forEach((t, i) => expect(bars[i]).toContain(t.label));
    expect(want.top.map((t) => t.label).slice(0, 3)).toEqual(expect.arrayContaining(['Egyptian cat', 'tabby']));
    // the model panel says how images become input
    expect(await ui.page.textContent('[data-testid="model-preprocessing"]')).toMatch(/224×224 rgb · range \[0, 1\] · mean \[0\.485, 0\.456, 0\.406\]/);
  });

  it('a long method shows its own count while it runs, not only the count of methods ("0/1" for its whole run)', async () => {
    await openTab('explain');
    const methods = await ui.page.$$eval('[data-testid^="method-"]', (els) => els.filter((e) => (e as HTMLInputElement).checked).map((e) => e.getAttribute('data-testid')!));
    for (const m of methods) await ui.page.setChecked(`[data-testid="${m}"]`, false);
    await ui.page.setChecked('[data-testid="method-kernel-shap"]', true);
    const metrics = await ui.page.isChecked('[data-testid="explain-metrics"]');
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    const samples = await ui.page.inputValue('[data-testid="segment-samples"]');
    await ui.page.fill('[data-testid="segment-samples"]', '2000');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="job-progress"]');
    // KernelSHAP's 2000 coalitions on SqueezeNet are a few hundred engine runs: the count of
    // methods stays 0/1 throughout, the method's own count is what moves
    const phase = (): Promise<string | null> => ui.page.textContent('[data-testid="job-phase"]');
    await expect.poll(phase, { timeout: 30_000 }).toMatch(/· 0\/1 · kernel-shap [1-9]\d*\/\d+/);
    const first = Number(/kernel-shap (\d+)\//.exec((await phase()) ?? '')?.[1]);
    await expect.poll(async () => Number(/kernel-shap (\d+)\//.exec((await phase()) ?? '')?.[1]), { timeout: 30_000 }).toBeGreaterThan(first);
    await ui.page.click('[data-testid="explain-cancel"]');
    // the notice shows only once the job has stopped (a hidden bar alone did not say so)
    await ui.page.waitForSelector('[data-testid="explain-notice"]:has-text("Cancelled")', { timeout: 10_000 });
    // the form as the later tests expect it (the samples field shows only while a segment method is ticked)
    await ui.page.fill('[data-testid="segment-samples"]', samples);
    await ui.page.setChecked('[data-testid="method-kernel-shap"]', false);
    for (const m of methods) await ui.page.setChecked(`[data-testid="${m}"]`, true);
    await ui.page.setChecked('[data-testid="explain-metrics"]', metrics);
  });

  it('Inside the network: layers by their module names, a fire module\'s maps, a unit\'s receptive field', async () => {
    await openTab('network');
    await ui.page.waitForSelector(`[data-testid="layer-${FIRE5}"]`);
    expect(await ui.page.textContent(`[data-testid="layer-${FIRE5}"] .strip-name`)).toBe('fires.5'.replace(/([._/])/g, '$1\u200b'));
    await ui.page.click(`[data-testid="layer-${FIRE5}"]`);
    await ui.page.waitForSelector('[data-testid="channel-383"]');
    expect(await ui.page.locator('[data-testid="channel-grid"] .tile').count()).toBe(384);
    expect(await ui.page.textContent('[data-testid="layer-detail"] h2')).toContain('fires.5');
    await ui.page.click('[data-testid="channel-12"]');
    expect(await ui.page.textContent('[data-testid="unit-view"] figcaption')).toContain('fires.5 · channel 12');
    await expectPicture('[data-testid="unit-map"]');
    // hover the centre unit: its box is the summary's receptive field around it
    const summary = await api<{ rows: { output: string; receptiveField?: { size: number[]; jump: number[]; start: number[]; global: boolean } }[] }>('/api/models/squeezenet/summary');
    const rf = summary.rows.find((r) => r.output === FIRE5)!.receptiveField!;
    await ui.page.locator('[data-testid="unit-hover"]').scrollIntoViewIfNeeded();
    const box = (await ui.page.locator('[data-testid="unit-hover"]').boundingBox())!;
    await ui.page.mouse.move(box.x + (6.5 * box.width) / 13, box.y + (6.5 * box.height) / 13);
    await ui.page.waitForSelector('[data-testid="rf-overlay"][data-unit="6,6"]');
    const c = rf.start[0]! + 6 * rf.jump[0]!;
    const half = (rf.size[0]! - 1) / 2;
    const want = [Math.max(0, Math.ceil(c - half)), Math.max(0, Math.ceil(c - half)), Math.min(223, Math.floor(c + half)), Math.min(223, Math.floor(c + half))];
    expect(await ui.page.getAttribute('[data-testid="rf-overlay"]', 'data-rf')).toBe(want.join(','));
    // the first layer of the cat for the figure: conv0's maps are the photo's edges
    await ui.page.click('[data-testid="layer-/relu0/Relu_output_0"]');
    await ui.page.waitForSelector('[data-testid="channel-63"]');
    await ui.page.click('[data-testid="channel-10"]');
    await expectPicture('[data-testid="unit-map"]');
    const b0 = (await ui.page.locator('[data-testid="unit-hover"]').boundingBox())!;
    await ui.page.mouse.move(b0.x + b0.width * 0.42, b0.y + b0.height * 0.45);
    await ui.page.waitForSelector('[data-testid="rf-overlay"]:not([data-rf=""])');
    await ui.shot('squeezenet-inside-the-network');
  });

  it('the Layers tab lists all of SqueezeNet', async () => {
    await openTab('model');
    const summary = await api<{ rows: unknown[] }>('/api/models/squeezenet/summary');
    await ui.page.waitForSelector('[data-testid="summary-table"] tbody tr');
    expect(await ui.page.locator('[data-testid="summary-table"] tbody tr').count()).toBe(summary.rows.length);
  });

  it('explains with a searched target; CAM is disabled with its reason; maps use each method\'s display defaults', async () => {
    await openTab('explain');
    const cam = ui.page.locator('[data-testid="method-cam"]');
    expect(await cam.isDisabled()).toBe(true);
    expect(await ui.page.getAttribute('label:has([data-testid="method-cam"])', 'title')).toMatch(/global average pooling followed by one dense layer/);
    // ... and the reason is also written under the methods, with the way out
    expect(await ui.page.textContent('[data-testid="unavailable-cam"]')).toMatch(/^CAM does not apply to SqueezeNet.*global average pooling followed by one dense layer.*Use gradcam instead/);
    expect(await ui.page.locator('[data-testid="unavailable-methods"] li').count()).toBe(1);
    const chosen = ['saliency', 'integrated-gradients', 'gradcam', 'occlusion'];
    for (const m of ['gradient', 'saliency', 'input-x-gradient', 'smoothgrad', 'smoothgrad-sq', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'guided-gradcam', 'occlusion']) {
      await ui.page.setChecked(`[data-testid="method-${m}"]`, chosen.includes(m));
    }
    await ui.page.fill('[data-testid="ig-steps"]', '8');
    // the target: search the 1000 classes by name
    await ui.page.click('[data-testid="explain-target"]');
    await ui.page.keyboard.type('tiger ca');
    await ui.page.waitForSelector('[data-testid="explain-target-list"] li[data-value="282"]');
    expect(await ui.page.locator('[data-testid="explain-target-list"] li[role="option"]').count()).toBe(1);
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe('282 · tiger cat');
    // the CAM layer: the profile's (relu25) until another is picked
    expect(await ui.page.inputValue('[data-testid="explain-layer"]')).toBe('relu25');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="map-occlusion"]', { timeout: 180_000 });
    const made = await ui.page.textContent('[data-testid="explain-made"]');
    expect(made).toContain('SqueezeNet');
    expect(made).toContain('image chelsea');
    expect(made).toContain('class 282 (tiger cat)');
    expect(await ui.page.textContent('[data-testid="explain-results"] h2')).toContain('tiger cat');
    // per-method ranges, as the CLI draws them, named under each map
    expect(await ui.page.textContent('[data-testid="range-saliency"]')).toContain('percentiles 0-98');
    expect(await ui.page.textContent('[data-testid="range-gradcam"]')).toContain('min-max');
    expect(await ui.page.textContent('[data-testid="range-integrated-gradients"]')).toContain('symmetric, 98th pct of |value|');
    expect(await ui.page.textContent('[data-testid="npy-gradcam"]')).toContain('[1×1×13×13]');
    for (const m of chosen) {
      await expectPicture(`[data-testid="overlay-${m}"]`);
      expect(await ui.page.textContent(`[data-testid="map-${m}"] .colorbar`)).toMatch(/\d/);
    }
    // A pixel map on a photograph under its default range (the 98th percentile) is not a few dots on
    // black as under min-max: measured on the cat, 56% of saliency's overlay pixels are lit (sum of
    // RGB over 200) against 6.5% under min-max.
    const lit = (): Promise<number> =>
      ui.page.$eval('[data-testid="overlay-saliency"]', (el) => {
        const cv = el as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 200) n++;
        return n / (d.length / 4);
      });
    const byDefault = await lit();
    await ui.page.click('[data-testid="range-mode"] button:has-text("min–max")');
    await expect.poll(lit, { timeout: 10_000 }).toBeLessThan(byDefault / 3);
    expect(byDefault).toBeGreaterThan(0.3);
    await ui.page.click('[data-testid="range-mode"] button:has-text("per method")');
    await ui.shot('squeezenet-explanations');
  });

  it('a model change while a job runs never relabels its results; the CAM layer picked by searching its op and shape', async () => {
    await ui.page.setChecked('[data-testid="method-occlusion"]', true);
    for (const m of ['saliency', 'integrated-gradients']) await ui.page.setChecked(`[data-testid="method-${m}"]`, false);
    await ui.page.click('[data-testid="explain-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('concat 27');
    await ui.page.click('[data-testid="explain-layer-list"] li[data-value="fires.3"]');
    expect(await ui.page.inputValue('[data-testid="explain-layer"]')).toBe('fires.3');
    await ui.page.click('[data-testid="explain-target"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('tabby');
    await ui.page.keyboard.press('Enter');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="job-progress"]');
    await ui.page.selectOption('[data-testid="model-select"]', 'builtin');
    // The longest progress text, a metric's own count beside the count of methods, keeps the bar
    // beside or above it: the bar was squeezed to no width, and so read as a finished job.
    await expect.poll(() => ui.page.textContent('[data-testid="job-phase"]'), { timeout: 60_000 }).toMatch(/^faithfulness: .* · deletion\/insertion · \d+\/\d+ · \d+\/\d+/);
    expect((await ui.page.locator('[data-testid="job-progress"]').boundingBox())?.width).toBeGreaterThan(50);
    await ui.page.waitForSelector('[data-testid="job-progress"]', { state: 'hidden', timeout: 180_000 });
    const made = await ui.page.textContent('[data-testid="explain-made"]');
    expect(made).toContain('SqueezeNet');
    expect(made).toContain('class 281 (tabby)');
    // Grad-CAM ran at the picked layer: its raw map has fires.3's 27x27 grid (relu25's is 13x13)
    expect(await ui.page.textContent('[data-testid="npy-gradcam"]')).toContain('[1×1×27×27]');
    expect(await ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    // the form is the new model's (its ten classes), the results stay the old job's
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe('');
    expect(await ui.page.locator('[data-testid="method-cam"]').isDisabled()).toBe(false);
    // switching models on Inside the network asks the new model for its own layers only (it
    // asked SqueezeNet for the Fashion-MNIST CNN's layers first: 404s in the console)
    await openTab('network');
    await ui.page.waitForSelector('[data-testid="layer-conv1"]');
    const missing: string[] = [];
    const on404 = (r: { status(): number; url(): string }): void => {
      if (r.status() === 404) missing.push(r.url());
    };
    ui.page.on('response', on404);
    await ui.page.selectOption('[data-testid="model-select"]', 'squeezenet');
    await ui.page.click(`[data-testid="image-${CAT}"]`);
    await predicted();
    await ui.page.waitForSelector(`[data-testid="layer-${FIRE5}"]`);
    await ui.page.waitForSelector('[data-testid="channel-0"]');
    ui.page.off('response', on404);
    expect(missing, missing.join(' ')).toEqual([]);
  });

  it('makes images from layers picked by search: an inversion, with its estimate, in a few steps', async () => {
    await openTab('synth');
    await ui.page.click('[data-testid="synth-kind"] button:has-text("Inversion")');
    // the profile's layers come first; replace them with two picked ones
    await ui.page.waitForSelector('[data-testid="synth-layers"] [data-testid="layer-chip"]');
    while ((await ui.page.locator('[data-testid="synth-layers"] [data-testid="layer-chip"]').count()) > 0) await ui.page.click('[data-testid="synth-layers"] [data-testid="layer-chip"] button >> nth=0');
    await ui.page.click('[data-testid="synth-layers-add"]');
    await ui.page.keyboard.type('relu0');
    await ui.page.click('[data-testid="synth-layers-add-list"] li[data-value="relu0"]');
    await ui.page.click('[data-testid="synth-layers-add"]');
    await ui.page.keyboard.type('concat 27');
    await ui.page.waitForSelector('[data-testid="synth-layers-add-list"] li[data-value="fires.3"]');
    await ui.page.click('[data-testid="synth-layers-add-list"] li[data-value="fires.3"]');
    expect(await ui.page.locator('[data-testid="synth-layers"] [data-testid="layer-chip"]').allTextContents()).toEqual(['relu0×', 'fires.3×']);
    await ui.page.fill('[data-testid="synth-invert-steps"]', '4');
    await expect.poll(() => ui.page.textContent('[data-testid="synth-estimate"]'), { timeout: 30_000 }).toMatch(/2 images × 4 steps · [\d.]+ GFLOP/);
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-image-2"]', { timeout: 180_000 });
    expect(await ui.page.locator('[data-testid="synth-images"] figcaption b').allTextContents()).toEqual(['input', 'relu0', 'fires.3']);
    expect(await ui.page.textContent('[data-testid="synth-made"]')).toMatch(/model squeezenet · image chelsea/);
    await expectPicture('[data-testid="synth-image-1"] img');
    // a name the model does not have is refused before the run, with the closest names
    await ui.page.click('[data-testid="synth-layers-add"]');
    await ui.page.keyboard.type('fires.55');
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => ui.page.textContent('[data-testid="synth-estimate"]'), { timeout: 30_000 }).toMatch(/No layer named "fires.55"/);
    await ui.page.click('[data-testid="synth-layers"] [data-testid="layer-chip"] button >> nth=2');
  });

  it('visualizes a channel picked in Inside the network, and asks before a thousand classes', async () => {
    await openTab('network');
    await ui.page.click(`[data-testid="layer-${FIRE5}"]`);
    await ui.page.click('[data-testid="channel-12"]');
    await ui.page.click('[data-testid="unit-visualize"]');
    await ui.page.waitForSelector('[data-testid="panel-synth"]', { state: 'visible' });
    expect(await ui.page.inputValue('[data-testid="synth-objective"]')).toBe('channel:fires.5:12');
    expect(await ui.page.inputValue('[data-testid="synth-objective-layer"]')).toBe('fires.5');
    await ui.page.fill('[data-testid="synth-steps"]', '6');
    await expect.poll(() => ui.page.textContent('[data-testid="synth-estimate"]'), { timeout: 30_000 }).toMatch(/^1 image × 6 steps/);
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-image-0"] figcaption b:has-text("channel:fires.5:12")', { timeout: 180_000 });
    // the run's speed makes the next estimate a time
    await ui.page.click('[data-testid="synth-objective-kind"] button:has-text("classes")');
    await ui.page.fill('[data-testid="synth-classes"]', '');
    await ui.page.fill('[data-testid="synth-steps"]', '128');
    await expect.poll(() => ui.page.textContent('[data-testid="synth-estimate"]'), { timeout: 30_000 }).toMatch(/^1,000 images × 128 steps in \d+ batches of up to \d+ · [\d.]+ TFLOP · about [\d.]+ (min|h)/);
    expect(await ui.page.textContent('[data-testid="synth-classes-count"]')).toBe('all 1000 classes');
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-confirm"]');
    expect(await ui.page.textContent('[data-testid="synth-confirm"]')).toContain('A large run: 1,000 images × 128 steps');
    await ui.shot('squeezenet-make-images-confirm');
    await ui.page.click('[data-testid="synth-confirm"] button:has-text("Not now")');
    expect(await ui.page.isVisible('[data-testid="synth-progress"]')).toBe(false);
    // classes picked by name: one image each
    await ui.page.click('[data-testid="synth-classes-add"]');
    await ui.page.keyboard.type('tabby');
    await ui.page.keyboard.press('Enter');
    // one class reads as that class's objective (it read class:* beside "Classes 281")
    expect(await ui.page.inputValue('[data-testid="synth-objective"]')).toBe('class:281');
    await ui.page.click('[data-testid="synth-classes-add"]');
    await ui.page.keyboard.type('espresso');
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.inputValue('[data-testid="synth-classes"]')).toBe('281,967');
    expect(await ui.page.textContent('[data-testid="synth-classes-count"]')).toBe('2 classes: tabby, espresso');
    await ui.page.fill('[data-testid="synth-steps"]', '4');
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-image-1"]', { timeout: 180_000 });
    expect(await ui.page.locator('[data-testid="synth-images"] figcaption b').allTextContents()).toEqual(['tabby', 'espresso']);
  });

  it('style transfer says which feature network it used', async () => {
    await ui.page.click('[data-testid="synth-kind"] button:has-text("Style / texture")');
    await ui.page.selectOption('[data-testid="synth-content"]', CAT);
    await ui.page.selectOption('[data-testid="synth-style"]', 'textures/brick.png');
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-image-1"] figcaption b:has-text("result")', { timeout: 180_000 });
    expect(await ui.page.textContent('[data-testid="synth-made"]')).toContain('feature network squeezenet');
    await ui.page.click('[data-testid="synth-backbone"] button:has-text("random texture net")');
    await ui.page.click('[data-testid="synth-run"]');
    await ui.page.waitForSelector('[data-testid="synth-made"]:has-text("feature network the random texture network")', { timeout: 180_000 });
  });

  it('indexes the sample photos and textures, then answers the cat\'s neighbours and a unit\'s top patches', async () => {
    // a unit's top patches asked for before SqueezeNet has an index: the tab offers to make one
    await openTab('network');
    await ui.page.click(`[data-testid="layer-${FIRE5}"]`);
    await ui.page.click('[data-testid="channel-12"]');
    await ui.page.click('[data-testid="unit-patches"]');
    await ui.page.waitForSelector('[data-testid="panel-dataset"]', { state: 'visible' });
    expect(await ui.page.textContent('[data-testid="dataset-no-index"]')).toMatch(/^squeezenet has no index yet: index images to see the ones channel 12 of fires\.5 responds to most/);
    expect(await ui.page.isVisible('[data-testid="index-run"]')).toBe(true);
    // the photos and the textures are chosen already; IDX folders do not fit SqueezeNet
    await ui.page.waitForSelector('[data-testid="folder-samples/photos"]:checked');
    expect(await ui.page.isChecked('[data-testid="folder-samples/textures"]')).toBe(true);
    expect(await ui.page.isDisabled('[data-testid="folder-data/fashion-mnist-subset"]')).toBe(true);
    await ui.page.click('[data-testid="index-run"]');
    await ui.page.waitForSelector('[data-testid="store-info"]', { timeout: 180_000 });
    // the new index opens at the unit that asked for it
    await ui.page.waitForFunction(() => document.querySelector('[data-testid="dataset-patches"] h2')?.textContent?.includes('fires.5 channel 12'));
    expect(await ui.page.textContent('[data-testid="store-info"]')).toMatch(/^7 images · layers fires\.5 \(384@13×13\), relu25 \(1000@13×13\)/);
    await ui.page.click('[data-testid="nn-source"] button:has-text("the chosen image")');
    await ui.page.click('[data-testid="nn-run"]');
    await ui.page.waitForSelector('[data-testid="nn-results"]');
    // the cat is in the store: its own nearest neighbour, at distance 0, in both spaces
    for (const space of ['nn-feature', 'nn-pixel']) {
      const first = await ui.page.getAttribute(`[data-testid="${space}"] figure >> nth=0`, 'title');
      const text = await ui.page.textContent(`[data-testid="${space}"] figure >> nth=0 >> figcaption`);
      expect(first).toBe('image #1');
      expect(text).toMatch(/^photos0(\.0+)?$|^photos[0-9.]+e-\d+$/);
    }
    await ui.shot('squeezenet-dataset');
    // a unit of Inside the network opens this model's index at its channel
    await openTab('network');
    await ui.page.click(`[data-testid="layer-${FIRE5}"]`);
    await ui.page.click('[data-testid="channel-12"]');
    await ui.page.click('[data-testid="unit-patches"]');
    await ui.page.waitForSelector('[data-testid="panel-dataset"]', { state: 'visible' });
    await ui.page.waitForFunction(() => document.querySelector('[data-testid="dataset-patches"] h2')?.textContent?.includes('fires.5 channel 12'));
    await ui.page.waitForSelector('[data-testid="patch-grid"] img');
    // the store keeps all 7 images for the channel; it never fires on one of them (activation 0), which gets no patch
    expect(await ui.page.locator('[data-testid="patch-grid"] figure').count()).toBe(6);
    expect(await ui.page.textContent('[data-testid="patches-silent"]')).toBe('It never fired on 1 more of the images the store keeps for it (activation 0), so they show no patch.');
  });

  it('the diffusion tab says it does not use SqueezeNet', async () => {
    await openTab('diffusion');
    expect(await ui.page.textContent('[data-testid="diffusion-model-note"]')).toMatch(/does not use SqueezeNet/);
  });

  it('raised no page errors', () => {
    expect(ui.errors).toEqual([]);
  });
});
