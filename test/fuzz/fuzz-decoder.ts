// Fuzzes FrameDecoder + decodeRequest with N seeded inputs (default 1e6): node dist/test/fuzz/fuzz-decoder.js [N] [seed]
// Exit 0 when only DecodeError/FrameTooLargeError/UnknownOpCodeError were thrown; 1 with a repro line otherwise.
import { fuzzDecoder } from "./decoder-fuzzer.js";

const inputs = Number(process.argv[2] ?? 1e6);
const seed = Number(process.argv[3] ?? Date.now() % 0x7fffffff);
const startMs = performance.now();
try {
  const stats = fuzzDecoder(seed, inputs);
  const ms = Math.round(performance.now() - startMs);
  console.log(`fuzz-decoder: seed ${seed}, ${ms} ms`, stats);
} catch (e) {
  console.error((e as Error).message);
  console.error(`reproduce: node dist/test/fuzz/fuzz-decoder.js ${inputs} ${seed}`);
  process.exit(1);
}
