export { spearman, pearson, ranks, ssim, normalizedMagnitude, isConstant, type SsimOptions } from './similarity.js';
export { deletionInsertion, auc, pixelOrder, randomMaps, type Curves, type CurveOptions, type Canvas } from './deletion-insertion.js';
export { randomizationCheck, randomizableLayers, randomizeLayer, compareMaps, meanScore, type SanityOptions, type SanityResult, type SanityStep, type SanityScores } from './sanity.js';
export { road, imputeLinear, type RoadCurves, type RoadOptions } from './road.js';
export { infidelity, maxSensitivity, type InfidelityOptions, type SensitivityOptions } from './robustness.js';
