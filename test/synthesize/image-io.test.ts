// Images for the synthesis commands and the studio's synthesis tabs (style, content, guide
// images) decode through the same failure wording as every other image: the decoder's own
// message can quote the file (an SVG's attribute names), and errors never show file contents.
import { describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { decodeImageTensor } from '../../src/methods/synthesize/io.js';

const SECRET = 'SECRET-TOKEN-123';

describe('a synthesis image that does not decode', () => {
  it('is refused in our words, without quoting the file', async () => {
    const files = [`<?xml version="1.0"?><svg ${SECRET}>`, `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>${SECRET}</text`, `P6\n3 3\n255\n${SECRET}`, `GIF89a${SECRET}`];
    for (const text of files) {
      const e = await decodeImageTensor(new TextEncoder().encode(text), '"style.png"', 3).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e, text).toBeInstanceOf(ConvLensError);
      const { message, hint } = e as ConvLensError;
      expect(message).toMatch(/^Cannot decode "style\.png" as an image: (it is not in a supported image format|the data is truncated or corrupt|the decoder refused it)\.$/);
      expect(`${message} ${hint}`).not.toContain(SECRET);
    }
  });
});
