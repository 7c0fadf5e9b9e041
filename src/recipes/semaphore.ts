// InterProcessSemaphoreV2: at most maxLeases holders across processes, each holding a Lease (Curator's).
import { NoNodeError, type Data, type ZooKeeperClient } from "../client/index.js";
import { deleteGuaranteed, retryOnConnectionLoss } from "./connection-retry.js";
import { waitForWatch } from "./watch-wait.js";
import { LockLostError } from "./errors.js";
import { InterProcessMutex, type AcquireOptions } from "./mutex.js";
import { protectedCreate } from "./protected-create.js";
import { validateRecipePath } from "./recipe-path.js";
import { joinPath, nodeName, sortBySequence } from "./znode-paths.js";

/** Curator's InterProcessSemaphoreV2 layout: a lock at `<path>/locks`, lease nodes under `<path>/leases`. */
const lockParent = "locks";
const leaseParent = "leases";
const leaseBaseName = "lease-";

export interface SemaphoreOptions {
  /** Data stored in each lease node (e.g. who holds it). Default empty. */
  data?: Data;
}

/** One lease of a semaphore: held from acquire() until close() or the end of its session. */
export class Lease {
  private closed = false;

  constructor(
    readonly zk: ZooKeeperClient,
    /** The lease node's path. */
    readonly path: string,
  ) {}

  /** The data stored in the lease node (getData). */
  async data(): Promise<Uint8Array> {
    return (await retryOnConnectionLoss(this.zk, () => this.zk.getData(this.path))).data;
  }

  /** Gives the lease back: deletes its node (through connection loss). Closing twice is quiet. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await deleteGuaranteed(this.zk, this.path);
  }
}

/**
 * A counting semaphore shared by every process that uses `path` with the same `maxLeases`
 * (InterProcessSemaphoreV2). To take a lease a process takes the mutex at `<path>/locks`, creates a protected
 * ephemeral-sequential `<path>/leases/_c_<uuid>-lease-<seq>`, and, while more than `maxLeases` lease nodes
 * exist, waits (still holding the mutex, so waiters queue fairly on it) for one to go; then it releases the
 * mutex and holds the lease until `lease.close()` or until its session ends, which deletes the node.
 * Every process must use the same `maxLeases`: the count is not stored in ZooKeeper.
 */
export class InterProcessSemaphoreV2 {
  readonly lockPath: string;
  readonly leasesPath: string;
  private readonly data: Data;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    readonly maxLeases: number,
    options: SemaphoreOptions = {},
  ) {
    validateRecipePath(path);
    if (!Number.isInteger(maxLeases) || maxLeases < 1)
      throw new RangeError(`maxLeases must be a positive integer, not ${maxLeases}`);
    this.lockPath = joinPath(path, lockParent);
    this.leasesPath = joinPath(path, leaseParent);
    this.data = options.data ?? null;
  }

  /**
   * Takes `qty` leases (default 1), waiting as long as it takes, or until `timeoutMs` for all of them. Resolves
   * with the leases; with an empty array when the time ran out first, after giving back any it had taken.
   * Rejects with the signal's reason on abort (giving back what it took, leaving no node behind).
   */
  async acquire(qty = 1, options: AcquireOptions = {}): Promise<Lease[]> {
    if (!Number.isInteger(qty) || qty < 1) throw new RangeError(`qty must be a positive integer, not ${qty}`);
    if (qty > this.maxLeases)
      throw new RangeError(`cannot take ${qty} leases of a semaphore with ${this.maxLeases}`);
    const { signal } = options;
    signal?.throwIfAborted();
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const leases: Lease[] = [];
    let ok = false;
    try {
      while (leases.length < qty) {
        const lease = await this.acquireOne(deadlineMs, signal);
        if (lease === undefined) return [];
        leases.push(lease);
      }
      ok = true;
      return leases;
    } finally {
      if (!ok) await this.returnAll(leases);
    }
  }

  /** Closes every lease given (returnAll). */
  async returnAll(leases: readonly Lease[]): Promise<void> {
    await Promise.all(leases.map((l) => l.close()));
  }

  /** The lease nodes' paths, oldest first (getParticipantNodes). */
  async participantNodes(): Promise<string[]> {
    try {
      const names = await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.leasesPath));
      return sortBySequence(names).map((n) => joinPath(this.leasesPath, n));
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** InterProcessSemaphoreV2.internalAcquire1Lease: one lease, or undefined at the deadline. */
  private async acquireOne(
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Lease | undefined> {
    // A mutex instance per attempt: an instance is one owner, and concurrent acquire()s must not re-enter.
    const lock = new InterProcessMutex(this.zk, this.lockPath);
    const remaining = deadlineMs === undefined ? undefined : Math.max(0, deadlineMs - Date.now());
    if (!(await lock.acquire({ timeoutMs: remaining, signal }))) return undefined;
    try {
      const ourPath = await protectedCreate(this.zk, this.leasesPath, leaseBaseName, this.data, {
        mode: "ephemeral-sequential",
        signal,
      });
      let held = false;
      try {
        held = await this.waitForRoom(ourPath, deadlineMs, signal);
        return held ? new Lease(this.zk, ourPath) : undefined;
      } finally {
        if (!held) await deleteGuaranteed(this.zk, ourPath);
      }
    } finally {
      await lock.release();
    }
  }

  /** While more than maxLeases lease nodes exist, waits for a change to the leases (true once there is room). */
  private async waitForRoom(
    ourPath: string,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const ourName = nodeName(ourPath);
    for (;;) {
      signal?.throwIfAborted();
      let fire = (): void => {};
      const fired = new Promise<void>((resolve) => (fire = resolve));
      const children = await retryOnConnectionLoss(
        this.zk,
        () => this.zk.getChildren(this.leasesPath, { watch: () => fire() }),
        { deadlineMs, signal },
      );
      if (!children.includes(ourName))
        throw new LockLostError(`lease node ${ourPath} is gone (deleted, or its session ended)`);
      if (children.length <= this.maxLeases) return true;
      if (deadlineMs !== undefined && Date.now() >= deadlineMs) return false;
      if (!(await waitForWatch(this.zk, fired, deadlineMs, signal))) return false;
    }
  }
}
