// InterProcessMutex: a re-entrant, fair lock across processes (Curator's InterProcessMutex), on client/ only.
import { EventEmitter } from "node:events";
import type { Data, WatchEvent, ZooKeeperClient } from "../client/index.js";
import { LockLostError } from "./errors.js";
import { LockInternals, standardDriver, type LockDriver } from "./lock-internals.js";
import { SessionWatcher, type ConnectionState } from "./session-watcher.js";
import { validateRecipePath } from "./recipe-path.js";

export interface AcquireOptions {
  /** Give up after this long: acquire() resolves false. Default: wait as long as it takes. */
  timeoutMs?: number;
  /** Aborting stops the wait: acquire() rejects with the signal's reason and leaves no node behind. */
  signal?: AbortSignal;
}

export interface MutexOptions {
  /** The name after the protected prefix and before the sequence number. Default "lock-" (Curator's). */
  lockName?: string;
  /** Data stored in the lock node, e.g. who holds it. Default empty. */
  data?: Data;
}

export interface MutexEvents {
  /** The lock was held and is not any more: the session was lost, or someone deleted the lock node. */
  lost: [error: LockLostError];
}

/** Internals shared with the read-write lock: a hold count on a LockInternals queue. */
export class ReentrantLock extends EventEmitter<MutexEvents> {
  private readonly internals: LockInternals;
  private readonly data: Data;
  private ourPath: string | undefined;
  private holdCount = 0;
  private lost = false;
  private acquiring: Promise<boolean> | undefined;
  private watcher: SessionWatcher | undefined;
  private abortOnLoss: AbortController | undefined;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    lockName: string,
    driver: LockDriver,
    data: Data,
  ) {
    super();
    validateRecipePath(path);
    this.internals = new LockInternals(zk, path, lockName, driver);
    this.data = data;
  }

  /**
   * Takes the lock, or counts one more hold if this instance has it (re-entrant). Waiters are served in the
   * order they asked (fair). Resolves true once held, false when `timeoutMs` passed first.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    for (;;) {
      if (this.ourPath !== undefined) {
        if (this.lost) throw new LockLostError(`the lock at ${this.path} was lost; release it first`);
        this.holdCount++;
        return true;
      }
      if (this.acquiring === undefined) break;
      // Another acquire() of this instance is under way: this one is a re-entry once that one holds.
      await this.acquiring;
    }
    const attempt = this.internals.attempt(this.data, options);
    this.acquiring = attempt.then(
      (p) => p !== undefined,
      () => false,
    );
    try {
      const ourPath = await attempt;
      if (ourPath === undefined) return false;
      this.ourPath = ourPath;
      this.holdCount = 1;
      this.lost = false;
      this.watchForLoss(ourPath);
      return true;
    } finally {
      this.acquiring = undefined;
    }
  }

  /**
   * Gives back one hold; the last one deletes the lock node (through connection loss) and lets the next waiter
   * in. Releasing a lock that was lost is quiet: its node is already gone, or goes with the session.
   */
  async release(): Promise<void> {
    const ourPath = this.ourPath;
    if (ourPath === undefined || this.holdCount === 0)
      throw new Error(`release() of ${this.path}: this instance does not hold the lock`);
    this.holdCount--;
    if (this.holdCount > 0) return;
    this.ourPath = undefined;
    this.lost = false;
    this.stopWatching();
    await this.internals.deleteOurPath(ourPath);
  }

  /** Whether this instance holds the lock (and has not been told it lost it). */
  get isAcquiredInThisProcess(): boolean {
    return this.ourPath !== undefined && !this.lost;
  }

  /** How many acquire() calls a release() has not yet matched. */
  get holds(): number {
    return this.holdCount;
  }

  /** Our lock node's path while held. */
  get lockPath(): string | undefined {
    return this.ourPath;
  }

  /** Aborted when the lock is lost: pass it to the work done under the lock. Undefined while not held. */
  get signal(): AbortSignal | undefined {
    return this.abortOnLoss?.signal;
  }

  /** The lock nodes' paths in queue order; the first is the holder (getParticipantNodes). */
  async participantNodes(): Promise<string[]> {
    return (await this.internals.sortedChildren()).map((n) => `${this.path}/${n}`);
  }

  /** How the lock can go without release(): the session is lost (or presumed lost), or the node is deleted. */
  private watchForLoss(ourPath: string): void {
    this.abortOnLoss = new AbortController();
    const watcher = new SessionWatcher(this.zk);
    this.watcher = watcher;
    watcher.on("state", (state: ConnectionState) => {
      if (state === "lost") this.markLost(ourPath, "its session was lost");
    });
    if (watcher.state === "lost") this.markLost(ourPath, "its session was lost");
    const onNodeEvent = (event: WatchEvent): void => {
      if (this.ourPath !== ourPath || this.lost) return;
      if (event.type === "nodeDeleted") this.markLost(ourPath, "its node was deleted");
      else void this.zk.exists(ourPath, { watch: onNodeEvent }).catch(() => {});
    };
    this.zk
      .exists(ourPath, { watch: onNodeEvent })
      .then((stat) => {
        if (stat === null) this.markLost(ourPath, "its node was deleted");
      })
      .catch(() => {
        // Connection trouble: the session watcher reports a real loss.
      });
  }

  private markLost(ourPath: string, why: string): void {
    if (this.ourPath !== ourPath || this.lost) return;
    this.lost = true;
    const error = new LockLostError(`lost the lock at ${ourPath}: ${why}`);
    this.abortOnLoss?.abort(error);
    // If the session comes back after all (presumed lost, not expired), the stale node must not block others.
    void this.internals.deleteOurPath(ourPath).catch(() => {});
    this.emit("lost", error);
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.abortOnLoss = undefined;
  }
}

/**
 * A re-entrant, fair lock shared by every process that uses the same path (InterProcessMutex). Each waiter
 * creates a protected ephemeral-sequential node under `path` and watches only its predecessor; the lowest
 * sequence holds. One instance is one owner: acquire() on an instance that holds counts a re-entry, so give
 * each concurrent task in a process its own instance. Listen for "lost" (or use `signal`) to stop work when
 * the session goes.
 */
export class InterProcessMutex extends ReentrantLock {
  constructor(zk: ZooKeeperClient, path: string, options: MutexOptions = {}) {
    super(zk, path, options.lockName ?? "lock-", standardDriver(1), options.data ?? null);
  }
}
