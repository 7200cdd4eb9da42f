// A tiny, randomly initialized Stable-Diffusion-style ONNX pipeline with the input and output
// signatures of diffusers/optimum exports, built with the graph builder: text encoder
// (input_ids int32 [B, 77] -> last_hidden_state [B, 77, D], pooler_output), U-Net (sample,
// timestep, encoder_hidden_states -> out_sample), VAE decoder (latent_sample -> sample
// [B, 3, 8h, 8w]), a CLIP BPE tokenizer (vocab.json, merges.txt) and the scheduler config of
// SD 1.x.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { bytesToUnicode } from '../../src/methods/diffusion/clip-tokenizer.js';
import { gaussian, seededRandom } from '../../src/models/init.js';

/** vocab.json and merges.txt of a small CLIP-style BPE that spells `words` as one token each. */
export function tinyClipVocab(words: readonly string[]): { vocab: Record<string, number>; merges: string[] } {
  const bytes = bytesToUnicode();
  const tokens: string[] = [...bytes, ...bytes.map((c) => `${c}</w>`)];
  const merges: string[] = [];
  for (const w of words) {
    let symbols = [...w];
    symbols[symbols.length - 1] += '</w>';
    while (symbols.length > 1) {
      const m = `${symbols[0]} ${symbols[1]}`;
      if (!merges.includes(m)) merges.push(m);
      const joined = symbols[0]! + symbols[1]!;
      if (!tokens.includes(joined)) tokens.push(joined);
      symbols = [joined, ...symbols.slice(2)];
    }
  }
  tokens.push('<|startoftext|>', '<|endoftext|>');
  return { vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges: ['#version: 0.2', ...merges] };
}

const normal = (rand: () => number, dims: number[], std: number): Tensor => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = gaussian(rand) * std;
  return { dtype: 'float32', dims, data };
};

export interface TinySdOptions {
  dir: string;
  /** latent side h = w (images are 8x that) */
  latent?: number;
  /** text embedding width D */
  width?: number;
  timestepType?: 'float32' | 'int64';
  seed?: number;
  words?: string[];
}

export const TINY_WORDS = ['a', 'photo', 'of', 'cat', 'dog', 'red', 'blue', 'car', 'blurry', 'ugly', 'astronaut', 'riding', 'horse'];

