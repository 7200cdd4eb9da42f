// The seeded generators keep 32 bits of state: `--seed 4294967296` used to be accepted and gave
// the images of seed 0 (and 1e30 too), so two "different" runs were the same run without a word.
// Every command's --seed now stops where the generators (and the API's schemas) do.
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/interfaces/cli/registry.js';
import { MAX_SEED } from '../../src/interfaces/cli/common.js';
import { seededRandom } from '../../src/util/random.js';

function seedOptions(command: Command, path: string[] = []): [string, Option][] {
  const here = command.options.filter((o) => o.long === '--seed').map((o): [string, Option] => [[...path, command.name()].join(' '), o]);
  return [...here, ...command.commands.flatMap((c) => seedOptions(c, [...path, command.name()]))];
}

async function allSeedOptions(): Promise<[string, Option][]> {
  const found: [string, Option][] = [];
  for (const entry of COMMANDS) {
    const command = new Command(entry.name);
    (await entry.load()).define(command);
    found.push(...seedOptions(command));
  }
  return found;
}

describe('--seed', () => {
  it('the bound is where the generator starts repeating itself', () => {
    const draws = (seed: number): number[] => Array.from({ length: 4 }, seededRandom(seed));
    expect(draws(MAX_SEED)).not.toEqual(draws(0));
    expect(draws(MAX_SEED + 1)).toEqual(draws(0));
  });

  it('every command refuses a seed past 32 bits, naming the range, and takes the largest 32-bit one', async () => {
    const options = await allSeedOptions();
    expect(options.map(([name]) => name)).toEqual(expect.arrayContaining(['train', 'diffuse sample', 'diffuse train', 'style-train', 'style']));
    for (const [name, option] of options) {
      for (const bad of ['4294967296', '1e30', '9007199254740993', '-1', '1.5', 'NaN', ''])
        expect(() => option.parseArg!(bad, undefined), `${name} --seed ${bad}`).toThrow(/from 0 to 4294967295/);
      expect(option.parseArg!('4294967295', undefined), name).toBe(4294967295);
      expect(option.parseArg!('0', undefined), name).toBe(0);
    }
  });
});
