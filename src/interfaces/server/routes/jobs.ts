import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';

export function registerJobRoutes({ app, jobs }: Studio): void {
  app.get<{ Params: { id: string } }>('/api/jobs/:id', async (req) => {
    const s = jobs.status(req.params.id);
    if (!s) throw new ConvLensError('UNKNOWN_NAME', `No job "${req.params.id}".`, 'Jobs are kept for 10 minutes after they finish.');
    return s;
  });

  app.delete<{ Params: { id: string } }>('/api/jobs/:id', async (req) => {
    if (!jobs.cancel(req.params.id)) throw new ConvLensError('UNKNOWN_NAME', `No job "${req.params.id}".`);
    return { cancelled: true };
  });

  // Server-sent events: progress, then one result, error or cancelled event.
  app.get<{ Params: { id: string } }>('/api/jobs/:id/events', (req, reply) => {
    if (!jobs.status(req.params.id)) {
      void reply.status(404).send({ error: { code: 'UNKNOWN_NAME', message: `No job "${req.params.id}".` } });
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let closed = false;
    const unsubscribe = jobs.subscribe(req.params.id, (e) => {
      if (closed) return;
      res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      if (e.type !== 'progress') {
        closed = true;
        res.end();
      }
    });
    req.raw.on('close', () => {
      closed = true;
      unsubscribe?.();
    });
  });
}
