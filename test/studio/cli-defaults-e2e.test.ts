/// <reference lib="dom" />
// The studio with its fields untouched computes what the CLI computes with no flags: the page
// had defaults of its own (Integrated Gradients 32 steps, SmoothGrad 25 samples, the channel
// ranking's IG 32 steps) where `convlens explain` and `convlens channels` run 50, so the same
// method on the same image gave another map in the studio than on the command line.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOKEN_HEADER } from '../../src/interfaces/server/access.js';
import { convlens } from '../support/cli.js';
import { studioInChromium } from './browser.js';
import { tempFolder } from '../support/temp-folder.js';

const ui = studioInChromium({ timeout: 60_000 });
const BAG = 'fashion-mnist/bag-test18.png';
const tmp = tempFolder('convlens-cli-defaults-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface MethodParams {
  method: string;
  params?: Record<string, unknown>;
}

/** The last event of a job the page started: its result. */
async function jobResult<T>(job: string): Promise<T> {
  const events = await (await fetch(`${ui.base}/api/jobs/${job}/events`, { headers: { [TOKEN_HEADER]: ui.studio.access.token } })).text();
  const last = events.split('\n\n').filter((c) => c.includes('data: ')).at(-1)!;
  const event = JSON.parse(last.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { type: string; result: T };
  expect(event.type).toBe('result');
  return event.result;
}

/** The parameters each method ran with, by method. */
const byMethod = (list: MethodParams[]): Record<string, Record<string, unknown> | undefined> => Object.fromEntries(list.map((m) => [m.method, m.params]));

describe('studio defaults are the CLI defaults (Chromium, built-in CNN)', () => {
  it('explains with Integrated Gradients and SmoothGrad as `convlens explain` does with no flags', async () => {
    const cli = await convlens('explain', `samples/${BAG}`, '--method', 'integrated-gradients,smoothgrad', '--no-images', '-q', '-o', join(tmp, 'explain'));
    expect(cli.code, cli.stderr).toBe(0);
    const want = byMethod((JSON.parse(readFileSync(join(tmp, 'explain', 'summary.json'), 'utf8')) as { methods: MethodParams[] }).methods);

    const { page } = ui;
    await page.click(`[data-testid="image-${BAG}"]`);
    await page.click('[data-testid="tab-explain"]');
    await page.waitForSelector('[data-testid="method-integrated-gradients"]');
    for (const box of await page.$$('input[data-testid^="method-"]')) {
      const id = (await box.getAttribute('data-testid'))!.slice('method-'.length);
      if (await box.isEnabled()) await box.setChecked(id === 'integrated-gradients' || id === 'smoothgrad');
    }
    await page.setChecked('[data-testid="explain-metrics"]', false);
    const started = page.waitForResponse((r) => r.url().endsWith('/api/explain') && r.request().method() === 'POST');
    await page.click('[data-testid="explain-run"]');
    const { job } = (await (await started).json()) as { job: string };
    const got = byMethod((await jobResult<{ maps: MethodParams[] }>(job)).maps);
    for (const m of ['integrated-gradients', 'smoothgrad']) expect(got[m], m).toEqual(want[m]);
    expect(ui.errors).toEqual([]);
  }, 120_000);

  it('ranks channels with Integrated Gradients as `convlens channels` does with no flags', async () => {
    const cli = await convlens('channels', `samples/${BAG}`, '--method', 'integrated-gradients', '-q', '-o', join(tmp, 'channels'));
    expect(cli.code, cli.stderr).toBe(0);
    const want = byMethod((JSON.parse(readFileSync(join(tmp, 'channels', 'summary.json'), 'utf8')) as { methods: MethodParams[] }).methods);

    const { page } = ui;
    await page.waitForSelector('[data-testid="channels-panel"]', { state: 'visible' });
    for (const m of ['gradient-x-activation', 'deeplift', 'integrated-gradients']) await page.setChecked(`[data-testid="channels-method-${m}"]`, m === 'integrated-gradients');
    const started = page.waitForResponse((r) => r.url().endsWith('/api/channels') && r.request().method() === 'POST');
    await page.click('[data-testid="channels-run"]');
    const { job } = (await (await started).json()) as { job: string };
    const got = byMethod((await jobResult<{ methods: MethodParams[] }>(job)).methods);
    expect(got['integrated-gradients']).toEqual(want['integrated-gradients']);
    expect(ui.errors).toEqual([]);
  }, 120_000);
});
