import type { LrpCompositeName } from '../../engine/ops/rules/lrp.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model, UnitTarget } from '../../models/model.js';
import type { JobOptions } from '../../engine/jobs.js';
import type { SpatialLayer } from './layers.js';
import type { SegmentationKind } from './segments.js';
import type { ScoreKind, TargetSpec } from './target.js';

export const METHOD_NAMES = [
  'gradient',
  'saliency',
  'input-x-gradient',
  'smoothgrad',
  'smoothgrad-sq',
  'vargrad',
  'integrated-gradients',
  'occlusion',
  'cam',
  'gradcam',
  'gradcam++',
  'scorecam',
  'layercam',
  'guided-backprop',
  'deconvnet',
  'guided-gradcam',
  'deeplift',
  'deeplift-shap',
  'gradient-shap',
  'lrp',
  'xgradcam',
  'hirescam',
  'eigencam',
  'eigengradcam',
  'ablationcam',
  'fullgrad',
  'feature-ablation',
  'kernel-shap',
  'lime',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

export type IgBaseline = 'black' | 'zero' | 'blurred' | Tensor;
export type IgRule = 'gausslegendre' | 'riemann-trapezoid' | 'riemann-left' | 'riemann-right' | 'riemann-middle';
export type OcclusionFill = 'zero' | 'mean' | 'blur';
export type OcclusionMode = 'incremental' | 'brute-force' | 'approximate';
export type ScoreCamMode = 'incremental' | 'brute-force';
export type AblationMode = 'incremental' | 'brute-force';
/** What a switched-off segment is filled with: IG's baselines, or each image's per-channel mean (occlusion's `mean`). */
export type SegmentBaseline = 'zero' | 'black' | 'mean' | 'blurred' | Tensor;
export type LimeRegression = 'ridge' | 'lasso' | 'linear';

/** Every method's parameters; each has a default (see DEFAULTS in methods.ts and the README). */
export interface MethodParams {
  saliency?: { reduce?: 'max' | 'sum' };
  smoothgrad?: {
    /** noisy samples per image (default 50) */
    samples?: number;
    /** noise standard deviation as a fraction of each image's value range max - min (default 0.15) */
    noise?: number;
    seed?: number;
  };
  integratedGradients?: {
    /** points on the path (default 50) */
    steps?: number;
    /** 'black' (default: a black image in model space), 'zero' (Captum's default), 'blurred', or a tensor [1|N, C, H, W] */
    baseline?: IgBaseline;
    /** quadrature (default Gauss-Legendre, as Captum) */
    rule?: IgRule;
    /** Gaussian sigma in pixels of the blurred baseline (default: a tenth of the image side) */
    blurSigma?: number;
  };
  occlusion?: {
    /** window side(s) in pixels (default: the image side / 7, rounded) */
    window?: number | [number, number];
    /** stride(s) (default: half the window, rounded up) */
    stride?: number | [number, number];
    /** what the window is filled with (default 'zero', Captum's default baseline) */
    fill?: OcclusionFill;
    blurSigma?: number;
    /**
     * 'incremental' (exact: each layer recomputes only what a window changes, Krypton),
     * 'brute-force' (every occluded copy through the whole network: the reference), or
     * 'approximate' (incremental with Krypton's projective-field threshold and adaptive
     * drill-down: faster, with the error docs/occlusion.md measures). Default: incremental
     * where it pays off on the model, brute force otherwise (a note says which ran).
     */
    mode?: OcclusionMode;
    /** approximate: no patch grows beyond tau x its feature map's side, or 7 units (Krypton's tau, default 0.75) */
    tau?: number;
    /** approximate: after a pass over every other window, the fraction of the rest scored (default 0.5; 1 scores all) */
    drillDown?: number;
  };
  scorecam?: {
    /**
     * 'incremental' (default: each distinct mask scored once, only the target's logit computed
     * where the model's head allows, masks with a small support by incremental inference) or
     * 'brute-force' (every live channel's masked input through the whole network: the reference).
     * Both give the same result to float32 rounding.
     */
    mode?: ScoreCamMode;
  };
  guidedGradcam?: { interpolate?: 'bilinear' | 'nearest' };
  deeplift?: {
    /** the reference: 'black' (default), 'zero', 'blurred', or a tensor [1|N, C, H, W] */
    baseline?: IgBaseline;
    blurSigma?: number;
  };
  /** gradient-shap and deeplift-shap */
  shap?: {
    /** the baseline set [B, C, H, W] (default: `count` uniform-noise images in the pixel range, seeded) */
    baselines?: Tensor;
    /** size of the default noise baseline set (default 8) */
    count?: number;
    /** gradient-shap: random path points per image (default 50; Captum's n_samples default is 5) */
    samples?: number;
    /** gradient-shap: standard deviation of Gaussian noise added to the input, absolute, in model input space (default 0, as Captum's stdevs) */
    noise?: number;
    seed?: number;
  };
  lrp?: {
    /** rules per layer type (default 'epsilon-gamma-box') */
    composite?: LrpCompositeName;
    /** epsilon of the epsilon rule (default 1e-9 for the Captum composites, 1e-6 for zennit's) */
    epsilon?: number;
    /** gamma of the gamma rule (default 0.25) */
    gamma?: number;
  };
  /** feature-ablation, kernel-shap and lime: segments of the image switched between it and a baseline */
  segments?: {
    /** 'slic' superpixels (default) or a 'grid' of rectangles, on the image as displayed */
    segmentation?: SegmentationKind;
    /** segments aimed at (default 50, at most 512; SLIC gives about this many) */
    count?: number;
    /** SLIC compactness (default 10, skimage's) */
    compactness?: number;
    /**
     * The segments themselves instead of SLIC or a grid (Captum's feature_mask): integer labels
     * [H, W] or [1|N, 1, H, W] at the model's input size, each distinct value a segment (at most
     * 512). `maskFromImage` makes one from a mask image.
     */
    mask?: Tensor;
    /**
     * feature-ablation: 'incremental' (exact: each ablated copy recomputes only what the segment's
     * bounding box reaches, docs/occlusion.md) or 'brute-force' (the reference); default:
     * incremental where it pays, as occlusion's
     */
    mode?: AblationMode;
    /** what a switched-off segment shows (default 'zero', Captum's default baseline) */
    baseline?: SegmentBaseline;
    /** Gaussian sigma in pixels of the 'blurred' baseline (default: a tenth of the image side) */
    blurSigma?: number;
    /** kernel-shap and lime: coalitions scored per image (default 256, at most 10000) */
    samples?: number;
    seed?: number;
    /** lime: width of the exponential kernel on the cosine distance in input space (default 1, Captum's) */
    kernelWidth?: number;
    /** lime: the surrogate fitted (default 'ridge', the lime package's; 'lasso', Captum's; 'linear': unregularized) */
    regression?: LimeRegression;
    /** lime: ridge or lasso penalty (default 1 for ridge, the lime package's Ridge(alpha=1); 0.01 for lasso, Captum's SkLearnLasso(alpha=0.01)) */
    alpha?: number;
  };
  /** pytorch-grad-cam's smoothings for the CAM family */
  cam?: {
    /** test-time augmentation: horizontal flips x intensity scalings 0.9, 1, 1.1, maps min-max scaled and averaged */
    augSmooth?: boolean;
    /** first principal component of the weighted activations instead of their sum */
    eigenSmooth?: boolean;
  };
}

export interface ExplainOptions extends JobOptions, MethodParams {
  methods: readonly string[];
  /** default: each image's predicted class */
  target?: TargetSpec;
  /** default: 'logit' */
  score?: ScoreKind;
  /** layer for CAM-type methods (default: the last spatial layer) */
  layer?: string;
  /** samples per engine run for batched work, gradient and forward runs alike (default: by input size and run kind, 1..64) */
  batchSize?: number;
  /**
   * Where this batch's first input stands in a longer run explained batch by batch (default 0):
   * seeded noise (SmoothGrad, GradientSHAP) continues where the earlier inputs' ended, so the
   * batches together give what one batch would.
   */
  firstIndex?: number;
}

export interface Completeness {
  /** sum of the attributions */
  sum: number;
  /** score(input) - score(baseline) */
  scoreDifference: number;
  /** sum - scoreDifference */
  gap: number;
  /** |gap| / |scoreDifference|, the difference taken at least 1e-5 of the scores (below that it is float32 rounding) */
  relativeGap: number;
}

export interface Attribution {
  method: MethodName;
  /** resolved parameters, defaults included */
  params: Record<string, unknown>;
  /** the layer CAM-type methods read */
  layer?: SpatialLayer;
  /**
   * The method's raw result before any normalization or upsampling: gradient-type methods
   * [N, C, H, W] in the model's input space (saliency [N, 1, H, W]: its channel reduction is
   * its definition), CAM-type [N, 1, h, w] at the layer's resolution with the method's own
   * ReLU applied, occlusion [N, 1, H, W], the segment methods [N, 1, H, W] (each pixel its segment's value).
   */
  raw: Tensor;
  /** one map per image at input resolution [N, H, W]: channels summed, CAMs upsampled bilinearly */
  map: Tensor;
  /** whether the map has meaningful negative values (drawn with a diverging colormap) */
  signed: boolean;
  /** integrated gradients (and the other methods whose map sums to a score difference): per image */
  completeness?: Completeness[];
  notes: string[];
  /** wall time of this method (work shared with an earlier method is not counted again) */
  timeMs: number;
}

export interface ExplainedImage {
  /** probability: the softmax's, a multi-label head's sigmoid, none for a regression */
  predicted: { index: number; label: string; probability?: number; logit: number };
  target: { index: number; label: string; score: number; probability?: number; logit: number };
}

/** A method that does not apply to the model (e.g. CAM without a GAP + dense head), with why and what to use instead. */
export interface SkippedMethod {
  method: MethodName;
  reason: string;
  hint?: string;
  /** the method failed (an error, not the model's structure): the other methods' results stand */
  failed?: boolean;
}

export interface Explanation {
  model: string;
  /** the hidden unit explained instead of a class (its channels are the "classes"; see unitModel) */
  unit?: UnitTarget;
  /** set for a regression, whose outputs are values, no classes (models/output-kind.ts) */
  outputKind?: 'regression';
  score: ScoreKind;
  inputShape: number[];
  images: ExplainedImage[];
  targets: Int32Array;
  attributions: Attribution[];
  /** methods that could not apply to this model; the others' results are kept */
  skipped: SkippedMethod[];
  /** samples per gradient run */
  batchSize: number;
  /** samples per forward-only run (occlusion, Score-CAM, AblationCAM) */
  forwardBatchSize: number;
  /**
   * The pass that gave the predictions: a gradient pass the first gradient methods then read
   * (their own timeMs leaves it out), or a forward pass; and how long it took.
   */
  predictionPass: { kind: 'shared gradient pass' | 'forward pass'; timeMs: number };
}

/** What a method implementation gets. */
export interface MethodContext {
  model: Model;
  x: Tensor;
  targets: Int32Array;
  score: ScoreKind;
  /** samples per gradient run */
  batchSize: number;
  /** samples per forward-only run */
  forwardBatchSize: number;
  /** every method of this explain() call: a method sees which passes it may share */
  methods: readonly MethodName[];
  job: JobOptions;
  options: ExplainOptions;
  memo: Memo;
  /** the model's output for `x` when the prediction pass already gave it ([N, classes]) */
  logits?: Tensor;
}

export interface MethodResult {
  raw: Tensor;
  map: Float32Array;
  signed: boolean;
  params: Record<string, unknown>;
  layer?: SpatialLayer;
  completeness?: Completeness[];
  notes?: string[];
}

/** Work shared between methods of one explain() call. */
export interface Memo {
  once<T>(key: string, compute: () => Promise<T>): Promise<T>;
  method(name: MethodName): Promise<MethodResult>;
}
