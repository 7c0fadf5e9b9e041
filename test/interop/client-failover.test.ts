// Corral's client against a 3-node Apache ZooKeeper ensemble: when the server it is connected to dies (a
// follower, the leader) or the leader dies under it, the client moves to another server within the session
// timeout and keeps its session: same session id, never "expired", its ephemeral still there, its one-shot
// watch fires exactly once and its persistent watch keeps firing on changes another client makes.
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient, type ClientState, type WatchEvent } from "../../src/client/index.js";
import { skipReason } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";
import {
  startZooKeeperEnsemble,
  type EnsembleServer,
  type ZooKeeperEnsemble,
} from "../helpers/zookeeper-ensemble.js";

const skip = skipReason("zookeeper");
/** Asked for; tickTime 500 ms negotiates it unchanged (ZooKeeper allows [2, 20] ticks: 1 s to 10 s). */
const sessionTimeoutMs = 8_000;
const testTimeoutMs = 60_000;

let ensemble: ZooKeeperEnsemble | undefined;
const clients: ZooKeeperClient[] = [];

before(async () => {
  if (skip === undefined) ensemble = await startZooKeeperEnsemble({ size: 3, tickTime: 500 });
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await ensemble?.stop();
});

/** Connects to the hosts in the order given (no shuffle), so the first one is the one the client lands on. */
async function connect(servers: readonly EnsembleServer[]): Promise<ZooKeeperClient> {
  assert.ok(ensemble);
  const client = await ZooKeeperClient.connect(ensemble.connectStringOf(servers), {
    sessionTimeoutMs,
    shuffleHosts: false,
  });
  clients.push(client);
  return client;
}

const bigints = (_key: string, value: unknown): unknown =>
  typeof value === "bigint" ? String(value) : value;

interface Scenario {
  /** Part of the test name and the znode path. */
  name: string;
  /** The server the client connects to first. */
  connectTo: (e: ZooKeeperEnsemble) => Promise<EnsembleServer>;
  /** The server to kill -9 once the client is settled there. */
  victim: (e: ZooKeeperEnsemble, clientServer: EnsembleServer) => Promise<EnsembleServer>;
}

