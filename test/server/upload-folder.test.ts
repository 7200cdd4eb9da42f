// The studio writes uploaded models to a private temp folder (convlens-models-*) for its worker
// processes to load. However it ends, the folder goes with it: closed, stopped by a signal
// (SIGHUP too: the terminal it ran in was closed), or exiting without closing (a second Ctrl-C,
// the shutdown deadline, an uncaught error). Each way out but closing used to leave it in /tmp.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const models = tempFolder('convlens-upload-folder-');
const modelFile = join(models, 'course.onnx');
writeFileSync(modelFile, encodeModel(courseCnn(0)));

/** Runs `node args` with its own temp folder; resolves with its exit code and what its temp folder holds afterwards. */
function runWithTemp(args: string[], whileRunning?: (child: ReturnType<typeof spawn>, stdout: () => string, temp: string) => Promise<void>): Promise<{ code: number | null; signal: string | null; left: string[]; stdout: string; stderr: string }> {
  const temp = tempFolder('temp-', models);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, TMPDIR: temp }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<[number | null, string | null]>((done) => child.once('exit', (code, signal) => done([code, signal])));
  return (async () => {
    try {
      await whileRunning?.(child, () => stdout, temp);
      const [code, signal] = await exited;
      return { code, signal, left: readdirSync(temp), stdout, stderr };
    } finally {
      child.kill('SIGKILL');
    }
  })();
}

describe("the studio's uploads folder", () => {
  it('is removed when the process exits without closing the studio', async () => {
    const state = join(ROOT, 'dist', 'interfaces', 'server', 'state.js');
    const engine = join(ROOT, 'dist', 'engine', 'runtime', 'engine.js');
    const node = join(ROOT, 'dist', 'engine', 'runtime', 'node.js');
    const script = [
      `import { readdirSync, readFileSync } from 'node:fs';`,
      `import { ModelRegistry } from ${JSON.stringify(state)};`,
      `import { Engine } from ${JSON.stringify(engine)};`,
      `import { nodeBackend } from ${JSON.stringify(node)};`,
      `const registry = new ModelRegistry(new Engine(nodeBackend({ cacheDir: false }), { threads: 1 }));`,
      `const entry = registry.addUpload('course.onnx', readFileSync(${JSON.stringify(modelFile)}));`,
      `console.log(JSON.stringify({ error: entry.error, folders: readdirSync(process.env.TMPDIR) }));`,
      `process.exit(1);`,
    ].join('\n');
    const r = await runWithTemp(['--input-type=module', '-e', script]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/"folders":\["convlens-models-\w+"\]/);
    expect(r.left).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('is removed when convlens studio is stopped by %s', async (signal) => {
    let uploaded: string[] = [];
    const r = await runWithTemp([CLI, 'studio', '--port', '0'], async (child, stdout, temp) => {
      const deadline = Date.now() + 60_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 50));
        url = /ConvLens studio: (\S+)/.exec(stdout())?.[1];
      }
      expect(url, 'the studio printed its address').toBeDefined();
      const base = new URL(url!.replace('localhost', '127.0.0.1')).origin;
      const form = new FormData();
      form.append('file', new Blob([readFileSync(modelFile)]), 'course.onnx');
      const response = await fetch(`${base}/api/models`, { method: 'POST', body: form, headers: { origin: base } });
      expect(response.status).toBe(201);
      uploaded = readdirSync(temp);
      child.kill(signal);
    });
    expect(r.stderr).not.toMatch(/Error/);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    expect(uploaded).toEqual([expect.stringMatching(/^convlens-models-/)]);
    expect(r.left).toEqual([]);
  });
});
