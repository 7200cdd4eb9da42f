import type { ReactNode } from 'react';
import type { ApiError, Dim, Model, ReceptiveField, Summary } from '../api';
import { fmtCount } from '../tensor';
import { ErrorBox, Panel, Spinner } from './ui';

const shape = (d: Dim[]): string => `(${d.map((x) => (typeof x === 'number' ? x : 'N')).join(', ')})`;
const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const pair = (a: [number, number]): string => (a[0] === a[1] ? num(a[0]) : `${num(a[0])}×${num(a[1])}`);

function Rf(props: { rf: ReceptiveField | undefined }): ReactNode {
  const r = props.rf;
  if (!r) return <span className="muted">—</span>;
  if (r.global) return <span>whole image</span>;
  return (
    <span>
      <b>{pair(r.size)}</b> <span className="muted">/ {pair(r.jump)} / {pair(r.start)}</span>
    </span>
  );
}

export function SummaryPanel(props: { model: Model | undefined; summary: Summary | null; error: ApiError | null }): ReactNode {
  const s = props.summary;
  const maxFlops = s ? Math.max(1, ...s.rows.map((r) => r.flops)) : 1;
  return (
    <Panel
      title="Layers"
      testId="summary-panel"
      subtitle={props.model ? `${props.model.name}${props.model.input ? ` · input ${shape(props.model.input.shape)}` : ''}` : undefined}
    >
      <ErrorBox error={props.error} title="No summary" />
      {!s && !props.error && <Spinner label="Loading the summary…" />}
      {s && (
        <>
          <div className="table-wrap">
            <table className="summary-table" data-testid="summary-table">
              <thead>
                <tr>
                  <th>Layer</th>
                  <th>Type</th>
                  <th>Output shape</th>
                  <th className="num">Params</th>
                  <th className="num">FLOPs</th>
                  <th>Receptive field <span className="muted">size / jump / start</span></th>
                </tr>
              </thead>
              <tbody>
                {s.rows.map((r) => (
                  <tr key={r.name}>
                    <td>
                      <code>{r.name}</code>
                    </td>
                    <td>{r.type}</td>
                    <td>
                      <code>{shape(r.shape)}</code>
                    </td>
                    <td className="num">{r.params.toLocaleString('en-US')}</td>
                    <td className="num">
                      {fmtCount(r.flops)}
                      <span className="flops-track" title={`${((100 * r.flops) / (s.totalFlops || 1)).toFixed(1)}% of the model's FLOPs`}>
                        <span className="flops-bar" style={{ width: `${(100 * r.flops) / maxFlops}%` }} />
                      </span>
                    </td>
                    <td>
                      <Rf rf={r.receptiveField} />
                    </td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <td colSpan={3}>Total</td>
                  <td className="num">{s.totalParams.toLocaleString('en-US')}</td>
                  <td className="num">
                    {fmtCount(s.totalFlops)}
                    <span className="flops-track" style={{ visibility: 'hidden' }} />
                  </td>
                  <td className="muted">{s.totalParams !== s.trainableParams ? `${(s.totalParams - s.trainableParams).toLocaleString('en-US')} non-trainable` : 'all trainable'}</td>
                </tr>
              </tfoot>
            </table>
          </div>
          <p className="caption">
            FLOPs per image (a multiply-add counts 2). A unit at (row, col) of a layer sees the input box of <i>size</i> pixels centred on <i>start</i> + index × <i>jump</i>.
          </p>
        </>
      )}
    </Panel>
  );
}
