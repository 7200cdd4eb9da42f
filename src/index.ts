// ConvLens library API (runtime-agnostic). Node-specific pieces (onnxruntime-node, files, sharp)
// are exported from 'convlens/node'.
export * from './engine/index.js';
export { Model, type PickableValue, type UnitTarget } from './models/model.js';
export { unitModel, parseUnitSpec, type UnitSpec } from './models/unit-model.js';
export { tailModel, cutsEveryPath } from './models/tail-model.js';
export { readMetadata, writeMetadata, METADATA_KEYS, type ModelMetadata, type Preprocessing } from './models/metadata.js';
export { Layers } from './models/layers.js';
export { courseCnn, vggLike, resnet18Like, FASHION_MNIST_LABELS } from './models/zoo/index.js';
export { summarize, formatSummary, type ModelSummary, type LayerRow } from './methods/inspect/summary.js';
export { receptiveFields, unitRegion, type ReceptiveField } from './methods/inspect/receptive-field.js';
export { predict, topK, softmax, type Prediction } from './methods/predict.js';
export { softmaxCrossEntropy, meanSquaredError } from './training/losses.js';
export { buildTrainingGraph, type TrainingGraph } from './training/step.js';
export { parseNpy, encodeNpy } from './io/npy.js';
export { explain, resolveMethod, resolveMethods, METHODS, METHOD_NAMES, resolveTargets, targetScores, classIndex, checkScore, spatialLayer, camHead, scoreGradients, forwardScores, defaultBatchSize, quadrature, gaussLegendre, blackImage, resolveBaseline, windowOffsets, OCCLUSION_MODES, APPROXIMATE_DEFAULTS, SCORECAM_MODES, ABLATION_MODES, LIME_REGRESSIONS, resizeBilinear, gaussianBlur, reduceChannels, segmentImage, slic, gridSegments, maskFromImage, maskSegmentations, SEGMENTATION_KINDS, SEGMENTATION_DEFAULTS, MAX_SEGMENTS, SEGMENT_SAMPLE_DEFAULTS, MAX_SEGMENT_SAMPLES, type Segmentation, type SegmentationKind, type SegmentationOptions, type SegmentBaseline, type LimeRegression, type Attribution, type ExplainOptions, type Explanation, type MethodName, type MethodParams, type Completeness, type IgBaseline, type IgRule, type OcclusionFill, type OcclusionMode, type ScoreCamMode, type AblationMode, type TargetSpec, type ScoreKind, type SpatialLayer, type CamHead } from './methods/explain/index.js';
export { spearman, pearson, ranks, ssim, normalizedMagnitude, isConstant, deletionInsertion, auc, pixelOrder, randomMaps, randomizationCheck, randomizableLayers, randomizeLayer, compareMaps, meanScore, type Curves, type CurveOptions, type Canvas, type SanityOptions, type SanityResult, type SanityStep, type SanityScores } from './methods/metrics/index.js';
export { road, imputeLinear, infidelity, maxSensitivity, type RoadCurves, type RoadOptions, type InfidelityOptions, type SensitivityOptions } from './methods/metrics/index.js';
export { lrpRuleSet, lrpComposite, LRP_COMPOSITES, type LrpComposite, type LrpCompositeName, type LrpRule, type LrpParams } from './engine/ops/rules/lrp.js';
export { deepliftRuleSet } from './engine/ops/rules/deeplift.js';
export { colormap, colorAt, describeColormap, COLORMAP_NAMES, type Colormap } from './render/colormap.js';
export { mapRange, rangeOf, parseRange, describeRange, percentile, type RangeSpec, type MappedRange } from './render/range.js';
export { renderHeatmap, overlay, colorize, colorbar, resizeImage, resamplePlane, toRgb, type Heatmap, type HeatmapOptions } from './render/heatmap.js';
export { layerAttribution, LAYER_METHODS, type LayerAttribution, type LayerAttributionOptions, type LayerMethodName, type LayerMethodResult, type ChannelAblation } from './methods/explain/layer-attribution.js';
export { renderAttribution, displayStyle, type DisplayOptions, type DisplayStyle, type View } from './methods/explain/display.js';
export { buildForwardGraph } from './training/step.js';
export { createOptimizer, optimizerConfig, clipGradientNorm, type Optimizer, type OptimizerConfig, type OptimizerState } from './training/optimizers.js';
export { learningRate, parseSchedule, describeSchedule, type ScheduleConfig, type ScheduleOptions } from './training/schedules.js';
export type { JobOptions, Progress } from './engine/jobs.js';
// Synthesis by gradient ascent: the methods, and the Lucid-style parts they are composed of.
export { featureVisualization, classVisualization, facetVisualization, type FeatvizOptions, type FeatvizResult, type ClassVisualizationOptions, type ClassVisualizationResult, type FacetOptions, type FacetResult } from './methods/synthesize/featviz.js';
export { attack, type AttackOptions, type AttackResult, type AttackImageResult, type AttackMethod, type AttackNorm } from './methods/synthesize/adversarial.js';
export { invert, type InvertOptions, type Inversion } from './methods/synthesize/inversion.js';
export { dream, type DreamOptions, type DreamResult } from './methods/synthesize/dream.js';
export { styleTransfer, builtinTextureBackbone, type StyleOptions, type StyleResult, type StyleImage } from './methods/synthesize/style.js';
export { stylize, loadStyleNet, encodeStyleNet, styleNetInfo } from './methods/synthesize/stylize.js';
export * as objectives from './methods/synthesize/objectives.js';
export { pixelParam, fourierParam, type Parameterization, type PixelOptions, type FourierOptions } from './methods/synthesize/params.js';
export * as transforms from './methods/synthesize/transforms.js';
