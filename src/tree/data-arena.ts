// DataArena: the bytes of small znode values copied into shared chunks, so that a znode's data costs its length
// instead of an ArrayBuffer, a backing store and a view of its own (about 375 bytes more for a 100-byte value).
// Pure: no I/O, no clock, no randomness.

/**
 * Bytes per chunk. A chunk lives as long as any value in it, so this is also what one long-lived value can keep
 * alive after its neighbours are replaced or deleted: small, to bound that, and large enough to hold dozens of
 * typical values.
 */
export const arenaChunkBytes = 4096;
/** Values longer than this get a buffer of their own (its overhead is then small next to the value). */
export const arenaValueBytesMax = 1024;

/** Where a node keeps its data: `length` bytes of `chunk` from `offset`, or null. */
export interface DataSlot {
  setDataSlice(chunk: Uint8Array | null, offset: number, length: number): void;
}

const emptyData = new Uint8Array(0);

/**
 * Hands out room for values, append-only: a value replaced or deleted leaves its bytes in the chunk until every
 * other value there is gone too. Nothing writes into a value after it is stored; readers get views.
 */
export class DataArena {
  private chunk = new Uint8Array(arenaChunkBytes);
  private used = 0;

  /**
   * Gives `node` a copy of `data` (null stays null; empty values share one empty array). `data` may be a view
   * into a larger buffer (a snapshot, a frame): that buffer is not kept.
   */
  store(node: DataSlot, data: Uint8Array | null): void {
    if (data === null) {
      node.setDataSlice(null, 0, 0);
      return;
    }
    const length = data.length;
    if (length === 0) {
      node.setDataSlice(emptyData, 0, 0);
      return;
    }
    if (length > arenaValueBytesMax) {
      // A buffer of its own is kept as it is; a view is copied, so that it does not keep its whole buffer.
      const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      node.setDataSlice(own ? data : data.slice(), 0, length);
      return;
    }
    if (this.used + length > arenaChunkBytes) {
      this.chunk = new Uint8Array(arenaChunkBytes);
      this.used = 0;
    }
    const offset = this.used;
    this.chunk.set(data, offset);
    this.used = offset + length;
    node.setDataSlice(this.chunk, offset, length);
  }
}
