// pytorch-grad-cam's test-time augmentation smoothing (--aug-smooth): the CAM is computed on
// the image horizontally flipped or not, times 0.9, 1 and 1.1 (ttach's HorizontalFlip and
// Multiply, in that order: six variants, applied to the model-space tensor); each map is
// upsampled to the input, min-max scaled (scale_cam_image), flipped back, and the six averaged.
// The variants of all images run as one batch in a context of their own.
import type { Tensor } from '../../engine/tensor.js';
import { f32, nchw, scaleCamPlane } from './arrays.js';
import type { MethodContext, MethodName, MethodResult } from './types.js';

const FLIPS = [false, true];
const FACTORS = [0.9, 1, 1.1];

function flipRows(plane: ArrayLike<number>, h: number, w: number): Float32Array {
  const out = new Float32Array(plane.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = plane[y * w + (w - 1 - x)]!;
  return out;
}

export async function augmentationSmoothed(
  ctx: MethodContext,
  method: MethodName,
  contextFor: (sub: { x: Tensor; targets: Int32Array }) => MethodContext,
  run: (c: MethodContext) => Promise<MethodResult>,
): Promise<MethodResult> {
  const [n, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const hw = h * w;
  const variants = FLIPS.flatMap((flip) => FACTORS.map((factor) => ({ flip, factor })));
  const v = variants.length;
  const xd = ctx.x.data as Float32Array;
  const data = new Float32Array(v * n * per);
  const targets = new Int32Array(v * n);
  variants.forEach(({ flip, factor }, a) => {
    for (let i = 0; i < n; i++) {
      const dst = (a * n + i) * per;
      targets[a * n + i] = ctx.targets[i]!;
      for (let ch = 0; ch < c; ch++) {
        const src = xd.subarray(i * per + ch * hw, i * per + (ch + 1) * hw);
        const plane: ArrayLike<number> = flip ? flipRows(src, h, w) : src;
        for (let p = 0; p < hw; p++) data[dst + ch * hw + p] = plane[p]! * factor;
      }
    }
  });
  const r = await run(contextFor({ x: f32([v * n, c, h, w], data), targets }));
  const out = new Float32Array(n * hw);
  variants.forEach(({ flip }, a) => {
    for (let i = 0; i < n; i++) {
      let plane = scaleCamPlane(r.map.slice((a * n + i) * hw, (a * n + i + 1) * hw));
      if (flip) plane = flipRows(plane, h, w);
      for (let p = 0; p < hw; p++) out[i * hw + p]! += plane[p]! / v;
    }
  });
  const notes = [...(r.notes ?? []), `${method}: test-time augmentation smoothing (CLI: --aug-smooth) averages ${v} min-max scaled maps at input resolution (raw is that average)`];
  return { raw: f32([n, 1, h, w], out), map: out.slice(), signed: false, params: { ...r.params, augSmooth: 'horizontal flip x intensity 0.9, 1, 1.1 (pytorch-grad-cam)' }, ...(r.layer ? { layer: r.layer } : {}), notes };
}
