// Session passwords: random bytes chosen by the server a client first connects to, replicated with the
// session in its createSession txn, so any server of the ensemble can check them.
import { randomFillSync, timingSafeEqual } from "node:crypto";

export const sessionPasswordBytes = 16;

/**
 * Random bytes drawn from the CSPRNG 256 passwords at a time (as crypto.randomUUID caches its entropy): one call
 * per new session cost more than the rest of creating it. Each byte is handed out once.
 */
const pool = new Uint8Array(256 * sessionPasswordBytes);
let poolUsed = pool.length;

export function newSessionPassword(): Uint8Array {
  if (poolUsed === pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const password = pool.slice(poolUsed, poolUsed + sessionPasswordBytes);
  poolUsed += sessionPasswordBytes;
  return password;
}

/** Whether `given` is the session's password (`expected`, from the replicated sessions table). */
export function checkSessionPassword(expected: Uint8Array, given: Uint8Array): boolean {
  return (
    expected.length === sessionPasswordBytes &&
    given.length === expected.length &&
    timingSafeEqual(expected, given)
  );
}
