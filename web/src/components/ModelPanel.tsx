import { useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, OUTPUT_KIND_NAMES, type Model, type OutputKindName, type Summary } from '../api';
import { PREPROCESS_PRESETS } from '../../../src/models/metadata.js';
import { fmtCount } from '../tensor';
import { inputKind } from '../input-kind';
import { outputNouns } from '../output-words';
import { forgetInBrowser } from '../compute';
import { ErrorBox, Panel, Spinner, UploadButton } from './ui';

const fmtList = (v: unknown): string => (Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? +x.toFixed(3) : String(x))).join(', ') : String(v));

/** How images become input, in one line: size, channels, range, mean/std, resize. */
function describePreprocessing(p: Model['preprocessing'], channels: string): string {
  if (!p) return '—';
  const size = Array.isArray(p.size) ? p.size.join('×') : '?';
  const parts = [`${size} ${channels}`, `range [${fmtList(p['range'])}]`, `mean [${fmtList(p['mean'])}]`, `std [${fmtList(p['std'])}]`, String(p['resize'] ?? '')];
  if (p['resize'] === 'crop' && typeof p['crop'] === 'number') parts.push(`centre ${Math.round(p['crop'] * 100)}%`);
  if (p['invert']) parts.push('inverted');
  return parts.join(' · ');
}

export function ModelPanel(props: {
  models: Model[];
  modelId: string;
  onChoose: (id: string) => void;
  onUpload: (file: File) => void;
  upload: { busy: boolean; error: ApiError | null };
  onDismissError: () => void;
  summary: Summary | null;
  /** the server's new entry for a model that was just described */
  onDescribed: (m: Model) => void;
}): ReactNode {
  const model = props.models.find((m) => m.id === props.modelId);
  const shape = model?.input?.shape;
  const pre = model?.preprocessing;
  const kind = inputKind(model ?? {});
  return (
    <Panel
      title="Model"
      testId="model-panel"
      actions={<UploadButton label="Open .onnx…" busyLabel="Opening…" busy={props.upload.busy} accept=".onnx" onFile={props.onUpload} testId="model-upload-button" inputTestId="model-file" />}
    >
      <label className="field">
        <span className="sr-only">Model</span>
        <select value={props.modelId} onChange={(e) => props.onChoose(e.target.value)} data-testid="model-select">
          {props.models.map((m) => (
            <option key={m.id} value={m.id} disabled={!!m.error}>
              {m.name}
              {m.error ? ' (cannot be used)' : ''}
            </option>
          ))}
        </select>
      </label>
      <ErrorBox error={props.upload.error} title="This model cannot be opened" onClose={props.onDismissError} testId="model-error" />
      {model?.error && !props.upload.error && <ErrorBox error={model.error} title="This model cannot be used" testId="model-error" />}
      {model && !model.error && (
        <div className="model-facts">
          {model.description && <p className="model-description">{model.description}</p>}
          <dl className="facts">
            {shape && (
              <>
                <dt>Input</dt>
                <dd>
                  {shape.slice(1).join(' × ')} <span className="muted">({kind.label})</span>
                </dd>
              </>
            )}
            <dt>{model.outputKind === 'regression' ? 'Outputs' : 'Classes'}</dt>
            <dd>
              {model.labels?.length ?? '—'}
              {model.profile && !model.profile.labelled && <span className="muted"> (numbered)</span>}
            </dd>
            <dt>Parameters</dt>
            <dd>{model.parameters !== undefined ? fmtCount(model.parameters) : '—'}</dd>
            {props.summary && (
              <>
                <dt>FLOPs / image</dt>
                <dd>{fmtCount(props.summary.totalFlops)}</dd>
              </>
            )}
            <dt>Images</dt>
            <dd className="small" data-testid="model-preprocessing">
              {describePreprocessing(pre, kind.label)}
            </dd>
          </dl>
          {!kind.takesImages && (
            <p className="warning" data-testid="model-no-images">
              This model takes {kind.label}; images give 1 (gray) or 3 (colour), so none can be fed to it here, and images made for it could not be shown: only its layers and filters can be looked at.
            </p>
          )}
          {(model.warnings ?? []).map((w) => (
            <p key={w} className="warning" data-testid="model-warning">
              {w}
            </p>
          ))}
          <DescribeModel model={model} onDescribed={props.onDescribed} />
        </div>
      )}
    </Panel>
  );
}

type Preset = '' | (typeof PREPROCESS_PRESETS)[number] | 'json';

/**
 * An example of the class names this model needs, one per line: generic names for its own
 * classes (ImageNet's "tench, goldfish" misled on a 2-class model), the first and the last when
 * there are more than fit the three-line box.
 */
function labelsPlaceholder(classes: number | undefined, noun: string): string {
  if (!classes) return `one ${noun} name per line`;
  const name = (i: number): string => `name of ${noun} ${i}`;
  if (classes <= 3) return Array.from({ length: classes }, (_, i) => name(i)).join('\n');
  return [name(0), `… (${classes} lines in all)`, name(classes - 1)].join('\n');
}

