// waitFor(): poll a condition until it holds or a deadline passes. The only way tests wait: never a bare sleep.
import { setTimeout as delay } from "node:timers/promises";

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs?: number;
  /** Time between polls (the condition is also checked once immediately). */
  intervalMs?: number;
  /** Names what was awaited, for the timeout error. */
  message?: string;
}

export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}

/**
 * Resolves once `condition()` returns true; rejects with WaitTimeoutError after `timeoutMs`.
 * A condition that throws is treated as false, and its last error is reported on timeout.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 50, message = "condition" }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? "" : ` (last error: ${String(lastError)})`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${message}${why}`);
    }
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/** Resolves with the promise's value, or rejects when it does not settle within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms: ${message}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
