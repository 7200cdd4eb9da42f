// The studio's end-to-end tests save screenshots only where CONVLENS_TEST_SHOTS says, one folder per
// test file (test/support/screenshots.ts); unset, they save none and the page is not touched.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { saveScreenshot, SHOTS_VARIABLE, screenshotsWanted } from '../support/screenshots.js';
import { tempFolder } from '../support/temp-folder.js';

const before = process.env[SHOTS_VARIABLE];
afterEach(() => {
  if (before === undefined) delete process.env[SHOTS_VARIABLE];
  else process.env[SHOTS_VARIABLE] = before;
});

/** A stand-in page that records where it was asked to save. */
function recordingPage(): { page: Page; paths: string[] } {
  const paths: string[] = [];
  return { page: { screenshot: async (o: { path: string }) => void paths.push(o.path) } as unknown as Page, paths };
}

describe('screenshots from the end-to-end tests', () => {
  it('are not taken without CONVLENS_TEST_SHOTS', async () => {
    delete process.env[SHOTS_VARIABLE];
    const { page, paths } = recordingPage();
    await saveScreenshot(page, 'anything', { fullPage: true });
    expect(screenshotsWanted()).toBe(false);
    expect(paths).toEqual([]);
  });

  it('go to <CONVLENS_TEST_SHOTS>/<test file>/<name>.png', async () => {
    const folder = tempFolder('convlens-shots-');
    process.env[SHOTS_VARIABLE] = folder;
    const { page, paths } = recordingPage();
    await saveScreenshot(page, 'the-panel');
    expect(screenshotsWanted()).toBe(true);
    expect(paths).toEqual([join(folder, 'screenshots', 'the-panel.png')]);
  });
});
