// SharedCount and DistributedAtomicLong against a real server: exact sums under contention, watches, and an
// increment whose reply was lost applied exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DistributedAtomicLong, SharedCount } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const fixture = serverFixture();
const { skip, proxies, connect } = fixture;

const contenders = 5;
const perContender = 40;

test(
  `DistributedAtomicLong: ${contenders} clients × ${perContender} increments end at the exact sum`,
  { skip, timeout: 60_000 },
  async () => {
    const zks = await Promise.all(Array.from({ length: contenders }, () => connect()));
    let failed = 0;
    const seen = new Set<bigint>();
    await Promise.all(
      zks.map(async (zk) => {
        const counter = new DistributedAtomicLong(zk, "/counters/long");
        for (let i = 0; i < perContender; i++) {
          const r = await counter.increment();
          if (!r.succeeded) failed++;
          else {
            assert.equal(r.postValue, r.preValue + 1n);
            seen.add(r.postValue);
          }
        }
      }),
    );
    assert.equal(failed, 0);
    const total = BigInt(contenders * perContender);
    assert.equal(await new DistributedAtomicLong(zks[0]!, "/counters/long").get(), total);
    assert.equal(seen.size, contenders * perContender, "every increment saw its own post-value");
    assert.deepEqual(await zks[0]!.getChildren("/counters/long"), [], "no marker left behind");
  },
);

test(
  "DistributedAtomicLong: compareAndSet, trySet, forceSet, initialize, and Curator's 8-byte encoding",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const n = new DistributedAtomicLong(zk, "/counters/ops");
    assert.equal(await n.get(), 0n, "a missing node reads as 0");
    assert.equal(await n.initialize(10n), true);
    assert.equal(await n.initialize(99n), false);
    assert.deepEqual(await n.compareAndSet(9n, 20n), { succeeded: false, preValue: 10n, postValue: 10n });
    assert.deepEqual(await n.compareAndSet(10n, 20n), { succeeded: true, preValue: 10n, postValue: 20n });
    assert.deepEqual(await n.subtract(25n), { succeeded: true, preValue: 20n, postValue: -5n });
    assert.equal((await n.trySet(2n ** 62n)).succeeded, true);
    await n.forceSet(7n);
    const { data } = await zk.getData("/counters/ops");
    assert.deepEqual([...data], [0, 0, 0, 0, 0, 0, 0, 7]);
  },
);

test(
  "DistributedAtomicLong: an increment whose reply is lost is applied exactly once",
  { skip, timeout: 30_000 },
  async () => {
    const proxy = await TcpProxy.create(fixture.server.port);
    proxies.push(proxy);
    const zk = await connect(proxy.connectString);
    const direct = await connect();
    const n = new DistributedAtomicLong(zk, "/counters/lost-reply");
    await n.initialize(100n);
    const before = (await direct.exists("/counters/lost-reply"))!.version;
    // Drop replies from the moment the increment's multi is built, after its read.
    const transaction = zk.transaction.bind(zk);
    zk.transaction = () => {
      proxy.hold();
      zk.transaction = transaction;
      return transaction();
    };
    const pending = n.increment();
    await waitFor(async () => (await direct.exists("/counters/lost-reply"))!.version === before + 1, {
      message: "the increment reached the server",
    });
    proxy.cut();
    assert.deepEqual(await pending, { succeeded: true, preValue: 100n, postValue: 101n });
    assert.equal(await new DistributedAtomicLong(direct, "/counters/lost-reply").get(), 101n);
  },
);

test(
  `SharedCount: ${contenders} clients × ${perContender} trySetCount loops end at the exact sum; watchers see it`,
  { skip, timeout: 60_000 },
  async () => {
    const zks = await Promise.all(Array.from({ length: contenders }, () => connect()));
    const observer = new SharedCount(await connect(), "/counters/shared", 0);
    await observer.start();
    const changes: number[] = [];
    observer.on("changed", (c) => changes.push(c));
    await Promise.all(
      zks.map(async (zk) => {
        const count = new SharedCount(zk, "/counters/shared", 0);
        await count.start();
        for (let i = 0; i < perContender; i++) {
          for (;;) {
            const seen = count.versionedValue;
            if (await count.trySetCount(seen, seen.value + 1)) break;
          }
        }
        count.close();
      }),
    );
    const total = contenders * perContender;
    await waitFor(() => observer.count === total, {
      message: `observer sees ${total} (has ${observer.count})`,
    });
    assert.equal((await observer.read()).value, total);
    assert.ok(changes.length > 0 && changes.at(-1) === total);
    const { data } = await zks[0]!.getData("/counters/shared");
    assert.deepEqual([...data], [0, 0, 0, total]);
    const stale = { value: 0, version: 0 };
    assert.equal(await observer.trySetCount(stale, 5), false, "a stale version is refused");
    assert.equal(observer.count, total);
    observer.close();
  },
);
