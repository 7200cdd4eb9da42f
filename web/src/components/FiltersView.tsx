import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, type Summary } from '../api';
import { LUTS } from '../colormaps';
import { decodeTensor, maxAbs, type Tensor } from '../tensor';
import { rowOf } from '../summary';
import { filterColorOrder } from '../filter-colors';
import { Colorbar, ErrorBox, Panel, Segmented, Spinner } from './ui';

type Mode = 'inputs' | 'mean';

interface Bank {
  layer: string;
  output: string;
  w: Tensor;
  o: number;
  i: number;
  kh: number;
  kw: number;
  layers: string[];
}

const MAX_ROWS = 32;

/** Filters (convolution weights) as images: RGB tiles for a first layer on colour images, grey grids deeper. */
export function FiltersView(props: { modelId: string; summary: Summary; firstConv?: string | undefined; channels?: string | undefined; forLayer: { name: string; node: string } | null; onPickChannel: (layer: string, k: number) => void }): ReactNode {
  const { summary, forLayer } = props;
  // The conv that made the chosen layer's maps: its own row's conv, else the nearest conv before it.
  const suggested = useMemo(() => {
    const rows = summary.rows;
    const row = forLayer ? rowOf(summary, forLayer) : undefined;
    let i = row ? rows.indexOf(row) : rows.length - 1;
    for (; i >= 0; i--) if (rows[i]!.type.startsWith('Conv')) return rows[i]!.name;
    return rows.find((r) => r.type.startsWith('Conv'))?.name;
  }, [summary, forLayer]);
  const [choice, setChoice] = useState<string | undefined>(undefined);
  useEffect(() => setChoice(undefined), [suggested]);
  const layer = choice ?? suggested;
  // a conv node by the short name of the layer it makes (conv0, fires.3/expand3x3), as the pickers name layers
  const convName = (node: string): string => {
    const made = summary.pickable.find((p) => p.node === node);
    return made?.label && made.label !== made.name ? made.label : node.replace(/^\//, '');
  };

  const [bank, setBank] = useState<Bank | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [mode, setMode] = useState<Mode | null>(null);
  const [showAll, setShowAll] = useState(false);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    api.filters(props.modelId, layer).then(
      (f) => {
        if (!live) return;
        const w = decodeTensor(f.weights);
        const [o = 1, i = 1, kh = 1, kw = 1] = w.dims;
        setBank({ layer: f.layer, output: f.output, w, o, i, kh, kw, layers: f.layers });
        setLoading(false);
        setShowAll(false);
      },
      (e: unknown) => {
        if (!live) return;
        setBank(null);
        setLoading(false);
        setError(e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)));
      },
    );
    return () => {
      live = false;
    };
  }, [props.modelId, layer]);

  const colors = bank ? filterColorOrder(bank.i, bank.output === props.firstConv, props.channels) : null;
  const rgb = colors !== null;
  const effMode: Mode = mode ?? (bank && bank.i <= 8 ? 'inputs' : 'mean');
  const outputLayer = bank ? (summary.rows.find((r) => r.name === bank.layer)?.output ?? bank.output) : '';

  return (
    <Panel
      title={
        <>
          Filters {bank && <span className="muted">· {convName(bank.layer)}</span>}
        </>
      }
      subtitle={bank ? `${bank.o} filters of ${bank.i}×${bank.kh}×${bank.kw} weights` : undefined}
      testId="filters-panel"
      actions={
        <div className="toolbar">
          {loading && <Spinner />}
          {bank && !rgb && bank.i > 1 && (
            <Segmented
              label="Show"
              value={effMode}
              onChange={setMode}
              testId="filter-mode"
              options={[
                { value: 'inputs', label: 'every input channel' },
                { value: 'mean', label: 'mean over inputs' },
              ]}
            />
          )}
          {bank && bank.layers.length > 1 && (
            <label className="field inline">
              <span>Layer</span>
              <select value={bank.layer} onChange={(e) => setChoice(e.target.value)} data-testid="filter-layer">
                {bank.layers.map((l) => (
                  <option key={l} value={l}>
                    {convName(l)}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      }
    >
      <ErrorBox error={error} title="No filters to show" />
      {bank && (
        <>
          <p className="caption" data-testid="filter-caption">
            {rgb
              ? `Each tile is one filter's ${bank.kh}×${bank.kw} weights on the red, green and blue input channels, shown as a colour image (grey = 0; scaled by the layer's largest |weight|). Click a filter to see the feature map it makes.`
              : effMode === 'inputs' && bank.i > 1
                ? `Column k is filter k, which makes channel k of ${outputLayer}; each of its ${bank.i} tiles, one per row, is the ${bank.kh}×${bank.kw} kernel it applies to one input channel (white positive, black negative, grey zero). Click a column to see its feature map.`
                : `One tile per filter: its ${bank.kh}×${bank.kw} kernel${bank.i > 1 ? ` averaged over the ${bank.i} input channels` : ''} (white positive, black negative, grey zero). Click a filter to see the feature map it makes.`}
          </p>
          {rgb ? (
            <RgbTiles bank={bank} colors={colors!} onPick={(k) => props.onPickChannel(outputLayer, k)} />
          ) : effMode === 'inputs' && bank.i > 1 ? (
            <>
              <Matrix bank={bank} rows={showAll ? bank.o : Math.min(MAX_ROWS, bank.o)} onPick={(k) => props.onPickChannel(outputLayer, k)} />
              {bank.o > MAX_ROWS && (
                <button type="button" className="button small ghost" onClick={() => setShowAll((v) => !v)}>
                  {showAll ? `Show the first ${MAX_ROWS} filters` : `Show all ${bank.o} filters`}
                </button>
              )}
            </>
          ) : (
            <MeanTiles bank={bank} onPick={(k) => props.onPickChannel(outputLayer, k)} />
          )}
        </>
      )}
    </Panel>
  );
}

function grayPixel(px: Uint8ClampedArray, at: number, v: number, m: number): void {
  const lut = LUTS.gray;
  const k = Math.round(Math.min(1, Math.max(0, 0.5 + (0.5 * v) / (m || 1))) * 255) * 3;
  px[at] = lut[k]!;
  px[at + 1] = lut[k + 1]!;
  px[at + 2] = lut[k + 2]!;
  px[at + 3] = 255;
}

function tileSize(kh: number): number {
  return kh >= 7 ? 56 : kh >= 5 ? 48 : 40;
}

function TileCanvas(props: { draw: (px: Uint8ClampedArray) => void; kh: number; kw: number; size: number; title: string; onClick: () => void; testId?: string }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = props.kw;
    c.height = props.kh;
    const img = new ImageData(props.kw, props.kh);
    props.draw(img.data);
    c.getContext('2d')!.putImageData(img, 0, 0);
  });
  return (
    <button type="button" className="tile filter-tile" title={props.title} onClick={props.onClick} data-testid={props.testId}>
      <canvas ref={ref} style={{ width: props.size, height: Math.round((props.size * props.kh) / props.kw) }} />
    </button>
  );
}

function RgbTiles(props: { bank: Bank; colors: [number, number, number]; onPick: (k: number) => void }): ReactNode {
  const { bank, colors } = props;
  const m = useMemo(() => maxAbs(bank.w.data), [bank]);
  const plane = bank.kh * bank.kw;
  return (
    <div className="filter-grid" data-testid="filter-grid">
      {Array.from({ length: bank.o }, (_, k) => (
        <TileCanvas
          key={k}
          kh={bank.kh}
          kw={bank.kw}
          size={tileSize(bank.kh) + 8}
          title={`filter ${k}`}
          testId={`filter-${k}`}
          onClick={() => props.onPick(k)}
          draw={(px) => {
            for (let p = 0; p < plane; p++) {
              for (let c = 0; c < 3; c++) px[p * 4 + c] = Math.round(127.5 + (127.5 * bank.w.data[(k * 3 + colors[c]!) * plane + p]!) / (m || 1));
              px[p * 4 + 3] = 255;
            }
          }}
        />
      ))}
      <Colorbar cmap="gray" lo={-m} mid={0} hi={m} caption="weight (per channel)" />
    </div>
  );
}

function MeanTiles(props: { bank: Bank; onPick: (k: number) => void }): ReactNode {
  const { bank } = props;
  const plane = bank.kh * bank.kw;
  const means = useMemo(() => {
    const out = new Float32Array(bank.o * plane);
    for (let k = 0; k < bank.o; k++)
      for (let i = 0; i < bank.i; i++) for (let p = 0; p < plane; p++) out[k * plane + p]! += bank.w.data[(k * bank.i + i) * plane + p]! / bank.i;
    return out;
  }, [bank, plane]);
  const m = useMemo(() => maxAbs(means), [means]);
  return (
    <div className="filter-grid" data-testid="filter-grid">
      {Array.from({ length: bank.o }, (_, k) => (
        <TileCanvas
          key={k}
          kh={bank.kh}
          kw={bank.kw}
          size={tileSize(bank.kh)}
          title={`filter ${k}`}
          testId={`filter-${k}`}
          onClick={() => props.onPick(k)}
          draw={(px) => {
            for (let p = 0; p < plane; p++) grayPixel(px, p * 4, means[k * plane + p]!, m);
          }}
        />
      ))}
      <Colorbar cmap="gray" lo={-m} mid={0} hi={m} caption={bank.i > 1 ? 'mean weight' : 'weight'} />
    </div>
  );
}

/** Filters as columns, input channels as rows: one canvas, one kernel per cell. */
function Matrix(props: { bank: Bank; rows: number; onPick: (k: number) => void }): ReactNode {
  const { bank } = props;
  const shown = props.rows;
  const ref = useRef<HTMLCanvasElement>(null);
  const m = useMemo(() => maxAbs(bank.w.data), [bank]);
  const cellW = bank.kw + 1;
  const cellH = bank.kh + 1;
  const W = shown * cellW - 1;
  const H = bank.i * cellH - 1;
  const scale = Math.max(2, Math.min(12, Math.floor(720 / W), Math.floor(480 / H)));
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = W;
    c.height = H;
    const img = new ImageData(W, H);
    const px = img.data;
    // gaps in the panel's background colour
    px.fill(255);
    const plane = bank.kh * bank.kw;
    for (let k = 0; k < shown; k++)
      for (let i = 0; i < bank.i; i++)
        for (let y = 0; y < bank.kh; y++)
          for (let x = 0; x < bank.kw; x++) grayPixel(px, ((i * cellH + y) * W + k * cellW + x) * 4, bank.w.data[(k * bank.i + i) * plane + y * bank.kw + x]!, m);
    c.getContext('2d')!.putImageData(img, 0, 0);
  }, [bank, shown, W, H, cellH, cellW, m]);
  return (
    <div className="matrix-wrap" data-testid="filter-grid">
      <div className="matrix-axis-x">filter → ({shown === bank.o ? bank.o : `first ${shown} of ${bank.o}`})</div>
      <div className="matrix-body">
        <div className="matrix-axis-y">input channel ↓ ({bank.i})</div>
        <canvas
          ref={ref}
          className="pixelated matrix"
          style={{ width: W * scale, height: H * scale }}
          title="click a column to see the feature map this filter makes"
          onClick={(e) => {
            const r = e.currentTarget.getBoundingClientRect();
            props.onPick(Math.min(shown - 1, Math.floor((((e.clientX - r.left) / r.width) * (W + 1)) / cellW)));
          }}
        />
        <Colorbar cmap="gray" lo={-m} mid={0} hi={m} caption="weight" />
      </div>
    </div>
  );
}
