// The folders a dataset reads from (`DatasetSource.folders`): what `convlens index --spawn-workers`
// gives its workers as `--data-root`, and what those workers check every file against. A folder
// of class sub-folders is one folder, not one per class (a dataset of 1,000 classes made each of
// its files a check against 1,000 folders); a combined dataset is the folders it names, not their
// common parent (which may be `/`).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { combinedSpec, openSource } from '../../src/data/sources.js';
import { writeSpots, writeSpotsIdx } from '../dataset/synthetic.js';
import { tempFolder } from '../support/temp-folder.js';

let tmp: string;
beforeAll(async () => {
  tmp = tempFolder('convlens-source-folders-');
  await writeSpots(join(tmp, 'photos'), 6); // photos/even, photos/odd
  await writeSpots(join(tmp, 'a', 'b'), 2);
  await writeSpots(join(tmp, 'a-c'), 2);
  writeSpotsIdx(join(tmp, 'idx'), 4);
  mkdirSync(join(tmp, 'lists'));
  writeFileSync(join(tmp, 'lists', 'some.txt'), `${join(tmp, 'photos', 'odd', 'spot-001.png')}\n${join(tmp, 'a', 'b', 'even', 'spot-000.png')}\n${join(tmp, 'a-c', 'odd', 'spot-001.png')}\n`);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the folders a dataset reads from', () => {
  it('is the folder itself for a folder of class folders', () => {
    expect(openSource(join(tmp, 'photos')).folders).toEqual([join(tmp, 'photos')]);
  });

  it('is the IDX files\' folder', () => {
    expect(openSource(join(tmp, 'idx', 'spots-images-idx3-ubyte')).folders).toEqual([join(tmp, 'idx')]);
  });

  it('is the list file\'s folder and the fewest folders holding the images it names', () => {
    expect([...openSource(join(tmp, 'lists', 'some.txt')).folders].sort()).toEqual([join(tmp, 'a', 'b', 'even'), join(tmp, 'a-c', 'odd'), join(tmp, 'lists'), join(tmp, 'photos', 'odd')].sort());
  });

  it('is each folder of a combined dataset, none inside another, not their common parent', () => {
    expect([...openSource(combinedSpec([join(tmp, 'a'), join(tmp, 'a', 'b'), join(tmp, 'a-c')])).folders].sort()).toEqual([join(tmp, 'a'), join(tmp, 'a-c')].sort());
  });
});
