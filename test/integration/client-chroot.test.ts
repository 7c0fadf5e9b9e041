// ZooKeeperClient with a chroot against a real server: applied to every path sent, stripped from every path received.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  NoNodeError,
  ZooKeeperClient,
  type TransactionResult,
  type WatchEvent,
} from "../../src/client/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const kind = interopTarget();
const skip = skipReason(kind);
let server: ManagedServer | undefined;
const clients: ZooKeeperClient[] = [];

before(async () => {
  if (skip === undefined) server = await startServer(kind);
});
after(async () => {
  for (const c of clients) await c.close();
  await server?.stop();
});

async function connect(suffix = ""): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(server!.connectString + suffix, { sessionTimeoutMs: 10_000 });
  clients.push(zk);
  return zk;
}

test("a chrooted client sees only its subtree, under its own names", { skip }, async () => {
  const root = await connect();
  await root.create("/app");
  await root.create("/app/ns", "chroot node");
  const zk = await connect("/app/ns");
  assert.equal(zk.chroot, "/app/ns");

  assert.equal(Buffer.from((await zk.getData("/")).data).toString(), "chroot node");
  assert.equal(await zk.create("/a", "1"), "/a");
  const seq = await zk.create("/a/q-", "", { mode: "ephemeral-sequential" });
  assert.match(seq, /^\/a\/q-\d{10}$/);
  assert.equal((await zk.create2("/b")).path, "/b");
  assert.deepEqual((await root.getChildren("/app/ns")).sort(), ["a", "b"]);
  assert.deepEqual(await zk.getEphemerals("/"), [seq]);
  assert.equal(await zk.getAllChildrenNumber("/"), 3);
  await assert.rejects(zk.getData("/missing"), (e) => e instanceof NoNodeError && e.path === "/missing");

  const results = await zk
    .transaction()
    .create("/t")
    .create("/t/s-", "", { mode: "persistent-sequential" })
    .commit();
  assert.equal((results[0] as Extract<TransactionResult, { type: "create" }>).path, "/t");
  assert.match((results[1] as Extract<TransactionResult, { type: "create" }>).path, /^\/t\/s-\d{10}$/);
  const [read] = await zk.multiRead([{ type: "getChildren", path: "/t" }]);
  assert.equal(read?.type, "getChildren");
});

test("watch events name paths without the chroot", { skip }, async () => {
  const root = await connect();
  await root.create("/wapp");
  const zk = await connect("/wapp");
  const events: WatchEvent[] = [];
  await zk.exists("/x", { watch: (e) => events.push(e) });
  await zk.addWatch("/", (e) => events.push(e), { recursive: true });
  await root.create("/wapp/x");
  await root.setData("/wapp", "d");
  await waitFor(() => events.length >= 3, { message: "3 events" });
  await zk.sync("/");
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.path}`),
    ["nodeCreated /x", "nodeCreated /x", "nodeDataChanged /"],
  );
});
