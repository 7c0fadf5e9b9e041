// A simulated server disk: txn log records in Corral's on-disk framing (storage/format.ts: length, CRC32,
// zxid, payload), an atomically replaced snapshot, the two epoch files, and writes that take time. What a
// finished write made durable survives a crash; a write in flight survives only as a prefix of its
// operations, and its last record may be torn. Recovery mirrors storage/recovery.ts: newest snapshot, the
// records after it, a torn tail discarded. Test-only; no real I/O.
import { zxidHex } from "../../src/base/zxid.js";
import type { Prng } from "../../src/base/clock.js";
import {
  encodeRecord,
  plausibleRecordLength,
  recordBytes,
  recordCrc,
  recordHeaderBytes,
  recordPayloadBytesMaxDefault,
  recordZxidBytes,
  zxidFollows,
} from "../../src/storage/format.js";
import { InvariantError } from "./zab-cluster.js";

/** One step of carrying out a Ready's persist, in the order QuorumDriver.persist does them. */
export type DiskOp =
  | { kind: "snapshot"; zxid: bigint; bytes: Uint8Array }
  | { kind: "truncate"; zxid: bigint }
  | { kind: "append"; zxid: bigint; data: Uint8Array }
  | { kind: "acceptedEpoch"; epoch: number }
  | { kind: "currentEpoch"; epoch: number };

interface StoredRecord {
  zxid: bigint;
  /** The payload as appended (for durability checks); the bytes are what recovery reads. */
  data: Uint8Array;
  bytes: Buffer;
}

export interface Recovered {
  snapshot: { zxid: bigint; bytes: Uint8Array } | null;
  txns: { zxid: bigint; data: Uint8Array }[];
  acceptedEpoch: number;
  currentEpoch: number;
  /** A torn last record was found and discarded. */
  tornDiscarded: boolean;
}

export class SimDisk {
  private records: StoredRecord[] = [];
  private snapshotValue: { zxid: bigint; bytes: Uint8Array } | null = null;
  private acceptedEpoch = 0;
  private currentEpoch = 0;
  /** Torn records written by crashes, and torn records recovery discarded (for the run's stats). */
  tornWritten = 0;
  tornDiscarded = 0;

  /** The whole of `ops`, made durable (a finished write + fsync). */
  complete(ops: readonly DiskOp[]): void {
    for (const op of ops) this.applyOp(op);
  }

  /**
   * A crash while `ops` were being written: a prefix of them is durable; with `tearChance`, the op after
   * that prefix, if an append, leaves a torn record (part of its bytes, or its bytes with a bit flipped).
   */
  crashDuring(ops: readonly DiskOp[], prng: Prng, tearChance: number): void {
    const k = prng.nextUint32() % (ops.length + 1);
    for (let i = 0; i < k; i++) this.applyOp(ops[i]!);
    const next = ops[k];
    if (next?.kind !== "append" || prng.nextUint32() / 2 ** 32 >= tearChance) return;
    const full = encode(next.zxid, next.data);
    let torn: Buffer;
    if (prng.nextUint32() % 2 === 0) {
      torn = full.subarray(0, 1 + (prng.nextUint32() % (full.length - 1)));
    } else {
      torn = Buffer.from(full);
      const at = prng.nextUint32() % torn.length;
      torn[at] = torn[at]! ^ (1 << (prng.nextUint32() % 8));
    }
    this.records.push({ zxid: next.zxid, data: next.data, bytes: torn });
    this.tornWritten++;
  }

  /** A snapshot of the applied tree taken by the shell: written atomically, then the log before it purged. */
  takeSnapshot(zxid: bigint, bytes: Uint8Array): void {
    if (this.snapshotValue !== null && zxid <= this.snapshotValue.zxid) return;
    this.snapshotValue = { zxid, bytes };
    this.records = this.records.filter((r) => r.zxid > zxid);
  }

