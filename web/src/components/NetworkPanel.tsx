import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, type Model, type Pickable, type Prediction, type ReceptiveField, type Summary } from '../api';
import type { InputView } from '../App';
import type { ColormapName } from '../colormaps';
import { fitCanvas, paintCanvas, unitBox, type Mapping } from '../render';
import { decodeTensor, fmt, minMax, type Range, type Tensor } from '../tensor';
import { channelMapping, oneScale, type Norm } from '../channel-range';
import { FiltersView } from './FiltersView';
import { inputKind } from '../input-kind';
import { predictionScore } from '../format';
import { rowOf } from '../summary';
import { drawInput, fitSize } from './PredictionPanel';
import { Colorbar, ErrorBox, Panel, Segmented, Spinner } from './ui';

/** A 4-D layer's activations for one image, with its value ranges. */
interface LayerData {
  name: string;
  op: string;
  node: string;
  t: Tensor;
  c: number;
  h: number;
  w: number;
  range: Range;
  channels: Range[];
}

type Cmap = Extract<ColormapName, 'gray' | 'viridis'>;

/**
 * Models whose 4-D layers hold at most CHUNK floats in all come in one request. Bigger ones
 * load the chosen layer first, then the others in the background, CHUNK floats per request,
 * until BUDGET floats are in memory (the rest load when clicked).
 */
const CHUNK = 2_000_000;
const BUDGET = 24_000_000;
const STRIP_THUMBS = 6;
const SHORT_OP: Record<string, string> = { GlobalAveragePool: 'GAP', GlobalMaxPool: 'GMP', AveragePool: 'AvgPool', BatchNormalization: 'BN', InstanceNormalization: 'IN', LeakyRelu: 'LReLU', Sigmoid: 'σ' };

function toLayer(name: string, op: string, node: string, t: Tensor): LayerData {
  const [, c = 1, h = 1, w = 1] = t.dims;
  const plane = h * w;
  const channels: Range[] = [];
  for (let k = 0; k < c; k++) channels.push(minMax(t.data, k * plane, (k + 1) * plane));
  return { name, op, node, t, c, h, w, range: minMax(t.data), channels };
}

function mappingFor(layer: LayerData, channel: number, norm: Norm): Mapping {
  const { lo, hi } = channelMapping(layer, channel, norm);
  return { lo, hi };
}

/**
 * A column head shows two lines of the name; exporters' names share their beginnings
 * (trunk_output/block1/block1-0/f/a/...), so a long one shows its end, where layers differ.
 * The full name is in the tooltip.
 */
const NAME_CHARS = 17;
const nameTail = (name: string): string => (name.length <= NAME_CHARS ? name : `…${name.slice(-(NAME_CHARS - 1))}`);

const Tile = memo(function Tile(props: { layer: LayerData; channel: number; norm: Norm; cmap: Cmap; size: number; selected?: boolean; onClick?: () => void; testId?: string; label?: boolean }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const { layer, channel, norm, cmap } = props;
  useEffect(() => {
    if (ref.current) paintCanvas(ref.current, layer.t.data, channel * layer.h * layer.w, layer.h, layer.w, mappingFor(layer, channel, norm), cmap);
  }, [layer, channel, norm, cmap]);
  const r = layer.channels[channel]!;
  const aspect = layer.h / layer.w;
  return (
    <button
      type="button"
      className={`tile ${props.selected ? 'on' : ''}`}
      onClick={props.onClick}
      title={`${layer.name} · channel ${channel} · min ${fmt(r.lo)} · max ${fmt(r.hi)}`}
      data-testid={props.testId}
      data-channel={channel}
    >
      <canvas ref={ref} style={{ width: props.size, height: Math.round(props.size * aspect) }} />
      {props.label && <span className="tile-label">{channel}</span>}
    </button>
  );
});

