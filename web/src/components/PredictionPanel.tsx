import { useEffect, useRef, type ReactNode } from 'react';
import type { ApiError, OutputKindName, Prediction } from '../api';
import type { InputView } from '../App';
import { fitCanvas } from '../render';
import { predictionScore } from '../format';
import { ErrorBox, Panel, Spinner } from './ui';

/** Draws the model's view of the image, pixel-exact when it is scaled up a lot. */
export function drawInput(ctx: CanvasRenderingContext2D, input: InputView, w: number, h: number): void {
  ctx.clearRect(0, 0, w, h);
  ctx.imageSmoothingEnabled = w / input.width < 3;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(input.img, 0, 0, w, h);
}

/** CSS size that fits `max` while keeping the input's aspect ratio. */
export function fitSize(input: { width: number; height: number } | null, max: number): { w: number; h: number } {
  if (!input) return { w: max, h: max };
  const s = max / Math.max(input.width, input.height);
  return { w: Math.round(input.width * s), h: Math.round(input.height * s) };
}

export function InputCanvas(props: { input: InputView | null; size: number; testId?: string; className?: string }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const { w, h } = fitSize(props.input, props.size);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = fitCanvas(c, w, h);
    if (props.input) drawInput(ctx, props.input, w, h);
    else ctx.clearRect(0, 0, w, h);
  }, [props.input, w, h]);
  return <canvas ref={ref} className={`input-canvas ${props.className ?? ''}`} style={{ width: w, height: h }} data-testid={props.testId} />;
}

export function PredictionPanel(props: { prediction: Prediction | null; input: InputView | null; busy: boolean; error: ApiError | null; labels?: string[] | undefined; noImages?: string | undefined; outputKind?: OutputKindName | undefined }): ReactNode {
  const top = props.prediction?.top ?? [];
  // a multi-label head answers each output yes or no on its own: every output at 50% or more is a "yes", not only the first
  const multiLabel = props.outputKind === 'multi-label';
  const highlighted = (t: Prediction['top'][number], i: number): boolean => t.probability !== undefined && (multiLabel ? t.probability >= 0.5 : i === 0);
  if (props.noImages) {
    return (
      <Panel title="Prediction" testId="prediction-panel">
        <p className="warning" data-testid="prediction-no-images">
          {props.noImages}: nothing to predict here.
        </p>
      </Panel>
    );
  }
  return (
    <Panel title="Prediction" testId="prediction-panel" actions={props.busy ? <Spinner /> : null}>
      <ErrorBox error={props.error} title="Prediction failed" />
      {(props.prediction?.warnings ?? []).map((w) => (
        <p key={w} className="warning" data-testid="prediction-warning">
          {w}
        </p>
      ))}
      <div className="prediction">
        <figure className="model-view">
          <InputCanvas input={props.input} size={112} testId="model-input" />
          <figcaption>
            as the model sees it
            {props.input ? (
              <span className="muted">
                {' '}
                · {props.input.width}×{props.input.height}
              </span>
            ) : null}
          </figcaption>
        </figure>
        <ol className="bars" data-testid="prediction-bars" aria-busy={props.busy}>
          {top.map((t, i) => (
            // a regression's outputs come in their order, with values: none is the top one, and no bar has a scale
            <li key={t.index} className={highlighted(t, i) ? 'bar top1' : 'bar'} title={`${t.probability === undefined ? 'output' : 'class'} ${t.index} · ${t.probability === undefined ? 'value' : 'logit'} ${t.logit.toFixed(3)}${multiLabel ? ` · ${highlighted(t, i) ? 'yes' : 'no'} (its own sigmoid)` : ''}`}>
              <span className="bar-label">{t.label}</span>
              {/* no track for a value: an empty track reads as a bar at 0% */}
              {t.probability !== undefined ? (
                <span className="bar-track">
                  <span className="bar-fill" style={{ width: `${100 * t.probability}%` }} />
                </span>
              ) : (
                <span />
              )}
              <span className="bar-value">{predictionScore(t)}</span>
            </li>
          ))}
          {top.length === 0 && !props.busy && <li className="muted">Pick an image.</li>}
        </ol>
      </div>
      {multiLabel && top.length > 0 && (
        <p className="muted small" data-testid="prediction-multi-label-note">
          Independent yes/no outputs: each one&apos;s probability is its own sigmoid (they need not sum to 100%); 50% or more reads yes.
        </p>
      )}
    </Panel>
  );
}
