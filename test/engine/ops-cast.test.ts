// Cast between float types is the identity up to rounding, so its gradient is dy cast back to the
// input's type. dy was returned as it was: a float32 -> float64 cast gave a float32 value a
// float64 gradient, and a float16 -> float32 cast (a float16 model's output, or the casts of a
// model converted with float32 inputs and outputs kept) stopped the gradient: flat saliency.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, ONNX_DTYPE_CODES, type Tensor } from '../../src/engine/tensor.js';
import { engineGradients } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const SCALE = [2.5, -0.75, 4];

/** y = Cast<float32>(Cast<mid>(x) * scale): dy/dx = scale, to the middle type's rounding. */
function castChain(mid: 'float64' | 'float16'): ReturnType<GraphBuilder['build']> {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 3]);
  const inMid = b.op('Cast', [x], { to: ONNX_DTYPE_CODES[mid] });
  // 2.5, -0.75 and 4 are exact in float16 (0x4100, 0xba00, 0x4400)
  const scale: Tensor = mid === 'float64' ? { dtype: 'float64', dims: [3], data: Float64Array.from(SCALE) } : { dtype: 'float16', dims: [3], data: Uint16Array.of(0x4100, 0xba00, 0x4400) };
  const y = b.op('Cast', [b.op('Mul', [inMid, b.initializer('scale', scale)])], { to: ONNX_DTYPE_CODES.float32 });
  b.output(y);
  return b.build();
}

describe('Cast backward', () => {
  for (const mid of ['float64', 'float16'] as const) {
    it(`through ${mid} and back: dy x scale, a float32 gradient`, async () => {
      const g = castChain(mid);
      const x = f32([2, 3], randn(rng(3), 6));
      const dy = f32([2, 3], randn(rng(4), 6));
      const grads = await engineGradients(engine, g, { x }, g.outputs[0]!.name, dy, ['x']);
      const dx = grads.get('x')!;
      expect(dx.dtype).toBe('float32');
      // float16 rounds dy to 11 bits on the way
      const tol = mid === 'float16' ? 2e-3 : 1e-7;
      for (let i = 0; i < 6; i++) {
        const want = (dy.data as Float32Array)[i]! * SCALE[i % 3]!;
        expect(Math.abs((dx.data as Float32Array)[i]! - want), `${i}`).toBeLessThanOrEqual(tol * Math.abs(want) + 1e-12);
      }
    });
  }
});
