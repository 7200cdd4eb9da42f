// Requests as the studio's own page sends them: browsers add `Origin` to every POST, PUT, PATCH
// and DELETE, and the studio refuses state-changing requests from any other origin. Tests that
// drive the API in-process send the same header (Fastify inject's default Host is localhost:80).
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { ROOT } from '../support/cli.js';

export const PAGE_ORIGIN = 'http://localhost';

export function pageInject(studio: () => Studio): (options: InjectOptions) => Promise<LightMyRequestResponse> {
  return (options) => studio().app.inject({ ...options, headers: { origin: PAGE_ORIGIN, ...(options.headers ?? {}) } });
}

/**
 * A studio in this process for the file's tests (one engine thread, no web bundle), closed after
 * them, and the page's way of calling it.
 */
export function inProcessStudio(options: { workerMemoryBytes?: number; jobWorkers?: number } = {}): { engine: Engine; studio: () => Studio; inject: (options: InjectOptions) => Promise<LightMyRequestResponse> } {
  const engine = new Engine(nodeBackend(), { threads: 1 });
  let studio: Studio | undefined;
  const current = (): Studio => {
    if (!studio) throw new Error('the studio starts in beforeAll: call it from a test');
    return studio;
  };
  beforeAll(async () => {
    studio = await createStudio({ engine, webDir: join(ROOT, 'no-such-web-dir'), ...options });
  });
  afterAll(async () => {
    await studio?.app.close();
    await engine.dispose();
  });
  return { engine, studio: current, inject: pageInject(current) };
}

/** Every event of a job (its server-sent events, read once it has ended), as `T`. */
export async function jobEvents<T = { type: string }>(inject: (options: InjectOptions) => Promise<LightMyRequestResponse>, job: string): Promise<T[]> {
  const body = (await inject({ method: 'GET', url: `/api/jobs/${job}/events` })).body;
  return body
    .split('\n\n')
    .filter((c) => c.includes('data: '))
    .map((c) => JSON.parse(c.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as T);
}

/** An upload as the page sends it: multipart/form-data with one file in the field "file". */
export function multipart(filename: string, bytes: Uint8Array, type = 'application/octet-stream'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----convlens-test-upload';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, Buffer.from(bytes), tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A job's result: POSTs `payload` to `url` (202 expected) and returns the result its last event carries. */
export async function jobResult<T>(inject: (options: InjectOptions) => Promise<LightMyRequestResponse>, url: string, payload: Record<string, unknown>): Promise<T> {
  const r = await inject({ method: 'POST', url, payload });
  expect(r.statusCode, r.body).toBe(202);
  const last = (await jobEvents<{ type: string; result?: T; error?: unknown }>(inject, r.json().job)).at(-1)!;
  expect(last.type, JSON.stringify(last.error)).toBe('result');
  return last.result!;
}
