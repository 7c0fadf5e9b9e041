// node-zookeeper-client (the npm client, not ours) works against the target server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connectNzk, nzk, zookeeper, type Client, type Event } from "../helpers/nzk.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const target = interopTarget();
const skip = skipReason(target);

let server: ManagedServer | undefined;
const clients: Client[] = [];
before(async () => {
  if (skip === undefined) server = await startServer(target);
});
after(async () => {
  for (const c of clients) await nzk.close(c);
  await server?.stop();
});

async function client(): Promise<Client> {
  assert.ok(server);
  const c = await connectNzk(server.connectString);
  clients.push(c);
  return c;
}

function errorCode(err: unknown): number | undefined {
  return (err as { getCode?: () => number }).getCode?.();
}

test(`node-zookeeper-client creates, reads, sets, lists and deletes on ${target}`, { skip }, async () => {
  const c = await client();
  assert.equal(await nzk.create(c, "/nzk", Buffer.from("v0")), "/nzk");
  assert.equal(
    await nzk.create(c, "/nzk/seq-", null, zookeeper.CreateMode.PERSISTENT_SEQUENTIAL),
    "/nzk/seq-0000000000",
  );
  assert.equal(await nzk.create(c, "/nzk/eph", Buffer.from("e"), zookeeper.CreateMode.EPHEMERAL), "/nzk/eph");
  const eph = await nzk.exists(c, "/nzk/eph");
  assert.ok(eph);
  assert.deepEqual(eph.ephemeralOwner, c.getSessionId());
  await assert.rejects(nzk.create(c, "/nzk", null), (e) => errorCode(e) === zookeeper.Exception.NODE_EXISTS);

  const got = await nzk.getData(c, "/nzk");
  assert.equal(got.data.toString(), "v0");
  assert.equal(got.stat.version, 0);
  assert.equal(got.stat.numChildren, 2);
  const stat = await nzk.setData(c, "/nzk", Buffer.from("v1"), 0);
  assert.equal(stat.version, 1);
  await assert.rejects(
    nzk.setData(c, "/nzk", Buffer.from("x"), 0),
    (e) => errorCode(e) === zookeeper.Exception.BAD_VERSION,
  );
  assert.deepEqual((await nzk.getChildren(c, "/nzk")).sort(), ["eph", "seq-0000000000"]);

  await assert.rejects(nzk.remove(c, "/nzk"), (e) => errorCode(e) === zookeeper.Exception.NOT_EMPTY);
  await nzk.remove(c, "/nzk/eph");
  await nzk.remove(c, "/nzk/seq-0000000000");
  await nzk.remove(c, "/nzk", 1);
  assert.equal(await nzk.exists(c, "/nzk"), null);
  await assert.rejects(nzk.getData(c, "/nzk"), (e) => errorCode(e) === zookeeper.Exception.NO_NODE);
});

test(`node-zookeeper-client watches fire once on ${target}`, { skip }, async () => {
  const watcher = await client();
  const writer = await client();
  await nzk.create(writer, "/nzk-watch", Buffer.from("a"));
  const events: Array<{ kind: string; type: string; path: string }> = [];
  const record = (kind: string) => (e: Event) => events.push({ kind, type: e.getName(), path: e.getPath() });
  await nzk.getData(watcher, "/nzk-watch", record("data"));
  await nzk.getChildren(watcher, "/nzk-watch", record("child"));
  await nzk.exists(watcher, "/nzk-watch/c", record("exists"));

  await nzk.setData(writer, "/nzk-watch", Buffer.from("b"));
  await nzk.create(writer, "/nzk-watch/c", null);
  await waitFor(() => events.length >= 3, { timeoutMs: 10_000, message: "three watch events" });
  assert.deepEqual(
    [...events].sort((x, y) => x.kind.localeCompare(y.kind)),
    [
      { kind: "child", type: "NODE_CHILDREN_CHANGED", path: "/nzk-watch" },
      { kind: "data", type: "NODE_DATA_CHANGED", path: "/nzk-watch" },
      { kind: "exists", type: "NODE_CREATED", path: "/nzk-watch/c" },
    ],
  );
  // One-shot: a second change fires nothing; a read after it proves the server has processed it.
  await nzk.setData(writer, "/nzk-watch", Buffer.from("c"));
  assert.equal((await nzk.getData(watcher, "/nzk-watch")).data.toString(), "c");
  assert.equal(events.length, 3);
  await nzk.remove(writer, "/nzk-watch/c");
  await nzk.remove(writer, "/nzk-watch");
});

test(`node-zookeeper-client transactions commit atomically on ${target}`, { skip }, async () => {
  const c = await client();
  const ok = await new Promise<unknown[]>((resolve, reject) =>
    c
      .transaction()
      .create("/nzk-tx", Buffer.from("t"))
      .create("/nzk-tx/a", null)
      .setData("/nzk-tx", Buffer.from("t2"), 0)
      .check("/nzk-tx", 1)
      .commit((error, results) => (error ? reject(error) : resolve(results))),
  );
  assert.equal(ok.length, 4);
  assert.equal((await nzk.getData(c, "/nzk-tx")).data.toString(), "t2");

  const failed = await new Promise<{ error: unknown; results: Array<{ type: number; err?: number }> }>(
    (resolve) =>
      c
        .transaction()
        .create("/nzk-tx/b", null)
        .remove("/nzk-tx/missing")
        .commit((error, results) => resolve({ error, results })),
  );
  assert.equal(errorCode(failed.error), zookeeper.Exception.NO_NODE);
  assert.deepEqual(
    failed.results.map((r) => r.err),
    [0, zookeeper.Exception.NO_NODE],
  );
  assert.equal(await nzk.exists(c, "/nzk-tx/b"), null);
  await nzk.remove(c, "/nzk-tx/a");
  await nzk.remove(c, "/nzk-tx");
});
