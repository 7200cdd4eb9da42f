// Typed client for the dataset-lens routes (docs/api.md, "Dataset lens").
import { request } from '../api';

export interface StoreLayer {
  name: string;
  channels: number;
  height: number;
  width: number;
}

export interface StoreInfo {
  id: string;
  model: string;
  modelFingerprint: string;
  dataset: string;
  count: number;
  classes: string[];
  layers: StoreLayer[];
  k: number;
  complete: boolean;
  /** the studio's id of the model that made it (same weights), when that model is loaded */
  modelId?: string;
  error?: { message: string };
}

/** A folder under the studio's data folders that can be indexed (GET /api/dataset/folders). */
export type { IndexableFolder } from '../../../src/interfaces/server/routes/dataset-sources.js';
import type { IndexableFolder } from '../../../src/interfaces/server/routes/dataset-sources.js';

export interface PatchEntry {
  rank: number;
  value: number;
  image: number;
  label: number;
  class: string | null;
  unit: [number, number];
  box: [number, number, number, number];
  crop: string;
  guided?: string;
  guidedMax?: number;
  /** |value| at the colour ends of the guided map (98th percentile of |value|) */
  guidedScale?: number;
}

export interface TopResult {
  layer: string;
  channel: number;
  field: [number, number];
  global: boolean;
  patches: PatchEntry[];
  /** images among the store's top k where the channel never fired (activation 0): no patch each */
  silent: number;
  /** why the guided-backprop maps were left out (they did not fit the studio's memory for quick requests) */
  guidedSkipped?: string;
}

export interface NeighbourEntry {
  id: number;
  label: number;
  class: string | null;
  distance: number;
  png: string;
}

export interface NeighboursResult {
  layer: string;
  metric: string;
  query: { png: string; label: number; class: string | null };
  feature: NeighbourEntry[];
  pixel: NeighbourEntry[];
  ms: number;
  indexed: boolean;
}

export interface EmbedResult {
  method: string;
  space: string;
  params: Record<string, unknown>;
  explained?: [number, number];
  ms: number;
  classes: string[];
  points: { id: number; label: number; x: number; y: number }[];
}

const enc = encodeURIComponent;

export const datasetApi = {
  stores: () => request<{ root: string; stores: StoreInfo[] }>('GET', '/api/dataset/stores'),
  index: (req: { model: string; dataset?: string | string[]; layers?: string[]; k?: number; limit?: number }) => request<{ job: string }>('POST', '/api/dataset/index', req),
  folders: () => request<{ roots: string[]; folders: IndexableFolder[] }>('GET', '/api/dataset/folders'),
  top: (store: string, layer: string, channel: number, k = 8) => request<TopResult>('GET', `/api/dataset/stores/${enc(store)}/top?layer=${enc(layer)}&channel=${channel}&k=${k}`),
  neighbours: (store: string, req: { layer: string; image?: number; imageId?: string; k?: number; metric?: 'l2' | 'cosine' }) => request<NeighboursResult>('POST', `/api/dataset/stores/${enc(store)}/neighbors`, req),
  embed: (store: string, req: { layer: string; method: string; sample?: number; seed?: number }) => request<{ job: string }>('POST', `/api/dataset/stores/${enc(store)}/embed`, req),
  remove: (store: string) => request<{ deleted: string; removed: string[] }>('DELETE', `/api/dataset/stores/${enc(store)}`),
  imageUrl: (store: string, n: number) => `/api/dataset/stores/${enc(store)}/images/${n}`,
};
