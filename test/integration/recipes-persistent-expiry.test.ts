// PersistentNode with a client factory against a real server: after its session is lost the node comes back
// on a new client, under a new session; without a factory the old behaviour stays.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../src/client/index.js";
import { PersistentNode } from "../../src/recipes/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const kind = interopTarget();
const skip = skipReason(kind);
let server: ManagedServer | undefined;
const clients: ZooKeeperClient[] = [];
const proxies: TcpProxy[] = [];
const nodes: PersistentNode[] = [];

before(async () => {
  // A short tick lets a session expire within a test: timeouts negotiate into [200 ms, 10 s].
  if (skip === undefined) server = await startServer(kind, { tickTime: 100, maxSessionTimeout: 10_000 });
});
after(async () => {
  for (const n of nodes) await n.close();
  for (const c of clients) await c.close();
  for (const p of proxies) await p.stop();
  await server?.stop();
});

async function connect(connectString: string, sessionTimeoutMs = 10_000): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs, connectTimeoutMs: 1_000 });
  clients.push(zk);
  return zk;
}

test(
  "after session loss the node is re-created on a new client from the factory, with a new owner",
  { skip, timeout: 60_000 },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    proxies.push(proxy);
    const observer = await connect(server!.connectString);
    const original = await connect(proxy.connectString, 1_000);
    let factoryCalls = 0;
    // The factory goes through the proxy too: while it is down the factory fails and is retried.
    const clientFactory = async (): Promise<ZooKeeperClient> => {
      factoryCalls++;
      return connect(proxy.connectString, 1_000);
    };
    const eph = new PersistentNode(original, "/pn-expiry/eph", "ephemeral", "e", {
      clientFactory,
      clientRetryMs: 100,
    });
    const seq = new PersistentNode(original, "/pn-expiry/seq-", "ephemeral-sequential", "s", {
      clientFactory,
      clientRetryMs: 100,
    });
    nodes.push(eph, seq);
    const replaced: ZooKeeperClient[] = [];
    eph.on("newClient", (zk) => replaced.push(zk));
    await eph.start();
    await seq.start();
    const oldSession = original.sessionId;
    assert.equal((await observer.exists("/pn-expiry/eph"))?.ephemeralOwner, oldSession);
    const oldSeq = seq.actual!;
    assert.equal((await observer.exists(oldSeq))?.ephemeralOwner, oldSession);

    await proxy.stop(); // cut off: the session expires on the server, and the nodes with it
    await waitFor(async () => (await observer.getChildren("/pn-expiry")).length === 0, {
      timeoutMs: 15_000,
      message: "the old session's nodes gone",
    });
    await waitFor(() => factoryCalls >= 2, { message: "the factory tried (and failed) while cut off" });
    assert.equal(eph.zk, original, "no new client while the server is out of reach");
    await proxy.start();

    await waitFor(
      async () => (await observer.exists("/pn-expiry/eph"))?.ephemeralOwner === eph.zk.sessionId,
      {
        timeoutMs: 15_000,
        message: "the ephemeral node back under the new session",
      },
    );
    assert.notEqual(eph.zk, original);
    assert.notEqual(eph.zk.sessionId, oldSession);
    assert.deepEqual(replaced, [eph.zk]);
    assert.equal(Buffer.from((await observer.getData("/pn-expiry/eph")).data).toString(), "e");
    await waitFor(
      async () =>
        seq.actual !== undefined && (await observer.exists(seq.actual))?.ephemeralOwner === seq.zk.sessionId,
      {
        timeoutMs: 15_000,
        message: "the sequential node back under a new session",
      },
    );
    assert.notEqual(seq.actual, oldSeq);
    assert.equal((await observer.getChildren("/pn-expiry")).length, 2);
    // The caller's client is left alone: it learns of its expiry once it reaches the server again.
    await waitFor(() => original.state === "expired", {
      timeoutMs: 15_000,
      message: "the original client expired",
    });

    // Still kept: deleted nodes come back on the new client; setData reaches the new node.
    await eph.setData("e2");
    await observer.delete("/pn-expiry/eph");
    await waitFor(async () => (await observer.exists("/pn-expiry/eph")) !== null, { message: "re-created" });
    assert.equal(Buffer.from((await observer.getData("/pn-expiry/eph")).data).toString(), "e2");

    // close() deletes the node and closes the clients the factory made.
    const made = eph.zk;
    await eph.close();
    await seq.close();
    assert.deepEqual(await observer.getChildren("/pn-expiry"), []);
    assert.equal(made.state, "closed");
  },
);

test(
  "without a factory, the node stays gone after expiry (the current API)",
  { skip, timeout: 60_000 },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    proxies.push(proxy);
    const observer = await connect(server!.connectString);
    const zk = await connect(proxy.connectString, 1_000);
    const node = new PersistentNode(zk, "/pn-no-factory", "ephemeral", "x");
    nodes.push(node);
    await node.start();
    assert.equal(node.zk, zk);
    await proxy.stop();
    await waitFor(async () => (await observer.exists("/pn-no-factory")) === null, {
      timeoutMs: 15_000,
      message: "node gone with the session",
    });
    await proxy.start();
    await waitFor(() => zk.state === "expired", { timeoutMs: 15_000, message: "client expired" });
    await observer.sync("/");
    assert.equal(await observer.exists("/pn-no-factory"), null);
    assert.equal(node.zk, zk);
    await node.close();
  },
);