async function runFailover(t: TestContext, { name, connectTo, victim: pickVictim }: Scenario): Promise<void> {
  assert.ok(ensemble);
  const e = ensemble;
  await e.restartStopped(); // an earlier scenario's victim rejoins: three voters again
  const first = await connectTo(e);
  const client = await connect([first, ...e.servers.filter((s) => s !== first)]);
  const states: ClientState[] = [];
  client.on("state", (s) => states.push(s));
  const sessionId = client.sessionId;
  assert.notEqual(sessionId, 0n);
  assert.equal(client.sessionTimeoutMs, sessionTimeoutMs);
  assert.equal(await e.serverWithSession(sessionId), first, "cons: the client is on the first host");

  const base = `/failover-${name}`;
  const ephemeral = `${base}/ephemeral`;
  const watched = `${base}/watched`;
  await client.create(base);
  await client.create(ephemeral, "mine", { mode: "ephemeral" });
  await client.create(watched, "v0");
  const oneShot: WatchEvent[] = [];
  const persistent: WatchEvent[] = [];
  const { data } = await client.getData(watched, { watch: (ev) => oneShot.push(ev) });
  assert.equal(Buffer.from(data).toString(), "v0");
  await client.addWatch(watched, (ev) => persistent.push(ev));

  const victim = await pickVictim(e, first);
  const survivors = e.servers.filter((s) => s !== victim);
  const statesBefore = states.length;
  const killedAt = Date.now();
  await victim.kill9();

  // It must notice, and come back with the same session before the session could have expired.
  await waitFor(() => states.slice(statesBefore).includes("disconnected") && client.state === "connected", {
    timeoutMs: sessionTimeoutMs,
    intervalMs: 20,
    message: `the client to reconnect after server ${victim.id} was killed (states ${states.join(",")})`,
  });
  const reconnectMs = Date.now() - killedAt;
  assert.ok(reconnectMs < sessionTimeoutMs, `reconnected after ${reconnectMs} ms`);
  assert.equal(client.sessionId, sessionId, "same session");
  assert.ok(!states.includes("expired"), `states ${states.join(",")}`);
  let now: EnsembleServer | undefined;
  await waitFor(async () => (now = await e.serverWithSession(sessionId)) !== undefined, {
    timeoutMs: 5_000,
    message: "cons to show the session on a server",
  });
  assert.ok(now !== undefined && now.running, "the session's server is running");
  assert.notEqual(now, victim, "the client left the killed server");
  const leader = await e.leader(); // the ensemble has settled (after a leader kill: a new one is elected)
  t.diagnostic(
    `session 0x${sessionId.toString(16)}: server ${first.id} -> ${now.id} in ${reconnectMs} ms after server ${victim.id} was killed; leader now ${leader.id}; states ${states.join(",")}`,
  );

  // Another client, on the survivors only, sees the ephemeral owned by the same session.
  const writer = await connect(survivors);
  const stat = await writer.exists(ephemeral);
  assert.ok(stat !== null, "the ephemeral survived the failover");
  assert.equal(stat.ephemeralOwner, sessionId);
  assert.ok((await client.exists(ephemeral)) !== null);

  // Nothing fired on the way; then one change fires both watches, a second only the persistent one.
  assert.equal(oneShot.length, 0, `one-shot fired early: ${JSON.stringify(oneShot, bigints)}`);
  assert.equal(persistent.length, 0, `persistent fired early: ${JSON.stringify(persistent, bigints)}`);
  await writer.setData(watched, "v1");
  await waitFor(() => oneShot.length >= 1 && persistent.length >= 1, {
    timeoutMs: 10_000,
    message: "both watches to fire after the first change",
  });
  await writer.setData(watched, "v2");
  await waitFor(() => persistent.length >= 2, {
    timeoutMs: 10_000,
    message: "the persistent watch to fire after the second change",
  });
  // The server sends notifications in order on the one connection: by the time the second arrived, a second
  // one-shot firing would have too.
  assert.deepEqual(
    oneShot.map((ev) => [ev.type, ev.path]),
    [["nodeDataChanged", watched]],
  );
  assert.deepEqual(
    persistent.map((ev) => [ev.type, ev.path]),
    [
      ["nodeDataChanged", watched],
      ["nodeDataChanged", watched],
    ],
  );
  assert.equal(client.sessionId, sessionId);
  assert.ok(!states.includes("expired"), `states ${states.join(",")}`);
  assert.equal(client.state, "connected");

  // The session still writes, and its ephemeral goes when it closes.
  await client.setData(ephemeral, "still mine");
  await client.close();
  assert.equal(await writer.exists(ephemeral), null);
  await writer.close();
}

test(
  "the client's server (a follower) is killed: the client moves on with its session, ephemeral and watches",
  { skip, timeout: testTimeoutMs },
  (t) =>
    runFailover(t, {
      name: "follower",
      connectTo: async (e) => (await e.followers())[0]!,
      victim: async (_e, clientServer) => clientServer,
    }),
);

test(
  "the client's server is the leader and is killed: the client moves on with its session, ephemeral and watches",
  { skip, timeout: testTimeoutMs },
  (t) =>
    runFailover(t, {
      name: "leader",
      connectTo: (e) => e.leader(),
      victim: async (_e, clientServer) => clientServer,
    }),
);

test(
  "the leader is killed while the client is on a follower: the client keeps its session through the election",
  { skip, timeout: testTimeoutMs },
  (t) =>
    runFailover(t, {
      name: "leader-under-follower",
      connectTo: async (e) => (await e.followers())[0]!,
      victim: (e) => e.leader(),
    }),
);
