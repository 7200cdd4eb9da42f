import { rmSync } from 'node:fs';

// Paths removed if the process exits while they are still wanted gone: a second Ctrl-C or SIGTERM
// exits at once (130, 143), past the finally blocks and close handlers that would remove them.
// One exit listener for all of them: one per path made Node warn of a leak past ten (explain
// --method all --npy --chunk holds a stream per method).
const pending = new Set<string>();
let listening = false;

function removePending(): void {
  for (const path of pending) rmSync(path, { recursive: true, force: true });
  pending.clear();
}

/** Removes `path` (file or folder) if the process exits before the returned function is called. */
export function removeOnExit(path: string): () => void {
  pending.add(path);
  if (!listening) {
    process.once('exit', removePending);
    listening = true;
  }
  return () => void pending.delete(path);
}
