// Running a trained fast style network: one forward pass per image, style weights as an input.
// Kept apart from training (fast-style.ts) so that a browser can bundle it: it needs only the
// graph IR, the ONNX codec and an Engine, whichever ONNX Runtime binding the Engine wraps.
import { ConvLensError } from '../../engine/errors.js';
import type { Graph } from '../../engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../engine/onnx/codec.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { anySize, fixStyle, STYLE_NET_KEY } from '../../models/zoo/style-net.js';

/** Style names and count of a style network graph (from its metadata). */
export function styleNetInfo(g: Graph): { styles: number; names: string[] } {
  const raw = g.metadata.get(STYLE_NET_KEY);
  if (!raw) throw new ConvLensError('MODEL_UNSUPPORTED', `"${g.name}" is not a ConvLens style network (no ${STYLE_NET_KEY} metadata).`, 'Train one ("Train style net" in the studio; CLI: convlens style-train).');
  const m = JSON.parse(raw) as { styles: number; styleNames?: string[] };
  return { styles: m.styles, names: m.styleNames ?? Array.from({ length: m.styles }, (_, i) => `style ${i}`) };
}

export function loadStyleNet(bytes: Uint8Array, source: string): Graph {
  const g = decodeModel(bytes, { source });
  styleNetInfo(g);
  return g;
}

export function encodeStyleNet(g: Graph): Uint8Array {
  return encodeModel(g);
}

let nextNet = 1;
const netIds = new WeakMap<Graph, number>();

/**
 * Stylizes images [N, 3, H, W] in [0, 1] in one forward pass; `weights` [S] blend the styles
 * (one-hot = one style; they are used as given, so sum them to 1 for a blend).
 */
export async function stylize(engine: Engine, g: Graph, images: Tensor, weights: readonly number[]): Promise<Tensor> {
  const { styles } = styleNetInfo(g);
  if (weights.length !== styles) throw new ConvLensError('INVALID_ARGUMENT', `The network holds ${styles} styles; ${weights.length} weights given.`, `Pass ${styles} weights, one per style (CLI: --blend).`);
  let id = netIds.get(g);
  if (!id) netIds.set(g, (id = nextNet++));
  const compiled = await engine.compile(`stylenet#${id}`, () => anySize(g));
  const [N, C, H, W] = images.dims as [number, number, number, number];
  // Two stride-2 convolutions and two 2x upsamplings: pad (reflecting) to a multiple of 4, crop after.
  const Hp = Math.ceil(H / 4) * 4;
  const Wp = Math.ceil(W / 4) * 4;
  let x = images;
  if (Hp !== H || Wp !== W) {
    const d = images.data as Float32Array;
    const p = new Float32Array(N * C * Hp * Wp);
    const refl = (v: number, n: number): number => (v < n ? v : 2 * n - 2 - v);
    for (let q = 0; q < N * C; q++) for (let y = 0; y < Hp; y++) for (let xx = 0; xx < Wp; xx++) p[(q * Hp + y) * Wp + xx] = d[(q * H + refl(y, H)) * W + refl(xx, W)]!;
    x = { dtype: 'float32', dims: [N, C, Hp, Wp], data: p };
  }
  const style = new Float32Array(N * styles);
  for (let i = 0; i < N; i++) for (let s = 0; s < styles; s++) style[i * styles + s] = weights[s]!;
  const out = (await compiled.run({ image: x, style: { dtype: 'float32', dims: [N, styles], data: style } }))['stylized']!;
  if (Hp === H && Wp === W) return out;
  const o = out.data as Float32Array;
  const crop = new Float32Array(N * 3 * H * W);
  for (let q = 0; q < N * 3; q++) for (let y = 0; y < H; y++) crop.set(o.subarray((q * Hp + y) * Wp, (q * Hp + y) * Wp + W), (q * H + y) * W);
  return { dtype: 'float32', dims: [N, 3, H, W], data: crop };
}

export { fixStyle };
