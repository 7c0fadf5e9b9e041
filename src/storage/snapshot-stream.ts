// A snapshot as a byte stream (the admin `snapshot` command, `corral backup`) in exactly the layout snapshot.ts
// writes to disk, and loading such a file back into a tree (`restore`). Reads and writes no txn log.
import { crc32 } from "node:zlib";
import { open } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { CorruptLogError } from "../base/errors.js";
import { zxidHex } from "../base/zxid.js";
import { decodeTxn } from "../protocol/txn-codec.js";
import { DataTree } from "../tree/data-tree.js";
import {
  formatVersion,
  recordPayloadBytesMaxDefault,
  snapshotEndMagic,
  snapshotHeaderBytes,
  snapshotMagic,
  snapshotTrailerBytes,
} from "./format.js";
import { readAt } from "./fs-util.js";
import { listLogSegments, segmentsAfter } from "./recovery.js";
import { scanSegment } from "./segment-scan.js";
import { listSnapshots, readSnapshot } from "./snapshot.js";
import { deserializeTree, serializeTree } from "./tree-snapshot.js";

/** The file snapshot.ts's writeSnapshot would write for these chunks: header, the chunks, trailer with the CRC. */
export function* snapshotStream(zxid: bigint, chunks: Iterable<Uint8Array>): Generator<Uint8Array> {
  const header = Buffer.alloc(snapshotHeaderBytes);
  header.writeUInt32BE(snapshotMagic, 0);
  header.writeUInt32BE(formatVersion, 4);
  header.writeBigUInt64BE(zxid, 8);
  yield header;
  let crc = crc32(header);
  let bodyBytes = 0;
  for (const chunk of chunks) {
    crc = crc32(chunk, crc);
    bodyBytes += chunk.length;
    yield chunk;
  }
  const trailer = Buffer.alloc(snapshotTrailerBytes);
  trailer.writeBigUInt64BE(BigInt(bodyBytes), 0);
  trailer.writeUInt32BE(crc, 8);
  trailer.writeUInt32BE(snapshotEndMagic, 12);
  yield trailer;
}

/** Total bytes of snapshotStream(zxid, chunks). */
export function snapshotStreamBytes(chunks: readonly Uint8Array[]): number {
  return chunks.reduce((n, c) => n + c.length, snapshotHeaderBytes + snapshotTrailerBytes);
}

/** The zxid in a snapshot file's header; a file that does not start like a snapshot is refused. */
export async function snapshotFileZxid(file: string): Promise<bigint> {
  const fh = await open(file, "r");
  try {
    const header = Buffer.alloc(snapshotHeaderBytes);
    const got = await readAt(fh, header, header.length, 0);
    if (got !== header.length || header.readUInt32BE(0) !== snapshotMagic)
      throw new CorruptLogError(file, 0, "not a Corral snapshot (bad magic)");
    return header.readBigUInt64BE(8);
  } finally {
    await fh.close();
  }
}

/** Reads a snapshot file of any name, checks its frame and CRC, and rebuilds the tree it holds. */
export async function loadSnapshotFile(
  file: string,
): Promise<{ zxid: bigint; tree: DataTree; bytes: Uint8Array }> {
  const zxid = await snapshotFileZxid(file);
  const read = await readSnapshot(file, zxid);
  if (!read.ok) throw new CorruptLogError(file, 0, read.why);
  const tree = deserializeTree(read.bytes, file);
  if (tree.lastProcessedZxid !== zxid)
    throw new CorruptLogError(file, 0, "the tree's zxid does not match the header's");
  return { zxid, tree, bytes: read.bytes };
}

/**
 * The tree as of `zxid`, rebuilt read-only from disk: the newest valid snapshot at or before it, then the logged
 * txns up to it, as recovery does (but repairing nothing: the log may be appended to meanwhile). Standalone only,
 * where every applied txn is already in the log. Throws when the files do not reach `zxid`.
 */
export async function treeAsOf(dataDir: string, dataLogDir: string, zxid: bigint): Promise<DataTree> {
  let tree: DataTree | null = null;
  for (const s of await listSnapshots(dataDir)) {
    if (s.zxid > zxid) continue; // written after the backup was asked for
    const read = await readSnapshot(s.file, s.zxid);
    if (!read.ok) continue;
    tree = deserializeTree(read.bytes, s.file);
    break;
  }
  const t = tree ?? new DataTree();
  const from = t.lastProcessedZxid;
  const segments = segmentsAfter(await listLogSegments(dataLogDir), from);
  // Stop at `zxid`: what follows it in the newest segment may be half written right now.
  const reached = new Error("reached the zxid");
  try {
    for (let i = 0; i < segments.length && t.lastProcessedZxid < zxid; i++) {
      const { zxid: nameZxid, file } = segments[i]!;
      await scanSegment(file, nameZxid, {
        newest: i === segments.length - 1,
        repair: false,
        payloadBytesMax: recordPayloadBytesMaxDefault,
        onRecord: (z, payload) => {
          if (z > from && z <= zxid) t.apply(decodeTxn(new Uint8Array(payload)));
          if (z >= zxid) throw reached;
        },
      });
    }
  } catch (e) {
    if (e !== reached) throw e;
  }
  if (t.lastProcessedZxid !== zxid)
    throw new Error(
      `the data dir holds the state up to ${zxidHex(t.lastProcessedZxid)}, not ${zxidHex(zxid)}`,
    );
  return t;
}

/**
 * serializeTree(treeAsOf(...)) in a worker thread, so the server's event loop (and its writes) never waits for it.
 * The chunks come back transferred, not copied.
 */
export function serializeFromDisk(dataDir: string, dataLogDir: string, zxid: bigint): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./snapshot-worker.js", import.meta.url), {
      workerData: { dataDir, dataLogDir, zxid },
    });
    let done = false;
    worker.once("message", (chunks: Uint8Array[]) => {
      done = true;
      resolve(chunks);
    });
    worker.once("error", (e) => {
      done = true;
      reject(e);
    });
    worker.once("exit", (code) => {
      if (!done) reject(new Error(`snapshot worker exited with code ${code}`));
    });
  });
}

/** The worker's side of serializeFromDisk. */
export async function serializeAsOf(
  dataDir: string,
  dataLogDir: string,
  zxid: bigint,
): Promise<Uint8Array[]> {
  return serializeTree(await treeAsOf(dataDir, dataLogDir, zxid));
}
