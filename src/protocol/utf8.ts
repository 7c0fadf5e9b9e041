// UTF-8 for jute ustrings: strict decoding that also accepts Java's surrogate-pair form, and encoding in place.
// Pure: no I/O, no clock, no randomness.
import { DecodeError } from "../base/errors.js";

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * ASCII strings shorter than this (most child names) are cheaper to build by hand than through TextDecoder.
 * Longer ones are not: V8 makes each `+=` from 13 characters on a rope node (ConsString), and a rope is
 * flattened into a copy the first time it is hashed (a Map key) or indexed, which cost 5 µs per 40-byte path
 * (and kept the rope's head alive in every node map key).
 */
const asciiFastPathBytesMax = 12;

/**
 * Decodes `bytes[start, end)`. Invalid UTF-8 is a DecodeError, except that a character outside the BMP written
 * the way Java's BinaryOutputArchive writes it (each UTF-16 surrogate as its own 3-byte sequence, "CESU-8") is
 * accepted and combined, so a Java client's emoji path means the same here as it does to the client.
 */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= asciiFastPathBytesMax) {
    let s = "";
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) break;
      s += String.fromCharCode(b);
    }
    if (i === end) return s;
  }
  try {
    return fatalDecoder.decode(bytes.subarray(start, end));
  } catch {
    return decodeJavaUtf8(bytes, start, end);
  }
}

/** The slow path: well-formed UTF-8 plus paired 3-byte surrogates; anything else throws DecodeError. */
function decodeJavaUtf8(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i += 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      out += String.fromCharCode(((b0 & 0x1f) << 6) | cont(bytes, i + 1, end, 0x80, 0xbf));
      i += 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      const unit = threeByte(bytes, i, end);
      i += 3;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        // A high surrogate must be followed by a low one, also as 3 bytes.
        const low = i < end && bytes[i] === 0xed ? threeByte(bytes, i, end) : -1;
        if (low < 0xdc00 || low > 0xdfff) throw bad(i);
        out += String.fromCharCode(unit, low);
        i += 3;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        throw bad(i - 3);
      } else {
        out += String.fromCharCode(unit);
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      const cp =
        ((b0 & 0x07) << 18) |
        (cont(bytes, i + 1, end, lo, hi) << 12) |
        (cont(bytes, i + 2, end, 0x80, 0xbf) << 6) |
        cont(bytes, i + 3, end, 0x80, 0xbf);
      out += String.fromCodePoint(cp);
      i += 4;
    } else {
      throw bad(i);
    }
  }
  return out;
}

/** A 3-byte sequence's value, surrogates included (0xED 0xA0..0xBF is allowed here, checked by the caller). */
function threeByte(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i]!;
  const lo = b0 === 0xe0 ? 0xa0 : 0x80;
  return ((b0 & 0x0f) << 12) | (cont(bytes, i + 1, end, lo, 0xbf) << 6) | cont(bytes, i + 2, end, 0x80, 0xbf);
}

function cont(bytes: Uint8Array, i: number, end: number, lo: number, hi: number): number {
  if (i >= end) throw bad(i);
  const b = bytes[i]!;
  if (b < lo || b > hi) throw bad(i);
  return b & 0x3f;
}

function bad(i: number): DecodeError {
  return new DecodeError(`invalid UTF-8 in string at byte ${i}`);
}

/** The most bytes `s` can take in UTF-8: 3 per UTF-16 unit (a surrogate pair is 2 units and 4 bytes). */
export function utf8BytesMax(s: string): number {
  return s.length * 3;
}

/**
 * Writes `s` as standard UTF-8 into `bytes` at `pos` (room for utf8BytesMax(s) must exist) and returns the end.
 * A lone surrogate becomes U+FFFD, as TextEncoder writes it.
 */
export function encodeUtf8Into(s: string, bytes: Uint8Array, pos: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      bytes[pos++] = c;
    } else if (c < 0x800) {
      bytes[pos++] = 0xc0 | (c >> 6);
      bytes[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const low = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        bytes[pos++] = 0xf0 | (cp >> 18);
        bytes[pos++] = 0x80 | ((cp >> 12) & 0x3f);
        bytes[pos++] = 0x80 | ((cp >> 6) & 0x3f);
        bytes[pos++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        c = 0xfffd;
        pos = encode3(c, bytes, pos);
      }
    } else {
      pos = encode3(c, bytes, pos);
    }
  }
  return pos;
}

function encode3(c: number, bytes: Uint8Array, pos: number): number {
  bytes[pos] = 0xe0 | (c >> 12);
  bytes[pos + 1] = 0x80 | ((c >> 6) & 0x3f);
  bytes[pos + 2] = 0x80 | (c & 0x3f);
  return pos + 3;
}
