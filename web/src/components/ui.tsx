import { useRef, type ReactNode } from 'react';
import { gradientCss, type ColormapName } from '../colormaps';
import { fmt } from '../tensor';

export function Segmented<T extends string>(props: {
  label: string;
  value: T;
  options: { value: T; label: string; title?: string }[];
  onChange: (v: T) => void;
  testId?: string;
}): ReactNode {
  return (
    <div className="segmented" role="radiogroup" aria-label={props.label} data-testid={props.testId}>
      <span className="segmented-label">{props.label}</span>
      <div className="segmented-options">
        {props.options.map((o) => (
          <button
            key={o.value}
            type="button"
            role="radio"
            aria-checked={props.value === o.value}
            className={props.value === o.value ? 'on' : ''}
            title={o.title}
            onClick={() => props.onChange(o.value)}
          >
            {o.label}
          </button>
        ))}
      </div>
    </div>
  );
}

/** Where a panel computes: a job on the studio server, or the same engine in this page. */
export type ComputeWhere = 'server' | 'browser';

export function ComputeWherePicker(props: { value: ComputeWhere; onChange: (v: ComputeWhere) => void; testId: string }): ReactNode {
  return (
    <Segmented
      label="Compute on"
      value={props.value}
      onChange={props.onChange}
      options={[
        { value: 'server', label: 'server', title: 'a job on the studio server (onnxruntime-node)' },
        { value: 'browser', label: 'this browser', title: 'download the model and run the same engine in this page (onnxruntime-web, WebAssembly)' },
      ]}
      testId={props.testId}
    />
  );
}

/** A colormap strip with the numbers its ends (and centre, for diverging maps) stand for. */
export function Colorbar(props: { cmap: ColormapName; lo: number | string; hi: number | string; mid?: number | string; caption?: string; testId?: string }): ReactNode {
  const show = (v: number | string): string => (typeof v === 'number' ? fmt(v) : v);
  return (
    <div className="colorbar" data-testid={props.testId}>
      {props.caption && <span className="colorbar-caption">{props.caption}</span>}
      <div className="colorbar-body">
        <div className="colorbar-strip" style={{ background: gradientCss(props.cmap) }} />
        <div className="colorbar-ticks">
          <span className="colorbar-lo">{show(props.lo)}</span>
          {props.mid !== undefined && <span className="colorbar-mid">{show(props.mid)}</span>}
          <span className="colorbar-hi">{show(props.hi)}</span>
        </div>
      </div>
    </div>
  );
}

export interface ShownError {
  message: string;
  code?: string;
  hint?: string | undefined;
  status?: number;
}

export function ErrorBox(props: { error: ShownError | null | undefined; title?: string; onClose?: () => void; testId?: string }): ReactNode {
  if (!props.error) return null;
  const e = props.error;
  const long = !!e.hint && e.hint.length > 160;
  return (
    <div className="error-box" role="alert" data-testid={props.testId}>
      <div className="error-head">
        <strong>{props.title ?? 'Error'}</strong>
        {props.onClose && (
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={props.onClose}>
            ×
          </button>
        )}
      </div>
      <div className="error-message">{e.message}</div>
      {e.hint && !long && <div className="error-hint">{e.hint}</div>}
      {e.hint && long && (
        <details className="error-hint">
          <summary>{e.hint.slice(0, e.hint.search(/[.:]\s/) > 0 && e.hint.search(/[.:]\s/) < 100 ? e.hint.search(/[.:]\s/) : 80)}…</summary>
          {e.hint}
        </details>
      )}
      {e.code && (
        <code className="error-code">
          {e.status ? `${e.status} · ` : ''}
          {e.code}
        </code>
      )}
    </div>
  );
}

export function Spinner(props: { label?: string }): ReactNode {
  return (
    <span className="spinner-wrap">
      <span className="spinner" aria-hidden="true" />
      {props.label && <span>{props.label}</span>}
    </span>
  );
}

export function Panel(props: { title: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; testId?: string; subtitle?: ReactNode }): ReactNode {
  return (
    <section className={`panel ${props.className ?? ''}`} data-testid={props.testId}>
      <header className="panel-head">
        <div>
          <h2>{props.title}</h2>
          {props.subtitle && <div className="panel-subtitle">{props.subtitle}</div>}
        </div>
        {props.actions && <div className="panel-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** A labelled number input that clamps to [min, max] and ignores what is not a number. */
export function NumberField(props: { label: string; value: number; onChange: (v: number) => void; min?: number; max?: number; step?: number; title?: string; testId?: string; width?: number }): ReactNode {
  const { min = -Infinity, max = Infinity } = props;
  return (
    <label className="field inline" title={props.title}>
      <span>{props.label}</span>
      <input
        type="number"
        value={props.value}
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        style={props.width ? { width: props.width, flex: 'none' } : undefined}
        data-testid={props.testId}
        onChange={(e) => {
          const v = Number(e.target.value);
          if (e.target.value !== '' && Number.isFinite(v)) props.onChange(Math.min(max, Math.max(min, v)));
        }}
      />
    </label>
  );
}

/** A small button that opens the file chooser (the file input itself stays hidden). */
export function UploadButton(props: { label: string; busyLabel: string; busy: boolean; accept: string; onFile: (file: File) => void; testId: string; inputTestId: string }): ReactNode {
  const fileRef = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className="button small" onClick={() => fileRef.current?.click()} disabled={props.busy} data-testid={props.testId}>
        {props.busy ? <Spinner label={props.busyLabel} /> : props.label}
      </button>
      <input
        ref={fileRef}
        type="file"
        accept={props.accept}
        hidden
        data-testid={props.inputTestId}
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) props.onFile(f);
        }}
      />
    </>
  );
}
