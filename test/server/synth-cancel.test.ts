// Cancelling a synthesis while it sends its live image: DELETE /api/jobs/:id with the page's
// Origin header alone stops each ascent method mid-run, the job ends with one cancelled event and
// nothing after it, the health endpoint answers meanwhile, and the next job runs.
import { describe, expect, it } from 'vitest';
import { inProcessStudio, jobResult, PAGE_ORIGIN } from './page-inject.js';

const { studio, inject } = inProcessStudio();

interface JobEventLike {
  type: string;
  progress?: { done: number; preview?: unknown };
}

const PHOTO = 'photos/coffee.png';
const LONG: [string, Record<string, unknown>][] = [
  ['featviz', { params: { objective: 'class:3', steps: 4096, frames: 16 } }],
  ['dream', { image: PHOTO, params: { octaves: 2, steps: 200, maxSide: 128 } }],
  ['invert', { image: PHOTO, params: { steps: 4000 } }],
  ['style', { image: PHOTO, styles: [{ image: 'textures/brick.png' }], params: { steps: 2000, maxSide: 64, backbone: 'texture' } }],
];

describe('cancelling a synthesis that sends previews', () => {
  it.each(LONG)('%s stops mid-run on a DELETE with only an Origin header', async (kind, payload) => {
    const r = await inject({ method: 'POST', url: `/api/synthesize/${kind}`, payload: { model: 'builtin', ...payload } });
    expect(r.statusCode, r.body).toBe(202);
    const id = r.json().job as string;
    const seen: JobEventLike[] = [];
    let ended: (() => void) | undefined;
    const end = new Promise<void>((resolve) => (ended = resolve));
    let previewed: (() => void) | undefined;
    const preview = new Promise<void>((resolve) => (previewed = resolve));
    studio().jobs.subscribe(id, (e) => {
      seen.push(e as JobEventLike);
      if ((e as JobEventLike).progress?.preview) previewed?.();
      if (e.type !== 'progress') ended?.();
    });
    await preview;
    const t0 = performance.now();
    const health = await inject({ method: 'GET', url: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(performance.now() - t0, 'the health endpoint answers while the job runs').toBeLessThan(1000);
    const del = await studio().app.inject({ method: 'DELETE', url: `/api/jobs/${id}`, headers: { origin: PAGE_ORIGIN } });
    expect(del.statusCode, del.body).toBe(200);
    const t1 = performance.now();
    await end;
    expect(performance.now() - t1, 'stopped between steps, not at the end').toBeLessThan(10_000);
    expect(seen.at(-1)!.type).toBe('cancelled');
    expect(seen.filter((e) => e.type !== 'progress').length).toBe(1);
    expect((await inject({ method: 'GET', url: `/api/jobs/${id}` })).json().state).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // no preview still on its way came after the end
    expect(seen.at(-1)!.type).toBe('cancelled');
    // the worker is free for the next job
    const next = await jobResult<{ images: unknown[] }>(inject, '/api/synthesize/featviz', { model: 'builtin', params: { objective: 'class:1', steps: 4 } });
    expect(next.images.length).toBe(1);
  });
});
