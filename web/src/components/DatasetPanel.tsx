import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError, followJob, type ImageEntry, type Model, type Summary } from '../api';
import { inputKind } from '../input-kind';
import { JobProgress } from './JobProgress';
import { useOneAtATime } from '../one-at-a-time';
import { fitCanvas } from '../render';
import { fmt } from '../tensor';
import { datasetApi, type EmbedResult, type IndexableFolder, type NeighbourEntry, type NeighboursResult, type StoreInfo, type TopResult } from './DatasetApi';
import { layerLabelOf } from './Pickers';
import { ErrorBox, Panel, Segmented, Spinner } from './ui';

/** A request from elsewhere on the page (a unit clicked in the feature maps) to show a channel of a model. */
export interface ChannelFocus {
  modelId: string;
  layer: string;
  channel: number;
  seq: number;
}

const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const asError = (e: unknown): ApiError => (e instanceof ApiError ? e : new ApiError(0, 'CLIENT', (e as Error)?.message ?? String(e)));

interface JobView {
  id: string;
  done: number;
  total: number;
  phase?: string;
  remainingSeconds?: number;
}

/** Runs a job and follows it; returns the result or throws. */
function useJob(): { job: JobView | null; run: <T>(start: () => Promise<{ job: string }>) => Promise<T | undefined>; cancel: () => void; cancelling: boolean } {
  const [job, setJob] = useState<JobView | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const stop = useRef<(() => void) | null>(null);
  const oneAtATime = useOneAtATime();
  const run = useCallback(async <T,>(start: () => Promise<{ job: string }>): Promise<T | undefined> => {
    const started = await oneAtATime(start);
    if (!started) return undefined;
    const id = started.job;
    setJob({ id, done: 0, total: 0 });
    setCancelling(false);
    return new Promise<T | undefined>((resolve, reject) => {
      stop.current = followJob(id, (ev) => {
        if (ev.type === 'progress') setJob({ id, done: ev.progress.done, total: ev.progress.total, ...(ev.progress.phase ? { phase: ev.progress.phase } : {}), ...(ev.remainingSeconds !== undefined ? { remainingSeconds: ev.remainingSeconds } : {}) });
        else {
          setJob(null);
          setCancelling(false);
          if (ev.type === 'result') resolve(ev.result as T);
          else if (ev.type === 'cancelled') resolve(undefined);
          else reject(new ApiError(0, ev.error.code, ev.error.message, ev.error.hint));
        }
      });
    });
  }, [oneAtATime]);
  const cancel = useCallback(() => {
    if (!job) return;
    setCancelling(true);
    // a refused or failed request leaves the job running: the button can be pressed again
    fetch(`/api/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' }).then(
      (r) => {
        if (!r.ok) setCancelling(false);
      },
      () => setCancelling(false),
    );
  }, [job]);
  useEffect(() => () => stop.current?.(), []);
  return { job, run, cancel, cancelling };
}

const thumb = (png: string): string => `data:image/png;base64,${png}`;

/** Whether a model takes the Fashion-MNIST subset as it is (gray 28x28): IDX files are not resized. */
function fitsFashion(model: Model): boolean {
  const p = model.profile?.input;
  return !!p && p.kind === 'gray' && p.size[0] === 28 && p.size[1] === 28;
}

/** A model's short name for buttons and labels ("squeezenet"), its full name elsewhere. */
const short = (model: Model): string => model.shortName ?? model.name;

const describeInput = (model: Model): string => (model.profile ? `${model.profile.input.kind} ${model.profile.input.size.join('×')}` : 'its own input size');

export function DatasetPanel(props: { model: Model | undefined; summary: Summary | null; images: ImageEntry[]; imageId: string | null; focus: ChannelFocus | null; active: boolean }): ReactNode {
  const { model } = props;
  const [stores, setStores] = useState<StoreInfo[] | null>(null);
  const [storeId, setStoreId] = useState<string>('');
  const [error, setError] = useState<ApiError | null>(null);

  // The indexes of this model (a store is tied to the weights it was made with).
  const mine = useMemo(() => (stores ?? []).filter((s) => !s.error && s.modelId === model?.id), [stores, model?.id]);
  const others = useMemo(() => (stores ?? []).filter((s) => s.error || s.modelId !== model?.id), [stores, model?.id]);

  const refresh = useCallback(async (select?: string) => {
    try {
      const r = await datasetApi.stores();
      setStores(r.stores);
      if (select) setStoreId(select);
    } catch (e) {
      setError(asError(e));
    }
  }, []);

  useEffect(() => {
    if (props.active && stores === null) void refresh();
  }, [props.active, stores, refresh]);

  // Keep the choice among this model's stores (another model: its own first store).
  useEffect(() => {
    if (!mine.some((s) => s.id === storeId)) setStoreId(mine[0]?.id ?? '');
  }, [mine, storeId]);

  const store = mine.find((s) => s.id === storeId);

  // An index and the copy of uploads it was made from are only ever removed here: a studio left
  // running otherwise keeps every one on disk.
  const [deleting, setDeleting] = useState(false);
  const removeStore = useCallback(async () => {
    if (!store || !window.confirm(`Delete the index "${store.dataset}" (${store.count} images) from disk? The images it was made from stay, except a copy of uploads made for it.`)) return;
    setDeleting(true);
    try {
      await datasetApi.remove(store.id);
      setError(null);
      await refresh();
    } catch (e) {
      setError(asError(e));
    } finally {
      setDeleting(false);
    }
  }, [store, refresh]);
  const focus = props.focus && props.focus.modelId === model?.id ? props.focus : null;

  if (!model) return <Panel title="Dataset lens">Choose a model that the engine can run.</Panel>;

  return (
    <div className="stack" data-testid="dataset-panel">
      <Panel
        title="Dataset lens"
        subtitle={`Run a dataset through ${short(model)} once (an index: top activations per channel, a feature vector per image), then look at what its units respond to, who an image's neighbours are, and how the data is laid out. An index belongs to the model that made it.`}
        testId="dataset-stores"
      >
        <div className="toolbar" style={{ flexWrap: 'wrap', gap: 12 }}>
          <label className="field inline">
            <span>Index of {short(model)}</span>
            <select value={storeId} onChange={(e) => setStoreId(e.target.value)} data-testid="store-select">
              {!mine.length && <option value="">none yet</option>}
              {mine.map((s) => (
                <option key={s.id} value={s.id}>
                  {`${s.dataset}${s.complete ? '' : ' (incomplete)'}`}
                </option>
              ))}
              {others.length > 0 && (
                <optgroup label="other models' indexes (choose their model to open one)">
                  {others.map((s) => (
                    <option key={s.id} value={s.id} disabled>
                      {s.error ? `${s.id} (unreadable)` : `${s.dataset} · ${s.model}`}
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          </label>
          {store && (
            <button type="button" className="button danger small" onClick={() => void removeStore()} disabled={deleting} data-testid="store-delete" title="Delete this index from disk">
              {deleting ? 'Deleting…' : 'Delete index'}
            </button>
          )}
        </div>
        {store && (
          <p className="muted" data-testid="store-info" style={{ marginTop: 8 }}>
            {store.count} images · layers {store.layers.map((l) => `${layerLabelOf(props.summary, l.name)} (${l.channels}@${l.height}×${l.width})`).join(', ')} · top {store.k} per channel
            {` · model ${store.model}`}
          </p>
        )}
        {stores !== null && !store && (
          <p className="notice-block" data-testid="dataset-no-index">
            {short(model)} has no index yet{focus ? `: index images to see the ones channel ${focus.channel} of ${layerLabelOf(props.summary, focus.layer)} responds to most` : ''}.{' '}
            {inputKind(model).noImages
              ? `${inputKind(model).noImages}, so it can index no images.`
              : model.profile?.input.fixed === false
              ? `${short(model)} takes images of any size; the dataset lens scans models with a fixed input size (export it with one, e.g. [N, 3, 224, 224]).`
              : `Index a folder of images below (they are resized to ${describeInput(model)}).`}
          </p>
        )}
        <IndexForm key={model.id} model={model} images={props.images} open={!store} onIndexed={(id) => void refresh(id)} />
        <ErrorBox error={error} title="Dataset lens" onClose={() => setError(null)} testId="dataset-error" />
      </Panel>
      {store && (
        <>
          <TopPatches store={store} focus={focus} summary={props.summary} />
          <Neighbours store={store} imageId={props.imageId} summary={props.summary} />
          <EmbeddingView store={store} summary={props.summary} />
        </>
      )}
    </div>
  );
}

type Source = 'folders' | 'fashion' | 'uploads';

/**
 * What to index with the model: folders under the studio's data folders (several make one
 * dataset, a class each), the committed Fashion-MNIST subset (gray 28x28 models only), or the
 * images uploaded to this studio.
 */
function IndexForm(props: { model: Model; images: ImageEntry[]; open: boolean; onIndexed: (storeId: string) => void }): ReactNode {
  const { model } = props;
  const fashion = fitsFashion(model);
  const uploads = props.images.filter((i) => i.source === 'upload').length;
  const [folders, setFolders] = useState<IndexableFolder[] | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [source, setSource] = useState<Source>(fashion ? 'fashion' : 'folders');
  const [open, setOpen] = useState(props.open);
  const [error, setError] = useState<ApiError | null>(null);
  const job = useJob();

  useEffect(() => setOpen(props.open), [props.open]);
  useEffect(() => {
    if (!open || folders) return;
    datasetApi.folders().then(
      (r) => {
        setFolders(r.folders);
        // The samples that fit the model, and the textures beside them for RGB models.
        const fit = model.sampleGroup ?? 'photos';
        const wanted = r.folders.filter((f) => f.kind === 'images' && /(^|[\\/])samples$/.test(f.root) && (f.relative === fit || (!fashion && f.relative === 'textures')));
        setChosen(wanted.map((f) => f.path));
      },
      (e: unknown) => setError(asError(e)),
    );
  }, [open, folders, model.sampleGroup, fashion]);

  const idxFits = (f: IndexableFolder): boolean => f.kind !== 'idx' || fashion;
  const canRun =
    !job.job && model.profile?.input.fixed !== false && inputKind(model).takesImages && (source === 'folders' ? chosen.length > 0 : source === 'fashion' ? fashion : uploads > 0);

  const index = async (dataset: string | string[]): Promise<void> => {
    setError(null);
    try {
      const r = await job.run<{ store: StoreInfo }>(() => datasetApi.index({ model: model.id, dataset }));
      if (r) props.onIndexed(r.store.id);
    } catch (e) {
      setError(asError(e));
    }
  };
  const run = (): Promise<void> => index(source === 'folders' ? chosen : source === 'fashion' ? 'fashion-mnist-subset' : 'studio:uploads');

  return (
    <details className="index-form" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)} data-testid="index-form">
      <summary>Index images with {short(model)}</summary>
      <div className="toolbar" style={{ flexWrap: 'wrap', gap: 12, marginTop: 8 }}>
        <Segmented
          label="From"
          value={source}
          onChange={setSource}
          testId="index-source"
          options={[
            { value: 'folders', label: 'folders', title: 'folders of images under the studio\'s data folders (samples/, data/, out/uploads, --data)' },
            { value: 'fashion', label: 'Fashion-MNIST subset', title: fashion ? 'the committed 2,000-image test subset' : `gray 28×28 images: ${model.name} takes ${describeInput(model)}` },
            { value: 'uploads', label: `uploaded images (${uploads})`, title: 'the images uploaded to this studio, copied into out/uploads/studio-uploads' },
          ]}
        />
        {fashion && (
          <button type="button" className="button" disabled={!!job.job} onClick={() => void index('fashion-mnist-subset')} data-testid="index-subset">
            Index the Fashion-MNIST subset
          </button>
        )}
      </div>
      {source === 'folders' && (
        <div className="folder-list" data-testid="index-folders">
          {!folders && <Spinner label="Listing the data folders…" />}
          {folders?.length === 0 && <span className="muted">No folders of images under the data folders. Start the studio with --data &lt;folder&gt; to add one.</span>}
          {folders?.map((f) => {
            const label = `${f.root.split(/[\\/]/).pop()}/${f.relative === '.' ? '' : f.relative}`.replace(/\/$/, '');
            return (
              <label key={f.path} className="check" title={idxFits(f) ? f.path : `IDX files are gray images used as they are: ${model.name} takes ${describeInput(model)}`}>
                <input
                  type="checkbox"
                  checked={chosen.includes(f.path)}
                  disabled={!idxFits(f)}
                  onChange={(e) => setChosen((c) => (e.target.checked ? [...c, f.path] : c.filter((p) => p !== f.path)))}
                  data-testid={`folder-${label}`}
                />
                <span>{label}</span>
                <span className="muted small">
                  {f.kind === 'idx' ? 'IDX files' : `${f.images} image${f.images === 1 ? '' : 's'}`}
                  {f.classes.length ? ` · classes ${f.classes.slice(0, 4).join(', ')}${f.classes.length > 4 ? ', …' : ''}` : ''}
                </span>
              </label>
            );
          })}
          {chosen.length > 1 && <span className="muted small">{chosen.length} folders make one dataset; each folder is a class.</span>}
        </div>
      )}
      {source === 'fashion' && !fashion && (
        <p className="muted small">
          {model.name} takes {describeInput(model)} images; the subset holds gray 28×28 ones. Index a folder of images instead.
        </p>
      )}
      <div className="run-row" style={{ marginTop: 8 }}>
        <button type="button" className="button primary" disabled={!canRun} onClick={() => void run()} data-testid="index-run">
          Index with {short(model)}
        </button>
        {job.job && <JobProgress job={job.job} onCancel={job.cancel} cancelling={job.cancelling} testIds={{ bar: 'index-progress' }} />}
      </div>
      <ErrorBox error={error} title="Indexing failed" onClose={() => setError(null)} testId="index-error" />
    </details>
  );
}

function LayerSelect(props: { store: StoreInfo; summary: Summary | null; value: string; onChange: (v: string) => void; testId: string; pixels?: boolean }): ReactNode {
  return (
    <label className="field inline">
      <span>Layer</span>
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)} data-testid={props.testId}>
        {props.store.layers.map((l) => (
          <option key={l.name} value={l.name}>
            {layerLabelOf(props.summary, l.name)} · {l.channels}@{l.height}×{l.width}
          </option>
        ))}
        {props.pixels && <option value="pixels">pixels</option>}
      </select>
    </label>
  );
}

function TopPatches(props: { store: StoreInfo; focus: ChannelFocus | null; summary: Summary | null }): ReactNode {
  const { store, focus } = props;
  const [layer, setLayer] = useState(store.layers[store.layers.length - 1]!.name);
  const [channel, setChannel] = useState(0);
  const [data, setData] = useState<TopResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const info = store.layers.find((l) => l.name === layer);

  useEffect(() => {
    if (!store.layers.some((l) => l.name === layer)) setLayer(store.layers[store.layers.length - 1]!.name);
  }, [store, layer]);

  // a unit clicked in the feature-map view
  useEffect(() => {
    if (!focus) return;
    if (store.layers.some((l) => l.name === focus.layer)) {
      setLayer(focus.layer);
      setChannel(focus.channel);
      setError(null);
    } else {
      setError(new ApiError(0, 'NOT_INDEXED', `Layer ${layerLabelOf(props.summary, focus.layer)} is not in this index.`, `Indexed layers: ${store.layers.map((l) => layerLabelOf(props.summary, l.name)).join(', ')}. Index again with that layer (POST /api/dataset/index with "layers"), or pick a channel of an indexed layer.`));
    }
  }, [focus?.seq]);

  useEffect(() => {
    if (!info || channel >= info.channels) return;
    let live = true;
    setBusy(true);
    datasetApi.top(store.id, layer, channel, 8).then(
      (r) => {
        if (!live) return;
        setData(r);
        setBusy(false);
        setError(null);
      },
      (e: unknown) => {
        if (!live) return;
        setBusy(false);
        setError(asError(e));
      },
    );
    return () => {
      live = false;
    };
  }, [store.id, layer, channel, info]);

  const size = data ? Math.max(56, Math.min(96, data.field[0] * Math.ceil(64 / data.field[0]))) : 64;
  return (
    <Panel
      title={
        <>
          Top patches · {layerLabelOf(props.summary, layer)} <span className="muted">channel {channel}</span>
        </>
      }
      subtitle={data ? `The ${data.patches.length} images where this channel fires most, cropped to the ${data.global ? 'whole image' : `${data.field[0]}×${data.field[1]} px receptive field`} of the unit that fired (checkerboard: outside the image)${data.guidedSkipped ? `. Guided-backprop maps are left out: ${data.guidedSkipped}` : ', each beside its guided-backprop map (blue negative, red positive).'}` : 'Loading…'}
      testId="dataset-patches"
      actions={
        <div className="toolbar">
          {busy && <Spinner label="Loading…" />}
          <LayerSelect store={store} summary={props.summary} value={layer} onChange={(v) => { setLayer(v); setChannel(0); }} testId="patches-layer" />
          <button type="button" className="button small" disabled={channel <= 0} onClick={() => setChannel((c) => c - 1)} data-testid="channel-prev">
            ◀
          </button>
          <label className="field inline">
            <span>Channel</span>
            <input type="number" min={0} max={(info?.channels ?? 1) - 1} value={channel} onChange={(e) => setChannel(Math.max(0, Math.min((info?.channels ?? 1) - 1, Number(e.target.value) || 0)))} style={{ width: 64 }} data-testid="patches-channel" />
          </label>
          <button type="button" className="button small" disabled={!info || channel >= info.channels - 1} onClick={() => setChannel((c) => c + 1)} data-testid="channel-next">
            ▶
          </button>
        </div>
      }
    >
      <ErrorBox error={error} title="Could not load the patches" onClose={() => setError(null)} />
      {data && data.channel === channel && data.layer === layer && (
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: 14 }} data-testid="patch-grid">
          {data.patches.map((p) => (
            <figure key={p.rank} style={{ margin: 0, textAlign: 'center' }} data-testid={`patch-${p.rank}`} title={`image #${p.image} · unit (${p.unit[0]}, ${p.unit[1]}) · activation ${fmt(p.value)}`}>
              <div style={{ display: 'flex', gap: 3 }}>
                <img src={thumb(p.crop)} width={size} height={size} alt={`patch ${p.rank + 1}`} className="pixelated" style={{ imageRendering: 'pixelated', border: '1px solid #ddd' }} />
                {p.guided && <img src={thumb(p.guided)} width={size} height={size} alt="guided backprop" style={{ imageRendering: 'pixelated', border: '1px solid #ddd' }} />}
              </div>
              <figcaption className="muted" style={{ fontSize: 11 }}>
                <b>{fmt(p.value)}</b> · {p.class ?? '?'} · #{p.image}
              </figcaption>
            </figure>
          ))}
          {data.patches.length === 0 && <span className="muted">{data.silent > 0 ? `This channel never fired on the ${data.silent} images the store keeps for it.` : 'No activations recorded for this channel.'}</span>}
          {data.patches.length > 0 && data.silent > 0 && <span className="muted" data-testid="patches-silent">It never fired on {data.silent} more of the images the store keeps for it (activation 0), so they show no patch.</span>}
        </div>
      )}
    </Panel>
  );
}

function NeighbourRow(props: { title: string; list: NeighbourEntry[]; queryLabel: number; testId: string }): ReactNode {
  return (
    // wraps: seven 64-px neighbours beside their label are 660 px, wider than a phone
    <div data-testid={props.testId} style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'flex-start', gap: 8, marginTop: 8 }}>
      <div style={{ flex: '0 0 120px', fontSize: 12 }} className="muted">
        {props.title}
      </div>
      {props.list.map((n) => (
        <figure key={n.id} style={{ margin: 0, textAlign: 'center' }} title={`image #${n.id}`}>
          <img src={thumb(n.png)} width={64} height={64} alt={n.class ?? ''} style={{ imageRendering: 'pixelated', border: props.queryLabel >= 0 && n.label !== props.queryLabel ? '3px solid #dc322f' : '3px solid transparent' }} />
          <figcaption style={{ fontSize: 11 }}>
            {n.class ?? '?'}
            <br />
            <span className="muted">{fmt(n.distance)}</span>
          </figcaption>
        </figure>
      ))}
    </div>
  );
}

