// JuteReader: bounds-checked reads of jute's binary encoding (BinaryInputArchive). Pure: no I/O, no clock, no randomness.
import { DecodeError } from "../base/errors.js";
import { juteVectorLengthMax } from "../base/limits.js";
import { decodeUtf8 } from "./utf8.js";

/**
 * Reads big-endian jute primitives from `bytes[offset, end)`. Every read checks its bounds first and throws
 * DecodeError on truncation or a bad length, so a hostile length never causes an allocation.
 */
export class JuteReader {
  private readonly bytes: Uint8Array;
  /** Made at the first readLong: most frames have no long, and a DataView costs more than reading their ints. */
  private view: DataView | null = null;
  private readonly end: number;
  private pos: number;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    if (!(offset >= 0 && offset <= end && end <= bytes.length)) {
      throw new DecodeError(`bad reader range [${offset}, ${end}) of ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.pos = offset;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  readInt(): number {
    this.need(4, "int");
    const b = this.bytes;
    const p = this.pos;
    const v = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    this.pos += 4;
    return v;
  }

  readLong(): bigint {
    this.need(8, "long");
    const bytes = this.bytes;
    this.view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  /** Any non-zero byte is true, as java.io.DataInput.readBoolean reads it. */
  readBool(): boolean {
    this.need(1, "boolean");
    return this.bytes[this.pos++] !== 0;
  }

  /** A length-prefixed byte buffer, copied (the result never aliases the frame); length -1 is null. */
  readBuffer(): Uint8Array | null {
    const len = this.readLength("buffer");
    if (len < 0) return null;
    const start = this.pos;
    this.pos += len;
    return this.bytes.slice(start, start + len);
  }

  /** Like readBuffer but returns a view into the input, for records nested in a buffer (Txn.data). */
  readBufferView(): Uint8Array | null {
    const len = this.readLength("buffer");
    if (len < 0) return null;
    const start = this.pos;
    this.pos += len;
    return this.bytes.subarray(start, start + len);
  }

  /** A jute ustring: UTF-8, decoded strictly (Java's surrogate-pair form accepted); length -1 is null. */
  readString(): string | null {
    const len = this.readLength("string");
    if (len < 0) return null;
    const start = this.pos;
    this.pos += len;
    return decodeUtf8(this.bytes, start, start + len);
  }

  /** A ustring that must not be null (paths, schemes): null is a DecodeError. */
  readNonNullString(): string {
    const s = this.readString();
    if (s === null) throw new DecodeError(`null string at offset ${this.pos - 4}`);
    return s;
  }

  /** A vector: int count (-1 is null) then count elements read by `f`. */
  readVector<T>(f: (r: JuteReader) => T): T[] | null {
    const count = this.readInt();
    if (count === -1) return null;
    // Every element takes at least one byte, so a count past the remaining bytes is a lie.
    if (count < 0 || count > juteVectorLengthMax || count > this.end - this.pos) {
      throw new DecodeError(`bad vector length ${count} at offset ${this.pos - 4}`);
    }
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(f(this));
    return out;
  }

  /** Throws unless every byte was consumed (for records that must fill their frame exactly). */
  expectEnd(what: string): void {
    if (this.pos !== this.end) throw new DecodeError(`${this.end - this.pos} trailing bytes after ${what}`);
  }

  private readLength(what: string): number {
    const len = this.readInt();
    if (len === -1) return -1;
    if (len < 0 || len > this.end - this.pos) {
      throw new DecodeError(`bad ${what} length ${len} at offset ${this.pos - 4} (${this.remaining()} left)`);
    }
    return len;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new DecodeError(
        `truncated ${what} at offset ${this.pos}: need ${n}, have ${this.end - this.pos}`,
      );
    }
  }
}
