// LeaderLatch and LeaderSelector against a real server: one leader at a time, hand-over on close, failover
// when the leader's session ends, and turns taken in order.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../src/client/index.js";
import { LeaderLatch, LeaderSelector } from "../../src/recipes/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor, withTimeout } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const kind = interopTarget();
const skip = skipReason(kind);
let server: ManagedServer | undefined;
const clients: ZooKeeperClient[] = [];
const proxies: TcpProxy[] = [];
const latches: LeaderLatch[] = [];
/** Moments when two latches of one test led at once; asserted empty (a throw inside a listener would be lost). */
const overlaps: string[] = [];

before(async () => {
  if (skip === undefined) server = await startServer(kind, { tickTime: 100, maxSessionTimeout: 10_000 });
});
after(async () => {
  for (const l of latches) await l.close();
  for (const c of clients) await c.close();
  for (const p of proxies) await p.stop();
  await server?.stop();
});

async function connect(
  connectString = server!.connectString,
  sessionTimeoutMs = 10_000,
): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs });
  clients.push(zk);
  return zk;
}

/** Starts a latch that records, in `leaders`, who leads after each event; asserts never two at once. */
async function startLatch(
  zk: ZooKeeperClient,
  path: string,
  id: string,
  leaders: Set<string>,
): Promise<LeaderLatch> {
  const latch = new LeaderLatch(zk, path, { id });
  latches.push(latch);
  latch.on("isLeader", () => {
    leaders.add(id);
    if (leaders.size > 1) overlaps.push([...leaders].join(", "));
  });
  latch.on("notLeader", () => leaders.delete(id));
  await latch.start();
  return latch;
}

test(
  "one latch leads; closing it hands leadership to the next in line",
  { skip, timeout: 30_000 },
  async () => {
    const leaders = new Set<string>();
    const a = await startLatch(await connect(), "/latch-handover", "a", leaders);
    assert.equal(await a.waitForLeadership({ timeoutMs: 5_000 }), true);
    const b = await startLatch(await connect(), "/latch-handover", "b", leaders);
    const c = await startLatch(await connect(), "/latch-handover", "c", leaders);
    assert.equal(await b.waitForLeadership({ timeoutMs: 200 }), false);
    assert.deepEqual(
      (await c.participants()).map((p) => [p.id, p.isLeader]),
      [
        ["a", true],
        ["b", false],
        ["c", false],
      ],
    );
    assert.equal((await c.leader())?.id, "a");
    await a.close();
    assert.equal(a.hasLeadership, false);
    assert.equal(await b.waitForLeadership({ timeoutMs: 5_000 }), true);
    assert.equal(c.hasLeadership, false);
    await b.close();
    assert.equal(await c.waitForLeadership({ timeoutMs: 5_000 }), true);
    assert.deepEqual([...leaders], ["c"]);
    assert.deepEqual(overlaps, []);
  },
);

test("the latch fails over when the leader's session ends", { skip, timeout: 60_000 }, async () => {
  const proxy = await TcpProxy.create(server!.port);
  proxies.push(proxy);
  const leaders = new Set<string>();
  const leaderZk = await connect(proxy.connectString, 1_000);
  const first = await startLatch(leaderZk, "/latch-failover", "first", leaders);
  assert.equal(await first.waitForLeadership({ timeoutMs: 5_000 }), true);
  const second = await startLatch(await connect(), "/latch-failover", "second", leaders);
  const third = await startLatch(await connect(), "/latch-failover", "third", leaders);
  const notLeader: number[] = [];
  first.on("notLeader", () => notLeader.push(Date.now()));

  await proxy.stop(); // The leader is cut off: it steps down at once; its session expires on the server.
  await waitFor(() => notLeader.length === 1, { message: "the cut-off leader steps down" });
  assert.equal(await second.waitForLeadership({ timeoutMs: 30_000 }), true);
  assert.equal(third.hasLeadership, false);
  assert.equal(first.hasLeadership, false);
  assert.deepEqual(
    (await third.participants()).map((p) => p.id),
    ["second", "third"],
  );
  await proxy.start();
  await waitFor(() => leaderZk.state === "expired", {
    timeoutMs: 15_000,
    message: "old leader learns of expiry",
  });
  assert.equal(first.hasLeadership, false);
  assert.deepEqual(overlaps, []);
});

test(
  "a latch gives up leadership while disconnected and takes it back when its session survives",
  { skip, timeout: 30_000 },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    proxies.push(proxy);
    const zk = await connect(proxy.connectString, 10_000);
    const latch = await startLatch(zk, "/latch-blip", "blip", new Set());
    assert.equal(await latch.waitForLeadership({ timeoutMs: 5_000 }), true);
    const events: string[] = [];
    latch.on("isLeader", () => events.push("isLeader"));
    latch.on("notLeader", () => events.push("notLeader"));
    proxy.cut();
    await waitFor(() => events.length === 2, { timeoutMs: 15_000, message: "down and back up" });
    assert.deepEqual(events, ["notLeader", "isLeader"]);
    assert.equal(latch.hasLeadership, true);
  },
);

test(
  "LeaderSelector: participants lead one at a time, in turn, with autoRequeue",
  { skip, timeout: 30_000 },
  async () => {
    const turns: string[] = [];
    let leading = 0;
    const selectors: LeaderSelector[] = [];
    for (const id of ["x", "y", "z"]) {
      const zk = await connect();
      const selector = new LeaderSelector(zk, "/selector", {
        id,
        autoRequeue: true,
        takeLeadership: async () => {
          leading++;
          if (leading > 1) overlaps.push(`selector ${id}`);
          turns.push(id);
          await zk.sync("/"); // a round trip while leading
          leading--;
        },
      });
      selectors.push(selector);
      selector.start();
    }
    await waitFor(() => turns.length >= 9, { timeoutMs: 20_000, message: "nine turns" });
    await withTimeout(Promise.all(selectors.map((s) => s.close())), 10_000, "selectors close");
    assert.deepEqual(overlaps, []);
    for (const id of ["x", "y", "z"])
      assert.ok(turns.filter((t) => t === id).length >= 2, `${id} led twice: ${turns.join("")}`);
    // Fair: once all three are queued, turns go round.
    const tail = turns.slice(3, 9).join("");
    assert.ok(/^(xyz|yzx|zxy|xzy|zyx|yxz)\1$/.test(tail), `turns go round: ${turns.join("")}`);
  },
);

test(
  "LeaderSelector aborts takeLeadership when the leader is cut off",
  { skip, timeout: 30_000 },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    proxies.push(proxy);
    const zk = await connect(proxy.connectString, 10_000);
    let aborted: unknown;
    const selector = new LeaderSelector(zk, "/selector-cut", {
      takeLeadership: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            resolve();
          });
        }),
    });
    selector.start();
    await waitFor(() => selector.hasLeadership, { message: "leading" });
    proxy.cut();
    await waitFor(() => aborted !== undefined, { message: "takeLeadership aborted" });
    assert.match(String(aborted), /suspended/);
    await waitFor(() => !selector.hasLeadership, { message: "no longer leading" });
    await waitFor(async () => (await selector.participantNodes()).length === 0, {
      timeoutMs: 15_000,
      message: "lock released after reconnect",
    });
    await selector.close();
  },
);
