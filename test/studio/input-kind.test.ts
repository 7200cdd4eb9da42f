// How the page names a model's input and which samples fit it (web/src/input-kind.ts).
import { describe, expect, it } from 'vitest';
import { inputKind } from '../../web/src/input-kind.js';

describe('inputKind', () => {
  it('names a 4-channel input by its channels, not the rgb the server fills in, and offers no sample group', () => {
    // what the server answered for a 4-channel 61x90 upload
    const odd = { input: { shape: ['n', 4, 61, 90] }, preprocessing: { channels: 'rgb' }, sampleGroup: 'photos' };
    expect(inputKind(odd)).toEqual({ channels: 4, label: '4 channels', takesImages: false, sampleGroup: undefined, noImages: expect.stringMatching(/takes 4-channel input .* cannot feed it an image$/) });
  });

  it('keeps the server\'s names and groups for gray and colour models', () => {
    expect(inputKind({ input: { shape: ['N', 3, 224, 224] }, preprocessing: { channels: 'bgr' }, sampleGroup: 'photos' })).toMatchObject({ label: 'bgr', takesImages: true, sampleGroup: 'photos' });
    expect(inputKind({ input: { shape: ['N', 1, 28, 28] }, preprocessing: { channels: 'gray' } })).toMatchObject({ label: 'gray', takesImages: true, sampleGroup: 'fashion-mnist' });
    expect(inputKind({ input: { shape: ['N', 'C', 'H', 'W'] } })).toMatchObject({ channels: undefined, label: 'rgb', takesImages: true, sampleGroup: 'photos' });
  });
});
