// Session liveness: which sessions are due to expire, in tickTime buckets (ZooKeeper's ExpiryQueue).
// Holds no timers itself: the server calls expired(nowMs) once a tick. Sessions come and go at the clients' rate,
// so the tables are ChurnTables (see base/churn-table.ts).
import { ChurnTable } from "../base/churn-table.js";

interface Tracked {
  timeoutMs: number;
  expiresAtMs: number;
}

export class SessionTracker {
  private readonly sessions = new ChurnTable<bigint, Tracked>();
  private readonly bucketsByDeadline = new Map<number, ChurnTable<bigint, bigint>>();

  constructor(private readonly tickTimeMs: number) {}

  /** Rounds up to the next tick boundary, as ExpiryQueue.roundToNextInterval. */
  private bucketOf(timeMs: number): number {
    return (Math.floor(timeMs / this.tickTimeMs) + 1) * this.tickTimeMs;
  }

  add(sessionId: bigint, timeoutMs: number, nowMs: number): void {
    this.sessions.set(sessionId, { timeoutMs, expiresAtMs: 0 });
    this.touch(sessionId, nowMs);
  }

  has(sessionId: bigint): boolean {
    return this.sessions.has(sessionId);
  }

  timeoutOf(sessionId: bigint): number | undefined {
    return this.sessions.get(sessionId)?.timeoutMs;
  }

  /** Any traffic from the session's client pushes its expiry out; false if the session is unknown. */
  touch(sessionId: bigint, nowMs: number): boolean {
    const s = this.sessions.get(sessionId);
    if (s === undefined) return false;
    const next = this.bucketOf(nowMs + s.timeoutMs);
    if (next === s.expiresAtMs) return true;
    this.bucketsByDeadline.get(s.expiresAtMs)?.delete(sessionId);
    s.expiresAtMs = next;
    let b = this.bucketsByDeadline.get(next);
    if (b === undefined) this.bucketsByDeadline.set(next, (b = new ChurnTable()));
    b.set(sessionId, sessionId);
    return true;
  }

  remove(sessionId: bigint): void {
    const s = this.sessions.get(sessionId);
    if (s === undefined) return;
    this.bucketsByDeadline.get(s.expiresAtMs)?.delete(sessionId);
    this.sessions.delete(sessionId);
  }

  /** Sessions whose deadline has passed; they stay tracked until remove() (their closeSession commits). */
  expired(nowMs: number): bigint[] {
    const out: bigint[] = [];
    for (const [at, ids] of this.bucketsByDeadline) {
      if (at > nowMs) continue;
      for (const id of ids.values()) out.push(id);
      this.bucketsByDeadline.delete(at);
    }
    return out;
  }

  /** The expiry buckets (deadline, sessions), soonest first, for the `dump` four-letter word. */
  buckets(): Array<[number, bigint[]]> {
    return [...this.bucketsByDeadline].sort((a, b) => a[0] - b[0]).map(([at, ids]) => [at, ids.values()]);
  }

  get size(): number {
    return this.sessions.size;
  }
}
