// DistributedBarrier: processes wait while a node exists; removing it lets them all go (Curator's).
import {
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  type ClientState,
  type ZooKeeperClient,
} from "../client/index.js";
import { retryOnConnectionLoss } from "./connection-retry.js";
import { validateRecipePath } from "./recipe-path.js";
import { ensurePath, parentPath } from "./znode-paths.js";

/**
 * A barrier at `path`: setBarrier() creates the node, removeBarrier() deletes it, and waitOnBarrier() resolves
 * once it is gone (true), or false after `timeoutMs`.
 */
export class DistributedBarrier {
  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
  ) {
    validateRecipePath(path);
  }

  /** Raises the barrier (creating parents); raising a raised barrier is fine. */
  async setBarrier(): Promise<void> {
    await ensurePath(this.zk, parentPath(this.path));
    try {
      await retryOnConnectionLoss(this.zk, () => this.zk.create(this.path));
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }

  async removeBarrier(): Promise<void> {
    try {
      await retryOnConnectionLoss(this.zk, () => this.zk.delete(this.path));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  /** Resolves true once the barrier is down, false after `timeoutMs`; rejects on abort or session end. */
  async waitOnBarrier(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    const { timeoutMs, signal } = options;
    const deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      let fire = (): void => {};
      const fired = new Promise<void>((resolve) => (fire = resolve));
      const stat = await retryOnConnectionLoss(
        this.zk,
        () => this.zk.exists(this.path, { watch: () => fire() }),
        {
          deadlineMs,
          signal,
        },
      );
      if (stat === null) return true;
      if (!(await waitEvent(this.zk, fired, deadlineMs, signal))) return false;
    }
  }
}

/**
 * Waits for `fired`; false at the deadline; rejects with the signal's reason on abort and with
 * SessionExpiredError when the session ends.
 */
export function waitEvent(
  zk: ZooKeeperClient,
  fired: Promise<void>,
  deadlineMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      zk.off("state", onState);
      signal?.removeEventListener("abort", onAbort);
    };
    const onState = (state: ClientState): void => {
      if (state === "expired" || state === "closed" || state === "auth-failed") {
        cleanup();
        reject(new SessionExpiredError(-112, undefined, `session ${state} while waiting`));
      }
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal!.reason);
    };
    void fired.then(() => {
      cleanup();
      resolve(true);
    });
    if (deadlineMs !== undefined)
      timer = setTimeout(
        () => {
          cleanup();
          resolve(false);
        },
        Math.max(0, deadlineMs - Date.now()),
      );
    zk.on("state", onState);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
