import { useEffect, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { ApiError, followJob, jobId, type ImageEntry, type Model } from '../api';
import { BrowserStyle } from './BrowserStyle';
import { ErrorBox, NumberField, Panel, Segmented, Spinner, type ShownError } from './ui';

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
            {i.group}/{i.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function SynthPanel(props: { model: Model | undefined; images: ImageEntry[]; imageId: string | null; onRunning?: (running: boolean) => void }): ReactNode {
  const { model, images } = props;
  const gray = model?.preprocessing?.channels === 'gray' || model?.input?.shape[1] === 1;
  const [kind, setKind] = useState<Kind>('featviz');
  // feature visualization
  const [objective, setObjective] = useState('class:*');
  const [param, setParam] = useState<'fourier' | 'pixel' | 'pixel-clip'>(gray ? 'pixel-clip' : 'fourier');
  const [steps, setSteps] = useState(128);
  const [tv, setTv] = useState(gray ? 2 : 0);
  // adversarial
  const [method, setMethod] = useState<'pgd' | 'fgsm'>('pgd');
  const [norm, setNorm] = useState<'linf' | 'l2'>('linf');
  const [epsilon, setEpsilon] = useState(8);
  const [target, setTarget] = useState('');
  // inversion / dream
  const [layers, setLayers] = useState('conv1,relu2,relu3,relu4');
  const [layer, setLayer] = useState('relu3');
  const [octaves, setOctaves] = useState(4);
  // style
  const photos = images.filter((i) => i.group === 'photos' || i.group === 'uploads');
  const textures = images.filter((i) => i.group !== 'fashion-mnist');
  const [content, setContent] = useState('');
  const [style, setStyle] = useState('');
  const [style2, setStyle2] = useState('');
  const [blend, setBlend] = useState(0.5);
  const [keepColors, setKeepColors] = useState(false);
  const [nets, setNets] = useState<StyleNet[]>([]);
  const [net, setNet] = useState('');
  const [inBrowser, setInBrowser] = useState(false);

  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<{ done: number; total: number; phase?: string | undefined } | null>(null);
  const [jobIdState, setJobIdState] = useState<string | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [result, setResult] = useState<SynthResult | null>(null);
  const stopRef = useRef<(() => void) | null>(null);

  useEffect(() => () => stopRef.current?.(), []);
  useEffect(() => {
    setParam(gray ? 'pixel-clip' : 'fourier');
    setTv(gray ? 2 : 0);
  }, [gray]);
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

  const body = (): unknown => {
    const m = model?.id ?? 'builtin';
    switch (kind) {
      case 'featviz':
        return { model: m, params: { objective, param, steps, tv, ...(param === 'pixel-clip' ? { start: 'zero', background: gray ? 0 : 0.5, blurEvery: 8, blurSigma: 0.6 } : {}), frames: 6 } };
      case 'adversarial':
        return { model: m, image: props.imageId, params: { method, norm, epsilon: norm === 'linf' ? epsilon / 255 : epsilon, steps: 40, ...(target !== '' ? { target } : {}) } };
      case 'invert':
        return { model: m, image: props.imageId, params: { layers, steps: Math.min(steps, 300) } };
      case 'dream':
        return { model: m, image: content, params: { layer, octaves, steps: 10, maxSide: 256 } };
      case 'style':
        return { ...(content ? { image: content } : {}), styles: [{ image: style, weight: style2 ? 1 - blend : 1 }, ...(style2 ? [{ image: style2, weight: blend }] : [])], params: { steps: Math.min(steps, 100), maxSide: 160, keepColors } };
      case 'fast-style':
        return { image: content, net, params: { weights: styleWeights, maxSide: FAST_STYLE_MAX_SIDE } };
      case 'style-train':
        return { styles: [{ image: style }, ...(style2 ? [{ image: style2 }] : [])], images: photos.map((p) => p.id).slice(0, 4), params: { steps, size: 64 } };
    }
  };

  const needsImage = kind === 'adversarial' || kind === 'invert';
  const canRun = !running && (!needsImage || !!props.imageId) && (kind !== 'fast-style' || !!net);

  const run = async (): Promise<void> => {
    setError(null);
    setNotice(null);
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
    stopRef.current?.();
    stopRef.current = followJob(id, (ev) => {
      if (ev.type === 'progress') {
        setProgress({ done: ev.progress.done, total: ev.progress.total, phase: ev.progress.phase });
        return;
      }
      setRunning(false);
      setProgress(null);
      if (ev.type === 'result') setResult(ev.result as SynthResult);
      else if (ev.type === 'error') setError(ev.error);
      else setNotice('Cancelled: the job stopped between steps.');
    });
  };

  const cancel = (): void => {
    if (!jobIdState) return;
    void fetch(`/api/jobs/${encodeURIComponent(jobIdState)}`, { method: 'DELETE' });
  };

  if (!model) return <Panel title="Make images">Choose a model that the engine can run.</Panel>;
  const pct = progress && progress.total ? Math.round((100 * progress.done) / progress.total) : 0;

  return (
    <div className="stack">
      <Panel title="Make images" subtitle="Synthesis by gradient ascent: what a unit wants to see, how to fool the model, what a layer keeps, dreams and styles." testId="synth-form">
        <Segmented label="Method" value={kind} onChange={(k) => setKind(k)} options={KINDS} testId="synth-kind" />
        <div style={{ ...row, marginTop: 12 }}>
          {kind === 'featviz' && (
            <>
              <Text label="Objective" value={objective} onChange={setObjective} testId="synth-objective" title="class:* (one image per class), class:Bag, channel:relu3:5, neuron:relu2:3, layer:relu3, sums like 0.5*channel:relu3:5 + layer:relu2" width={220} />
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
              <label className="field inline">
                <span>Target</span>
                <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="synth-target">
                  <option value="">untargeted</option>
                  {(model.labels ?? []).map((l, i) => (
                    <option key={i} value={String(i)}>
                      {l}
                    </option>
                  ))}
                </select>
              </label>
              <span className="muted small">on the image chosen in the gallery</span>
            </>
          )}
          {kind === 'invert' && (
            <>
              <Text label="Layers" value={layers} onChange={setLayers} testId="synth-layers" width={240} />
              <NumberField width={84} label="Steps" value={steps} onChange={setSteps} min={1} max={300} />
              <span className="muted small">reconstructs the image chosen in the gallery</span>
            </>
          )}
          {kind === 'dream' && (
            <>
              <ImagePick label="Photo" images={photos} value={content} onChange={setContent} testId="synth-content" />
              <Text label="Layer" value={layer} onChange={setLayer} width={100} testId="synth-layer" />
              <NumberField width={84} label="Octaves" value={octaves} onChange={setOctaves} min={1} max={8} />
            </>
          )}
          {(kind === 'style' || kind === 'style-train' || kind === 'fast-style') && (
            <>
              {kind !== 'style-train' && <ImagePick label={kind === 'style' ? 'Content (none: texture)' : 'Content'} images={photos} value={content} onChange={setContent} allowNone={kind === 'style'} testId="synth-content" />}
              {kind !== 'fast-style' && <ImagePick label="Style" images={textures} value={style} onChange={setStyle} testId="synth-style" />}
              {kind !== 'fast-style' && <ImagePick label="Second style" images={textures} value={style2} onChange={setStyle2} allowNone testId="synth-style2" />}
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
        <div className="run-row" style={{ marginTop: 12, ...(browserStyle ? { display: 'none' } : {}) }}>
          <button type="button" className="button primary" disabled={!canRun} onClick={() => void run()} data-testid="synth-run">
            Run
          </button>
          {running && (
            <>
              <div className="progress" data-testid="synth-progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
                <div className="progress-fill" style={{ width: `${progress?.total ? pct : 8}%` }} />
              </div>
              <span className="progress-text" data-testid="synth-phase">
                {progress?.phase ?? 'working'}
                {progress?.total ? ` · ${progress.done}/${progress.total}` : ''}
              </span>
              <button type="button" className="button danger" onClick={cancel} data-testid="synth-cancel">
                Cancel
              </button>
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
      {running && !result && (
        <Panel title="Result">
          <Spinner label="Optimizing… the rest of the studio stays usable meanwhile." />
        </Panel>
      )}
      {browserStyle && net && content && <BrowserStyle net={net} image={content} weights={styleWeights} maxSide={FAST_STYLE_MAX_SIDE} />}
      {result && !browserStyle && <SynthResultView result={result} />}
    </div>
  );
}

function SynthResultView(props: { result: SynthResult }): ReactNode {
  const r = props.result;
  const grid: CSSProperties = { display: 'flex', flexWrap: 'wrap', gap: 12 };
  return (
    <Panel title={KINDS.find((k) => k.value === r.kind)?.label ?? r.kind} testId="synth-result">
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
