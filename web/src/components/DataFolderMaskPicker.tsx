import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, type DataFolderPng } from '../api';
import { Combo, type ComboOption } from './Pickers';

// A segments mask from the studio's data folders (POST /api/masks { path }): the PNGs there,
// searchable by path, the ones named like masks (mask, seg, label) first. Typing a path and
// pressing Enter sends it as typed.

const MASK_LIKE = /mask|seg|label/i;
const lastPart = (p: string): string => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

export function DataFolderMaskPicker(props: { onPick: (path: string) => void; disabled?: boolean }): ReactNode {
  const [pngs, setPngs] = useState<{ files: DataFolderPng[]; truncated: boolean } | null>(null);
  const [text, setText] = useState('');
  useEffect(() => {
    let live = true;
    api.dataFolderPngs().then(
      (r) => live && setPngs(r),
      () => live && setPngs({ files: [], truncated: false }),
    );
    return () => {
      live = false;
    };
  }, []);
  const options = useMemo<ComboOption[]>(() => {
    const files = [...(pngs?.files ?? [])].sort((a, b) => Number(MASK_LIKE.test(b.relative)) - Number(MASK_LIKE.test(a.relative)));
    return files.map((f) => ({
      value: f.path,
      label: (
        <>
          {f.relative} <span className="muted small">in {lastPart(f.root)}</span>
        </>
      ),
      search: `${f.relative} ${lastPart(f.root)}`,
      names: [lastPart(f.relative)],
    }));
  }, [pngs]);
  const none = pngs !== null && pngs.files.length === 0;
  return (
    <span className="data-folder-mask" data-testid="segments-mask-data">
      <span className="muted small">or from the data folders</span>
      <Combo
        value={text}
        onChange={setText}
        onPick={(v) => {
          if (v.trim()) props.onPick(v.trim());
        }}
        clearOnPick
        options={options}
        placeholder={none ? 'no PNG in the data folders' : 'a PNG: type to search…'}
        title={`PNGs in the studio's data folders${pngs?.truncated ? ' (the first 500)' : ''}; a path typed and Enter also works`}
        testId="segments-mask-path"
        width={240}
        disabled={props.disabled}
      />
    </span>
  );
}
