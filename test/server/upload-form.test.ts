// An upload is one file in the form field "file" and nothing else, as the studio page sends it.
// A form with other fields, the file under another name, or a second file is a 400 naming what
// is wrong (bounded), and nothing is added to the registry; the first file found was taken
// before and the rest dropped unannounced.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { DEFAULT_SAMPLES_DIR } from '../../src/interfaces/server/app.js';
import { courseCnn } from '../../src/models/zoo/index.js';
import { inProcessStudio } from './page-inject.js';

const { inject, studio } = inProcessStudio();

const PNG = readFileSync(join(DEFAULT_SAMPLES_DIR, 'fashion-mnist/bag-test18.png'));
const ONNX = Buffer.from(encodeModel(courseCnn(2)));

interface Part {
  name: string;
  filename?: string;
  body: Buffer | string;
}

function form(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const b = 'convlens-upload-form';
  const chunks = parts.flatMap((p) => [
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n${p.filename ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n`),
    Buffer.from(p.body),
    Buffer.from('\r\n'),
  ]);
  return { payload: Buffer.concat([...chunks, Buffer.from(`--${b}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
}

const ROUTES = [
  { url: '/api/images', file: { name: 'file', filename: 'a.png', body: PNG }, count: () => studio().images.list().length },
  { url: '/api/models', file: { name: 'file', filename: 'a.onnx', body: ONNX }, count: () => studio().models.list().length },
  // a grey PNG is a segments mask of at most 256 segments
  { url: '/api/masks', file: { name: 'file', filename: 'a.png', body: PNG }, count: () => studio().masks.list().length },
];

describe('upload forms', () => {
  for (const route of ROUTES) {
    const refused: [what: string, parts: Part[], message: RegExp][] = [
      ['the file under another field name', [{ ...route.file, name: 'picture' }], /^The upload's file is in the field "picture"; the studio reads it from the field "file"\.$/],
      ['a text field beside the file', [{ name: 'note', body: 'hello' }, route.file], /^The upload has a form field "note"; it takes one file/],
      ['a text field after the file', [route.file, { name: 'note', body: 'hello' }], /^The upload has a form field "note"/],
      ['a second file', [route.file, { ...route.file, filename: 'b' }], /^The upload holds more than one file/],
      ['"file" as a text field', [{ name: 'file', body: 'not a file' }], /^The field "file" of the upload holds a form value, not a file\.$/],
      ['a field of a long name, quoted bounded', [{ name: 'n'.repeat(5000), body: 'x' }, route.file], /^The upload has a form field "n{64}\.\.\."/],
      ['more parts than any form of one file has', Array.from({ length: 12 }, (_, k) => ({ ...route.file, filename: `f${k}` })), /more than one file|more parts than one file/],
    ];
    for (const [what, parts, message] of refused) {
      it(`POST ${route.url} refuses ${what}, and keeps nothing`, async () => {
        const before = route.count();
        const r = await inject({ method: 'POST', url: route.url, ...form(parts) });
        expect(r.statusCode, r.body).toBe(400);
        expect(r.json().error.code).toBe('INVALID_ARGUMENT');
        expect(r.json().error.message).toMatch(message);
        expect(r.body).not.toContain('hello');
        expect(r.body.length).toBeLessThan(1000);
        expect(route.count()).toBe(before);
      });
    }

    it(`POST ${route.url} takes one file in "file"`, async () => {
      const before = route.count();
      const r = await inject({ method: 'POST', url: route.url, ...form([route.file]) });
      expect(r.statusCode, r.body).toBe(201);
      expect(route.count()).toBe(before + 1);
    });
  }
});
