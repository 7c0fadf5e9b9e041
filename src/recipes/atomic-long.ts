// DistributedAtomicLong: a 64-bit counter changed by optimistic versioned CAS with retry, exactly once.
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import {
  BadVersionError,
  ConnectionLossError,
  NodeExistsError,
  NoNodeError,
  type ZooKeeperClient,
} from "../client/index.js";
import { deleteGuaranteed, retryOnConnectionLoss, waitForConnection } from "./connection-retry.js";
import { validateRecipePath } from "./recipe-path.js";
import { ensurePath, joinPath, parentPath } from "./znode-paths.js";

/** The outcome of an operation (Curator's AtomicValue): postValue is what was written when it succeeded. */
export interface AtomicValue {
  succeeded: boolean;
  preValue: bigint;
  postValue: bigint;
}

export interface AtomicLongOptions {
  /** How many optimistic tries before giving up with succeeded false. Default 1000. */
  triesMax?: number;
  /** The largest pause between tries; pauses grow from 1 ms with jitter up to this. Default 50 ms. */
  backoffMaxMs?: number;
}

/** Curator's encoding: an 8-byte big-endian long; a missing node reads as 0. */
function encodeLong(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigInt64(0, BigInt.asIntN(64, value));
  return bytes;
}

function decodeLong(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length !== 8) throw new RangeError(`a distributed long is 8 bytes, not ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0);
}

/** The node's value and version; version -1 when the node does not exist yet. */
interface Read {
  value: bigint;
  version: number;
}

/** A marker child of the counter node: it exists iff the transaction that made it committed. */
const markerPrefix = "_txn_";

/**
 * A long at `path` (Curator-compatible bytes). Every change reads the value and its version, then writes with
 * that version in a multi that also creates an ephemeral marker child; on BadVersion it reads again and retries
 * after a jittered pause (DistributedAtomicValue with optimistic tries). The marker settles what a
 * ConnectionLossError leaves open: after reconnecting, the op committed iff its marker exists, so an
 * increment is applied exactly once and a sum under contention is exact.
 */
export class DistributedAtomicLong {
  private readonly triesMax: number;
  private readonly backoffMaxMs: number;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    options: AtomicLongOptions = {},
  ) {
    validateRecipePath(path);
    this.triesMax = options.triesMax ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 50;
  }

  /** The current value (0 when the node does not exist). */
  async get(): Promise<bigint> {
    return (await this.read()).value;
  }

  increment(): Promise<AtomicValue> {
    return this.add(1n);
  }

  decrement(): Promise<AtomicValue> {
    return this.add(-1n);
  }

  subtract(delta: bigint): Promise<AtomicValue> {
    return this.add(-delta);
  }

  add(delta: bigint): Promise<AtomicValue> {
    return this.modify((v) => v + delta);
  }

  /** Sets `value` if the current value is `expected`; one try: fails if it is not (or changes meanwhile). */
  async compareAndSet(expected: bigint, value: bigint): Promise<AtomicValue> {
    const read = await this.read();
    if (read.value !== expected) return { succeeded: false, preValue: read.value, postValue: read.value };
    const ok = await this.write(read, value);
    return { succeeded: ok, preValue: read.value, postValue: ok ? value : read.value };
  }

  /** Sets `value` optimistically, retrying on conflict. */
  trySet(value: bigint): Promise<AtomicValue> {
    return this.modify(() => value);
  }

  /** Sets `value` unconditionally. */
  async forceSet(value: bigint): Promise<void> {
    try {
      await retryOnConnectionLoss(this.zk, () => this.zk.setData(this.path, encodeLong(value)));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      await this.modify(() => value);
    }
  }

  /** Creates the node with `value` if it does not exist; resolves whether this call created it. */
  async initialize(value: bigint): Promise<boolean> {
    await ensurePath(this.zk, parentPath(this.path));
    try {
      await retryOnConnectionLoss(this.zk, () => this.zk.create(this.path, encodeLong(value)));
      return true;
    } catch (err) {
      if (err instanceof NodeExistsError) return false;
      throw err;
    }
  }

  private async modify(next: (value: bigint) => bigint): Promise<AtomicValue> {
    let read: Read | undefined;
    for (let attempt = 1; attempt <= this.triesMax; attempt++) {
      read = await this.read();
      const value = next(read.value);
      if (await this.write(read, value)) return { succeeded: true, preValue: read.value, postValue: value };
      const backoffMs = Math.min(this.backoffMaxMs, 2 ** Math.min(attempt, 10));
      await delay(Math.random() * backoffMs);
    }
    return { succeeded: false, preValue: read!.value, postValue: read!.value };
  }

  private async read(): Promise<Read> {
    try {
      const { data, stat } = await retryOnConnectionLoss(this.zk, () => this.zk.getData(this.path));
      return { value: decodeLong(data), version: stat.version };
    } catch (err) {
      if (err instanceof NoNodeError) return { value: 0n, version: -1 };
      throw err;
    }
  }

  /** One CAS: true when it committed, false when someone else changed the node first. */
  private async write(read: Read, value: bigint): Promise<boolean> {
    const marker = joinPath(this.path, `${markerPrefix}${randomUUID()}`);
    const bytes = encodeLong(value);
    for (;;) {
      const txn = this.zk.transaction();
      if (read.version < 0) txn.create(this.path, bytes);
      else txn.setData(this.path, bytes, read.version);
      txn.create(marker, null, { mode: "ephemeral" });
      try {
        await txn.commit();
        break;
      } catch (err) {
        if (err instanceof BadVersionError || err instanceof NodeExistsError) return false;
        if (err instanceof NoNodeError) {
          if (read.version >= 0) return false; // deleted since read: read again
          await ensurePath(this.zk, parentPath(this.path));
          continue;
        }
        if (!(err instanceof ConnectionLossError)) throw err;
        // Unknown outcome: the marker says whether the transaction committed.
        await waitForConnection(this.zk);
        const committed = await retryOnConnectionLoss(this.zk, async () => {
          await this.zk.sync(this.path);
          return (await this.zk.exists(marker)) !== null;
        });
        if (!committed) return false;
        break;
      }
    }
    await deleteGuaranteed(this.zk, marker);
    return true;
  }
}
