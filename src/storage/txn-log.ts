// The durable txn log: preallocated segments, group commit, fsync before an append resolves. Must not interpret txns.
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
  record: Uint8Array;
  resolve: () => void;
  reject: (e: unknown) => void;
}

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
}

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
  /** The batch being written: settled by writeBatch's caller, or rejected by fail(). */
  private inFlight: Pending[] = [];
  private rollWaiters: Waiter[] = [];
  private rollRequested = false;
  private running: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private failure: unknown = null;

  private constructor(opts: TxnLogOptions, startAfterZxid: bigint) {
    this.logDir = join(opts.dir, versionDirName);
    this.forceSync = opts.forceSync ?? true;
    this.preallocBytes = opts.segmentPreallocBytes ?? logSegmentPreallocBytes;
    this.payloadBytesMax = opts.recordPayloadBytesMax ?? recordPayloadBytesMaxDefault;
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
   * synchronously. `record` must not be changed until the promise settles.
   */
  append(zxid: bigint, record: Uint8Array): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    assert(this.closing === null, "append after close");
    assertZxid(zxid);
    assert(
      zxidFollows(this.lastAppended, zxid),
      `zxid ${zxidHex(zxid)} does not follow ${zxidHex(this.lastAppended)} (must increase, consecutively within an epoch)`,
    );
    assert(
      record.length <= this.payloadBytesMax,
      `record of ${record.length} bytes exceeds ${this.payloadBytesMax}`,
    );
    this.lastAppended = zxid;
    this.stats.appends++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ zxid, record, resolve, reject });
      this.kick();
    });
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
        const batch = this.takeBatch();
        await this.writeBatch(batch);
        for (const p of batch) p.resolve();
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.running = null;
    }
  }

  private takeBatch(): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length && n < groupCommitTxnsMax) {
      const b = recordBytes(this.pending[n].record.length);
      if (n > 0 && bytes + b > groupCommitBytesMax) break;
      bytes += b;
      n++;
    }
    return this.pending.splice(0, n);
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    assert(batch.length > 0, "empty batch");
    let total = 0;
    for (const p of batch) total += recordBytes(p.record.length);
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    for (const p of batch) off = encodeRecord(buf, off, p.zxid, p.record);
    assert(off === total, "batch encoding size mismatch");
    // Popped before the write, so on failure fail() rejects them along with everything still pending.
    this.inFlight = batch;
    const seg = this.segment ?? (await this.createSegment(batch[0].zxid));
    if (seg.writePos + total > seg.allocated) {
      // Grow in whole steps: the size (inode metadata) changes once per step, not once per fsync.
      const grown = Math.ceil((seg.writePos + total) / this.preallocBytes) * this.preallocBytes;
      await seg.fh.truncate(grown);
      seg.allocated = grown;
    }
    await writeAt(seg.fh, buf, seg.writePos);
    if (this.forceSync) {
      await seg.fh.datasync();
      this.stats.fsyncs++;
    }
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
    this.segment = { fh, file, writePos: logHeaderBytes, allocated: this.preallocBytes };
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
