// The quick requests (predict, the model input, activations): run on the interactive worker.
import { encodePng } from '../../../io/image.js';
import { predict } from '../../../methods/predict.js';
import { toWire } from '../wire.js';
import type { TaskContext } from './context.js';

export interface InspectArgs {
  predict: { image: string; k: number };
  input: { image: string };
  /** resolved layer value names */
  activations: { image: string; layers: string[] };
}

export async function predictTask(ctx: TaskContext, a: InspectArgs['predict']): Promise<unknown> {
  const model = ctx.model();
  const { tensor, display, scaledUp } = await ctx.input(model, a.image);
  const { predictions, nonFinite } = await predict(model, tensor, a.k);
  const warnings = [...(nonFinite.length ? ["The model's outputs for this image are NaN or infinite, so its probabilities mean nothing."] : []), ...(scaledUp ? [`The ${scaledUp}`] : [])];
  return {
    top: predictions[0]!.top,
    ...(warnings.length ? { warnings } : {}),
    // the image as the model sees it (resized, cropped, gray), for overlays
    input: { width: display.width, height: display.height, png: Buffer.from(await encodePng(display)).toString('base64') },
  };
}

export async function inputTask(ctx: TaskContext, a: InspectArgs['input']): Promise<unknown> {
  const model = ctx.model();
  const { tensor } = await ctx.input(model, a.image);
  return { tensor: toWire(tensor) };
}

export async function activationsTask(ctx: TaskContext, a: InspectArgs['activations']): Promise<unknown> {
  const model = ctx.model();
  const { tensor } = await ctx.input(model, a.image);
  const out = await model.run(tensor, a.layers);
  const byName = new Map(model.pickableValues().map((p) => [p.name, p]));
  return { layers: a.layers.map((n) => ({ name: n, op: byName.get(n)?.op ?? '', node: byName.get(n)?.node ?? n, values: toWire(out[n]!) })) };
}
