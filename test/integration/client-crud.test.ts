// ZooKeeperClient against a real server: every create mode, reads and writes, typed errors with paths, ACLs and auth.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthFailedError,
  BadArgumentsError,
  BadVersionError,
  CREATOR_ALL_ACL,
  InvalidACLError,
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NoNodeError,
  NodeExistsError,
  NotEmptyError,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
  ZooKeeperClient,
  digestAcl,
  type ClientState,
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

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

test("every create mode makes the node it names", { skip }, async () => {
  const zk = await connect();
  await zk.create("/modes");
  assert.equal(await zk.create("/modes/p", "persistent"), "/modes/p");
  const p = await zk.exists("/modes/p");
  assert.equal(p?.ephemeralOwner, 0n);
  assert.equal(p?.dataLength, 10);

  assert.equal(await zk.create("/modes/e", null, { mode: "ephemeral" }), "/modes/e");
  assert.equal((await zk.exists("/modes/e"))?.ephemeralOwner, zk.sessionId);

  const seq1 = await zk.create("/modes/s-", "", { mode: "persistent-sequential" });
  const seq2 = await zk.create("/modes/s-", "", { mode: "ephemeral-sequential" });
  assert.match(seq1, /^\/modes\/s-\d{10}$/);
  assert.equal(Number(seq2.slice(-10)), Number(seq1.slice(-10)) + 1);
  assert.equal((await zk.exists(seq2))?.ephemeralOwner, zk.sessionId);

  const container = await zk.create2("/modes/c", "", { mode: "container" });
  assert.equal(container.path, "/modes/c");
  // Containers and TTL nodes mark ephemeralOwner internally, but DataNode.copyStat shows clients 0.
  assert.equal(container.stat.ephemeralOwner, 0n);

  const ttl = await zk.create2("/modes/t", "", { mode: "persistent-ttl", ttlMs: 60_000 });
  assert.equal(ttl.path, "/modes/t");
  assert.equal((await zk.exists("/modes/t"))?.ephemeralOwner, 0n);
  const ttlSeq = await zk.create("/modes/ts-", "", { mode: "persistent-sequential-ttl", ttlMs: 1000 });
  assert.match(ttlSeq, /^\/modes\/ts-\d{10}$/);

  const created = await zk.create2("/modes/p2", "abc");
  assert.equal(created.stat.version, 0);
  assert.equal(created.stat.dataLength, 3);
  assert.equal(created.stat.czxid, created.stat.mzxid);
  assert.ok(created.stat.czxid > 0n && zk.lastZxid >= created.stat.czxid);

  const children = await zk.getChildren2("/modes");
  assert.deepEqual(
    children.children.sort(),
    ["c", "e", "p", "p2", seq1.slice(7), seq2.slice(7), "t", ttlSeq.slice(7)].sort(),
  );
  assert.equal(children.stat.numChildren, 8);
  assert.equal(await zk.getAllChildrenNumber("/modes"), 8);
  assert.deepEqual((await zk.getEphemerals("/modes")).sort(), ["/modes/e", seq2].sort());
});

test("an ephemeral node goes when its session closes", { skip }, async () => {
  const owner = await connect();
  const watcher = await connect();
  await owner.create("/eph-close", "x", { mode: "ephemeral" });
  assert.notEqual(await watcher.exists("/eph-close"), null);
  await owner.close();
  await watcher.sync("/eph-close");
  assert.equal(await watcher.exists("/eph-close"), null);
});

test("data round-trips, versions are checked, and deletes need an empty node", { skip }, async () => {
  const zk = await connect();
  await zk.create("/data", new Uint8Array([0, 1, 2, 255]));
  const got = await zk.getData("/data");
  assert.deepEqual([...got.data], [0, 1, 2, 255]);
  const stat = await zk.setData("/data", "v1", got.stat.version);
  assert.equal(stat.version, 1);
  assert.equal(text((await zk.getData("/data")).data), "v1");
  assert.equal((await zk.setData("/data", "v2")).version, 2);
  await assert.rejects(
    zk.setData("/data", "stale", 1),
    (e) => e instanceof BadVersionError && e.path === "/data",
  );
  await assert.rejects(zk.delete("/data", 7), (e) => e instanceof BadVersionError && e.path === "/data");
  await zk.create("/data/child");
  await assert.rejects(zk.delete("/data"), (e) => e instanceof NotEmptyError && e.path === "/data");
  await zk.delete("/data/child", 0);
  await zk.delete("/data", 2);
  assert.equal(await zk.exists("/data"), null);
  await zk.create("/empty", null);
  assert.equal((await zk.getData("/empty")).data.length, 0);
});

