// Snapshot files: write (temp, fsync, rename, fsync dir) and read back with a CRC check. Must not touch the txn log.
import { crc32 } from "node:zlib";
import { constants as bufferConstants } from "node:buffer";
import { readSync } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../base/assert.js";
import type { JuteSource } from "../protocol/jute-reader.js";
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

/** A snapshot body is read this many bytes at a time (more when one record is larger). */
const bodyWindowBytes = 1024 * 1024;

/**
 * A snapshot's body, read a window at a time as a JuteReader consumes it and CRC'd on the way, so a large
 * snapshot is never in memory whole (the read of a 200 MB file into a fresh buffer costs more than its
 * decoding's first pass over it). Whatever is decoded must be dropped unless `finish()` says the CRC matched.
 */
export class SnapshotBody implements JuteSource {
  /** A plain Uint8Array, not a Buffer: a reader's slice() of it must copy (Buffer's slice is a view). */
  private window: Uint8Array;
  private position: number;
  private crc: number;

  private constructor(
    private readonly fh: FileHandle,
    header: Buffer,
    private readonly bodyEnd: number,
    private readonly expectedCrc: number,
    private readonly windowBytes: number,
  ) {
    this.window = new Uint8Array(windowBytes);
    this.position = header.length;
    this.crc = crc32(header);
  }

  /**
   * Opens `file` and checks its header and trailer; the body is read later, by refill(), `windowBytes` at a
   * time (more when one record is larger).
   */
  static async open(
    file: string,
    zxid: bigint,
    windowBytes = bodyWindowBytes,
  ): Promise<{ ok: true; body: SnapshotBody } | { ok: false; why: string }> {
    const fh = await open(file, "r");
    let body: SnapshotBody | null = null;
    try {
      const frame = await readFrame(fh, zxid);
      if (typeof frame === "string") return { ok: false, why: frame };
      const { header, trailer, size } = frame;
      body = new SnapshotBody(fh, header, size - snapshotTrailerBytes, trailer.readUInt32BE(8), windowBytes);
      return { ok: true, body };
    } finally {
      if (body === null) await fh.close(); // else body.close() closes it
    }
  }

  get pending(): number {
    return this.bodyEnd - this.position;
  }

  refill(window: Uint8Array, from: number, end: number, n: number): Uint8Array {
    const kept = end - from;
    const size = Math.min(kept + this.pending, Math.max(n, this.windowBytes));
    const unread = window.subarray(from, end);
    if (size > this.window.length) this.window = new Uint8Array(size);
    this.window.set(unread, 0); // TypedArray set copies correctly when both share a buffer
    let filled = kept;
    while (filled < size) {
      const got = readSync(this.fh.fd, this.window, filled, size - filled, this.position);
      if (got === 0) throw new Error(`snapshot shrank while being read (at offset ${this.position})`);
      this.crc = crc32(this.window.subarray(filled, filled + got), this.crc);
      filled += got;
      this.position += got;
    }
    return this.window.subarray(0, filled);
  }

  /** Reads what is left unread and checks the CRC over the whole body: null if it matches, else why. */
  finish(): string | null {
    let window: Uint8Array = this.window.subarray(0, 0);
    while (this.pending > 0) window = this.refill(window, window.length, window.length, 1);
    return this.crc === this.expectedCrc ? null : "CRC mismatch";
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * A cheap completeness check reading only header and trailer (no CRC), like ZooKeeper's
 * SnapStream.isValidSnapshot: used by purge to choose which snapshots count as retained.
 */
export async function snapshotLooksComplete(file: string, zxid: bigint): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    return typeof (await readFrame(fh, zxid)) !== "string";
  } finally {
    await fh.close();
  }
}

/** Reads only a snapshot file's header and trailer and checks them: the frame, or why it is not one. */
async function readFrame(
  fh: FileHandle,
  zxid: bigint,
): Promise<{ header: Buffer; trailer: Buffer; size: number } | string> {
  const size = (await fh.stat()).size;
  if (size < snapshotHeaderBytes + snapshotTrailerBytes) return `too short (${size} bytes)`;
  const header = Buffer.alloc(snapshotHeaderBytes);
  const trailer = Buffer.alloc(snapshotTrailerBytes);
  if ((await readAt(fh, header, header.length, 0)) !== header.length) return "short read";
  if ((await readAt(fh, trailer, trailer.length, size - trailer.length)) !== trailer.length)
    return "short read";
  return checkFrame(header, trailer, size, zxid) ?? { header, trailer, size };
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
  const { loaded, skipped } = await loadNewest(dataDir, async (file, zxid) => {
    const read = await readSnapshot(file, zxid);
    if (!read.ok || validate === undefined) return read;
    try {
      return validate(read.bytes) ? read : { ok: false, why: "rejected by validateSnapshot" };
    } catch (e) {
      return { ok: false, why: `validateSnapshot threw: ${(e as Error).message}` };
    }
  });
  return { snapshot: loaded && { zxid: loaded.zxid, bytes: loaded.bytes, file: loaded.file }, skipped };
}

/**
 * Tries the snapshots in `dataDir` newest first with `load` until one loads (FileSnap.deserialize): what it
 * loaded with that snapshot's file, and the newer ones passed over with why.
 */
export async function loadNewest<T extends { ok: true }>(
  dataDir: string,
  load: (file: string, zxid: bigint) => Promise<T | { ok: false; why: string }>,
): Promise<{
  loaded: (T & { file: string; zxid: bigint }) | null;
  skipped: { file: string; why: string }[];
}> {
  const skipped: { file: string; why: string }[] = [];
  for (const { zxid, file } of await listSnapshots(dataDir)) {
    const r = await load(file, zxid);
    if (r.ok) return { loaded: { ...r, file, zxid }, skipped };
    skipped.push({ file, why: r.why });
  }
  return { loaded: null, skipped };
}
