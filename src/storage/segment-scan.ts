// Reads one log segment record by record, telling a torn tail from corruption. Must not hold more than a window.
import { open, unlink, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { CorruptLogError } from "../base/errors.js";
import { zxidHex } from "../base/zxid.js";
import { FileWindow, fsyncDir } from "./fs-util.js";
import {
  checkLogHeader,
  logHeaderBytes,
  plausibleRecordLength,
  readWindowBytes,
  recordCrc,
  recordHeaderBytes,
  recordZxidBytes,
  zxidFollows,
} from "./format.js";

export interface ScanOptions {
  /** The newest segment may end in a torn tail; any other must end cleanly. */
  newest: boolean;
  /** Truncate a torn tail (or delete a newest segment that holds no record), so appends continue cleanly. */
  repair: boolean;
  payloadBytesMax: number;
  /** Called for each valid record in order; `payload` is only valid during the call. May throw. */
  onRecord?: (zxid: bigint, payload: Uint8Array, offset: number) => void;
}

export interface SegmentScan {
  file: string;
  records: number;
  /** Zxid of the last valid record, null when the segment holds none. */
  lastZxid: bigint | null;
  /** Offset just past the last valid record. */
  endOffset: number;
  /** Set when non-zero bytes after the last valid record were discarded (newest segment only). */
  torn: { offset: number; why: string } | null;
  /** The newest segment held no valid record and was deleted (repair only). */
  deleted: boolean;
}

interface Stop {
  offset: number;
  why: string;
  /** A zero length: the normal end of a preallocated segment. */
  zero: boolean;
}

/**
 * Scans `file`, whose name says its first zxid is `nameZxid`. Mirrors FileTxnLog.FileTxnIterator, but
 * where ZooKeeper throws on any CRC failure we accept one at the tail of the newest segment when no
 * valid record follows it (a write that was never acknowledged), and truncate it.
 */
export async function scanSegment(file: string, nameZxid: bigint, opts: ScanOptions): Promise<SegmentScan> {
  const fh = await open(file, opts.repair ? "r+" : "r");
  let result: SegmentScan;
  try {
    const size = (await fh.stat()).size;
    const window = new FileWindow(fh, size);
    const headerWhy = checkLogHeader(await window.get(0, logHeaderBytes), nameZxid);
    let stop: Stop | null = null;
    let records = 0;
    let lastZxid: bigint | null = null;
    let pos = logHeaderBytes;
    if (headerWhy !== null) {
      stop = { offset: 0, why: headerWhy, zero: false };
      pos = 0;
    }
    while (stop === null) {
      const header = await window.get(pos, recordHeaderBytes);
      if (header.length === 0) break; // clean end of file
      if (header.length < recordHeaderBytes) {
        stop = { offset: pos, why: "record header truncated at end of file", zero: allZero(header) };
        break;
      }
      const length = header.readUInt32BE(0);
      if (length === 0) {
        stop = { offset: pos, why: "zero length", zero: true };
        break;
      }
      if (!plausibleRecordLength(length, opts.payloadBytesMax)) {
        stop = { offset: pos, why: `impossible record length ${length}`, zero: false };
        break;
      }
      if (pos + recordHeaderBytes + length > size) {
        stop = { offset: pos, why: `record of ${length} bytes runs past end of file (${size})`, zero: false };
        break;
      }
      const rec = await window.get(pos, recordHeaderBytes + length);
      const crc = rec.readUInt32BE(4);
      if (recordCrc(rec.subarray(0, 4), rec.subarray(recordHeaderBytes)) !== crc) {
        stop = { offset: pos, why: "CRC mismatch", zero: false };
        break;
      }
      const zxid = rec.readBigUInt64BE(recordHeaderBytes);
      // A record with a good CRC is what was written: an order violation is never a torn write.
      if (lastZxid === null && zxid !== nameZxid) {
        throw new CorruptLogError(
          file,
          pos,
          `first record has zxid ${zxidHex(zxid)}, the file name says ${zxidHex(nameZxid)}`,
        );
      }
      if (lastZxid !== null && !zxidFollows(lastZxid, zxid)) {
        throw new CorruptLogError(file, pos, `zxid ${zxidHex(zxid)} does not follow ${zxidHex(lastZxid)}`);
      }
      opts.onRecord?.(zxid, rec.subarray(recordHeaderBytes + recordZxidBytes), pos);
      lastZxid = zxid;
      records++;
      pos += recordHeaderBytes + length;
    }
    result = { file, records, lastZxid, endOffset: pos, torn: null, deleted: false };
    if (stop !== null) {
      const nonZeroAt = await firstNonZero(window, stop.offset);
      if (!opts.newest) {
        // An older segment was closed (and trimmed) before the next was created; trailing zeros only
        // mean the trim itself was lost (forceSync=false). Anything else is corruption.
        if (!(stop.zero && nonZeroAt === -1)) throw new CorruptLogError(file, stop.offset, stop.why);
      } else if (nonZeroAt !== -1) {
        const valid = await findValidRecord(fh, size, stop.offset + 1, opts.payloadBytesMax);
        if (valid !== -1) {
          throw new CorruptLogError(
            file,
            stop.offset,
            `${stop.why}; a valid record follows at offset ${valid}`,
          );
        }
        result.torn = { offset: stop.offset, why: stop.why };
      }
    }
    if (!opts.newest && records === 0) {
      throw new CorruptLogError(file, logHeaderBytes, "segment holds no record but a newer segment exists");
    }
    if (opts.repair && opts.newest && records > 0 && result.torn !== null) {
      await fh.truncate(result.endOffset);
      await fh.datasync();
    }
  } finally {
    await fh.close();
  }
  if (opts.repair && opts.newest && result.records === 0) {
    // Created but never given a durable record: remove it so its name can be used again.
    await unlink(file);
    await fsyncDir(dirname(file));
    result.deleted = true;
  }
  return result;
}

function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Offset of the first non-zero byte at or after `from`, or -1. */
async function firstNonZero(window: FileWindow, from: number): Promise<number> {
  for (let base = from; base < window.size; base += readWindowBytes) {
    const chunk = await window.get(base, readWindowBytes);
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return base + i;
  }
  return -1;
}

/**
 * The offset of a complete record with a good CRC starting anywhere at or after `from`, or -1. Used only
 * after a bad record in the newest segment, to tell a torn tail (nothing valid after) from corruption.
 */
async function findValidRecord(
  fh: FileHandle,
  size: number,
  from: number,
  payloadBytesMax: number,
): Promise<number> {
  const scan = new FileWindow(fh, size);
  const candidate = new FileWindow(fh, size);
  const step = readWindowBytes;
  for (let base = from; base + recordHeaderBytes + recordZxidBytes <= size; base += step) {
    // Overlap by a header so a record starting near the end of this chunk is still seen.
    const chunk = await scan.get(base, step + recordHeaderBytes);
    const last = Math.min(step, chunk.length - recordHeaderBytes);
    for (let i = 0; i < last; i++) {
      if ((chunk[i] | chunk[i + 1] | chunk[i + 2] | chunk[i + 3]) === 0) continue;
      const length = chunk.readUInt32BE(i);
      const at = base + i;
      if (!plausibleRecordLength(length, payloadBytesMax) || at + recordHeaderBytes + length > size) continue;
      const rec = await candidate.get(at, recordHeaderBytes + length);
      if (recordCrc(rec.subarray(0, 4), rec.subarray(recordHeaderBytes)) === rec.readUInt32BE(4)) return at;
    }
  }
  return -1;
}
