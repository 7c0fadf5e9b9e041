// Snapshot files: write (temp, fsync, rename, fsync dir) and read back with a CRC check. Must not touch the txn log.
import { crc32 } from "node:zlib";
import { constants as bufferConstants } from "node:buffer";
import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../base/assert.js";
import { ensureDir, fsyncDir, listDir, readAt, writeAt } from "./fs-util.js";
import {
  assertZxid,
  formatVersion,
  parseSnapshotFileName,
  snapshotEndMagic,
  snapshotFileName,
  snapshotHeaderBytes,
  snapshotMagic,
  snapshotTrailerBytes,
  versionDirName,
} from "./format.js";

/** Small chunks are gathered into writes of up to this many bytes. */
const snapshotWriteBytes = 1024 * 1024;

let tempCounter = 0;

/**
 * Writes a snapshot of the state as of `zxid` to `<dataDir>/version-2/snapshot.<hex zxid>` and returns
 * that path. The file appears under its final name only complete and fsynced (like ZooKeeper's
 * FileTxnSnapLog.save with an atomic rename). Async throughout, so appends to the log go on meanwhile.
 * Accepts an async iterable too, so a caller can yield between chunks.
 */
export async function writeSnapshot(
  dataDir: string,
  zxid: bigint,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<string> {
  assertZxid(zxid);
  const snapDir = join(dataDir, versionDirName);
  await ensureDir(snapDir);
  const file = join(snapDir, snapshotFileName(zxid));
  const temp = `${file}.tmp.${process.pid}.${tempCounter++}`;
  const fh = await open(temp, "wx");
  try {
    const header = Buffer.alloc(snapshotHeaderBytes);
    header.writeUInt32BE(snapshotMagic, 0);
    header.writeUInt32BE(formatVersion, 4);
    header.writeBigUInt64BE(zxid, 8);
    let crc = crc32(header);
    let pos = 0;
    await writeAt(fh, header, pos);
    pos += header.length;
    let bodyBytes = 0;
    const gather = Buffer.allocUnsafe(snapshotWriteBytes);
    let gathered = 0;
    for await (const chunk of chunks) {
      crc = crc32(chunk, crc);
      bodyBytes += chunk.length;
      if (gathered + chunk.length > gather.length && gathered > 0) {
        await writeAt(fh, gather.subarray(0, gathered), pos);
        pos += gathered;
        gathered = 0;
      }
      if (chunk.length >= gather.length) {
        await writeAt(fh, chunk, pos);
        pos += chunk.length;
      } else {
        gather.set(chunk, gathered);
        gathered += chunk.length;
      }
    }
    if (gathered > 0) await writeAt(fh, gather.subarray(0, gathered), pos);
    pos += gathered;
    assert(pos === snapshotHeaderBytes + bodyBytes, "snapshot: bytes written do not add up");
    const trailer = Buffer.alloc(snapshotTrailerBytes);
    trailer.writeBigUInt64BE(BigInt(bodyBytes), 0);
    trailer.writeUInt32BE(crc, 8);
    trailer.writeUInt32BE(snapshotEndMagic, 12);
    await writeAt(fh, trailer, pos);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(temp, file);
  await fsyncDir(snapDir);
  return file;
}

export interface SnapshotFile {
  zxid: bigint;
  file: string;
}

/** Snapshot files in `<dataDir>/version-2`, newest first. Temp files are not listed. */
export async function listSnapshots(dataDir: string): Promise<SnapshotFile[]> {
  const snapDir = join(dataDir, versionDirName);
  const out: SnapshotFile[] = [];
  for (const name of await listDir(snapDir)) {
    const zxid = parseSnapshotFileName(name);
    if (zxid !== null) out.push({ zxid, file: join(snapDir, name) });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? 1 : a.zxid > b.zxid ? -1 : 0));
}

export type SnapshotRead = { ok: true; zxid: bigint; bytes: Uint8Array } | { ok: false; why: string };

/** Reads a whole snapshot and checks header, trailer and CRC; `bytes` is the body the writer was given. */
export async function readSnapshot(file: string, zxid: bigint): Promise<SnapshotRead> {
  const fh = await open(file, "r");
  try {
    const size = (await fh.stat()).size;
    if (size < snapshotHeaderBytes + snapshotTrailerBytes)
      return { ok: false, why: `too short (${size} bytes)` };
    if (size > bufferConstants.MAX_LENGTH) return { ok: false, why: `too large to load (${size} bytes)` };
    const buf = Buffer.allocUnsafe(size);
    const got = await readAt(fh, buf, size, 0);
    if (got !== size) return { ok: false, why: `short read (${got} of ${size} bytes)` };
    const why = checkFrame(
      buf.subarray(0, snapshotHeaderBytes),
      buf.subarray(size - snapshotTrailerBytes),
      size,
      zxid,
    );
    if (why !== null) return { ok: false, why };
    const bodyEnd = size - snapshotTrailerBytes;
    const crc = buf.readUInt32BE(bodyEnd + 8);
    if (crc32(buf.subarray(0, bodyEnd)) !== crc) return { ok: false, why: "CRC mismatch" };
    const bytes = new Uint8Array(
      buf.buffer,
      buf.byteOffset + snapshotHeaderBytes,
      bodyEnd - snapshotHeaderBytes,
    );
    return { ok: true, zxid, bytes };
  } finally {
    await fh.close();
  }
}

/**
 * A cheap completeness check reading only header and trailer (no CRC), like ZooKeeper's
 * SnapStream.isValidSnapshot: used by purge to choose which snapshots count as retained.
 */
export async function snapshotLooksComplete(file: string, zxid: bigint): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const size = (await fh.stat()).size;
    if (size < snapshotHeaderBytes + snapshotTrailerBytes) return false;
    const header = Buffer.alloc(snapshotHeaderBytes);
    const trailer = Buffer.alloc(snapshotTrailerBytes);
    if ((await readAt(fh, header, header.length, 0)) !== header.length) return false;
    if ((await readAt(fh, trailer, trailer.length, size - trailer.length)) !== trailer.length) return false;
    return checkFrame(header, trailer, size, zxid) === null;
  } finally {
    await fh.close();
  }
}

