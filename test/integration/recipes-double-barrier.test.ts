// DistributedDoubleBarrier against a real server: members enter only together, and leave only together.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DistributedDoubleBarrier } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const { skip, clients, connect } = serverFixture();

test("5 clients enter together and leave together", { skip, timeout: 30_000 }, async () => {
  const n = 5;
  const observer = await connect();
  const members: DistributedDoubleBarrier[] = [];
  for (let i = 0; i < n; i++)
    members.push(new DistributedDoubleBarrier(await connect(), "/dbl", n, { id: `m${i}` }));
  const present = (): Promise<string[]> =>
    observer.getChildren("/dbl").then((c) => c.filter((x) => x !== "ready").sort());

  // The first n-1 wait inside enter() until the last arrives.
  const entered: boolean[] = [];
  const entering = members
    .slice(0, n - 1)
    .map((m, i) => m.enter({ timeoutMs: 20_000 }).then((ok) => (entered[i] = ok)));
  await waitFor(async () => (await present()).length === n - 1, { message: `${n - 1} members in` });
  await Promise.all(clients.map((c) => c.sync("/"))); // every waiter has seen its replies by now
  assert.deepEqual(entered, [], "nobody enters before the last member arrives");
  assert.equal(await observer.exists("/dbl/ready"), null);
  assert.equal(await members[n - 1]!.enter({ timeoutMs: 20_000 }), true);
  await withTimeout(Promise.all(entering), 10_000, "everyone enters");
  assert.deepEqual(entered, Array(n - 1).fill(true));
  assert.notEqual(await observer.exists("/dbl/ready"), null);

  // The first n-1 wait inside leave() until the last leaves too.
  const left: boolean[] = [];
  const leaving = members
    .slice(0, n - 1)
    .map((m, i) => m.leave({ timeoutMs: 20_000 }).then((ok) => (left[i] = ok)));
  // m0 (lowest) waits for the highest (m4); m1..m3 delete their nodes and wait for m0.
  await waitFor(async () => JSON.stringify(await present()) === JSON.stringify(["m0", `m${n - 1}`]), {
    message: "all but the lowest and the last gone",
  });
  await Promise.all(clients.map((c) => c.sync("/")));
  assert.deepEqual(left, [], "nobody leaves before the last member does");
  assert.equal(await members[n - 1]!.leave({ timeoutMs: 20_000 }), true);
  await withTimeout(Promise.all(leaving), 10_000, "everyone leaves");
  assert.deepEqual(left, Array(n - 1).fill(true));
  assert.deepEqual(await observer.getChildren("/dbl"), [], "no member node and no ready node left");
});

test("enter() times out when too few arrive, leaving no node", { skip, timeout: 30_000 }, async () => {
  const zk = await connect();
  const lonely = new DistributedDoubleBarrier(zk, "/dbl-timeout", 3);
  const other = new DistributedDoubleBarrier(await connect(), "/dbl-timeout", 3);
  const t0 = Date.now();
  const [a, b] = await Promise.all([lonely.enter({ timeoutMs: 400 }), other.enter({ timeoutMs: 400 })]);
  assert.deepEqual([a, b], [false, false]);
  assert.ok(Date.now() - t0 >= 390);
  assert.deepEqual(await zk.getChildren("/dbl-timeout"), []);
  const abort = new AbortController();
  const pending = lonely.enter({ signal: abort.signal });
  await waitFor(async () => (await zk.getChildren("/dbl-timeout")).length === 1, { message: "member in" });
  abort.abort(new Error("stop waiting"));
  await assert.rejects(pending, /stop waiting/);
  assert.deepEqual(await zk.getChildren("/dbl-timeout"), []);
});
