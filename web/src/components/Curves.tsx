import { useEffect, useRef, type ReactNode } from 'react';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration, type Plugin } from 'chart.js';
import { toFont } from 'chart.js/helpers';
import type { Curve } from '../api';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/**
 * Chart.js draws a legend entry wider than its chart, and a y-axis title longer than the plot is
 * tall, past the canvas's edges, cut off. After every draw this says on the canvas whether all of
 * them lie within it (`data-fits`: "true", or what does not fit), for the end-to-end tests.
 */
const fitsPlugin: Plugin<'line'> = {
  id: 'convlensFits',
  afterDraw(chart) {
    const problems: string[] = [];
    const legend = chart.legend;
    // where the legend drew its entries (Chart.js keeps them for its clicks; its types leave them out)
    const boxes = (legend as unknown as { legendHitBoxes?: { left: number; width: number }[] } | undefined)?.legendHitBoxes ?? [];
    for (const [i, box] of boxes.entries()) {
      if (box.left < 0 || box.left + box.width > chart.width) problems.push(`legend entry ${i + 1}`);
    }
    const y = chart.scales['y'];
    const title = (y?.options as { title?: { display?: boolean; text?: unknown; font?: Parameters<typeof toFont>[0] } } | undefined)?.title;
    if (y && title?.display && typeof title.text === 'string') {
      chart.ctx.save();
      chart.ctx.font = toFont(title.font ?? {}).string;
      const half = chart.ctx.measureText(title.text).width / 2;
      chart.ctx.restore();
      const centre = (y.top + y.bottom) / 2;
      // drawn rotated, centred on the plot's height: it may not leave the canvas, nor run into the legend below
      const floor = legend && legend.top > centre ? legend.top : chart.height;
      if (centre - half < 0 || centre + half > floor) problems.push('y-axis title');
    }
    chart.canvas.setAttribute('data-fits', problems.length ? problems.join(', ') : 'true');
  },
};

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
    chart.current = new Chart(c, { ...config, plugins: [fitsPlugin] });
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
        {/* the axes in words: what a screen reader (and a test) has of a canvas chart */}
        <canvas ref={ref} role="img" aria-label={`${props.title}: ${props.yLabel} against ${axis.title}`} />
      </div>
    </figure>
  );
}
