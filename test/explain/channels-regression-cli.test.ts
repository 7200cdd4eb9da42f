// `convlens channels` on a declared regression: its target is an output, ranked by the output's
// value; the text said "target 0 output 0 (logit 0.0545)" and the figure "behind the logit".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { METADATA_KEYS } from '../../src/models/metadata.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-channels-regression-');

function cnn(kind?: string): string {
  const b = new GraphBuilder();
  const L = new Layers(b, seededRandom(9));
  const x = b.input('image', 'float32', ['N', 3, 24, 24]);
  b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', 3));
  const g = b.build();
  if (kind) g.metadata.set(METADATA_KEYS.output, kind);
  const file = join(tmp, `${kind ?? 'classifier'}.onnx`);
  writeFileSync(file, encodeModel(g));
  return file;
}

describe('convlens channels on a regression', () => {
  it("names the target output and its value, not a class's logit", async () => {
    const r = await convlens('channels', 'samples/photos/coffee.png', '--model', cnn('regression'), '--preprocess', 'unit-range', '--method', 'gradient-x-activation', '--json', '--out', join(tmp, 'regression'));
    expect(r.code, r.stderr).toBe(0);
    const target = JSON.parse(r.stdout).inputs[0].target as { index: number; logit: number };
    const text = await convlens('channels', 'samples/photos/coffee.png', '--model', cnn('regression'), '--preprocess', 'unit-range', '--method', 'gradient-x-activation', '-q', '--out', join(tmp, 'regression'));
    expect(text.stdout).toContain(`: target output ${target.index} (value ${target.logit.toPrecision(4)}), layer`);
    expect(text.stdout).not.toMatch(/logit|class/);

    const c = await convlens('channels', 'samples/photos/coffee.png', '--model', cnn(), '--preprocess', 'unit-range', '--method', 'gradient-x-activation', '-q', '--out', join(tmp, 'classifier'));
    expect(c.stdout).toMatch(/: target \d class \d \(logit -?\d/);
  }, 60_000);
});
