import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import { idSchema } from '../ids.js';

const params = { type: 'object', required: ['id'], properties: { id: idSchema } } as const;

export function registerJobRoutes({ app, jobs, streams }: Studio): void {
  app.get<{ Params: { id: string } }>('/api/jobs/:id', { schema: { params } }, async (req) => {
    const s = jobs.status(req.params.id);
    if (!s) throw new ConvLensError('UNKNOWN_NAME', `No job "${req.params.id}".`, 'Jobs are kept for 10 minutes after they finish.');
    return s;
  });

  app.delete<{ Params: { id: string } }>('/api/jobs/:id', { schema: { params } }, async (req) => {
    if (!jobs.cancel(req.params.id)) throw new ConvLensError('UNKNOWN_NAME', `No job "${req.params.id}".`, 'Jobs are kept for 10 minutes after they finish; one that is gone has nothing left to cancel.');
    return { cancelled: true };
  });

  // Server-sent events: progress, then one result, error or cancelled event. A client that
  // reads slowly gets the latest progress only (see sse.ts), never an ever-growing buffer.
  app.get<{ Params: { id: string } }>('/api/jobs/:id/events', { schema: { params } }, (req, reply) => {
    if (!jobs.status(req.params.id)) {
      void reply.status(404).send({ error: { code: 'UNKNOWN_NAME', message: `No job "${req.params.id}".` } });
      return;
    }
    reply.hijack();
    let unsubscribe: (() => void) | undefined;
    const send = streams.start(reply.raw, () => unsubscribe?.());
    unsubscribe = jobs.subscribe(req.params.id, send);
  });
}
