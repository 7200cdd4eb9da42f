// Receptive-field geometry shared by the library and the studio page (no imports: the browser
// bundle includes this file as is).

/**
 * Receptive field of a feature map's units in input pixels, per spatial axis (H, W), with the
 * arithmetic of Dumoulin & Visin / Araujo et al.: unit i on an axis is centred on input
 * coordinate start + i * jump (pixel centres are 0, 1, ...) and sees `size` pixels around it.
 */
export interface ReceptiveField {
  size: [number, number];
  jump: [number, number];
  start: [number, number];
  /** true once a global op (GAP, Flatten, dense) made every unit see the whole input */
  global: boolean;
  /**
   * The last input row and column any unit of the map reads, where that is before the image's
   * edge: a strided layer may never reach the last pixels (SqueezeNet's 3x3/2 stem never reads
   * pixel 223 of 224), and a later layer's padding taps then point at pixels nothing reads.
   */
  lastRead?: [number, number];
}

/** The input-pixel box [top, left, bottom, right] (inclusive, clipped) a unit at (row, col) sees. */
export function unitRegion(r: ReceptiveField, row: number, col: number, height: number, width: number): [number, number, number, number] {
  if (r.global) return [0, 0, height - 1, width - 1];
  const cy = r.start[0] + row * r.jump[0];
  const cx = r.start[1] + col * r.jump[1];
  const hy = (r.size[0] - 1) / 2;
  const hx = (r.size[1] - 1) / 2;
  const clip = (v: number, hi: number): number => Math.max(0, Math.min(hi, v));
  const bottom = Math.min(height - 1, r.lastRead?.[0] ?? height - 1);
  const right = Math.min(width - 1, r.lastRead?.[1] ?? width - 1);
  return [clip(Math.ceil(cy - hy), bottom), clip(Math.ceil(cx - hx), right), clip(Math.floor(cy + hy), bottom), clip(Math.floor(cx + hx), right)];
}
