import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, jobId, type ChannelEntry, type ChannelsRequest, type ChannelsResult, type Model, type Summary } from '../api';
import { scoreOptions } from '../output-words';
import type { InputView } from '../App';
import type { ColormapName } from '../colormaps';
import { fitCanvas, imageDataCanvas, mapToImageData, type Mapping } from '../render';
import { decodeTensor, fmt, maxAbs, workerTensor, type Tensor } from '../tensor';
import { abbreviateName } from '../../../src/util/names.js';
import { JobProgress } from './JobProgress';
import { LayerPicker, layerLabelOf } from './Pickers';
import { drawInput, fitSize } from './PredictionPanel';
import { Colorbar, ComputeWherePicker, ErrorBox, NumberField, Panel, Segmented, type ComputeWhere } from './ui';
import { cancelPanelJob, followJobStatus, runInBrowser, type JobStatus } from '../job-status';
import { channelsInBrowser } from '../compute';
import type { LayerMethodName } from '../../../src/methods/explain/layer-attribution.js';
import { DEFAULT_PATH_STEPS } from '../../../src/methods/explain/method-defaults.js';

// The library's LAYER_METHODS, the cheap two first (one gradient pass each), the path methods next
const METHODS: [id: LayerMethodName, label: string, about: string][] = [
  ['gradient-x-activation', 'Gradient × activation', 'the score’s gradient at the layer times its activation: one backward pass'],
  ['deeplift', 'DeepLIFT', 'rescale-rule multipliers at the layer times the change of its activations from a black image’s; the channels sum to the logit’s change'],
  ['integrated-gradients', 'Integrated gradients', 'gradients along the straight path from a black image’s activations at the layer to this image’s (Captum’s LayerIntegratedGradients); a pass per step'],
  ['conductance', 'Conductance', 'the score’s gradient at the layer times its change between consecutive points of the path from a black image to this one (Captum’s LayerConductance); a pass per step, and it works at any layer, a branch’s too'],
  ['ablation', 'Ablation', 'the score’s drop when the channel is set to zero: a forward pass per channel (slow on wide layers)'],
];
const LABEL: Record<string, string> = Object.fromEntries(METHODS.map(([id, label]) => [id, label]));

type Rule = NonNullable<ChannelsRequest['rule']>;
type Baseline = NonNullable<ChannelsRequest['baseline']>;
type Ablation = NonNullable<ChannelsRequest['ablation']>;

/**
 * Which of the options the checked methods read, as POST /api/channels refuses the others: a
 * control is shown, and its field sent, only where a method uses it.
 */
export function channelsOptionsUsed(methods: ReadonlySet<string>, ablation: Ablation): { path: boolean; ablation: boolean; baseline: boolean } {
  const path = methods.has('integrated-gradients') || methods.has('conductance');
  return { path, ablation: methods.has('ablation'), baseline: path || methods.has('deeplift') || (methods.has('ablation') && ablation === 'baseline') };
}

/** A combination the route would refuse, said before the run (null: none). */
export function channelsConflict(methods: ReadonlySet<string>, score: 'logit' | 'prob'): string | null {
  if (score === 'prob' && methods.size > 0 && [...methods].every((m) => m === 'deeplift')) return 'DeepLIFT decomposes the logit (its rescale rule has no softmax rule): pick the logit score, or add a method that explains the probability.';
  return null;
}
const THUMB = 124;

type Where = ComputeWhere;


interface Shown {
  /** the answer of either path, its maps as the page's tensors */
  result: ChannelsResult<Tensor>;
  where: Where;
  input: InputView | null;
  imageId: string;
  imageName: string;
  modelId: string;
  modelName: string;
}

/**
 * Which channels of a layer carry the class score (`convlens channels`): ranked per method, each
 * with its map over the image and a way to explain that channel as a hidden unit.
 */
