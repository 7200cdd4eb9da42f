import { useMemo, type ReactNode } from 'react';
import type { ApiError, ImageEntry } from '../api';
import { ErrorBox, Panel, UploadButton } from './ui';

const GROUPS: Record<string, string> = {
  'fashion-mnist': 'Fashion-MNIST',
  photos: 'Photos',
  textures: 'Textures',
  uploads: 'Your uploads',
};
const ORDER = ['fashion-mnist', 'photos', 'textures', 'uploads'];

export function ImagePanel(props: {
  images: ImageEntry[];
  imageId: string | null;
  onChoose: (id: string) => void;
  onUpload: (file: File) => void;
  upload: { busy: boolean; error: ApiError | null };
  onDismissError: () => void;
  /** the sample group whose images fit the chosen model: shown first */
  fitting?: string | undefined;
  modelName?: string | undefined;
}): ReactNode {
  const { fitting } = props;
  const groups = useMemo(() => {
    const by = new Map<string, ImageEntry[]>();
    for (const img of props.images) by.set(img.group, [...(by.get(img.group) ?? []), img]);
    const rank = (g: string): number => (g === fitting ? -1 : ORDER.indexOf(g) + 1 || 99);
    return [...by.entries()].sort(([a], [b]) => rank(a) - rank(b));
  }, [props.images, fitting]);
  return (
    <Panel
      title="Image"
      testId="image-panel"
      actions={<UploadButton label="Upload…" busyLabel="Uploading…" busy={props.upload.busy} accept="image/png,image/jpeg,image/webp" onFile={props.onUpload} testId="image-upload-button" inputTestId="image-file" />}
    >
      <ErrorBox error={props.upload.error} title="Upload refused" onClose={props.onDismissError} testId="image-error" />
      <div className="gallery" data-testid="gallery">
        {groups.map(([group, list]) => (
          <div key={group} className="gallery-group">
            <div className="gallery-heading" data-group={group}>
              {GROUPS[group] ?? group}
              {group === fitting && props.modelName && (
                <span className="gallery-fits" title={`the samples that fit ${props.modelName}'s input`}>
                  {' '}
                  · fit this model
                </span>
              )}
            </div>
            <div className="gallery-grid">
              {list.map((img) => (
                <button
                  key={img.id}
                  type="button"
                  className={`thumb ${img.id === props.imageId ? 'on' : ''} ${group === 'fashion-mnist' ? 'pixelated' : ''}`}
                  title={img.name}
                  aria-pressed={img.id === props.imageId}
                  data-testid={`image-${img.id}`}
                  onClick={() => props.onChoose(img.id)}
                >
                  <img src={img.url} alt={img.name} loading="lazy" draggable={false} />
                </button>
              ))}
            </div>
          </div>
        ))}
      </div>
      <p className="hint">or drop an image anywhere on the page</p>
    </Panel>
  );
}
