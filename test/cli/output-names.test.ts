// Output names of multi-input commands: inputs from different folders often share a file name.
import { describe, expect, it } from 'vitest';
import { distinctNames, stemmer } from '../../src/interfaces/cli/output.js';

describe('stemmer', () => {
  it('numbers repeated names and never hands out a name twice', () => {
    const nameOf = stemmer();
    expect(['a/x.png', 'b/x.png', 'c/x-2.png', 'd/x.png', 't.npy#3', 'odd name!.jpg'].map(nameOf)).toEqual(['x', 'x-2', 'x-2-2', 'x-3', 't-3', 'odd_name_']);
  });
});

describe('distinctNames', () => {
  it('adds parent folders until the names differ, and numbers the same path given twice', () => {
    expect(distinctNames(['a/x.png', 'b/x.png', 'c/y.png'])).toEqual(['a/x.png', 'b/x.png', 'y.png']);
    expect(distinctNames(['/p/a/x.png', '/q/a/x.png', 'x.png'])).toEqual(['p/a/x.png', 'q/a/x.png', 'x.png']);
    expect(distinctNames(['a\\x.png', 'b\\x.png'])).toEqual(['a/x.png', 'b/x.png']);
    expect(distinctNames(['d/x.png', 'd/x.png', 'e.npy#3'])).toEqual(['d/x.png', 'd/x.png (2)', 'e.npy#3']);
  });
});
