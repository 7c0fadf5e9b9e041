// Server-wide request throttling: counts client requests outstanding and says when a connection must stop
// being read, as ZooKeeper's ZooKeeperServer.shouldThrottle with globalOutstandingLimit and its
// RequestThrottler's request_throttle_max_requests. Pure bookkeeping: no I/O, no timers, no clock.
import { assert } from "../base/assert.js";

/** ZooKeeper's globalOutstandingLimit default. */
export const globalOutstandingLimitDefault = 1000;
/** ZooKeeper's requestThrottleStallTime default (ms): how often a throttled connection looks again. */
export const requestThrottleStallTimeDefault = 100;

export interface ThrottleLimits {
  /** Reading stops once more than this many requests are outstanding (ZooKeeper: `limit < inProcess`). */
  globalOutstandingLimit: number;
  /** 0 = off; otherwise reading also stops once this many are outstanding (RequestThrottler: `inProcess >= max`). */
  requestThrottleLimit: number;
}

export type ThrottleState = "open" | "throttled";

/**
 * One per server, shared by its connections. A connection reports each request it reads and each reply it
 * sends; after each, it asks `shouldThrottle(itsOwnOutstanding)` and pauses or resumes its socket. As in
 * ZooKeeper (ServerCnxn.incrOutstandingAndCheckThrottle), a connection with nothing outstanding is never
 * throttled: new connections, four-letter words and a client's first request are always read, and every
 * paused connection has a reply coming that makes it look again, so none is left paused for good.
 */
export class RequestThrottle {
  private outstandingCount = 0;
  private currentState: ThrottleState = "open";
  /** Times the state went from open to throttled, for logs and tests. */
  throttledTransitions = 0;

  constructor(readonly limits: ThrottleLimits) {
    assert(limits.globalOutstandingLimit >= 1, "globalOutstandingLimit must be at least 1");
    assert(limits.requestThrottleLimit >= 0, "requestThrottleLimit must not be negative");
  }

  /** Client requests read and not yet answered, over all live connections. */
  get outstanding(): number {
    return this.outstandingCount;
  }

  get state(): ThrottleState {
    return this.currentState;
  }

  /** A request was read from some connection. Returns the state after it. */
  requestStarted(): ThrottleState {
    this.outstandingCount++;
    return this.update();
  }

  /** A request was answered. Returns the state after it. */
  requestFinished(): ThrottleState {
    assert(this.outstandingCount > 0, "a reply without an outstanding request");
    this.outstandingCount--;
    return this.update();
  }

  /** A connection went away with `outstanding` requests never to be answered on it. */
  connectionClosed(outstanding: number): ThrottleState {
    assert(outstanding >= 0 && outstanding <= this.outstandingCount, "closing more than is outstanding");
    this.outstandingCount -= outstanding;
    return this.update();
  }

  /** ZooKeeperServer.shouldThrottle: over a limit, and this connection has something outstanding. */
  shouldThrottle(connectionOutstanding: number): boolean {
    return connectionOutstanding > 0 && this.currentState === "throttled";
  }

  private update(): ThrottleState {
    const { globalOutstandingLimit, requestThrottleLimit } = this.limits;
    const over =
      this.outstandingCount > globalOutstandingLimit ||
      (requestThrottleLimit > 0 && this.outstandingCount >= requestThrottleLimit);
    const next: ThrottleState = over ? "throttled" : "open";
    if (next === "throttled" && this.currentState === "open") this.throttledTransitions++;
    this.currentState = next;
    return next;
  }
}
