// How each attribution method is drawn by default, and drawing one image's map.
import type { RawImage } from '../io/image.js';
import type { Attribution, MethodName } from '../methods/explain/types.js';
import { overlay, renderHeatmap, resizeImage, type Heatmap } from './heatmap.js';
import type { RangeSpec } from './range.js';

export type View = 'auto' | 'heatmap' | 'overlay';

export interface DisplayOptions {
  view?: View;
  /** heatmap opacity in overlays (default 0.5) */
  opacity?: number;
  /** colormap for unsigned maps (default: turbo for CAM overlays, inferno otherwise) */
  colormap?: string;
  /** colormap for signed maps (default rdbu: blue negative, red positive) */
  diverging?: string;
  /** range for every map (default: per method, see displayStyle) */
  range?: RangeSpec;
  /** pixels per side of the drawn map (default: the input size) */
  size?: number;
}

export interface DisplayStyle {
  view: 'heatmap' | 'overlay';
  colormap: string;
  range: RangeSpec;
  interpolation: 'nearest' | 'bilinear';
}

const CAM_METHODS: ReadonlySet<MethodName> = new Set(['cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam']);

/**
 * Defaults: signed maps symmetric around zero at the 99th percentile of |value| on a diverging
 * colormap (zero is white); CAMs min-max (as pytorch-grad-cam and Zhou et al. normalize them),
 * overlaid, resampled bilinearly; unsigned pixel maps clipped at the 99th percentile.
 */
export function displayStyle(method: MethodName, signed: boolean, o: DisplayOptions = {}): DisplayStyle {
  const isCam = CAM_METHODS.has(method);
  const view = o.view && o.view !== 'auto' ? o.view : isCam ? 'overlay' : 'heatmap';
  if (signed) {
    return { view, colormap: o.diverging ?? 'rdbu', range: o.range ?? { mode: 'symmetric', percentile: 99 }, interpolation: 'nearest' };
  }
  if (isCam) return { view, colormap: o.colormap ?? (view === 'overlay' ? 'turbo' : 'inferno'), range: o.range ?? { mode: 'minmax' }, interpolation: 'bilinear' };
  return { view, colormap: o.colormap ?? 'inferno', range: o.range ?? { mode: 'percentile', low: 0, high: 99 }, interpolation: 'nearest' };
}

/** Draws image `index` of an attribution (heatmap or overlay on `display`, the input as shown). */
export function renderAttribution(attr: Attribution, index: number, display: RawImage, o: DisplayOptions = {}): Heatmap & { style: DisplayStyle } {
  const [, h, w] = attr.map.dims as [number, number, number];
  const style = displayStyle(attr.method, attr.signed, o);
  const size = o.size ?? Math.max(w, h);
  const W = w >= h ? size : Math.round((size * w) / h);
  const H = h >= w ? size : Math.round((size * h) / w);
  const map = (attr.map.data as Float32Array).subarray(index * h * w, (index + 1) * h * w);
  const heat = renderHeatmap(map, w, h, { colormap: style.colormap, range: style.range, width: W, height: H, interpolation: style.interpolation });
  if (style.view === 'overlay') {
    const base = resizeImage(display, W, H, 'nearest');
    return { ...heat, image: overlay(base, heat.image, o.opacity ?? 0.5), style };
  }
  return { ...heat, style };
}
