// The durable txn log: preallocated segments, group commit, fsync before an append resolves. Must not interpret txns.
import { writeSync } from "node:fs";
import { open, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../base/assert.js";
import { groupCommitTxnsMax, logSegmentPreallocBytes } from "../base/limits.js";
import { zxidHex } from "../base/zxid.js";
import { ensureDir, fsyncDir, listDir, writeAt } from "./fs-util.js";
import {
  assertZxid,
  encodeLogHeader,
  encodeRecord,
  groupCommitBytesMax,
  logFileName,
  logHeaderBytes,
  parseLogFileName,
  recordBytes,
  recordPayloadBytesMaxDefault,
  versionDirName,
  zxidFollows,
} from "./format.js";
import { scanSegment } from "./segment-scan.js";

export interface TxnLogOptions {
  /** dataLogDir; segments live in `<dir>/version-2/`. */
  dir: string;
  /** fsync (fdatasync) before append() resolves, and sync the directory after creating a file. Default true. */
  forceSync: boolean;
  /** A segment's file is grown in steps of this many bytes (zeros), so most fsyncs change no size. */
  segmentPreallocBytes?: number;
  /** Largest record payload accepted (and read back); default 2 × jute.maxbuffer. */
  recordPayloadBytesMax?: number;
  /** After each group-commit batch is durable: its record count and its fsync's duration (ms; 0 without forceSync). */
  onBatchDurable?: (records: number, fsyncMs: number) => void;
}

export interface TxnLogStats {
  /** append() calls accepted. */
  appends: number;
  /** Group-commit batches written (one write each). */
  batches: number;
  /** fdatasync/fsync calls made, including those for creating and closing segments. */
  fsyncs: number;
  /** Bytes of records written (framing included). */
  bytes: number;
  /** Segment files created. */
  segments: number;
}

interface Pending {
  zxid: bigint;
  /** Framed bytes of the record in the staging buffer. */
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** The staging buffer's first size; it doubles as batches need, up to a group commit's bytes. */
const stagingBytesInitial = 64 * 1024;
/** A staging buffer larger than this is not kept for reuse after its batch is written. */
const stagingBytesKeptMax = 1024 * 1024;

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Segment {
  fh: FileHandle;
  file: string;
  /** Offset where the next record goes; bytes from here to `allocated` are zeros. */
  writePos: number;
  allocated: number;
  /** Bytes up to here have been written (records, or zeros ahead of them); past it the file is a hole. */
  zeroedTo: number;
}

/**
 * Zeros written ahead of the records, this many at a time. The segment's size comes from truncate (a hole);
 * a record written into a hole makes the next fdatasync allocate blocks and commit the file system's
 * journal, while one written over zeros already on disk is a plain overwrite: measured on ext4, an fsync
 * of a group commit takes a third of the time. One zero-fill serves hundreds of batches.
 */
const zeroFillBytes = 1024 * 1024;
let zeros: Buffer | undefined;

/**
 * Appends txns, as opaque bytes tagged with their zxid, to `<dataLogDir>/version-2/log.<hex first zxid>`.
 * Mirrors ZooKeeper's FileTxnLog (append, rollLog, commit with preallocation) with a group commit in
 * place of SyncRequestProcessor's batching: appends made while a write+fsync is in flight are written
 * and synced together next. After a write or fsync fails the log refuses all further work (an fsync
 * error cannot be retried safely); the caller should stop the server.
 */
export class TxnLog {
  readonly stats: TxnLogStats = { appends: 0, batches: 0, fsyncs: 0, bytes: 0, segments: 0 };
  private lastAppended: bigint;
  private lastDurable: bigint;
  private readonly logDir: string;
  private readonly forceSync: boolean;
  private readonly preallocBytes: number;
  private readonly payloadBytesMax: number;
  private segment: Segment | null = null;
  private pending: Pending[] = [];
  /**
   * The framed records of `pending`, in order: append() frames a record here at once (the group commit's
   * write buffer, so a batch is written with no copy and the caller's bytes are free when append returns).
   */
  private staging: Buffer = Buffer.allocUnsafe(stagingBytesInitial);
  private stagingUsed = 0;
  /** The buffer of the batch last written, reused as the next staging buffer. */
  private spare: Buffer | null = null;
  /** The batch being written: settled by writeBatch's caller, or rejected by fail(). */
  private inFlight: Pending[] = [];
  private rollWaiters: Waiter[] = [];
  private rollRequested = false;
  private running: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private failure: unknown = null;
  private readonly onBatchDurable: TxnLogOptions["onBatchDurable"];

  private constructor(opts: TxnLogOptions, startAfterZxid: bigint) {
    this.logDir = join(opts.dir, versionDirName);
    this.forceSync = opts.forceSync ?? true;
    this.preallocBytes = opts.segmentPreallocBytes ?? logSegmentPreallocBytes;
    this.payloadBytesMax = opts.recordPayloadBytesMax ?? recordPayloadBytesMaxDefault;
    this.onBatchDurable = opts.onBatchDurable;
    assert(
      Number.isInteger(this.preallocBytes) && this.preallocBytes >= 64,
      "segmentPreallocBytes too small",
    );
    assert(Number.isInteger(this.payloadBytesMax) && this.payloadBytesMax > 0, "bad recordPayloadBytesMax");
    this.lastAppended = startAfterZxid;
    this.lastDurable = startAfterZxid;
  }

  /**
   * Opens the log for appending after recovery: the next append must follow `startAfterZxid` (the zxid
   * the server recovered to). The newest existing segment is checked (a torn tail truncated, as
   * recover() does) and must hold nothing past `startAfterZxid`. Appends go to a new segment, created
   * on the first append and named by its zxid, as FileTxnLog does after a restart.
   */
  static async open(opts: TxnLogOptions, startAfterZxid: bigint): Promise<TxnLog> {
    assertZxid(startAfterZxid);
    const log = new TxnLog(opts, startAfterZxid);
    await ensureDir(log.logDir);
    const segments = (await listDir(log.logDir))
      .map((name) => ({ name, zxid: parseLogFileName(name) }))
      .filter((s): s is { name: string; zxid: bigint } => s.zxid !== null)
      .sort((a, b) => (a.zxid < b.zxid ? 1 : a.zxid > b.zxid ? -1 : 0));
    for (const s of segments) {
      const scan = await scanSegment(join(log.logDir, s.name), s.zxid, {
        newest: true,
        repair: true,
        payloadBytesMax: log.payloadBytesMax,
      });
      if (scan.lastZxid === null) continue; // it held nothing and was deleted: the next older is newest
      assert(
        scan.lastZxid <= startAfterZxid,
        `log holds zxid ${zxidHex(scan.lastZxid)} past startAfterZxid ${zxidHex(startAfterZxid)} (${scan.file})`,
      );
      break;
    }
    return log;
  }

  /** The zxid of the last append() accepted (durable or not). */
  get lastZxid(): bigint {
    return this.lastAppended;
  }

  /** The zxid of the last record written (and fsynced when forceSync). */
  get durableZxid(): bigint {
    return this.lastDurable;
  }

  /**
   * Resolves once the record is durable. zxids must follow one another (strictly increasing, and
   * consecutive within an epoch, which recovery checks): breaking that is a programmer error and throws
   * synchronously. `record` is copied before append returns: the caller may reuse it.
   */
  append(zxid: bigint, record: Uint8Array): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    assert(this.closing === null, "append after close");
    assertZxid(zxid);
    // The messages are built only on failure: two zxids in hex on every append cost more than the checks.
    if (!zxidFollows(this.lastAppended, zxid))
      assert(
        false,
        `zxid ${zxidHex(zxid)} does not follow ${zxidHex(this.lastAppended)} (must increase, consecutively within an epoch)`,
      );
    if (record.length > this.payloadBytesMax)
      assert(false, `record of ${record.length} bytes exceeds ${this.payloadBytesMax}`);
    this.lastAppended = zxid;
    this.stats.appends++;
    const bytes = recordBytes(record.length);
    this.reserveStaging(bytes);
    this.stagingUsed = encodeRecord(this.staging, this.stagingUsed, zxid, record);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ zxid, bytes, resolve, reject });
      this.kick();
    });
  }

  /** Room for `bytes` more in the staging buffer (grown by doubling, what is staged copied over). */
  private reserveStaging(bytes: number): void {
    if (this.stagingUsed + bytes <= this.staging.length) return;
    let capacity = this.staging.length * 2;
    while (capacity < this.stagingUsed + bytes) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.staging.copy(grown, 0, 0, this.stagingUsed);
    this.staging = grown;
  }

  /**
   * Starts a new segment for the next append (FileTxnLog.rollLog); resolves once the current segment
   * is complete, trimmed and closed. Called after a snapshot is started, so purge can later drop old
   * segments whole.
   */
  roll(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    assert(this.closing === null, "roll after close");
    this.rollRequested = true;
    return new Promise<void>((resolve, reject) => {
      this.rollWaiters.push({ resolve, reject });
      this.kick();
    });
  }

  /**
   * Drops every record with a zxid above `zxid` (ZAB's TRUNC, or the history a SNAP replaces), durably:
   * later segments are deleted, the one holding `zxid` is cut after it, and the directory is synced.
   * The next append must follow `zxid` (which need not be logged: after a SNAP it is the snapshot's) and
   * goes to a new segment. Waits for appends in flight; none may be pending beyond them.
   */
  async truncateAfter(zxid: bigint): Promise<void> {
    if (this.failure !== null) throw this.failure;
    assert(this.closing === null, "truncateAfter after close");
    assertZxid(zxid);
    while (this.running !== null) await this.running;
    if (this.failure !== null) throw this.failure;
    assert(this.pending.length === 0, "truncateAfter with appends pending");
    try {
      await this.closeSegment();
      const segments = (await listDir(this.logDir))
        .map((name) => ({ name, first: parseLogFileName(name) }))
        .filter((s): s is { name: string; first: bigint } => s.first !== null)
        .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
      let changed = false;
      for (const seg of segments) {
        const file = join(this.logDir, seg.name);
        if (seg.first > zxid) {
          await unlink(file);
          changed = true;
          continue;
        }
        let cut = -1;
        await scanSegment(file, seg.first, {
          newest: seg === segments[segments.length - 1],
          repair: false,
          payloadBytesMax: this.payloadBytesMax,
          onRecord: (z, _payload, offset) => {
            if (z > zxid && cut < 0) cut = offset;
          },
        });
        if (cut < 0) continue;
        const fh = await open(file, "r+");
        try {
          await fh.truncate(cut);
          if (this.forceSync) await fh.datasync();
        } finally {
          await fh.close();
        }
      }
      if (changed && this.forceSync) await fsyncDir(this.logDir);
    } catch (e) {
      this.fail(e);
      throw e;
    }
    this.lastAppended = zxid;
    this.lastDurable = zxid;
  }

  /** Writes what is pending, trims and closes the segment. Idempotent. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    while (this.running !== null) await this.running;
    if (this.failure !== null) {
      await this.segment?.fh.close().catch(() => undefined);
      this.segment = null;
      throw this.failure;
    }
    await this.closeSegment();
  }

  private kick(): void {
    if (this.running === null) this.running = this.run();
  }

  /** The single writer: never more than one write or fsync in flight. Never rejects. */
  private async run(): Promise<void> {
    await null; // appends made in the same tick as the first join its batch
    try {
      for (;;) {
        if (this.rollRequested) {
          this.rollRequested = false;
          await this.closeSegment();
          for (const w of this.rollWaiters.splice(0)) w.resolve();
        }
        if (this.pending.length === 0) break;
        const { batch, data, buffer } = this.takeBatch();
        await this.writeBatch(batch, data);
        // Written: its buffer can stage the batch after next (the next one is staging already).
        if (this.spare === null && buffer.length <= stagingBytesKeptMax) this.spare = buffer;
        for (const p of batch) p.resolve();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.running = null;
    }
  }

  /**
   * The oldest pending appends that fit one group commit, their framed bytes (`data`, the head of
   * `buffer`, the staging buffer they were framed in), and a fresh staging buffer for later appends.
   */
  private takeBatch(): { batch: Pending[]; data: Buffer; buffer: Buffer } {
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length && n < groupCommitTxnsMax) {
      const b = this.pending[n].bytes;
      if (n > 0 && bytes + b > groupCommitBytesMax) break;
      bytes += b;
      n++;
    }
    const staged = this.staging;
    const rest = this.stagingUsed - bytes;
    let next = this.spare;
    this.spare = null;
    if (next === null || next.length < rest) next = Buffer.allocUnsafe(Math.max(stagingBytesInitial, rest));
    // What did not fit this batch moves to the front of the next staging buffer (rare: a batch at its limits).
    if (rest > 0) staged.copy(next, 0, bytes, this.stagingUsed);
    this.staging = next;
    this.stagingUsed = rest;
    return { batch: this.pending.splice(0, n), data: staged.subarray(0, bytes), buffer: staged };
  }

  private async writeBatch(batch: Pending[], buf: Buffer): Promise<void> {
    assert(batch.length > 0, "empty batch");
    let total = 0;
    for (const p of batch) total += p.bytes;
    assert(buf.length === total, "batch encoding size mismatch");
    // Popped before the write, so on failure fail() rejects them along with everything still pending.
    this.inFlight = batch;
    const seg = this.segment ?? (await this.createSegment(batch[0].zxid));
    if (seg.writePos + total > seg.allocated) {
      // Grow in whole steps: the size (inode metadata) changes once per step, not once per fsync.
      const grown = Math.ceil((seg.writePos + total) / this.preallocBytes) * this.preallocBytes;
      await seg.fh.truncate(grown);
      seg.allocated = grown;
    }
    if (seg.writePos + total > seg.zeroedTo && seg.zeroedTo < seg.allocated) {
      // Zero-fill a step past this batch (within the segment's size): later batches overwrite, not allocate.
      const to = Math.min(seg.allocated, seg.writePos + total + zeroFillBytes);
      const from = Math.max(seg.zeroedTo, seg.writePos + total);
      if (to > from) {
        zeros ??= Buffer.alloc(zeroFillBytes);
        await writeAt(seg.fh, zeros.subarray(0, to - from), from);
      }
      seg.zeroedTo = to;
    }
    writeAllSync(seg.fh, buf, seg.writePos);
    let fsyncMs = 0;
    if (this.forceSync) {
      const started = performance.now();
      await seg.fh.datasync();
      fsyncMs = performance.now() - started;
      this.stats.fsyncs++;
    }
    this.onBatchDurable?.(batch.length, fsyncMs);
    seg.writePos += total;
    this.inFlight = [];
    this.stats.batches++;
    this.stats.bytes += total;
    this.lastDurable = batch[batch.length - 1].zxid;
  }

  private async createSegment(firstZxid: bigint): Promise<Segment> {
    const file = join(this.logDir, logFileName(firstZxid));
    const fh = await open(file, "wx"); // never overwrite a segment
    try {
      await writeAt(fh, encodeLogHeader(firstZxid), 0);
      await fh.truncate(this.preallocBytes);
      if (this.forceSync) {
        await fh.datasync();
        await fsyncDir(this.logDir);
        this.stats.fsyncs += 2;
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    this.stats.segments++;
    this.segment = {
      fh,
      file,
      writePos: logHeaderBytes,
      allocated: this.preallocBytes,
      zeroedTo: logHeaderBytes,
    };
    return this.segment;
  }

  /** Trims the preallocated zeros (so an older segment ends exactly at its last record) and closes. */
  private async closeSegment(): Promise<void> {
    const seg = this.segment;
    if (seg === null) return;
    this.segment = null;
    try {
      await seg.fh.truncate(seg.writePos);
      if (this.forceSync) {
        await seg.fh.datasync();
        this.stats.fsyncs++;
      }
    } finally {
      await seg.fh.close();
    }
  }

  private fail(e: unknown): void {
    this.failure = e;
    const rejected = [...this.inFlight, ...this.pending.splice(0), ...this.rollWaiters.splice(0)];
    this.inFlight = [];
    for (const p of rejected) p.reject(e);
  }
}

/**
 * Writes a batch into the page cache synchronously (tens of microseconds for a group commit), leaving one
 * trip through the thread pool per batch, the fdatasync, instead of two: on a busy machine each trip is a
 * thread wake-up on the commit's critical path. ZooKeeper's SyncRequestProcessor writes and syncs in one thread.
 */
function writeAllSync(fh: FileHandle, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fh.fd, data, done, data.length - done, position + done);
    assert(n > 0, "write made no progress");
    done += n;
  }
}
