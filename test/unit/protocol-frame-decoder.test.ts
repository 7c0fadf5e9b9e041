// FrameDecoder: frames survive any chunking, oversized lengths are refused unread, four-letter words are seen.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameTooLargeError } from "../../src/base/errors.js";
import { juteMaxBufferDefault } from "../../src/base/limits.js";
import { FrameDecoder } from "../../src/protocol/frame-decoder.js";

function frameOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function drain(d: FrameDecoder, into: Uint8Array[]): void {
  for (let f = d.next(); f !== undefined; f = d.next()) into.push(f.slice());
}

test("frames come out whole and in order however the stream is split", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (bodies, cuts) => {
        const stream = concat(bodies.map(frameOf));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const d = new FrameDecoder();
        const out: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          d.push(stream.subarray(prev, p));
          prev = p;
          drain(d, out);
        }
        assert.deepEqual(out, bodies);
        assert.equal(d.bufferedBytes, 0);
      },
    ),
    { numRuns: 500 },
  );
});

test("next() returns undefined until a frame is complete", () => {
  const d = new FrameDecoder();
  d.push(new Uint8Array([0, 0, 0]));
  assert.equal(d.next(), undefined);
  d.push(new Uint8Array([3, 9, 8]));
  assert.equal(d.next(), undefined);
  d.push(new Uint8Array([7, 0, 0, 0, 0]));
  assert.deepEqual(d.next(), new Uint8Array([9, 8, 7]));
  assert.deepEqual(d.next(), new Uint8Array(0));
  assert.equal(d.next(), undefined);
});

test("a declared length past maxBuffer throws FrameTooLargeError before the body is buffered", () => {
  const d = new FrameDecoder({ maxBuffer: 100 });
  const prefix = new Uint8Array([0, 0, 0, 101, 1, 2, 3]);
  assert.throws(
    () => d.push(prefix),
    (e: unknown) => e instanceof FrameTooLargeError && e.length === 101,
  );
  assert.equal(d.bufferedBytes, 0);
  // The decoder stays failed: nothing more is buffered.
  assert.throws(() => d.push(new Uint8Array(50)), FrameTooLargeError);
  assert.throws(() => d.next(), FrameTooLargeError);
  assert.equal(d.bufferedBytes, 0);
});

test("a negative declared length throws FrameTooLargeError", () => {
  const d = new FrameDecoder();
  assert.throws(() => d.push(new Uint8Array([0xff, 0xff, 0xff, 0xfe])), FrameTooLargeError);
});

test("a frame of exactly maxBuffer is accepted, and the default is jute.maxbuffer", () => {
  const d = new FrameDecoder();
  const body = new Uint8Array(juteMaxBufferDefault).fill(7);
  d.push(frameOf(body));
  assert.equal(d.next()?.length, juteMaxBufferDefault);
  assert.throws(
    () => new FrameDecoder().push(frameOf(new Uint8Array(juteMaxBufferDefault + 1))),
    FrameTooLargeError,
  );
});

test("a frame fed one byte at a time is reassembled without quadratic copying", () => {
  const body = new Uint8Array(200_000);
  for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
  const stream = frameOf(body);
  const d = new FrameDecoder();
  const startMs = performance.now();
  for (let i = 0; i < stream.length; i++) {
    d.push(stream.subarray(i, i + 1));
    if (i < stream.length - 1) assert.equal(d.next(), undefined);
  }
  assert.deepEqual(d.next(), body);
  // Quadratic copying of 200,000 chunks would take minutes; linear work takes well under a second.
  assert.ok(performance.now() - startMs < 5000);
});

test("a four-letter word is recognised from the first four bytes", () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const w of ["ruok", "srvr", "stat", "mntr", "conf", "isro", "envi", "cons", "wchs", "dump"]) {
    assert.equal(FrameDecoder.fourLetterWord(enc(w)), w);
  }
  assert.equal(FrameDecoder.fourLetterWord(enc("RUOK")), undefined);
  assert.equal(FrameDecoder.fourLetterWord(enc("ru0k")), undefined);
  assert.equal(FrameDecoder.fourLetterWord(enc("ruo")), undefined);
  assert.equal(FrameDecoder.fourLetterWord(new Uint8Array([0, 0, 0, 0x2d])), undefined);
});
