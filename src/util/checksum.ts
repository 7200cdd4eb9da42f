// A short checksum of bytes (FNV-1a, 32 bits, hex), for telling a run's inputs apart from
// others'. Not for security: anyone can make two inputs with the same checksum. Free of Node, so
// methods that run in a browser worker can use it.

/** FNV-1a over the bytes of `data`, as 8 hex digits. */
export function checksum(data: ArrayBufferView): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
