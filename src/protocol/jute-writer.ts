// JuteWriter: a growable buffer for jute's binary encoding (BinaryOutputArchive), framed or not.
// Pure: no I/O, no clock, no randomness.
import { assert } from "../base/assert.js";
import { encodeUtf8Into, utf8BytesMax } from "./utf8.js";

const initialCapacityDefault = 256;

/**
 * Writes big-endian jute primitives. `JuteWriter.frame()` reserves the 4-byte length prefix up front and
 * `finishFrame()` patches it, so a whole frame comes out of one buffer with no copy. The result of
 * finish()/finishFrame() is a view of the writer's buffer: finish a writer once and do not write to it after.
 */
export class JuteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private pos = 0;
  private readonly framed: boolean;

  constructor(initialCapacity = initialCapacityDefault, framed = false) {
    assert(Number.isInteger(initialCapacity) && initialCapacity >= 8, `bad capacity ${initialCapacity}`);
    this.bytes = new Uint8Array(initialCapacity);
    this.view = new DataView(this.bytes.buffer);
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
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  writeLong(v: bigint): void {
    if (!(v >= -0x8000000000000000n && v <= 0x7fffffffffffffffn)) assert(false, `long out of range: ${v}`);
    this.ensure(8);
    this.view.setBigInt64(this.pos, v);
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
    this.view.setInt32(this.pos, end - start);
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
    this.view.setInt32(at, v);
  }

  /** The bytes written, as a view of this writer's buffer. */
  finish(): Uint8Array {
    assert(!this.framed, "finish() on a framed writer: use finishFrame()");
    return this.bytes.subarray(0, this.pos);
  }

  /** The whole frame: the length prefix patched to the body's length, then the body. */
  finishFrame(): Uint8Array {
    assert(this.framed, "finishFrame() on a writer made without JuteWriter.frame()");
    this.view.setInt32(0, this.pos - 4);
    return this.bytes.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < this.pos + n) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}
