// What the synthesis commands print names a layer by its short label (`model.layerLabel`,
// "relu0"), as the grids, summaries and every other command do, never by its raw ONNX value name
// ("/relu0/Relu_output_0"). convlens invert's progress phase, which the long-run note and a
// cancellation repeat, named the raw value.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-synth-labels-');

describe('convlens invert: layer names in its notes', () => {
  it('names the layer by its label in the long-run note and the cancellation', async () => {
    // 100000 steps on SqueezeNet: far more than a minute to go, so the note comes after a few steps
    const child = spawn(process.execPath, [CLI, 'invert', join(ROOT, 'samples', 'photos', 'chelsea.png'), '--model', 'squeezenet', '--layers', 'relu0', '--steps', '100000', '--threads', '1', '-o', join(tmp, 'out')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const deadline = Date.now() + 60_000;
    while (!/to go/.test(stderr) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(child.exitCode, stderr).toBeNull();
    child.kill('SIGINT');
    const code = await exited;
    expect(stderr).toMatch(/note: about .* to go \(\d+\/100000 done, now inverting relu0\); Ctrl-C stops it cleanly/);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('Cancelled inverting relu0.');
    expect(stderr).not.toMatch(/Relu_output_0/);
  }, 90_000);
});
