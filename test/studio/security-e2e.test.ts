/// <reference lib="dom" />
// The studio's access checks in a real browser (Debian's Chromium, docs/security.md): a studio
// that requires its token (as with a non-loopback --host) works end to end once the page is
// opened with ?token= (cookie for GETs, EventSource and images; Origin for changes; the engine
// worker's fetches), while a page of another origin cannot change it (CSRF) and a page reaching
// it under another host name (DNS rebinding) is refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { studioInChromium } from './browser.js';

const REBIND = 'rebind.attacker.example';
const ui = studioInChromium({
  studio: { requireToken: true },
  path: (studio) => `/?token=${studio.access.token}`,
  // Chromium resolves the attacker's name to the studio's address, as DNS rebinding makes it do.
  args: [`--host-resolver-rules=MAP ${REBIND} 127.0.0.1`],
});

async function pickImage(id: string): Promise<void> {
  await ui.page.click(`[data-testid="image-${id}"]`);
  await ui.page.waitForSelector(`[data-testid="image-${id}"][aria-pressed="true"]`);
  await ui.page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.getAttribute('aria-busy') === 'false');
}

/** An attacker's web server on another port of the same machine (another origin, same site). */
async function attackerSite(html: (studio: string) => string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html(ui.base));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

describe('studio security in Chromium', () => {
  it('with a required token: the page opened with ?token= works (images, jobs and their event streams, in-browser compute)', async () => {
    expect(ui.studio.access.requireToken).toBe(true);
    await ui.page.waitForSelector('[data-testid="model-select"] option[value="builtin"]', { state: 'attached' });
    expect(ui.page.url()).not.toContain('token=');
    // <img> loads carry the cookie
    await ui.page.waitForFunction(() => {
      const imgs = [...document.querySelectorAll('.gallery img')] as HTMLImageElement[];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });
    // a POST (predict) carries the cookie and the page's Origin
    await pickImage('fashion-mnist/bag-test18.png');
    await expect.poll(() => ui.page.locator('[data-testid="prediction-bars"] li').count()).toBe(5);
    // a job: POST /api/explain, then its EventSource stream
    await ui.page.click('[data-testid="tab-explain"]');
    await ui.page.waitForSelector('[data-testid="method-gradcam"]');
    for (const m of ['gradient', 'saliency', 'input-x-gradient', 'smoothgrad', 'smoothgrad-sq', 'vargrad', 'integrated-gradients', 'guided-backprop', 'deconvnet', 'cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'guided-gradcam', 'occlusion']) {
      await ui.page.setChecked(`[data-testid="method-${m}"]`, m === 'gradcam' || m === 'gradient');
    }
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('text=computed on the server', { timeout: 60_000 });
    await ui.page.waitForSelector('[data-testid="map-gradcam"]');
    expect(await ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    // the engine worker fetches the model and the input itself
    await ui.page.click('[data-testid="explain-where"] button:has-text("this browser")');
    await ui.page.click('[data-testid="explain-run"]');
    await ui.page.waitForSelector('text=computed in this browser', { timeout: 90_000 });
    expect(await ui.page.isVisible('[data-testid="explain-error"]')).toBe(false);
    await ui.page.click('[data-testid="explain-where"] button:has-text("server")');
    await ui.shot('security-token-page');
    // without the cookie (another browser, a script without the token) nothing is served
    expect((await fetch(`${ui.base}/api/models`)).status).toBe(401);
    expect((await fetch(`${ui.base}/`)).status).toBe(401);
  });

  it('a page of another origin cannot upload an image or a model, or cancel a job (CSRF)', async () => {
    const images = ui.studio.images.list().length;
    const models = ui.studio.models.list().length;
    const site = await attackerSite(
      (studio) => `<!doctype html><body>
        <form id="f" method="post" enctype="multipart/form-data" action="${studio}/api/images" target="sink">
          <input type="hidden" name="note" value="x"></form><iframe name="sink"></iframe>
        <script>
          const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0));
          const form = new FormData();
          form.append('file', new Blob([png], { type: 'image/png' }), 'evil.png');
          const model = new FormData();
          model.append('file', new Blob([new Uint8Array(64).fill(8)]), 'evil.onnx');
          Promise.allSettled([
            fetch('${studio}/api/images', { method: 'POST', body: form, mode: 'no-cors', credentials: 'include' }),
            fetch('${studio}/api/models', { method: 'POST', body: model, mode: 'no-cors', credentials: 'include' }),
            fetch('${studio}/api/jobs/x', { method: 'DELETE', mode: 'no-cors', credentials: 'include' }),
          ]).then(() => { document.getElementById('f').submit(); document.title = 'sent'; });
        </script></body>`,
    );
    const attacker = await ui.page.context().newPage();
    const statuses: number[] = [];
    attacker.on('response', (r) => {
      if (r.url().startsWith(ui.base)) statuses.push(r.status());
    });
    try {
      await attacker.goto(site.url);
      await attacker.waitForFunction(() => document.title === 'sent');
      await expect.poll(() => statuses.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 500));
      // the form post is a navigation the browser reports; every answer was a refusal
      expect(statuses.every((s) => s === 403), JSON.stringify(statuses)).toBe(true);
      expect(ui.studio.images.list().length).toBe(images);
      expect(ui.studio.models.list().length).toBe(models);
    } finally {
      await attacker.close();
      site.server.close();
    }
  });

  it('a page reaching the studio under another host name (DNS rebinding) is refused', async () => {
    const port = new URL(ui.base).port;
    const rebound = await ui.page.context().newPage();
    try {
      const res = await rebound.goto(`http://${REBIND}:${port}/`);
      expect(res!.status()).toBe(403);
      expect(await rebound.textContent('body')).toMatch(/does not answer to the host name/);
      // the attacker's script, now same-origin with "rebind.attacker.example:port", reads nothing
      const answers = await rebound.evaluate(async () => Promise.all(['/api/models', '/api/images', '/api/health'].map((u) => fetch(u).then((r) => r.status))));
      expect(answers).toEqual([403, 403, 403]);
    } finally {
      await rebound.close();
    }
  });

  it('raised no page errors', () => {
    expect(ui.errors).toEqual([]);
  });
});
