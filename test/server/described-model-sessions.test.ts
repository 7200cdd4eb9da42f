// A model the studio is told another output kind for (POST /api/models/:id/describe) is loaded
// anew, on the server and in each worker on its next task. The worker dropped the old Model from
// its cache but not its ONNX Runtime sessions: they stayed in the engine's cache (weights and
// arenas held) beside the new model's, until evicted. The worker's open sessions are counted by
// a test-only task (CONVLENS_WORKER_FAULTS=1); a model's session keys start with its id.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { createStudio, type Studio } from '../../src/interfaces/server/app.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { multipart, pageInject } from './page-inject.js';

const ROOT = join(import.meta.dirname, '..', '..');
const engine = new Engine(nodeBackend(), { threads: 1 });
let studio: Studio;
const inject = pageInject(() => studio);

beforeAll(async () => {
  studio = await createStudio({ engine, jobWorkers: 1, workerEnv: { CONVLENS_WORKER_FAULTS: '1' }, webDir: join(ROOT, 'no-such-web-dir') });
});
afterAll(async () => {
  await studio.app.close();
  await engine.dispose();
});

/** A small CNN with one output: a binary classifier's logit, or a regression's value. */
function oneOutputNet(): Uint8Array {
  const b = new GraphBuilder();
  b.graph.name = 'one_output';
  const L = new Layers(b, seededRandom(7));
  const image = b.input('image', 'float32', ['N', 3, 16, 16]);
  const pooled = L.globalAvgPool(L.relu(L.conv2d(image, 'conv1', { filters: 4, stride: 2 }), 'relu1'), 'gap');
  b.output(L.dense(L.flatten(pooled, 'flat'), 'fc', 1));
  return encodeModel(b.build());
}

/** The models (by id: the part of a session key before "|") the interactive worker holds open sessions for. */
async function modelsWithSessions(): Promise<string[]> {
  const { sessions } = (await studio.call('fault', { what: 'sessions' })) as { sessions: string[] };
  return [...new Set(sessions.filter((k) => k.startsWith('one_output#')).map((k) => k.slice(0, k.indexOf('|'))))];
}

describe('a model described anew in the studio', () => {
  it('leaves the worker holding the sessions of the model as loaded now, not of the one it replaced', async () => {
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('one_output.onnx', oneOutputNet()) });
    expect(up.statusCode, up.body).toBe(201);
    const { id } = up.json() as { id: string };
    const predict = async (): Promise<void> => {
      const r = await inject({ method: 'POST', url: '/api/predict', payload: { model: id, image: 'photos/coffee.png' } });
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    };
    await predict();
    const before = await modelsWithSessions();
    expect(before).toHaveLength(1);
    for (const kind of ['regression', 'single-label']) {
      const d = await inject({ method: 'POST', url: `/api/models/${id}/describe`, payload: { outputKind: kind } });
      expect(d.statusCode, d.body).toBe(200);
      await predict();
      const now = await modelsWithSessions();
      // one model, loaded anew: the old one's sessions were released with it
      expect(now).toHaveLength(1);
      expect(now).not.toEqual(before);
      before.splice(0, 1, ...now);
    }
  }, 60_000);
});
