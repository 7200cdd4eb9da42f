// The studio server as a library (`convlens/studio`): its own entry, so that scripts using the
// Node API (`convlens/node`) do not load the web server, the dataset store and their libraries.
export { createStudio, type Studio, type StudioOptions, type TaskInputs } from './interfaces/server/app.js';
// The types of Studio's members and options, so that code holding them can name them.
export type { AccessOptions, AccessPolicy } from './interfaces/server/access.js';
export type { ModelRegistry, ImageRegistry, UploadCaps, ModelEntry, ImageEntry, UploadShelf } from './interfaces/server/state.js';
export type { MaskRegistry, MaskEntry } from './interfaces/server/masks.js';
export type { JobManager, JobManagerOptions, JobState, JobEvent, ApiError } from './interfaces/server/jobs.js';
export type { EventStreams, StreamStats } from './interfaces/server/sse.js';
export type { WorkerPool, PoolOptions, PoolStats, WorkerStats, TaskHooks, Lane, KillReason } from './interfaces/server/workers/pool.js';
export type { MemoryPlan, PlanOptions } from './interfaces/server/workers/memory.js';
export type { RunKind } from './methods/inspect/memory.js';
export type { TaskArgs, TaskKind } from './interfaces/server/tasks/index.js';
export type { TaskRequest, ModelRef, ModelDescription, ImageRef, WorkerInit } from './interfaces/server/workers/protocol.js';
export type { FileAccess, AccessEntry } from './io/file-access.js';
