// Output names of multi-input commands: inputs from different folders often share a file name.
import { describe, expect, it } from 'vitest';
import { stemmer } from '../../src/interfaces/cli/output.js';

describe('stemmer', () => {
  it('numbers repeated names and never hands out a name twice', () => {
    const nameOf = stemmer();
    expect(['a/x.png', 'b/x.png', 'c/x-2.png', 'd/x.png', 't.npy#3', 'odd name!.jpg'].map(nameOf)).toEqual(['x', 'x-2', 'x-2-2', 'x-3', 't-3', 'odd_name_']);
  });
});
