import { useEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { ApiError, followJob, jobId, request as apiRequest, type ImageEntry, type Model, type Prediction, type Summary } from '../api';
import { inputKind } from '../input-kind';
import { outputNouns } from '../output-words';
import { JobProgress, type JobProgressState } from './JobProgress';
import { useOneAtATime } from '../one-at-a-time';
import { BrowserStyle } from './BrowserStyle';
import { ClassPicker, ClassSelection, findLayer, LayerListPicker, LayerPicker, layerLabelOf } from './Pickers';
import { ErrorBox, NumberField, Panel, Segmented, Spinner, type ShownError } from './ui';
import type { SynthEstimate } from '../../../src/interfaces/server/synth-estimate.js';
import { abbreviateName } from '../../../src/util/names.js';

/** An objective built from parts (the pickers), or typed. */
export type ObjectiveSpec =
  | { kind: 'class'; classes: string }
  | { kind: 'channel' | 'neuron'; layer: string; channel: number }
  | { kind: 'layer'; layer: string }
  | { kind: 'custom'; text: string };

/** A request from elsewhere on the page (a unit of Inside the network) to visualize something. */
export interface SynthRequest {
  modelId: string;
  objective: { kind: 'channel'; layer: string; channel: number };
  seq: number;
}

/** The objective string the API takes (and the CLI's --objective), and the class selection that goes with class:*. */
export function objectiveOf(o: ObjectiveSpec): { objective: string; classes?: string } {
  switch (o.kind) {
    case 'class':
      return { objective: 'class:*', ...(o.classes.trim() ? { classes: o.classes.trim() } : {}) };
    case 'channel':
    case 'neuron':
      return { objective: `${o.kind}:${o.layer}:${o.channel}` };
    case 'layer':
      return { objective: `layer:${o.layer}` };
    case 'custom':
      return { objective: o.text };
  }
}

/** The work a request asks for, as POST /api/synthesize/:kind/estimate answers. */
type Estimate = SynthEstimate;

/** Runs above this many image-steps (or minutes) ask before they start. */
const BIG_IMAGE_STEPS = 20_000;
const BIG_SECONDS = 300;

const fmtSeconds = (s: number): string => (s < 90 ? `${Math.max(1, Math.round(s))} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

function describeEstimate(e: Estimate): string {
  const work = `${e.images.toLocaleString('en-US')} image${e.images === 1 ? '' : 's'} × ${e.steps.toLocaleString('en-US')} steps`;
  const batches = e.batches > 1 && e.batchSize > 1 ? ` in ${e.batches} batches of up to ${e.batchSize}` : '';
  const flops = e.gflop !== undefined ? ` · ${e.gflop >= 1000 ? `${(e.gflop / 1000).toFixed(1)} TFLOP` : `${e.gflop.toFixed(e.gflop < 10 ? 1 : 0)} GFLOP`}` : '';
  const time = e.seconds !== undefined ? ` · about ${fmtSeconds(e.seconds)}${e.speed && e.speed.from !== 'this model' ? ` (speed measured on ${e.speed.from})` : ''}` : ' · time: known after a first run on this studio';
  return `${work}${batches}${flops}${time}`;
}

// "Make images": every synthesis family of POST /api/synthesize/:kind (docs/api.md) as a job
// with progress and a cancel button; results arrive as PNGs (and a GIF of the optimization).

type Kind = 'featviz' | 'adversarial' | 'invert' | 'dream' | 'style' | 'fast-style' | 'style-train';

const KINDS: { value: Kind; label: string; title: string }[] = [
  { value: 'featviz', label: 'Feature visualization', title: 'gradient ascent on a class, channel or layer (Lucid-style)' },
  { value: 'adversarial', label: 'Adversarial', title: 'FGSM / PGD: an imperceptible change that flips the prediction' },
  { value: 'invert', label: 'Inversion', title: 'reconstruct the image from each layer\'s features' },
  { value: 'dream', label: 'DeepDream', title: 'amplify what a layer sees, over octaves' },
  { value: 'style', label: 'Style / texture', title: 'Gram matching by optimization (Gatys et al.)' },
  { value: 'fast-style', label: 'Fast style', title: 'one forward pass of a trained style network' },
  { value: 'style-train', label: 'Train style net', title: 'train a small conditional style network' },
];

interface SynthImage {
  label: string;
  caption?: string;
  png: string;
}

interface SynthResult {
  kind: Kind;
  images: SynthImage[];
  frames: { step: number; label?: string; png: string }[];
  gif?: string;
  summary: Record<string, unknown>;
}

interface StyleNet {
  id: string;
  name: string;
  styles: string[];
}

async function post(kind: Kind, body: unknown): Promise<string> {
  const res = await fetch(`/api/synthesize/${kind}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const json = (await res.json().catch(() => ({}))) as { job?: string | { id: string }; error?: { code: string; message: string; hint?: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'HTTP_ERROR', json.error?.message ?? `${res.status} ${res.statusText}`, json.error?.hint);
  return jobId(json as { job: string });
}

async function listNets(): Promise<StyleNet[]> {
  const res = await fetch('/api/style-nets');
  if (!res.ok) return [];
  return ((await res.json()) as { nets: StyleNet[] }).nets;
}

const FAST_STYLE_MAX_SIDE = 384;

const row: CSSProperties = { display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'flex-end' };


function Text(props: { label: string; value: string; onChange: (v: string) => void; testId?: string; title?: string; width?: number }): ReactNode {
  return (
    <label className="field inline" title={props.title}>
      <span>{props.label}</span>
      <input type="text" value={props.value} data-testid={props.testId} style={{ width: props.width ?? 180 }} onChange={(e) => props.onChange(e.target.value)} />
    </label>
  );
}

function ImagePick(props: { label: string; images: ImageEntry[]; value: string; onChange: (v: string) => void; testId?: string; allowNone?: boolean }): ReactNode {
  return (
    <label className="field inline">
      <span>{props.label}</span>
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)} data-testid={props.testId}>
        {props.allowNone && <option value="">none</option>}
        {props.images.map((i) => (
          <option key={i.id} value={i.id}>
            {i.group}/{abbreviateName(i.name)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function SynthPanel(props: { model: Model | undefined; summary: Summary | null; images: ImageEntry[]; imageId: string | null; prediction?: Prediction | null; request?: SynthRequest | null; onRunning?: (running: boolean) => void }): ReactNode {
  const { model, images, summary } = props;
  const gray = model?.preprocessing?.channels === 'gray' || model?.input?.shape[1] === 1;
  const classCount = model?.labels?.length ?? 0;
  const [kind, setKind] = useState<Kind>('featviz');
  // feature visualization
  const [obj, setObj] = useState<ObjectiveSpec>({ kind: 'class', classes: '' });
  const [param, setParam] = useState<'fourier' | 'pixel' | 'pixel-clip'>(gray ? 'pixel-clip' : 'fourier');
  const [steps, setSteps] = useState(128);
  const [tv, setTv] = useState(gray ? 2 : 0);
  // adversarial
  const [method, setMethod] = useState<'pgd' | 'fgsm'>('pgd');
  const [norm, setNorm] = useState<'linf' | 'l2'>('linf');
  const [epsilon, setEpsilon] = useState(8);
  const [target, setTarget] = useState('');
  // inversion / dream
  const [layers, setLayers] = useState<string[]>([]);
  const [invertSteps, setInvertSteps] = useState(100);
  const [layer, setLayer] = useState('');
  const [octaves, setOctaves] = useState(4);
  // style
  const photos = useMemo(() => images.filter((i) => i.group === 'photos' || i.group === 'uploads'), [images]);
  const textures = useMemo(() => images.filter((i) => i.group !== 'fashion-mnist'), [images]);
  const [content, setContent] = useState('');
  const [style, setStyle] = useState('');
  const [style2, setStyle2] = useState('');
  const [blend, setBlend] = useState(0.5);
  const [keepColors, setKeepColors] = useState(false);
  const [backbone, setBackbone] = useState<'auto' | 'texture'>('auto');
  const [nets, setNets] = useState<StyleNet[]>([]);
  const [net, setNet] = useState('');
  const [inBrowser, setInBrowser] = useState(false);

  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<JobProgressState | null>(null);
  // the image as it is optimized: the latest frame the job sent (feature visualization, inversion, DeepDream and style transfer send them)
  const [preview, setPreview] = useState<Preview | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [jobIdState, setJobIdState] = useState<string | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [result, setResult] = useState<{ result: SynthResult; made: Made } | null>(null);
  const [estimate, setEstimate] = useState<{ key: string; estimate?: Estimate; error?: ShownError } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const stopRef = useRef<(() => void) | null>(null);

  useEffect(() => () => stopRef.current?.(), []);
  useEffect(() => {
    setParam(gray ? 'pixel-clip' : 'fourier');
    setTv(gray ? 2 : 0);
  }, [gray]);

  // Defaults from the model's profile, whenever the model (or its summary) changes: the layers to
  // invert, the dream layer, and an objective that stays small on a 1000-class model.
  const profile = model?.profile;
  const top1 = props.prediction?.top[0]?.index;
  // Until the objective is edited, a 1000-class model visualizes the predicted class of the chosen image.
  const objEdited = useRef(false);
  const editObj = (o: ObjectiveSpec): void => {
    objEdited.current = true;
    setObj(o);
  };
  const defaultObjective = (): ObjectiveSpec => ({ kind: 'class', classes: classCount <= 16 ? '' : String(top1 ?? 0) });
  useEffect(() => {
    if (!model || !summary) return;
    setLayers((profile?.inversionLayers ?? []).map((l) => layerLabelOf(summary, l)));
    setLayer(layerLabelOf(summary, profile?.dreamLayer));
    objEdited.current = false;
    setObj(defaultObjective());
    setTarget('');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model?.id, summary]);
  useEffect(() => {
    if (!objEdited.current && top1 !== undefined) setObj(defaultObjective());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [top1]);

  // "Visualize this channel" from Inside the network.
  useEffect(() => {
    const r = props.request;
    if (!r || !model || r.modelId !== model.id) return;
    setKind('featviz');
    editObj({ kind: 'channel', layer: r.objective.layer, channel: r.objective.channel });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.request?.seq, model?.id]);

  useEffect(() => {
    if (!content && photos[0]) setContent(photos.find((p) => p.name === 'chelsea')?.id ?? photos[0].id);
    if (!style && textures.length) setStyle(textures.find((t) => t.name === 'gravel')?.id ?? textures[0]!.id);
  }, [photos, textures, content, style]);
  useEffect(() => {
    if (kind !== 'fast-style' && kind !== 'style-train') return;
    void listNets().then((n) => {
      setNets(n);
      setNet((cur) => cur || n[0]?.id || '');
    });
  }, [kind, result]);
  const onRunning = props.onRunning;
  useEffect(() => onRunning?.(running), [running, onRunning]);

  const chosenNet = nets.find((n) => n.id === net);
  const styleCount = chosenNet?.styles.length ?? 1;
  const styleWeights = Array.from({ length: styleCount }, (_, k) => (styleCount === 1 ? 1 : k === 0 ? 1 - blend : k === 1 ? blend : 0));
  const browserStyle = kind === 'fast-style' && inBrowser;
  const { objective, classes } = objectiveOf(obj);
  // what the page shows: one picked class reads as class:823, not as class:* beside "Classes 823"
  const shownObjective = objective === 'class:*' && classes && /^\d+$/.test(classes) ? `class:${classes}` : objective;
  const imageName = (id: string | null | undefined): string | undefined => (id ? (images.find((i) => i.id === id)?.name ?? id.replace(/^.*\//, '')) : undefined);

  const body = (): Record<string, unknown> => {
    const m = model?.id ?? 'builtin';
    switch (kind) {
      case 'featviz':
        return { model: m, params: { objective, ...(classes ? { classes } : {}), param, steps, tv, ...(param === 'pixel-clip' ? { start: 'zero', background: gray ? 0 : 0.5, blurEvery: 8, blurSigma: 0.6 } : {}), frames: 6 } };
      case 'adversarial':
        return { model: m, image: props.imageId, params: { method, norm, epsilon: norm === 'linf' ? epsilon / 255 : epsilon, steps: 40, ...(target !== '' ? { target: /^\d+$/.test(target) ? Number(target) : target } : {}) } };
      case 'invert':
        return { model: m, image: props.imageId, params: { ...(layers.length ? { layers } : {}), steps: invertSteps } };
      case 'dream':
        return { model: m, image: content, params: { ...(layer ? { layer } : {}), octaves, steps: 10, maxSide: 256 } };
      case 'style':
        return { model: m, ...(content ? { image: content } : {}), styles: [{ image: style, weight: style2 ? 1 - blend : 1 }, ...(style2 ? [{ image: style2, weight: blend }] : [])], params: { steps: Math.min(steps, 100), maxSide: 160, keepColors, ...(backbone === 'texture' ? { backbone } : {}) } };
      case 'fast-style':
        return { image: content, net, params: { weights: styleWeights, maxSide: FAST_STYLE_MAX_SIDE } };
      case 'style-train':
        return { styles: [{ image: style }, ...(style2 ? [{ image: style2 }] : [])], images: photos.map((p) => p.id).slice(0, 4), params: { steps, size: 64 } };
    }
  };

  // The cost of the request as it stands, and any problem with it (an unknown layer or class),
  // before it runs: asked of the server a moment after the form stops changing.
  const estimable = kind === 'featviz' || kind === 'invert' || kind === 'dream' || kind === 'adversarial';
  // These kinds feed the model images or make images for it, which a 4-channel model cannot take
  // (the server refuses them); style kinds run on a feature network of their own.
  const noImages = estimable && model ? inputKind(model).noImages : undefined;
  const bodyKey = model && estimable && !noImages && !running ? `${kind}|${JSON.stringify(body())}` : '';
  useEffect(() => {
    if (!bodyKey) return;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      apiRequest<Estimate>('POST', `/api/synthesize/${kind}/estimate`, body(), ctl.signal).then(
        (e) => setEstimate({ key: bodyKey, estimate: e }),
        (e: unknown) => {
          if (!ctl.signal.aborted) setEstimate({ key: bodyKey, error: e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)) });
        },
      );
    }, 350);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [bodyKey]);
  const shownEstimate = estimate && estimate.key === bodyKey ? estimate : null;
  const big = !!shownEstimate?.estimate && (shownEstimate.estimate.imageSteps > BIG_IMAGE_STEPS || (shownEstimate.estimate.seconds ?? 0) > BIG_SECONDS);

  const needsImage = kind === 'adversarial' || kind === 'invert';
  // an attack raises a softmax's cross-entropy: say so before a run the server would refuse (synthesize/adversarial.ts)
  const attackRefusal =
    kind === 'adversarial' && model?.outputKind !== undefined && model.outputKind !== 'single-label'
      ? `${model.shortName ?? model.name} is ${model.outputKind === 'regression' ? 'a regression (its outputs are values)' : 'a multi-label head (independent yes/no outputs)'}: an attack raises a single-label classifier's cross-entropy over the softmax of its outputs, which this model does not compute. If its outputs are the logits of one softmax, set its Outputs to single-label under "Describe this model".`
      : null;
  const canRun = !running && !noImages && !attackRefusal && (!needsImage || !!props.imageId) && (kind !== 'fast-style' || !!net);

  const oneAtATime = useOneAtATime();
  const run = (): Promise<void> => oneAtATime(start).then(() => undefined);

  const start = async (): Promise<void> => {
    setError(null);
    setNotice(null);
    setConfirming(false);
    const made: Made = { model: kind === 'fast-style' || kind === 'style-train' ? undefined : model?.name, image: imageName(kind === 'adversarial' || kind === 'invert' ? props.imageId : kind === 'dream' || kind === 'style' || kind === 'fast-style' ? content : undefined), objective: kind === 'featviz' ? shownObjective + (classes && shownObjective === objective ? ` (classes ${classes})` : '') : undefined };
    let id: string;
    try {
      id = await post(kind, body());
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
      return;
    }
    setJobIdState(id);
    setRunning(true);
    setProgress({ done: 0, total: 0, phase: 'starting' });
    setPreview(null);
    setCancelling(false);
    stopRef.current?.();
    stopRef.current = followJob(id, (ev) => {
      if (ev.type === 'progress') {
        const p = ev.progress as typeof ev.progress & { preview?: Preview };
        setProgress({ done: p.done, total: p.total, phase: p.phase, within: p.within, remainingSeconds: ev.remainingSeconds });
        if (p.preview) setPreview(p.preview);
        return;
      }
      setRunning(false);
      setProgress(null);
      setCancelling(false);
      if (ev.type === 'result') setResult({ result: ev.result as SynthResult, made });
      else if (ev.type === 'error') setError(ev.error);
      else setNotice('Cancelled: the job stopped between steps.');
    });
  };

  const cancel = (): void => {
    if (!jobIdState) return;
    setCancelling(true);
    // a refused or failed request leaves the job running: the button can be pressed again
    fetch(`/api/jobs/${encodeURIComponent(jobIdState)}`, { method: 'DELETE' }).then(
      (r) => {
        if (!r.ok) setCancelling(false);
      },
      () => setCancelling(false),
    );
  };

  if (!model) return <Panel title="Make images">Choose a model that the engine can run.</Panel>;
  const objLayer = obj.kind === 'channel' || obj.kind === 'neuron' || obj.kind === 'layer' ? obj.layer : layerLabelOf(summary, profile?.dreamLayer);
  const objChannels = findLayer(summary, objLayer)?.shape[1];
  const objChannel = obj.kind === 'channel' || obj.kind === 'neuron' ? obj.channel : 0;

  return (
    <div className="stack">
      <Panel title="Make images" subtitle={`Synthesis by gradient ascent with ${model.shortName ?? model.name}: what a unit wants to see, how to fool the model, what a layer keeps, dreams and styles.`} testId="synth-form">
        <Segmented label="Method" value={kind} onChange={(k) => setKind(k)} options={KINDS} testId="synth-kind" />
        {kind === 'featviz' && (
          <div style={{ ...row, marginTop: 12 }}>
            <Segmented
              label="Objective"
              value={obj.kind}
              testId="synth-objective-kind"
              onChange={(k) =>
                editObj(
                  k === 'class'
                    ? { kind: 'class', classes: classCount <= 16 ? '' : String(top1 ?? 0) }
                    : k === 'custom'
                      ? { kind: 'custom', text: objective }
                      : k === 'layer'
                        ? { kind: 'layer', layer: objLayer }
                        : { kind: k, layer: objLayer, channel: objChannel },
                )
              }
              options={[
                model.outputKind === 'regression' ? { value: 'class', label: 'outputs', title: 'one image per output, each maximizing its value' } : { value: 'class', label: 'classes', title: 'one image per class, each maximizing its logit' },
                { value: 'channel', label: 'channel', title: 'the mean of one channel of a layer' },
                { value: 'neuron', label: 'neuron', title: 'the centre unit of one channel' },
                { value: 'layer', label: 'layer', title: 'the whole layer (DeepDream\'s L2)' },
                { value: 'custom', label: 'typed', title: 'an objective as the CLI takes it: sums, weights, prob:, diversity:' },
              ]}
            />
          </div>
        )}
        <div style={{ ...row, marginTop: 12 }}>
          {kind === 'featviz' && (
            <>
              {obj.kind === 'class' && <ClassSelection labels={model.labels} nouns={outputNouns(model.outputKind)} value={obj.classes} onChange={(v) => editObj({ kind: 'class', classes: v })} testId="synth-classes" />}
              {(obj.kind === 'channel' || obj.kind === 'neuron' || obj.kind === 'layer') && (
                <LayerPicker label="Layer" model={model} summary={summary} value={obj.layer} onChange={(v) => editObj({ ...obj, layer: v })} testId="synth-objective-layer" />
              )}
              {(obj.kind === 'channel' || obj.kind === 'neuron') && (
                <NumberField width={84} label={`Channel${typeof objChannels === 'number' ? ` (0–${objChannels - 1})` : ''}`} value={obj.channel} min={0} max={typeof objChannels === 'number' ? objChannels - 1 : 65535} onChange={(v) => editObj({ ...obj, channel: v })} testId="synth-objective-channel" />
              )}
              <Text
                label={obj.kind === 'custom' ? 'Objective' : 'objective'}
                value={shownObjective}
                onChange={(v) => editObj({ kind: 'custom', text: v })}
                testId="synth-objective"
                title="class:* (one image per class), class:Bag, channel:<layer>:5, neuron:<layer>:3, layer:<layer>, sums like 0.5*channel:<layer>:5 + layer:<layer>; editing it makes it a typed objective"
                width={obj.kind === 'custom' ? 300 : 230}
              />
            </>
          )}
        </div>
        <div style={{ ...row, marginTop: 12 }}>
          {kind === 'featviz' && (
            <>
              <label className="field inline">
                <span>Parameterization</span>
                <select value={param} onChange={(e) => setParam(e.target.value as typeof param)} data-testid="synth-param">
                  <option value="fourier">Fourier, decorrelated (Lucid)</option>
                  <option value="pixel">pixels (sigmoid)</option>
                  <option value="pixel-clip">pixels, clipped, blurred (small gray models)</option>
                </select>
              </label>
              <NumberField width={84} label="Steps" value={steps} onChange={setSteps} min={1} max={4096} testId="synth-steps" />
              <NumberField width={84} label="TV weight" value={tv} onChange={setTv} min={0} step={0.5} />
            </>
          )}
          {kind === 'adversarial' && (
            <>
              <Segmented label="Attack" value={method} onChange={setMethod} options={[{ value: 'pgd', label: 'PGD' }, { value: 'fgsm', label: 'FGSM' }]} />
              <Segmented label="Budget" value={norm} onChange={setNorm} options={[{ value: 'linf', label: 'L∞' }, { value: 'l2', label: 'L2' }]} />
              <NumberField width={84} label={norm === 'linf' ? 'ε (/255)' : 'ε (L2)'} value={epsilon} onChange={setEpsilon} min={0} step={norm === 'linf' ? 1 : 0.1} testId="synth-epsilon" />
              <ClassPicker label="Target" labels={model.labels} value={target} onChange={setTarget} emptyLabel="untargeted" testId="synth-target" />
              <span className="muted small">on the image chosen in the gallery</span>
            </>
          )}
          {kind === 'invert' && (
            <>
              <LayerListPicker label="Layers" model={model} summary={summary} value={layers} onChange={setLayers} onReset={() => setLayers((profile?.inversionLayers ?? []).map((l) => layerLabelOf(summary, l)))} testId="synth-layers" />
              <NumberField width={84} label="Steps" value={invertSteps} onChange={setInvertSteps} min={1} max={4000} testId="synth-invert-steps" />
              <span className="muted small">reconstructs the image chosen in the gallery from each layer</span>
            </>
          )}
          {kind === 'dream' && (
            <>
              <ImagePick label="Photo" images={photos} value={content} onChange={setContent} testId="synth-content" />
              <LayerPicker label="Layer" model={model} summary={summary} value={layer} onChange={setLayer} testId="synth-layer" />
              <NumberField width={84} label="Octaves" value={octaves} onChange={setOctaves} min={1} max={8} />
            </>
          )}
          {(kind === 'style' || kind === 'style-train' || kind === 'fast-style') && (
            <>
              {kind !== 'style-train' && <ImagePick label={kind === 'style' ? 'Content (none: texture)' : 'Content'} images={photos} value={content} onChange={setContent} allowNone={kind === 'style'} testId="synth-content" />}
              {kind !== 'fast-style' && <ImagePick label="Style" images={textures} value={style} onChange={setStyle} testId="synth-style" />}
              {kind !== 'fast-style' && <ImagePick label="Second style" images={textures} value={style2} onChange={setStyle2} allowNone testId="synth-style2" />}
              {kind === 'style' && (
                <Segmented
                  label="Feature network"
                  value={backbone}
                  onChange={setBackbone}
                  testId="synth-backbone"
                  options={[
                    { value: 'auto', label: gray ? 'SqueezeNet' : model.name, title: gray ? `${model.name} takes gray images: the built-in SqueezeNet serves instead` : 'the chosen model\'s features (Gatys et al. used VGG)' },
                    { value: 'texture', label: 'random texture net', title: 'a small random network: textures without a trained model' },
                  ]}
                />
              )}
              {kind === 'fast-style' && (
                <label className="field inline">
                  <span>Network</span>
                  <select value={net} onChange={(e) => setNet(e.target.value)} data-testid="synth-net">
                    {nets.length === 0 && <option value="">none yet: train one</option>}
                    {nets.map((n) => (
                      <option key={n.id} value={n.id}>
                        {n.name} ({n.styles.join(', ')})
                      </option>
                    ))}
                  </select>
                </label>
              )}
              {((kind === 'style' && style2) || (kind === 'fast-style' && (chosenNet?.styles.length ?? 0) > 1)) && (
                <label className="field inline slider">
                  <span>Blend {kind === 'fast-style' ? `${chosenNet?.styles[0]} → ${chosenNet?.styles[1]}` : ''}</span>
                  <input type="range" min={0} max={1} step={0.05} value={blend} onChange={(e) => setBlend(Number(e.target.value))} data-testid="synth-blend" />
                  <span className="muted">{Math.round(blend * 100)}%</span>
                </label>
              )}
              {kind === 'fast-style' && (
                <label className="check" title="run the network in this page on onnxruntime-web; the blend slider restyles live">
                  <input type="checkbox" checked={inBrowser} onChange={(e) => setInBrowser(e.target.checked)} data-testid="synth-in-browser" />
                  in this browser
                </label>
              )}
              {kind === 'style' && (
                <label className="check">
                  <input type="checkbox" checked={keepColors} onChange={(e) => setKeepColors(e.target.checked)} />
                  keep the content&apos;s colours
                </label>
              )}
              {kind === 'style-train' && <NumberField width={84} label="Steps" value={steps} onChange={setSteps} min={1} max={20000} />}
            </>
          )}
        </div>
        {attackRefusal && (
          <p className="warning" data-testid="synth-attack-refused">
            {attackRefusal}
          </p>
        )}
        {noImages && (
          <p className="warning" data-testid="synth-no-images">
            {noImages}: it can make no image here. Style / texture runs on another network.
          </p>
        )}
        {estimable && !noImages && !attackRefusal && !running && (
          <div className="estimate small" data-testid="synth-estimate">
            {shownEstimate?.estimate ? (
              <span className={big ? 'estimate-big' : 'muted'}>{describeEstimate(shownEstimate.estimate)}</span>
            ) : shownEstimate?.error ? (
              <span className="estimate-error" data-testid="synth-estimate-error">
                {shownEstimate.error.message}
                {shownEstimate.error.hint ? <span className="muted"> {shownEstimate.error.hint}</span> : null}
              </span>
            ) : (
              <span className="muted">estimating…</span>
            )}
          </div>
        )}
        <div className="run-row" style={{ marginTop: 12, ...(browserStyle ? { display: 'none' } : {}) }}>
          <button type="button" className="button primary" disabled={!canRun} onClick={() => (big ? setConfirming(true) : void run())} data-testid="synth-run">
            Run
          </button>
          {confirming && !running && shownEstimate?.estimate && (
            <div className="confirm" data-testid="synth-confirm">
              <span>
                A large run: {describeEstimate(shownEstimate.estimate)}. It can be cancelled at any time.
              </span>
              <button type="button" className="button small primary" onClick={() => void run()} data-testid="synth-confirm-run">
                Run anyway
              </button>
              <button type="button" className="button small" onClick={() => setConfirming(false)}>
                Not now
              </button>
            </div>
          )}
          {running && (
            <>
              <JobProgress job={progress} onCancel={cancel} cancelling={cancelling} testIds={{ bar: 'synth-progress', text: 'synth-phase', cancel: 'synth-cancel' }} />
            </>
          )}
          {!running && notice && (
            <span className="notice" data-testid="synth-notice">
              {notice}
            </span>
          )}
        </div>
        <ErrorBox error={error} title="The job failed" onClose={() => setError(null)} testId="synth-error" />
      </Panel>
      {running && (!result || preview) && (
        <Panel title={preview ? 'Optimizing, live' : 'Result'} testId="synth-live">
          {preview ? (
            <figure style={{ margin: 0 }} data-testid="synth-preview">
              <img src={`data:image/png;base64,${preview.png}`} alt={`${preview.label ?? 'the image'} at step ${preview.step}`} style={{ imageRendering: 'pixelated', width: 160, display: 'block' }} />
              <figcaption className="small">
                {preview.label && (
                  <b style={{ display: 'block' }} data-testid="synth-preview-label">
                    {preview.label}
                  </b>
                )}
                <span className="muted" data-testid="synth-preview-step">
                  step {preview.step}
                  {progress?.total ? ` of ${progress.total}` : ''} · the rest of the studio stays usable meanwhile
                </span>
              </figcaption>
            </figure>
          ) : (
            <Spinner label="Optimizing… the rest of the studio stays usable meanwhile." />
          )}
        </Panel>
      )}
      {browserStyle && net && content && <BrowserStyle net={net} image={content} weights={styleWeights} maxSide={FAST_STYLE_MAX_SIDE} />}
      {result && !browserStyle && <SynthResultView result={result.result} made={result.made} />}
    </div>
  );
}

/** The image as the job sends it while it optimizes (progress.preview); `label` says what it shows where the form does not (a class of class:*, a perturbation). */
interface Preview {
  step: number;
  png: string;
  label?: string;
}

/** What a result was made from, as it was when the run started (the page may have moved on). */
interface Made {
  model?: string | undefined;
  image?: string | undefined;
  objective?: string | undefined;
}

function SynthResultView(props: { result: SynthResult; made: Made }): ReactNode {
  const r = props.result;
  const grid: CSSProperties = { display: 'flex', flexWrap: 'wrap', gap: 12 };
  const network = r.kind === 'style' && typeof r.summary['model'] === 'string' ? (r.summary['model'] === 'texture' ? 'the random texture network' : String(r.summary['model'])) : undefined;
  const byModel = typeof r.summary['model'] === 'string' && r.kind !== 'style' ? String(r.summary['model']) : props.made.model;
  const made = [
    byModel && r.kind !== 'style' ? `model ${byModel}` : undefined,
    network ? `feature network ${network}` : undefined,
    props.made.image ? `image ${abbreviateName(props.made.image)}` : undefined,
    props.made.objective ? `objective ${props.made.objective}` : undefined,
    r.kind === 'style-train' && typeof r.summary['netName'] === 'string' ? `network "${r.summary['netName']}" (now in Fast style's list)` : undefined,
    typeof r.summary['seconds'] === 'number' ? `${fmtSeconds(r.summary['seconds'])}` : undefined,
  ].filter(Boolean);
  return (
    <Panel title={KINDS.find((k) => k.value === r.kind)?.label ?? r.kind} subtitle={<span data-testid="synth-made">{made.join(' · ')}</span>} testId="synth-result">
      {Array.isArray(r.summary['notes']) &&
        (r.summary['notes'] as unknown[]).map((note, i) => (
          <p key={i} className="notice-block" data-testid="synth-note">
            {String(note)}
          </p>
        ))}
      <div style={grid} data-testid="synth-images">
        {r.images.map((img, i) => (
          <figure key={i} style={{ margin: 0, textAlign: 'center' }} data-testid={`synth-image-${i}`}>
            <img src={`data:image/png;base64,${img.png}`} alt={img.label} style={{ imageRendering: 'pixelated', maxWidth: 320, display: 'block' }} />
            <figcaption className="small">
              <b>{img.label}</b>
              {img.caption && <div className="muted">{img.caption}</div>}
            </figcaption>
          </figure>
        ))}
      </div>
      {r.frames.length > 0 && (
        <>
          <h3 className="small" style={{ margin: '16px 0 6px' }}>
            Steps
          </h3>
          <div style={grid} data-testid="synth-frames">
            {r.frames.map((f, i) => (
              <figure key={i} style={{ margin: 0, textAlign: 'center' }}>
                <img src={`data:image/png;base64,${f.png}`} alt={`step ${f.step}`} style={{ imageRendering: 'pixelated', width: 96, display: 'block' }} />
                <figcaption className="small muted">{f.label ?? `step ${f.step}`}</figcaption>
              </figure>
            ))}
          </div>
        </>
      )}
      {r.gif && (
        <>
          <h3 className="small" style={{ margin: '16px 0 6px' }}>
            The optimization
          </h3>
          <img src={`data:image/gif;base64,${r.gif}`} alt="the optimization as an animation" data-testid="synth-gif" style={{ imageRendering: 'pixelated' }} />
        </>
      )}
    </Panel>
  );
}
