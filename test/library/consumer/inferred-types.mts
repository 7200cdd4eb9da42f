// A consumer's module, compiled by test/library/public-types.test.ts with declarations on: each
// exported value's type is inferred from what ConvLens returns, so writing its declaration
// needs every type on the way to be importable from 'convlens', 'convlens/node' or
// 'convlens/studio' (otherwise TS2883: "cannot be named without a reference to ...").
// The paths are the ones docs/library.md walks. Never run; only type-checked.
import { Engine, explain, featureVisualization, objectives, dream } from 'convlens';
import { nodeBackend, loadModel, loadInputs } from 'convlens/node';
import { createStudio } from 'convlens/studio';

export const engine = new Engine(nodeBackend({ cacheDir: false }));
export const model = loadModel('squeezenet', engine);
export const profile = model.profile;
export const profileLayer = model.profile.layers[0];
export const quantization = model.quantization;
export const { batch, items } = await loadInputs(['cat.png'], model);
export const scaledUp = items[0]!.scaledUp;
export const explanation = await explain(model, batch, { methods: ['gradcam'] });
export const image = explanation.images[0];
export const skipped = explanation.skipped;
export const viz = await featureVisualization(model, { objective: objectives.classLogit('tarantula'), steps: 1 });
export const dreamed = await dream(model, batch, { steps: 1 });
export const frame = dreamed.frames[0];
export const studio = await createStudio({ engine });
export const { models, images, masks, jobs, access, files, streams, pool, memory } = studio;
