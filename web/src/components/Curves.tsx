import { useEffect, useRef, type ReactNode } from 'react';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import type { Curve } from '../api';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

export interface CurveSeries {
  label: string;
  color: string;
  curve: Curve;
}

/** The x axis of a chart: by default fractions of pixels 0..1 shown as percentages. */
export interface CurveAxis {
  min: number;
  max: number;
  title: string;
  /** a tick's label (default: the value) */
  tick?: (v: number) => string;
  /** ticks every `step` (default: Chart.js's choice) */
  step?: number;
}

const FRACTION_AXIS: CurveAxis = { min: 0, max: 1, title: 'fraction of pixels', tick: (v) => `${Math.round(v * 100)}%` };

/**
 * A deletion or insertion curve per method, AUC in the legend (Chart.js). Other charts give
 * their own x axis, y range, legend (`legend`: a series' label) and points (`points`: marks on).
 */
export function CurveChart(props: { title: string; note: string; series: CurveSeries[]; yLabel: string; testId?: string; x?: CurveAxis; y?: { min?: number; max?: number }; legend?: (s: CurveSeries) => string; points?: boolean }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line'> | null>(null);

  const axis = props.x ?? FRACTION_AXIS;
  // the tick labels of the latest render (another run's layer names on the same axis range)
  const axisRef = useRef(axis);
  axisRef.current = axis;
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const config: ChartConfiguration<'line'> = {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12, font: { family: 'Inter, system-ui, sans-serif', size: 12 }, color: '#334155' } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label?.split(' · ')[0]}: ${(item.parsed.y ?? 0).toFixed(3)}` } },
        },
        scales: {
          x: { type: 'linear', min: axis.min, max: axis.max, title: { display: true, text: axis.title, color: '#64748b' }, ticks: { color: '#64748b', ...(axis.step ? { stepSize: axis.step } : {}), callback: (v) => (axisRef.current.tick ? axisRef.current.tick(Number(v)) : String(v)) }, grid: { color: '#eef2f7' } },
          y: { type: 'linear', ...(props.y?.min !== undefined ? { min: props.y.min } : {}), ...(props.y?.max !== undefined ? { max: props.y.max } : {}), title: { display: true, text: props.yLabel, color: '#64748b' }, ticks: { color: '#64748b' }, grid: { color: '#eef2f7' } },
        },
      },
    };
    chart.current = new Chart(c, config);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.yLabel, axis.min, axis.max, axis.title, props.y?.min, props.y?.max]);

  useEffect(() => {
    const ch = chart.current;
    if (!ch) return;
    ch.data.datasets = props.series.map((s) => ({
      label: props.legend ? props.legend(s) : `${s.label} · AUC ${s.curve.auc.toFixed(3)}`,
      data: s.curve.x.map((x, i) => ({ x, y: s.curve.y[i] ?? NaN })),
      borderColor: s.color,
      backgroundColor: s.color,
      borderWidth: 2,
      pointRadius: props.points ? 3 : 0,
      tension: props.points ? 0 : 0.15,
      // a gap where a value is undefined (NaN: a constant map has no similarity)
      spanGaps: false,
    }));
    ch.update();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.series, props.yLabel, axis.min, axis.max, props.y?.min, props.y?.max]);

  return (
    <figure className="curve" data-testid={props.testId}>
      <figcaption>
        <b>{props.title}</b> <span className="muted">{props.note}</span>
      </figcaption>
      <div className="curve-canvas">
        <canvas ref={ref} />
      </div>
    </figure>
  );
}
