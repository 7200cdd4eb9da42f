/// <reference lib="dom" />
// End-to-end tests of the studio: the real server in-process, the built page (dist/web) in
// Debian's headless Chromium driven by playwright-core. Every test checks what is rendered
// (canvas pixels, element text, the receptive-field box) and saves a screenshot where
// CONVLENS_TEST_SHOTS asks (test/support/screenshots.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pixelStats, studioInChromium, type PixelStats } from './browser.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { handGraph, node } from '../support/onnx-files.js';
import { parseNpy } from '../../src/io/npy.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { tempFolder } from '../support/temp-folder.js';

const ui = studioInChromium({ timeout: 20_000 });

const SAMPLE = 'fashion-mnist/bag-test18.png';

interface Rf {
  size: [number, number];
  jump: [number, number];
  start: [number, number];
  global: boolean;
}
interface SummaryRow {
  name: string;
  output: string;
  nodes: string[];
  shape: (number | string)[];
  receptiveField?: Rf;
}

// The test's own calls are a script's: they carry the studio's token (a browser page sends Origin instead).
async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(ui.base + path, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), [TOKEN_HEADER]: ui.studio.access.token } });
  expect(res.ok, `${path} answered ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

const canvasStats = (selector: string): Promise<PixelStats> => pixelStats(ui.page, selector);

async function expectNonBlank(selector: string): Promise<void> {
  const s = await canvasStats(selector);
  expect(s.width * s.height, `${selector} has no pixels`).toBeGreaterThan(0);
  expect(s.opaque, `${selector} is transparent`).toBeGreaterThan(0.9);
  expect(s.distinct, `${selector} is a flat colour`).toBeGreaterThan(3);
  expect(s.std, `${selector} has no contrast`).toBeGreaterThan(2);
}

/** A chart: lines on a transparent background. */
async function expectDrawn(selector: string): Promise<void> {
  const s = await canvasStats(selector);
  expect(s.width * s.height, `${selector} has no pixels`).toBeGreaterThan(0);
  expect(s.opaque, `${selector} is empty`).toBeGreaterThan(0.01);
  expect(s.distinct, `${selector} is a flat colour`).toBeGreaterThan(3);
}

/** Input-pixel box [top, left, bottom, right] of unit (row, col), as docs/api.md defines it. */
function expectedBox(rf: Rf, row: number, col: number, h: number, w: number): number[] {
  if (rf.global) return [0, 0, h - 1, w - 1];
  const clip = (v: number, hi: number): number => Math.max(0, Math.min(hi, v));
  const cy = rf.start[0] + row * rf.jump[0];
  const cx = rf.start[1] + col * rf.jump[1];
  return [
    clip(Math.ceil(cy - (rf.size[0] - 1) / 2), h - 1),
    clip(Math.ceil(cx - (rf.size[1] - 1) / 2), w - 1),
    clip(Math.floor(cy + (rf.size[0] - 1) / 2), h - 1),
    clip(Math.floor(cx + (rf.size[1] - 1) / 2), w - 1),
  ];
}

async function openTab(id: 'network' | 'explain' | 'model'): Promise<void> {
  await ui.page.click(`[data-testid="tab-${id}"]`);
  await ui.page.waitForSelector(`[data-testid="panel-${id}"]`, { state: 'visible' });
}

async function pickImage(id: string): Promise<void> {
  await ui.page.click(`[data-testid="image-${id}"]`);
  await ui.page.waitForSelector(`[data-testid="image-${id}"][aria-pressed="true"]`);
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false');
}

describe('studio in Chromium', () => {
  it('loads the page: built-in model, gallery, summary table', async () => {
    await ui.page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' });
    expect(await ui.page.$eval('[data-testid="model-select"]', (e) => (e as HTMLSelectElement).value)).toBe('builtin');
    const images = await api<{ images: { id: string }[] }>('/api/images');
    for (const img of images.images) await ui.page.waitForSelector(`[data-testid="image-${img.id}"]`, { state: 'attached' });
    // every gallery thumbnail decoded
    await ui.page.waitForFunction(() => [...document.querySelectorAll('.gallery img')].every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
    // the samples that fit the chosen model come first, and say so
    expect(await ui.page.locator('.gallery-heading').allTextContents()).toEqual(['Fashion-MNIST · fit this model', 'Photos', 'Textures']);

    await openTab('model');
    const summary = await api<{ rows: SummaryRow[]; totalParams: number }>('/api/models/builtin/summary');
    await ui.page.waitForSelector('[data-testid="summary-table"] tbody tr');
    const rows = await ui.page.locator('[data-testid="summary-table"] tbody tr').allInnerTexts();
    expect(rows).toHaveLength(summary.rows.length);
    expect(rows[0]).toContain(summary.rows[0]!.name);
    expect(await ui.page.textContent('[data-testid="summary-table"] tfoot')).toContain(summary.totalParams.toLocaleString('en-US'));
    await ui.shot('01-summary');
  });

  it('picks a sample and shows the prediction as bars', async () => {
    await pickImage(SAMPLE);
    const want = await api<{ top: { label: string; probability: number }[] }>('/api/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'builtin', image: SAMPLE, k: 5 }),
    });
    const bars = ui.page.locator('[data-testid="prediction-bars"] li');
    await expect.poll(() => bars.count()).toBe(5);
    const texts = await bars.allInnerTexts();
    want.top.forEach((t, i) => {
      expect(texts[i]).toContain(t.label);
      expect(texts[i]).toContain(`${(100 * t.probability).toFixed(1)}%`);
    });
    // bar lengths follow the probabilities (once their transitions end)
    await ui.page.waitForFunction(() => document.getAnimations().length === 0);
    const widths = await ui.page.$$eval('[data-testid="prediction-bars"] .bar-fill', (els) => els.map((e) => (e as HTMLElement).getBoundingClientRect().width));
    for (let i = 1; i < widths.length; i++) expect(widths[i]!).toBeLessThanOrEqual(widths[i - 1]! + 0.5);
    expect(widths[0]!).toBeGreaterThan(5);
    await expectNonBlank('[data-testid="model-input"]');
    await ui.shot('02-prediction');
  });

  it('shows feature maps; hovering a unit boxes its receptive field on the input', async () => {
    await openTab('network');
    const summary = await api<{ rows: SummaryRow[] }>('/api/models/builtin/summary');
    const layer = 'relu2';
    const row = summary.rows.find((r) => r.output === layer || r.nodes.includes(layer))!;
    const rf = row.receptiveField!;
    const [, channels, h, w] = row.shape as number[];

    // the strip shows every 4-D layer, with rendered thumbnails
    await ui.page.waitForSelector('[data-testid="layer-conv1"]');
    await expectNonBlank('[data-testid="network-strip"] .strip-col:nth-child(2) .tile canvas');

    await ui.page.click(`[data-testid="layer-${layer}"]`);
    await ui.page.waitForSelector(`[data-testid="channel-${channels! - 1}"]`);
    expect(await ui.page.locator('[data-testid="channel-grid"] .tile').count()).toBe(channels);
    await ui.page.click('[data-testid="channel-5"]');
    await ui.page.waitForSelector('[data-testid="channel-5"].on');
    expect(await ui.page.textContent('[data-testid="unit-view"] figcaption')).toContain(`${layer} · channel 5`);
    await expectNonBlank('[data-testid="unit-map"]');
    await expectNonBlank('[data-testid="rf-input"]');
    const map = await canvasStats('[data-testid="unit-map"]');
    expect([map.width, map.height]).toEqual([w, h]);

    // per-layer normalization shows the layer's numeric range
    await ui.page.click('[data-testid="norm-toggle"] button:has-text("per layer")');
    await expect.poll(() => ui.page.textContent('[data-testid="layer-colorbar"]')).toMatch(/\d/);

    const hoverUnit = async (r: number, c: number): Promise<void> => {
      // the mouse moves in viewport coordinates: bring the map on screen first
      await ui.page.locator('[data-testid="unit-hover"]').scrollIntoViewIfNeeded();
      const box = (await ui.page.locator('[data-testid="unit-hover"]').boundingBox())!;
      await ui.page.mouse.move(box.x + ((c + 0.5) * box.width) / w!, box.y + ((r + 0.5) * box.height) / h!);
      await ui.page.waitForSelector(`[data-testid="rf-overlay"][data-unit="${r},${c}"]`);
    };
    const input = await api<{ input: { width: number; height: number } }>('/api/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'builtin', image: SAMPLE }),
    });
    const { width: iw, height: ih } = input.input;

    // a unit in the corner: its field is clipped to the image
    await hoverUnit(0, 0);
    expect(await ui.page.getAttribute('[data-testid="rf-overlay"]', 'data-rf')).toBe(expectedBox(rf, 0, 0, ih, iw).join(','));

    // an inner unit: check the attribute and the drawn box itself
    const [r, c] = [3, 4];
    await hoverUnit(r, c);
    const want = expectedBox(rf, r, c, ih, iw);
    expect(await ui.page.getAttribute('[data-testid="rf-overlay"]', 'data-rf')).toBe(want.join(','));
    const [top, left, bottom, right] = want as [number, number, number, number];
    const px = await ui.page.$eval(
      '[data-testid="rf-overlay"]',
      (el, a) => {
        const cv = el as HTMLCanvasElement;
        const sx = cv.width / a.iw;
        const sy = cv.height / a.ih;
        const ctx = cv.getContext('2d')!;
        const at = (x: number, y: number): number[] => [...ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data];
        const midY = ((a.top + a.bottom + 1) / 2) * sy;
        const midX = ((a.left + a.right + 1) / 2) * sx;
        return {
          leftEdge: at(a.left * sx + 1, midY),
          rightEdge: at((a.right + 1) * sx - 1, midY),
          topEdge: at(midX, a.top * sy + 1),
          bottomEdge: at(midX, (a.bottom + 1) * sy - 1),
          inside: at(midX, midY),
          outsideLeft: at(Math.max(0, a.left * sx - 3), midY),
          outsideBelow: at(midX, Math.min(cv.height - 1, (a.bottom + 1) * sy + 3)),
        };
      },
      { top, left, bottom, right, iw, ih },
    );
    const amber = (p: number[]): boolean => p[0]! > 200 && p[1]! > 120 && p[1]! < 200 && p[2]! < 60 && p[3]! > 200;
    expect(amber(px.leftEdge), `left edge ${px.leftEdge}`).toBe(true);
    expect(amber(px.rightEdge), `right edge ${px.rightEdge}`).toBe(true);
    expect(amber(px.topEdge), `top edge ${px.topEdge}`).toBe(true);
    expect(amber(px.bottomEdge), `bottom edge ${px.bottomEdge}`).toBe(true);
    expect(px.inside[3], 'inside the field the image shows through').toBe(0);
    if (left > 0) expect(px.outsideLeft[3], 'outside the field is dimmed').toBeGreaterThan(100);
    if (bottom < ih - 1) expect(px.outsideBelow[3], 'outside the field is dimmed').toBeGreaterThan(100);
    expect(await ui.page.textContent('[data-testid="unit-info"]')).toContain(`rows ${top}–${bottom}, columns ${left}–${right}`);
    await ui.shot('03-feature-maps');
  });

  it('shows filters as images', async () => {
    await ui.page.click('[data-testid="layer-conv1"]');
    await ui.page.waitForSelector('[data-testid="filters-panel"] [data-testid="filter-0"]');
    expect(await ui.page.textContent('[data-testid="filters-panel"] h2')).toContain('conv1');
    const filters = await api<{ weights: { dims: number[] }; layers: string[] }>('/api/models/builtin/filters?layer=conv1');
    expect(await ui.page.locator('[data-testid="filter-grid"] .filter-tile').count()).toBe(filters.weights.dims[0]);
    await expectNonBlank('[data-testid="filter-0"] canvas');
    // a deeper layer: one row per filter, one tile per input channel, or the mean
    await ui.page.click('[data-testid="layer-relu2"]');
    await expect.poll(() => ui.page.textContent('[data-testid="filters-panel"] h2')).toContain('conv2');
    await ui.page.click('[data-testid="filter-mode"] button:has-text("every input channel")');
    await ui.page.waitForSelector('[data-testid="filters-panel"] canvas.matrix');
    await expectNonBlank('[data-testid="filters-panel"] canvas.matrix');
    expect(await ui.page.textContent('[data-testid="filter-caption"]')).toMatch(/Column k is filter k/);
    await ui.page.locator('[data-testid="filters-panel"]').scrollIntoViewIfNeeded();
    await ui.shot('04-filters');
    await ui.page.click('[data-testid="filter-mode"] button:has-text("mean over inputs")');
    await ui.page.waitForSelector('[data-testid="filters-panel"] [data-testid="filter-31"]');
  });

  it('runs feature ablation and KernelSHAP over superpixels with the segment parameters', async () => {
    await openTab('explain');
    await ui.page.waitForSelector('[data-testid="method-feature-ablation"]');
    for (const m of ['gradient', 'saliency', 'input-x-gradient', 'smoothgrad', 'smoothgrad-sq', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'guided-gradcam', 'occlusion', 'feature-ablation', 'kernel-shap', 'lime']) {
      await ui.page.setChecked(`[data-testid="method-${m}"]`, m === 'feature-ablation' || m === 'kernel-shap');
    }
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    await ui.page.fill('[data-testid="segment-count"]', '12');
    await ui.page.fill('[data-testid="segment-samples"]', '40');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="map-kernel-shap"]', { timeout: 60_000 });
    await ui.page.waitForSelector('[data-testid="map-feature-ablation"]');
    await expect.poll(() => ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    for (const m of ['feature-ablation', 'kernel-shap']) await expectNonBlank(`[data-testid="overlay-${m}"]`);
  });

  it('runs Grad-CAM and occlusion as a job and overlays the maps', async () => {
    await openTab('explain');
    await ui.page.waitForSelector('[data-testid="method-gradcam"]');
    for (const m of ['gradient', 'saliency', 'input-x-gradient', 'smoothgrad', 'smoothgrad-sq', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'guided-gradcam', 'occlusion']) {
      await ui.page.setChecked(`[data-testid="method-${m}"]`, m === 'gradcam' || m === 'occlusion');
    }
    await ui.page.setChecked('[data-testid="explain-metrics"]', true);
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="map-gradcam"]', { timeout: 60_000 });
    await ui.page.waitForSelector('[data-testid="map-occlusion"]');
    await expect.poll(() => ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    const plain = await canvasStats('[data-testid="overlay-input"]');
    for (const m of ['gradcam', 'occlusion']) {
      await expectNonBlank(`[data-testid="overlay-${m}"]`);
      // the heatmap adds colour the gray input does not have
      const s = await canvasStats(`[data-testid="overlay-${m}"]`);
      expect(s.distinct).toBeGreaterThan(plain.distinct);
      expect(await ui.page.textContent(`[data-testid="map-${m}"] .colorbar`)).toMatch(/\d/);
    }
    // deletion / insertion curves, with AUCs
    await ui.page.waitForSelector('[data-testid="curve-deletion"] canvas');
    await expectDrawn('[data-testid="curve-deletion"] canvas');
    await expectDrawn('[data-testid="curve-insertion"] canvas');
    expect(await ui.page.textContent('[data-testid="auc-table"]')).toMatch(/Grad-CAM\s*-?[\d.]+/);
    // the opacity slider redraws the overlay
    const before = await canvasStats('[data-testid="overlay-gradcam"]');
    await ui.page.fill('[data-testid="overlay-opacity"]', '1');
    await expect.poll(async () => (await canvasStats('[data-testid="overlay-gradcam"]')).std).not.toBe(before.std);
    await ui.page.fill('[data-testid="overlay-opacity"]', '0.6');
    await ui.shot('05-explanations');
  });

  it('a long job streams progress, can be cancelled, and the page stays usable', async () => {
    await openTab('explain');
    for (const m of ['gradcam', 'occlusion', 'smoothgrad', 'integrated-gradients']) await ui.page.setChecked(`[data-testid="method-${m}"]`, m !== 'gradcam');
    await ui.page.fill('[data-testid="occlusion-window"]', '1');
    await ui.page.fill('[data-testid="occlusion-stride"]', '1');
    await ui.page.fill('[data-testid="smoothgrad-samples"]', '500');
    await ui.page.fill('[data-testid="ig-steps"]', '1000');
    // a double click starts one job (it started two, and the page could cancel only the second)
    let posts = 0;
    const countPosts = (r: { method(): string; url(): string }): void => {
      if (r.method() === 'POST' && r.url().endsWith('/api/explain')) posts++;
    };
    ui.page.on('request', countPosts);
    await ui.page.dblclick('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="job-progress"]');
    ui.page.off('request', countPosts);
    expect(posts).toBe(1);
    expect(await ui.page.textContent('[data-testid="tab-explain"]')).toMatch(/%|…/);
    // counts of work done, not fractions of it ("2.6923076923076925/4")
    await expect.poll(() => ui.page.textContent('[data-testid="job-phase"]'), { timeout: 20_000 }).toMatch(/· \d+\/\d+/);
    expect(await ui.page.textContent('[data-testid="job-phase"]')).not.toMatch(/\d\.\d+\//);
    // the rest of the page answers while the job runs
    await pickImage('fashion-mnist/sneaker-test9.png');
    const cancelled = await ui.page
      .click('[data-testid="explain-cancel"]', { timeout: 2_000 })
      .then(() => true)
      .catch(() => false);
    await ui.page.waitForSelector(cancelled ? '[data-testid="explain-notice"]:has-text("Cancelled"), [data-testid="map-occlusion"]' : '[data-testid="map-occlusion"]');
    // The earlier test's maps are still shown: the job has ended when its progress bar goes (the
    // cancel reaches the job's worker process and comes back through the event stream).
    await ui.page.waitForSelector('[data-testid="job-progress"]', { state: 'hidden', timeout: 10_000 });
    expect(await ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    expect(await ui.page.isVisible('[data-testid="job-progress"]')).toBe(false);
    await ui.shot('06-job-cancelled');
  });

  it('computes the same explanations in the browser (engine worker, onnxruntime-web); raw results download as .npy', async () => {
    await openTab('explain');
    await pickImage(SAMPLE);
    const chosen = ['gradient', 'saliency', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'gradcam', 'layercam', 'deeplift', 'gradient-shap', 'lrp', 'xgradcam', 'eigencam', 'ablationcam', 'fullgrad'];
    for (const m of ['gradient', 'saliency', 'input-x-gradient', 'smoothgrad', 'smoothgrad-sq', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'deeplift', 'deeplift-shap', 'gradient-shap', 'lrp', 'cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'xgradcam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam', 'fullgrad', 'guided-gradcam', 'occlusion']) {
      await ui.page.setChecked(`[data-testid="method-${m}"]`, chosen.includes(m));
    }
    await ui.page.fill('[data-testid="ig-steps"]', '32');
    await ui.page.selectOption('[data-testid="ig-rule"]', 'riemann-trapezoid');
    await ui.page.selectOption('[data-testid="saliency-reduce"]', 'sum');
    await ui.page.fill('[data-testid="shap-samples"]', '8');
    await ui.page.selectOption('[data-testid="lrp-composite"]', 'epsilon-plus-flat');
    await ui.page.setChecked('[data-testid="cam-eigen-smooth"]', true);
    await ui.page.setChecked('[data-testid="explain-metrics"]', true);
    // Fifteen methods' downloads on a machine shared with other test files: give each a minute.
    // Headless Chromium now and then drops one of many quick successive downloads although the
    // page did its part (traced: a trusted click, user activation, the anchor clicked with the
    // file name), and the same click again downloads at once; so one more click, never more.
    const clickForDownload = (m: string, timeout: number) => Promise.all([ui.page.waitForEvent('download', { timeout }), ui.page.click(`[data-testid="npy-${m}"]`)]);
    const downloadRaw = async (m: string): Promise<Tensor> => {
      const [download] = await clickForDownload(m, 20_000)
        .catch(() => clickForDownload(m, 60_000))
        .catch(async (e: Error) => {
          await ui.shot(`06x-no-download-${m}`);
          throw new Error(`${m}: ${e.message}`);
        });
      expect(download.suggestedFilename()).toBe(`${SAMPLE.replace(/^.*\//, '').replace(/\.png$/, '')}-${m}.npy`);
      return parseNpy(readFileSync((await download.path())!), download.suggestedFilename());
    };
    const runOn = async (where: 'server' | 'this browser'): Promise<Map<string, Tensor>> => {
      await ui.page.click(`[data-testid="explain-where"] button:has-text("${where}")`);
      await ui.page.click('[data-testid="explain-run"]');
      await ui.page.waitForSelector(`text=computed ${where === 'server' ? 'on the server' : 'in this browser'}`, { timeout: 90_000 });
      // The previous test's Grad-CAM result also says "computed on the server": wait for this
      // run's last method (fifteen methods with their curves take a while on a loaded machine).
      await ui.page.waitForSelector(`[data-testid="npy-${chosen.at(-1)}"]`, { timeout: 180_000 });
      await ui.page.waitForSelector('[data-testid="auc-table"]');
      expect(await ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
      const raw = new Map<string, Tensor>();
      for (const m of chosen) raw.set(m, await downloadRaw(m));
      return raw;
    };
    const server = await runOn('server');
    const asked: string[] = [];
    const onRequest = (r: { method(): string; url(): string }): void => void asked.push(`${r.method()} ${new URL(r.url()).pathname}`);
    ui.page.on('request', onRequest);
    const browser = await runOn('this browser');
    ui.page.off('request', onRequest);
    // The page fetched the model and the input tensor, and computed everything else itself.
    expect(asked).toContain('POST /api/input');
    expect(asked.filter((r) => r.startsWith('POST /api/explain'))).toEqual([]);
    for (const m of chosen) await expectNonBlank(`[data-testid="overlay-${m}"]`);
    await ui.shot('06b-explained-in-browser');
    // Same model, same input tensor, same graphs; only the kernels differ (WebAssembly vs native
    // x64, other summation orders): float32 rounding. Measured: at most 5.0e-7 of the map's
    // largest value (VarGrad); the bound, 1e-5, is 20x that and far below what a picture shows.
    // (VarGrad's noise is seeded, so both sides draw the same samples.)
    for (const m of chosen) {
      const a = server.get(m)!;
      const b = browser.get(m)!;
      expect(b.dims, m).toEqual(a.dims);
      const x = a.data as Float32Array;
      const y = b.data as Float32Array;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < x.length; i++) {
        scale = Math.max(scale, Math.abs(x[i]!));
        diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
      }
      expect(scale, `${m} is not all zero`).toBeGreaterThan(0);
      expect(diff / scale, m).toBeLessThan(1e-5);
    }
    expect(server.get('gradient')!.dims).toEqual([1, 1, 28, 28]);
    expect(server.get('gradcam')!.dims).toEqual([1, 1, 3, 3]);

    // A long computation in the browser shows progress and stops when cancelled.
    await ui.page.setChecked('[data-testid="method-smoothgrad"]', true);
    await ui.page.fill('[data-testid="smoothgrad-samples"]', '500');
    await ui.page.fill('[data-testid="ig-steps"]', '1000');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForFunction(() => /in this browser/.test(document.querySelector('[data-testid="job-phase"]')?.textContent ?? ''));
    await ui.page.click('[data-testid="explain-cancel"]');
    await ui.page.waitForSelector('[data-testid="explain-notice"]:has-text("Cancelled")', { timeout: 30_000 });
    expect(await ui.page.isVisible('[data-testid="job-progress"]')).toBe(false);
    expect(await ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    await ui.page.fill('[data-testid="smoothgrad-samples"]', '25');
    await ui.page.fill('[data-testid="ig-steps"]', '32');
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
  });

  it('explains the cat photo with a CAM layer and a target picked by typing; methods are enabled as /api/models says', async () => {
    await pickImage('photos/chelsea.png');
    await openTab('explain');
    const models = await api<{ models: { id: string; unavailableMethods?: Record<string, { reason: string }> }[] }>('/api/models');
    const ruledOut = models.models.find((m) => m.id === 'builtin')!.unavailableMethods ?? {};
    for (const m of ['gradient', 'saliency', 'integrated-gradients', 'cam', 'gradcam', 'scorecam', 'occlusion']) {
      expect(await ui.page.locator(`[data-testid="method-${m}"]`).isDisabled(), m).toBe(m in ruledOut);
      await ui.page.setChecked(`[data-testid="method-${m}"]`, m === 'gradcam' || m === 'saliency');
    }
    for (const m of ['smoothgrad', 'smoothgrad-sq', 'vargrad', 'input-x-gradient', 'guided-backprop', 'deconvnet', 'gradcam++', 'layercam', 'guided-gradcam']) await ui.page.setChecked(`[data-testid="method-${m}"]`, false);
    // the CAM layer: typed, the list narrows to it, Enter picks it
    await ui.page.click('[data-testid="explain-layer"]');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('relu2');
    await ui.page.waitForSelector('[data-testid="explain-layer-list"] li[data-value="relu2"]');
    expect(await ui.page.getAttribute('[data-testid="explain-layer-list"] li[role="option"] >> nth=0', 'data-value')).toBe('relu2');
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.inputValue('[data-testid="explain-layer"]')).toBe('relu2');
    // the target: typed by name
    await ui.page.click('[data-testid="explain-target"]');
    await ui.page.keyboard.type('boot');
    expect(await ui.page.locator('[data-testid="explain-target-list"] li[role="option"]').allTextContents()).toEqual(['9 · Ankle boot']);
    await ui.page.keyboard.press('Enter');
    expect(await ui.page.inputValue('[data-testid="explain-target"]')).toBe('9 · Ankle boot');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('[data-testid="explain-made"]:has-text("image chelsea")', { timeout: 60_000 });
    const made = await ui.page.textContent('[data-testid="explain-made"]');
    expect(made).toContain('class 9 (Ankle boot)');
    expect(made).toMatch(/Fashion-MNIST/);
    // Grad-CAM ran at the picked layer: its raw map has relu2's 14x14 grid (relu4's is 3x3)
    expect(await ui.page.textContent('[data-testid="npy-gradcam"]')).toContain('[1×1×14×14]');
    await expectNonBlank('[data-testid="overlay-gradcam"]');
    await expectNonBlank('[data-testid="overlay-saliency"]');
    await pickImage(SAMPLE);
  });

  it('uploads: a dropped image joins the gallery; bad files show the server error and the page keeps working', async () => {
    // drag and drop a PNG onto the page
    await ui.page.evaluate(async (url) => {
      const blob = await (await fetch(url)).blob();
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'dropped-coat.png', { type: 'image/png' }));
      window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, `/api/image?id=${encodeURIComponent('fashion-mnist/coat-test6.png')}`);
    await ui.page.waitForSelector('.gallery-heading:has-text("Your uploads")');
    await ui.page.waitForSelector('.gallery [aria-pressed="true"][title="dropped-coat"]');
    await ui.page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false');
    await expectNonBlank('[data-testid="model-input"]');

    // a thumbnail smaller than the model's input: the prediction says it was scaled up
    const { default: sharp } = await import('sharp');
    const thumb = await sharp(Buffer.from(Array.from({ length: 10 * 10 }, (_, i) => (i * 37) % 256)), { raw: { width: 10, height: 10, channels: 1 } }).png().toBuffer();
    await ui.page.setInputFiles('[data-testid="image-file"]', { name: 'thumb.png', mimeType: 'image/png', buffer: thumb });
    await ui.page.waitForSelector('.gallery [aria-pressed="true"][title="thumb"]');
    await ui.page.waitForSelector('[data-testid="prediction-warning"]');
    expect(await ui.page.textContent('[data-testid="prediction-warning"]')).toMatch(/^The input is scaled up 2x or more to the model's 28x28 input: "thumb" \(10x10, 2\.8x\)\. The model sees a blurred picture/);
    await ui.page.locator('[data-testid="prediction-panel"]').scrollIntoViewIfNeeded();
    await ui.shot('12-prediction-scaled-up');

    // not an image: 415 with the server's message
    await ui.page.setInputFiles('[data-testid="image-file"]', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('these are not the pixels you are looking for') });
    await ui.page.waitForSelector('[data-testid="image-error"]');
    expect(await ui.page.textContent('[data-testid="image-error"]')).toMatch(/"notes.png" is not a PNG, JPEG or WebP image[\s\S]*415 · INPUT_UNREADABLE/);
    // too large: 413
    const big = Buffer.alloc(17 * 1024 * 1024, 0);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(big);
    // from a file, not a buffer: Playwright sends buffers through the debugging protocol, which
    // takes tens of seconds for 17 MB on a loaded machine
    const hugePath = join(tempFolder('convlens-e2e-'), 'huge.png');
    writeFileSync(hugePath, big);
    await ui.page.setInputFiles('[data-testid="image-file"]', hugePath);
    await expect.poll(() => ui.page.textContent('[data-testid="image-error"]'), { timeout: 20_000 }).toMatch(/too large[\s\S]*16 MB[\s\S]*413/);

    // a model with an op the engine cannot handle: 422, op and node named
    const bad = encodeModel(
      handGraph({
        opset: 17,
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 8, 8] }],
        outputs: ['y'],
        nodes: [node('Relu', ['x'], ['r'], {}, 'relu0'), node('Hardmax', ['r'], ['y'], {}, 'mystery_mix')],
      }),
    );
    await ui.page.setInputFiles('[data-testid="model-file"]', { name: 'exotic.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bad) });
    await ui.page.waitForSelector('[data-testid="model-error"]');
    const msg = await ui.page.textContent('[data-testid="model-error"]');
    expect(msg).toContain('Hardmax');
    expect(msg).toContain('mystery_mix');
    await ui.page.locator('[data-testid="model-panel"]').scrollIntoViewIfNeeded();
    await ui.shot('07-upload-errors');

    // still working: the built-in model is selected and predicts a newly picked sample
    expect(await ui.page.$eval('[data-testid="model-select"]', (e) => (e as HTMLSelectElement).value)).toBe('builtin');
    expect(await ui.page.locator('[data-testid="model-select"] option:has-text("exotic.onnx")').isDisabled()).toBe(true);
    await pickImage('fashion-mnist/trouser-test2.png');
    expect(await ui.page.locator('[data-testid="prediction-bars"] li').count()).toBe(5);
    await expectNonBlank('[data-testid="model-input"]');
  });

  it('an upload named with markup and 200 characters shows escaped and shortened in the warning and the explanation caption, the page no wider', async () => {
    const { default: sharp } = await import('sharp');
    const thumb = await sharp(Buffer.from(Array.from({ length: 10 * 10 }, (_, i) => (i * 53) % 256)), { raw: { width: 10, height: 10, channels: 1 } }).png().toBuffer();
    const markup = '<img src=x onerror="window.__injected=1">';
    const name = `${markup}${'n'.repeat(200 - markup.length - 4)}.png`;
    await ui.page.setInputFiles('[data-testid="image-file"]', { name, mimeType: 'image/png', buffer: thumb });
    await ui.page.waitForSelector('[data-testid="prediction-warning"]');
    const warning = (await ui.page.textContent('[data-testid="prediction-warning"]'))!;
    // the name is quoted as text, its middle cut out (it ran 196 characters through the sentence)
    const quoted = /input: "([^"]*)" \(10x10/.exec(warning)?.[1];
    expect(quoted, warning).toBeDefined();
    expect(quoted!.startsWith('<img src=x onerror=')).toBe(true);
    expect(quoted).toContain('…');
    expect([...quoted!].length).toBeLessThanOrEqual(48);
    expect(await ui.page.locator('[data-testid="prediction-warning"] img').count()).toBe(0);
    // the caption of an explanation of it
    await openTab('explain');
    for (const m of ['gradient', 'saliency', 'input-x-gradient', 'smoothgrad', 'smoothgrad-sq', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'guided-gradcam', 'occlusion', 'feature-ablation', 'kernel-shap', 'lime']) {
      await ui.page.setChecked(`[data-testid="method-${m}"]`, m === 'gradient');
    }
    await ui.page.setChecked('[data-testid="explain-metrics"]', false);
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
    await ui.page.click('[data-testid="explain-run"]');
    await expect.poll(() => ui.page.textContent('[data-testid="explain-made"]'), { timeout: 60_000 }).toMatch(/image <img src=x onerror=\S*…n+ ·/);
    expect([...(/image (\S+) ·/.exec((await ui.page.textContent('[data-testid="explain-made"]'))!)?.[1] ?? '')].length).toBeLessThanOrEqual(48);
    expect(await ui.page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
    // nothing pushes the page sideways (a 200-character word did, to 1740 px in a 1440 px window)
    expect(await ui.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1440);
    await ui.shot('12b-hostile-upload-name');
  });

  it('raised no page errors', () => {
    expect(ui.errors).toEqual([]);
  });
});
