import { useEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { ApiError, followJob, jobId, request, type Model } from '../api';
import { useOneAtATime } from '../one-at-a-time';
import { JobProgress } from './JobProgress';
import { ErrorBox, NumberField, Panel, Segmented, Spinner, type ShownError } from './ui';

// The diffusion panel: prompt, negative prompt, steps, guidance, seed, count; the denoising
// watched live (x_t and the predicted clean image of every image, from the job's progress
// events), then the samples, a step slider over the recorded frames and the GIF.
// Routes: docs/api.md, "Diffusion".

export interface DiffusionModelInfo {
  id: string;
  name: string;
  kind: string;
  labels: string[];
  imageSize: [number, number];
  channels: number;
  parameters: number;
  description?: string;
}

export interface DiffusionInfo {
  models: DiffusionModelInfo[];
  samplers: string[];
  defaults: { steps: number; guidanceScale: number; seed: number; count: number; sampler: string; eta: number; previewEvery: number };
}

export interface DiffusionRequest {
  model?: string;
  prompt: string;
  negativePrompt?: string;
  steps: number;
  guidanceScale: number;
  seed: number;
  count: number;
  sampler: 'ddim' | 'ddpm';
  eta?: number;
  previewEvery?: number;
}

export interface DiffusionFrame {
  step: number;
  steps: number;
  t: number;
  /** base64 PNGs, one per image */
  x: string[];
  x0: string[];
}

export interface DiffusionResult {
  prompt: string;
  condition: string;
  negativePrompt?: string;
  negativeCondition?: string;
  settings: { steps: number; guidanceScale: number; sampler: string; eta: number; seed: number; numImagesPerPrompt: number; rowsPerStep: number };
  timesteps: number[];
  seconds: number;
  images: string[];
  frames: DiffusionFrame[];
  gif: string;
}

export const diffusionApi = {
  info: () => request<DiffusionInfo>('GET', '/api/diffusion'),
  sample: (req: DiffusionRequest) => request<{ job: string | { id: string } }>('POST', '/api/diffusion/sample', req),
  cancel: (id: string) => request<{ cancelled: boolean }>('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
};

const png = (b64: string): string => `data:image/png;base64,${b64}`;
const tileStyle = (size: number): CSSProperties => ({ width: size, height: size, imageRendering: 'pixelated', display: 'block', background: '#000', borderRadius: 4 });

interface JobState {
  id: string;
  running: boolean;
  done: number;
  total: number;
  phase?: string | undefined;
  remainingSeconds?: number | undefined;
}


/** x_t above the predicted x_0, for every image of one frame. */
function FrameView(props: { frame: DiffusionFrame; size: number; testId?: string }): ReactNode {
  const { frame, size } = props;
  return (
    <div data-testid={props.testId}>
      <div className="muted small" style={{ marginBottom: 6 }} data-testid={props.testId ? `${props.testId}-label` : undefined}>
        step {frame.step + 1}/{frame.steps} · t = {frame.t}
      </div>
      <div style={{ display: 'grid', gridTemplateColumns: `max-content repeat(${frame.x.length}, ${size}px)`, gap: 6, alignItems: 'center', justifyContent: 'start' }}>
        <span className="muted small">x_t</span>
        {frame.x.map((b, i) => (
          <img key={`x${i}`} src={png(b)} alt={`x_t of image ${i + 1}`} style={tileStyle(size)} />
        ))}
        <span className="muted small">
          predicted
          <br />
          clean x₀
        </span>
        {frame.x0.map((b, i) => (
          <img key={`p${i}`} src={png(b)} alt={`predicted clean image ${i + 1}`} style={tileStyle(size)} />
        ))}
      </div>
    </div>
  );
}

export function DiffusionPanel(props: { active: boolean; model?: Model | undefined }): ReactNode {
  const [info, setInfo] = useState<DiffusionInfo | null>(null);
  const [infoError, setInfoError] = useState<ShownError | null>(null);
  const [prompt, setPrompt] = useState('ankle boot');
  const [negative, setNegative] = useState('');
  const [steps, setSteps] = useState(50);
  const [guidance, setGuidance] = useState(3);
  const [seed, setSeed] = useState(0);
  const [count, setCount] = useState(4);
  const [sampler, setSampler] = useState<'ddim' | 'ddpm'>('ddim');
  const [eta, setEta] = useState(0);
  const [job, setJob] = useState<JobState | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [live, setLive] = useState<DiffusionFrame | null>(null);
  const [result, setResult] = useState<DiffusionResult | null>(null);
  const [frameIndex, setFrameIndex] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const stopRef = useRef<(() => void) | null>(null);

  // Load the denoiser's description when the tab is first shown.
  useEffect(() => {
    if (!props.active || info || infoError) return;
    diffusionApi.info().then(setInfo, (e: unknown) => setInfoError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e))));
  }, [props.active, info, infoError]);
  useEffect(() => () => stopRef.current?.(), []);

  // Replay: step through the recorded frames.
  useEffect(() => {
    if (!playing || !result) return;
    const id = window.setInterval(() => setFrameIndex((i) => (i + 1 < result.frames.length ? i + 1 : (setPlaying(false), i))), 250);
    return () => window.clearInterval(id);
  }, [playing, result]);

  const model = info?.models[0];
  const labels = model?.labels ?? [];
  const running = !!job?.running;
  const size = count > 8 ? 56 : 84;

  const oneAtATime = useOneAtATime();
  const run = (): Promise<void> => oneAtATime(start).then(() => undefined);

  const start = async (): Promise<void> => {
    setError(null);
    setNotice(null);
    const req: DiffusionRequest = {
      ...(model ? { model: model.id } : {}),
      prompt,
      ...(negative.trim() !== '' ? { negativePrompt: negative } : {}),
      steps,
      guidanceScale: guidance,
      seed,
      count,
      sampler,
      ...(sampler === 'ddim' ? { eta } : {}),
      previewEvery: Math.max(1, Math.round(steps / 10)),
    };
    let id: string;
    try {
      id = jobId(await diffusionApi.sample(req));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
      return;
    }
    setJob({ id, running: true, done: 0, total: steps, phase: 'starting' });
    setCancelling(false);
    setLive(null);
    setPlaying(false);
    stopRef.current?.();
    stopRef.current = followJob(id, (ev) => {
      if (ev.type === 'progress') {
        const p = ev.progress as typeof ev.progress & { preview?: DiffusionFrame };
        setJob({ id, running: true, done: p.done, total: p.total, phase: p.phase, remainingSeconds: ev.remainingSeconds });
        if (p.preview) setLive(p.preview);
        return;
      }
      setJob((j) => (j ? { ...j, running: false } : null));
      setCancelling(false);
      if (ev.type === 'result') {
        const r = ev.result as DiffusionResult;
        setResult(r);
        setFrameIndex(Math.max(0, r.frames.length - 1));
      } else if (ev.type === 'error') setError(ev.error);
      else setNotice('Cancelled.');
    });
  };

  const cancel = (): void => {
    if (!job) return;
    setCancelling(true);
    diffusionApi.cancel(job.id).catch((e: unknown) => {
      setCancelling(false);
      setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
    });
  };

  const shownFrame = result ? result.frames[Math.min(frameIndex, result.frames.length - 1)] : undefined;
  const describe = useMemo(() => {
    if (!result) return '';
    const s = result.settings;
    return `${s.sampler}${s.sampler === 'ddim' ? ` η=${s.eta}` : ''} · ${s.steps} steps · guidance ${s.guidanceScale} · seed ${s.seed} · ${result.seconds.toFixed(2)} s`;
  }, [result]);

  return (
    <div className="stack">
      <Panel
        title="Generate images"
        subtitle={model ? `${model.name}: a class-conditional U-Net (${model.parameters.toLocaleString('en-US')} parameters) trained here on Fashion-MNIST; prompts are its class names` : 'Diffusion: start from noise, remove the predicted noise step by step.'}
        testId="diffusion-form"
      >
        <ErrorBox error={infoError} title="The denoiser is not available" testId="diffusion-info-error" />
        {props.model && props.model.sampleGroup !== 'fashion-mnist' && (
          <p className="notice-block" data-testid="diffusion-model-note">
            This tab does not use {props.model.name}: the studio&apos;s diffusion model is its own Fashion-MNIST denoiser, which draws 28×28 clothes from
            its ten class names. Diffusion needs a generative model trained for it; a classifier such as {props.model.name} cannot denoise.
          </p>
        )}
        <div className="explain-form">
          <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap', alignItems: 'flex-end' }}>
            <label className="field" style={{ minWidth: 260, flex: 1 }}>
              <span>Prompt</span>
              <input type="text" list="diffusion-classes" value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder='e.g. "ankle boot" ("" = unconditional)' data-testid="diffusion-prompt" />
            </label>
            <label className="field" style={{ minWidth: 260, flex: 1 }}>
              <span>
                Negative prompt <span className="muted">(replaces the unconditional branch)</span>
              </span>
              <input type="text" list="diffusion-classes" value={negative} onChange={(e) => setNegative(e.target.value)} placeholder="none" data-testid="diffusion-negative" />
            </label>
            <datalist id="diffusion-classes">
              {labels.map((l) => (
                <option key={l} value={l} />
              ))}
            </datalist>
          </div>
          {labels.length > 0 && (
            <div className="toolbar" style={{ flexWrap: 'wrap', gap: 6 }} data-testid="diffusion-classes">
              {labels.map((l) => (
                <button key={l} type="button" className={`button small${prompt === l ? ' primary' : ''}`} aria-pressed={prompt === l} onClick={() => setPrompt(l)} title={`prompt "${l}"`}>
                  {l}
                </button>
              ))}
            </div>
          )}
          <div style={{ display: 'flex', gap: 18, flexWrap: 'wrap', alignItems: 'center' }}>
            <NumberField width={72} label="steps" value={steps} min={1} max={1000} onChange={setSteps} testId="diffusion-steps" title="num_inference_steps" />
            <NumberField width={72} label="guidance" value={guidance} min={0} max={50} step={0.5} onChange={setGuidance} testId="diffusion-guidance" title="guidance_scale: 1 = the conditional model alone; higher follows the prompt more strictly" />
            <input type="range" min={0} max={10} step={0.5} value={Math.min(10, guidance)} onChange={(e) => setGuidance(Number(e.target.value))} aria-label="guidance scale" style={{ width: 110, accentColor: 'var(--accent)' }} data-testid="diffusion-guidance-slider" />
            <NumberField label="seed" value={seed} min={0} max={4294967295} onChange={setSeed} testId="diffusion-seed" width={96} title="the same seed and settings give the same images" />
            <button type="button" className="button small" title="a random seed" onClick={() => setSeed(Math.floor(Math.random() * 100000))} data-testid="diffusion-seed-random">
              random
            </button>
            <NumberField width={72} label="images" value={count} min={1} max={16} onChange={setCount} testId="diffusion-count" title="num_images_per_prompt" />
            {/* the sampler and its η wrap as one: η alone on a line of its own read as a setting of nothing */}
            <div style={{ display: 'flex', gap: 18, alignItems: 'center' }} data-testid="diffusion-sampler-group">
              <Segmented
                label="Sampler"
                value={sampler}
                onChange={setSampler}
                testId="diffusion-sampler"
                options={[
                  { value: 'ddim', label: 'DDIM', title: 'deterministic for η = 0' },
                  { value: 'ddpm', label: 'DDPM', title: 'ancestral: fresh noise every step' },
                ]}
              />
              {sampler === 'ddim' && <NumberField width={72} label="η" value={eta} min={0} max={1} step={0.1} onChange={setEta} testId="diffusion-eta" title="0 = deterministic DDIM, 1 = DDPM-like noise" />}
            </div>
          </div>
          <div className="run-row">
            <button type="button" className="button primary" disabled={running || !!infoError} onClick={() => void run()} data-testid="diffusion-run">
              Generate {count} image{count > 1 ? 's' : ''}
            </button>
            {running && (
              <>
                {/* the sampler's phase carries the step count ("ddim step 117/1000 (t = 883)"): not twice */}
                <JobProgress job={job} onCancel={cancel} cancelling={cancelling} count={job?.phase?.includes(`${Math.floor(job.done)}/${job.total}`) ? '' : undefined} testIds={{ bar: 'diffusion-progress', cancel: 'diffusion-cancel' }} />
              </>
            )}
            {!running && notice && <span className="notice">{notice}</span>}
          </div>
          <ErrorBox error={error} title="Generation failed" onClose={() => setError(null)} testId="diffusion-error" />
        </div>
      </Panel>

      {(running || live) && !(result && !running) && (
        <Panel title="Denoising, live" subtitle="Each recorded step: the noisy sample x_t the U-Net sees, and the clean image it predicts from it." testId="diffusion-live">
          {live ? <FrameView frame={live} size={size} testId="diffusion-live-frame" /> : <Spinner label="Starting…" />}
        </Panel>
      )}

      {result && !running && (
        <Panel
          title={
            <>
              Samples for <span className="accent">{result.condition}</span>
              {result.negativeCondition && <span className="muted"> · not {result.negativeCondition}</span>}
            </>
          }
          subtitle={describe}
          testId="diffusion-results"
          actions={
            <a className="button" href={png(result.gif).replace('image/png', 'image/gif')} download={`denoising-${result.condition.replace(/\W+/g, '-').toLowerCase()}-seed${result.settings.seed}.gif`} data-testid="diffusion-gif">
              Download GIF
            </a>
          }
        >
          <div className="toolbar" style={{ gap: 8, flexWrap: 'wrap', marginBottom: 12 }} data-testid="diffusion-images">
            {result.images.map((b, i) => (
              <img key={i} src={png(b)} alt={`sample ${i + 1}`} style={tileStyle(112)} data-testid={`diffusion-image-${i}`} />
            ))}
          </div>
          {shownFrame && (
            <>
              <div className="toolbar" style={{ gap: 12, marginBottom: 8 }}>
                <button type="button" className="button" onClick={() => (setFrameIndex(0), setPlaying(true))} data-testid="diffusion-replay">
                  ▶ Replay
                </button>
                <label className="field inline slider" style={{ flex: 1 }}>
                  <span>step</span>
                  <input type="range" min={0} max={result.frames.length - 1} value={Math.min(frameIndex, result.frames.length - 1)} onChange={(e) => (setPlaying(false), setFrameIndex(Number(e.target.value)))} data-testid="diffusion-frame-slider" />
                </label>
              </div>
              <FrameView frame={shownFrame} size={size} testId="diffusion-frame" />
              <p className="caption">
                Timesteps visited: {result.timesteps[0]} → {result.timesteps[result.timesteps.length - 1]} ({result.timesteps.length} steps, {result.settings.rowsPerStep} U-Net rows per step
                {result.settings.guidanceScale > 1 ? `: conditional + ${result.negativeCondition ? `negative ("${result.negativeCondition}")` : 'unconditional'}` : ': no guidance'}).
              </p>
            </>
          )}
        </Panel>
      )}
    </div>
  );
}
