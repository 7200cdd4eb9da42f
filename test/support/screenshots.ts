// Screenshots from the studio's end-to-end tests, for a person to look at what a test checked. They
// are side output, off by default: a plain `npm test` writes none (the tests used to fill fixed
// folders under /tmp on every run, named after long-gone work sessions, that nobody removed).
// With CONVLENS_TEST_SHOTS naming a folder they go to <that folder>/<test file>/<name>.png, e.g.
// test-artifacts/shots/channels-e2e/channels-ranked.png for CONVLENS_TEST_SHOTS=test-artifacts/shots
// (git ignores test-artifacts/). No assertion may depend on them.
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Locator, LocatorScreenshotOptions, Page, PageScreenshotOptions } from 'playwright-core';
import { expect } from 'vitest';

export const SHOTS_VARIABLE = 'CONVLENS_TEST_SHOTS';

/** The folder for the running test file's screenshots, or undefined when CONVLENS_TEST_SHOTS is unset or empty. */
export function screenshotFolder(): string | undefined {
  const root = process.env[SHOTS_VARIABLE];
  if (!root) return undefined;
  const testPath = expect.getState().testPath;
  if (testPath === undefined) throw new Error('saveScreenshot must be called inside a test: its folder is named after the test file.');
  return join(resolve(root), basename(testPath).replace(/\.test\.m?ts$/, ''));
}

/** Whether screenshots are taken: a test that must move the page for a screenshot (scroll it to the top) does so only then. */
export function screenshotsWanted(): boolean {
  return Boolean(process.env[SHOTS_VARIABLE]);
}

/** Saves `<name>.png` of a page or a locator into the running test file's screenshot folder; does nothing when CONVLENS_TEST_SHOTS is unset. */
export async function saveScreenshot(target: Page, name: string, options?: Omit<PageScreenshotOptions, 'path'>): Promise<void>;
export async function saveScreenshot(target: Locator, name: string, options?: Omit<LocatorScreenshotOptions, 'path'>): Promise<void>;
export async function saveScreenshot(target: Page | Locator, name: string, options: Omit<PageScreenshotOptions, 'path'> & Omit<LocatorScreenshotOptions, 'path'> = {}): Promise<void> {
  const folder = screenshotFolder();
  if (folder === undefined) return;
  mkdirSync(folder, { recursive: true });
  await target.screenshot({ ...options, path: join(folder, `${name}.png`) });
}
