// FrameDecoder: splits a byte stream into 4-byte-length-prefixed frames. Pure: no I/O, no clock, no randomness.
import { assert } from "../base/assert.js";
import { FrameTooLargeError } from "../base/errors.js";
import { juteMaxBufferDefault } from "../base/limits.js";

export interface FrameDecoderOptions {
  /** The largest frame body accepted (jute.maxbuffer); a larger declared length is refused unread. */
  maxBuffer?: number;
}

/** Compact the chunk list once this many consumed chunks sit at its head. */
const consumedChunksCompactMin = 64;

/**
 * A state machine fed arbitrary chunks with push(); next() returns each complete frame body in order.
 * A declared length past maxBuffer, or negative, throws FrameTooLargeError as soon as its 4 bytes are here,
 * before any of that frame's body is buffered (NIOServerCnxn.readLength), and every later call throws it again.
 * Chunks are kept in a list and each frame is copied at most once; a frame lying inside one chunk is returned
 * as a view of it, so callers must not modify a chunk after pushing it.
 */
export class FrameDecoder {
  private readonly maxBuffer: number;
  private chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk, and the offset of the first unconsumed byte in it. */
  private head = 0;
  private headOffset = 0;
  private buffered = 0;
  /** The current frame's body length once its prefix is read; -1 while waiting for a prefix. */
  private bodyLength = -1;
  private failure: FrameTooLargeError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxBuffer = options.maxBuffer ?? juteMaxBufferDefault;
    assert(Number.isInteger(this.maxBuffer) && this.maxBuffer >= 0, `bad maxBuffer ${this.maxBuffer}`);
  }

  /**
   * The word, when the first 4 bytes of a connection are lowercase ASCII letters: a four-letter word such as
   * "ruok" or "srvr" arrives in place of the first length (as an int it would be over 1.6e9, never a frame).
   * Whether the word is known is the caller's question (ZooKeeper's FourLetterCommands.isKnown).
   */
  static fourLetterWord(first4: Uint8Array): string | undefined {
    if (first4.length < 4) return undefined;
    let word = "";
    for (let i = 0; i < 4; i++) {
      const b = first4[i]!;
      if (b < 0x61 || b > 0x7a) return undefined;
      word += String.fromCharCode(b);
    }
    return word;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.readPrefix();
  }

  /** The next complete frame body, or undefined until more bytes arrive. */
  next(): Uint8Array | undefined {
    if (this.failure !== undefined) throw this.failure;
    this.readPrefix();
    if (this.bodyLength < 0 || this.buffered < this.bodyLength) return undefined;
    const frame = this.take(this.bodyLength);
    this.bodyLength = -1;
    return frame;
  }

  /** Reads and checks the next length prefix once 4 bytes are buffered. */
  private readPrefix(): void {
    if (this.bodyLength >= 0 || this.buffered < 4) return;
    const p = this.take(4);
    const length = (p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]! | 0;
    if (length < 0 || length > this.maxBuffer) {
      this.failure = new FrameTooLargeError(length, this.maxBuffer);
      this.chunks = [];
      this.head = 0;
      this.headOffset = 0;
      this.buffered = 0;
      throw this.failure;
    }
    this.bodyLength = length;
  }

  /** Removes n buffered bytes (n <= buffered): a view when they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    if (n > this.buffered) assert(false, `take ${n} of ${this.buffered}`);
    if (n === 0) return new Uint8Array(0);
    this.buffered -= n;
    if (this.headOffset + n <= this.chunks[this.head]!.length) return this.takeFromHead(n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.head]!;
      const count = Math.min(c.length - this.headOffset, n - filled);
      out.set(c.subarray(this.headOffset, this.headOffset + count), filled);
      filled += count;
      this.advance(count, c.length);
    }
    return out;
  }

  private takeFromHead(n: number): Uint8Array {
    const c = this.chunks[this.head]!;
    const view = c.subarray(this.headOffset, this.headOffset + n);
    this.advance(n, c.length);
    return view;
  }

  private advance(count: number, chunkLength: number): void {
    this.headOffset += count;
    if (this.headOffset < chunkLength) return;
    this.head++;
    this.headOffset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= consumedChunksCompactMin && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
