import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, jobId, type ConceptsRequest, type ConceptsResult, type ImageEntry, type Model, type Summary } from '../api';
import { fitCanvas, imageDataCanvas, loadImage } from '../render';
import { decodeTensor, type Tensor } from '../tensor';
import { abbreviateName } from '../../../src/util/names.js';
import { JobProgress } from './JobProgress';
import { predictionScore } from '../format';
import { LayerPicker, layerLabelOf } from './Pickers';
import { fitSize } from './PredictionPanel';
import { ErrorBox, NumberField, Panel } from './ui';
import { cancelPanelJob, followJobStatus, type JobStatus } from '../job-status';

/** The most images one factorization takes (POST /api/concepts). */
const MAX_IMAGES = 16;
const TILE = 132;

type Concept = ConceptsResult['concepts'][number];

interface ShownImage {
  image: string;
  name: string;
  img: HTMLImageElement;
  width: number;
  height: number;
  maps: Tensor[];
}

interface Shown {
  result: ConceptsResult;
  images: ShownImage[];
  modelName: string;
}

/** "2. tiger cat 78%", as the CLI's figure heads a concept's column. */
export function conceptHeader(c: Concept): string {
  const top = c.classes?.[0];
  return top ? `${c.concept}. ${top.label} ${predictionScore(top, 0)}` : `concept ${c.concept}`;
}

/**
 * The concepts a layer holds over a few images (`convlens concepts`, deep feature factorization):
 * each concept in its colour, named by the classes the rest of the network gives it, drawn over
 * every image together and one by one.
 */
