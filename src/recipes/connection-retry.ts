// Retrying through connection loss: wait for the session's next connection, then run the operation again.
import {
  ConnectionLossError,
  NoNodeError,
  SessionExpiredError,
  type ClientState,
  type ZooKeeperClient,
} from "../client/index.js";

export interface RetryOptions {
  /** Stop waiting for a connection at this Date.now() value: the last ConnectionLossError is rethrown. */
  deadlineMs?: number;
  /** Aborting stops the retries: the signal's reason is thrown. */
  signal?: AbortSignal | undefined;
}

/** How many times an operation is tried before its ConnectionLossError is rethrown (RetryNTimes). */
export const connectionRetriesMax = 30;

function isTerminal(state: ClientState): boolean {
  return state === "expired" || state === "auth-failed" || state === "closed";
}

/**
 * Resolves once the client is connected; rejects with SessionExpiredError when the session ends first, with
 * ConnectionLossError at the deadline, and with the signal's reason when it aborts.
 */
export function waitForConnection(zk: ZooKeeperClient, options: RetryOptions = {}): Promise<void> {
  const { deadlineMs, signal } = options;
  signal?.throwIfAborted();
  if (zk.state === "connected") return Promise.resolve();
  if (isTerminal(zk.state))
    return Promise.reject(new SessionExpiredError(-112, undefined, `client ${zk.state}`));
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      zk.off("state", onState);
      signal?.removeEventListener("abort", onAbort);
    };
    const onState = (state: ClientState): void => {
      if (state === "connected") {
        cleanup();
        resolve();
      } else if (isTerminal(state)) {
        cleanup();
        reject(new SessionExpiredError(-112, undefined, `client ${state}`));
      }
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal!.reason);
    };
    if (deadlineMs !== undefined)
      timer = setTimeout(
        () => {
          cleanup();
          reject(new ConnectionLossError(-4, undefined, "no connection before the deadline"));
        },
        Math.max(0, deadlineMs - Date.now()),
      );
    zk.on("state", onState);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `op`, and again after each ConnectionLossError once the client has reconnected (RetryLoop). Only for
 * operations that are safe to repeat; anything else (a session that ended, a ZooKeeper outcome) is thrown.
 */
export async function retryOnConnectionLoss<T>(
  zk: ZooKeeperClient,
  op: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof ConnectionLossError) || attempt >= connectionRetriesMax) throw err;
      if (options.deadlineMs !== undefined && Date.now() >= options.deadlineMs) throw err;
      await waitForConnection(zk, options);
    }
  }
}

/**
 * Deletes `path` (at any version), retrying through connection loss (Curator's guaranteed delete): NoNode and
 * a session already over count as done. When no connection comes back within a session timeout the delete is
 * retried at the next reconnection in the background, so callers such as release() never hang on a dead server.
 */
export async function deleteGuaranteed(zk: ZooKeeperClient, path: string): Promise<void> {
  const deadlineMs = Date.now() + Math.max(1_000, zk.sessionTimeoutMs);
  try {
    await retryOnConnectionLoss(zk, () => zk.delete(path), { deadlineMs });
  } catch (err) {
    if (err instanceof NoNodeError || err instanceof SessionExpiredError) return;
    if (err instanceof ConnectionLossError) {
      const retry = (state: ClientState): void => {
        if (state === "connected") {
          zk.off("state", retry);
          void deleteGuaranteed(zk, path);
        } else if (isTerminal(state)) zk.off("state", retry);
      };
      zk.on("state", retry);
      return;
    }
    throw err;
  }
}
