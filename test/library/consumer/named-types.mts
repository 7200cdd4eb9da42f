// A consumer's module, compiled by test/library/public-types.test.ts: a user who writes the
// options of a documented call as a variable, or keeps what it returns in a field, names the
// types on the way (a rule set from lrpRuleSet, FeatvizOptions' regularizers, a trainer's
// divergence settings, a studio job's state). Each is imported by name from the entry and
// checked to be the very type the call takes or gives. Never run; only type-checked.
import { buildGradientGraph, buildTrainingGraph, classVisualization, deepliftRuleSet, encodeModel, Engine, featureVisualization, Graph, layerAttribution, lrpRuleSet, pixelParam, reduceChannels, scoreGradients, ssim } from 'convlens';
import type { AscentOptions, ChannelReduction, DeepliftLayout, EngineOptions, FeatvizOptions, GradContext, GradientRequest, OpDef, GradientTransform, GradRule, ImageShape, InMemoryFile, LossBuilder, LossKind, OpsetImport, OptimizerName, ResidentCeiling, RuleSet, RuleSetSpec, ScoreGradientRequest, ScoreGradients, SkippedLayerMethod, SsimOptions, StepRegularizers, TrainingGraphOptions } from 'convlens';
import { loadFashionMnist, nodeBackend, trainClassifier } from 'convlens/node';
import type { ClassifierRunInfo, DivergenceSetting, FashionMnistSplit, FitCheckpointOptions, FitOptions, NodeBackendOptions, SessionCacheOptions, TrainerOptions } from 'convlens/node';
import type { AccessEntry, ApiError, FileAccess, ImageEntry, ImageRef, ImageRegistry, JobEvent, JobManager, JobManagerOptions, JobState, KillReason, Lane, MaskEntry, MaskRegistry, MemoryPlan, ModelDescription, ModelEntry, ModelRef, ModelRegistry, PlanOptions, PoolOptions, PoolStats, RunKind, StreamStats, EventStreams, TaskHooks, UploadShelf, WorkerInit, WorkerPool, WorkerStats } from 'convlens/studio';

/** true when A and B are the same type */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Param<F extends (...args: never[]) => unknown, K extends number> = Parameters<F>[K];

// convlens
export const engineTypes: [Same<NonNullable<EngineOptions['ceiling']>, ResidentCeiling>, Same<Graph['extraOpsets'][number], OpsetImport>, Same<NonNullable<NonNullable<Param<typeof encodeModel, 1>>['inMemoryFiles']>[number], InMemoryFile>] = [true, true, true];
export const ruleTypes: [Same<ReturnType<typeof lrpRuleSet>, RuleSet>, Same<ReturnType<typeof deepliftRuleSet>, RuleSet>, Same<NonNullable<Param<typeof deepliftRuleSet, 1>>, DeepliftLayout>, Same<NonNullable<GradientRequest['ruleSet']>, RuleSetSpec>, Same<NonNullable<ReturnType<RuleSet['ruleFor']>>, GradRule>, Same<Param<RuleSet['ruleFor'], 1>, OpDef>, Same<Param<GradRule, 0>, GradContext>] = [true, true, true, true, true, true, true];
export const explainTypes: [Same<Param<typeof scoreGradients, 3>, ScoreGradientRequest>, Same<Awaited<ReturnType<typeof scoreGradients>>, ScoreGradients>, Same<NonNullable<ScoreGradientRequest['reduce']>, GradientTransform>, Same<Param<typeof reduceChannels, 1>, ChannelReduction>, Same<Awaited<ReturnType<typeof layerAttribution>>['skipped'][number], SkippedLayerMethod>, Same<NonNullable<Param<typeof ssim, 4>>, SsimOptions>] = [true, true, true, true, true, true];
export const synthesisTypes: [Same<NonNullable<FeatvizOptions['optimizer']>, OptimizerName>, Same<NonNullable<FeatvizOptions['regularizers']>, StepRegularizers>, Same<FeatvizOptions['onFrame'], AscentOptions['onFrame']>, Same<Param<ReturnType<typeof pixelParam>['shape'], 0>, ImageShape>] = [true, true, true, true];
export const trainingTypes: [Same<NonNullable<Param<typeof buildTrainingGraph, 1>>, TrainingGraphOptions>, Same<NonNullable<TrainingGraphOptions['loss']>, LossKind | LossBuilder>] = [true, true];
// convlens/node
export const nodeTypes: [Same<NonNullable<NodeBackendOptions['cache']>, Omit<SessionCacheOptions, 'dir'>>, Same<Param<typeof trainClassifier, 1>, ClassifierRunInfo>, Same<NonNullable<TrainerOptions['divergence']>['settings'][number], DivergenceSetting>, Same<NonNullable<FitOptions['checkpoint']>, FitCheckpointOptions>, Same<Param<typeof loadFashionMnist, 0>, FashionMnistSplit>] = [true, true, true, true, true];
// convlens/studio
export const studioTypes: [
  Same<ReturnType<ModelRegistry['list']>[number], ModelEntry>,
  Same<NonNullable<ModelEntry['ref']>, ModelRef>,
  Same<NonNullable<ModelEntry['error']>, ApiError>,
  Same<ModelRegistry['uploads'], UploadShelf>,
  Same<ReturnType<ImageRegistry['addUpload']>, ImageEntry>,
  Same<ReturnType<MaskRegistry['list']>[number], MaskEntry>,
  Same<NonNullable<ReturnType<JobManager['status']>>['state'], JobState>,
  Same<Param<Param<JobManager['subscribe'], 1>, 0>, JobEvent>,
  Same<JobManager['options'], JobManagerOptions>,
  Same<WorkerPool['options'], PoolOptions>,
  Same<ReturnType<WorkerPool['stats']>, PoolStats>,
  Same<PoolStats['workers'][number], WorkerStats>,
  Same<keyof PoolStats['killed'], KillReason>,
  Same<NonNullable<Param<WorkerPool['run'], 1>>, Lane>,
  Same<NonNullable<Param<WorkerPool['run'], 2>>, TaskHooks>,
  Same<Param<MemoryPlan['batch'], 2>, RunKind>,
  Same<Param<MemoryPlan['batch'], 3>, PlanOptions>,
  Same<ReturnType<EventStreams['stats']>, StreamStats>,
  Same<ReturnType<FileAccess['entry']>, AccessEntry>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
// names the studio's worker protocol uses, checked only to be importable
export type WorkerProtocol = [ModelDescription, ImageRef, WorkerInit];

// and values whose declarations need those names
export const engine = new Engine(nodeBackend({ cacheDir: false }));
export const ruleSet: RuleSet = deepliftRuleSet();
export const request: GradientRequest = { seed: { upstream: ['logits'] }, wrt: ['x'], ruleSet };
export const gradient = buildGradientGraph(new Graph(), request);
export const vizOptions = { objective: 'class:0', optimizer: 'adam', regularizers: {} } satisfies FeatvizOptions;
export const viz = featureVisualization;
export const classes = classVisualization;
