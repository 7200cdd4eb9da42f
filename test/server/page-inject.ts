// Requests as the studio's own page sends them: browsers add `Origin` to every POST, PUT, PATCH
// and DELETE, and the studio refuses state-changing requests from any other origin. Tests that
// drive the API in-process send the same header (Fastify inject's default Host is localhost:80).
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Studio } from '../../src/interfaces/server/app.js';

export const PAGE_ORIGIN = 'http://localhost';

export function pageInject(studio: () => Studio): (options: InjectOptions) => Promise<LightMyRequestResponse> {
  return (options) => studio().app.inject({ ...options, headers: { origin: PAGE_ORIGIN, ...(options.headers ?? {}) } });
}
