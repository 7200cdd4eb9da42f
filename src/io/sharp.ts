import type sharpModule from 'sharp';

let loading: Promise<typeof sharpModule> | undefined;

/**
 * sharp (libvips), loaded on first use. Loading it costs ~0.2 s of a command's start on a small
 * machine, more than the rest of `convlens predict`; commands and paths that never touch an
 * image (help, summary, a PNG the model takes as it is) should not pay it.
 */
export function loadSharp(): Promise<typeof sharpModule> {
  return (loading ??= import('sharp').then((m) => m.default));
}