  /**
   * Startup: the newest snapshot and every valid record after it; a record that fails its check must be
   * the last (a torn tail: discarded, and cut off the log as segment-scan's repair does), else the log is
   * corrupt, which the simulator never makes: an InvariantError.
   */
  recover(): Recovered {
    const snapZxid = this.snapshotValue?.zxid ?? 0n;
    const txns: { zxid: bigint; data: Uint8Array }[] = [];
    let tornDiscarded = false;
    let prev: bigint | null = null;
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      const payload = decode(r.bytes);
      if (payload === null) {
        if (i !== this.records.length - 1) {
          throw new InvariantError(`disk: bad record ${zxidHex(r.zxid)} in the middle of the log`);
        }
        this.records.length = i;
        tornDiscarded = true;
        this.tornDiscarded++;
        break;
      }
      if (prev !== null && payload.zxid <= prev) {
        throw new InvariantError(`disk: zxid ${zxidHex(payload.zxid)} does not follow ${zxidHex(prev)}`);
      }
      prev = payload.zxid;
      if (payload.zxid <= snapZxid) continue;
      const last = txns.length > 0 ? txns[txns.length - 1]!.zxid : snapZxid;
      if (!zxidFollows(last, payload.zxid)) {
        throw new InvariantError(
          `disk: gap, zxid ${zxidHex(payload.zxid)} does not follow ${zxidHex(last)} (recovery would refuse to start)`,
        );
      }
      txns.push({ zxid: payload.zxid, data: payload.data });
    }
    return {
      snapshot: this.snapshotValue,
      txns,
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      tornDiscarded,
    };
  }

  /** Whether the entry is durable here: covered by the snapshot, or logged with these bytes. */
  holds(zxid: bigint, data: Uint8Array): boolean {
    if (this.snapshotValue !== null && zxid <= this.snapshotValue.zxid) return true;
    const r = this.findRecord(zxid);
    return r !== undefined && Buffer.compare(Buffer.from(r.data), Buffer.from(data)) === 0;
  }

  get epochs(): { acceptedEpoch: number; currentEpoch: number } {
    return { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch };
  }

  get recordCount(): number {
    return this.records.length;
  }

  private findRecord(zxid: bigint): StoredRecord | undefined {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid]!.zxid < zxid) lo = mid + 1;
      else hi = mid;
    }
    const r = this.records[lo];
    return r !== undefined && r.zxid === zxid ? r : undefined;
  }

  private applyOp(op: DiskOp): void {
    switch (op.kind) {
      case "snapshot":
        this.snapshotValue = { zxid: op.zxid, bytes: op.bytes };
        return;
      case "truncate":
        this.records = this.records.filter((r) => r.zxid <= op.zxid);
        return;
      case "append": {
        const last = this.records.at(-1);
        if (last !== undefined && decode(last.bytes) === null) {
          throw new InvariantError(`disk: append after a torn record that recovery did not discard`);
        }
        if (last !== undefined && op.zxid <= last.zxid) {
          throw new InvariantError(`disk: append ${zxidHex(op.zxid)} after ${zxidHex(last.zxid)}`);
        }
        this.records.push({ zxid: op.zxid, data: op.data, bytes: encode(op.zxid, op.data) });
        return;
      }
      case "acceptedEpoch":
        this.acceptedEpoch = op.epoch;
        return;
      case "currentEpoch":
        this.currentEpoch = op.epoch;
        return;
    }
  }
}

function encode(zxid: bigint, data: Uint8Array): Buffer {
  const out = Buffer.alloc(recordBytes(data.length));
  encodeRecord(out, 0, zxid, data);
  return out;
}

/** segment-scan's checks of one record: a plausible length, all of it present, its CRC. */
function decode(b: Buffer): { zxid: bigint; data: Uint8Array } | null {
  if (b.length < recordHeaderBytes) return null;
  const length = b.readUInt32BE(0);
  if (!plausibleRecordLength(length, recordPayloadBytesMaxDefault)) return null;
  if (b.length !== recordHeaderBytes + length) return null;
  if (recordCrc(b.subarray(0, 4), b.subarray(recordHeaderBytes)) !== b.readUInt32BE(4)) return null;
  const zxid = b.readBigUInt64BE(recordHeaderBytes);
  return { zxid, data: new Uint8Array(b.subarray(recordHeaderBytes + recordZxidBytes)) };
}
