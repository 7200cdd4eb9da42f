import type { Studio } from '../app.js';
import { encodePng } from '../../../io/image.js';
import { predict } from '../../../methods/predict.js';
import { idSchema, imageIdSchema } from '../ids.js';
import { toWire } from '../wire.js';

const target = { type: 'object', required: ['model', 'image'], properties: { model: idSchema, image: imageIdSchema } } as const;

export function registerInspectRoutes({ app, models, images }: Studio): void {
  app.post<{ Body: { model: string; image: string; k?: number } }>(
    '/api/predict',
    { schema: { body: { ...target, properties: { ...target.properties, k: { type: 'integer', minimum: 1, maximum: 1000 } } } } },
    async (req) => {
      const model = models.require(req.body.model);
      const { tensor, display } = await images.input(model, req.body.image);
      const { predictions } = await predict(model, tensor, req.body.k ?? 5);
      return {
        top: predictions[0]!.top,
        // the image as the model sees it (resized, cropped, gray), for overlays
        input: { width: display.width, height: display.height, png: Buffer.from(await encodePng(display)).toString('base64') },
      };
    },
  );

  // The preprocessed input tensor [1, C, H, W] exactly as the server feeds it, for computing in the page.
  app.post<{ Body: { model: string; image: string } }>('/api/input', { schema: { body: target } }, async (req) => {
    const model = models.require(req.body.model);
    const { tensor } = await images.input(model, req.body.image);
    return { tensor: toWire(tensor) };
  });

  app.post<{ Body: { model: string; image: string; layers?: string[] } }>(
    '/api/activations',
    { schema: { body: { ...target, properties: { ...target.properties, layers: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 256 } } } } },
    async (req) => {
      const model = models.require(req.body.model);
      const names = req.body.layers?.length ? req.body.layers.map((l) => model.resolveLayer(l)) : model.pickableValues().filter((p) => p.shape.length === 4).map((p) => p.name);
      const { tensor } = await images.input(model, req.body.image);
      const out = await model.run(tensor, names);
      const byName = new Map(model.pickableValues().map((p) => [p.name, p]));
      return { layers: names.map((n) => ({ name: n, op: byName.get(n)?.op ?? '', node: byName.get(n)?.node ?? n, values: toWire(out[n]!) })) };
    },
  );
}
