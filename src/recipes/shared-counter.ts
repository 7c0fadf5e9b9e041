// SharedCount: an int every client sees, changed only by versioned compare-and-set (Curator's SharedCount).
import { EventEmitter } from "node:events";
import { BadVersionError, NodeExistsError, NoNodeError, type ZooKeeperClient } from "../client/index.js";
import { retryOnConnectionLoss } from "./connection-retry.js";
import { RecipeStateError } from "./errors.js";
import { validateRecipePath } from "./recipe-path.js";
import { ensurePath, parentPath } from "./znode-paths.js";

/** A value with the znode version it was read at: what trySetCount compares against. */
export interface VersionedValue<T> {
  value: T;
  version: number;
}

export interface SharedCountEvents {
  /** The count changed (seen through a watch; several quick changes may arrive as one). */
  changed: [count: number];
}

/** Curator's encoding: a 4-byte big-endian int (SharedCount.toBytes). */
export function encodeCount(count: number): Uint8Array {
  if (!Number.isInteger(count) || count < -0x80000000 || count > 0x7fffffff)
    throw new RangeError(`a shared count is a 32-bit int, not ${count}`);
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setInt32(0, count);
  return bytes;
}

export function decodeCount(bytes: Uint8Array): number {
  if (bytes.length !== 4) throw new RangeError(`a shared count is 4 bytes, not ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0);
}

/**
 * An int at `path`, Curator-compatible (4-byte big-endian), created with `seed` if absent. start() reads it
 * and keeps `count` current through a data watch. trySetCount() is a compare-and-set on the znode version:
 * it fails when anyone changed the count since `previous` was read. A ConnectionLossError from trySetCount
 * means the set may or may not have happened: read again before retrying (or use DistributedAtomicLong,
 * which settles that question itself).
 */
export class SharedCount extends EventEmitter<SharedCountEvents> {
  private current: VersionedValue<number> | undefined;
  private closed = false;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    private readonly seed: number,
  ) {
    super();
    validateRecipePath(path);
  }

  /** Creates the node with the seed if needed, then reads and watches it. */
  async start(): Promise<void> {
    try {
      await ensurePath(this.zk, parentPath(this.path));
      await retryOnConnectionLoss(this.zk, () => this.zk.create(this.path, encodeCount(this.seed)));
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
    await this.read();
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }

  /** The count last seen. */
  get count(): number {
    return this.versionedValue.value;
  }

  get versionedValue(): VersionedValue<number> {
    if (this.current === undefined) throw new RecipeStateError(`SharedCount at ${this.path}: start() first`);
    return { ...this.current };
  }

  /** Sets the count whatever it was. */
  async setCount(count: number): Promise<void> {
    const stat = await retryOnConnectionLoss(this.zk, () => this.zk.setData(this.path, encodeCount(count)));
    this.update({ value: count, version: stat.version });
  }

  /** Sets the count only if nobody changed it since `previous` was read; resolves whether it did. */
  async trySetCount(previous: VersionedValue<number>, count: number): Promise<boolean> {
    try {
      const stat = await this.zk.setData(this.path, encodeCount(count), previous.version);
      this.update({ value: count, version: stat.version });
      return true;
    } catch (err) {
      if (err instanceof BadVersionError) {
        await this.read();
        return false;
      }
      throw err;
    }
  }

  /** Reads the count now (not only through the watch), and re-arms the watch. */
  async read(): Promise<VersionedValue<number>> {
    try {
      const { data, stat } = await retryOnConnectionLoss(this.zk, () =>
        this.zk.getData(this.path, { watch: () => void this.onWatch() }),
      );
      this.update({ value: decodeCount(data), version: stat.version });
    } catch (err) {
      if (err instanceof NoNodeError) throw new RecipeStateError(`SharedCount node ${this.path} was deleted`);
      throw err;
    }
    return this.versionedValue;
  }

  private async onWatch(): Promise<void> {
    if (this.closed) return;
    await this.read().catch(() => {
      // A lost session or a deleted node: the count stays as last seen.
    });
  }

  private update(next: VersionedValue<number>): void {
    // Versions only grow while the node lives: never go back to an older read.
    if (this.current !== undefined && next.version <= this.current.version) return;
    const changed = this.current?.value !== next.value;
    this.current = next;
    if (changed && !this.closed) this.emit("changed", next.value);
  }
}
