import { describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { ClipTokenizer } from '../../src/methods/diffusion/clip-tokenizer.js';
import { resolvePrompt } from '../../src/methods/diffusion/prompts.js';
import { FASHION_MNIST_LABELS } from '../../src/models/zoo/index.js';
import { tinyClipVocab } from './tiny-sd.js';

const labels = FASHION_MNIST_LABELS;
const idx = (p: string): number => {
  const c = resolvePrompt(p, labels);
  return c.kind === 'class' ? c.index : -1;
};

describe('text prompts -> class conditions', () => {
  it('maps class names ignoring case, punctuation, plurals, articles and framing words', () => {
    expect(idx('ankle boot')).toBe(9);
    expect(idx('Ankle Boots')).toBe(9);
    expect(idx('a photo of an ankle boot')).toBe(9);
    expect(idx('T-shirt/top')).toBe(0);
    expect(idx('t-shirt')).toBe(0);
    expect(idx('tshirt')).toBe(0);
    expect(idx('TOP')).toBe(0);
    expect(idx('trousers')).toBe(1);
    expect(idx('a pair of sneakers')).toBe(7);
    expect(idx('dresses')).toBe(3);
    expect(idx('Bag.')).toBe(8);
    expect(idx('handbag')).toBe(8);
    expect(idx('sweater')).toBe(2);
    expect(idx('7')).toBe(7);
  });

  it('a prompt that contains one class name counts; "shirt" is Shirt, not T-shirt', () => {
    expect(idx('shirt')).toBe(6);
    expect(idx('a red sandal on the beach')).toBe(5);
    expect(idx('ankle boot with laces')).toBe(9);
  });

  it('the empty prompt is the unconditional model', () => {
    expect(resolvePrompt('', labels)).toEqual({ kind: 'unconditional' });
    expect(resolvePrompt('   ', labels)).toEqual({ kind: 'unconditional' });
  });

  it('an unmappable prompt is a clear error listing the known prompts and the closest one', () => {
    let err: unknown;
    try {
      resolvePrompt('sneakr', labels);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConvLensError);
    const e = err as ConvLensError;
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Cannot map the prompt "sneakr" to a condition of this model.');
    expect(e.hint).toContain('"Ankle boot"');
    expect(e.hint).toContain('"T-shirt/top"');
    expect(e.hint).toContain('Did you mean "Sneaker"?');
    expect(() => resolvePrompt('an astronaut riding a horse', labels)).toThrow(/Cannot map the prompt "an astronaut riding a horse"/);
    expect(() => resolvePrompt('bag and coat', labels)).toThrow(/names more than one class \("Coat", "Bag"\)|names more than one class \("Bag", "Coat"\)/);
    expect(() => resolvePrompt('spaceship', labels, 'negative prompt')).toThrow(/negative prompt "spaceship"/);
  });
});

describe('CLIP BPE tokenizer', () => {
  const words = ['a', 'photo', 'of', 'cat', 'dog', "'s", 'hello'];
  const { vocab, merges } = tinyClipVocab(words);
  const tok = new ClipTokenizer({ vocab, merges });

  it('cleans, lowercases and splits like CLIP (contractions, single digits, punctuation runs)', () => {
    expect(tok.tokenize('A  photo of\ta CAT')).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>']);
    expect(ClipTokenizer.clean('  Tom &amp;amp; Jerry \n')).toBe('tom & jerry');
    // "'s" is its own piece; digits are split one by one; "!!" stays one punctuation run.
    const pieces = tok.tokenize("dog's 42!!");
    expect(pieces.slice(0, 4)).toEqual(['dog</w>', "'s</w>", '4</w>', '2</w>']);
    // "!!" has no merge in this vocabulary: two byte symbols, the last one marked end-of-word.
    expect(pieces.slice(4)).toEqual(['!', '!</w>']);
  });

  it('merges by rank and falls back to bytes; non-ASCII goes through the byte alphabet', () => {
    // "hell" is a prefix of the merged "hello": merges apply only while pairs are listed.
    expect(tok.tokenize('hello')).toEqual(['hello</w>']);
    expect(tok.tokenize('hellx')).toEqual(['hell', 'x</w>']);
    const ids = tok.encodeTokens('é');
    expect(ids.length).toBe(2); // two UTF-8 bytes
    expect(tok.decode(tok.encode('a photo of café').ids)).toBe('a photo of café');
  });

  it('encodes <|startoftext|> ... <|endoftext|>, padded (pad token) and truncated to 77', () => {
    const e = tok.encode('a photo of a cat');
    expect(e.ids.length).toBe(77);
    expect(e.ids[0]).toBe(vocab['<|startoftext|>']);
    expect(e.ids.slice(1, 6)).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>'].map((t) => vocab[t]));
    expect(e.ids[6]).toBe(vocab['<|endoftext|>']);
    expect(e.ids[76]).toBe(vocab['<|endoftext|>']);
    expect(e.length).toBe(7);
    const long = tok.encode(Array.from({ length: 100 }, () => 'cat').join(' '));
    expect(long.truncated).toBe(true);
    expect(long.ids.length).toBe(77);
    expect(long.ids[76]).toBe(vocab['<|endoftext|>']);
    const bang = new ClipTokenizer({ vocab: { ...vocab, '!': vocab['!']! }, merges, padToken: '!' });
    expect(bang.encode('cat').ids[5]).toBe(vocab['!']);
  });

  it('rejects a vocabulary without the special tokens', () => {
    const { '<|startoftext|>': _, ...rest } = vocab;
    expect(() => new ClipTokenizer({ vocab: rest, merges })).toThrow(/no "<\|startoftext\|>" token/);
  });

  it('rejects a merges.txt without merges (an empty copy made every prompt letters the encoder never saw)', () => {
    for (const empty of [[], [''], ['#version: 0.2', '', '']]) {
      expect(() => new ClipTokenizer({ vocab, merges: empty }, 'tokenizer "sd/tokenizer"')).toThrow(/The tokenizer "sd\/tokenizer" merges.txt has no merges/);
    }
  });
});
