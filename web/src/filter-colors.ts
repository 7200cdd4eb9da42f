// (no imports: the tests typecheck this file under the node16 rules, the page under Vite's)

/**
 * Which weight channel each of red, green and blue shows when a filter bank is drawn as colour
 * tiles, or null to draw it in grey. Only the first conv on the image has colour channels: a
 * later conv that happens to take 3 channels sees features, not colours. A model fed BGR (Caffe
 * and OpenCV exports, preprocessing channels "bgr") has blue in weight channel 0: its tiles were
 * drawn with red and blue swapped.
 */
export function filterColorOrder(inputs: number, firstConv: boolean, channels: string | undefined): [number, number, number] | null {
  if (inputs !== 3 || !firstConv) return null;
  return channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
}
