// JuteReader and JuteWriter: primitives, bounds, lengths, UTF-8 (emoji, Java's surrogate form) and framing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/base/errors.js";
import { juteVectorLengthMax } from "../../src/base/limits.js";
import { JuteReader } from "../../src/protocol/jute-reader.js";
import { JuteWriter } from "../../src/protocol/jute-writer.js";

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const reader = (h: string): JuteReader => new JuteReader(hex(h));

test("primitives are big-endian and round-trip at their extremes", () => {
  const w = new JuteWriter(8);
  w.writeInt(-0x80000000);
  w.writeInt(0x7fffffff);
  w.writeLong(-0x8000000000000000n);
  w.writeLong(0x7fffffffffffffffn);
  w.writeBool(true);
  w.writeBool(false);
  const bytes = w.finish();
  assert.equal(toHex(bytes), "80000000" + "7fffffff" + "8000000000000000" + "7fffffffffffffff" + "01" + "00");
  const r = new JuteReader(bytes);
  assert.equal(r.readInt(), -0x80000000);
  assert.equal(r.readInt(), 0x7fffffff);
  assert.equal(r.readLong(), -0x8000000000000000n);
  assert.equal(r.readLong(), 0x7fffffffffffffffn);
  assert.equal(r.readBool(), true);
  assert.equal(r.readBool(), false);
  assert.equal(r.remaining(), 0);
});

test("a non-zero boolean byte reads as true, as DataInput.readBoolean does", () => {
  assert.equal(reader("02").readBool(), true);
});

test("length -1 reads as null for a buffer, a string and a vector, and null writes as -1", () => {
  const r = reader("ffffffff ffffffff ffffffff");
  assert.equal(r.readBuffer(), null);
  assert.equal(r.readString(), null);
  assert.equal(
    r.readVector((x) => x.readInt()),
    null,
  );
  const w = new JuteWriter();
  w.writeBuffer(null);
  w.writeString(null);
  w.writeVector(null, (x, v: number) => x.writeInt(v));
  assert.equal(toHex(w.finish()), "ffffffff".repeat(3));
});

test("a buffer read is a copy that does not alias the input", () => {
  const input = hex("00000002 abcd");
  const b = new JuteReader(input).readBuffer()!;
  input[4] = 0;
  assert.equal(toHex(b), "abcd");
});

test("every read past the end is a DecodeError", () => {
  assert.throws(() => reader("000000").readInt(), DecodeError);
  assert.throws(() => reader("00000000000000").readLong(), DecodeError);
  assert.throws(() => reader("").readBool(), DecodeError);
  assert.throws(() => reader("000000").readBuffer(), DecodeError);
  assert.throws(() => reader("00000003 6162").readString(), DecodeError);
  assert.throws(() => reader("00000003 6162").readBuffer(), DecodeError);
  assert.throws(() => reader("00000002 00000001").readVector((x) => x.readInt()), DecodeError);
});

test("a negative length other than -1 is a DecodeError", () => {
  for (const len of ["fffffffe", "80000000"]) {
    assert.throws(() => reader(len + "00").readBuffer(), DecodeError);
    assert.throws(() => reader(len + "00").readString(), DecodeError);
    assert.throws(() => reader(len + "00").readVector((x) => x.readBool()), DecodeError);
  }
});

test("a huge length or vector count is refused before anything is allocated", () => {
  assert.throws(() => reader("7fffffff 00").readBuffer(), DecodeError);
  assert.throws(() => reader("7fffffff 00").readString(), DecodeError);
  assert.throws(() => reader("7fffffff 00").readVector((x) => x.readBool()), DecodeError);
  // A count within the bytes present but past juteVectorLengthMax is refused too.
  const big = new Uint8Array(4 + juteVectorLengthMax + 1);
  new DataView(big.buffer).setInt32(0, juteVectorLengthMax + 1);
  assert.throws(() => new JuteReader(big).readVector((x) => x.readBool()), DecodeError);
});

test("a reader over a range reads only inside it", () => {
  const r = new JuteReader(hex("ffffffff 00000007 ffffffff"), 4, 8);
  assert.equal(r.offset, 4);
  assert.equal(r.readInt(), 7);
  assert.equal(r.remaining(), 0);
  assert.throws(() => r.readInt(), DecodeError);
  assert.throws(() => new JuteReader(new Uint8Array(4), 3, 9), DecodeError);
});

test("a string with an emoji is written as standard 4-byte UTF-8 and reads back", () => {
  const s = "/zoo/😀/ünïcødé/中文";
  const w = new JuteWriter(8);
  w.writeString(s);
  const bytes = w.finish();
  const expected = Buffer.from(s, "utf8");
  assert.equal(toHex(bytes), expected.length.toString(16).padStart(8, "0") + expected.toString("hex"));
  assert.ok(toHex(bytes).includes("f09f9880"));
  assert.equal(new JuteReader(bytes).readString(), s);
});

test("Java's 6-byte surrogate-pair form of an emoji reads as the same emoji", () => {
  // BinaryOutputArchive.stringToByteBuffer writes U+1F600 as the surrogates D83D DE00, 3 bytes each.
  assert.equal(reader("00000007 2f eda0bd edb880").readString(), "/😀");
});

test("invalid UTF-8 is a DecodeError", () => {
  const bad = [
    "c080", // overlong NUL
    "80", // lone continuation byte
    "e282", // truncated sequence
    "eda0bd", // lone high surrogate (Java form) with nothing after it
    "edb880", // lone low surrogate
    "eda0bd41", // high surrogate followed by ASCII
    "f4908080", // past U+10FFFF
    "ff",
  ];
  for (const b of bad) {
    const bytes = hex(b);
    const framed = new Uint8Array(4 + bytes.length);
    new DataView(framed.buffer).setInt32(0, bytes.length);
    framed.set(bytes, 4);
    assert.throws(() => new JuteReader(framed).readString(), DecodeError, b);
  }
});

test("long ASCII and long non-ASCII strings round-trip", () => {
  for (const s of ["/" + "a".repeat(5000), "/" + "é".repeat(100) + "😀".repeat(100), ""]) {
    const w = new JuteWriter(8);
    w.writeString(s);
    assert.equal(new JuteReader(w.finish()).readString(), s);
  }
});

test("a lone surrogate in a JS string is written as U+FFFD, as TextEncoder does", () => {
  const w = new JuteWriter();
  w.writeString("a\ud800b");
  assert.equal(toHex(w.finish()), "00000005" + "61" + "efbfbd" + "62");
});

test("a framed writer patches the length prefix and keeps bytes across growth", () => {
  const w = JuteWriter.frame(8);
  for (let i = 0; i < 100; i++) w.writeInt(i);
  const frame = w.finishFrame();
  assert.equal(frame.length, 404);
  const r = new JuteReader(frame);
  assert.equal(r.readInt(), 400);
  for (let i = 0; i < 100; i++) assert.equal(r.readInt(), i);
});

test("reserveInt and patchInt fill in a length after the fact", () => {
  const w = new JuteWriter();
  const at = w.reserveInt();
  w.writeString("xyz");
  w.patchInt(at, w.length - at - 4);
  assert.equal(toHex(w.finish()), "00000007" + "00000003" + "78797a");
});

test("writing an int or long out of range is a programmer error", () => {
  assert.throws(() => new JuteWriter().writeInt(2 ** 31));
  assert.throws(() => new JuteWriter().writeInt(1.5));
  assert.throws(() => new JuteWriter().writeLong(1n << 63n));
});