function checkFrame(header: Buffer, trailer: Buffer, size: number, zxid: bigint): string | null {
  if (header.readUInt32BE(0) !== snapshotMagic) return "bad magic";
  if (header.readUInt32BE(4) !== formatVersion) return `unsupported version ${header.readUInt32BE(4)}`;
  if (header.readBigUInt64BE(8) !== zxid) return "header zxid does not match the file name";
  if (trailer.readUInt32BE(12) !== snapshotEndMagic) return "no end marker (truncated?)";
  const bodyBytes = trailer.readBigUInt64BE(0);
  if (bodyBytes !== BigInt(size - snapshotHeaderBytes - snapshotTrailerBytes)) {
    return `trailer says ${bodyBytes} body bytes, file has ${size - snapshotHeaderBytes - snapshotTrailerBytes}`;
  }
  return null;
}

export interface LoadedSnapshot {
  snapshot: { zxid: bigint; bytes: Uint8Array; file: string } | null;
  /** Newer snapshots passed over, with why (FileSnap.deserialize logs and tries the next). */
  skipped: { file: string; why: string }[];
}

/** The newest snapshot that passes its CRC and `validate`; older ones are tried in turn. */
export async function loadNewestValidSnapshot(
  dataDir: string,
  validate?: (bytes: Uint8Array) => boolean,
): Promise<LoadedSnapshot> {
  const skipped: { file: string; why: string }[] = [];
  for (const { zxid, file } of await listSnapshots(dataDir)) {
    const read = await readSnapshot(file, zxid);
    if (!read.ok) {
      skipped.push({ file, why: read.why });
      continue;
    }
    if (validate !== undefined) {
      let why: string | null = null;
      try {
        if (!validate(read.bytes)) why = "rejected by validateSnapshot";
      } catch (e) {
        why = `validateSnapshot threw: ${(e as Error).message}`;
      }
      if (why !== null) {
        skipped.push({ file, why });
        continue;
      }
    }
    return { snapshot: { zxid, bytes: read.bytes, file }, skipped };
  }
  return { snapshot: null, skipped };
}
