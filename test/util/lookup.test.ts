// Names users give are looked up in a table's own keys only: Object.prototype's members
// ("constructor", "toString") were found in every table and ended in TypeErrors.
import { describe, expect, it } from 'vitest';
import { resolveMethod } from '../../src/methods/explain/index.js';
import { colormap, describeColormap } from '../../src/render/colormap.js';
import { lookup } from '../../src/util/lookup.js';

const PROTOTYPE_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', '__defineGetter__', 'isPrototypeOf'];

describe('lookup', () => {
  it("finds the table's own keys only", () => {
    const table: Record<string, number> = { a: 1, zero: 0 };
    expect(lookup(table, 'a')).toBe(1);
    expect(lookup(table, 'zero')).toBe(0);
    for (const name of PROTOTYPE_NAMES) expect(lookup(table, name), name).toBeUndefined();
  });

  it('method and colormap names', () => {
    for (const name of PROTOTYPE_NAMES) {
      expect(() => resolveMethod(name), name).toThrow(`No attribution method named "${name}"`);
      expect(() => colormap(name), name).toThrow(`No colormap named "${name}"`);
      expect(describeColormap(name)).toBe('');
    }
    expect(resolveMethod('grad-cam')).toBe('gradcam');
  });
});
