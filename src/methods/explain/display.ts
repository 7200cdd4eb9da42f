// How each attribution method is drawn by default, and drawing one image's map.
import type { RawImage } from '../../io/image.js';
import type { Attribution, MethodName } from './types.js';
import { overlay, renderHeatmap, resizeImage, type Heatmap } from '../../render/heatmap.js';
import type { RangeSpec } from '../../render/range.js';

export type View = 'auto' | 'heatmap' | 'overlay';

export interface DisplayOptions {
  view?: View;
  /** heatmap opacity in overlays (default: 0.5 for CAMs, 0.7 for pixel maps) */
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
  /** heatmap opacity when overlaid */
  opacity: number;
}

const CAM_METHODS: ReadonlySet<MethodName> = new Set(['cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'xgradcam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam', 'fullgrad']);

/**
 * Pixel-level maps (gradients and their relatives) on photographs have a few very large values
 * that a min-max range turns into a black (or white) picture with a handful of dots; clipping the
 * top 2% of |values|, as Captum's visualize_image_attr does by default (outlier_perc=2), shows
 * their structure. Occlusion, the segment methods and CAMs are smooth: the former keep their largest values, CAMs are
 * scaled min-max as pytorch-grad-cam and Zhou et al. do.
 */
export const OUTLIER_PERCENT = 2;

/**
 * Maps made of windows or segments: their top 2% is a whole window or segment, not a few stray
 * pixels, so clipping it would saturate the strongest region instead of revealing structure.
 */
const PIECEWISE_CONSTANT: ReadonlySet<MethodName> = new Set(['occlusion', 'feature-ablation', 'kernel-shap', 'lime']);

/** The default range of a method's map (signed: symmetric around zero). */
export function defaultRange(method: MethodName, signed: boolean): RangeSpec {
  if (CAM_METHODS.has(method) && !signed) return { mode: 'minmax' };
  const keep = PIECEWISE_CONSTANT.has(method) ? 100 : 100 - OUTLIER_PERCENT;
  return signed ? { mode: 'symmetric', percentile: keep } : { mode: 'percentile', low: 0, high: keep };
}

/**
 * Defaults: signed maps symmetric around zero, clipped at the 98th percentile of |value|, on a
 * diverging colormap (zero is white); CAMs min-max, overlaid at opacity 0.5 and resampled
 * bilinearly; unsigned pixel maps from 0 to their 98th percentile; pixel maps asked to be overlaid
 * use opacity 0.7 so their sparse dots stay visible over a photograph.
 */
export function displayStyle(method: MethodName, signed: boolean, o: DisplayOptions = {}): DisplayStyle {
  const isCam = CAM_METHODS.has(method);
  const view = o.view && o.view !== 'auto' ? o.view : isCam ? 'overlay' : 'heatmap';
  const range = o.range ?? defaultRange(method, signed);
  const opacity = o.opacity ?? (isCam ? 0.5 : 0.7);
  if (signed) return { view, colormap: o.diverging ?? 'rdbu', range, interpolation: isCam ? 'bilinear' : 'nearest', opacity };
  if (isCam) return { view, colormap: o.colormap ?? (view === 'overlay' ? 'turbo' : 'inferno'), range, interpolation: 'bilinear', opacity };
  return { view, colormap: o.colormap ?? 'inferno', range, interpolation: 'nearest', opacity };
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
    return { ...heat, image: overlay(base, heat.image, style.opacity), style };
  }
  return { ...heat, style };
}
