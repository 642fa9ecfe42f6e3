/**
 * A ranged read's bytes, refused unless there are exactly as many as asked for: a store
 * answers a range past the end with fewer bytes, and one that ignores Range with the whole
 * object; either way the caller would parse the wrong bytes.
 */
export function exactRange(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  if (bytes.length !== length) throw new Error(`asked for ${length} bytes at offset ${offset}, got ${bytes.length}`);
  return bytes;
}
