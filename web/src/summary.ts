import type { Summary, SummaryRow } from './api';

/** The summary row a layer belongs to (a conv's output and its fused activation share one). */
export function rowOf(summary: Summary | null, layer: { name: string; node: string }): SummaryRow | undefined {
  return summary?.rows.find((r) => r.output === layer.name) ?? summary?.rows.find((r) => r.nodes.includes(layer.node) || r.name === layer.node);
}
