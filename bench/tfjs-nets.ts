// The benchmark nets of src/models/zoo written with TensorFlow.js ops (NHWC), sharing the same
// weights, so both engines compute the same thing.
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../src/engine/graph/ir.js';

export interface TfjsNet {
  /** logits; `guided` swaps every ReLU's gradient for the guided-backprop rule */
  forward(x: tf.Tensor4D, guided: boolean): tf.Tensor2D;
}

// Guided backprop ReLU: positive upstream gradient only, only where the input was positive.
const guidedRelu = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.relu(dy), tf.step(saved[0]!)),
  };
}) as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

export function tfjsModel(graph: Graph, kind: 'vgg' | 'resnet'): TfjsNet {
  const vars = new Map<string, tf.Variable>();
  const param = (name: string, layout: 'conv' | 'dense' | 'vec'): tf.Variable => {
    const hit = vars.get(name);
    if (hit) return hit;
    const t = graph.initializers.get(name);
    if (!t) throw new Error(`no initializer ${name}`);
    let v = tf.tensor(t.data as Float32Array, [...t.dims]);
    if (layout === 'conv') v = v.transpose([2, 3, 1, 0]); // OIHW -> HWIO
    if (layout === 'dense') v = v.transpose([1, 0]); // [out, in] -> [in, out]
    const variable = tf.variable(v, true, `${kind}/${name}`);
    vars.set(name, variable);
    return variable;
  };
  const vec = (name: string): tf.Tensor1D => param(name, 'vec') as unknown as tf.Tensor1D;
  const relu = (x: tf.Tensor4D, guided: boolean): tf.Tensor4D => (guided ? guidedRelu(x) : tf.relu(x)) as tf.Tensor4D;
  const conv = (x: tf.Tensor4D, name: string, stride: number, pad: number, bias: boolean): tf.Tensor4D => {
    const w = param(`${name}.weight`, 'conv') as unknown as tf.Tensor4D;
    const padded = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    const y = tf.conv2d(padded, w, stride, 'valid');
    return bias ? (tf.add(y, param(`${name}.bias`, 'vec')) as tf.Tensor4D) : y;
  };
  const bn = (x: tf.Tensor4D, name: string): tf.Tensor4D =>
    tf.batchNorm<tf.Rank.R4>(x, vec(`${name}.running_mean`), vec(`${name}.running_var`), vec(`${name}.bias`), vec(`${name}.weight`), 1e-5);
  const dense = (x: tf.Tensor2D, name: string): tf.Tensor2D => tf.add(tf.matMul(x, param(`${name}.weight`, 'dense') as unknown as tf.Tensor2D), param(`${name}.bias`, 'vec'));

  if (kind === 'vgg') {
    return {
      forward(x, guided) {
        let h = x;
        for (let i = 1; i <= 4; i++) h = tf.maxPool(relu(conv(h, `conv${i}`, 1, 1, true), guided), 2, 2, 'valid');
        return dense(tf.mean(h, [1, 2]) as tf.Tensor2D, 'logits');
      },
    };
  }
  return {
    forward(x, guided) {
      let h = relu(bn(conv(x, 'conv1', 2, 3, false), 'bn1'), guided);
      h = tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], -Infinity), 3, 2, 'valid');
      [64, 128, 256, 512].forEach((w, s) => {
        for (let blk = 0; blk < 2; blk++) {
          const p = `layer${s + 1}.${blk}`;
          const stride = s > 0 && blk === 0 ? 2 : 1;
          let y = relu(bn(conv(h, `${p}.conv1`, stride, 1, false), `${p}.bn1`), guided);
          y = bn(conv(y, `${p}.conv2`, 1, 1, false), `${p}.bn2`);
          const shortcut = graph.initializers.has(`${p}.downsample.0.weight`) ? bn(conv(h, `${p}.downsample.0`, stride, 0, false), `${p}.downsample.1`) : h;
          h = relu(tf.add(y, shortcut), guided);
        }
      });
      return dense(tf.mean(h, [1, 2]) as tf.Tensor2D, 'fc');
    },
  };
}
