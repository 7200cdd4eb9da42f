import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';

// Broadcasting two different symbolic sizes: either may be 1, so the result is neither. Taking
// the first one declared Expand(one row, to the shape of two rows) as one row in the graph's
// shapes; ONNX Runtime planned a buffer from that and DeepLiftShap failed on GoogLeNet
// ("Shape mismatch attempting to re-use buffer. {1,832,14,14} != {2,832,14,14}"): its max-pool
// rule pools the reference row expanded to the input rows' shape.

describe('broadcast of two different symbolic sizes', () => {
  it('is a size of its own, not the first operand\'s', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3, 8, 8]);
    const inputs = b.op('Slice', [x, b.ints([0]), b.ints([-1]), b.ints([0])]);
    const reference = b.op('Slice', [x, b.ints([-1]), b.ints([Number.MAX_SAFE_INTEGER]), b.ints([0])]);
    const expanded = b.op('Expand', [reference, b.op('Shape', [inputs])]);
    const added = b.op('Add', [reference, inputs]);
    for (const v of [expanded, added]) {
      const [rows] = b.factsOf(v).shape!;
      expect(rows).not.toBe(b.factsOf(reference).shape![0]);
      expect(rows).not.toBe(b.factsOf(inputs).shape![0]);
    }
    // a number still settles a symbol, and equal symbols stay
    expect(b.factsOf(b.op('Add', [x, b.op('Slice', [x, b.ints([0]), b.ints([2]), b.ints([0])])])).shape).toEqual([2, 3, 8, 8]);
    expect(b.factsOf(b.op('Add', [x, x])).shape).toEqual(['N', 3, 8, 8]);
  });
});