function Neighbours(props: { store: StoreInfo; imageId: string | null; summary: Summary | null }): ReactNode {
  const { store } = props;
  const [layer, setLayer] = useState(store.layers[store.layers.length - 1]!.name);
  const [source, setSource] = useState<'dataset' | 'current'>('dataset');
  const [index, setIndex] = useState(0);
  const [metric, setMetric] = useState<'l2' | 'cosine'>('l2');
  const [data, setData] = useState<NeighboursResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setData(await datasetApi.neighbours(store.id, { layer, k: 8, metric, ...(source === 'current' && props.imageId ? { imageId: props.imageId } : { image: index }) }));
    } catch (e) {
      setError(asError(e));
    }
    setBusy(false);
  };

  return (
    <Panel
      title="Nearest neighbours"
      subtitle="The closest images in a layer's feature space and, below, in pixel space. Red frame: another class than the query."
      testId="dataset-neighbours"
      actions={
        <div className="toolbar">
          <LayerSelect store={store} summary={props.summary} value={layer} onChange={setLayer} testId="nn-layer" />
          <Segmented label="Metric" value={metric} onChange={setMetric} options={[{ value: 'l2', label: 'L2' }, { value: 'cosine', label: 'cosine' }]} />
        </div>
      }
    >
      <div className="toolbar" style={{ gap: 12 }}>
        <Segmented label="Query" value={source} onChange={setSource} testId="nn-source" options={[{ value: 'dataset', label: 'dataset image' }, { value: 'current', label: 'the chosen image' }]} />
        {source === 'dataset' && (
          <label className="field inline">
            <span>#</span>
            <input type="number" min={0} max={store.count - 1} value={index} onChange={(e) => setIndex(Math.max(0, Math.min(store.count - 1, Number(e.target.value) || 0)))} style={{ width: 80 }} data-testid="nn-index" />
          </label>
        )}
        <button type="button" className="button primary" onClick={() => void run()} disabled={busy || (source === 'current' && !props.imageId)} data-testid="nn-run">
          Find neighbours
        </button>
        {busy && <Spinner label="Searching…" />}
      </div>
      <ErrorBox error={error} title="The search failed" onClose={() => setError(null)} />
      {data && (
        <div data-testid="nn-results" style={{ marginTop: 10 }}>
          <div style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
            <div style={{ width: 120, fontSize: 12 }}>
              <b>query</b>
              <br />
              <span className="muted">{data.query.class ?? ''}</span>
            </div>
            <img src={thumb(data.query.png)} width={64} height={64} alt="query" style={{ imageRendering: 'pixelated' }} />
            <span className="muted" style={{ fontSize: 12 }}>
              {data.ms.toFixed(1)} ms {data.indexed ? '(vector index)' : '(flat scan)'}
            </span>
          </div>
          <NeighbourRow title={`feature space · ${layerLabelOf(props.summary, data.layer)} · ${data.metric === 'cosine' ? 'cosine' : 'L2'}`} list={data.feature} queryLabel={data.query.label} testId="nn-feature" />
          <NeighbourRow title="pixel space · L2" list={data.pixel} queryLabel={data.query.label} testId="nn-pixel" />
        </div>
      )}
    </Panel>
  );
}