export function NetworkPanel(props: {
  model: Model | undefined;
  summary: Summary | null;
  imageId: string | null;
  input: InputView | null;
  prediction: Prediction | null;
  active: boolean;
  /** the dataset images a channel responds to most (the Dataset tab) */
  onUnitClick?: (layer: string, channel: number) => void;
  /** what in this image drives a channel (its mean, or its unit at `at`): the Explain tab, the unit filled in */
  onExplainUnit?: (layer: string, channel: number, at?: [number, number]) => void;
  /** what a channel wants to see (Make images, the objective filled in) */
  onVisualize?: (layer: string, channel: number) => void;
}): ReactNode {
  const { model, summary, imageId } = props;
  const specs = useMemo<Pickable[]>(() => (summary?.pickable ?? []).filter((p) => p.shape.length === 4 && p.featureMap !== false), [summary]);
  const totalFloats = useMemo(() => specs.reduce((a, p) => a + p.shape.slice(1).reduce<number>((x, d) => x * (typeof d === 'number' ? d : 1), 1), 0), [specs]);
  // no key, no request, for a model no image can be fed to (the server would refuse each one)
  const noImages = model ? inputKind(model).noImages : undefined;
  const key = model && imageId && summary && !noImages ? `${model.id}|${imageId}` : null;

  const [loaded, setLoaded] = useState<{ key: string; layers: Record<string, LayerData> }>({ key: '', layers: {} });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [channel, setChannel] = useState(0);
  const [norm, setNorm] = useState<Norm>('channel');
  const [cmap, setCmap] = useState<Cmap>('viridis');

  // Keep the selection valid when the model changes.
  useEffect(() => {
    if (specs.length && !specs.some((s) => s.name === selected)) {
      setSelected(specs[0]!.name);
      setChannel(0);
    }
  }, [specs, selected]);

  const layers = loaded.key === key ? loaded.layers : {};
  const current = selected ? layers[selected] : undefined;
  const spec = specs.find((s) => s.name === selected);

  const floatsOf = (p: Pickable): number => p.shape.slice(1).reduce<number>((x, d) => x * (typeof d === 'number' ? d : 1), 1);
  // What to fetch next: everything (small models), the chosen layer, or the next background chunk.
  const next = useMemo<string[] | null | undefined>(() => {
    if (!key || !specs.length) return undefined;
    const have = loaded.key === key ? loaded.layers : {};
    if (totalFloats <= CHUNK) return Object.keys(have).length ? undefined : null;
    // (right after a model switch `selected` is still the old model's layer, until the effect above fixes it)
    const want = selected && specs.some((s) => s.name === selected) ? selected : specs[0]!.name;
    if (!have[want]) return [want];
    let inMemory = specs.reduce((a, p) => a + (have[p.name] ? floatsOf(p) : 0), 0);
    const chunk: string[] = [];
    let size = 0;
    for (const p of specs) {
      if (have[p.name]) continue;
      const f = floatsOf(p);
      if (inMemory + f > BUDGET || (chunk.length && size + f > CHUNK)) break;
      chunk.push(p.name);
      size += f;
      inMemory += f;
    }
    return chunk.length ? chunk : undefined;
  }, [key, specs, loaded, selected, totalFloats]);
  const nextKey = next === undefined ? '' : next === null ? '*' : next.join('\n');

  useEffect(() => {
    if (!props.active || !key || !model || !imageId || next === undefined) return;
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    api
      .activations(model.id, imageId, next ?? undefined, ctl.signal)
      .then((list) => {
        if (ctl.signal.aborted) return;
        setLoading(false);
        setLoaded((prev) => {
          const base = prev.key === key ? { ...prev.layers } : {};
          for (const l of list) base[l.name] = toLayer(l.name, l.op, l.node, decodeTensor(l.values));
          return { key, layers: base };
        });
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setLoading(false);
        setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
      });
    return () => {
      ctl.abort();
      setLoading(false);
    };
  }, [props.active, key, model, imageId, nextKey]);

  const select = (name: string, ch = 0): void => {
    setSelected(name);
    setChannel(ch);
  };
  const ch = current ? Math.min(channel, current.c - 1) : 0;
  const rf = current ? rowOf(summary, current)?.receptiveField : undefined;
  const tileSize = current ? (current.w >= 24 ? 68 : current.w >= 10 ? 56 : 44) : 56;

  if (!model) return <Panel title="Inside the network">Choose a model that the engine can run.</Panel>;

  return (
    <div className="stack">
      <Panel
        title="Inside the network"
        testId="network-panel"
        subtitle="Each column is one layer; each square one channel's feature map for this image. Click a layer or a channel."
        actions={
          <div className="toolbar">
            {loading && <Spinner label="Running…" />}
            <Segmented
              label="Normalize"
              value={norm}
              onChange={setNorm}
              testId="norm-toggle"
              options={[
                { value: 'channel', label: 'per channel', title: 'each map from its own min (dark) to its own max (bright)' },
                { value: 'layer', label: 'per layer', title: 'every map of a layer on one scale: compare channels' },
              ]}
            />
            <Segmented
              label="Colors"
              value={cmap}
              onChange={setCmap}
              testId="cmap-toggle"
              options={[
                { value: 'gray', label: 'grayscale' },
                { value: 'viridis', label: 'viridis' },
              ]}
            />
          </div>
        }
      >
        <ErrorBox error={error} title="Could not compute the feature maps" />
        {noImages && (
          <p className="warning" data-testid="network-no-images">
            {noImages}: no feature maps to show. Its layers (the Layers tab) and filters (below) can be looked at.
          </p>
        )}
        <div className="strip" data-testid="network-strip">
          <div className="strip-col strip-input">
            <div className="strip-head">
              <span className="strip-name">input</span>
              <span className="strip-shape">{props.input ? `${props.input.width}×${props.input.height}` : ''}</span>
            </div>
            <StripInput input={props.input} />
          </div>
          {specs.map((s) => {
            const l = layers[s.name];
            const [, c, h, w] = s.shape;
            return (
              <div key={s.name} className={`strip-col ${s.name === selected ? 'on' : ''}`}>
                <button type="button" className="strip-head" onClick={() => select(s.name)} data-testid={`layer-${s.name}`} title={`${s.name} (${s.op}) · ${c} channels of ${h}×${w}${s.number ? ` · #${s.number}` : ''}`}>
                  <span className="strip-name">{nameTail(s.label ?? s.name).replace(/([._/])/g, '$1\u200b')}</span>
                  <span className={`strip-op op-${s.op.toLowerCase()}`}>{SHORT_OP[s.op] ?? s.op}</span>
                  <span className="strip-shape">
                    {c}@<wbr />
                    {h}×{w}
                  </span>
                </button>
                <div className="strip-thumbs">
                  {l
                    ? Array.from({ length: Math.min(STRIP_THUMBS, l.c) }, (_, k) => (
                        <Tile key={k} layer={l} channel={k} norm={norm} cmap={cmap} size={40} selected={s.name === selected && k === ch} onClick={() => select(s.name, k)} />
                      ))
                    : Array.from({ length: Math.min(STRIP_THUMBS, typeof c === 'number' ? c : 1) }, (_, k) => <span key={k} className="tile placeholder" />)}
                  {typeof c === 'number' && c > STRIP_THUMBS && <span className="strip-more">+{c - STRIP_THUMBS}</span>}
                </div>
              </div>
            );
          })}
          {props.prediction && (
            <div className="strip-col strip-output">
              <div className="strip-head">
                <span className="strip-name">output</span>
                {/* a regression lists its first outputs, in order: none is the "top" one */}
                <span className="strip-shape" data-testid="network-output-order">{model?.outputKind === 'regression' ? 'first 3' : 'top 3'}</span>
              </div>
              <ol className="strip-classes">
                {props.prediction.top.slice(0, 3).map((t) => (
                  <li key={t.index}>
                    <span>{t.label}</span>
                    <span className="muted">{predictionScore(t, 0)}</span>
                  </li>
                ))}
              </ol>
            </div>
          )}
        </div>
      </Panel>

      {spec && (
        <Panel
          title={
            <>
              {spec.label ?? spec.name} <span className="muted">· {spec.op}{spec.label && spec.label !== spec.name ? ` · ${spec.name}` : ''}</span>
            </>
          }
          subtitle={current ? `${current.c} channels of ${current.h}×${current.w}${rf ? ` · each unit sees ${rf.global ? 'the whole image' : `${rf.size[0]}×${rf.size[1]} input pixels`}` : ''}` : 'loading…'}
          testId="layer-detail"
          actions={
            current &&
            (oneScale(current, norm) ? (
              <Colorbar cmap={cmap} lo={current.range.lo} hi={current.range.hi} caption="layer range" testId="layer-colorbar" />
            ) : (
              <Colorbar cmap={cmap} lo="min" hi="max" caption="each map: its own" testId="layer-colorbar" />
            ))
          }
        >
          {current ? (
            <div className="layer-detail">
              <div className="channel-grid" style={{ gridTemplateColumns: `repeat(auto-fill, ${tileSize + 6}px)` }} data-testid="channel-grid">
                {Array.from({ length: current.c }, (_, k) => (
                  <Tile key={k} layer={current} channel={k} norm={norm} cmap={cmap} size={tileSize} selected={k === ch} onClick={() => setChannel(k)} testId={`channel-${k}`} label />
                ))}
              </div>
              <UnitView layer={current} label={spec.label ?? spec.name} channel={ch} norm={norm} cmap={cmap} rf={rf} input={props.input} {...(props.onUnitClick ? { onUnitClick: props.onUnitClick } : {})} {...(props.onVisualize ? { onVisualize: props.onVisualize } : {})} {...(props.onExplainUnit ? { onExplainUnit: props.onExplainUnit } : {})} />
            </div>
          ) : (
            <div className="placeholder-block">{loading ? <Spinner label="Computing feature maps…" /> : noImages ? 'No feature maps: no image fits this model.' : 'No feature maps yet.'}</div>
          )}
        </Panel>
      )}

      {summary && (
        <FiltersView
          modelId={model.id}
          summary={summary}
          firstConv={model.profile?.firstConv}
          channels={model.preprocessing?.channels}
          forLayer={current ?? spec ?? null}
          onPickChannel={(layer, k) => {
            if (specs.some((s) => s.name === layer)) select(layer, k);
          }}
        />
      )}
    </div>
  );
}

function StripInput(props: { input: InputView | null }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = fitCanvas(c, 56, 56);
    if (props.input) drawInput(ctx, props.input, 56, 56);
  }, [props.input]);
  return <canvas ref={ref} className="strip-input-canvas" style={{ width: 56, height: 56 }} />;
}

