// How long an fdatasync takes on the file system the benchmark's data dirs are on. Both servers wait for one before
// acknowledging a write, so the write workloads' figures, and their ratio, move with it: BENCHMARKS.md records it.
import { mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { LatencyHistogram } from "./histogram.js";

export interface FsyncLatency {
  /** fdatasyncs timed. */
  count: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

/** Bytes written before each fdatasync: about one group commit of the create workload. */
const writeBytes = 4096;

/**
 * Times `count` rounds of a 4 KiB write then an fdatasync, as a txn log does: into a file of zeros already on disk
 * (an overwrite, so no fsync changes the file's size), in a fresh directory under `parent` that is removed after.
 */
export async function probeFsyncLatency(parent: string, count = 500): Promise<FsyncLatency> {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`count must be a positive integer, got ${count}`);
  const dir = await mkdtemp(join(parent, "corral-fsync-probe-"));
  try {
    const fh = await open(join(dir, "probe"), "w+");
    try {
      await fh.writeFile(Buffer.alloc(count * writeBytes));
      await fh.sync();
      const record = Buffer.alloc(writeBytes, 0x5a);
      const times = new LatencyHistogram();
      for (let i = 0; i < count; i++) {
        await fh.write(record, 0, writeBytes, i * writeBytes);
        const started = performance.now();
        await fh.datasync();
        times.record(performance.now() - started);
      }
      return {
        count,
        p50Ms: times.percentileMs(0.5),
        p90Ms: times.percentileMs(0.9),
        maxMs: times.summary().maxMs,
      };
    } finally {
      await fh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
