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
}

/** The input-pixel box [top, left, bottom, right] (inclusive, clipped) a unit at (row, col) sees. */
export function unitRegion(r: ReceptiveField, row: number, col: number, height: number, width: number): [number, number, number, number] {
  if (r.global) return [0, 0, height - 1, width - 1];
  const cy = r.start[0] + row * r.jump[0];
  const cx = r.start[1] + col * r.jump[1];
  const hy = (r.size[0] - 1) / 2;
  const hx = (r.size[1] - 1) / 2;
  const clip = (v: number, hi: number): number => Math.max(0, Math.min(hi, v));
  return [clip(Math.ceil(cy - hy), height - 1), clip(Math.ceil(cx - hx), width - 1), clip(Math.floor(cy + hy), height - 1), clip(Math.floor(cx + hx), width - 1)];
}
