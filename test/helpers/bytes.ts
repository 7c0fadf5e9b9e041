// Byte helpers shared by tests.

/** Chunks joined into one plain Uint8Array (so decoded views compare equal to Uint8Array values, not Buffers). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const b = Buffer.concat(chunks);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
