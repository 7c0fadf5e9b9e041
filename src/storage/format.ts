// On-disk formats of log segments and snapshots (see docs/decisions/0001-log-format.md). No I/O here.
import { crc32 } from "node:zlib";
import { assert } from "../base/assert.js";
import { juteMaxBufferDefault } from "../base/limits.js";

/** Both kinds of file live in `<dir>/version-2/`, as ZooKeeper's do. */
export const versionDirName = "version-2";

/** "CRLG": a Corral log segment. */
export const logMagic = 0x43524c47;
/** "CRSN": a Corral snapshot. */
export const snapshotMagic = 0x4352534e;
/** "CRSE": the last four bytes of a complete snapshot. */
export const snapshotEndMagic = 0x43525345;
export const formatVersion = 1;

/** Segment header: magic u32, version u32, first zxid u64 (must equal the name's zxid). */
export const logHeaderBytes = 16;
/** Record header: length u32 (of zxid + payload, so never 0), crc32 u32 (of length, zxid, payload). */
export const recordHeaderBytes = 8;
/** The zxid that starts every record body. */
export const recordZxidBytes = 8;
/** Snapshot header: magic u32, version u32, zxid u64. */
export const snapshotHeaderBytes = 16;
/** Snapshot trailer: body length u64, crc32 u32 (of header + body), end magic u32. */
export const snapshotTrailerBytes = 16;

/**
 * A record's payload may be at most this many bytes (2 × jute.maxbuffer): a longer one is refused on
 * append and a length past it on read is corruption, checked before anything is allocated.
 * (Storage-local for now; belongs in src/base/limits.ts.)
 */
export const recordPayloadBytesMaxDefault = 2 * juteMaxBufferDefault;

/** Records gathered into one write + fsync (with groupCommitTxnsMax), so a batch buffer stays bounded. */
export const groupCommitBytesMax = 8 * 1024 * 1024;

/** Reads of log segments go through a window of this size; nothing reads a whole segment at once. */
export const readWindowBytes = 1024 * 1024;

const logNamePattern = /^log\.([0-9a-f]{1,16})$/;
const snapshotNamePattern = /^snapshot\.([0-9a-f]{1,16})$/;

/** ZooKeeper's naming: the zxid in lower-case hex without padding (Long.toHexString). */
export function logFileName(zxid: bigint): string {
  assertZxid(zxid);
  return `log.${zxid.toString(16)}`;
}

export function snapshotFileName(zxid: bigint): string {
  assertZxid(zxid);
  return `snapshot.${zxid.toString(16)}`;
}

/** The zxid in a `log.<hex>` name, or null for any other name. */
export function parseLogFileName(name: string): bigint | null {
  const m = logNamePattern.exec(name);
  return m === null ? null : BigInt("0x" + m[1]);
}

/** The zxid in a `snapshot.<hex>` name, or null for any other name (temp files included). */
export function parseSnapshotFileName(name: string): bigint | null {
  const m = snapshotNamePattern.exec(name);
  return m === null ? null : BigInt("0x" + m[1]);
}

const zxidLimit = 1n << 64n;

export function assertZxid(zxid: bigint): void {
  if (!(zxid >= 0n && zxid < zxidLimit)) assert(false, `zxid out of range: ${zxid}`);
}

/**
 * The rule every log obeys, checked on append and on recovery: zxids strictly increase, and within
 * one epoch they are consecutive (a leader numbers every proposal of its epoch 1, 2, 3, ...), so a
 * missing record is visible. A new epoch may start at any counter.
 */
export function zxidFollows(prev: bigint, next: bigint): boolean {
  if (next <= prev) return false;
  return next >> 32n !== prev >> 32n || next === prev + 1n;
}

export function encodeLogHeader(firstZxid: bigint): Buffer {
  const b = Buffer.alloc(logHeaderBytes);
  b.writeUInt32BE(logMagic, 0);
  b.writeUInt32BE(formatVersion, 4);
  b.writeBigUInt64BE(firstZxid, 8);
  return b;
}

/** Why a segment header is unusable, or null if it is good and names `firstZxid`. */
export function checkLogHeader(b: Uint8Array, firstZxid: bigint): string | null {
  if (b.length < logHeaderBytes) return `header truncated (${b.length} of ${logHeaderBytes} bytes)`;
  const v = new DataView(b.buffer, b.byteOffset, logHeaderBytes);
  if (v.getUint32(0) !== logMagic) return `bad magic 0x${v.getUint32(0).toString(16)}`;
  if (v.getUint32(4) !== formatVersion) return `unsupported version ${v.getUint32(4)}`;
  const z = v.getBigUint64(8);
  if (z !== firstZxid) return `header zxid 0x${z.toString(16)} does not match the file name`;
  return null;
}

/** Bytes a record of `payloadBytes` occupies in a segment. */
export function recordBytes(payloadBytes: number): number {
  return recordHeaderBytes + recordZxidBytes + payloadBytes;
}

/** Writes one record at `offset` of `out`; returns the offset after it. */
export function encodeRecord(out: Buffer, offset: number, zxid: bigint, payload: Uint8Array): number {
  const length = recordZxidBytes + payload.length;
  out.writeUInt32BE(length, offset);
  out.writeBigUInt64BE(zxid, offset + recordHeaderBytes);
  out.set(payload, offset + recordHeaderBytes + recordZxidBytes);
  const crc = recordCrc(out.subarray(offset, offset + 4), out.subarray(offset + 8, offset + 8 + length));
  out.writeUInt32BE(crc, offset + 4);
  return offset + recordHeaderBytes + length;
}

/** crc32 over the length field then the body (zxid + payload): a torn length fails the check too. */
export function recordCrc(lengthField: Uint8Array, body: Uint8Array): number {
  return crc32(body, crc32(lengthField));
}

/** Is `length` (of zxid + payload) one a record could have? Checked before allocating anything. */
export function plausibleRecordLength(length: number, payloadBytesMax: number): boolean {
  return length >= recordZxidBytes && length <= recordZxidBytes + payloadBytesMax;
}
