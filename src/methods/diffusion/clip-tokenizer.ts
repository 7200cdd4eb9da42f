import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvLensError } from '../../engine/errors.js';
import { readFileOrExplain } from '../../io/files.js';
import { parseJson } from '../../util/json.js';
import { lookup } from '../../util/lookup.js';

/**
 * CLIP's byte-level BPE tokenizer (openai/CLIP simple_tokenizer.py; Hugging Face
 * CLIPTokenizer), read from the `vocab.json` and `merges.txt` files a Stable Diffusion export
 * ships in `tokenizer/`:
 *
 *  - clean the text (HTML entities unescaped twice, whitespace runs collapsed, trimmed) and lowercase it;
 *  - split it with CLIP's pattern (the special tokens, English contractions, runs of letters,
 *    single digits, runs of other non-space characters);
 *  - map every UTF-8 byte of a piece to CLIP's printable byte alphabet, mark the end of the
 *    word with `</w>`, and merge adjacent symbols by merge rank until no listed merge applies;
 *  - look the symbols up in the vocabulary;
 *  - encode as <|startoftext|> ids... <|endoftext|>, truncated to 77 tokens and padded with the
 *    pad token (SD 1.x: <|endoftext|>; SD 2.x exports say "!" in special_tokens_map.json).
 */
export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  /** merges.txt lines, "a b" (the "#version" header is skipped) */
  merges: readonly string[];
  /** the padding token (default <|endoftext|>) */
  padToken?: string;
  /** model_max_length (default 77) */
  maxLength?: number;
}

const BOS = '<|startoftext|>';
const EOS = '<|endoftext|>';