/** Writes the pipeline folder and returns its vocabulary size. */
export function writeTinySdPipeline(o: TinySdOptions): { vocabSize: number } {
  const h = o.latent ?? 8;
  const D = o.width ?? 16;
  const rand = seededRandom(o.seed ?? 1);
  const { vocab, merges } = tinyClipVocab(o.words ?? TINY_WORDS);
  const V = Object.keys(vocab).length;
  const L = 77;

  // Text encoder: token + position embeddings, one tanh layer.
  {
    const b = new GraphBuilder();
    b.graph.name = 'text_encoder';
    const ids = b.input('input_ids', 'int32', ['batch', L]);
    const tok = b.op('Gather', [b.initializer('token_embedding', normal(rand, [V, D], 1)), ids], { axis: 0 });
    const pos = b.op('Add', [tok, b.initializer('position_embedding', normal(rand, [L, D], 0.1))]);
    const hidden = b.op('Tanh', [b.op('MatMul', [pos, b.initializer('proj', normal(rand, [D, D], 1 / Math.sqrt(D)))])], {}, { name: 'last_hidden_state', outputs: ['last_hidden_state'] });
    b.output(hidden);
    b.output(b.op('ReduceMean', [hidden], { axes: [1], keepdims: 0 }, { name: 'pooler_output', outputs: ['pooler_output'] }));
    mkdirSync(join(o.dir, 'text_encoder'), { recursive: true });
    writeFileSync(join(o.dir, 'text_encoder', 'model.onnx'), encodeModel(b.build()));
  }

  // U-Net: conv features + timestep features + pooled text features, conv back to 4 channels.
  {
    const b = new GraphBuilder();
    b.graph.name = 'unet';
    const sample = b.input('sample', 'float32', ['batch', 4, h, h]);
    const t = b.input('timestep', o.timestepType ?? 'float32', ['steps']);
    const text = b.input('encoder_hidden_states', 'float32', ['batch', L, D]);
    const C = 8;
    const conv = (x: string, name: string, cin: number, cout: number, std: number): string =>
      b.op('Conv', [x, b.initializer(`${name}.weight`, normal(rand, [cout, cin, 3, 3], std)), b.initializer(`${name}.bias`, normal(rand, [cout], 0.01))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const h1 = conv(sample, 'conv_in', 4, C, 0.2);
    const tf = b.op('Cast', [t], { to: 1 });
    const freqs = b.constant({ dtype: 'float32', dims: [1, 4], data: Float32Array.of(1, 0.1, 0.01, 0.001) }, 'freqs');
    const targ = b.op('Mul', [b.op('Reshape', [tf, b.ints([-1, 1])]), freqs]);
    const temb = b.op('MatMul', [b.op('Concat', [b.op('Sin', [targ]), b.op('Cos', [targ])], { axis: 1 }), b.initializer('time_proj', normal(rand, [8, C], 0.3))]);
    const pooled = b.op('ReduceMean', [text], { axes: [1], keepdims: 0 });
    const cemb = b.op('MatMul', [pooled, b.initializer('text_proj', normal(rand, [D, C], 1))]);
    const cond = b.op('Add', [b.op('Unsqueeze', [temb, b.ints([2, 3])]), b.op('Unsqueeze', [cemb, b.ints([2, 3])])]);
    const h2 = b.op('Tanh', [b.op('Add', [h1, cond])]);
    // eps ~ x_t plus a small learned-looking term keeps the latents bounded over the steps.
    const delta = b.op('Conv', [h2, b.initializer('conv_out.weight', normal(rand, [4, C, 3, 3], 0.1)), b.initializer('conv_out.bias', normal(rand, [4], 0.01))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const out = b.op('Add', [sample, delta], {}, { name: 'out_sample', outputs: ['out_sample'] });
    b.output(out);
    mkdirSync(join(o.dir, 'unet'), { recursive: true });
    writeFileSync(join(o.dir, 'unet', 'model.onnx'), encodeModel(b.build()));
  }

  // VAE decoder: 1x1 conv to RGB, nearest upsampling x8, tanh.
  {
    const b = new GraphBuilder();
    b.graph.name = 'vae_decoder';
    const z = b.input('latent_sample', 'float32', ['batch', 4, h, h]);
    const rgb = b.op('Conv', [z, b.initializer('conv.weight', normal(rand, [3, 4, 1, 1], 0.05)), b.initializer('conv.bias', normal(rand, [3], 0.1))], { kernel_shape: [1, 1] });
    const up = b.op('Resize', [rgb, '', b.constant({ dtype: 'float32', dims: [4], data: Float32Array.of(1, 1, 8, 8) }, 'scales')], { mode: 'nearest' });
    b.output(b.op('Tanh', [up], {}, { name: 'sample', outputs: ['sample'] }));
    mkdirSync(join(o.dir, 'vae_decoder'), { recursive: true });
    writeFileSync(join(o.dir, 'vae_decoder', 'model.onnx'), encodeModel(b.build()));
  }

  mkdirSync(join(o.dir, 'tokenizer'), { recursive: true });
  writeFileSync(join(o.dir, 'tokenizer', 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(o.dir, 'tokenizer', 'merges.txt'), `${merges.join('\n')}\n`);
  writeFileSync(join(o.dir, 'tokenizer', 'special_tokens_map.json'), JSON.stringify({ bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', pad_token: '<|endoftext|>', unk_token: '<|endoftext|>' }));
  mkdirSync(join(o.dir, 'scheduler'), { recursive: true });
  writeFileSync(
    join(o.dir, 'scheduler', 'scheduler_config.json'),
    JSON.stringify({ _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, clip_sample: false }),
  );
  writeFileSync(join(o.dir, 'model_index.json'), JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline', _name_or_path: 'tiny-random-sd' }));
  return { vocabSize: V };
}
