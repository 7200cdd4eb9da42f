import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { inputKind } from './input-kind';
import { api, ApiError, type ImageEntry, type Model, type Prediction, type Summary } from './api';
import { loadImage } from './render';
import { ModelPanel } from './components/ModelPanel';
import { ImagePanel } from './components/ImagePanel';
import { PredictionPanel } from './components/PredictionPanel';
import { NetworkPanel } from './components/NetworkPanel';
import { ExplainPanel, type UnitRequest } from './components/ExplainPanel';
import type { JobStatus } from './job-status';
import { SummaryPanel } from './components/SummaryPanel';
import { DiffusionPanel } from './components/DiffusionPanel';
import { SynthPanel } from './components/SynthPanel';
import { DatasetPanel, type ChannelFocus } from './components/DatasetPanel';
import type { SynthRequest } from './components/SynthPanel';
import { ErrorBox } from './components/ui';

type Tab = 'network' | 'explain' | 'model' | 'dataset' | 'synth' | 'diffusion';

const TABS: { id: Tab; label: string }[] = [
  { id: 'network', label: 'Inside the network' },
  { id: 'explain', label: 'Explanations' },
  { id: 'model', label: 'Layers' },
  { id: 'dataset', label: 'Dataset' },
  { id: 'synth', label: 'Make images' },
  { id: 'diffusion', label: 'Diffusion' },
];

/** The image the model sees, decoded once for every canvas that draws it. */
export interface InputView {
  imageId: string;
  width: number;
  height: number;
  img: HTMLImageElement;
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'CLIENT', (e as Error)?.message ?? String(e));
}

