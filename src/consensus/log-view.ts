// The consensus core's view of durable history: the shell's storage plus the changes not yet handed
// out in a Ready. Pure: no I/O; storage is reached only through the LogView interface.
import { assert } from "../base/assert.js";
import type { LogEntry, Snapshot } from "./messages.js";

/**
 * Read access to the shell's durable txn log (everything persisted through earlier Readys).
 * The log holds the entries after `snapshotZxid()`, contiguous and in zxid order.
 */
export interface LogView {
  /** The zxid the log starts after: that of the newest snapshot it was compacted to (0n if none). */
  snapshotZxid(): bigint;
  /** The last persisted zxid, or snapshotZxid() if the log holds no entries. */
  lastZxid(): bigint;
  /** Persisted entries with zxid > after (after >= snapshotZxid()), in order, at most `max` of them. */
  entriesAfter(after: bigint, max: number): LogEntry[];
  /** The largest logged zxid <= zxid, or snapshotZxid() if there is none (zxid >= snapshotZxid()). */
  floor(zxid: bigint): bigint;
}

/** The shell's applied state, for SNAP: the leader sends it to a learner too far behind for a DIFF. */
export interface SnapshotSource {
  /** The state as of the last zxid the shell applied (>= the log's snapshotZxid()). */
  snapshot(): Snapshot;
}

/** The changes a Ready asks the shell to make to its log, in this order. */
export interface LogChanges {
  snapshot?: Snapshot;
  truncateTo?: bigint;
  entries: LogEntry[];
}

/** Storage plus pending (unpersisted) changes, composed so the core always sees its logical history. */
export class ZabLog {
  private pending: LogChanges = { entries: [] };

  constructor(private readonly storage: LogView) {}

  /** Where the logical log starts: the pending snapshot, else storage's. */
  baseZxid(): bigint {
    return this.pending.snapshot?.zxid ?? this.storage.snapshotZxid();
  }

  /** The last zxid of the logical log. */
  lastZxid(): bigint {
    const n = this.pending.entries.length;
    if (n > 0) return this.pending.entries[n - 1]!.zxid;
    return this.stableLast();
  }

  /** Last zxid of the part of storage still visible (after a pending snapshot/truncation). */
  private stableLast(): bigint {
    if (this.pending.snapshot) return this.pending.snapshot.zxid;
    const last = this.storage.lastZxid();
    const t = this.pending.truncateTo;
    return t !== undefined && t < last ? t : last;
  }

  /** The largest zxid in the logical log <= zxid, or baseZxid(). */
  floor(zxid: bigint): bigint {
    assert(zxid >= this.baseZxid(), "floor below the log's base");
    for (let i = this.pending.entries.length - 1; i >= 0; i--) {
      const e = this.pending.entries[i]!;
      if (e.zxid <= zxid) return e.zxid;
    }
    if (this.pending.snapshot) return this.pending.snapshot.zxid;
    const bound = this.stableLast();
    return this.storage.floor(zxid < bound ? zxid : bound);
  }

  /** Logical entries with zxid in (after, upTo], in order, at most max. */
  entriesBetween(after: bigint, upTo: bigint, max: number): LogEntry[] {
    assert(after >= this.baseZxid(), `entries after ${after} are compacted away (base ${this.baseZxid()})`);
    const out: LogEntry[] = [];
    if (!this.pending.snapshot) {
      const bound = this.stableLast() < upTo ? this.stableLast() : upTo;
      if (bound > after) {
        for (const e of this.storage.entriesAfter(after, max)) {
          if (e.zxid > bound) break;
          out.push(e);
        }
      }
    }
    for (const e of this.pending.entries) {
      if (out.length >= max) break;
      if (e.zxid > after && e.zxid <= upTo) out.push(e);
    }
    return out;
  }

  append(entry: LogEntry): void {
    assert(entry.zxid > this.lastZxid(), `append out of order: ${entry.zxid} after ${this.lastZxid()}`);
    this.pending.entries.push(entry);
  }

  /** Drop every entry after zxid. */
  truncate(zxid: bigint): void {
    assert(zxid >= this.baseZxid(), `cannot truncate to ${zxid}, below the snapshot ${this.baseZxid()}`);
    this.pending.entries = this.pending.entries.filter((e) => e.zxid <= zxid);
    if (this.pending.snapshot) return;
    if (zxid < this.stableLast()) this.pending.truncateTo = zxid;
  }

  /** Replace the whole history by a snapshot. */
  installSnapshot(snapshot: Snapshot): void {
    this.pending = { snapshot, entries: [] };
  }

  /** The last zxid of the logical log that is already durable: storage's visible part; -1n when a
   * pending snapshot replaces it all. Everything up to it is in both storage and the logical log. */
  stableLastZxid(): bigint {
    return this.pending.snapshot ? -1n : this.stableLast();
  }

  hasPending(): boolean {
    const p = this.pending;
    return p.snapshot !== undefined || p.truncateTo !== undefined || p.entries.length > 0;
  }

  /** Hand the pending changes to a Ready. The log's view is unchanged until stable(). */
  peekPending(): LogChanges {
    const p = this.pending;
    return {
      ...(p.snapshot ? { snapshot: p.snapshot } : {}),
      ...(p.truncateTo !== undefined ? { truncateTo: p.truncateTo } : {}),
      entries: p.entries.slice(),
    };
  }

  /** The shell persisted what peekPending() returned: storage now shows it. */
  stable(expectedLast: bigint): void {
    this.pending = { entries: [] };
    assert(
      this.storage.lastZxid() === expectedLast,
      `storage's last zxid ${this.storage.lastZxid()} after persisting, expected ${expectedLast}`,
    );
  }
}
