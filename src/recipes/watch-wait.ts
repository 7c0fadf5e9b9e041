// waitForWatch(): barrier.ts's waitEvent, also for a signal that already aborted or a session already over.
import { SessionExpiredError, type ZooKeeperClient } from "../client/index.js";
import { waitEvent } from "./barrier.js";

/**
 * Resolves true once `fired` settles, false at the deadline; rejects with the signal's reason on abort (also
 * when it aborted before the call) and with SessionExpiredError when the session ends (or already has).
 */
export function waitForWatch(
  zk: ZooKeeperClient,
  fired: Promise<void>,
  deadlineMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  signal?.throwIfAborted();
  const state = zk.state;
  if (state === "expired" || state === "closed" || state === "auth-failed")
    return Promise.reject(new SessionExpiredError(-112, undefined, `session ${state} while waiting`));
  return waitEvent(zk, fired, deadlineMs, signal);
}
