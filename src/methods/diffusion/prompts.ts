import { ConvLensError } from '../../engine/errors.js';
import { lookup } from '../../util/lookup.js';

/**
 * Text prompts for a class-conditional model: a prompt names one of the model's classes. Matching
 * ignores case, punctuation, plurals, articles and framing words ("a photo of an ankle boot" is
 * "Ankle boot"); each part of a label with alternatives counts ("T-shirt/top": "t-shirt", "top"),
 * and a few everyday synonyms are known for Fashion-MNIST's classes. The empty prompt is the
 * unconditional model (classifier-free guidance's "no condition"). A prompt that names nothing
 * the model knows is an error that lists what it does know and the closest match.
 */
export type PromptCondition = { kind: 'class'; index: number; label: string } | { kind: 'unconditional' };

const FILLER = new Set(['a', 'an', 'the', 'some', 'one', 'photo', 'picture', 'image', 'drawing', 'sketch', 'of', 'pair', 'pairs', 'fashion', 'mnist', 'grayscale', 'gray', 'class']);

/** Synonyms by normalized label (Fashion-MNIST's classes). */
const SYNONYMS: Record<string, string[]> = {
  't shirt top': ['tshirt', 'tee', 'tee shirt', 't shirt', 'top'],
  trouser: ['pants', 'trousers', 'jeans', 'slacks'],
  pullover: ['sweater', 'jumper', 'sweatshirt'],
  dress: ['gown', 'frock'],
  coat: ['jacket', 'overcoat'],
  sandal: ['sandals', 'flip flop'],
  shirt: ['blouse', 'button shirt'],
  sneaker: ['trainer', 'running shoe', 'sport shoe', 'tennis shoe'],
  bag: ['handbag', 'purse', 'tote'],
  'ankle boot': ['boot', 'bootie'],
};

/** Lowercase, punctuation to spaces, collapsed whitespace. */
export function normalizeText(s: string): string {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('sses')) return word.slice(0, -2); // dresses -> dress
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** The comparable form of a phrase: normalized, filler words dropped, every word singular. */
export function promptKey(s: string): string {
  return normalizeText(s)
    .split(' ')
    .filter((w) => w && !FILLER.has(w))
    .map(singular)
    .join(' ');
}

function variants(label: string): string[] {
  const out = new Set<string>([promptKey(label)]);
  for (const part of label.split('/')) out.add(promptKey(part));
  for (const syn of lookup(SYNONYMS, normalizeText(label)) ?? []) out.add(promptKey(syn));
  out.delete('');
  return [...out];
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** Maps one prompt onto the model's classes (or the unconditional model for ""). */
export function resolvePrompt(prompt: string, labels: readonly string[], what = 'prompt'): PromptCondition {
  const key = promptKey(prompt);
  if (normalizeText(prompt) === '') return { kind: 'unconditional' };
  if (/^\d+$/.test(prompt.trim())) {
    const i = Number(prompt.trim());
    if (i < labels.length) return { kind: 'class', index: i, label: labels[i]! };
  }
  const table = labels.map((l, i) => ({ i, keys: variants(l) }));
  const matches = table.filter((e) => e.keys.includes(key));
  if (matches.length === 1) return { kind: 'class', index: matches[0]!.i, label: labels[matches[0]!.i]! };
  // A prompt that contains class names as whole words ("ankle boot on white"): one class must
  // remain after dropping names that are part of another class's longer name ("shirt" in "tee shirt").
  const padded = ` ${key} `;
  const hits = table.map((e) => ({ i: e.i, keys: e.keys.filter((k) => padded.includes(` ${k} `)) })).filter((e) => e.keys.length);
  const best = hits.filter((e) => !e.keys.every((k) => hits.some((o) => o.i !== e.i && o.keys.some((k2) => k2 !== k && ` ${k2} `.includes(` ${k} `)))));
  if (best.length === 1) return { kind: 'class', index: best[0]!.i, label: labels[best[0]!.i]! };
  const closest = labels
    .map((l) => ({ l, d: Math.min(...variants(l).map((v) => editDistance(v, key))) }))
    .sort((a, b) => a.d - b.d)[0];
  const list = labels.map((l) => `"${l}"`).join(', ');
  throw new ConvLensError(
    'INVALID_ARGUMENT',
    best.length > 1
      ? `The ${what} "${prompt}" names more than one class (${best.map((e) => `"${labels[e.i]}"`).join(', ')}); a prompt must name one.`
      : `Cannot map the ${what} "${prompt}" to a condition of this model.`,
    `This model is conditioned on ${labels.length} classes: ${list}. Prompts match them ignoring case, punctuation, plurals and articles ("an ankle boot"); "" is the unconditional model.` +
      (closest && closest.d <= Math.max(2, Math.floor(key.length / 3)) && best.length <= 1 ? ` Did you mean "${closest.l}"?` : ''),
  );
}

/** A condition's class index for the model: the class, or the model's "no condition" index. */
export function conditionIndex(c: PromptCondition, nullClass: number): number {
  return c.kind === 'class' ? c.index : nullClass;
}