/** What the embedding's "images" selector offers: the usual sample sizes below the store's count, then the whole store. */
function embedSampleSizes(count: number): number[] {
  const all = Math.max(EMBED_MIN_SAMPLE, count);
  return [...[300, 1000, 2000, 5000].filter((n) => n < all), ...(all <= 5000 ? [all] : [])];
}

/** The server's least sample (its schema's minimum): a smaller store is embedded whole. */
const EMBED_MIN_SAMPLE = 10;

function EmbeddingView(props: { store: StoreInfo; summary: Summary | null }): ReactNode {
  const { store } = props;
  const [layer, setLayer] = useState(store.layers[store.layers.length - 1]!.name);
  const [method, setMethod] = useState<'pca' | 'tsne' | 'umap'>('pca');
  // The sample sizes offered stop at the store's image count (1000 of a 7-image store embedded 7),
  // offered as "all"; for a store under the server's least sample, that least is sent (the
  // embedding takes what the store has).
  const sampleSizes = embedSampleSizes(store.count);
  const [sample, setSample] = useState(() => Math.min(1000, sampleSizes[sampleSizes.length - 1]!));
  useEffect(() => setSample((s) => Math.min(s, sampleSizes[sampleSizes.length - 1]!)), [store.id, store.count]); // eslint-disable-line react-hooks/exhaustive-deps
  const [data, setData] = useState<EmbedResult | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const job = useJob();

  const run = async (): Promise<void> => {
    setError(null);
    try {
      const r = await job.run<EmbedResult>(() => datasetApi.embed(store.id, { layer, method, sample }));
      if (r) setData(r);
    } catch (e) {
      setError(asError(e));
    }
  };

  return (
    <Panel
      title="Embedding"
      subtitle="Each dot an image, placed by PCA, t-SNE or UMAP of its feature vector and coloured by class. Scroll to zoom, drag to pan, hover to see the image."
      testId="dataset-embedding"
      actions={
        <div className="toolbar">
          <LayerSelect store={store} summary={props.summary} value={layer} onChange={setLayer} testId="embed-layer" pixels />
          <Segmented label="Method" value={method} onChange={setMethod} testId="embed-method" options={[{ value: 'pca', label: 'PCA' }, { value: 'tsne', label: 't-SNE' }, { value: 'umap', label: 'UMAP' }]} />
          <label className="field inline">
            <span>Images</span>
            <select value={sample} onChange={(e) => setSample(Number(e.target.value))} data-testid="embed-sample">
              {sampleSizes.map((n) => (
                <option key={n} value={n}>
                  {n >= store.count ? `all ${store.count}` : n}
                </option>
              ))}
            </select>
          </label>
          {store.count < 300 && (
            <span className="muted small" data-testid="embed-sample-note">
              the index holds {store.count} image{store.count === 1 ? '' : 's'}
            </span>
          )}
          <button type="button" className="button primary" onClick={() => void run()} disabled={!!job.job} data-testid="embed-run">
            Embed
          </button>
        </div>
      }
    >
      {job.job && (
        <div className="run-row">
          <JobProgress job={job.job} onCancel={job.cancel} cancelling={job.cancelling} testIds={{ bar: 'embed-progress' }} />
        </div>
      )}
      <ErrorBox error={error} title="The embedding failed" onClose={() => setError(null)} />
      {data ? <Scatter data={data} store={store} summary={props.summary} /> : !job.job && <div className="placeholder-block muted">Pick a layer and a method, then Embed.</div>}
    </Panel>
  );
}

