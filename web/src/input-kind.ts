// What a model's input takes, as the page tells it. No imports: unit tests load this file under Node.

export interface InputKind {
  /** channels of the input tensor (undefined when the graph leaves them open) */
  channels: number | undefined;
  /** how the page names them: gray, rgb, bgr, or "4 channels" */
  label: string;
  /** whether images (1 or 3 channels) can be fed to it at all */
  takesImages: boolean;
  /** the sample group whose images fit it; none for a model no image fits */
  sampleGroup: string | undefined;
  /**
   * Why the page sends this model no image (undefined when it takes images): the server refuses
   * every request that feeds it one, so the tabs say so up front instead of sending them.
   */
  noImages: string | undefined;
}

/**
 * A model's input as the page tells it. The server's preprocessing says 'rgb' for any input that
 * is not gray (its channel names are rgb, bgr and gray only), so a 4-channel model was shown as
 * "4 × 61 × 90 (rgb)" and its photos as "fit this model", though no image can be fed to it.
 */
export function inputKind(model: { input?: { shape: readonly (number | string)[] }; preprocessing?: { channels?: string }; sampleGroup?: string }): InputKind {
  const c = model.input?.shape[1];
  const channels = typeof c === 'number' ? c : undefined;
  const named = model.preprocessing?.channels;
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    return { channels, label: `${channels} channels`, takesImages: false, sampleGroup: undefined, noImages: `This model takes ${channels}-channel input and images give 1 (gray) or 3 (colour) channels, so the studio cannot feed it an image` };
  }
  const gray = channels === 1 || named === 'gray';
  return { channels, label: named ?? (gray ? 'gray' : 'rgb'), takesImages: true, sampleGroup: model.sampleGroup ?? (gray ? 'fashion-mnist' : 'photos'), noImages: undefined };
}