/** One channel enlarged; hovering a unit shows the input pixels it sees. */
function UnitView(props: {
  layer: LayerData;
  /** the layer's short name (the pickers' name for it) */
  label: string;
  channel: number;
  norm: Norm;
  cmap: Cmap;
  rf: ReceptiveField | undefined;
  input: InputView | null;
  onUnitClick?: (layer: string, channel: number) => void;
  onVisualize?: (layer: string, channel: number) => void;
  onExplainUnit?: (layer: string, channel: number, at?: [number, number]) => void;
}): ReactNode {
  const { layer, channel, norm, cmap, rf, input } = props;
  const mapRef = useRef<HTMLCanvasElement>(null);
  const hoverRef = useRef<HTMLCanvasElement>(null);
  const inRef = useRef<HTMLCanvasElement>(null);
  const rfRef = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  // "Explain one unit…": the next click on the map explains the unit under it (what shift-click
  // does, for those who would never guess a modifier); Escape or the button again leaves it
  const [picking, setPicking] = useState(false);
  const SIZE = 248;
  const mapSize = fitSize({ width: layer.w, height: layer.h }, SIZE);
  const inSize = fitSize(input, SIZE);
  const mapping = mappingFor(layer, channel, norm);

  useEffect(() => {
    if (mapRef.current) paintCanvas(mapRef.current, layer.t.data, channel * layer.h * layer.w, layer.h, layer.w, mapping, cmap);
  }, [layer, channel, norm, cmap]);

  useEffect(() => setHover(null), [layer, channel]);
  useEffect(() => setPicking(false), [layer.name, channel]);
  useEffect(() => {
    if (!picking) return;
    const escape = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setPicking(false);
    };
    window.addEventListener('keydown', escape);
    return () => window.removeEventListener('keydown', escape);
  }, [picking]);

  useEffect(() => {
    const c = inRef.current;
    if (!c) return;
    const ctx = fitCanvas(c, inSize.w, inSize.h);
    if (input) drawInput(ctx, input, inSize.w, inSize.h);
  }, [input, inSize.w, inSize.h]);

  const box = hover && rf && input ? unitBox(rf, hover.row, hover.col, input.height, input.width) : null;

  // The hovered unit on the map, and its receptive field on the input.
  useEffect(() => {
    const hc = hoverRef.current;
    if (hc) {
      const ctx = fitCanvas(hc, mapSize.w, mapSize.h);
      ctx.clearRect(0, 0, mapSize.w, mapSize.h);
      if (hover) {
        const cw = mapSize.w / layer.w;
        const chh = mapSize.h / layer.h;
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#000';
        ctx.strokeRect(hover.col * cw + 1, hover.row * chh + 1, cw - 2, chh - 2);
        ctx.strokeStyle = '#f59e0b';
        ctx.strokeRect(hover.col * cw, hover.row * chh, cw, chh);
      }
    }
    const rc = rfRef.current;
    if (rc) {
      const ctx = fitCanvas(rc, inSize.w, inSize.h);
      ctx.clearRect(0, 0, inSize.w, inSize.h);
      if (box && input) {
        const sx = inSize.w / input.width;
        const sy = inSize.h / input.height;
        const [top, left, bottom, right] = box;
        // snapped to device pixels so the outline is crisp
        const dpr = rc.width / inSize.w;
        const snap = (v: number): number => Math.round(v * dpr) / dpr;
        const x0 = snap(left * sx);
        const y0 = snap(top * sy);
        const x1 = snap((right + 1) * sx);
        const y1 = snap((bottom + 1) * sy);
        // Dim what the unit does not see, then outline what it does.
        ctx.fillStyle = 'rgba(15, 23, 42, 0.55)';
        ctx.beginPath();
        ctx.rect(0, 0, inSize.w, inSize.h);
        ctx.rect(x0, y0, x1 - x0, y1 - y0);
        ctx.fill('evenodd');
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#f59e0b';
        ctx.strokeRect(x0 + 1, y0 + 1, Math.max(0, x1 - x0 - 2), Math.max(0, y1 - y0 - 2));
      }
    }
  }, [hover, box?.join(','), mapSize.w, mapSize.h, inSize.w, inSize.h, layer, input]);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>): void => {
    const r = e.currentTarget.getBoundingClientRect();
    const col = Math.min(layer.w - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * layer.w)));
    const row = Math.min(layer.h - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * layer.h)));
    if (!hover || hover.row !== row || hover.col !== col) setHover({ row, col });
  };

  const value = hover ? layer.t.data[channel * layer.h * layer.w + hover.row * layer.w + hover.col]! : undefined;
  const cr = layer.channels[channel]!;

  return (
    <div className="unit-view" data-testid="unit-view">
      <div className="unit-figures">
        <figure>
          <div className="stacked" style={{ width: mapSize.w, height: mapSize.h }}>
            <canvas ref={mapRef} className="pixelated" style={{ width: mapSize.w, height: mapSize.h }} data-testid="unit-map" />
            <canvas
              ref={hoverRef}
              className={picking ? 'overlay interactive picking' : 'overlay interactive'}
              style={{ width: mapSize.w, height: mapSize.h }}
              onMouseMove={onMove}
              onMouseLeave={() => setHover(null)}
              onClick={(e) => {
                // a plain click keeps its meaning (the dataset's top images); shift, or a click after
                // "Explain one unit…", asks what in this image drives the unit
                if ((e.shiftKey || picking) && props.onExplainUnit && hover) {
                  setPicking(false);
                  props.onExplainUnit(props.label, channel, [hover.row, hover.col]);
                } else props.onUnitClick?.(layer.name, channel);
              }}
              data-testid="unit-hover"
            />
          </div>
          <figcaption>
            {props.label} · channel {channel}
          </figcaption>
        </figure>
        <figure>
          <div className="stacked" style={{ width: inSize.w, height: inSize.h }}>
            <canvas ref={inRef} style={{ width: inSize.w, height: inSize.h }} data-testid="rf-input" />
            <canvas
              ref={rfRef}
              className="overlay"
              style={{ width: inSize.w, height: inSize.h }}
              data-testid="rf-overlay"
              data-rf={box ? box.join(',') : ''}
              data-unit={hover ? `${hover.row},${hover.col}` : ''}
            />
          </div>
          <figcaption>input · receptive field</figcaption>
        </figure>
      </div>
      <Colorbar cmap={cmap} lo={mapping.lo} hi={mapping.hi} caption={channelMapping(layer, channel, norm).caption} testId="unit-colorbar" />
      {(props.onVisualize || props.onUnitClick || props.onExplainUnit) && (
        <div className="unit-actions" data-testid="unit-actions">
          {props.onExplainUnit && (
            <button type="button" className="button small" onClick={() => props.onExplainUnit!(props.label, channel)} data-testid="unit-explain" title={`Explain tab: which pixels of this image make channel ${channel} of ${props.label} fire (its mean over the map)`}>
              Explain this channel
            </button>
          )}
          {props.onExplainUnit && (
            <button
              type="button"
              className={picking ? 'button small on' : 'button small'}
              aria-pressed={picking}
              onClick={() => setPicking((p) => !p)}
              data-testid="unit-explain-pick"
              title="Then click a unit of the map: the Explain tab opens for that position of the channel (shift-click on the map does the same at any time)"
            >
              {picking ? 'Click a unit… (Esc: cancel)' : 'Explain one unit…'}
            </button>
          )}
          {props.onVisualize && (
            <button type="button" className="button small" onClick={() => props.onVisualize!(props.label, channel)} data-testid="unit-visualize" title={`Make images: optimize an image for channel:${props.label}:${channel}`}>
              Visualize channel {channel}
            </button>
          )}
          {props.onUnitClick && (
            <button type="button" className="button small" onClick={() => props.onUnitClick!(layer.name, channel)} data-testid="unit-patches" title="Dataset tab: the indexed images this channel responds to most">
              Top dataset patches
            </button>
          )}
        </div>
      )}
      <div className="unit-info" data-testid="unit-info">
        {hover && value !== undefined ? (
          <>
            <div>
              unit <b>(row {hover.row}, col {hover.col})</b> = <b>{fmt(value)}</b> <span className="muted">(channel range {fmt(cr.lo)} … {fmt(cr.hi)}){props.onExplainUnit ? (picking ? ' · click: explain this unit' : ' · shift-click: explain this unit') : ''}</span>
            </div>
            <div>
              {box
                ? rf?.global
                  ? 'sees the whole image'
                  : `sees input rows ${box[0]}–${box[2]}, columns ${box[1]}–${box[3]} (${rf!.size[0]}×${rf!.size[1]} px field${box[2] - box[0] + 1 < rf!.size[0] || box[3] - box[1] + 1 < rf!.size[1] ? ', clipped to the image' : ''})`
                : 'receptive field unknown for this layer'}
            </div>
          </>
        ) : (
          <div className="muted">
            {picking ? (
              <b className="unit-picking">Click a unit of the map to explain it (Esc: cancel).</b>
            ) : (
              <>
                Hover a unit of the map to see the input pixels it can see{props.onUnitClick ? '; click it for the dataset images this channel responds to most' : ''}
                {props.onExplainUnit ? '; shift-click it (or use Explain one unit…) to explain that unit' : ''}.
              </>
            )}
            {rf && !rf.global && ` Units of ${props.label} see ${rf.size[0]}×${rf.size[1]} px; neighbours are ${rf.jump[0]} px apart.`}
          </div>
        )}
      </div>
    </div>
  );
}
