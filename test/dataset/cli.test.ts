// The dataset-lens commands end to end on the committed subset: index (and its resume),
// patches, neighbors, embed; and their errors.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-ds-cli-');
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
    // every command reports its files the same way ("figure -> x" was neighbors' alone)
    expect(f.stdout).toContain(`wrote ${join(tmp, 'n2.png')}\n`);
    // two queries with one file name, from two folders, are told apart by their folders
    for (const folder of ['from-a', 'from-b']) {
      mkdirSync(join(tmp, folder), { recursive: true });
      copyFileSync(join(ROOT, 'samples/fashion-mnist', folder === 'from-a' ? 'bag-test18.png' : 'ankle-boot-test0.png'), join(tmp, folder, 'q.png'));
    }
    const same = await convlens('neighbors', join(tmp, 'from-a', 'q.png'), join(tmp, 'from-b', 'q.png'), '--store', store, '--layer', 'relu4', '-k', '2', '-o', join(tmp, 'n3.png'), '--json');
    expect(same.code, same.stderr).toBe(0);
    expect((JSON.parse(same.stdout) as { queries: { name: string }[] }).queries.map((q) => q.name)).toEqual(['from-a/q.png', 'from-b/q.png']);

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

describe('small stores: patches, embed and neighbors fit what the store holds', () => {
  const small = join(tmp, 'small'); // 26 images, k = 4, a 10-channel logits layer
  const run = (...args: string[]) => convlens(...args, '--threads', '2');
  const indexSmall = async (): Promise<void> => {
    if (existsSync(join(small, 'store.json'))) return;
    const r = await run('index', 'data/fashion-mnist-subset', '--split', 'test', '--limit', '26', '--layers', 'relu3,logits', '-k', '4', '--store', small, '-q');
    expect(r.code, r.stderr).toBe(0);
  };

  it('patches: a backwards channel range is refused, -k is capped at the store\'s k, the default channels are cut to the layer', async () => {
    await indexSmall();
    const back = await run('patches', '--store', small, '--layer', 'relu3', '-c', '15-0', '-o', join(tmp, 'back.png'));
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/Channel range "15-0" runs backwards.*0-15/s);
    expect(existsSync(join(tmp, 'back.png'))).toBe(false);

    const many = await run('patches', '--store', small, '--layer', 'relu3', '-c', '3', '-k', '100', '--no-guided', '-o', join(tmp, 'many.png'), '--json');
    expect(many.code, many.stderr).toBe(0);
    expect(many.stdout).toMatch(/relu3: 1 channels x 4 patches \(the store keeps 4\)/);
    expect(many.stderr).toMatch(/note: the store keeps the top 4 images per channel.*drawing 4, not 100/);
    const list = JSON.parse(readFileSync(join(tmp, 'many.json'), 'utf8')) as { channels: { patches: unknown[] }[] };
    expect(list.channels[0]!.patches).toHaveLength(4);

    const logits = await run('patches', '--store', small, '--layer', 'logits', '--no-guided', '-o', join(tmp, 'logits.png'));
    expect(logits.code, logits.stderr).toBe(0);
    expect(logits.stdout).toMatch(/logits: 10 channels x 4 patches/);
    const past = await run('patches', '--store', small, '--layer', 'logits', '-c', '0-10', '-o', join(tmp, 'past.png'));
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/Channel 10 does not exist: the layer has channels 0\.\.9/);
  });

  it('embed: a default perplexity is lowered to what 26 points allow; one given too large is refused before anything is written', async () => {
    await indexSmall();
    const out = join(tmp, 'embed-small');
    const e = await run('embed', '--store', small, '--layer', 'relu3', '--method', 'pca,tsne', '--grid', '0', '-o', out);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toMatch(/note: t-SNE perplexity lowered from 30 to 8, the largest 26 points allow/);
    const tsne = JSON.parse(readFileSync(join(out, 'relu3-tsne.json'), 'utf8')) as { params: { perplexity: number }; notes: string[] };
    expect(tsne.params.perplexity).toBe(8);
    expect(tsne.notes.join()).toMatch(/lowered from 30 to 8/);
    // PCA scores are centred, as numpy's and scikit-learn's are
    const pca = JSON.parse(readFileSync(join(out, 'relu3-pca.json'), 'utf8')) as { points: { x: number; y: number }[] };
    const spread = Math.max(...pca.points.map((p) => Math.abs(p.x)));
    expect(Math.abs(pca.points.reduce((a, p) => a + p.x, 0) / pca.points.length)).toBeLessThan(1e-6 * spread);
    expect(Math.abs(pca.points.reduce((a, p) => a + p.y, 0) / pca.points.length)).toBeLessThan(1e-6 * spread);

    const refused = join(tmp, 'embed-refused');
    const big = await run('embed', '--store', small, '--layer', 'relu3', '--method', 'pca,tsne', '--perplexity', '30', '--grid', '0', '-o', refused);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/perplexity 30 needs at least 91 points.*the sample has 26.*Lower the perplexity \(CLI: --perplexity\) to at most 8/s);
    expect(big.stderr).not.toMatch(/--sample/); // the store has no more points to sample
    expect(existsSync(refused)).toBe(false);
    const huge = await run('embed', '--store', small, '--perplexity', '1e308', '-o', refused);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/--perplexity.*expected a number from 1 to 1000/);
  });

  it('neighbors: unlabeled images show no class; a one-image store is refused, saying there are no other images', async () => {
    const flat = join(tmp, 'flat');
    const one = join(tmp, 'one');
    mkdirSync(flat, { recursive: true });
    mkdirSync(one, { recursive: true });
    for (const f of ['bag-test18.png', 'coat-test6.png', 'dress-test13.png', 'sandal-test8.png']) copyFileSync(join(ROOT, 'samples', 'fashion-mnist', f), join(flat, f));
    copyFileSync(join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png'), join(one, 'bag-test18.png'));
    for (const [data, dir] of [[flat, join(tmp, 'flat-store')], [one, join(tmp, 'one-store')]] as const) {
      const r = await run('index', data, '--layers', 'relu4', '--store', dir, '-q');
      expect(r.code, r.stderr).toBe(0);
    }
    const n = await run('neighbors', '--store', join(tmp, 'flat-store'), '--ids', '0', '-k', '2', '-o', join(tmp, 'flat.png'));
    expect(n.code, n.stderr).toBe(0);
    // a folder's images are named by their files, the query and its neighbours alike (not "#2" alone)
    expect(n.stdout).toMatch(/^#0 bag-test18\.png: relu4 #\d+ [a-z-]+\d+\.png, #\d+ [a-z-]+\d+\.png \| pixels #\d+ [a-z-]+\d+\.png, #\d+ [a-z-]+\d+\.png \(/m);
    const j = await run('neighbors', '--store', join(tmp, 'flat-store'), '--ids', '0', '-k', '3', '-o', join(tmp, 'flat.png'), '--json');
    const names = (JSON.parse(j.stdout) as { queries: { feature: { name: string }[] }[] }).queries[0]!.feature.map((f) => f.name).sort();
    expect(names).toEqual(['coat-test6.png', 'dress-test13.png', 'sandal-test8.png']);
    // -q keeps the results (the neighbour line) and leaves out the lines that name written files
    const quiet = await run('neighbors', '--store', join(tmp, 'flat-store'), '--ids', '0', '-k', '2', '-o', join(tmp, 'flat-q.png'), '-q');
    expect(quiet.stdout).toMatch(/^#0 bag-test18\.png: relu4 /);
    expect(quiet.stdout).not.toContain('figure ->');
    for (const args of [['patches', '--layer', 'relu4', '--channels', '0-1', '-k', '2', '-o', join(tmp, 'flat-p.png')], ['embed', '--layer', 'relu4', '--method', 'pca', '--grid', '0', '-o', join(tmp, 'flat-embed')]]) {
      const r = await run(...args, '--store', join(tmp, 'flat-store'), '-q');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, args[0]).toBe('');
    }
    expect(existsSync(join(tmp, 'flat-p.png')) && existsSync(join(tmp, 'flat-q.png'))).toBe(true);
    // no class -1 for unlabeled images (the neighbour line only: the figure's temporary path may hold "-1")
    expect(n.stdout.split('\n')[0]).not.toContain('-1');

    const alone = await run('neighbors', '--store', join(tmp, 'one-store'), '--ids', '0', '-o', join(tmp, 'alone.png'));
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/No neighbours for #0 bag-test18\.png: the store holds 1 image, so there are no other images to compare with.*Index more images/s);
    expect(existsSync(join(tmp, 'alone.png'))).toBe(false);
  });
});

