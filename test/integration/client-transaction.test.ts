// ZooKeeperClient transactions (multi) and multiRead against a real server: all or nothing, with per-op results.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  BadVersionError,
  NoNodeError,
  NodeExistsError,
  ZkError,
  ZooKeeperClient,
  type TransactionResult,
} from "../../src/client/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";

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

async function connect(): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(server!.connectString, { sessionTimeoutMs: 10_000 });
  clients.push(zk);
  return zk;
}

test("a transaction applies every op and reports each result", { skip }, async () => {
  const zk = await connect();
  await zk.create("/tx", "0");
  await zk.create("/tx/old");
  const results = await zk
    .transaction()
    .check("/tx", 0)
    .create("/tx/a", "a")
    .create("/tx/s-", "", { mode: "ephemeral-sequential" })
    .create("/tx/c", "", { mode: "container" })
    .setData("/tx", "1", 0)
    .delete("/tx/old", 0)
    .commit();
  assert.equal(results.length, 6);
  assert.deepEqual(results[0], { type: "check" });
  assert.deepEqual(results[1], { type: "create", path: "/tx/a", stat: null });
  assert.match((results[2] as Extract<TransactionResult, { type: "create" }>).path, /^\/tx\/s-\d{10}$/);
  const container = results[3] as Extract<TransactionResult, { type: "create" }>;
  assert.equal(container.path, "/tx/c");
  assert.ok(container.stat !== null, "createContainer results carry a Stat");
  const set = results[4] as Extract<TransactionResult, { type: "setData" }>;
  assert.equal(set.type, "setData");
  assert.equal(set.stat.version, 1);
  assert.deepEqual(results[5], { type: "delete" });
  // All sub-ops of one multi share a zxid.
  assert.equal(set.stat.mzxid, container.stat.czxid);
  assert.deepEqual((await zk.getChildren("/tx")).length, 3);
});

test(
  "a failed transaction applies nothing and rejects with the failing op's error and every result",
  { skip },
  async () => {
    const zk = await connect();
    await zk.create("/txf", "0");
    const attempt = zk.transaction().create("/txf/new").setData("/txf", "x", 5).delete("/txf/none").commit();
    const err = await attempt.then(
      () => assert.fail("the transaction should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof BadVersionError);
    assert.equal(err.path, "/txf");
    assert.equal(err.failedOpIndex, 1);
    assert.deepEqual(
      err.results?.map((r) => (r.type === "error" ? r.code : r.type)),
      [0, -103, -2],
    );
    assert.equal((err.results?.[1] as Extract<TransactionResult, { type: "error" }>).error, err);
    assert.equal(await zk.exists("/txf/new"), null);
    assert.equal((await zk.getData("/txf")).stat.version, 0);

    await assert.rejects(
      zk.transaction().create("/txf").commit(),
      (e) => e instanceof NodeExistsError && e.failedOpIndex === 0 && e.results?.length === 1,
    );
    await assert.rejects(
      zk.transaction().check("/nope", -1).commit(),
      (e) => e instanceof NoNodeError && e.path === "/nope",
    );
  },
);

test(
  "an empty transaction succeeds with no results; a committed one cannot be sent twice",
  { skip },
  async () => {
    const zk = await connect();
    const tx = zk.transaction();
    assert.deepEqual(await tx.commit(), []);
    await assert.rejects(tx.commit(), /already committed/);
  },
);

test("multiRead reads several nodes at once, each op failing on its own", { skip }, async () => {
  const zk = await connect();
  await zk.create("/mr", "root");
  await zk.create("/mr/a", "A");
  const results = await zk.multiRead([
    { type: "getData", path: "/mr/a" },
    { type: "getChildren", path: "/mr" },
    { type: "getData", path: "/mr/missing" },
  ]);
  assert.equal(results[0]?.type, "getData");
  if (results[0]?.type === "getData") assert.equal(Buffer.from(results[0].data).toString(), "A");
  assert.deepEqual(results[1], { type: "getChildren", children: ["a"] });
  assert.equal(results[2]?.type, "error");
  if (results[2]?.type === "error") {
    assert.equal(results[2].code, -101);
    assert.ok(results[2].error instanceof NoNodeError && results[2].error instanceof ZkError);
    assert.equal(results[2].error.path, "/mr/missing");
  }
});
