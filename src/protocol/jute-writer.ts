// JuteWriter: a growable buffer for jute's binary encoding (BinaryOutputArchive), framed or not.
// Pure: no I/O, no clock, no randomness.
import { assert } from "../base/assert.js";
import { encodeUtf8Into, utf8BytesMax } from "./utf8.js";

const initialCapacityDefault = 256;

/**
 * Small writers (replies, txns, events) take their bytes from a shared slab, as Buffer.allocUnsafe takes
 * from its pool: one ArrayBuffer serves hundreds of writers instead of one each, which is most of the
 * cost of a small reply. A slab's bytes are handed out once and never reused: a finished writer's result is
 * a view that stays valid (and keeps its slab alive) as long as anyone holds it.
 */
const slabBytes = 64 * 1024;
/** Larger requests get an ArrayBuffer of their own, so one long-lived view never pins a slab it barely uses. */
const slabTakeMax = 4 * 1024;

let slab = new Uint8Array(slabBytes);
/** One DataView over the whole current slab, shared by its writers (a DataView per writer cost more than its writes). */
let slabView = new DataView(slab.buffer);
/** Bytes of the current slab handed out; the next writer starts here (8-byte aligned). */
let slabUsed = 0;

/** `capacity` fresh bytes: from the slab when small and there is room, else a buffer of their own. */
function take(capacity: number): Uint8Array {
  if (capacity > slabTakeMax) return new Uint8Array(capacity);
  if (slabUsed + capacity > slabBytes) {
    slab = new Uint8Array(slabBytes);
    slabView = new DataView(slab.buffer);
    slabUsed = 0;
  }
  const bytes = slab.subarray(slabUsed, slabUsed + capacity);
  slabUsed += capacity;
  return bytes;
}

/** True when `bytes` are the last ones taken from the current slab: they may grow or shrink in place. */
function isSlabTail(bytes: Uint8Array): boolean {
  return bytes.buffer === slab.buffer && bytes.byteOffset + bytes.length === slabUsed;
}

/** A DataView over all of `bytes`' ArrayBuffer (the slab's shared one when they are the current slab's). */
function viewOf(bytes: Uint8Array): DataView {
  return bytes.buffer === slab.buffer ? slabView : new DataView(bytes.buffer);
}

/**
 * Writes big-endian jute primitives. `JuteWriter.frame()` reserves the 4-byte length prefix up front and
 * `finishFrame()` patches it, so a whole frame comes out of one buffer with no copy. The result of
 * finish()/finishFrame() is a view of the writer's buffer: finish a writer once and do not write to it after.
 */
export class JuteWriter {
  private bytes: Uint8Array;
  /** Over the whole ArrayBuffer of `bytes`, which start at `viewBase` in it. */
  private view: DataView;
  private viewBase: number;
  private pos = 0;
  private readonly framed: boolean;
  /** Its buffer is its own, never a slab's (so reset() may write over it). */
  private readonly ownBuffer: boolean;

  constructor(initialCapacity = initialCapacityDefault, framed = false) {
    if (!(Number.isInteger(initialCapacity) && initialCapacity >= 8))
      assert(false, `bad capacity ${initialCapacity}`);
    this.ownBuffer = initialCapacity > slabTakeMax;
    this.bytes = take(initialCapacity);
    this.view = viewOf(this.bytes);
    this.viewBase = this.bytes.byteOffset;
    this.framed = framed;
    if (framed) this.pos = 4;
  }

  /** A writer whose output starts with a 4-byte length prefix, filled in by finishFrame(). */
  static frame(initialCapacity = initialCapacityDefault): JuteWriter {
    return new JuteWriter(initialCapacity, true);
  }

  /** Bytes written so far (the length prefix of a framed writer included). */
  get length(): number {
    return this.pos;
  }

