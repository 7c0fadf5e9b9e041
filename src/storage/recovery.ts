// Startup recovery: newest valid snapshot plus every logged txn after it. Must not apply or interpret txns.
import { join } from "node:path";
import { CorruptLogError } from "../base/errors.js";
import { zxidHex } from "../base/zxid.js";
import { listDir } from "./fs-util.js";
import { parseLogFileName, recordPayloadBytesMaxDefault, versionDirName, zxidFollows } from "./format.js";
import { scanSegment } from "./segment-scan.js";
import { loadNewest, loadNewestValidSnapshot } from "./snapshot.js";
import { loadTreeSnapshot } from "./tree-snapshot.js";
import type { DataTree } from "../tree/data-tree.js";

export interface Recovered extends RecoveredLog {
  snapshot: { zxid: bigint; bytes: Uint8Array; file: string } | null;
  /** Newer snapshots that failed their check or validateSnapshot, newest first, with why. */
  skippedSnapshots: { file: string; why: string }[];
}

/** What recoverTree finds: the newest valid snapshot's tree, and the log after it. */
export interface RecoveredTree extends RecoveredLog {
  snapshot: { zxid: bigint; tree: DataTree; file: string } | null;
  /** Newer snapshots that failed their check, newest first, with why. */
  skippedSnapshots: { file: string; why: string }[];
}

interface RecoveredLog {
  /** Every logged txn after the snapshot's zxid, in order. */
  txns: { zxid: bigint; record: Uint8Array }[];
  /** The greater of the snapshot's zxid and the last txn's; 0n for an empty data dir. */
  lastZxid: bigint;
  /** A torn tail discarded from the newest segment (the file was truncated there), if any. */
  tornTail: { file: string; offset: number; why: string } | null;
}

export interface RecoverOptions {
  /** Largest record payload; a longer length is corruption. Default 2 × jute.maxbuffer. */
  recordPayloadBytesMax?: number;
}

export interface LogSegmentFile {
  zxid: bigint;
  file: string;
}

/** Log segments in `<dataLogDir>/version-2`, oldest first. */
export async function listLogSegments(dataLogDir: string): Promise<LogSegmentFile[]> {
  const logDir = join(dataLogDir, versionDirName);
  const out: LogSegmentFile[] = [];
  for (const name of await listDir(logDir)) {
    const zxid = parseLogFileName(name);
    if (zxid !== null) out.push({ zxid, file: join(logDir, name) });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/**
 * The segments that may hold txns after `zxid`: the newest one starting at or before it, and all later
 * (FileTxnLog.getLogFiles). Older segments are not read.
 */
export function segmentsAfter(segments: LogSegmentFile[], zxid: bigint): LogSegmentFile[] {
  let from = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i].zxid <= zxid) from = i;
  return segments.slice(from);
}

/**
 * Loads the newest snapshot that passes its CRC (and `validateSnapshot`), falling back to older ones as
 * FileSnap.deserialize does, then reads every segment that may hold later txns. Records at or before
 * the snapshot's zxid are checked but not returned. A torn tail of the newest segment is truncated;
 * anything else wrong (bad record mid-log, zxids out of order, a gap) throws CorruptLogError.
 */
export async function recover(
  dataDir: string,
  dataLogDir: string,
  validateSnapshot?: (bytes: Uint8Array) => boolean,
  opts: RecoverOptions = {},
): Promise<Recovered> {
  const { snapshot, skipped } = await loadNewestValidSnapshot(dataDir, validateSnapshot);
  return {
    snapshot,
    skippedSnapshots: skipped,
    ...(await readLogAfter(dataLogDir, snapshot?.zxid ?? 0n, opts)),
  };
}

/**
 * recover() for a server's start: the newest snapshot that passes its CRC is decoded into a tree as it is read
 * (a window at a time, never in memory whole), older ones tried in turn; then the log after it.
 */
export async function recoverTree(
  dataDir: string,
  dataLogDir: string,
  opts: RecoverOptions = {},
): Promise<RecoveredTree> {
  const { loaded, skipped } = await loadNewest(dataDir, loadTreeSnapshot);
  const snapshot = loaded && { zxid: loaded.zxid, tree: loaded.tree, file: loaded.file };
  return {
    snapshot,
    skippedSnapshots: skipped,
    ...(await readLogAfter(dataLogDir, snapshot?.zxid ?? 0n, opts)),
  };
}

/** Every logged txn after `snapZxid`, checked for order and gaps; a torn tail of the newest segment truncated. */
async function readLogAfter(
  dataLogDir: string,
  snapZxid: bigint,
  opts: RecoverOptions,
): Promise<RecoveredLog> {
  const payloadBytesMax = opts.recordPayloadBytesMax ?? recordPayloadBytesMaxDefault;
  const txns: { zxid: bigint; record: Uint8Array }[] = [];
  let tornTail: Recovered["tornTail"] = null;
  let prev: bigint | null = null; // last record read, across segments
  const segments = segmentsAfter(await listLogSegments(dataLogDir), snapZxid);
  for (let i = 0; i < segments.length; i++) {
    const { zxid: nameZxid, file } = segments[i];
    const scan = await scanSegment(file, nameZxid, {
      newest: i === segments.length - 1,
      repair: true,
      payloadBytesMax,
      onRecord: (zxid, payload, offset) => {
        if (prev !== null && zxid <= prev) {
          throw new CorruptLogError(file, offset, `zxid ${zxidHex(zxid)} does not follow ${zxidHex(prev)}`);
        }
        prev = zxid;
        if (zxid <= snapZxid) return; // the snapshot covers it
        const last = txns.length > 0 ? txns[txns.length - 1].zxid : snapZxid;
        if (!zxidFollows(last, zxid)) {
          throw new CorruptLogError(
            file,
            offset,
            `gap: zxid ${zxidHex(zxid)} does not follow ${zxidHex(last)}`,
          );
        }
        txns.push({ zxid, record: new Uint8Array(payload) }); // a copy, and a plain Uint8Array
      },
    });
    if (scan.torn !== null) tornTail = { file, ...scan.torn };
  }
  const lastZxid = txns.length > 0 ? txns[txns.length - 1].zxid : snapZxid;
  return { txns, lastZxid, tornTail };
}