/**
 * What the file does not say, told here as `--labels` and `--preprocess` tell the CLI: class
 * names (a labels file or pasted text: one per line, or a JSON list) and a preprocessing preset
 * or explicit values. The server checks both and applies them to this model for the session.
 */
function DescribeModel(props: { model: Model; onDescribed: (m: Model) => void }): ReactNode {
  const { model } = props;
  // a regression's outputs are values, named as outputs, not classes
  const nouns = outputNouns(model.outputKind);
  const assumed = (model.warnings ?? []).some((w) => /no (class|output) labels|no preprocessing|assum/i.test(w));
  const [open, setOpen] = useState(assumed);
  const [labels, setLabels] = useState('');
  const [preset, setPreset] = useState<Preset>('');
  const [json, setJson] = useState('');
  // '' keeps the kind the model has
  const [outputKind, setOutputKind] = useState<'' | OutputKindName>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    setOpen(assumed);
    setLabels('');
    setPreset('');
    setOutputKind('');
    setJson(JSON.stringify({ range: model.preprocessing?.['range'], mean: model.preprocessing?.['mean'], std: model.preprocessing?.['std'], resize: model.preprocessing?.['resize'] }));
    setError(null);
    setDone(null);
    // a new model: start over (not when this one's entry is replaced after describing it)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model.id]);

  const apply = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const m = await api.describeModel(model.id, { ...(labels.trim() ? { labels } : {}), ...(preset ? { preprocess: preset === 'json' ? json : preset } : {}), ...(outputKind ? { outputKind } : {}) });
      forgetInBrowser(model.id);
      props.onDescribed(m);
      setDone(`Applied to ${m.name} for this session${m.described?.labels ? ` · ${m.described.labels} ${outputNouns(m.outputKind).one} names` : ''}${m.described?.preprocessing ? ' · preprocessing' : ''}${m.described?.outputKind ? ` · outputs ${m.described.outputKind}` : ''}.`);
      setLabels('');
      setOutputKind('');
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
    }
    setBusy(false);
  };

  return (
    <details className="describe" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)} data-testid="model-describe">
      <summary>Describe this model{model.described ? ' (described)' : ''}</summary>
      <p className="muted small">What the file does not say, as the CLI&apos;s --labels, --preprocess and --output-kind: kept for this session (convlens describe writes it into the file).</p>
      <label className="field">
        <span>
          {nouns.one === 'output' ? 'Output names' : 'Class names'} <span className="muted">(one per line, or a JSON list; {model.labels?.length ?? '?'} needed)</span>
        </span>
        <textarea rows={3} value={labels} onChange={(e) => setLabels(e.target.value)} placeholder={labelsPlaceholder(model.labels?.length, nouns.one)} data-testid="describe-labels" />
      </label>
      <div className="toolbar" style={{ gap: 8, marginTop: 4 }}>
        <label className="button small file-button">
          Labels file…
          <input
            type="file"
            accept=".txt,.json,text/plain,application/json"
            hidden
            data-testid="describe-labels-file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void f.text().then(setLabels);
            }}
          />
        </label>
      </div>
      <label className="field" style={{ marginTop: 8 }}>
        <span>Preprocessing</span>
        <select value={preset} onChange={(e) => setPreset(e.target.value as Preset)} data-testid="describe-preset">
          <option value="">keep ({describePreprocessing(model.preprocessing, inputKind(model).label).split(' · ').slice(1, 3).join(', ')})</option>
          {PREPROCESS_PRESETS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
          <option value="json">explicit values (JSON)…</option>
        </select>
      </label>
      <label className="field" style={{ marginTop: 8 }} title="how the outputs read, as the CLI's --output-kind: one class per image (softmax), independent yes/no outputs (each its own sigmoid), or values with no probability">
        <span>Outputs</span>
        <select value={outputKind} onChange={(e) => setOutputKind(e.target.value as '' | OutputKindName)} data-testid="describe-output-kind">
          <option value="">keep ({model.outputKind ?? 'single-label'})</option>
          {OUTPUT_KIND_NAMES.filter((k) => k !== (model.outputKind ?? 'single-label')).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      {preset === 'json' && <textarea rows={2} value={json} onChange={(e) => setJson(e.target.value)} className="mono" data-testid="describe-preprocess-json" title='any of "size", "channels", "range", "mean", "std", "resize", "crop", "invert"' />}
      <div className="run-row" style={{ minHeight: 0, marginTop: 8 }}>
        <button type="button" className="button small primary" disabled={busy || (!labels.trim() && !preset && !outputKind)} onClick={() => void apply()} data-testid="describe-apply">
          {busy ? <Spinner label="Applying…" /> : 'Apply'}
        </button>
        {done && (
          <span className="notice small" data-testid="describe-done">
            {done}
          </span>
        )}
      </div>
      <ErrorBox error={error} title="Not applied" onClose={() => setError(null)} testId="describe-error" />
    </details>
  );
}
