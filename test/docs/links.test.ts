// Every relative link and image of README.md and docs/*.md resolves: the file exists, and a
// `#anchor` names a heading of the page it points to (GitHub's slugs). Figures are regenerated
// and moved, sections renamed; a reader following the docs meets a 404 otherwise.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');

/** The text outside fenced code blocks (a `](x)` inside code is not a link). */
const prose = (text: string): string => text.replace(/```[\s\S]*?```/g, '');

describe('docs: links', () => {
  it('every relative link and image resolves, anchors included', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const doc of DOCS) {
      const text = prose(readFileSync(join(ROOT, doc), 'utf8'));
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // http:, https:, mailto:
        checked++;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path ? normalize(join(ROOT, dirname(doc), path)) : join(ROOT, doc);
        if (!existsSync(file)) {
          broken.push(`${doc}: ${target} (no such file)`);
          continue;
        }
        if (anchor && file.endsWith('.md')) {
          const headings = [...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1]!));
          if (!headings.includes(anchor)) broken.push(`${doc}: ${target} (no heading with that anchor)`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });
});
