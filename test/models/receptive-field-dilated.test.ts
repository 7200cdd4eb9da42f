// Receptive fields through dilated convolutions, as DeepLabV3's and FCN's backbones keep their
// resolution (torchvision's replace_stride_with_dilation: layer3 at dilation 2, layer4 at 4, with
// residual sums), checked against the pixels each unit actually depends on. All weights are
// positive and the pool averages, so a unit depends on exactly the pixels its windows read.
// (Checked by hand on torchvision's own deeplabv3_resnet50 and deeplabv3_mobilenet_v3_large
// geometry, by the gradient support of one unit: layer4 427 px at jump 8, backbone.16 659 px at
// jump 16, as `convlens summary` gives.)
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { receptiveFields, unitRegion } from '../../src/methods/inspect/receptive-field.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const S = 96;

function dilatedNet(): { graph: ReturnType<GraphBuilder['build']>; builder: GraphBuilder; layers: string[] } {
  const b = new GraphBuilder();
  const x = b.input('image', 'float32', ['N', 1, S, S]);
  const ones = (name: string): string => b.initializer(name, f32([1, 1, 3, 3], new Float32Array(9).fill(1)));
  const conv = (v: string, name: string, stride: number, dilation: number): string =>
    b.op('Conv', [v, ones(`${name}.w`)], { kernel_shape: [3, 3], strides: [stride, stride], pads: [dilation, dilation, dilation, dilation], dilations: [dilation, dilation] }, { name, outputs: [name] });
  const stem = conv(x, 'stem', 2, 1);
  const pooled = b.op('AveragePool', [stem], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'pooled', outputs: ['pooled'] });
  const plain = conv(pooled, 'plain', 1, 1);
  const d2 = b.op('Add', [conv(plain, 'dilated2', 1, 2), plain], {}, { name: 'block2', outputs: ['block2'] });
  const d4 = b.op('Add', [conv(d2, 'dilated4', 1, 4), d2], {}, { name: 'block4', outputs: ['block4'] });
  const layers = [stem, pooled, plain, d2, d4];
  for (const l of layers) b.output(l);
  return { graph: b.build(), builder: b, layers };
}

/** Per layer, the rows and the columns of the input each unit depends on: one whole row or column of pixels raised per image. */
async function measuredExtents(graph: ReturnType<GraphBuilder['build']>, layers: string[]): Promise<Map<string, { h: number; w: number; box: (u: number) => number[] }>> {
  const n = 1 + 2 * S;
  const data = new Float32Array(n * S * S).fill(1);
  for (let r = 0; r < S; r++) for (let c = 0; c < S; c++) data[(1 + r) * S * S + r * S + c] = 2;
  for (let c = 0; c < S; c++) for (let r = 0; r < S; r++) data[(1 + S + c) * S * S + r * S + c] = 2;
  const compiled = await engine.compileOnce(graph);
  const out = await compiled.run({ image: f32([n, 1, S, S], data) }, layers);
  await compiled.close();
  const result = new Map<string, { h: number; w: number; box: (u: number) => number[] }>();
  for (const l of layers) {
    const t = out[l]!;
    const [, , h, w] = t.dims as number[];
    const v = t.data as Float32Array;
    const size = h! * w!;
    const moved = (image: number, u: number): boolean => Math.abs(v[image * size + u]! - v[u]!) > 1e-3 * Math.abs(v[u]!);
    const box = (u: number): number[] => {
      const rows = Array.from({ length: S }, (_, r) => r).filter((r) => moved(1 + r, u));
      const cols = Array.from({ length: S }, (_, c) => c).filter((c) => moved(1 + S + c, u));
      return [Math.min(...rows), Math.min(...cols), Math.max(...rows), Math.max(...cols)];
    };
    result.set(l, { h: h!, w: w!, box });
  }
  return result;
}

describe('receptive fields through dilated convolutions (DeepLabV3-style backbone)', () => {
  it('match the pixels each unit depends on, for every unit whose field lies inside the image', async () => {
    const { graph, builder, layers } = dilatedNet();
    const rfs = receptiveFields(graph, builder, 'image');
    const measured = await measuredExtents(graph, layers);
    // stride 4, then 3x3 convs at dilation 1, 2 and 4: each adds (3 - 1) * dilation * 4 pixels
    expect(layers.map((l) => rfs.get(l)!.size[0])).toEqual([3, 7, 15, 31, 63]);
    expect(layers.map((l) => rfs.get(l)!.jump[0])).toEqual([2, 4, 4, 4, 4]);
    let inside = 0;
    for (const l of layers) {
      const { h, w, box } = measured.get(l)!;
      const rf = rfs.get(l)!;
      for (let u = 0; u < h * w; u++) {
        const y = Math.floor(u / w);
        const x = u % w;
        const half = (rf.size[0] - 1) / 2;
        const cy = rf.start[0] + y * rf.jump[0];
        const cx = rf.start[1] + x * rf.jump[1];
        if (cy - half < 0 || cx - half < 0 || cy + half > S - 1 || cx + half > S - 1) continue;
        inside++;
        expect({ layer: l, unit: [y, x], box: unitRegion(rf, y, x, S, S) }).toEqual({ layer: l, unit: [y, x], box: box(u) });
      }
    }
    // the deepest layer's units inside the image: rows and columns 8..16 of 24
    expect(inside).toBeGreaterThan(81);
  });
});
