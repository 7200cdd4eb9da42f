// `mkdirSync(path, { recursive: true })` never returns when mkdir answers ENOENT under a parent that
// exists (/proc, some FUSE and network mounts): Node 20 makes the parent again and retries, forever
// (`explain --out /proc/x` spun at 100% CPU). This walk makes one mkdir per path component and stops
// at the first refusal, naming the component at fault.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Why a folder could not be made: the Node error code and the path component it concerns. */
export class DirectoryFault extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'DirectoryFault';
  }
}

/**
 * Makes `path` and its missing parents (like `mkdir -p`) and returns the folders it made, the
 * outermost first; throws a DirectoryFault when one cannot be made.
 */
export function makeDirectories(path: string): string[] {
  const target = resolve(path);
  if (isDirectory(target)) return [];
  const made: string[] = [];
  const missing: string[] = [];
  for (let p = target; !isDirectory(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break; // the root itself is not a folder: mkdir says why below
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
      made.push(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'EEXIST') {
        if (isDirectory(p)) continue; // made by someone else meanwhile
        throw new DirectoryFault('ENOTDIR', p, existsAsAnything(p) ? 'it is a file, not a folder' : 'it is a symbolic link to nothing');
      }
      throw new DirectoryFault(code, p, REASONS[code] ?? (e as Error).message);
    }
  }
  return made;
}

const REASONS: Record<string, string> = {
  ENOENT: 'the file system there does not take new folders',
  ENOTDIR: 'a parent is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ELOOP: 'too many symbolic links (a loop)',
  ENAMETOOLONG: 'the name is too long',
};

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function existsAsAnything(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
