// Malformed JSON in a user's file is reported by line, column and kind of fault, never by
// quoting the text around it (JSON.parse's own messages do quote it).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../src/methods/diffusion/clip-tokenizer.js';
import { parseLabels } from '../../src/models/metadata.js';
import { jsonFault, parseJson } from '../../src/util/json.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const SECRET = 'hunter2-s3cret';
const dir = tempFolder('convlens-json-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const faultOf = (text: string): string => {
  const r = parseJson(text);
  if (r.fault === undefined) throw new Error('parsed');
  return r.fault;
};

describe('jsonFault', () => {
  it('says where the fault is, by line and column', () => {
    expect(faultOf('{\n  "a": 1,\n  "b": 2 "c": 3}')).toBe("line 3, column 10: expected ',' or '}' after property value");
    expect(faultOf('{"a": 1,}')).toBe('line 1, column 9: expected double-quoted property name');
    expect(faultOf('[1] x')).toBe('line 1, column 5: more text after the JSON value');
    expect(faultOf('')).toBe('the text is empty');
    expect(faultOf('{"a": [1, 2')).toBe("line 1, column 12: expected ',' or ']' after array element");
    expect(faultOf('{"a": tru')).toBe('it ends early (line 1, column 10)');
    expect(faultOf('[\n  "a",\n  beta]')).toBe('line 3, column 3: an unexpected character');
  });

  it('never quotes the text, whatever the fault', () => {
    const texts = [SECRET, `{"k": ${SECRET}}`, `{"k": "${SECRET}" "${SECRET}"}`, `["${SECRET}\u0001"]`, `{"${SECRET}": 1e}`, `"${SECRET}`, `[${SECRET}]`, `{"a": "\\q${SECRET}"}`];
    for (const text of texts) {
      let message = '';
      try {
        JSON.parse(text);
      } catch (e) {
        message = jsonFault(e, text);
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('hunter');
      expect(message).not.toContain('"');
    }
  });

  it('gives the value when the text parses', () => {
    expect(parseJson('{"a": [1, "x"]}')).toEqual({ value: { a: [1, 'x'] } });
  });
});

describe('files with malformed JSON', () => {
  it('a labels file: named, with the place of the fault, without its contents', () => {
    let message = '';
    try {
      parseLabels(`["cat", "dog", ${SECRET}]`, 'labels.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('labels.json');
    expect(message).toContain('line 1, column');
    expect(message).not.toContain('hunter');
  });

  it("a tokenizer's vocab.json", () => {
    const folder = join(dir, 'tokenizer');
    mkdirSync(folder);
    writeFileSync(join(folder, 'vocab.json'), `{"a</w>": 0, "${SECRET}": oops}`);
    writeFileSync(join(folder, 'merges.txt'), '#version: 0.2\n');
    expect(() => ClipTokenizer.fromFolder(folder)).toThrow(/vocab\.json is not valid JSON \(line 1, column \d+: an unexpected character\)/);
    try {
      ClipTokenizer.fromFolder(folder);
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter');
    }
  });

  it('describe --profile @file on the command line', async () => {
    const file = join(dir, 'roles.json');
    writeFileSync(file, `{"dreamLayer": "${SECRET}",\n "styleLayers": ${SECRET}}`);
    const r = await convlens('describe', '--model', 'squeezenet', '--profile', `@${file}`, '--out', join(dir, 'out.onnx'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('line 2, column');
    expect(r.stderr + r.stdout).not.toContain('hunter');
  }, 60_000);
});
