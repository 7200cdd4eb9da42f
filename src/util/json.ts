// JSON.parse's messages quote the text around a fault ('Unexpected token 'p', "password123" is not valid JSON'),
// and ConvLens errors never quote the contents of a user's file: this says where and what kind of fault it is.

/** Where a JSON text is malformed and how, without quoting it: "line 3, column 7: expected ',' or '}' after property value". */
export function jsonFault(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const kind = describeKind(message);
  if (/Unexpected end of JSON input/.test(message)) return text.trim() === '' ? 'the text is empty' : `it ends early (${lineAndColumn(text, text.length)})`;
  const at = /at position (\d+)/.exec(message);
  const position = at ? Number(at[1]) : faultPosition(text);
  return position === undefined ? kind : `${lineAndColumn(text, position)}: ${kind}`;
}

/** JSON.parse, or undefined with the fault (never quoting the text) when it fails. */
export function parseJson(text: string): { value: unknown; fault?: undefined } | { value?: undefined; fault: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    return { fault: jsonFault(e, text) };
  }
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, Math.max(0, Math.min(position, text.length)));
  const lines = before.split('\n');
  return `line ${lines.length}, column ${lines[lines.length - 1]!.length + 1}`;
}

function describeKind(message: string): string {
  // V8 words: "Expected ',' or '}' after property value in JSON at position 7", "Unexpected token 's', "..." is not valid JSON".
  const head = message.replace(/ in JSON at position \d+.*$/s, '');
  if (/^Unexpected token/.test(head)) return 'an unexpected character';
  if (/^Unexpected non-whitespace character after JSON/.test(head)) return 'more text after the JSON value';
  if (/^Bad control character in string literal/.test(head)) return 'a control character inside a string';
  if (/^(Expected|Unterminated|Bad|Exponent|No number)/.test(head) && !/"/.test(head)) return head.charAt(0).toLowerCase() + head.slice(1);
  return 'not valid JSON';
}

/**
 * The offset of the first character that cannot continue a JSON text, for V8's messages that quote
 * the text instead of giving it ("Unexpected token 's', ... is not valid JSON").
 */
function faultPosition(text: string): number | undefined {
  let i = 0;
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (): void => {
    const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
    if (word) i += word.length;
    else if (/[-0-9]/.test(text[i] ?? '')) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!m || !m[0] || m[0] === '-') fail();
      i += m![0].length;
    } else fail();
  };
  const string = (): void => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) fail();
    space();
    const c = text[i];
    if (c === '"') string();
    else if (c === '[' || c === '{') {
      const close = c === '[' ? ']' : '}';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (close === '}') {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    } else literal();
  };
  try {
    value(0);
    space();
    return i < text.length ? i : undefined;
  } catch (at) {
    return typeof at === 'number' ? at : undefined;
  }
}
