import { useEffect, useRef, type ReactNode } from 'react';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import type { Curve } from '../api';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

export interface CurveSeries {
  label: string;
  color: string;
  curve: Curve;
}

/** A deletion or insertion curve per method, AUC in the legend (Chart.js). */
export function CurveChart(props: { title: string; note: string; series: CurveSeries[]; yLabel: string; testId?: string }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line'> | null>(null);

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
          x: { type: 'linear', min: 0, max: 1, title: { display: true, text: 'fraction of pixels', color: '#64748b' }, ticks: { color: '#64748b', callback: (v) => `${Math.round(Number(v) * 100)}%` }, grid: { color: '#eef2f7' } },
          y: { type: 'linear', title: { display: true, text: props.yLabel, color: '#64748b' }, ticks: { color: '#64748b' }, grid: { color: '#eef2f7' } },
        },
      },
    };
    chart.current = new Chart(c, config);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [props.yLabel]);

  useEffect(() => {
    const ch = chart.current;
    if (!ch) return;
    ch.data.datasets = props.series.map((s) => ({
      label: `${s.label} · AUC ${s.curve.auc.toFixed(3)}`,
      data: s.curve.x.map((x, i) => ({ x, y: s.curve.y[i] ?? NaN })),
      borderColor: s.color,
      backgroundColor: s.color,
      borderWidth: 2,
      pointRadius: 0,
      tension: 0.15,
    }));
    ch.update();
  }, [props.series]);

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
