import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import type { JobEvent } from '../../src/interfaces/server/jobs.js';
import { pageInject } from '../server/page-inject.js';

const root = join(import.meta.dirname, '..', '..');
const engine = new Engine(nodeBackend(), { threads: 2 });
let studio: Studio;
const inject = pageInject(() => studio);

beforeAll(async () => {
  studio = await createStudio({ engine, webDir: join(root, 'no-such-web-dir') });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

/** Follows a job to its end, collecting every event. */
function follow(id: string): Promise<JobEvent[]> {
  return new Promise((resolve) => {
    const events: JobEvent[] = [];
    studio.jobs.subscribe(id, (e) => {
      events.push(e);
      if (e.type !== 'progress') resolve(events);
    });
  });
}

interface Frame {
  step: number;
  steps: number;
  t: number;
  x: string[];
  x0: string[];
}

describe('diffusion routes', () => {
  it('GET /api/diffusion describes the built-in denoiser', async () => {
    const r = await inject({ method: 'GET', url: '/api/diffusion' });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.models[0]).toMatchObject({ id: 'builtin', kind: 'class-conditional', imageSize: [28, 28], channels: 1 });
    expect(body.models[0].labels).toContain('Ankle boot');
    expect(body.samplers).toEqual(['ddim', 'ddpm']);
  });

  it('POST /api/diffusion/sample runs a job whose progress carries live previews and whose result has every frame, the images and a GIF', async () => {
    const r = await inject({ method: 'POST', url: '/api/diffusion/sample', payload: { prompt: 'sandals', negativePrompt: 'sneaker', steps: 20, guidanceScale: 3, seed: 5, count: 3, previewEvery: 4 } });
    expect(r.statusCode).toBe(202);
    const events = await follow(r.json().job);
    const last = events[events.length - 1]!;
    expect(last.type).toBe('result');
    const previews = events.filter((e) => e.type === 'progress').map((e) => (e as { progress: { preview?: Frame } }).progress.preview);
    expect(previews.some((p) => p && p.x.length === 3 && p.x0.length === 3)).toBe(true);
    const result = (last as { result: { condition: string; negativeCondition: string; images: string[]; frames: Frame[]; gif: string; settings: { rowsPerStep: number } } }).result;
    expect(result.condition).toBe('Sandal');
    expect(result.negativeCondition).toBe('Sneaker');
    expect(result.settings.rowsPerStep).toBe(6);
    expect(result.images.length).toBe(3);
    expect(Buffer.from(result.images[0]!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(result.frames.map((f) => f.step)).toEqual([0, 4, 8, 12, 16, 19]);
    expect(Buffer.from(result.gif, 'base64').subarray(0, 6).toString()).toBe('GIF89a');
  });

  it('answers 400 with the known prompts for a prompt it cannot map, and validates the body', async () => {
    const r = await inject({ method: 'POST', url: '/api/diffusion/sample', payload: { prompt: 'spaceship' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toContain('Cannot map the prompt "spaceship"');
    expect(r.json().error.hint).toContain('"T-shirt/top"');
    const neg = await inject({ method: 'POST', url: '/api/diffusion/sample', payload: { prompt: 'bag', negativePrompt: 'unicorn' } });
    expect(neg.json().error.message).toContain('negative prompt "unicorn"');
    const bad = await inject({ method: 'POST', url: '/api/diffusion/sample', payload: { prompt: 'bag', steps: 0 } });
    expect(bad.statusCode).toBe(400);
    const unknown = await inject({ method: 'POST', url: '/api/diffusion/sample', payload: { prompt: 'bag', model: 'sd' } });
    expect(unknown.statusCode).toBe(404);
  });

  it('a running sampling job can be cancelled', async () => {
    const r = await inject({ method: 'POST', url: '/api/diffusion/sample', payload: { prompt: 'coat', steps: 1000, count: 16, guidanceScale: 3 } });
    const id = r.json().job;
    const done = follow(id);
    await new Promise((res) => setTimeout(res, 300));
    await inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    const events = await done;
    expect(events[events.length - 1]!.type).toBe('cancelled');
  });
});
