// Commands on big models move to a process whose malloc uses transparent huge pages
// (src/interfaces/huge-pages.ts, src/interfaces/cli/launch.ts). The choice is a pure function of the
// command line, the environment and the machine; the launcher must be invisible apart from the
// speed: same outputs, exit codes and messages, signals reaching the command, and no command left
// running when the launcher dies.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hugePagesIn, hugePagesSetting, hugePageSystem, withHugePages, type HugePageSystem } from '../../src/interfaces/huge-pages.js';
import { LAUNCHER_ENV, modelArgument, RELAUNCH_MODEL_BYTES, relaunchEnvironment } from '../../src/interfaces/cli/launch.js';
import { findBuiltin } from '../../src/models/builtins.js';
import { CLI, ROOT } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const LINUX_GLIBC_MADVISE: HugePageSystem = { platform: 'linux', libc: 'glibc', transparentHugePages: 'madvise' };
const TUNABLE = 'glibc.malloc.hugetlb=1';

describe('which processes get huge pages', () => {
  it('reads the setting', () => {
    for (const v of ['off', 'OFF', '0', 'false', 'no', ' off ']) expect(hugePagesSetting({ CONVLENS_HUGE_PAGES: v })).toBe('off');
    for (const v of ['on', '1', 'true', 'yes']) expect(hugePagesSetting({ CONVLENS_HUGE_PAGES: v })).toBe('on');
    for (const v of [undefined, '', 'auto', 'maybe']) expect(hugePagesSetting(v === undefined ? {} : { CONVLENS_HUGE_PAGES: v })).toBe('auto');
  });

  it('adds the tunable only where it changes something', () => {
    expect(withHugePages({}, LINUX_GLIBC_MADVISE)?.['GLIBC_TUNABLES']).toBe(TUNABLE);
    // the user's other tunables stay
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, LINUX_GLIBC_MADVISE)?.['GLIBC_TUNABLES']).toBe(`glibc.malloc.arena_max=2:${TUNABLE}`);
    // the user's own choice either way, or a parent's, is kept
    expect(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, LINUX_GLIBC_MADVISE)).toBeUndefined();
    expect(withHugePages({ GLIBC_TUNABLES: `x=1:${TUNABLE}` }, LINUX_GLIBC_MADVISE)).toBeUndefined();
    expect(withHugePages({ CONVLENS_HUGE_PAGES: 'off' }, LINUX_GLIBC_MADVISE)).toBeUndefined();
    // nothing to gain
    expect(withHugePages({}, { ...LINUX_GLIBC_MADVISE, transparentHugePages: 'always' })).toBeUndefined();
    expect(withHugePages({}, { ...LINUX_GLIBC_MADVISE, transparentHugePages: 'never' })).toBeUndefined();
    expect(withHugePages({}, { ...LINUX_GLIBC_MADVISE, transparentHugePages: 'unknown' })).toBeUndefined();
    expect(withHugePages({}, { ...LINUX_GLIBC_MADVISE, libc: 'other' })).toBeUndefined();
    expect(withHugePages({}, { ...LINUX_GLIBC_MADVISE, platform: 'darwin' })).toBeUndefined();
    // the caller's environment is not touched
    const env = { A: '1' };
    withHugePages(env, LINUX_GLIBC_MADVISE);
    expect(env).toEqual({ A: '1' });
  });

  it('tells whether a process runs on them', () => {
    expect(hugePagesIn({ GLIBC_TUNABLES: TUNABLE })).toBe(true);
    expect(hugePagesIn({ GLIBC_TUNABLES: 'a=1:glibc.malloc.hugetlb=2' })).toBe(true);
    expect(hugePagesIn({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })).toBe(false);
    expect(hugePagesIn({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=10' })).toBe(false);
    expect(hugePagesIn({})).toBe(false);
    // THP in `always` mode gives them without asking
    expect(hugePagesIn({}, { ...LINUX_GLIBC_MADVISE, transparentHugePages: 'always' })).toBe(true);
    expect(hugePagesIn({}, LINUX_GLIBC_MADVISE)).toBe(false);
  });

  it('finds the model on the command line', () => {
    expect(modelArgument(['explain', 'x.png', '--model', 'a.onnx'])).toBe('a.onnx');
    expect(modelArgument(['explain', '--model=b.onnx', 'x.png'])).toBe('b.onnx');
    expect(modelArgument(['explain', '-m', 'c.onnx'])).toBe('c.onnx');
    expect(modelArgument(['explain', '-md.onnx'])).toBe('d.onnx');
    expect(modelArgument(['explain', 'x.png', '--method', 'saliency'])).toBeUndefined();
    expect(modelArgument(['explain', '--', '--model', 'e.onnx'])).toBeUndefined();
    expect(modelArgument(['explain', '--model'])).toBeUndefined();
  });

  it('relaunches a command on a big model only', () => {
    const sizes = new Map<string, number>([
      [resolve('/work/big.onnx'), RELAUNCH_MODEL_BYTES],
      [resolve('/work/small.onnx'), RELAUNCH_MODEL_BYTES - 1],
      [findBuiltin('squeezenet')!.file, 5_000_000],
    ]);
    const asked: string[] = [];
    const sizeOf = (p: string): number | undefined => {
      asked.push(p);
      return sizes.get(p);
    };
    const decide = (args: string[], env: NodeJS.ProcessEnv = {}, system = LINUX_GLIBC_MADVISE): boolean => relaunchEnvironment(args, env, system, sizeOf, '/work') !== undefined;
    expect(decide(['explain', 'x.png', '--model', 'big.onnx'])).toBe(true);
    expect(relaunchEnvironment(['explain', 'x.png', '--model', 'big.onnx'], { KEEP: 'me' }, LINUX_GLIBC_MADVISE, sizeOf, '/work')).toEqual({ KEEP: 'me', GLIBC_TUNABLES: TUNABLE });
    expect(decide(['explain', 'x.png', '--model', '/work/big.onnx'])).toBe(true);
    expect(decide(['explain', 'x.png', '--model', 'small.onnx'])).toBe(false);
    expect(decide(['explain', 'x.png', '--model', 'missing.onnx'])).toBe(false);
    // built-ins by their file
    asked.length = 0;
    expect(decide(['explain', 'x.png', '--model', 'SqueezeNet1.1'])).toBe(false);
    expect(asked).toEqual([findBuiltin('squeezenet')!.file]);
    expect(decide(['explain', 'x.png'])).toBe(false); // the default model is the small CNN
    // help and the studio stay; so does everything when it would change nothing
    expect(decide(['explain', '--help', '--model', 'big.onnx'])).toBe(false);
    expect(decide(['--version'])).toBe(false);
    expect(decide(['studio', '--model', 'big.onnx'])).toBe(false);
    expect(decide(['explain', '--model', 'big.onnx'], { CONVLENS_HUGE_PAGES: 'off' })).toBe(false);
    expect(decide(['explain', '--model', 'big.onnx'], { GLIBC_TUNABLES: TUNABLE })).toBe(false);
    expect(decide(['explain', '--model', 'big.onnx'], {}, { ...LINUX_GLIBC_MADVISE, transparentHugePages: 'always' })).toBe(false);
    // forced: any model, any command but help and the studio
    expect(decide(['explain', 'x.png'], { CONVLENS_HUGE_PAGES: 'on' })).toBe(true);
    expect(decide(['studio'], { CONVLENS_HUGE_PAGES: 'on' })).toBe(false);
    expect(decide([], { CONVLENS_HUGE_PAGES: 'on' })).toBe(false);
  });
});

// The launcher itself, where this machine can have huge pages (Linux, glibc, THP in madvise mode).
const canRelaunch = withHugePages({}, hugePageSystem()) !== undefined;

describe.skipIf(!canRelaunch)('the launcher', () => {
  const dir = tempFolder('convlens-launch-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const SAMPLE = join(ROOT, 'samples', 'fashion-mnist', 'ankle-boot-test0.png');

  interface Run {
    proc: ChildProcess;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  }
  function start(setting: 'on' | 'off', args: string[], detached = false): Run {
    const env: NodeJS.ProcessEnv = { ...process.env, CONVLENS_HUGE_PAGES: setting };
    delete env['GLIBC_TUNABLES'];
    const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) => proc.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
    return { proc, exited };
  }
  const childrenOf = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const alive = (pid: number): boolean => {
    try {
      // a zombie waiting for its reaper has finished too
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  async function until(what: string, test: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!test()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  /** The relaunched command's pid, once it has loaded far enough to show progress. */
  async function command(run: Run): Promise<number> {
    let pid = 0;
    await until('the relaunched command', () => (pid = childrenOf(run.proc.pid!)[0] ?? 0) > 0);
    // featviz's first step: the command is running its job (and has its Ctrl-C handler)
    await new Promise((r) => setTimeout(r, 2500));
    return pid;
  }

  it('gives the command huge pages and the same results', async () => {
    const summaries = [];
    for (const setting of ['on', 'off'] as const) {
      const out = join(dir, `explain-${setting}`);
      const r = await start(setting, ['explain', SAMPLE, '--method', 'saliency', '--npy', '--out', out, '-q']).exited;
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { hugePages: boolean; inputs: unknown };
      summaries.push(s);
      expect(readFileSync(join(out, 'saliency.npy')).length).toBeGreaterThan(0);
    }
    expect(summaries.map((s) => s.hugePages)).toEqual([true, false]);
    expect(summaries[0]!.inputs).toEqual(summaries[1]!.inputs);
    expect(readFileSync(join(dir, 'explain-on', 'saliency.npy'))).toEqual(readFileSync(join(dir, 'explain-off', 'saliency.npy')));
  }, 60_000);

  it('passes the exit code and the messages through', async () => {
    const runs = await Promise.all((['on', 'off'] as const).map((s) => start(s, ['explain', join(dir, 'no-such-image.png'), '--out', join(dir, `bad-${s}`)]).exited));
    expect(runs[0]!.code).not.toBe(0);
    expect(runs[0]!.code).toBe(runs[1]!.code);
    expect(runs[0]!.stderr).toBe(runs[1]!.stderr);
    expect(runs[0]!.stderr).toContain('no-such-image.png');
  }, 60_000);

  it('hands SIGINT and SIGTERM to the command, which cancels once', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const run = start('on', ['featviz', '--steps', '100000', '--out', join(dir, `fv-${signal}`)]);
      const pid = await command(run);
      run.proc.kill(signal);
      const r = await run.exited;
      // cancelled as a command cancels (exit 130, its message), not quit at once: SIGTERM as Ctrl-C
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toContain('Cancelled');
      await until('the command to end', () => !alive(pid), 5000);
    }
  }, 120_000);

  it("takes a terminal's Ctrl-C (both processes get it) as one", async () => {
    // detached: the launcher leads a process group of its own, which the command joins, as in a shell
    const run = start('on', ['featviz', '--steps', '100000', '--out', join(dir, 'fv-group')], true);
    const pid = await command(run);
    process.kill(-run.proc.pid!, 'SIGINT');
    const r = await run.exited;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr.match(/Cancelling/g)).toHaveLength(1);
    expect(r.stderr).toContain('Cancelled');
    await until('the command to end', () => !alive(pid), 5000);
  }, 60_000);

  it('stops the command when the launcher is killed', async () => {
    const run = start('on', ['featviz', '--steps', '100000', '--out', join(dir, 'fv-kill')]);
    const pid = await command(run);
    expect(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')).toContain(`${LAUNCHER_ENV}=${run.proc.pid}`);
    const launcherGone = new Promise((r) => run.proc.once('exit', r));
    run.proc.kill('SIGKILL');
    // (not run.exited: the orphan holds the launcher's output pipes until it ends)
    await launcherGone;
    await until('the orphaned command to stop', () => !alive(pid), 10_000);
  }, 60_000);

  it('stays in one process for a small model', async () => {
    const env = { ...process.env };
    delete env['CONVLENS_HUGE_PAGES'];
    delete env['GLIBC_TUNABLES'];
    const proc = spawn(process.execPath, [CLI, 'featviz', '--steps', '100000', '--out', join(dir, 'fv-small')], { cwd: ROOT, env, stdio: 'ignore' });
    const closed = new Promise((r) => proc.on('close', r));
    await new Promise((r) => setTimeout(r, 2500));
    expect(childrenOf(proc.pid!)).toEqual([]);
    proc.kill('SIGKILL');
    await closed;
  }, 30_000);
});

describe("a Ctrl-C's late copy", () => {
  it('after a cancelled job has ended, does not kill the command before it says so', async () => {
    // The launcher's copy of a terminal's Ctrl-C reached a relaunched command after a quick
    // cancellation had ended, and the process died by SIGINT instead of exiting with 130.
    const common = pathToFileURL(join(ROOT, 'dist', 'interfaces', 'cli', 'common.js')).href;
    const script = `
      const { cliJob } = await import(${JSON.stringify(common)});
      const job = cliJob({ quiet: true }, 'test');
      process.kill(process.pid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      if (!job.signal.aborted) process.exit(3);
      job.done();
      process.kill(process.pid, 'SIGINT'); // the late copy
      await new Promise((r) => setTimeout(r, 400));
      process.stdout.write('said Cancelled');
      process.exit(130);
    `;
    const r = await new Promise<{ code: number | null; signal: string | null; stdout: string }>((done) => {
      const p = execFile(process.execPath, ['--input-type=module', '-e', script], (_e, stdout) => done({ code: p.exitCode, signal: p.signalCode, stdout }));
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('said Cancelled');
  });
});
