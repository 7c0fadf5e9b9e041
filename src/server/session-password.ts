// Session passwords: random bytes chosen by the server a client first connects to, replicated with the
// session in its createSession txn, so any server of the ensemble can check them.
import { randomBytes, timingSafeEqual } from "node:crypto";

export const sessionPasswordBytes = 16;

export function newSessionPassword(): Uint8Array {
  return new Uint8Array(randomBytes(sessionPasswordBytes));
}

/** Whether `given` is the session's password (`expected`, from the replicated sessions table). */
export function checkSessionPassword(expected: Uint8Array, given: Uint8Array): boolean {
  return (
    expected.length === sessionPasswordBytes &&
    given.length === expected.length &&
    timingSafeEqual(expected, given)
  );
}
