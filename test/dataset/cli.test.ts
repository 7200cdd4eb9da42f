// The dataset-lens commands end to end on the committed subset: index (and its resume),
// patches, neighbors, embed; and their errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convlens } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'convlens-ds-cli-'));
const store = join(tmp, 'store');


afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('convlens index / patches / neighbors / embed', () => {
  it('indexes a dataset and resumes a complete store without scanning again', async () => {
    const r = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '400', '--chunk', '100', '--layers', 'relu3,relu4', '--store', store, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { count: number; scanned: number; chunks: number };
    expect(report).toMatchObject({ count: 400, scanned: 400, chunks: 4 });
    expect(r.stderr).not.toMatch(/WARN/); // LanceDB's log lines stay quiet
    const again = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '400', '--chunk', '100', '--layers', 'relu3,relu4', '--store', store);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to scan');
    const other = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '400', '--chunk', '100', '--layers', 'relu4', '--store', store);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/different scan.*--fresh/s);
    // the same images with another --limit: which part of the source each holds, and how to match
    const fewer = await convlens('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '10', '--chunk', '100', '--layers', 'relu3,relu4', '--store', store);
    expect(fewer.code).toBe(1);
    expect(fewer.stderr).toMatch(/it holds the first 400 images of fashion-mnist-subset test \([^)]*\); this run asks for the first 10 images \(--limit 10\)\.\n\s+Use --limit 400 to go on with this store/);
  });

  it('draws top patches, neighbours and embeddings from the store', async () => {
    const p = await convlens('patches', '--store', store, '--layer', 'relu3', '--channels', '0-3', '-k', '4', '-o', join(tmp, 'p.png'), '--json');
    expect(p.code, p.stderr).toBe(0);
    expect(existsSync(join(tmp, 'p.png'))).toBe(true);
    const list = JSON.parse(readFileSync(join(tmp, 'p.json'), 'utf8')) as { channels: { channel: number; patches: { box: number[] }[] }[] };
    expect(list.channels.map((c) => c.channel)).toEqual([0, 1, 2, 3]);
    expect(list.channels[0]!.patches).toHaveLength(4);

    const n = await convlens('neighbors', '--store', store, '--layer', 'relu4', '--ids', '0,5', '-k', '3', '-o', join(tmp, 'n.png'), '--json');
    expect(n.code, n.stderr).toBe(0);
    const nn = JSON.parse(n.stdout) as { queries: { feature: { id: number }[]; pixel: unknown[] }[] };
    expect(nn.queries).toHaveLength(2);
    expect(nn.queries[0]!.feature).toHaveLength(3);
    expect(nn.queries[0]!.feature.map((f) => f.id)).not.toContain(0);
    const f = await convlens('neighbors', 'samples/fashion-mnist/bag-test18.png', '--store', store, '--layer', 'relu4', '-k', '3', '-o', join(tmp, 'n2.png'));
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/bag-test18\.png: relu4 #\d+/);

    const e = await convlens('embed', '--store', store, '--layer', 'relu4', '--method', 'pca', '--grid', '8', '-o', join(tmp, 'embed'));
    expect(e.code, e.stderr).toBe(0);
    for (const ext of ['.png', '.svg', '.json', '.csv', '-grid.png']) expect(existsSync(join(tmp, 'embed', `relu4-pca${ext}`))).toBe(true);
    const csv = readFileSync(join(tmp, 'embed', 'relu4-pca.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('id,label,class,x,y');
    expect(csv).toHaveLength(401);
  });

  it('explains what is wrong', async () => {
    const none = await convlens('neighbors', '--store', store, '--layer', 'relu4');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No query.*--ids/s);
    const layer = await convlens('patches', '--store', store, '--layer', 'relu2');
    expect(layer.code).toBe(1);
    expect(layer.stderr).toMatch(/"relu2" is not in the store.*relu3, relu4/s);
    const missing = await convlens('patches', '--store', join(tmp, 'nope'), '--layer', 'relu3');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No dataset store.*convlens index/s);
    const ds = await convlens('index', join(tmp, 'no-such-folder'), '--store', join(tmp, 's2'));
    expect(ds.code).toBe(1);
    expect(ds.stderr).toMatch(/not found/);
    expect(ds.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
