// ZooKeeperClient sessions against a real server: reconnect through a cut connection, expiry, pings, close().
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionLossError,
  SessionExpiredError,
  ZooKeeperClient,
  type ClientState,
  type WatchEvent,
} from "../../src/client/index.js";
import { freePort } from "../helpers/free-port.js";
import { TcpProxy, stopAllProxies } from "../helpers/tcp-proxy.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const kind = interopTarget();
const skip = skipReason(kind);
let server: ManagedServer | undefined;
const clients: ZooKeeperClient[] = [];

before(async () => {
  // A short tick lets sessions expire within a test: timeouts negotiate into [200 ms, 10 s].
  if (skip === undefined) server = await startServer(kind, { tickTime: 100, maxSessionTimeout: 10_000 });
});
after(async () => {
  for (const c of clients) await c.close();
  await stopAllProxies();
  await server?.stop();
});

/** The 12-byte ping frame: length 8, xid -2, OpCode.ping 11. */

/**
 * A loopback TCP proxy the test controls: cut() drops every connection, stop()/start() refuse and accept
 * new ones, hold() stops forwarding replies. It counts the pings clients send through it.
 */

async function connect(connectString: string, sessionTimeoutMs = 10_000): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs });
  clients.push(zk);
  return zk;
}

function recordStates(zk: ZooKeeperClient): ClientState[] {
  const states: ClientState[] = [];
  zk.on("state", (s) => states.push(s));
  return states;
}

