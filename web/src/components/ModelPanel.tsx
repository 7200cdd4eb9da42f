import type { ReactNode } from 'react';
import type { ApiError, Model, Summary } from '../api';
import { fmtCount } from '../tensor';
import { ErrorBox, Panel, UploadButton } from './ui';

export function ModelPanel(props: {
  models: Model[];
  modelId: string;
  onChoose: (id: string) => void;
  onUpload: (file: File) => void;
  upload: { busy: boolean; error: ApiError | null };
  onDismissError: () => void;
  summary: Summary | null;
}): ReactNode {
  const model = props.models.find((m) => m.id === props.modelId);
  const shape = model?.input?.shape;
  const pre = model?.preprocessing;
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
                  {shape.slice(1).join(' × ')} {pre?.channels ? <span className="muted">({String(pre.channels)})</span> : null}
                </dd>
              </>
            )}
            <dt>Classes</dt>
            <dd>{model.labels?.length ?? '—'}</dd>
            <dt>Parameters</dt>
            <dd>{model.parameters !== undefined ? fmtCount(model.parameters) : '—'}</dd>
            {props.summary && (
              <>
                <dt>FLOPs / image</dt>
                <dd>{fmtCount(props.summary.totalFlops)}</dd>
              </>
            )}
          </dl>
          {(model.warnings ?? []).map((w) => (
            <p key={w} className="warning">
              {w}
            </p>
          ))}
        </div>
      )}
    </Panel>
  );
}
