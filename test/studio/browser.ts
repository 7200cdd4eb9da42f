/// <reference lib="dom" />
// The studio's end-to-end tests all drive the built page in Debian's Chromium through
// playwright-core (`npx playwright install` cannot download browsers on this machine): one place
// that starts the server, launches Chromium with the flags this sandbox needs, collects the
// page's errors and takes screenshots (where CONVLENS_TEST_SHOTS asks: test/support/screenshots.ts).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, DEFAULT_WEB_DIR, type Studio, type StudioOptions } from '../../src/interfaces/server/app.js';
import { saveScreenshot } from '../support/screenshots.js';
import { tempFolder } from '../support/temp-folder.js';

const CHROMIUM = process.env['CONVLENS_CHROMIUM'] ?? '/usr/bin/chromium';

// Without the networking flags Chromium's background connections are refused by this machine's
// closed network, many at a time; a fresh user-data-dir keeps runs independent.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export interface StudioPage {
  page: Page;
  /** http://127.0.0.1:PORT of the studio under test. */
  base: string;
  /** Uncaught page errors and console errors (refused uploads' failed loads excepted). */
  errors: string[];
  /** Scrolls to the top and saves a full-page screenshot <name>.png where CONVLENS_TEST_SHOTS asks (test/support/screenshots.ts). */
  shot(name: string): Promise<void>;
  /** Closes Chromium and removes its profile; the studio and engine stay the caller's. */
  close(): Promise<void>;
}

export interface OpenOptions {
  timeout?: number;
  /** more Chromium flags (e.g. --host-resolver-rules) */
  args?: string[];
  /** the first page's path (default '/'; a token studio needs '/?token=...') */
  path?: (studio: Studio) => string;
}

export async function openStudioPage(studio: Studio, options: OpenOptions = {}): Promise<StudioPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed (${CHROMIUM} is missing). The studio end-to-end tests drive Debian's chromium: ` +
        "install it with `sudo apt-get install -y chromium` (CI's .ci/run does), or point CONVLENS_CHROMIUM at a Chromium binary.",
    );
  }
  if (!existsSync(join(DEFAULT_WEB_DIR, 'index.html'))) throw new Error(`The studio page is not built (${DEFAULT_WEB_DIR}): run \`npm run build\` first.`);
  const base = (await studio.app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  const userDir = tempFolder('convlens-chromium-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...(options.args ?? [])], viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  } catch (e) {
    rmSync(userDir, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(options.timeout ?? 30_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  await page.goto(base + (options.path?.(studio) ?? '/'));
  return {
    page,
    base,
    errors,
    async shot(name) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await saveScreenshot(page, name, { fullPage: true });
    },
    async close() {
      await context.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

export interface StudioFixture {
  readonly page: Page;
  /** page errors so far (see StudioPage.errors) */
  readonly errors: string[];
  readonly base: string;
  readonly studio: Studio;
  readonly engine: Engine;
  shot(name: string): Promise<void>;
}

/**
 * What every studio end-to-end file needs: an engine, the studio in-process, and its page open in
 * Chromium, from beforeAll to afterAll. `setup` runs before the studio starts (environment it
 * reads), `teardown` after everything closed. A missing browser fails every test in beforeAll,
 * with the way to install it.
 */
export function studioInChromium(
  options: OpenOptions & { setup?: () => void; teardown?: () => void; afterOpen?: (page: Page) => Promise<void>; studio?: Partial<StudioOptions> } = {},
): StudioFixture {
  const engine = new Engine(nodeBackend(), { threads: 2 });
  let studio: Studio | undefined;
  let opened: StudioPage | undefined;
  beforeAll(async () => {
    options.setup?.();
    studio = await createStudio({ engine, ...options.studio });
    opened = await openStudioPage(studio, options);
    await options.afterOpen?.(opened.page);
  }, 60_000);
  afterAll(async () => {
    await opened?.close();
    await studio?.app.close();
    await engine.dispose();
    options.teardown?.();
  });
  const open = (): StudioPage => {
    if (!opened) throw new Error('The studio page is not open: beforeAll failed (see its error).');
    return opened;
  };
  return {
    get page() {
      return open().page;
    },
    get errors() {
      return open().errors;
    },
    get base() {
      return open().base;
    },
    get studio() {
      if (!studio) throw new Error('The studio did not start: beforeAll failed (see its error).');
      return studio;
    },
    engine,
    shot: async (name) => {
      await opened?.shot(name);
    },
  };
}

export interface PixelStats {
  width: number;
  height: number;
  /** distinct RGB colours */
  distinct: number;
  /** luminance: spread, lowest and highest */
  std: number;
  min: number;
  max: number;
  /** fraction of pixels that are not fully transparent */
  opaque: number;
}

/** Pixel statistics of a <canvas> or a loaded <img> (drawn into a canvas first): is it drawn, does it vary? */
export async function pixelStats(page: Page, selector: string): Promise<PixelStats> {
  await page.waitForSelector(selector, { state: 'visible' });
  await page.waitForFunction((s) => {
    const el = document.querySelector(s);
    return el instanceof HTMLCanvasElement || (el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0);
  }, selector);
  return page.$eval(selector, (el) => {
    let c: HTMLCanvasElement;
    if (el instanceof HTMLImageElement) {
      c = document.createElement('canvas');
      c.width = el.naturalWidth;
      c.height = el.naturalHeight;
      c.getContext('2d')!.drawImage(el, 0, 0);
    } else c = el as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<number>();
    let sum = 0;
    let sq = 0;
    let opaque = 0;
    let min = 255;
    let max = 0;
    const n = d.length / 4;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      const l = 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
      sum += l;
      sq += l * l;
      min = Math.min(min, l);
      max = Math.max(max, l);
      if (d[i + 3]! > 0) opaque++;
    }
    const mean = sum / n;
    return { width: c.width, height: c.height, distinct: colours.size, std: Math.sqrt(Math.max(0, sq / n - mean * mean)), min, max, opaque: opaque / n };
  });
}

/** Moves a range input as a user would: React sees an input event with the new value. */
export async function setRange(page: Page, selector: string, value: number): Promise<void> {
  await page.$eval(
    selector,
    (el, v) => {
      const input = el as HTMLInputElement;
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(v));
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}
