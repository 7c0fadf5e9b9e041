// InterProcessReadWriteLock and DistributedBarrier against a real server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DistributedBarrier, InterProcessReadWriteLock } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const { skip, connect } = serverFixture();

test(
  "read-write lock: readers share, a writer excludes, and a waiting writer holds back later readers",
  { skip, timeout: 30_000 },
  async () => {
    const [z1, z2, z3, z4] = await Promise.all([connect(), connect(), connect(), connect()]);
    const r1 = new InterProcessReadWriteLock(z1, "/rw");
    const r2 = new InterProcessReadWriteLock(z2, "/rw");
    const w = new InterProcessReadWriteLock(z3, "/rw");
    const late = new InterProcessReadWriteLock(z4, "/rw");
    assert.equal(await r1.readLock.acquire({ timeoutMs: 5_000 }), true);
    assert.equal(await r2.readLock.acquire({ timeoutMs: 5_000 }), true, "two readers at once");
    assert.equal(await w.writeLock.acquire({ timeoutMs: 200 }), false, "no writer while readers hold");
    const writing = w.writeLock.acquire({ timeoutMs: 10_000 });
    await waitFor(async () => (await w.writeLock.participantNodes()).length === 3, {
      message: "writer queued",
    });
    assert.equal(
      await late.readLock.acquire({ timeoutMs: 200 }),
      false,
      "a reader behind a waiting writer waits",
    );
    await r1.readLock.release();
    await r2.readLock.release();
    assert.equal(await withTimeout(writing, 10_000, "writer gets the lock"), true);
    // The writer may also take the read lock (downgrade), then let go of writing.
    assert.equal(await w.readLock.acquire({ timeoutMs: 1_000 }), true);
    await w.writeLock.release();
    assert.equal(
      await late.readLock.acquire({ timeoutMs: 5_000 }),
      true,
      "readers share with the downgraded holder",
    );
    await w.readLock.release();
    await late.readLock.release();
    assert.deepEqual(await z1.getChildren("/rw"), []);
  },
);

test(
  "barrier: waiters block while it is set and all go when it is removed",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const barrier = new DistributedBarrier(zk, "/barriers/b1");
    await barrier.setBarrier();
    assert.equal(await barrier.waitOnBarrier({ timeoutMs: 200 }), false);
    const waiters = await Promise.all([connect(), connect(), connect()]);
    const released = waiters.map((z) =>
      new DistributedBarrier(z, "/barriers/b1").waitOnBarrier({ timeoutMs: 10_000 }),
    );
    await barrier.removeBarrier();
    assert.deepEqual(await withTimeout(Promise.all(released), 10_000, "all released"), [true, true, true]);
    assert.equal(await barrier.waitOnBarrier(), true, "no barrier: no wait");
  },
);
