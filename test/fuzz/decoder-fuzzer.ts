// The decoder fuzzer's core: seeded mutations of valid request frames plus random bytes, fed through
// FrameDecoder (split at random points) and decodeRequest. Only the three typed input errors may escape.
import { SeededPrng } from "../../src/base/clock.js";
import { DecodeError, FrameTooLargeError } from "../../src/base/errors.js";
import { FrameDecoder } from "../../src/protocol/frame-decoder.js";
import { JuteReader } from "../../src/protocol/jute-reader.js";
import { JuteWriter } from "../../src/protocol/jute-writer.js";
import {
  decodeConnectRequest,
  decodeRequest,
  decodeRequestHeader,
  encodeRequest,
} from "../../src/protocol/records.js";
import { UnknownOpCodeError } from "../../src/protocol/unknown-opcode-error.js";
import { sampleRequests } from "./request-samples.js";

export interface FuzzStats {
  inputs: number;
  frames: number;
  decoded: number;
  decodeErrors: number;
  tooLarge: number;
  unknownOpCodes: number;
}

/** A maxBuffer small enough that random lengths past it are common, large enough for every sample. */
const fuzzMaxBuffer = 4096;
const interestingInts = [0, 1, -1, -2, 0x7fffffff, -0x80000000, 0x100000, 0xfffff, 0x10000000, 65536, 4096];

function encodedSamples(): Uint8Array[] {
  return sampleRequests().map((req, i) => {
    const w = JuteWriter.frame();
    encodeRequest(w, { xid: i + 1, type: req.op }, req);
    return w.finishFrame().slice();
  });
}

function mutate(prng: SeededPrng, src: Uint8Array): Uint8Array {
  let bytes = src.slice();
  const edits = 1 + prng.below(4);
  for (let e = 0; e < edits && bytes.length > 0; e++) {
    const at = prng.below(bytes.length);
    switch (prng.below(5)) {
      case 0:
        bytes[at]! ^= 1 << prng.below(8);
        break;
      case 1:
        bytes[at] = prng.below(256);
        break;
      case 2:
        bytes = bytes.slice(0, at);
        break;
      case 3: {
        // Overwrite an int with a boundary value: lengths and counts are where decoders go wrong.
        const v = interestingInts[prng.below(interestingInts.length)]!;
        if (at + 4 <= bytes.length) new DataView(bytes.buffer).setInt32(at, v);
        break;
      }
      default: {
        const extra = randomBytes(prng, 1 + prng.below(8));
        const grown = new Uint8Array(bytes.length + extra.length);
        grown.set(bytes.subarray(0, at));
        grown.set(extra, at);
        grown.set(bytes.subarray(at), at + extra.length);
        bytes = grown;
      }
    }
  }
  return bytes;
}

function randomBytes(prng: SeededPrng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = prng.below(256);
  return out;
}

/** Rewrites the length prefix to the body's real length, so the mutation reaches the record decoders. */
function fixPrefix(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 4) new DataView(bytes.buffer, bytes.byteOffset).setInt32(0, bytes.length - 4);
  return bytes;
}

function makeInput(prng: SeededPrng, samples: Uint8Array[]): Uint8Array {
  const sample = samples[prng.below(samples.length)]!;
  switch (prng.below(4)) {
    case 0:
      return fixPrefix(mutate(prng, sample));
    case 1:
      return mutate(prng, sample);
    case 2:
      return fixPrefix(randomBytes(prng, 4 + prng.below(64)));
    default:
      return randomBytes(prng, prng.below(96));
  }
}

function isExpected(e: unknown): boolean {
  return e instanceof DecodeError || e instanceof FrameTooLargeError || e instanceof UnknownOpCodeError;
}

function decodeFrame(frame: Uint8Array, first: boolean, stats: FuzzStats): void {
  const r = new JuteReader(frame);
  if (first) {
    decodeConnectRequest(r);
  } else {
    decodeRequest(decodeRequestHeader(r), r);
  }
  stats.decoded++;
}

function count(e: unknown, stats: FuzzStats): void {
  if (e instanceof DecodeError) stats.decodeErrors++;
  else if (e instanceof FrameTooLargeError) stats.tooLarge++;
  else stats.unknownOpCodes++;
}

/** Feeds one input in random pieces; every 16th input also treats its first frame as a ConnectRequest. */
function runInput(prng: SeededPrng, input: Uint8Array, stats: FuzzStats): void {
  const decoder = new FrameDecoder({ maxBuffer: fuzzMaxBuffer });
  let first = prng.below(16) === 0;
  let pos = 0;
  try {
    while (pos < input.length) {
      const end = Math.min(input.length, pos + 1 + prng.below(input.length));
      decoder.push(input.subarray(pos, end));
      pos = end;
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        stats.frames++;
        try {
          decodeFrame(f, first, stats);
        } catch (e) {
          if (!isExpected(e)) throw e;
          count(e, stats);
        }
        first = false;
      }
    }
  } catch (e) {
    if (!isExpected(e)) throw e;
    count(e, stats);
  }
}

/** Runs `inputs` inputs from `seed`; an unexpected exception propagates with the seed and index attached. */
export function fuzzDecoder(seed: number, inputs: number): FuzzStats {
  const prng = new SeededPrng(seed);
  const samples = encodedSamples();
  const stats: FuzzStats = {
    inputs: 0,
    frames: 0,
    decoded: 0,
    decodeErrors: 0,
    tooLarge: 0,
    unknownOpCodes: 0,
  };
  for (let i = 0; i < inputs; i++) {
    const input = makeInput(prng, samples);
    try {
      runInput(prng, input, stats);
    } catch (e) {
      const hex = Array.from(input, (b) => b.toString(16).padStart(2, "0")).join("");
      throw new Error(`seed ${seed} input ${i} (${hex}): ${(e as Error).stack ?? String(e)}`);
    }
    stats.inputs++;
  }
  return stats;
}