export function ChannelsPanel(props: { model: Model; summary: Summary | null; imageId: string | null; input: InputView | null; imageName: string; target: string; disabled?: string | undefined; onExplainChannel: (layer: string, channel: number) => void }): ReactNode {
  const { model, summary } = props;
  const defaultLayer = layerLabelOf(summary, model.channelsLayer ?? model.defaultLayer);
  const [layer, setLayer] = useState(defaultLayer);
  const [methods, setMethods] = useState<Set<string>>(() => new Set(['gradient-x-activation', 'deeplift']));
  const [top, setTop] = useState(8);
  const [steps, setSteps] = useState(DEFAULT_PATH_STEPS); // the CLI's (convlens channels)
  const [rule, setRule] = useState<Rule>('gausslegendre');
  const [score, setScore] = useState<'logit' | 'prob'>('logit');
  const [baseline, setBaseline] = useState<Baseline>('black');
  const [ablation, setAblation] = useState<Ablation>('zero');
  const [job, setJob] = useState<JobStatus | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<ApiError | { code: string; message: string; hint?: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const stopRef = useRef<(() => void) | null>(null);
  const [where, setWhere] = useState<Where>('server');
  const browserRun = useRef<AbortController | null>(null);

  // the CAM layer is where the class evidence is still spatial: the natural first layer to ask
  useEffect(() => setLayer(defaultLayer), [model.id, defaultLayer]);
  useEffect(
    () => () => {
      stopRef.current?.();
      browserRun.current?.abort();
    },
    [],
  );

  const running = !!job?.running;
  const uses = channelsOptionsUsed(methods, ablation);
  const conflict = channelsConflict(methods, model.outputKind === 'regression' ? 'logit' : score);
  const canRun = !!props.imageId && !props.disabled && methods.size > 0 && !!layer.trim() && !running && !conflict;

  const run = async (): Promise<void> => {
    if (!props.imageId) return;
    setError(null);
    setNotice(null);
    const req: ChannelsRequest = {
      model: model.id,
      image: props.imageId,
      layer: layer.trim(),
      methods: METHODS.map(([id]) => id).filter((m) => methods.has(m)),
      top,
      // a regression has no probability: its outputs are explained by their values
      score: model.outputKind === 'regression' ? 'logit' : score,
      ...(uses.path ? { steps, rule } : {}),
      ...(uses.baseline ? { baseline } : {}),
      ...(uses.ablation ? { ablation } : {}),
      ...(props.target !== '' ? { target: /^\d+$/.test(props.target) ? Number(props.target) : props.target } : {}),
    };
    const snapshot = { input: props.input, imageId: props.imageId, imageName: props.imageName, modelId: model.id, modelName: model.name, where };
    if (where === 'browser') {
      await runHere(req, snapshot);
      return;
    }
    let id: string;
    try {
      id = jobId(await api.channels(req));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
      return;
    }
    followJobStatus(id, stopRef, setJob, setCancelling, {
      result: (r) => {
        const result = r as ChannelsResult;
        setShown({ result: withMaps(result, decodeTensor), ...snapshot });
      },
      error: setError,
      cancelled: () => setNotice('Cancelled: the ranking of the previous run (if any) is still shown.'),
    });
  };

  // The same computation as the server's job, on the browser's own engine (the engine worker): the
  // model and the preprocessed input come from the server, the attributions are computed here.
  const panelJob = { setJob, setCancelling, setNotice, setError };
  const runHere = ({ model: modelId, image, ...request }: ChannelsRequest, snapshot: Omit<Shown, 'result'>): Promise<void> =>
    runInBrowser(browserRun, panelJob, (o) => channelsInBrowser(modelId, image, request, o), (report) => setShown({ result: withMaps(report, workerTensor), ...snapshot }), 'Cancelled: the ranking of the previous run (if any) is still shown.');

  const cancel = (): void => cancelPanelJob(job, browserRun, { setCancelling, setError });

  const r = shown?.result;
  // a ranking asked for before the image's view arrived (the prediction draws it) gets it later
  const shownInput = shown?.input ?? (props.input && props.input.imageId === shown?.imageId ? props.input : null);
  return (
    <Panel
      title="Channels behind this prediction"
      subtitle={`Which channels of a layer carry the ${model.outputKind === 'regression' ? `${props.target === '' ? 'largest' : 'target'} output's value` : `${props.target === '' ? 'predicted class' : 'target class'}'s score`} (Captum's layer attribution), ranked; then explain what in the image drives one of them.`}
      testId="channels-panel"
    >
      {/* as the explanations' form: its options, the options of the methods checked, the run row */}
      <div className="explain-form">
        <div className="explain-options channels-form">
          <LayerPicker label="Layer" stacked model={model} summary={summary} value={layer} onChange={setLayer} testId="channels-layer" width={200} />
          <fieldset className="channels-methods">
            <legend>Methods</legend>
            {METHODS.map(([id, label, about]) => (
              <label key={id} className="check" title={about}>
                <input
                  type="checkbox"
                  checked={methods.has(id)}
                  onChange={() =>
                    setMethods((s) => {
                      const n = new Set(s);
                      if (n.has(id)) n.delete(id);
                      else n.add(id);
                      return n;
                    })
                  }
                  data-testid={`channels-method-${id}`}
                />
                {label}
              </label>
            ))}
          </fieldset>
          <NumberField label="Top" value={top} onChange={setTop} min={1} max={64} step={1} title="channels shown per method (1-64)" testId="channels-top" width={64} />
          {model.outputKind === 'regression' ? (
            <span className="muted small" title="a regression's outputs are values, with no probability" data-testid="channels-score-value">
              score: the output&apos;s value
            </span>
          ) : (
            <Segmented label="Score" value={score} onChange={setScore} testId="channels-score" options={scoreOptions(model.outputKind, ' (DeepLIFT still decomposes the logit)')} />
          )}
        </div>
        {(uses.path || uses.baseline || uses.ablation) && (
          <div className="explain-params channels-params">
            {uses.path && (
              <fieldset className="params">
                <legend>Integrated gradients · Conductance</legend>
                <NumberField label="steps" value={steps} onChange={setSteps} min={1} max={1000} step={1} title="steps along the path (1-1000): a pass each" testId="channels-steps" width={72} />
                <label className="field inline" title="how the path integral is approximated (conductance: where its points lie)">
                  <span>rule</span>
                  <select value={rule} onChange={(e) => setRule(e.target.value as Rule)} data-testid="channels-rule">
                    <option value="gausslegendre">Gauss-Legendre (Captum's default)</option>
                    <option value="riemann-trapezoid">Riemann, trapezoid</option>
                    <option value="riemann-middle">Riemann, midpoint</option>
                    <option value="riemann-left">Riemann, left</option>
                    <option value="riemann-right">Riemann, right</option>
                  </select>
                </label>
              </fieldset>
            )}
            {uses.ablation && (
              <fieldset className="params">
                <legend>Ablation</legend>
                <label className="field inline" title="what a removed channel is set to">
                  <span>channel set to</span>
                  <select value={ablation} onChange={(e) => setAblation(e.target.value as Ablation)} data-testid="channels-ablation">
                    <option value="zero">zero (Captum's default)</option>
                    <option value="baseline">the baseline's activations</option>
                  </select>
                </label>
              </fieldset>
            )}
            {uses.baseline && (
              <fieldset className="params">
                <legend>Baseline</legend>
                <label className="field inline" title={`the reference image of ${[...(uses.path ? METHODS.filter(([id]) => (id === 'integrated-gradients' || id === 'conductance') && methods.has(id)).map(([, l]) => l) : []), ...(methods.has('deeplift') ? ['DeepLIFT'] : []), ...(uses.ablation && ablation === 'baseline' ? ['ablation'] : [])].join(', ')}`}>
                  <span>reference</span>
                  <select value={baseline} onChange={(e) => setBaseline(e.target.value as Baseline)} data-testid="channels-baseline">
                    <option value="black">black image</option>
                    <option value="zero">zeros (model space)</option>
                    <option value="blurred">blurred image</option>
                  </select>
                </label>
              </fieldset>
            )}
          </div>
        )}
        <div className="run-row">
          <ComputeWherePicker value={where} onChange={setWhere} testId="channels-where" />
          <button type="button" className="button primary" disabled={!canRun} onClick={() => void run()} title={props.disabled} data-testid="channels-run">
            Rank channels
          </button>
          {running && (
            <>
              <JobProgress job={job} onCancel={cancel} cancelling={cancelling} testIds={{ text: 'channels-phase', cancel: 'channels-cancel' }} />
            </>
          )}
          {!running && conflict && (
            <span className="notice" data-testid="channels-conflict">
              {conflict}
            </span>
          )}
          {!running && notice && (
            <span className="notice" data-testid="channels-notice">
              {notice}
            </span>
          )}
        </div>
      </div>
      <ErrorBox error={error} title="Ranking the channels failed" onClose={() => setError(null)} testId="channels-error" />
      {shown && r && (
        <div className="channels-results" data-testid="channels-results">
          <p className="muted small" data-testid="channels-made">
            {`${shown.modelName} · image ${abbreviateName(shown.imageName)} · layer ${r.layer.label} [${r.layer.shape.join('×')}] · ${model.outputKind === 'regression' ? `${r.target.label === `output ${r.target.index}` ? r.target.label : `output ${r.target.index} (${r.target.label})`} · value` : `class ${r.target.index} (${r.target.label}) · ${r.score}`} ${fmt(r.target.score)} · computed ${shown.where === 'browser' ? 'in this browser' : 'on the server'}`}
          </p>
          {(r.skipped ?? []).map((k) => (
            <p key={k.method} className="notice small" data-testid={`channels-skipped-${k.method}`}>
              <b>{`${LABEL[k.method] ?? k.method} skipped: `}</b>
              {k.reason}
              {k.hint ? <span className="muted">{` ${k.hint}`}</span> : null}
            </p>
          ))}
          {r.methods.map((m) => (
            <MethodRow key={m.method} method={m} input={shownInput} stale={shown.modelId !== model.id} onExplain={(c) => props.onExplainChannel(r.layer.label, c)} />
          ))}
        </div>
      )}
    </Panel>
  );
}

/** An answer with its maps turned into the page's tensors. */
function withMaps<M>(r: ChannelsResult<M>, tensor: (m: M) => Tensor): ChannelsResult<Tensor> {
  return { ...r, methods: r.methods.map((m) => ({ ...m, top: m.top.map((c) => ({ ...c, map: tensor(c.map) })) })) };
}

const signed = (v: number): string => `${v >= 0 ? '+' : ''}${fmt(v)}`;

function MethodRow(props: { method: ChannelsResult<Tensor>['methods'][number]; input: InputView | null; stale: boolean; onExplain: (channel: number) => void }): ReactNode {
  const m = props.method;
  const maps = useMemo(() => m.top.map((c) => c.map), [m]);
  const activation = m.maps === 'activation';
  // one scale per method, as the CLI's figure has one per row: the tiles of a row compare
  const mapping = useMemo<Mapping>(() => {
    const top = Math.max(...maps.map((t) => maxAbs(t.data)), 1e-12);
    return activation ? { lo: 0, hi: top } : { lo: -top, hi: top, mid: 0 };
  }, [maps, activation]);
  const cmap: ColormapName = activation ? 'turbo' : 'rdbu';
  const k = m.completeness;
  return (
    <section className="channels-method" data-testid={`channels-${m.method}`}>
      <header className="channels-method-head">
        <b>{LABEL[m.method] ?? m.method}</b>
        {k && <span className="muted small">{`channels sum to ${fmt(k.sum)} · score change ${fmt(k.scoreDifference)}`}</span>}
        <span className="channels-colorbar">
          <Colorbar cmap={cmap} lo={mapping.lo} hi={mapping.hi} {...(mapping.mid !== undefined ? { mid: mapping.mid } : {})} caption={activation ? 'activation (ablation scores a channel as a whole)' : 'attribution at the layer'} />
        </span>
      </header>
      {m.notes.length > 0 && (
        <ul className="map-notes muted small">
          {m.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <ol className="channels-grid" data-testid={`channels-list-${m.method}`}>
        {m.top.map((c, i) => (
          <ChannelCard key={c.channel} rank={i + 1} entry={c} t={c.map} input={props.input} mapping={mapping} cmap={cmap} method={m.method} stale={props.stale} onExplain={props.onExplain} />
        ))}
      </ol>
    </section>
  );
}

const ChannelCard = memo(function ChannelCard(props: { rank: number; entry: ChannelEntry<Tensor>; t: Tensor | undefined; input: InputView | null; mapping: Mapping; cmap: ColormapName; method: string; stale: boolean; onExplain: (channel: number) => void }): ReactNode {
  const c = props.entry;
  return (
    <li className="map-card channel-card" data-testid={`channel-${props.method}-${props.rank}`} data-label={c.label}>
      <div className="channel-card-head">
        <span className="muted">#{props.rank}</span>
        {/* the layer is in the line above the rows; a long layer name cut the channel number off */}
        <b title={c.label} data-testid={`channel-number-${props.method}-${props.rank}`}>{`channel ${c.channel}`}</b>
      </div>
      <Thumb input={props.input} t={props.t} mapping={props.mapping} cmap={props.cmap} />
      <div className="channel-card-numbers small">
        <span title="the channel's contribution to the score">{signed(c.contribution)}</span>
        {c.share !== null && <span className="muted" title="its share of the channels' net total">{`${(100 * c.share).toFixed(1)}%`}</span>}
      </div>
      <button type="button" className="link-button small" disabled={props.stale} title={props.stale ? 'made with another model: rank again' : `explain ${c.label} as a hidden unit: which pixels drive it`} onClick={() => props.onExplain(c.channel)} data-testid={`channels-explain-${props.method}-${props.rank}`}>
        Explain this channel
      </button>
    </li>
  );
});

/**
 * The map's colours with their opacity growing with |value|: most of a channel's map is near
 * zero, and a uniform overlay of the diverging map's white hid the photo the map is about.
 */
function fadedMap(values: Float32Array, h: number, w: number, mapping: Mapping, cmap: ColormapName): ImageData {
  const img = mapToImageData(values, 0, h, w, mapping, cmap);
  const zero = mapping.mid ?? mapping.lo;
  const span = Math.max(Math.abs(mapping.hi - zero), Math.abs(mapping.lo - zero), 1e-12);
  for (let i = 0; i < h * w; i++) {
    const a = Math.min(1, Math.abs((values[i] ?? 0) - zero) / span);
    img.data[i * 4 + 3] = Math.round(255 * 0.9 * Math.sqrt(a));
  }
  return img;
}

function Thumb(props: { input: InputView | null; t: Tensor | undefined; mapping: Mapping; cmap: ColormapName }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const [mh, mw] = (props.t?.dims ?? [1, 1]) as [number, number];
  const { w, h } = fitSize(props.input ?? { width: mw, height: mh }, THUMB);
  const heat = useMemo(() => (props.t ? imageDataCanvas(fadedMap(props.t.data, mh, mw, props.mapping, props.cmap)) : null), [props.t, props.mapping, props.cmap, mh, mw]);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ctx = fitCanvas(canvas, w, h);
    if (props.input) {
      // a muted photo: the map's reds read against an orange cat
      ctx.filter = 'grayscale(0.85)';
      drawInput(ctx, props.input, w, h);
      ctx.filter = 'none';
    } else ctx.clearRect(0, 0, w, h);
    if (heat) {
      // a layer's map is coarse (13x13 on SqueezeNet's fire5): smoothed, as CAMs are drawn
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(heat, 0, 0, w, h);
    }
  }, [props.input, heat, w, h]);
  return <canvas ref={ref} className="overlay-canvas" style={{ width: w, height: h }} />;
}
