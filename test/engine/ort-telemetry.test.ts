// onnxruntime-node 1.30 for Linux runs Microsoft's telemetry unless told not to: an event database
// under ~/.cache/Microsoft, `.ses` and a `mat-debug-<pid>.log` per process in the temp folder
// (thousands of them in /tmp after a test run), and uploads over HTTPS. ConvLens turns it off
// (src/engine/runtime/ort-telemetry.ts); a user who sets ORT_DISABLE_TELEMETRY decides for themselves.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

/** Runs `convlens predict` with a home and a temp folder of its own; returns what they hold afterwards. */
function filesLeftByPredict(telemetrySetting: string | undefined): { home: string[]; temp: string[] } {
  const home = tempFolder('convlens-telemetry-home-');
  const temp = join(home, 'tmp');
  mkdirSync(temp);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), TMPDIR: temp, CONVLENS_CACHE_DIR: 'off' };
  // the test runner's own process has it set by now (it loaded the engine): the child starts without it
  delete env['ORT_DISABLE_TELEMETRY'];
  if (telemetrySetting !== undefined) env['ORT_DISABLE_TELEMETRY'] = telemetrySetting;
  const r = spawnSync(process.execPath, [CLI, 'predict', join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png')], { cwd: ROOT, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('Bag');
  return { home: readdirSync(home).filter((name) => name !== 'tmp'), temp: readdirSync(temp) };
}

/** The ORT_DISABLE_TELEMETRY that onnxruntime-node sees once ConvLens's Node backend has loaded it. */
function settingSeenByRuntime(telemetrySetting: string | undefined): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['ORT_DISABLE_TELEMETRY'];
  if (telemetrySetting !== undefined) env['ORT_DISABLE_TELEMETRY'] = telemetrySetting;
  const backend = pathToFileURL(join(ROOT, 'dist', 'engine', 'runtime', 'node.js')).href;
  const script = `await import(${JSON.stringify(backend)}); await import('onnxruntime-node'); console.log(String(process.env.ORT_DISABLE_TELEMETRY));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("ONNX Runtime's telemetry", () => {
  it('is off: a ConvLens run writes nothing into the home or the temp folder', () => {
    expect(settingSeenByRuntime(undefined)).toBe('1');
    expect(filesLeftByPredict(undefined)).toEqual({ home: [], temp: [] });
  });

  it('is left to the user who sets ORT_DISABLE_TELEMETRY', () => {
    expect(settingSeenByRuntime('0')).toBe('0');
    // Whether ONNX Runtime then writes its files depends on the machine (the CI host's build wrote
    // none), so they are not asserted; where it does, they show the check above can see them.
    const left = filesLeftByPredict('0');
    expect(left.home.every((name) => name === '.cache')).toBe(true);
  });
});
