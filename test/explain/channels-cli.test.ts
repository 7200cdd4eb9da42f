// `convlens channels`: the top channels of a layer per image and method, their shares, summary.json,
// a figure, and labels that `convlens explain --unit` takes as they are.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { LAYER_METHODS } from '../../src/methods/explain/layer-attribution.js';
import { convlens, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-channels-');
const CAT = 'samples/photos/chelsea.png';

describe('convlens channels', () => {
  it('prints the top channels with shares and a --unit hint, writes summary.json and the figure', async () => {
    const out = join(tmp, 'run1');
    const r = await convlens('channels', CAT, '--model', 'squeezenet', '--layer', 'fires.7', '--top', '3', '--steps', '16', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.layer).toEqual({ name: '/fires.7/Concat_output_0', label: 'fires.7', shape: [512, 13, 13] });
    expect(summary.methods.map((m: { method: string }) => m.method)).toEqual(['gradient-x-activation', 'integrated-gradients', 'conductance', 'deeplift', 'ablation']);
    expect(summary.methods[2].params).toMatchObject({ steps: 16, rule: 'gausslegendre', baseline: 'black' });
    const [img] = summary.inputs;
    expect(img.target.label).toBe('Egyptian cat');
    const ig = img.methods['integrated-gradients'];
    expect(ig.top).toHaveLength(3);
    expect(ig.top[0].label).toBe(`fires.7:${ig.top[0].channel}`);
    expect(ig.top[0].contribution).toBeGreaterThan(ig.top[1].contribution);
    expect(ig.top[0].share).toBeCloseTo(ig.top[0].contribution / ig.completeness.sum, 4);
    expect(Math.abs(img.methods.deeplift.completeness.gap)).toBeLessThan(1e-3);
    const first = ig.top[0];
    expect(r.stdout).toContain(`1. ${first.label}`);
    expect(r.stdout).toContain(`hint: explain a channel with --unit, e.g. the first: convlens explain ${CAT} --model squeezenet --unit fires.7 --target ${img.methods['gradient-x-activation'].top[0].channel}`);
    const fig = await sharp(join(out, 'channels.png')).metadata();
    expect(fig.width).toBeGreaterThan(4 * 160);
    expect(fig.height).toBeGreaterThan(4 * 160);

    // the label is what explain --unit takes: the channel's mean is the "class" explained
    const e = await convlens('explain', CAT, '--model', 'squeezenet', '--unit', 'fires.7', '--target', String(first.channel), '--method', 'saliency', '--out', join(tmp, 'unit'), '--json', '-q');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).inputs[0].target.label).toBe(first.label);
  }, 120_000);

  it('scores the CAM layer when no --layer is given, as the studio and the CAM methods do', async () => {
    // the built-in CNN's last spatial layer, found from the graph
    const r = await convlens('channels', 'samples/fashion-mnist/bag-test18.png', '--method', 'gradient-x-activation', '--top', '2', '--out', join(tmp, 'default'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    const roles = await convlens('summary');
    const cam = /CAM layer: (\S+)/.exec(roles.stdout)![1]!;
    expect(summary.layer.name).toBe(cam);
  }, 60_000);

  it('refuses IG and ablation at a branch, naming layers that cut the network, before any work', async () => {
    const out = join(tmp, 'branch');
    const r = await convlens('channels', CAT, '--model', 'squeezenet', '--layer', 'fires.7/expand1x1_relu', '--method', 'ablation', '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/another branch bypasses it/);
    expect(r.stderr).toMatch(/e\.g\. .*fires\.7,/);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    // every method (the default) at a branch: IG and ablation skipped with the reason, the others run
    const all = await convlens('channels', CAT, '--model', 'squeezenet', '--layer', 'fires.7/expand1x1_relu', '--top', '2', '--out', out, '--json');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toMatch(/skipped integrated-gradients: The output of model .* another branch bypasses it[\s\S]*skipped ablation:/);
    const summary = JSON.parse(all.stdout);
    expect(summary.skipped.map((k: { method: string }) => k.method)).toEqual(['integrated-gradients', 'ablation']);
    expect(Object.keys(summary.inputs[0].methods)).toEqual(['gradient-x-activation', 'conductance', 'deeplift']);
    // conductance alone at the branch takes --steps and --baseline, and says its total is the branch's part
    const cond = await convlens('channels', CAT, '--model', 'squeezenet', '--layer', 'fires.7/expand1x1_relu', '--method', 'conductance', '--steps', '8', '--baseline', 'zero', '--top', '2', '--out', out, '--json');
    expect(cond.code, cond.stderr).toBe(0);
    const c = JSON.parse(cond.stdout);
    expect(c.skipped).toBeUndefined();
    expect(c.methods[0]).toMatchObject({ method: 'conductance', params: { steps: 8, baseline: 'zero' } });
    expect(c.methods[0].notes.join()).toMatch(/bypasses it/);
    expect(c.inputs[0].methods.conductance.top).toHaveLength(2);
    const help = await convlens('channels', '--help');
    expect(help.stdout).toMatch(/conductance: .*Captum's LayerConductance/);
    const steps = await convlens('channels', CAT, '--model', 'squeezenet', '--layer', 'fires.7', '--method', 'ablation', '--steps', '8', '--out', out);
    expect(steps.code).not.toBe(0);
    expect(steps.stderr).toMatch(/--steps/);
  }, 60_000);
});

describe('docs/explain.md: Which channels carry a prediction', () => {
  it('shows the committed run: its figure, and the --unit line for the channel that run ranked first', () => {
    const doc = readFileSync(join(ROOT, 'docs/explain.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Which channels carry a prediction'), doc.indexOf('## Is the map faithful?'));
    expect(section).toContain('npx convlens channels samples/photos/chelsea.png --model squeezenet --layer fires.5');
    expect(section).toContain('](figures/channels/channels.png)');
    const summary = JSON.parse(readFileSync(join(ROOT, 'docs/figures/channels/summary.json'), 'utf8'));
    expect(summary.layer.label).toBe('fires.5');
    const first = summary.inputs[0].methods['gradient-x-activation'].top[0];
    expect(section).toContain(`--unit fires.5 --target ${first.channel}`);
    expect(section).toContain(`\`${summary.inputs[0].methods.ablation.top[0].label}\``);
    expect(existsSync(join(ROOT, 'docs/figures/channels/channels.png'))).toBe(true);
  });

  it('names every layer attribution method in its table, and the methods list of docs/api.md too', () => {
    const doc = readFileSync(join(ROOT, 'docs/explain.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Which channels carry a prediction'), doc.indexOf('## Is the map faithful?'));
    const api = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
    const methodsLine = api.slice(api.indexOf('### Channels of a layer')).split('\n').find((l) => l.includes('"methods"'))!;
    for (const m of LAYER_METHODS) {
      expect(section, m).toContain(`| \`${m}\` |`);
      expect(methodsLine, m).toContain(`"${m}"`);
    }
  });
});
