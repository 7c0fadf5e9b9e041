// Session expiry in tick buckets, as ZooKeeper's ExpiryQueue.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SessionTracker } from "../../src/server/session-tracker.js";
import { initialSessionId } from "../../src/server/corral-server.js";

test("a session expires after its timeout, rounded up to the next tick", () => {
  const t = new SessionTracker(100);
  t.add(1n, 1000, 0);
  assert.deepEqual(t.expired(1000), []);
  assert.deepEqual(t.expired(1100), [1n]);
});

test("touching a session pushes its expiry out", () => {
  const t = new SessionTracker(100);
  t.add(1n, 1000, 0);
  t.touch(1n, 900);
  assert.deepEqual(t.expired(1500), []);
  assert.deepEqual(t.expired(2000), [1n]);
});

test("a removed session never expires and unknown sessions cannot be touched", () => {
  const t = new SessionTracker(100);
  t.add(1n, 1000, 0);
  t.remove(1n);
  assert.deepEqual(t.expired(10_000), []);
  assert.equal(t.touch(1n, 0), false);
});

test("session ids carry the server id in the high byte", () => {
  const id = initialSessionId(3, 1_700_000_000_000);
  assert.equal(BigInt.asUintN(64, id) >> 56n, 3n);
  assert.notEqual(id & 0xffffffffffffffn, 0n);
});
