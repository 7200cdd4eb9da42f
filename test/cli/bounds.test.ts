// Absurd or malformed values are refused before any work, naming the option and its range or
// choices; non-finite inputs are refused and non-finite weights and outputs are reported, where
// they used to come out as "NaN%" without a word.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { encodeNpy } from '../../src/io/npy.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { MAX_LABEL_LENGTH, parseLabels } from '../../src/models/metadata.js';
import { convlens, convlensIn, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-bounds-');
const image = join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png');
const photo = join(ROOT, 'samples', 'photos', 'chelsea.png');

const refused = (r: { code: number; stderr: string }, pattern: RegExp): void => {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
};

describe('numeric options have ranges, checked before work starts', () => {
  it.each([
    [['featviz', '--size', '30000'], /--size.*sides from 8 to 2048/],
    [['featviz', '--size', '100000x20'], /--size.*sides from 8 to 2048/],
    [['dream', photo, '--max-side', '20000'], /--max-side.*from 16 to 2048/],
    [['summary', '--threads', '10000'], /--threads.*from 1 to \d+/],
    [['explain', image, '--method', 'integrated-gradients', '--steps', '1000000000'], /--steps.*from 1 to 1000/],
    [['predict', image, '-k', '0'], /--top.*from 1 to 1000/],
    [['explain', image, '--method', 'lrp', '--lrp-epsilon', '1e9'], /--lrp-epsilon.*from 0 to 100/],
    [['explain', image, '--method', 'gradient-shap', '--shap-stdev', 'Infinity'], /--shap-stdev.*from 0 to 10/],
    [['explain', image, '--method', 'gradient-shap', '--samples', '100000'], /--samples.*from 1 to 10000/],
    [['explain', image, '--method', 'saliency', '--faithfulness', '--curve-steps', '100000'], /--curve-steps.*from 1 to 1000/],
    // found by a fuzzer: each ended in a RangeError, a hang or an absurd allocation
    [['featviz', '--tile', '4294967296'], /--tile.*from 8 to 1024/],
    [['featviz', '--frames', '9007199254740993'], /--frames.*from 1 to 256/],
    [['featviz', '--facets', '-1', '--target', 'Bag'], /--facets.*from 1 to 64/],
    [['adversarial', image, '--tile', '1e308'], /--tile.*from 8 to 1024/],
    [['invert', image, '--tile', '0'], /--tile.*from 8 to 1024/],
    [['dream', photo, '--octave-scale', '1e-300'], /--octave-scale.*from 1 to 4/],
    [['dream', photo, '--step-size', '50'], /--step-size.*from 0.00001 to 1/],
    [['style', photo, '--style', photo, '--style-scale', '1e9'], /--style-scale.*from 0.1 to 4/],
    [['index', 'data/fashion-mnist-subset', '--layers', 'relu3', '--redis', 'redis://127.0.0.1:1', '--spawn-workers', '1000000'], /--spawn-workers.*from 1 to 64/],
    [['studio', '--workers', '100000'], /--workers.*from 1 to 64/],
    [['studio', '--memory', '1e308'], /--memory.*from 0.5 to 1024/],
    [['diffuse', 'train', '-d', 'data/fashion-mnist-subset', '--limit', '20', '--epochs', '1', '--widths', '1'], /U-Net widths \[1\] cannot be built/],
    [['diffuse', 'train', '-d', 'data/fashion-mnist-subset', '--limit', '20', '--epochs', '1', '--widths', '3,5'], /U-Net widths \[3, 5\] cannot be built: the first, 3, is odd \([^)]*\)\.\n\s+Use even widths that are multiples of the GroupNorm groups \(8\)/],
    [['diffuse', 'train', '-d', 'data/fashion-mnist-subset', '--limit', '20', '--epochs', '1', '--widths', '12,16'], /U-Net widths \[12, 16\] cannot be built/],
    [['diffuse', 'evaluate', '--per-class', '4294967296'], /--per-class.*from 1 to 10000/],
    [['diffuse', 'sample', 'bag', '-c', '1', '--steps', '2', '--eta', '1e308'], /--eta.*from 0 to 1\b/],
    [['diffuse', 'sample', 'bag', '-c', '1', '--steps', '2', '--eta', '3'], /--eta.*from 0 to 1\b/],
    [['diffuse', 'sample', 'bag', '-c', '1', '--steps', '2', '-g', '1e308'], /--guidance.*from 0 to 50/],
    [['diffuse', 'evaluate', '--per-class', '1', '-g', '1,1e308'], /--guidance.*from 0 to 50/],
    [['diffuse', 'evaluate', '--per-class', '1', '--eta', '2'], /--eta.*from 0 to 1\b/],
    [['style', photo, '--style', photo, '--style-weight', '1e308'], /--style-weight.*from 0 to 1000000/],
    [['index', 'data/fashion-mnist-subset', '--layers', 'relu3', '--top', '1024'], /--top.*from 1 to 1000/],
    [['index', 'data/fashion-mnist-subset', '--layers', 'relu3', '--store', ''], /--store.*expected a folder path/],
    [['patches', '--store', ' '], /--store.*expected a folder path/],
    [['index', 'data/fashion-mnist-subset', '--layers', 'relu3', '--redis', 'redis://[::1'], /--redis.*expected a Redis URL/],
    [['index-worker', '--redis', 'http://127.0.0.1:6379'], /--redis.*expected a redis:\/\/ or rediss:\/\/ URL/],
    [['index-worker', '--redis', 'redis://127.0.0.1:1', '--queue', 'a:b'], /--queue.*expected 1 to 128 letters/],
    [['style', photo, '--style', photo, '--max-side', '48', '--steps', '1', '--style-layers', 'logits'], /Style layer "logits" has shape \[batch, 1000\]; style statistics need a feature map/],
  ])('%j', async (args, pattern) => {
    const writes = ['featviz', 'dream', 'explain', 'adversarial', 'invert', 'style'].includes(args[0]!);
    const t0 = performance.now();
    const r = await convlens(...args, ...(writes ? ['--out', join(tmp, `out-${args[0]}`)] : []));
    refused(r, pattern);
    expect(performance.now() - t0).toBeLessThan(20_000); // refused up front, not after a run
  });
});

