// Purge (ZooKeeper's PurgeTxnLog): drop snapshots and log segments no longer needed. Must not touch newer files.
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../base/errors.js";
import { fsyncDir, listDir } from "./fs-util.js";
import { versionDirName } from "./format.js";
import { listLogSegments, segmentsAfter } from "./recovery.js";
import { listSnapshots, snapshotLooksComplete } from "./snapshot.js";

const snapshotTempPattern = /^snapshot\.([0-9a-f]{1,16})\.tmp\./;

/**
 * Keeps the newest `snapRetainCount` complete-looking snapshots and every segment that may hold txns
 * after the oldest of them (PurgeTxnLog.purgeOlderSnapshots: the newest segment starting at or before
 * it, and all later ones). Removes older snapshots, older segments and stale temp snapshot files.
 * Safe while the log is being appended to: the segment in use is always among those kept.
 */
export async function purge(
  dataDir: string,
  dataLogDir: string,
  snapRetainCount: number,
): Promise<{ removed: string[] }> {
  if (!Number.isInteger(snapRetainCount) || snapRetainCount < 3) {
    throw new ConfigError(
      "autopurge.snapRetainCount",
      `must be an integer of at least 3, got ${snapRetainCount}`,
    );
  }
  const kept: bigint[] = [];
  const snapshots = await listSnapshots(dataDir);
  for (const s of snapshots) {
    if (kept.length === snapRetainCount) break;
    if (await snapshotLooksComplete(s.file, s.zxid)) kept.push(s.zxid);
  }
  if (kept.length === 0) return { removed: [] };
  const leastRetained = kept[kept.length - 1];

  const segments = await listLogSegments(dataLogDir);
  const neededLogs = new Set(segmentsAfter(segments, leastRetained).map((s) => s.file));
  const doomedLogs = segments
    .filter((s) => s.zxid < leastRetained && !neededLogs.has(s.file))
    .map((s) => s.file);
  const doomedSnaps = snapshots.filter((s) => s.zxid < leastRetained).map((s) => s.file);
  const snapDir = join(dataDir, versionDirName);
  for (const name of await listDir(snapDir)) {
    const m = snapshotTempPattern.exec(name);
    if (m !== null && BigInt("0x" + m[1]) < leastRetained) doomedSnaps.push(join(snapDir, name));
  }

  const removed: string[] = [];
  for (const file of [...doomedLogs, ...doomedSnaps]) {
    try {
      await unlink(file);
      removed.push(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  if (doomedLogs.length > 0) await fsyncDir(join(dataLogDir, versionDirName));
  if (doomedSnaps.length > 0) await fsyncDir(snapDir);
  return { removed };
}
