// Processes that run big models ask glibc's malloc for transparent huge pages.
//
// On Linux with THP in `madvise` mode (the default of many distributions) every fresh 4 KiB page
// a process touches costs a page fault, and a ResNet-18 explanation touches ~250 MB of fresh
// memory (the model and inputs read from disk, ONNX Runtime's arena on the first run, result
// arrays). On virtual machines a fault costs ~10 us: `convlens explain` of 64 images spent 0.6-0.7
// of its 3-5 s there (docs/speed.md). glibc 2.35+ backs its large blocks with huge pages when the
// process starts with GLIBC_TUNABLES=glibc.malloc.hugetlb=1; the variable is read when the process
// starts, so it can only be given to a new process: the CLI relaunches itself once for a big model
// (src/interfaces/cli/launch.ts), and the studio and the index command start their workers with it.
import { readFileSync } from 'node:fs';

export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

/** The environment variable that turns this off (`off`, `0`, `false`, `no`) or forces it (`on`, `1`, `true`, `yes`). */
export const HUGE_PAGES_ENV = 'CONVLENS_HUGE_PAGES';

export type HugePagesSetting = 'auto' | 'on' | 'off';

export interface HugePageSystem {
  platform: NodeJS.Platform;
  /** the C library the process runs on: the tunable means something to glibc only */
  libc: 'glibc' | 'other';
  /** /sys/kernel/mm/transparent_hugepage/enabled: `always` gives huge pages anyway, `never` none at all */
  transparentHugePages: 'always' | 'madvise' | 'never' | 'unknown';
}

export function hugePagesSetting(env: NodeJS.ProcessEnv): HugePagesSetting {
  const v = (env[HUGE_PAGES_ENV] ?? '').trim().toLowerCase();
  if (['off', '0', 'false', 'no'].includes(v)) return 'off';
  if (['on', '1', 'true', 'yes'].includes(v)) return 'on';
  return 'auto';
}

/**
 * Whether a process with this environment gets huge pages for its large blocks: glibc's malloc
 * asked for them (the tunable at 1 or 2), or THP in `always` mode gives them to every process.
 */
export function hugePagesIn(env: NodeJS.ProcessEnv, system?: HugePageSystem): boolean {
  if (system?.transparentHugePages === 'always') return true;
  return /(^|:)glibc\.malloc\.hugetlb=[12](:|$)/.test(env['GLIBC_TUNABLES'] ?? '');
}

let cached: HugePageSystem | undefined;

/** What this machine offers; read once (two small files of /sys and /proc). */
export function hugePageSystem(): HugePageSystem {
  if (cached) return cached;
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const mode = /\[(always|madvise|never)\]/.exec(read('/sys/kernel/mm/transparent_hugepage/enabled'))?.[1];
  // The loaded C library by name: musl's loader is ld-musl-*, glibc's libc is libc.so.6.
  const maps = process.platform === 'linux' ? read('/proc/self/maps') : '';
  cached = {
    platform: process.platform,
    libc: /\/libc\.so\.6$/m.test(maps) ? 'glibc' : 'other',
    transparentHugePages: (mode as HugePageSystem['transparentHugePages'] | undefined) ?? 'unknown',
  };
  return cached;
}

/**
 * The environment for a new process with the tunable added, or undefined when it would change
 * nothing: turned off, already set either way by the user (or a parent), not Linux with glibc, or
 * THP not in `madvise` mode (`always` already gives huge pages; `never` gives none).
 */
export function withHugePages(env: NodeJS.ProcessEnv, system: HugePageSystem = hugePageSystem()): NodeJS.ProcessEnv | undefined {
  if (hugePagesSetting(env) === 'off') return undefined;
  const tunables = env['GLIBC_TUNABLES'] ?? '';
  if (/(^|:)glibc\.malloc\.hugetlb=/.test(tunables)) return undefined;
  if (system.platform !== 'linux' || system.libc !== 'glibc' || system.transparentHugePages !== 'madvise') return undefined;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:${HUGE_PAGES_TUNABLE}` : HUGE_PAGES_TUNABLE };
}
