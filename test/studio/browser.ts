/// <reference lib="dom" />
// The studio's end-to-end tests all drive the built page in Debian's Chromium through
// playwright-core (`npx playwright install` cannot download browsers on this machine): one place
// that starts the server, launches Chromium with the flags this sandbox needs, collects the
// page's errors and takes screenshots.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, DEFAULT_WEB_DIR, type Studio } from '../../src/interfaces/server/app.js';

const CHROMIUM = process.env['CONVLENS_CHROMIUM'] ?? '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'studio');

// Without the networking flags Chromium's background connections are refused by this machine's
// closed network, many at a time; a fresh user-data-dir keeps runs independent.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export interface StudioPage {
  page: Page;
  /** http://127.0.0.1:PORT of the studio under test. */
  base: string;
  /** Uncaught page errors and console errors (refused uploads' failed loads excepted). */
  errors: string[];
  /** Full-page screenshot into test-artifacts/studio/<name>.png. */
  shot(name: string): Promise<void>;
  /** Closes Chromium and removes its profile; the studio and engine stay the caller's. */
  close(): Promise<void>;
}

export async function openStudioPage(studio: Studio, options: { timeout?: number } = {}): Promise<StudioPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed (${CHROMIUM} is missing). The studio end-to-end tests drive Debian's chromium: ` +
        "install it with `sudo apt-get install -y chromium` (CI's .ci/run does), or point CONVLENS_CHROMIUM at a Chromium binary.",
    );
  }
  if (!existsSync(join(DEFAULT_WEB_DIR, 'index.html'))) throw new Error(`The studio page is not built (${DEFAULT_WEB_DIR}): run \`npm run build\` first.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const base = (await studio.app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  const userDir = mkdtempSync(join(tmpdir(), 'convlens-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
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
  await page.goto(base + '/');
  return {
    page,
    base,
    errors,
    async shot(name) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
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
export function studioInChromium(options: { timeout?: number; setup?: () => void; teardown?: () => void; afterOpen?: (page: Page) => Promise<void> } = {}): StudioFixture {
  const engine = new Engine(nodeBackend(), { threads: 2 });
  let studio: Studio | undefined;
  let opened: StudioPage | undefined;
  beforeAll(async () => {
    options.setup?.();
    studio = await createStudio({ engine });
    opened = await openStudioPage(studio, options.timeout ? { timeout: options.timeout } : {});
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
