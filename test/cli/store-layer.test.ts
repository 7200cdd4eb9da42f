// Which indexed layer patches, neighbors and embed use when --layer is not given: the model's
// default feature layer if the store has one, else the store's own, saying so.
import { afterAll, describe, expect, it } from 'vitest';
import { defaultStoreLayer } from '../../src/interfaces/cli/common.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { courseModel } from '../explain/models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());
const model = courseModel(engine, 3); // default feature layers: relu3, relu4

describe('defaultStoreLayer', () => {
  it('takes the model\'s feature layer the store holds, quietly', () => {
    const notes: string[] = [];
    expect(defaultStoreLayer(model, ['relu2', 'relu3', 'relu4'], 'first', (m) => notes.push(m))).toBe('relu3');
    expect(defaultStoreLayer(model, ['relu2', 'relu3', 'relu4'], 'last', (m) => notes.push(m))).toBe('relu4');
    expect(notes).toEqual([]);
  });

  it('falls back to the store\'s own layer and says which and why', () => {
    const notes: string[] = [];
    expect(defaultStoreLayer(model, ['relu1', 'relu2'], 'last', (m) => notes.push(m))).toBe('relu2');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/none of the model's default feature layers \(relu3, relu4\); using its last indexed layer, relu2\. Give --layer/);
  });
});