test(
  "after a cut the session moves to a new connection; a watch set before fires once after",
  { skip },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    const zk = await connect(proxy.connectString);
    const direct = await connect(server!.connectString);
    const states = recordStates(zk);
    const sessionId = zk.sessionId;
    await zk.create("/moved", "0");
    await zk.create("/moved/eph", "", { mode: "ephemeral" });
    const events: WatchEvent[] = [];
    await zk.getData("/moved", { watch: (e) => events.push(e) });
    const persistent: WatchEvent[] = [];
    await zk.addWatch("/moved", (e) => persistent.push(e));

    await proxy.stop();
    await waitFor(() => zk.state === "disconnected", { message: "disconnected" });
    await direct.setData("/moved", "changed while away");
    await proxy.start();
    await waitFor(() => zk.state === "connected", { timeoutMs: 15_000, message: "reconnected" });
    await waitFor(() => events.length === 1 && persistent.length === 1, {
      message: "watches fire after reconnect",
    });

    assert.equal(zk.sessionId, sessionId);
    assert.deepEqual(states, ["disconnected", "connected"]);
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.path}`),
      ["nodeDataChanged /moved"],
    );
    assert.notEqual(await direct.exists("/moved/eph"), null, "the ephemeral survives the move");
    // The one-shot watch is spent; the persistent one is re-armed and keeps firing.
    await direct.setData("/moved", "again");
    await waitFor(() => persistent.length === 2, { message: "persistent watch fires again" });
    await zk.getData("/moved");
    assert.equal(events.length, 1);
    assert.ok(proxy.connections >= 2);
  },
);

test("watches past one setWatches batch are all re-armed after a reconnect", { skip }, async () => {
  const proxy = await TcpProxy.create(server!.port);
  const zk = await connect(proxy.connectString);
  const direct = await connect(server!.connectString);
  await zk.create("/many");
  // 3000 exist watches of ~60-byte paths: about 190 KiB, more than one batch of setWatchesBatchBytesMax.
  const name = (i: number): string => `/many/${"n".repeat(50)}-${String(i).padStart(5, "0")}`;
  const fired = new Set<string>();
  await Promise.all(
    Array.from({ length: 3000 }, (_, i) => zk.exists(name(i), { watch: (e) => fired.add(e.path) })),
  );
  await proxy.stop();
  await waitFor(() => zk.state === "disconnected", { message: "disconnected" });
  await proxy.start();
  await waitFor(() => zk.state === "connected", { timeoutMs: 15_000, message: "reconnected" });
  for (const i of [0, 1499, 2999]) await direct.create(name(i));
  await waitFor(() => fired.size === 3, { message: `3 creations seen (have ${fired.size})` });
  assert.deepEqual([...fired].sort(), [name(0), name(1499), name(2999)]);
});

test("requests outstanding when the connection drops fail with ConnectionLossError", { skip }, async () => {
  const proxy = await TcpProxy.create(server!.port);
  const zk = await connect(proxy.connectString);
  await zk.create("/lost", "0");
  proxy.hold();
  const outstanding = [zk.getData("/lost"), zk.setData("/lost", "1"), zk.exists("/lost")];
  const settled = Promise.allSettled(outstanding);
  proxy.cut();
  for (const r of await settled) {
    assert.equal(r.status, "rejected");
    assert.ok(
      r.status === "rejected" && r.reason instanceof ConnectionLossError,
      String(r.status === "rejected" && r.reason),
    );
    assert.equal((r as PromiseRejectedResult).reason.path, "/lost");
  }
  await waitFor(() => zk.state === "connected", { timeoutMs: 15_000, message: "reconnected" });
  assert.ok((await zk.getData("/lost")).stat.version <= 1);
  // A request made while no server can be reached fails once every host has been tried.
  await proxy.stop();
  await waitFor(() => zk.state === "disconnected", { message: "disconnected" });
  await assert.rejects(zk.getData("/lost"), (e) => e instanceof ConnectionLossError && e.path === "/lost");
  await proxy.start();
  await waitFor(() => zk.state === "connected", { timeoutMs: 15_000, message: "reconnected again" });
  await zk.getData("/lost");
});

test("an idle session pings at a third of its timeout and stays connected", { skip }, async () => {
  const proxy = await TcpProxy.create(server!.port);
  const zk = await connect(proxy.connectString, 1_200);
  const states = recordStates(zk);
  assert.equal(zk.sessionTimeoutMs, 1_200);
  // Three pings span at least two session timeouts' thirds: the server would have expired a silent session.
  await waitFor(() => proxy.pings >= 4, { timeoutMs: 10_000, message: "4 pings" });
  assert.deepEqual(states, []);
  assert.equal(zk.state, "connected");
  await zk.getData("/");
});

test("a session the server expired while the client was away ends in expired", { skip }, async () => {
  const proxy = await TcpProxy.create(server!.port);
  const zk = await connect(proxy.connectString, 1_000);
  const direct = await connect(server!.connectString);
  const states = recordStates(zk);
  await zk.create("/expiring", "", { mode: "ephemeral" });
  const stream = await zk.watchEvents("/", { recursive: true });
  const pending = assert.rejects(stream.next(), SessionExpiredError);
  await proxy.stop();
  await waitFor(async () => (await direct.exists("/expiring")) === null, {
    timeoutMs: 15_000,
    message: "the server to expire the session",
  });
  await proxy.start();
  await waitFor(() => zk.state === "expired", { timeoutMs: 15_000, message: "expired" });
  assert.deepEqual(states, ["disconnected", "expired"]);
  await pending;
  await assert.rejects(zk.getData("/"), SessionExpiredError);
  await assert.rejects(zk.addAuth("digest", "a:b"), SessionExpiredError);
  await zk.close();
  assert.equal(zk.state, "expired");
});

test("resuming a session with its id and password elsewhere keeps its ephemerals", { skip }, async () => {
  // The first client talks through a proxy that then refuses it, so it cannot take the session back.
  const proxy = await TcpProxy.create(server!.port);
  const first = await connect(proxy.connectString);
  await first.create("/resumed", "", { mode: "ephemeral" });
  await proxy.stop();
  const second = await ZooKeeperClient.connect(server!.connectString, {
    sessionTimeoutMs: 10_000,
    sessionId: first.sessionId,
    sessionPassword: first.sessionPassword,
  });
  clients.push(second);
  assert.equal(second.sessionId, first.sessionId);
  assert.equal((await second.exists("/resumed"))?.ephemeralOwner, first.sessionId);
  await second.close();
  await assert.rejects(
    ZooKeeperClient.connect(server!.connectString, {
      sessionTimeoutMs: 10_000,
      sessionId: first.sessionId,
      sessionPassword: first.sessionPassword,
    }),
    SessionExpiredError,
  );
});

test(
  "close() ends the session at once: ephemerals go, later calls fail, closed is reported once",
  { skip },
  async () => {
    const zk = await connect(server!.connectString);
    const direct = await connect(server!.connectString);
    const states = recordStates(zk);
    await zk.create("/closing", "", { mode: "ephemeral" });
    const stream = await zk.watchEvents("/closing");
    const inFlight = zk.getData("/closing");
    await Promise.all([zk.close(), zk.close()]);
    assert.equal((await inFlight).data.length, 0, "a request sent before close() completes");
    assert.equal(zk.state, "closed");
    assert.deepEqual(states, ["closed"]);
    // closeSession deletes the ephemeral before its reply: the watch reports that, then the stream ends.
    const deleted = await stream.next();
    assert.deepEqual(deleted.done === false && [deleted.value.type, deleted.value.path], [
      "nodeDeleted",
      "/closing",
    ]);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
    await assert.rejects(zk.getData("/"), SessionExpiredError);
    await direct.sync("/");
    assert.equal(await direct.exists("/closing"), null);
  },
);

test(
  "connect() rejects with ConnectionLossError when no server answers, and when aborted",
  { skip },
  async () => {
    const port = await freePort();
    await assert.rejects(
      ZooKeeperClient.connect(`127.0.0.1:${port}`, { sessionTimeoutMs: 10_000, connectTimeoutMs: 1_500 }),
      ConnectionLossError,
    );
    const controller = new AbortController();
    const attempt = ZooKeeperClient.connect(`127.0.0.1:${port}`, {
      sessionTimeoutMs: 10_000,
      signal: controller.signal,
    });
    controller.abort(new Error("stop trying"));
    await assert.rejects(attempt, /stop trying/);
  },
);