export function ConceptsPanel(props: { model: Model; summary: Summary | null; images?: readonly ImageEntry[] | undefined; imageId: string | null; imageName: string; disabled?: string | undefined }): ReactNode {
  const { model, summary } = props;
  const defaultLayer = layerLabelOf(summary, model.channelsLayer ?? model.defaultLayer);
  const [layer, setLayer] = useState(defaultLayer);
  const [components, setComponents] = useState(5);
  const [top, setTop] = useState(3);
  const [seed, setSeed] = useState(0);
  // images factorized beside the current one (a concept is what the images share)
  const [others, setOthers] = useState<Set<string>>(() => new Set());
  const [job, setJob] = useState<JobStatus | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<ApiError | { code: string; message: string; hint?: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const stopRef = useRef<(() => void) | null>(null);
  const noRun = useRef<AbortController | null>(null);

  useEffect(() => setLayer(defaultLayer), [model.id, defaultLayer]);
  // another model takes other images (Fashion-MNIST's gray 28x28 ones are no photos for SqueezeNet)
  // and its concepts are another network's: not shown under this one
  useEffect(() => {
    setOthers(new Set());
    setShown(null);
    setError(null);
    setNotice(null);
  }, [model.id]);
  useEffect(() => () => stopRef.current?.(), []);

  const chosen = useMemo(() => (props.imageId ? [props.imageId, ...[...others].filter((id) => id !== props.imageId)] : []).slice(0, MAX_IMAGES), [props.imageId, others]);
  const running = !!job?.running;
  const canRun = chosen.length > 0 && !props.disabled && !!layer.trim() && !running;
  const nameOf = (id: string): string => props.images?.find((i) => i.id === id)?.name ?? id.replace(/^.*\//, '').replace(/\.\w+$/, '');

  const run = async (): Promise<void> => {
    setError(null);
    setNotice(null);
    const req: ConceptsRequest = { model: model.id, images: chosen, layer: layer.trim(), components, top, seed };
    let id: string;
    try {
      id = jobId(await api.concepts(req));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
      return;
    }
    const modelName = model.name;
    followJobStatus(id, stopRef, setJob, setCancelling, {
      result: (r) => {
        const result = r as ConceptsResult;
        void Promise.all(
          result.images.map(async (i) => ({ image: i.image, name: nameOf(i.image), img: await loadImage(`data:image/png;base64,${i.input.png}`), width: i.input.width, height: i.input.height, maps: i.maps.map(decodeTensor) })),
        ).then((images) => setShown({ result, images, modelName }));
      },
      error: setError,
      cancelled: () => setNotice('Cancelled: the concepts of the previous run (if any) are still shown.'),
    });
  };

  const cancel = (): void => cancelPanelJob(job, noRun, { setCancelling, setError });
  const r = shown?.result;
  const pickable = (props.images ?? []).filter((i) => i.id !== props.imageId);

  return (
    <Panel
      title="Concepts a layer holds"
      subtitle={`A layer's activations over this image (and others you add) split into a few concepts the images share (deep feature factorization, pytorch-grad-cam's DFF); the rest of the network names each concept with ${model.outputKind === 'regression' ? 'the values it gives the first outputs' : 'a class'}.`}
      testId="concepts-panel"
    >
      <div className="explain-form">
        <div className="explain-options concepts-form">
          <LayerPicker label="Layer" stacked model={model} summary={summary} value={layer} onChange={setLayer} testId="concepts-layer" width={200} />
          <NumberField label="Concepts" value={components} onChange={setComponents} min={1} max={64} step={1} title="concepts to find (1-64; at most the layer's channels)" testId="concepts-components" width={64} />
          <NumberField label={model.outputKind === 'regression' ? 'Outputs' : 'Classes'} value={top} onChange={setTop} min={1} max={20} step={1} title={model.outputKind === 'regression' ? 'outputs listed per concept, in order, with their values (1-20)' : 'classes named per concept (1-20)'} testId="concepts-top" width={64} />
          <NumberField label="Seed" value={seed} onChange={setSeed} min={0} max={2147483647} step={1} title="the factorization's random start: another seed may find other concepts of similar error" testId="concepts-seed" width={80} />
          <details className="concepts-images" data-testid="concepts-images">
            <summary>{`Images: ${chosen.length === 1 ? 'this one' : `this and ${chosen.length - 1} more`}`}</summary>
            <div className="concepts-image-list">
              {pickable.map((i) => {
                const on = others.has(i.id);
                return (
                  <label key={i.id} className="check" title={i.id}>
                    <input
                      type="checkbox"
                      checked={on}
                      disabled={!on && chosen.length >= MAX_IMAGES}
                      onChange={() =>
                        setOthers((s) => {
                          const n = new Set(s);
                          if (n.has(i.id)) n.delete(i.id);
                          else n.add(i.id);
                          return n;
                        })
                      }
                      data-testid={`concepts-image-${i.id}`}
                    />
                    {abbreviateName(i.name)}
                  </label>
                );
              })}
              <span className="muted small">{`at most ${MAX_IMAGES} images, factorized together`}</span>
            </div>
          </details>
        </div>
        <div className="run-row">
          <button type="button" className="button primary" disabled={!canRun} onClick={() => void run()} title={props.disabled} data-testid="concepts-run">
            Find concepts
          </button>
          {running && <JobProgress job={job} onCancel={cancel} cancelling={cancelling} testIds={{ text: 'concepts-phase', cancel: 'concepts-cancel' }} />}
          {!running && notice && (
            <span className="notice" data-testid="concepts-notice">
              {notice}
            </span>
          )}
        </div>
      </div>
      <ErrorBox error={error} title="Finding the concepts failed" onClose={() => setError(null)} testId="concepts-error" />
      {shown && r && (
        <div className="concepts-results" data-testid="concepts-results">
          <p className="muted small" data-testid="concepts-made">
            {`${shown.modelName} · layer ${r.layer.label} [${r.layer.shape.join('×')}] · ${r.concepts.length} concepts over ${shown.images.length} image${shown.images.length === 1 ? '' : 's'} · ${(100 * r.factorization.relativeError).toFixed(0)}% of the activations unexplained · ${r.factorization.iterations} sweeps, seed ${r.factorization.seed}`}
          </p>
          <ol className="concepts-legend" data-testid="concepts-legend">
            {r.concepts.map((c) => (
              <li key={c.concept} data-testid={`concept-${c.concept}`} title={c.classes ? c.classes.map((k) => `${k.label} ${predictionScore(k)}`).join(' · ') : 'not named: another branch bypasses this layer'}>
                <span className="swatch" style={{ background: `rgb(${c.colour.join(',')})` }} />
                <b>{conceptHeader(c)}</b>
                <span className="muted small">{`strongest on ${(100 * c.coverage).toFixed(0)}%`}</span>
              </li>
            ))}
          </ol>
          {r.notes.length > 0 && (
            <ul className="map-notes muted small" data-testid="concepts-notes">
              {r.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          {shown.images.map((image, i) => (
            <section key={image.image} className="concepts-image" data-testid={`concepts-row-${i}`}>
              <header className="small">
                <b title={image.image}>{abbreviateName(image.name)}</b>
              </header>
              <ol className="concepts-grid">
                <li className="map-card concept-card" data-testid={`concepts-together-${i}`}>
                  <div className="channel-card-head">
                    <b>Concepts</b>
                  </div>
                  <ConceptTile image={image} concepts={r.concepts} only={null} />
                  <span className="muted small">each pixel: its strongest concept</span>
                </li>
                {r.concepts.map((c, k) => (
                  <li key={c.concept} className="map-card concept-card" data-testid={`concepts-map-${i}-${c.concept}`}>
                    <div className="channel-card-head">
                      <span className="swatch" style={{ background: `rgb(${c.colour.join(',')})` }} />
                      <b title={conceptHeader(c)}>{conceptHeader(c)}</b>
                    </div>
                    <ConceptTile image={image} concepts={r.concepts} only={k} />
                    <span className="muted small">{`max ${Math.max(0, ...image.maps[k]!.data).toFixed(2)}`}</span>
                  </li>
                ))}
              </ol>
            </section>
          ))}
        </div>
      )}
    </Panel>
  );
}

/**
 * The concepts' colours as the CLI's figure paints them: concept `only` as bright as it is strong,
 * or (null) each position in the colour of its strongest concept.
 */
function paint(maps: readonly Tensor[], concepts: readonly Concept[], only: number | null): ImageData {
  const [h, w] = maps[0]!.dims as [number, number];
  const img = new ImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    let k = only ?? 0;
    if (only === null) for (let j = 1; j < maps.length; j++) if (maps[j]!.data[p]! > maps[k]!.data[p]!) k = j;
    const s = Math.min(1, Math.max(0, maps[k]!.data[p]!));
    const colour = concepts[k]!.colour;
    for (let ch = 0; ch < 3; ch++) img.data[p * 4 + ch] = Math.round(colour[ch]! * s);
    img.data[p * 4 + 3] = 255;
  }
  return img;
}

const ConceptTile = memo(function ConceptTile(props: { image: ShownImage; concepts: readonly Concept[]; only: number | null }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const { w, h } = fitSize(props.image, TILE);
  const colours = useMemo(() => imageDataCanvas(paint(props.image.maps, props.concepts, props.only)), [props.image, props.concepts, props.only]);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ctx = fitCanvas(canvas, w, h);
    // half the image and half the colours, as pytorch-grad-cam's show_factorization_on_image
    ctx.globalCompositeOperation = 'source-over';
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(props.image.img, 0, 0, w, h);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.5)';
    ctx.fillRect(0, 0, w, h);
    ctx.globalCompositeOperation = 'lighter';
    ctx.globalAlpha = 0.5;
    ctx.drawImage(colours, 0, 0, w, h);
    ctx.globalCompositeOperation = 'source-over';
    ctx.globalAlpha = 1;
  }, [props.image, colours, w, h]);
  return <canvas ref={ref} className="overlay-canvas" style={{ width: w, height: h }} />;
});