export function App(): ReactNode {
  const [models, setModels] = useState<Model[]>([]);
  const [modelId, setModelId] = useState('builtin');
  // The summary with the model it describes: in the render right after a model switch the old
  // one must not reach the panels, whose effects would ask the new model for the old layers (404s).
  const [summaryOf, setSummaryOf] = useState<{ modelId: string; summary: Summary } | null>(null);
  const [summaryError, setSummaryError] = useState<ApiError | null>(null);
  const [images, setImages] = useState<ImageEntry[]>([]);
  const [imageId, setImageId] = useState<string | null>(null);
  const [prediction, setPrediction] = useState<Prediction | null>(null);
  const [input, setInput] = useState<InputView | null>(null);
  const [predictError, setPredictError] = useState<ApiError | null>(null);
  const [predicting, setPredicting] = useState(false);
  const [modelUpload, setModelUpload] = useState<{ busy: boolean; error: ApiError | null }>({ busy: false, error: null });
  const [imageUpload, setImageUpload] = useState<{ busy: boolean; error: ApiError | null }>({ busy: false, error: null });
  const [bootError, setBootError] = useState<ApiError | null>(null);
  const [tab, setTab] = useState<Tab>('network');
  // a tab chosen by its button, counted so that choosing it again counts too
  const [tabClick, setTabClick] = useState<{ tab: Tab; seq: number } | null>(null);
  const [job, setJob] = useState<JobStatus | null>(null);
  const [dragging, setDragging] = useState(false);
  const [channelFocus, setChannelFocus] = useState<ChannelFocus | null>(null);
  const [synthRequest, setSynthRequest] = useState<SynthRequest | null>(null);
  const [unitRequest, setUnitRequest] = useState<UnitRequest | null>(null);

  const model = useMemo(() => models.find((m) => m.id === modelId), [models, modelId]);

  useEffect(() => {
    Promise.all([api.models(), api.images()]).then(
      ([ms, imgs]) => {
        setModels(ms);
        setImages(imgs);
      },
      (e: unknown) => setBootError(asApiError(e)),
    );
  }, []);

  // Summary of the chosen model.
  const summary = summaryOf && summaryOf.modelId === model?.id ? summaryOf.summary : null;
  useEffect(() => {
    if (!model || model.error) return;
    let live = true;
    setSummaryOf(null);
    setSummaryError(null);
    api.summary(model.id).then(
      (s) => live && setSummaryOf({ modelId: model.id, summary: s }),
      (e: unknown) => live && setSummaryError(asApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [model]);

  // A sample that fits the model (its sample group: Fashion-MNIST for the gray CNN, photos for
  // SqueezeNet), at the start and whenever the chosen image is not of a group that fits.
  // (none for a model no image fits: a 4-channel input)
  const group = model && !model.error ? inputKind(model).sampleGroup : undefined;
  // (Only when the model's group changes: a sample of another group picked afterwards stays.)
  const imageRef = useRef(imageId);
  imageRef.current = imageId;
  const haveImages = images.length > 0;
  useEffect(() => {
    if (!group || !haveImages) return;
    const current = images.find((i) => i.id === imageRef.current);
    if (current && (current.group === group || current.group === 'uploads')) return;
    const pick = images.find((i) => i.group === group) ?? images[0];
    if (pick) setImageId(pick.id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [group, haveImages]);

  // Prediction (and the model's view of the image) for the model and image.
  useEffect(() => {
    // the server would refuse the image (a 4-channel model): the panels say why instead
    if (!model || model.error || !imageId) return;
    if (!inputKind(model).takesImages) return setPredictError(null);
    const ctl = new AbortController();
    setPredicting(true);
    setPredictError(null);
    api
      .predict(model.id, imageId, 5, ctl.signal)
      .then(async (p) => {
        const img = await loadImage(`data:image/png;base64,${p.input.png}`);
        if (ctl.signal.aborted) return;
        setPrediction(p);
        setInput({ imageId, width: p.input.width, height: p.input.height, img });
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setPrediction(null);
        setPredictError(asApiError(e));
      })
      .finally(() => !ctl.signal.aborted && setPredicting(false));
    return () => ctl.abort();
  }, [model, imageId]);

  const chooseModel = useCallback((id: string) => {
    setModelId(id);
    setPrediction(null);
    setInput(null);
  }, []);

  const uploadModel = useCallback(
    async (file: File) => {
      setModelUpload({ busy: true, error: null });
      try {
        const m = await api.uploadModel(file);
        setModels((ms) => [...ms.filter((x) => x.id !== m.id), m]);
        chooseModel(m.id);
        setModelUpload({ busy: false, error: null });
      } catch (e) {
        const err = asApiError(e);
        // A 422 answer is the Model entry with its error: list it (disabled) so it is clear what happened.
        const body = err.body as Model | undefined;
        if (body && typeof body === 'object' && 'id' in body && body.id) setModels((ms) => [...ms.filter((x) => x.id !== body.id), body]);
        setModelUpload({ busy: false, error: err });
      }
    },
    [chooseModel],
  );

  const uploadImage = useCallback(async (file: File) => {
    setImageUpload({ busy: true, error: null });
    try {
      const entry = await api.uploadImage(file);
      setImages((list) => [...list, entry]);
      setImageId(entry.id);
      setImageUpload({ busy: false, error: null });
    } catch (e) {
      const err = asApiError(e);
      if (err.status === 413 && !err.hint) err.hint = 'Images up to 16 MB are accepted: resize it first.';
      setImageUpload({ busy: false, error: err });
    }
  }, []);

  // Drag and drop anywhere on the page: images go to the gallery, .onnx files to the models.
  const dragDepth = useRef(0);
  useEffect(() => {
    const hasFiles = (e: DragEvent): boolean => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const enter = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      dragDepth.current++;
      setDragging(true);
    };
    const over = (e: DragEvent): void => {
      if (hasFiles(e)) e.preventDefault();
    };
    const leave = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      dragDepth.current = Math.max(0, dragDepth.current - 1);
      if (dragDepth.current === 0) setDragging(false);
    };
    const drop = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      dragDepth.current = 0;
      setDragging(false);
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      if (/\.onnx$/i.test(file.name)) void uploadModel(file);
      else void uploadImage(file);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [uploadImage, uploadModel]);

  // In a narrow window the side bar lies above the panels: a chosen tab's panel may begin screens
  // below, so a click on its tab seemed to do nothing. Bring the panel's top into view (only
  // when it lies in the lower half of the window: in the wide layout it never does).
  useEffect(() => {
    if (!tabClick) return;
    const panel = document.querySelector(`[data-testid="panel-${tabClick.tab}"]`);
    if (panel && panel.getBoundingClientRect().top > window.innerHeight / 2) panel.scrollIntoView({ block: 'start' });
  }, [tabClick]);

  // Below 640 px the tabs scroll within their bar (styles.css): the chosen one, whether clicked
  // half-shown at the bar's edge or chosen from a panel, is scrolled whole into the bar. The bar
  // is scrolled itself, not through scrollIntoView, which would also move the page.
  const tabBar = useRef<HTMLElement>(null);
  useEffect(() => {
    const bar = tabBar.current;
    const chosen = bar?.querySelector('[aria-selected="true"]');
    if (!bar || !chosen || bar.scrollWidth <= bar.clientWidth) return;
    const edge = parseFloat(getComputedStyle(bar).paddingRight) || 0; // the faded edge
    const b = bar.getBoundingClientRect();
    const t = chosen.getBoundingClientRect();
    if (t.left < b.left) bar.scrollLeft -= b.left - t.left;
    else if (t.right > b.right - edge) bar.scrollLeft += t.right - (b.right - edge);
  }, [tab, tabClick]);

  const usable = model && !model.error ? model : undefined;
  const currentInput = input && input.imageId === imageId ? input : null;

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          ConvLens <span className="brand-sub">Studio</span>
        </div>
        <nav className="tabs" role="tablist" ref={tabBar}>
          {TABS.map((t) => (
            <button
              key={t.id}
              role="tab"
              type="button"
              aria-selected={tab === t.id}
              className={tab === t.id ? 'tab on' : 'tab'}
              data-testid={`tab-${t.id}`}
              onClick={() => {
                setTab(t.id);
                setTabClick((c) => ({ tab: t.id, seq: (c?.seq ?? 0) + 1 }));
              }}
            >
              {t.label}
              {t.id === 'explain' && job?.running && (
                <span className="tab-badge" title={job.phase}>
                  {job.total ? `${Math.round((100 * job.done) / job.total)}%` : '…'}
                </span>
              )}
            </button>
          ))}
        </nav>
        <div className="topbar-right">
          {usable && <span className="topbar-model" title={usable.description}>{usable.name}</span>}
        </div>
      </header>

      {bootError && (
        <div className="boot-error">
          <ErrorBox error={bootError} title="The studio server did not answer" />
        </div>
      )}

      <div className="layout">
        <aside className="sidebar">
          <ModelPanel
            models={models}
            modelId={modelId}
            onChoose={chooseModel}
            onUpload={uploadModel}
            upload={modelUpload}
            onDismissError={() => setModelUpload((u) => ({ ...u, error: null }))}
            summary={summary}
            onDescribed={(m) => {
              setModels((ms) => ms.map((x) => (x.id === m.id ? m : x)));
              setPrediction(null);
              setInput(null);
            }}
          />
          <ImagePanel images={images} imageId={imageId} onChoose={setImageId} onUpload={uploadImage} upload={imageUpload} onDismissError={() => setImageUpload((u) => ({ ...u, error: null }))} fitting={group} modelName={usable?.name} />
          <PredictionPanel prediction={prediction} input={currentInput} busy={predicting} error={predictError} labels={usable?.labels} noImages={usable ? inputKind(usable).noImages : undefined} outputKind={usable?.outputKind} />
        </aside>
        <main className="main">
          <div role="tabpanel" hidden={tab !== 'network'} data-testid="panel-network">
            <NetworkPanel
              model={usable}
              summary={summary}
              imageId={imageId}
              input={currentInput}
              prediction={prediction}
              active={tab === 'network'}
              onUnitClick={(layer, channel) => {
                if (!usable) return;
                setChannelFocus((f) => ({ modelId: usable.id, layer, channel, seq: (f?.seq ?? 0) + 1 }));
                setTab('dataset');
              }}
              onVisualize={(layer, channel) => {
                if (!usable) return;
                setSynthRequest((r) => ({ modelId: usable.id, objective: { kind: 'channel', layer, channel }, seq: (r?.seq ?? 0) + 1 }));
                setTab('synth');
              }}
              onExplainUnit={(layer, channel, at) => {
                if (!usable) return;
                setUnitRequest((r) => ({ modelId: usable.id, layer, channel, ...(at ? { at } : {}), seq: (r?.seq ?? 0) + 1 }));
                setTab('explain');
              }}
            />
          </div>
          <div role="tabpanel" hidden={tab !== 'explain'} data-testid="panel-explain">
            <ExplainPanel model={usable} summary={summary} images={images} imageId={imageId} input={currentInput} prediction={prediction} onJob={setJob} unitRequest={unitRequest} />
          </div>
          <div role="tabpanel" hidden={tab !== 'dataset'} data-testid="panel-dataset">
            <DatasetPanel model={usable} summary={summary} images={images} imageId={imageId} focus={channelFocus} active={tab === 'dataset'} />
          </div>
          <div role="tabpanel" hidden={tab !== 'model'} data-testid="panel-model">
            <SummaryPanel model={usable} summary={summary} error={summaryError} />
          </div>
          <div role="tabpanel" hidden={tab !== 'synth'} data-testid="panel-synth">
            <SynthPanel model={usable} summary={summary} images={images} imageId={imageId} prediction={prediction} request={synthRequest} />
          </div>
          <div role="tabpanel" hidden={tab !== 'diffusion'} data-testid="panel-diffusion">
            <DiffusionPanel active={tab === 'diffusion'} model={usable} />
          </div>
        </main>
      </div>

      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <div className="drop-card">
            <div className="drop-title">Drop to upload</div>
            <div>a PNG, JPEG or WebP image (up to 16 MB), or an .onnx model</div>
          </div>
        </div>
      )}
    </div>
  );
}