  writeInt(v: number): void {
    // The message is built only on failure: a template literal per write costs more than the write.
    if (!(v >= -0x80000000 && v <= 0x7fffffff && Number.isInteger(v)))
      assert(false, `int out of range: ${v}`);
    this.ensure(4);
    this.view.setInt32(this.viewBase + this.pos, v);
    this.pos += 4;
  }

  writeLong(v: bigint): void {
    if (!(v >= -0x8000000000000000n && v <= 0x7fffffffffffffffn)) assert(false, `long out of range: ${v}`);
    this.ensure(8);
    this.view.setBigInt64(this.viewBase + this.pos, v);
    this.pos += 8;
  }

  writeBool(v: boolean): void {
    this.ensure(1);
    this.bytes[this.pos++] = v ? 1 : 0;
  }

  /** A length-prefixed buffer; null is written as length -1. */
  writeBuffer(v: Uint8Array | null): void {
    if (v === null) return this.writeInt(-1);
    this.writeInt(v.length);
    this.writeRaw(v);
  }

  /** A ustring as standard UTF-8 (4 bytes for a character outside the BMP); null is length -1. */
  writeString(v: string | null): void {
    if (v === null) return this.writeInt(-1);
    this.ensure(4 + utf8BytesMax(v));
    const start = this.pos + 4;
    const end = encodeUtf8Into(v, this.bytes, start);
    this.view.setInt32(this.viewBase + this.pos, end - start);
    this.pos = end;
  }

  /** A vector: int count (-1 for null) then each element written by `f`. */
  writeVector<T>(items: readonly T[] | null, f: (w: JuteWriter, item: T) => void): void {
    if (items === null) return this.writeInt(-1);
    this.writeInt(items.length);
    for (const item of items) f(this, item);
  }

  /** Bytes copied as they are, with no length prefix. */
  writeRaw(v: Uint8Array): void {
    this.ensure(v.length);
    this.bytes.set(v, this.pos);
    this.pos += v.length;
  }

  /** Reserves an int to be filled in later by patchInt (for a length known only after writing what follows). */
  reserveInt(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  patchInt(at: number, v: number): void {
    if (!(at >= 0 && at + 4 <= this.pos)) assert(false, `patch at ${at} outside written bytes`);
    this.view.setInt32(this.viewBase + at, v);
  }

  /** The bytes written, as a view of this writer's buffer. */
  finish(): Uint8Array {
    assert(!this.framed, "finish() on a framed writer: use finishFrame()");
    return this.release();
  }

  /** The whole frame: the length prefix patched to the body's length, then the body. */
  finishFrame(): Uint8Array {
    assert(this.framed, "finishFrame() on a writer made without JuteWriter.frame()");
    this.view.setInt32(this.viewBase, this.pos - 4);
    return this.release();
  }

  /**
   * Starts over at the beginning of the same buffer, so a stream of chunks needs one buffer: what finish()
   * returned is overwritten by later writes. Only for an unframed writer made with more than 4 KiB.
   */
  reset(): void {
    assert(this.ownBuffer && !this.framed, "reset() needs an unframed writer with a buffer of its own");
    this.pos = 0;
  }

  /** The written bytes; the unused rest of a slab's tail goes back to the slab (rounded up to 8). */
  private release(): Uint8Array {
    const out = this.bytes.subarray(0, this.pos);
    if (isSlabTail(this.bytes)) {
      slabUsed = Math.min(slabBytes, (out.byteOffset + out.length + 7) & ~7);
      this.bytes = out;
    }
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.pos + n) capacity *= 2;
    if (isSlabTail(this.bytes) && this.bytes.byteOffset + capacity <= slabBytes) {
      // The newest writer of the slab grows in place: nothing to copy.
      slabUsed = this.bytes.byteOffset + capacity;
      this.bytes = slab.subarray(this.bytes.byteOffset, slabUsed);
    } else {
      const grown = take(capacity);
      grown.set(this.bytes.subarray(0, this.pos));
      this.bytes = grown;
    }
    this.view = viewOf(this.bytes);
    this.viewBase = this.bytes.byteOffset;
  }
}
