/**
 * A name as shown inside a sentence or a caption: at most `max` characters, the middle cut out
 * (an uploaded file's name can be 200 characters without a space; its start and its end are
 * what tell two files apart). The full name stays wherever it is an identifier.
 */
export function abbreviateName(name: string, max = 48): string {
  const chars = [...name]; // by code point: a cut never splits a surrogate pair
  if (chars.length <= max) return name;
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - tail).join('')}`;
}