/** CLIP's byte -> printable unicode character table (bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return table;
}

const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
function htmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return lookup(ENTITIES, e.toLowerCase()) ?? m;
  });
}

export class ClipTokenizer {
  readonly vocab: Map<string, number>;
  readonly ranks: Map<string, number>;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly maxLength: number;
  private readonly byteChars = bytesToUnicode();
  private readonly cache = new Map<string, string[]>();

  constructor(files: ClipTokenizerFiles, readonly source = 'tokenizer') {
    this.vocab = new Map(Object.entries(files.vocab));
    const lines = files.merges.filter((l, i) => !(i === 0 && l.startsWith('#version')) && l.trim() !== '');
    // Without merges every prompt is spelled letter by letter, tokens the text encoder never saw
    // in training: the images would ignore the prompt without a word (an empty file is a failed copy).
    if (!lines.length) throw new ConvLensError('MODEL_UNREADABLE', `The ${source} merges.txt has no merges.`, 'Copy tokenizer/merges.txt again from the pipeline export (a CLIP tokenizer has about 48,900 merges).');
    // Hugging Face and openai/CLIP use the first 49152 - 256 - 2 merges.
    this.ranks = new Map(lines.slice(0, 49152 - 256 - 2).map((l, i) => [l.trim(), i]));
    const need = (tok: string): number => {
      const id = this.vocab.get(tok);
      if (id === undefined) throw new ConvLensError('MODEL_UNREADABLE', `The ${source} vocabulary has no "${tok}" token.`, 'Use the vocab.json of a CLIP tokenizer (tokenizer/ of a Stable Diffusion export).');
      return id;
    };
    this.bos = need(BOS);
    this.eos = need(EOS);
    this.pad = need(files.padToken ?? EOS);
    this.maxLength = files.maxLength ?? 77;
  }

  /** Reads tokenizer/{vocab.json, merges.txt} and the pad token and length from special_tokens_map.json / tokenizer_config.json. */
  static fromFolder(dir: string): ClipTokenizer {
    const file = (name: string): string => join(dir, name);
    for (const f of ['vocab.json', 'merges.txt']) {
      if (!existsSync(file(f))) throw new ConvLensError('INPUT_UNREADABLE', `The tokenizer folder "${dir}" has no ${f}.`, 'A Stable Diffusion export has tokenizer/vocab.json and tokenizer/merges.txt (CLIP BPE).');
    }
    const vocabText = readFileOrExplain(file('vocab.json'), 'tokenizer vocabulary').toString('utf8');
    const parsedVocab = parseJson(vocabText);
    if (parsedVocab.fault !== undefined) throw new ConvLensError('MODEL_UNREADABLE', `${file('vocab.json')} is not valid JSON (${parsedVocab.fault}).`, 'Copy tokenizer/vocab.json again from the pipeline export.');
    const vocab = parsedVocab.value as Record<string, number>;
    const merges = readFileOrExplain(file('merges.txt'), 'tokenizer merges').toString('utf8').split(/\r?\n/);
    const readJson = (name: string): Record<string, unknown> => {
      try {
        return existsSync(file(name)) ? (JSON.parse(readFileOrExplain(file(name), 'tokenizer configuration').toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        return {};
      }
    };
    const special = readJson('special_tokens_map.json');
    const config = readJson('tokenizer_config.json');
    const tokenText = (v: unknown): string | undefined => (typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
    const padToken = tokenText(special.pad_token) ?? tokenText(config.pad_token);
    const maxLength = typeof config.model_max_length === 'number' && config.model_max_length < 100000 ? config.model_max_length : undefined;
    return new ClipTokenizer({ vocab, merges, ...(padToken ? { padToken } : {}), ...(maxLength ? { maxLength } : {}) }, `tokenizer "${dir}"`);
  }

  /** The cleaned, lowercased text CLIP tokenizes. */
  static clean(text: string): string {
    return htmlUnescape(htmlUnescape(text)).trim().replace(/\s+/g, ' ').trim().toLowerCase();
  }

  private bpe(token: string): string[] {
    const hit = this.cache.get(token);
    if (hit) return hit;
    const chars = [...token];
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // Merge every occurrence of the best pair, left to right (as CLIP does).
      const first = word[best]!;
      const second = word[best + 1]!;
      const next: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else next.push(word[i++]!);
      }
      word = next;
    }
    this.cache.set(token, word);
    return word;
  }

  /** BPE symbols of a text (no start/end tokens). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const m of ClipTokenizer.clean(text).matchAll(PATTERN)) {
      const piece = m[0];
      if (piece === BOS || piece === EOS) {
        out.push(piece);
        continue;
      }
      const bytes = new TextEncoder().encode(piece);
      out.push(...this.bpe(Array.from(bytes, (b) => this.byteChars[b]!).join('')));
    }
    return out;
  }

  /** Token ids of a text (no start/end tokens); symbols missing from the vocabulary are an error. */
  encodeTokens(text: string): number[] {
    return this.tokenize(text).map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new ConvLensError('MODEL_UNREADABLE', `The ${this.source} vocabulary has no entry for the BPE symbol "${s}".`, 'vocab.json and merges.txt must come from the same tokenizer.');
      return id;
    });
  }

  /** [bos, ids..., eos] truncated to maxLength and padded: the text encoder's input_ids. */
  encode(text: string): { ids: number[]; length: number; truncated: boolean } {
    const body = this.encodeTokens(text);
    const room = this.maxLength - 2;
    const kept = body.slice(0, room);
    const ids = [this.bos, ...kept, this.eos];
    const length = ids.length;
    while (ids.length < this.maxLength) ids.push(this.pad);
    return { ids, length, truncated: body.length > room };
  }

  /** Decodes ids back to text (for messages and tests). */
  decode(ids: readonly number[]): string {
    const inv = new Map<number, string>([...this.vocab].map(([k, v]) => [v, k]));
    const byteOf = new Map(this.byteChars.map((c, b) => [c, b]));
    const text = ids
      .map((i) => inv.get(i) ?? '')
      .filter((s) => s !== BOS && s !== EOS)
      .join('');
    const bytes: number[] = [];
    for (const ch of text.replace(/<\/w>/g, ' ')) {
      const b = byteOf.get(ch);
      if (b !== undefined) bytes.push(b);
      else bytes.push(...new TextEncoder().encode(ch));
    }
    return new TextDecoder().decode(Uint8Array.from(bytes)).trim();
  }
}
