// The decoder fuzzer in the unit suite: 100,000 seeded inputs, only typed input errors allowed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzDecoder } from "../fuzz/decoder-fuzzer.js";

test("100,000 mutated and random frames raise only DecodeError, FrameTooLargeError or UnknownOpCodeError", () => {
  const stats = fuzzDecoder(20240601, 100_000);
  assert.equal(stats.inputs, 100_000);
  // The mix must exercise every path, not just the frame decoder's length check.
  assert.ok(stats.decoded > 1000, `decoded ${stats.decoded}`);
  assert.ok(stats.decodeErrors > 1000, `decodeErrors ${stats.decodeErrors}`);
  assert.ok(stats.tooLarge > 1000, `tooLarge ${stats.tooLarge}`);
  assert.ok(stats.unknownOpCodes > 100, `unknownOpCodes ${stats.unknownOpCodes}`);
});
