// An in-memory LogView with the mutations a shell performs for a Ready. Pure: for tests, the simulator
// and as the reference the durable log must behave like.
import { assert } from "../base/assert.js";
import type { LogView } from "./log-view.js";
import type { LogEntry, Snapshot } from "./messages.js";

export class MemoryLog implements LogView {
  private entries: LogEntry[] = [];
  private snapshotValue: Snapshot = { zxid: 0n, data: new Uint8Array(0) };

  snapshotZxid(): bigint {
    return this.snapshotValue.zxid;
  }

  /** The snapshot the log starts after (what a restarted shell loads as its state). */
  snapshot(): Snapshot {
    return this.snapshotValue;
  }

  lastZxid(): bigint {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.zxid : this.snapshotValue.zxid;
  }

  entriesAfter(after: bigint, max: number): LogEntry[] {
    assert(after >= this.snapshotValue.zxid, "entriesAfter below the snapshot");
    const i = this.indexAfter(after);
    return this.entries.slice(i, i + max);
  }

  floor(zxid: bigint): bigint {
    const i = this.indexAfter(zxid);
    return i > 0 ? this.entries[i - 1]!.zxid : this.snapshotValue.zxid;
  }

  /** Every entry, for tests. */
  all(): readonly LogEntry[] {
    return this.entries;
  }

  /** Whether the zxid is durable here: logged, or covered by the snapshot. */
  covers(zxid: bigint): boolean {
    if (zxid <= this.snapshotValue.zxid) return true;
    const i = this.indexAfter(zxid);
    return i > 0 && this.entries[i - 1]!.zxid === zxid;
  }

  /** Ready.snapshotToApply: the log restarts after the snapshot. */
  installSnapshot(snapshot: Snapshot): void {
    this.snapshotValue = snapshot;
    this.entries = [];
  }

  /** Ready.truncateTo. */
  truncate(zxid: bigint): void {
    assert(zxid >= this.snapshotValue.zxid, "truncate below the snapshot");
    this.entries.length = this.indexAfter(zxid);
  }

  /** Ready.entriesToAppend. */
  append(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      assert(e.zxid > this.lastZxid(), `append out of order: ${e.zxid} after ${this.lastZxid()}`);
      this.entries.push(e);
    }
  }

  /** The shell took a snapshot of its applied state at snapshot.zxid: drop the entries it covers. */
  compact(snapshot: Snapshot): void {
    assert(
      snapshot.zxid >= this.snapshotValue.zxid && snapshot.zxid <= this.lastZxid(),
      "compact out of range",
    );
    this.entries = this.entries.slice(this.indexAfter(snapshot.zxid));
    this.snapshotValue = snapshot;
  }

  /** Index of the first entry with zxid > after (binary search). */
  private indexAfter(after: bigint): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.zxid <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
