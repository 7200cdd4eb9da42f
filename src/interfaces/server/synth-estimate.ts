// The answer of POST /api/synthesize/:kind/estimate, in a module of its own so the web page can
// share the type without type-checking the server's synthesis code.

/** What a synthesis request will cost, before it starts (POST /api/synthesize/:kind/estimate). */
export interface SynthEstimate<Kind extends string = string> {
  kind: Kind;
  /** images optimized (featviz: one per class), run in `batches` of at most `batchSize` */
  images: number;
  steps: number;
  batches: number;
  batchSize: number;
  /** images times optimization steps */
  imageSteps: number;
  /** forward and backward work in GFLOP (3 forward passes per image step), when the model's FLOPs are known */
  gflop?: number;
  /** seconds at the speed this studio measured on earlier synthesis jobs (this model's when known) */
  seconds?: number;
  /** where the speed comes from: this model and kind of job, or a stand-in sharing one of them (or neither) */
  speed?: { gflopPerSecond: number; from: 'this model' | 'another model' | 'another kind of job' };
}
