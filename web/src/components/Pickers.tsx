import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Model, Pickable, Summary, TokenLayer } from '../api';

// Searchable pickers over what a model has: its layers (by value name, module path, op, shape,
// #number), its classes (by name or index), and objectives built from them. Each one is a text
// field first: what is typed is sent as typed (the server resolves layer and class names the
// CLI's way), and the list below it only helps to find a name.

export interface ComboOption {
  /** what picking it puts in the field */
  value: string;
  /** the line shown in the list */
  label: ReactNode;
  /** text the search runs over (all typed words must occur in it) */
  search: string;
  /** its names: a query equal to one comes first, then those a name starts with */
  names?: string[];
}

const MAX_SHOWN = 80;

/** Words of a query: every one must occur (ignoring case) for an option to match. */
function matches(search: string, query: string): boolean {
  const hay = search.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

/**
 * A text field with a filtered list of options under it: typing filters, arrows move, Enter or a
 * click picks, Escape closes. Free text stays what it is.
 */
export function Combo(props: {
  value: string;
  onChange: (v: string) => void;
  /** called when an option is picked (or Enter pressed on free text), after onChange */
  onPick?: (v: string) => void;
  options: ComboOption[];
  placeholder?: string;
  testId?: string;
  width?: number;
  title?: string;
  /** clear the field after a pick (list pickers add the pick elsewhere) */
  clearOnPick?: boolean;
  disabled?: boolean;
}): ReactNode {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const listRef = useRef<HTMLUListElement>(null);
  // While the list is open the field shows what is typed; the list filters by it (all options when nothing is typed yet).
  const shownText = query ?? props.value;
  const found = useMemo(() => {
    if (!query) return props.options;
    const q = query.trim().toLowerCase();
    const rank = (o: ComboOption): number => (o.names?.some((n) => n.toLowerCase() === q) ? 0 : o.names?.some((n) => n.toLowerCase().startsWith(q)) ? 1 : 2);
    // a stable sort: within a rank, the model's own order
    return props.options
      .filter((o) => matches(o.search, query))
      .map((o, i) => ({ o, i, r: rank(o) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.o);
  }, [props.options, query]);
  const shown = found.slice(0, MAX_SHOWN);

  useEffect(() => setActive(0), [query]);
  useEffect(() => {
    listRef.current?.querySelector(`[data-index="${active}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const pick = (v: string): void => {
    props.onChange(props.clearOnPick ? '' : v);
    props.onPick?.(v);
    setQuery(null);
    setOpen(false);
  };

  return (
    <div className="combo" style={{ width: props.width ?? 220 }} title={props.title}>
      <input
        type="text"
        value={shownText}
        placeholder={props.placeholder}
        disabled={props.disabled}
        data-testid={props.testId}
        role="combobox"
        aria-expanded={open}
        aria-autocomplete="list"
        onFocus={() => setOpen(true)}
        onBlur={() => {
          // typed text stays (free text): commit it
          if (query !== null && query !== props.value) props.onChange(query);
          setQuery(null);
          setOpen(false);
        }}
        onChange={(e) => {
          setQuery(e.target.value);
          setOpen(true);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(shown.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(0, a - 1));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            const o = open && query ? shown[active] : undefined;
            pick(o ? o.value : shownText);
          } else if (e.key === 'Escape') {
            setQuery(null);
            setOpen(false);
          }
        }}
      />
      {open && !props.disabled && (
        <ul className="combo-list" ref={listRef} role="listbox" data-testid={props.testId ? `${props.testId}-list` : undefined}>
          {shown.map((o, i) => (
            <li
              key={`${o.value}|${i}`}
              role="option"
              aria-selected={i === active}
              data-index={i}
              data-value={o.value}
              className={i === active ? 'on' : ''}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus: the blur would commit the typed text first
                pick(o.value);
              }}
              onMouseEnter={() => setActive(i)}
            >
              {o.label}
            </li>
          ))}
          {found.length > shown.length && <li className="combo-more muted">{found.length - shown.length} more: type to narrow</li>}
          {found.length === 0 && <li className="combo-more muted">no match: Enter keeps the text as typed</li>}
        </ul>
      )}
    </div>
  );
}

const dims = (p: Pickable): string => p.shape.slice(1).map((d) => (typeof d === 'number' ? d : '?')).join('×');

/** The name a picker puts in the field for a layer: its module path or short name when the server resolves it (`fires.5`), else the value name. */
export function layerName(p: Pickable): string {
  return p.label ?? p.name;
}

/**
 * Layers of a model as picker options; `roles` badges layers the profile uses (e.g. "dream layer").
 * `tokens` (the CAM layer's picker) keeps the maps CAM-type methods read (the server's `camMap`)
 * and adds a vision transformer's token layers after them: the CAM-type methods read them as
 * their patch grid's map, as --layer takes them.
 */
export function layerOptions(summary: Summary | null, o: { spatial?: boolean; tokens?: boolean; roles?: Record<string, string> } = {}): ComboOption[] {
  const option = (p: Pickable, grid?: TokenLayer['grid']): ComboOption => {
    const role = o.roles?.[p.name];
    const asMap = grid ? `tokens as a ${grid.channels}×${grid.height}×${grid.width} map` : '';
    return {
      value: layerName(p),
      search: `${p.label ?? ''} ${p.name} ${p.op} ${dims(p)} #${p.number ?? ''} ${role ?? ''} ${grid ? `tokens ${grid.height}×${grid.width}` : ''}`,
      names: [layerName(p), p.name, `#${p.number ?? ''}`],
      label: (
        <span className="combo-layer">
          <span className="combo-main">{layerName(p)}</span>
          <span className="muted"> · {p.op} {dims(p)}</span>
          {p.number !== undefined && <span className="muted"> · #{p.number}</span>}
          {role && <span className="tag">{role}</span>}
          {/* on the second line: a ViT's names are long, the list is at most 520px wide */}
          {grid ? (
            <span className="combo-sub" title={grid.prefix ? `the first ${grid.prefix === 1 ? 'token' : `${grid.prefix} tokens`} (class token) dropped` : undefined}>
              {asMap} · {p.name}
            </span>
          ) : (
            p.label && p.label !== p.name && <span className="combo-sub">{p.name}</span>
          )}
        </span>
      ),
    };
  };
  // the CAM layer's list (`tokens`): only the maps a CAM can read (not a window attention's values)
  const maps = (summary?.pickable ?? [])
    .filter((p) => !o.spatial || (p.shape.length === 4 && !['GlobalAveragePool', 'GlobalMaxPool'].includes(p.op)))
    .filter((p) => !o.spatial || !o.tokens || p.camMap !== false)
    .map((p) => option(p));
  if (!o.spatial || !o.tokens) return maps;
  return [...maps, ...(summary?.tokenLayers ?? []).map((t) => option(t, t.grid))];
}

/** A layer by value name: a listed layer, or a token layer the numbering leaves out (a LayerNormalization's). */
function layerByName(summary: Summary | null, value: string): Pickable | undefined {
  return summary?.pickable.find((x) => x.name === value) ?? summary?.tokenLayers?.find((x) => x.name === value);
}

/** The picker's name for a value name (a profile role), or the value itself when the summary does not list it. */
export function layerLabelOf(summary: Summary | null, value: string | undefined): string {
  if (!value) return '';
  const p = layerByName(summary, value);
  return p ? layerName(p) : value;
}

/** The shape [C, H, W] of a layer typed or picked by any of its names. */
export function findLayer(summary: Summary | null, text: string): Pickable | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const list = summary?.pickable ?? [];
  const k = /^#(\d+)$/.exec(t);
  if (k) return list[Number(k[1]) - 1];
  const named = (l: readonly Pickable[]): Pickable | undefined => l.find((p) => p.name === t || p.label === t || p.node === t || p.node === `/${t}`) ?? l.find((p) => p.label?.toLowerCase() === t.toLowerCase());
  return named(list) ?? named(summary?.tokenLayers ?? []);
}

/** The profile's roles by layer value name, as badges for the pickers. */
export function roleBadges(model: Model | undefined): Record<string, string> {
  const p = model?.profile;
  if (!p) return {};
  const out: Record<string, string> = {};
  const add = (v: string | undefined, role: string): void => {
    if (v && !out[v]) out[v] = role;
  };
  add(p.camLayer, 'CAM layer');
  // a vision transformer's: the tokens its last attention reads
  add(p.camTokens?.layer, 'CAM layer');
  add(p.dreamLayer, 'dream layer');
  for (const v of p.contentLayers) add(v, 'content');
  for (const v of p.styleLayers) add(v, 'style');
  for (const v of p.featureLayers) add(v, 'indexed');
  add(p.firstConv, 'first conv');
  return out;
}

export function LayerPicker(props: { label: string; model: Model | undefined; summary: Summary | null; value: string; onChange: (v: string) => void; testId?: string; spatial?: boolean; tokens?: boolean; width?: number; disabled?: boolean; stacked?: boolean; placeholder?: string }): ReactNode {
  const options = useMemo(() => layerOptions(props.summary, { spatial: props.spatial ?? true, tokens: props.tokens ?? false, roles: roleBadges(props.model) }), [props.summary, props.spatial, props.tokens, props.model]);
  const layer = findLayer(props.summary, props.value);
  return (
    <label className={props.stacked ? 'field' : 'field inline'}>
      <span>{props.label}</span>
      <Combo value={props.value} onChange={props.onChange} options={options} placeholder={props.placeholder ?? 'search layers: name, op, shape'} testId={props.testId} width={props.width ?? 200} disabled={props.disabled ?? false} title={layer ? `${layer.name} · ${layer.op} ${dims(layer)}` : 'a layer name as the model names it, a module path (fires.5) or #k'} />
    </label>
  );
}

/** Several layers: chips (× removes one) and a picker that adds; free text is added as typed. */
export function LayerListPicker(props: { label: string; model: Model | undefined; summary: Summary | null; value: string[]; onChange: (v: string[]) => void; onReset?: () => void; testId?: string }): ReactNode {
  const [text, setText] = useState('');
  const options = useMemo(() => layerOptions(props.summary, { spatial: false, roles: roleBadges(props.model) }), [props.summary, props.model]);
  return (
    <div className="field inline layer-list" data-testid={props.testId}>
      <span>{props.label}</span>
      <div className="chips">
        {props.value.map((l, i) => (
          <span key={`${l}|${i}`} className="chip" data-testid="layer-chip" title={findLayer(props.summary, l)?.name ?? l}>
            {l}
            <button type="button" aria-label={`remove ${l}`} onClick={() => props.onChange(props.value.filter((_, j) => j !== i))}>
              ×
            </button>
          </span>
        ))}
        <Combo
          value={text}
          onChange={setText}
          clearOnPick
          onPick={(v) => {
            const t = v.trim();
            if (t && !props.value.includes(t)) props.onChange([...props.value, t]);
          }}
          options={options}
          placeholder="add a layer…"
          testId={props.testId ? `${props.testId}-add` : undefined}
          width={170}
        />
        {props.onReset && (
          <button type="button" className="link-button small" onClick={props.onReset} title="the model profile's layers">
            default
          </button>
        )}
      </div>
    </div>
  );
}

/** Class options: by index and name. */
export function classOptions(labels: readonly string[] | undefined): ComboOption[] {
  return (labels ?? []).map((l, i) => ({
    value: String(i),
    search: `${i} ${l}`,
    names: [l, String(i)],
    label: (
      <span>
        <span className="muted">{i} · </span>
        {l}
      </span>
    ),
  }));
}

/**
 * One class: the field shows the class's name; an index or a name is sent. Empty means "the
 * default" (`emptyLabel`, e.g. the predicted class).
 */
export function ClassPicker(props: { label: string; labels: readonly string[] | undefined; value: string; onChange: (v: string) => void; emptyLabel: string; testId?: string; width?: number }): ReactNode {
  const options = useMemo(() => [{ value: '', search: props.emptyLabel, label: <i>{props.emptyLabel}</i> }, ...classOptions(props.labels)], [props.labels, props.emptyLabel]);
  const shown = /^\d+$/.test(props.value) && props.labels?.[Number(props.value)] !== undefined ? `${props.value} · ${props.labels[Number(props.value)]}` : props.value;
  return (
    <label className="field">
      <span>{props.label}</span>
      <Combo
        value={shown}
        onChange={(v) => {
          // "285 · Egyptian cat" back to its index; a typed name that is a label, to its index
          const m = /^(\d+) · /.exec(v);
          const k = props.labels?.findIndex((l) => l.toLowerCase() === v.trim().toLowerCase()) ?? -1;
          props.onChange(m ? m[1]! : k >= 0 ? String(k) : v.trim());
        }}
        options={options}
        placeholder={props.emptyLabel}
        testId={props.testId}
        width={props.width ?? 240}
      />
    </label>
  );
}

/**
 * How many classes a selection like "0-9,285,tabby cat" names (the server parses it: this only
 * counts for the estimate shown before a run); undefined when it cannot tell.
 */
export function countClasses(selection: string, total: number): number | undefined {
  const parts = selection.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return total;
  const seen = new Set<string>();
  for (const p of parts) {
    const r = /^(\d+)\s*-\s*(\d+)$/.exec(p);
    if (r) for (let k = Number(r[1]); k <= Math.min(Number(r[2]), total - 1); k++) seen.add(String(k));
    else seen.add(p.toLowerCase());
  }
  return seen.size;
}

/** Several classes as the featviz route takes them ("0-9,285"): a text field and a picker that appends. */
export function ClassSelection(props: { labels: readonly string[] | undefined; value: string; onChange: (v: string) => void; testId?: string; nouns?: { one: string; many: string } }): ReactNode {
  const [text, setText] = useState('');
  // a regression's outputs are outputs, not classes
  const { one, many } = props.nouns ?? { one: 'class', many: 'classes' };
  const options = useMemo(() => classOptions(props.labels), [props.labels]);
  const total = props.labels?.length ?? 0;
  const count = countClasses(props.value, total);
  const names = props.value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => /^\d+$/.test(p))
    .slice(0, 6)
    .map((p) => props.labels?.[Number(p)])
    .filter(Boolean);
  return (
    <div className="field inline class-selection">
      <span>{many[0]!.toUpperCase() + many.slice(1)}</span>
      <input type="text" value={props.value} onChange={(e) => props.onChange(e.target.value)} placeholder={`all ${total}`} style={{ width: 150 }} data-testid={props.testId} title={`indices and ranges (0-9,285) or names, comma-separated; empty: every ${one}`} />
      <Combo
        value={text}
        onChange={setText}
        clearOnPick
        onPick={(v) => {
          const t = v.trim();
          if (!t) return;
          const list = props.value.split(',').map((p) => p.trim()).filter(Boolean);
          if (!list.includes(t)) props.onChange([...list, t].join(','));
        }}
        options={options}
        placeholder={`add ${one === 'output' ? 'an output' : 'a class'} by name…`}
        testId={props.testId ? `${props.testId}-add` : undefined}
        width={200}
      />
      <span className="muted small" data-testid={props.testId ? `${props.testId}-count` : undefined}>
        {count === total ? `all ${total} ${many}` : `${count ?? '?'} ${count === 1 ? one : many}`}
        {names.length > 0 && count !== total ? `: ${names.join(', ')}${(count ?? 0) > names.length ? ', …' : ''}` : ''}
      </span>
    </div>
  );
}
