// LockInternals: the queue of ephemeral-sequential nodes behind the mutex, the read-write lock and the semaphore.
import {
  NoNodeError,
  SessionExpiredError,
  type ClientState,
  type Data,
  type ZooKeeperClient,
} from "../client/index.js";
import { deleteGuaranteed, retryOnConnectionLoss } from "./connection-retry.js";
import { LockLostError } from "./errors.js";
import { protectedCreate } from "./protected-create.js";
import { joinPath, nodeName, sortBySequence } from "./znode-paths.js";

/** What a queue member may do, given every member's name in sequence order (LockInternalsDriver.getsTheLock). */
export type LockVerdict = { acquired: true } | { acquired: false; watch: string };

/** Decides from the sorted children whether `ourName` holds the lock, and if not, which node to wait on. */
export type LockDriver = (sorted: readonly string[], ourName: string) => LockVerdict;

/**
 * StandardLockInternalsDriver: the first `maxLeases` in sequence order hold; anyone else watches the node
 * `maxLeases` places ahead, so a release wakes exactly one waiter (no herd).
 */
export function standardDriver(maxLeases: number): LockDriver {
  return (sorted, ourName) => {
    const index = sorted.indexOf(ourName);
    if (index < maxLeases) return { acquired: true };
    return { acquired: false, watch: sorted[index - maxLeases]! };
  };
}

export interface AttemptOptions {
  /** Give up after this long: attempt() resolves undefined (and removes its node). */
  timeoutMs?: number | undefined;
  /** Aborting removes the node and rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/** Resolves when the client's session ends; never rejects. */
function sessionEnded(zk: ZooKeeperClient): { promise: Promise<ClientState>; cancel(): void } {
  let cancel = (): void => {};
  const promise = new Promise<ClientState>((resolve) => {
    const onState = (state: ClientState): void => {
      if (state === "expired" || state === "closed" || state === "auth-failed") {
        zk.off("state", onState);
        resolve(state);
      }
    };
    zk.on("state", onState);
    cancel = () => zk.off("state", onState);
  });
  return { promise, cancel };
}

/**
 * One participant's place in a lock queue at `basePath`: attempt() creates a protected ephemeral-sequential
 * `<basePath>/_c_<uuid>-<lockName><seq>` and waits, watching only the node the driver names, until the driver
 * says it holds. Not re-entrant by itself; the recipes count holds.
 */
export class LockInternals {
  constructor(
    readonly zk: ZooKeeperClient,
    readonly basePath: string,
    readonly lockName: string,
    private readonly driver: LockDriver,
  ) {}

  /** Resolves with our node's path once held; undefined on timeout. */
  async attempt(data: Data, options: AttemptOptions = {}): Promise<string | undefined> {
    const { signal } = options;
    signal?.throwIfAborted();
    const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const ourPath = await protectedCreate(this.zk, this.basePath, this.lockName, data, {
      mode: "ephemeral-sequential",
      signal,
    });
    let held = false;
    try {
      held = await this.waitUntilHeld(ourPath, deadlineMs, signal);
      return held ? ourPath : undefined;
    } finally {
      if (!held) await this.deleteOurPath(ourPath);
    }
  }

  /**
   * Deletes a node of ours, through connection loss (Curator's guaranteed delete): a node already gone, or a
   * session already over, is fine. If no connection comes back within a session timeout, the delete is left to
   * the next reconnection, in the background, so a caller's release() does not hang on a dead server.
   */
  async deleteOurPath(ourPath: string): Promise<void> {
    await deleteGuaranteed(this.zk, ourPath);
  }

  /** Every queue member's name, in sequence order (LockInternals.getSortedChildren). */
  async sortedChildren(): Promise<string[]> {
    try {
      return sortBySequence(await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.basePath)));
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** LockInternals.internalLockLoop. */
  private async waitUntilHeld(
    ourPath: string,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const ourName = nodeName(ourPath);
    for (;;) {
      signal?.throwIfAborted();
      const retry = { deadlineMs, signal };
      const sorted = sortBySequence(
        await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.basePath), retry),
      );
      if (!sorted.includes(ourName))
        throw new LockLostError(`lock node ${ourPath} is gone (deleted, or its session ended)`);
      const verdict = this.driver(sorted, ourName);
      if (verdict.acquired) return true;
      if (deadlineMs !== undefined && Date.now() >= deadlineMs) return false;
      const predecessor = joinPath(this.basePath, verdict.watch);
      let fire = (): void => {};
      const fired = new Promise<void>((resolve) => (fire = resolve));
      try {
        // getData, not exists: a watch is left only on a node that is there (Curator's choice, no watch leak).
        await retryOnConnectionLoss(
          this.zk,
          () => this.zk.getData(predecessor, { watch: () => fire() }),
          retry,
        );
      } catch (err) {
        if (err instanceof NoNodeError) continue;
        throw err;
      }
      const outcome = await this.waitFor(fired, deadlineMs, signal);
      if (outcome === "timeout") return false;
    }
  }

  /** Waits for the watch, the deadline, an abort or the end of the session. */
  private async waitFor(
    fired: Promise<void>,
    deadlineMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<"fired" | "timeout"> {
    const ended = sessionEnded(this.zk);
    let timer: NodeJS.Timeout | undefined;
    let onAbort = (): void => {};
    try {
      const racers: Array<Promise<"fired" | "timeout">> = [
        fired.then(() => "fired" as const),
        ended.promise.then((state) => {
          throw new SessionExpiredError(-112, this.basePath, `session ${state} while waiting for the lock`);
        }),
      ];
      if (deadlineMs !== undefined)
        racers.push(
          new Promise(
            (resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, deadlineMs - Date.now()))),
          ),
        );
      if (signal !== undefined)
        racers.push(
          new Promise((_, reject) => {
            onAbort = () => reject(signal.reason);
            signal.addEventListener("abort", onAbort, { once: true });
          }),
        );
      return await Promise.race(racers);
    } finally {
      ended.cancel();
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