function Scatter(props: { data: EmbedResult; store: StoreInfo; summary: Summary | null }): ReactNode {
  const { data, store } = props;
  const W = 640;
  const H = 520;
  const ref = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState({ x: 0, y: 0, k: 1 });
  const [hover, setHover] = useState<{ i: number; px: number; py: number } | null>(null);
  const drag = useRef<{ x: number; y: number; vx: number; vy: number } | null>(null);

  // data -> [0, 1] box with a margin, equal scale on both axes
  const norm = useMemo(() => {
    const xs = data.points.map((p) => p.x);
    const ys = data.points.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const s = Math.max(x1 - x0, y1 - y0) || 1;
    return data.points.map((p) => [(p.x - (x0 + x1) / 2) / s, (p.y - (y0 + y1) / 2) / s] as [number, number]);
  }, [data]);
  const toScreen = useCallback((i: number): [number, number] => {
    const [u, v] = norm[i]!;
    const base = Math.min(W, H) * 0.9;
    return [W / 2 + (u * base + view.x) * view.k, H / 2 - (v * base - view.y) * view.k];
  }, [norm, view]);

  useEffect(() => setView({ x: 0, y: 0, k: 1 }), [data]);

  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = fitCanvas(c, W, H);
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, H);
    const r = Math.max(1.5, Math.min(5, 3 * Math.sqrt(view.k)));
    data.points.forEach((p, i) => {
      const [sx, sy] = toScreen(i);
      if (sx < -5 || sy < -5 || sx > W + 5 || sy > H + 5) return;
      ctx.globalAlpha = 0.75;
      ctx.fillStyle = TABLEAU10[Math.max(0, p.label) % 10]!;
      ctx.beginPath();
      ctx.arc(sx, sy, r, 0, Math.PI * 2);
      ctx.fill();
    });
    ctx.globalAlpha = 1;
    if (hover) {
      const [sx, sy] = toScreen(hover.i);
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(sx, sy, r + 3, 0, Math.PI * 2);
      ctx.stroke();
    }
  }, [data, view, hover, toScreen]);

  const nearest = (mx: number, my: number): number => {
    let best = -1;
    let bd = 100;
    for (let i = 0; i < data.points.length; i++) {
      const [sx, sy] = toScreen(i);
      const d = (sx - mx) ** 2 + (sy - my) ** 2;
      if (d < bd) [bd, best] = [d, i];
    }
    return best;
  };
  const pos = (e: React.MouseEvent<HTMLCanvasElement> | React.WheelEvent<HTMLCanvasElement>): [number, number] => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * W, ((e.clientY - r.top) / r.height) * H];
  };
  const onMove = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    const [mx, my] = pos(e);
    if (drag.current) {
      const d = drag.current;
      setView((v) => ({ ...v, x: d.vx + (mx - d.x) / v.k, y: d.vy + (my - d.y) / v.k }));
      return;
    }
    const i = nearest(mx, my);
    setHover(i >= 0 ? { i, px: mx, py: my } : null);
  };
  const onWheel = (e: React.WheelEvent<HTMLCanvasElement>): void => {
    const [mx, my] = pos(e);
    const f = e.deltaY < 0 ? 1.25 : 0.8;
    setView((v) => {
      const k = Math.max(0.5, Math.min(50, v.k * f));
      // keep the point under the cursor in place
      const wx = (mx - W / 2) / v.k - v.x;
      const wy = (my - H / 2) / v.k - v.y;
      return { k, x: (mx - W / 2) / k - wx, y: (my - H / 2) / k - wy };
    });
  };
  // wheel zoom without scrolling the page
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const block = (e: WheelEvent): void => e.preventDefault();
    c.addEventListener('wheel', block, { passive: false });
    return () => c.removeEventListener('wheel', block);
  }, []);

  const present = [...new Set(data.points.map((p) => p.label))].sort((a, b) => a - b);
  const hp = hover ? data.points[hover.i] : undefined;
  const methodName = data.method === 'pca' ? 'PCA' : data.method === 'tsne' ? 't-SNE' : 'UMAP';
  return (
    // The plot is drawn at W×H and shown at that size or, in a narrower window, scaled down whole
    // (pos() maps the pointer back); its legend goes below it when they do not fit side by side.
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-start' }}>
      <div style={{ position: 'relative', flex: `0 1 ${W}px`, minWidth: 0, aspectRatio: `${W} / ${H}`, border: '1px solid #e2e8f0', cursor: drag.current ? 'grabbing' : 'crosshair' }}>
        <canvas
          ref={ref}
          style={{ width: '100%', height: '100%', display: 'block' }}
          data-testid="embed-canvas"
          data-points={data.points.length}
          onMouseMove={onMove}
          onMouseLeave={() => {
            setHover(null);
            drag.current = null;
          }}
          onMouseDown={(e) => {
            const [mx, my] = pos(e);
            drag.current = { x: mx, y: my, vx: view.x, vy: view.y };
          }}
          onMouseUp={() => (drag.current = null)}
          onWheel={onWheel}
          onDoubleClick={() => setView({ x: 0, y: 0, k: 1 })}
        />
        {hp && hover && (
          <div data-testid="embed-hover" style={{ position: 'absolute', left: `${(100 * Math.min(W - 110, hover.px + 12)) / W}%`, top: `${(100 * Math.min(H - 130, hover.py + 12)) / H}%`, background: '#fff', border: '1px solid #cbd5e1', borderRadius: 6, padding: 6, pointerEvents: 'none', boxShadow: '0 2px 8px rgba(0,0,0,.15)', fontSize: 12 }}>
            <img src={datasetApi.imageUrl(store.id, hp.id)} width={84} height={84} alt="" style={{ imageRendering: 'pixelated', display: 'block' }} />
            <div>
              <b>{data.classes[hp.label] ?? hp.label}</b> · #{hp.id}
            </div>
          </div>
        )}
      </div>
      <div style={{ fontSize: 12, flex: '1 1 160px' }}>
        <div style={{ fontWeight: 600, marginBottom: 6 }} data-testid="embed-title">
          {/* the layer as the Layer picker names it, not the graph's tensor name */}
          {methodName} of {data.space === 'pixels' ? 'the pixels' : layerLabelOf(props.summary, data.space)}
        </div>
        <div className="muted" style={{ marginBottom: 8 }}>
          {data.points.length} images · {(data.ms / 1000).toFixed(1)} s{data.explained ? ` · ${(data.explained[0] * 100).toFixed(0)}% + ${(data.explained[1] * 100).toFixed(0)}% of variance` : ''}
        </div>
        {present.map((l) => (
          <div key={l} style={{ display: 'flex', alignItems: 'center', gap: 6 }}>
            <span style={{ width: 10, height: 10, borderRadius: 5, background: TABLEAU10[Math.max(0, l) % 10] }} />
            {data.classes[l] ?? l}
          </div>
        ))}
        <div className="muted" style={{ marginTop: 8 }}>
          zoom ×{view.k.toFixed(1)} · double-click resets
        </div>
      </div>
    </div>
  );
}
