// System errors said in words: "ELOOP: too many symbolic links encountered, stat '/x'" tells a
// user less than "a loop of symbolic links", and quotes the path a second time.
import { lookup } from './lookup.js';

const SYSTEM_REASONS: Record<string, readonly [reason: string, hint: string]> = {
  ENOSPC: ['the disk is full', 'Free some space, or write the results to another disk (--out).'],
  EDQUOT: ['the disk quota is used up', 'Free some space, or write the results to another disk (--out).'],
  EACCES: ['permission denied', 'Check the permissions of the files and folders named on the command line.'],
  EPERM: ['the operation is not permitted', 'Check the permissions of the files and folders named on the command line.'],
  EROFS: ['the file system is read-only', 'Write the results somewhere writable (--out).'],
  EMFILE: ['too many open files', 'Raise the limit (ulimit -n) or give fewer inputs per run.'],
  ENFILE: ['the system has too many open files', 'Close other programs, or give fewer inputs per run.'],
  ENOMEM: ['the machine is out of memory', 'Give fewer inputs per run, or a smaller --batch.'],
  EIO: ['an input/output error from the device', 'Check the disk (dmesg), then run again.'],
  ENXIO: ['the device is not there', 'Check the paths on the command line.'],
  EBADF: ['the output stream is closed', 'Run the command with its standard output open (not closed with >&-).'],
  ENOENT: ['no such file', 'Check the path (relative paths are from the current directory).'],
  EISDIR: ['it is a directory', 'Name a file.'],
  ENOTDIR: ['a part of the path is not a folder', 'Check the path.'],
  ELOOP: ['the path has a loop of symbolic links', 'Check the links on the path (ls -l).'],
  ENAMETOOLONG: ['the path is too long', 'Use a shorter path.'],
  ESTALE: ['the network file handle is stale', 'Remount the network share, then run again.'],
  ETIMEDOUT: ['the device or share did not answer in time', 'Check the network share, then run again.'],
};

/** The reason and the way out for a system error code, when it is one we can say in words. */
export function systemReason(code: unknown): readonly [reason: string, hint: string] | undefined {
  return typeof code === 'string' ? lookup(SYSTEM_REASONS, code) : undefined;
}