describe('layers named as the model names them', () => {
  it('index, patches, neighbors and embed say "fires.5", not the stored value name "/fires.5/Concat_output_0"', async () => {
    // SqueezeNet's exported value names carry the exporter's decoration; every other command shows the module path
    const photos = join(tmp, 'layer-label-store');
    const r = await convlens('index', 'samples/photos', '--model', 'squeezenet', '--layers', 'fires.5', '-k', '2', '--store', photos);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/, layers fires\.5$/m);
    const p = await convlens('patches', '--store', photos, '--channels', '0-1', '--no-guided', '-o', join(tmp, 'label-p.png'));
    expect(p.code, p.stderr).toBe(0);
    const n = await convlens('neighbors', 'samples/photos/chelsea.png', '--store', photos, '-o', join(tmp, 'label-n.png'));
    expect(n.code, n.stderr).toBe(0);
    const e = await convlens('embed', '--store', photos, '--method', 'pca', '--grid', '0', '-o', join(tmp, 'label-e'));
    expect(e.code, e.stderr).toBe(0);
    expect(p.stdout).toMatch(/^fires\.5: 2 channels x 2 patches/m);
    expect(n.stdout).toMatch(/^chelsea\.png: fires\.5 #/m);
    expect(e.stdout).toMatch(/^pca of fires\.5 \(/m);
    for (const out of [r.stdout, p.stdout, n.stdout, e.stdout.replace(/-> .*/g, '')]) expect(out).not.toContain('Concat_output_0');
  }, 120_000);
});