test("ZooKeeper's errors arrive typed, with the path the caller gave", { skip }, async () => {
  const zk = await connect();
  await assert.rejects(
    zk.getData("/missing"),
    (e) => e instanceof NoNodeError && e.path === "/missing" && e.code === -101,
  );
  await assert.rejects(
    zk.create("/missing/child"),
    (e) => e instanceof NoNodeError && e.path === "/missing/child",
  );
  await zk.create("/dup");
  await assert.rejects(zk.create("/dup"), (e) => e instanceof NodeExistsError && e.path === "/dup");
  await zk.create("/eph-parent", "", { mode: "ephemeral" });
  await assert.rejects(
    zk.create("/eph-parent/c"),
    (e) => e instanceof NoChildrenForEphemeralsError && e.path === "/eph-parent/c",
  );
  await assert.rejects(zk.getChildren("/missing"), NoNodeError);
  await assert.rejects(zk.delete("/missing"), NoNodeError);
  await assert.rejects(zk.getACL("/missing"), NoNodeError);
  // No authenticated id to expand "auth" to.
  await assert.rejects(zk.create("/creator", "", { acl: CREATOR_ALL_ACL }), InvalidACLError);
});

test("bad arguments are refused before anything is sent", { skip }, async () => {
  const zk = await connect();
  await assert.rejects(zk.create("no-slash"), InvalidPathError);
  await assert.rejects(zk.getData("/a/"), InvalidPathError);
  await assert.rejects(zk.create("/ttl", "", { mode: "persistent-ttl" }), InvalidArgumentError);
  await assert.rejects(zk.create("/ttl", "", { ttlMs: 5 }), InvalidArgumentError);
  assert.equal(zk.state, "connected");
});

test("data outside the BMP round-trips; such paths are the server's to refuse", { skip }, async () => {
  const zk = await connect();
  assert.equal(await zk.create("/emoji", "🦀 ünï"), "/emoji");
  assert.equal(text((await zk.getData("/emoji")).data), "🦀 ünï");
  // PathUtils.validatePath on the server refuses surrogates (\ud800-\uf8ff).
  await assert.rejects(
    zk.create("/emoji-😀"),
    (e) => e instanceof BadArgumentsError && e.path === "/emoji-😀",
  );
  await assert.rejects(zk.create("/private-\ue000"), InvalidPathError);
});

test("digest ACLs keep out other sessions until they add the credentials", { skip }, async () => {
  const owner = await connect();
  const other = await connect();
  await owner.addAuth("digest", "alice:s3cret");
  const acl = [digestAcl("alice", "s3cret"), ...READ_ACL_UNSAFE];
  await owner.create("/secured", "s", { acl });
  assert.deepEqual((await owner.getACL("/secured")).acl, acl);
  assert.equal(text((await other.getData("/secured")).data), "s");
  await assert.rejects(
    other.setData("/secured", "x"),
    (e) => e instanceof NoAuthError && e.path === "/secured",
  );
  await other.addAuth("digest", "alice:s3cret");
  await other.setData("/secured", "x");
  const infos = await other.whoAmI();
  assert.ok(
    infos.some((i) => i.authScheme === "digest" && i.user === "alice"),
    JSON.stringify(infos),
  );

  await owner.create("/mine", "", { acl: CREATOR_ALL_ACL });
  assert.deepEqual((await owner.getACL("/mine")).acl, [digestAcl("alice", "s3cret")]);
  const stat = await owner.setACL("/mine", OPEN_ACL_UNSAFE, 0);
  assert.equal(stat.aversion, 1);
  await assert.rejects(owner.setACL("/mine", OPEN_ACL_UNSAFE, 0), BadVersionError);
  assert.deepEqual((await owner.getACL("/mine")).acl, [
    { perms: Perms.ALL, id: { scheme: "world", id: "anyone" } },
  ]);
});

test("credentials the server refuses end the session in auth-failed", { skip }, async () => {
  const zk = await connect();
  const states: ClientState[] = [];
  zk.on("state", (s) => states.push(s));
  await assert.rejects(zk.addAuth("no-such-scheme", "x"), AuthFailedError);
  await waitFor(() => zk.state === "auth-failed", { message: "auth-failed" });
  assert.deepEqual(states, ["auth-failed"]);
  await assert.rejects(zk.getData("/"), AuthFailedError);
  await zk.close();
  assert.equal(zk.state, "auth-failed");
});
