// JuteReader: bounds-checked reads of jute's binary encoding (BinaryInputArchive). Pure: no I/O, no clock, no randomness.
import { assert } from "../base/assert.js";
import { DecodeError } from "../base/errors.js";
import { juteVectorLengthMax } from "../base/limits.js";
import { decodeUtf8 } from "./utf8.js";

/**
 * Input longer than a reader's window, handed over a piece at a time (a file read in chunks, so a large one
 * is never in memory whole). The reader asks for more only when a read would run past its window.
 */
export interface JuteSource {
  /** Bytes not yet handed over. */
  readonly pending: number;
  /**
   * The next window: the unread bytes `window[from, end)` followed by the next ones, at least `n` bytes in all
   * (the caller checked `pending` suffices). The old window's bytes may be overwritten.
   */
  refill(window: Uint8Array, from: number, end: number, n: number): Uint8Array;
}

/**
 * Reads big-endian jute primitives from `bytes[offset, end)`, then from `source` if given. Every read checks
 * its bounds first and throws DecodeError on truncation or a bad length, so a hostile length never causes an
 * allocation.
 */
export class JuteReader {
  private bytes: Uint8Array;
  /** Made at the first readLong: most frames have no long, and a DataView costs more than reading their ints. */
  private view: DataView | null = null;
  private end: number;
  private pos: number;
  /** Bytes consumed with earlier windows (0 without a source). */
  private base = 0;
  private readonly source: JuteSource | null;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length, source: JuteSource | null = null) {
    if (!(offset >= 0 && offset <= end && end <= bytes.length)) {
      throw new DecodeError(`bad reader range [${offset}, ${end}) of ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.pos = offset;
    this.end = end;
    this.source = source;
  }

  /** Position in the input (with a source: bytes consumed since the first window's start). */
  get offset(): number {
    return this.base + this.pos;
  }

  remaining(): number {
    return this.end - this.pos + (this.source?.pending ?? 0);
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

  /**
   * Like readBuffer but returns a view into the input, for records nested in a buffer (Txn.data). With a
   * source the view is valid only until a read moves the window: `then` more bytes after it (the rest of the
   * record, read while the view is in use) are brought into the window with it, as far as the input has them.
   */
  readBufferView(then = 0): Uint8Array | null {
    const len = this.readLength("buffer");
    if (len < 0) return null;
    if (this.end - this.pos < len + then && this.source !== null)
      this.fill(Math.min(len + then, this.remaining()));
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
    if (count < 0 || count > juteVectorLengthMax || count > this.remaining()) {
      throw new DecodeError(`bad vector length ${count} at offset ${this.pos - 4}`);
    }
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(f(this));
    return out;
  }

  /** Throws unless every byte was consumed (for records that must fill their frame exactly). */
  expectEnd(what: string): void {
    const left = this.remaining();
    if (left !== 0) throw new DecodeError(`${left} trailing bytes after ${what}`);
  }

  private readLength(what: string): number {
    const len = this.readInt();
    if (len === -1) return -1;
    if (len < 0 || (len > this.end - this.pos && !this.fill(len))) {
      throw new DecodeError(
        `bad ${what} length ${len} at offset ${this.offset - 4} (${this.remaining()} left)`,
      );
    }
    return len;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n && !this.fill(n)) {
      throw new DecodeError(
        `truncated ${what} at offset ${this.offset}: need ${n}, have ${this.remaining()}`,
      );
    }
  }

  /** Moves to the source's next window so that `n` bytes are unread; false if the input has fewer. */
  private fill(n: number): boolean {
    const s = this.source;
    if (s === null || this.end - this.pos + s.pending < n) return false;
    const window = s.refill(this.bytes, this.pos, this.end, n);
    assert(window.length >= n, "source refilled short");
    this.base += this.pos;
    this.bytes = window;
    this.view = null;
    this.pos = 0;
    this.end = window.length;
    return true;
  }
}