describe('options with a fixed set of values', () => {
  it.each([
    [['featviz', '--optimizer', 'adamw'], /--optimizer.*Allowed choices are adam, sgd/],
    [['invert', image, '--optimizer', 'sgd'], /--optimizer.*Allowed choices are adam, lbfgs/],
    [['style', photo, '--style', photo, '--optimizer', 'rmsprop'], /--optimizer.*Allowed choices are lbfgs, adam/],
    [['explain', image, '--method', 'lrp', '--lrp-composite', 'alpha2beta1'], /--lrp-composite.*Allowed choices are epsilon, epsilon-gamma, epsilon-plus-flat, epsilon-gamma-box/],
  ])('%j', async (args, pattern) => {
    refused(await convlens(...args), pattern);
  });

  it('style --blend must give one weight per style of the network', async () => {
    const out = join(tmp, 'blend');
    const net = join(ROOT, 'assets', 'models', 'style', 'fast-style.onnx');
    const r = await convlens('style', photo, '--net', net, '--blend', 'a,b', '--max-side', '64', '--out', out);
    refused(r, /Cannot read the blend "a,b": the network has \d+ styles/);
    expect(existsSync(out)).toBe(false); // no blank stylized-NaN_NaN.png, and not the empty folder either
  });
});

describe('non-finite numbers', () => {
  it('an input with NaN values is refused, naming the file', async () => {
    const data = new Float32Array(784).fill(0.5);
    data[17] = Number.NaN;
    data[18] = Number.POSITIVE_INFINITY;
    const file = join(tmp, 'nan.npy');
    writeFileSync(file, encodeNpy({ dtype: 'float32', dims: [1, 1, 28, 28], data }));
    refused(await convlens('predict', file), /nan\.npy" holds 2 NaN or infinite values/);
  });

  it('NaN weights are reported when the model loads, and NaN outputs when it predicts', async () => {
    const graph = courseCnn(1);
    const [name, weights] = [...graph.initializers].find(([, t]) => t.dims.length === 4)!;
    (weights.data as Float32Array)[0] = Number.NaN;
    const file = join(tmp, 'nan-weights.onnx');
    writeFileSync(file, encodeModel(graph));
    const r = await convlens('predict', image, '--model', file);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`parameter tensor holds NaN or infinite values: "${name}" (1 of ${weights.data.length})`);
    expect(r.stderr).toMatch(/outputs for .*bag-test18\.png are NaN or infinite/);
  });
});

describe('labels files', () => {
  it('a class name longer than any name is refused, naming the class (a 100,000-character name kept a figure rendering for minutes)', () => {
    const text = ['shirt', 'x'.repeat(100_000), 'bag'].join('\n');
    expect(() => parseLabels(text, 'labels.txt', 3)).toThrow(`labels.txt: class 1 has a name of 100000 characters; at most ${MAX_LABEL_LENGTH} are allowed.`);
    expect(parseLabels(['shirt', 'y'.repeat(MAX_LABEL_LENGTH), 'bag'].join('\n'), 'labels.txt', 3)).toHaveLength(3);
  });
});

describe('an empty --out', () => {
  it.each([[['explain', image, '--method', 'saliency']], [['featviz', '--steps', '1']], [['train', '-d', 'data/fashion-mnist-subset', '--limit', '20', '--epochs', '1']]])('%j is refused, nothing written to the current folder', async (args) => {
    const cwd = tempFolder('cwd-', tmp);
    const r = await convlensIn(cwd, ...args.map((a) => (a.startsWith('data/') || a.startsWith('/') ? (a.startsWith('/') ? a : join(ROOT, a)) : a)), '-o', '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out.*argument '' is invalid. expected a path, got an empty string/);
    expect(readdirSync(cwd)).toEqual([]);
  }, 60_000);
});
