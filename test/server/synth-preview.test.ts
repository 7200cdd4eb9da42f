// A feature visualization job shows its image while it optimizes: each frame it keeps for the
// strip and the GIF goes out once, as a progress event of its own carrying a PNG (`preview`), in
// step order and before the result; events between frames carry none. Until 2026-12-07 the page
// had only a spinner and step counts until the result.
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { inProcessStudio, jobEvents } from './page-inject.js';

const { inject } = inProcessStudio();

interface Event {
  type: string;
  progress?: { done: number; total: number; preview?: { step: number; png: string } };
  result?: { frames: { step: number; png: string }[] };
}

async function featvizEvents(params: Record<string, unknown>): Promise<Event[]> {
  const r = await inject({ method: 'POST', url: '/api/synthesize/featviz', payload: { model: 'builtin', params } });
  expect(r.statusCode, r.body).toBe(202);
  return jobEvents<Event>(inject, r.json().job);
}

describe('feature visualization previews', () => {
  it('sends each kept frame once, as a PNG, in step order and before the result', async () => {
    const events = await featvizEvents({ objective: 'class:3', steps: 40, frames: 5 });
    const last = events.at(-1)!;
    expect(last.type).toBe('result');
    const kept = last.result!.frames.map((f) => f.step);
    expect(kept.length).toBe(5);
    const previews = events.filter((e) => e.progress?.preview).map((e) => e.progress!.preview!);
    // every kept frame, once each, in order: no more events than frames, none after the result
    expect(previews.map((p) => p.step)).toEqual(kept);
    // the strip's own pictures (the first image, at most 160 px), sent as they were taken
    expect(previews.map((p) => p.png)).toEqual(last.result!.frames.map((f) => f.png));
    const png = decodePng(Buffer.from(previews[0]!.png, 'base64'));
    expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(160);
    // the image changes as it is optimized
    expect(previews[0]!.png).not.toBe(previews.at(-1)!.png);
    // the progress between frames stays plain, and a preview's counts are the job's, not zero
    expect(events.filter((e) => e.type === 'progress' && !e.progress?.preview).length).toBeGreaterThan(0);
    expect(events.find((e) => e.progress?.preview && e.progress.preview.step > 0)!.progress!.total).toBeGreaterThan(0);
  });

  it('sends none when no frames are kept', async () => {
    const events = await featvizEvents({ objective: 'class:3', steps: 10, frames: 0 });
    expect(events.at(-1)!.type).toBe('result');
    expect(events.filter((e) => e.progress?.preview)).toEqual([]);
  });
});
