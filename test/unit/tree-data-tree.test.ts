// The data tree and prepare together: Stat fields, sequential names, node kinds, multi, ACLs per op,
// error txns, pending changes, determinism and snapshots.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/protocol/error-codes.js";
import { OpCode, Perms } from "../../src/protocol/opcodes.js";
import type { ACL, Id, MultiOp, Request, Txn } from "../../src/protocol/types.js";
import { DataTree, type ApplyResult } from "../../src/tree/data-tree.js";
import { Preparer, shapeMultiResults, type PreparerOptions } from "../../src/tree/prepare.js";
import { processRead } from "../../src/tree/read.js";
import { containerEphemeralOwner } from "../../src/protocol/ephemeral-type.js";

const open: ACL[] = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

class Harness {
  readonly tree = new DataTree();
  readonly prep: Preparer;
  zxid = 0n;
  time = 1_000n;
  constructor(opts: Partial<PreparerOptions> = {}) {
    this.prep = new Preparer(this.tree, { extendedTypesEnabled: true, maxDataBytes: 1024, ...opts });
  }
  session(id: bigint, timeOut = 30_000): void {
    this.apply(
      this.prep.prepareCreateSession({
        sessionId: id,
        timeOut,
        passwd: new Uint8Array(16),
        cxid: 0,
        zxid: ++this.zxid,
        time: this.time,
      }),
    );
  }
  prepare(sessionId: bigint, request: Request, authInfo: Id[] = []): Txn {
    return this.prep.prepareWrite({
      sessionId,
      cxid: 1,
      request,
      authInfo,
      zxid: ++this.zxid,
      time: ++this.time,
    });
  }
  apply(txn: Txn): ApplyResult {
    const r = this.tree.apply(txn);
    this.prep.onApplied(txn);
    return r;
  }
  write(sessionId: bigint, request: Request, authInfo: Id[] = []): ApplyResult {
    return this.apply(this.prepare(sessionId, request, authInfo));
  }
}

function create(
  path: string,
  o: { data?: string; flags?: number; acl?: ACL[]; op?: number; ttl?: bigint } = {},
): Request {
  return {
    type: "create",
    op: o.op ?? OpCode.create2,
    req: { path, data: bytes(o.data ?? ""), acl: o.acl ?? open, flags: o.flags ?? 0, ttl: o.ttl ?? 0n },
  };
}
const del = (path: string, version = -1, op: number = OpCode.delete): Request => ({
  type: "delete",
  op,
  req: { path, version },
});
const setData = (path: string, data: string, version = -1): Request => ({
  type: "setData",
  op: OpCode.setData,
  req: { path, data: bytes(data), version },
});
const setACL = (path: string, acl: ACL[], version = -1): Request => ({
  type: "setACL",
  op: OpCode.setACL,
  req: { path, acl, version },
});
const multi = (ops: MultiOp[]): Request => ({ type: "multi", op: OpCode.multi, ops });

const S1 = 0x100n;
const S2 = 0x200n;

function ready(opts: Partial<PreparerOptions> = {}): Harness {
  const h = new Harness(opts);
  h.session(S1);
  h.session(S2);
  return h;
}

test("a new tree has /, /zookeeper, /zookeeper/quota and /zookeeper/config as ZooKeeper 3.8 standalone shows them", () => {
  const t = new DataTree();
  assert.deepEqual(t.getChildren("/")!.children, ["zookeeper"]);
  assert.deepEqual(t.getChildren("/zookeeper")!.children, ["config", "quota"]);
  const zero = {
    czxid: 0n,
    mzxid: 0n,
    ctime: 0n,
    mtime: 0n,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 0,
    pzxid: 0n,
  };
  assert.deepEqual(t.statOf("/"), { ...zero, cversion: -1, numChildren: 1 });
  assert.deepEqual(t.statOf("/zookeeper"), { ...zero, cversion: -2, numChildren: 2 });
  assert.deepEqual(t.statOf("/zookeeper/quota"), { ...zero, numChildren: 0 });
  assert.deepEqual(t.statOf("/zookeeper/config"), { ...zero, aversion: -1, numChildren: 0 });
  assert.deepEqual(t.getACL("/zookeeper/config")!.acl, [
    { perms: Perms.READ, id: { scheme: "world", id: "anyone" } },
  ]);
  assert.deepEqual(t.getACL("/zookeeper")!.acl, open);
  assert.equal(t.nodeCount, 5, 'ZooKeeper counts the root\'s "" alias');
  assert.equal(t.getAllChildrenNumber("/"), 3);
  assert.equal(t.lastProcessedZxid, 0n);
});

test("create sets every Stat field of the node and moves the parent's cversion and pzxid", () => {
  const h = ready();
  const r = h.write(S1, create("/a", { data: "hello" }));
  assert.equal(r.err, Code.ok);
  assert.equal(r.path, "/a");
  const z = h.zxid;
  assert.deepEqual(r.stat, {
    czxid: z,
    mzxid: z,
    ctime: h.time,
    mtime: h.time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 5,
    numChildren: 0,
    pzxid: z,
  });
  const root = h.tree.statOf("/")!;
  assert.equal(root.pzxid, z);
  assert.equal(root.numChildren, 2);
  assert.equal(root.cversion, 0, "1 create persisted, 2 children live: 1*2-2 = 0 as ZooKeeper reports");
  assert.equal(h.tree.lastProcessedZxid, z);
});

test("setData bumps version, mzxid and mtime and leaves czxid, ctime and pzxid", () => {
  const h = ready();
  const c = h.write(S1, create("/a", { data: "x" }));
  const r = h.write(S1, setData("/a", "longer"));
  assert.equal(r.err, Code.ok);
  assert.equal(r.stat!.version, 1);
  assert.equal(r.stat!.mzxid, h.zxid);
  assert.equal(r.stat!.mtime, h.time);
  assert.equal(r.stat!.czxid, c.stat!.czxid);
  assert.equal(r.stat!.ctime, c.stat!.ctime);
  assert.equal(r.stat!.pzxid, c.stat!.pzxid);
  assert.equal(r.stat!.dataLength, 6);
  assert.equal(h.write(S1, setData("/a", "v", 0)).err, Code.badVersion);
  assert.equal(h.write(S1, setData("/a", "v", 1)).stat!.version, 2);
});

test("setACL bumps aversion only and checks it against the expected version", () => {
  const h = ready();
  h.write(S1, create("/a"));
  const r = h.write(
    S1,
    setACL("/a", [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: "world", id: "anyone" } }], 0),
  );
  assert.equal(r.err, Code.ok);
  assert.equal(r.stat!.aversion, 1);
  assert.equal(r.stat!.version, 0);
  assert.equal(r.stat!.mzxid, r.stat!.czxid);
  assert.equal(h.write(S1, setACL("/a", open, 0)).err, Code.badVersion);
});

test("deleting a child moves the parent's pzxid, and cversion counts creates and deletes", () => {
  const h = ready();
  h.write(S1, create("/p"));
  h.write(S1, create("/p/a"));
  h.write(S1, create("/p/b"));
  assert.equal(h.tree.statOf("/p")!.cversion, 2);
  const r = h.write(S1, del("/p/a"));
  assert.equal(r.err, Code.ok);
  const p = h.tree.statOf("/p")!;
  assert.equal(p.pzxid, h.zxid);
  assert.equal(p.cversion, 3);
  assert.equal(p.numChildren, 1);
  assert.equal(p.mzxid, p.czxid, "children do not change the parent's mzxid");
});

test("delete answers NoNode, BadVersion and NotEmpty, and refuses the system nodes", () => {
  const h = ready();
  h.write(S1, create("/p"));
  h.write(S1, create("/p/c"));
  assert.equal(h.write(S1, del("/nope")).err, Code.noNode);
  assert.equal(h.write(S1, del("/p/c", 5)).err, Code.badVersion);
  assert.equal(h.write(S1, del("/p")).err, Code.notEmpty);
  for (const p of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
    assert.equal(h.write(S1, del(p)).err, Code.badArguments, p);
  }
});

test("create answers NodeExists, NoNode for a missing parent and BadArguments for a bad path", () => {
  const h = ready();
  h.write(S1, create("/a"));
  assert.equal(h.write(S1, create("/a")).err, Code.nodeExists);
  assert.equal(h.write(S1, create("/x/y")).err, Code.noNode);
  assert.equal(
    h.write(S1, create("/a//b")).err,
    Code.noNode,
    "the parent /a/ is looked up before the path is validated",
  );
  assert.equal(h.write(S1, create("/a/.")).err, Code.badArguments);
  assert.equal(h.write(S1, create("nope")).err, Code.badArguments);
  assert.equal(h.write(S1, create("/a", { flags: 9 })).err, Code.badArguments);
  assert.equal(h.write(S1, create("/")).err, Code.nodeExists);
});

test("sequential names carry the parent's create count, which deletes do not lower", () => {
  const h = ready();
  h.write(S1, create("/q"));
  assert.equal(h.write(S1, create("/q/n-", { flags: 2 })).path, "/q/n-0000000000");
  assert.equal(h.write(S1, create("/q/n-", { flags: 2 })).path, "/q/n-0000000001");
  h.write(S1, del("/q/n-0000000000"));
  assert.equal(h.write(S1, create("/q/m", { flags: 3 })).path, "/q/m0000000002");
  assert.equal(h.write(S1, create("/q/", { flags: 2 })).path, "/q/0000000003");
});

test("sequential creates prepared before any applies see each other's counter", () => {
  const h = ready();
  h.write(S1, create("/q"));
  const t1 = h.prepare(S1, create("/q/n-", { flags: 2 }));
  const t2 = h.prepare(S2, create("/q/n-", { flags: 2 }));
  const t3 = h.prepare(S1, create("/q/n-0000000001/child"));
  assert.equal(h.apply(t1).path, "/q/n-0000000000");
  assert.equal(h.apply(t2).path, "/q/n-0000000001");
  assert.equal(h.apply(t3).err, Code.ok, "a create under a node still pending succeeds");
  assert.equal(h.prep.pendingCount, 0);
});

test("the sequence counter wraps to a negative suffix past 2^31-1, as ZooKeeper's int does", () => {
  const h = ready();
  const t = DataTree.restore({
    lastProcessedZxid: 10n,
    sessions: [[S1, { timeOut: 30_000, passwd: new Uint8Array(16) }]],
    nodes: [
      [
        "/q",
        {
          data: new Uint8Array(0),
          acl: open,
          stat: {
            czxid: 1n,
            mzxid: 1n,
            ctime: 0n,
            mtime: 0n,
            version: 0,
            cversion: 2147483647,
            aversion: 0,
            ephemeralOwner: 0n,
            pzxid: 1n,
          },
        },
      ],
    ],
  });
  const p = new Preparer(t, { extendedTypesEnabled: false, maxDataBytes: 10 });
  const input = (zxid: bigint): Parameters<Preparer["prepareWrite"]>[0] => ({
    sessionId: S1,
    cxid: 0,
    request: create("/q/s", { flags: 2 }),
    authInfo: [],
    zxid,
    time: 0n,
  });
  const a = p.prepareWrite(input(11n));
  const b = p.prepareWrite(input(12n));
  assert.equal(a.body.type === "create" && a.body.path, "/q/s2147483647");
  assert.equal(b.body.type === "create" && b.body.path, "/q/s-2147483648");
  void h;
});

test("ephemerals belong to their session, cannot have children, and go with closeSession", () => {
  const h = ready();
  h.write(S1, create("/e", { flags: 1 }));
  const stat = h.tree.statOf("/e")!;
  assert.equal(stat.ephemeralOwner, S1);
  assert.equal(h.write(S1, create("/e/child")).err, Code.noChildrenForEphemerals);
  h.write(S1, create("/f", { flags: 3 }));
  assert.deepEqual(h.tree.getEphemerals(S1), ["/e", "/f0000000001"]);
  const pending = h.prepare(S1, create("/g", { flags: 1 }));
  const close = h.prepare(S1, { type: "closeSession", op: OpCode.closeSession });
  assert.deepEqual(close.body, { type: "closeSession", paths2Delete: ["/e", "/f0000000001", "/g"] });
  h.apply(pending);
  const r = h.apply(close);
  assert.equal(r.err, Code.ok);
  assert.equal(h.tree.getNode("/e"), undefined);
  assert.equal(h.tree.getNode("/g"), undefined);
  assert.deepEqual(h.tree.getEphemerals(S1), []);
  assert.equal(h.tree.sessions.has(S1), false);
  assert.equal(h.tree.statOf("/")!.pzxid, close.header.zxid);
});

test("writes from a session whose closeSession is prepared fail with SessionExpired", () => {
  const h = ready();
  h.prepare(S1, { type: "closeSession", op: OpCode.closeSession });
  const t = h.prepare(S1, create("/late"));
  assert.deepEqual(t.body, { type: "error", err: Code.sessionExpired });
  assert.equal(h.prepare(0x999n, create("/stranger")).body.type, "error");
});

test("refused requests become error txns that consume their zxid", () => {
  const h = ready();
  const t = h.prepare(S1, create("/x/y"));
  assert.equal(t.header.type, OpCode.error);
  assert.equal(t.header.zxid, h.zxid);
  assert.deepEqual(t.body, { type: "error", err: Code.noNode });
  const r = h.apply(t);
  assert.equal(r.err, Code.noNode);
  assert.equal(h.tree.lastProcessedZxid, t.header.zxid);
});

test("containers are kept until they have had a child and are empty again", () => {
  const h = ready();
  const r = h.write(S1, create("/c", { op: OpCode.createContainer, flags: 4 }));
  assert.equal(r.err, Code.ok);
  assert.equal(h.tree.getNode("/c")!.stat.ephemeralOwner, containerEphemeralOwner);
  assert.equal(r.stat!.ephemeralOwner, 0n, "clients see 0 for a container");
  assert.deepEqual(h.tree.expiredContainersAndTtls(10_000_000n), []);
  h.write(S1, create("/c/x"));
  assert.deepEqual(h.tree.expiredContainersAndTtls(10_000_000n), []);
  h.write(S1, del("/c/x"));
  assert.deepEqual(h.tree.expiredContainersAndTtls(0n), ["/c"]);
  assert.equal(h.write(0n, del("/c", -1, OpCode.deleteContainer)).err, Code.ok);
  assert.equal(h.tree.containers.size, 0);
});

test("deleteContainer refuses a container that gained a child after it was found empty", () => {
  const h = ready();
  h.write(S1, create("/c", { op: OpCode.createContainer, flags: 4 }));
  h.write(S1, create("/c/x"));
  assert.equal(h.write(0n, del("/c", -1, OpCode.deleteContainer)).err, Code.notEmpty);
  h.write(S1, create("/e", { flags: 1 }));
  assert.equal(h.write(0n, del("/e", -1, OpCode.deleteContainer)).err, Code.badVersion);
});

test("TTL nodes expire once childless and unmodified for longer than their ttl", () => {
  const h = ready();
  const r = h.write(S1, create("/t", { op: OpCode.createTTL, flags: 5, ttl: 500n }));
  assert.equal(r.err, Code.ok);
  const mtime = r.stat!.mtime;
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 500n), []);
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 501n), ["/t"]);
  h.write(S1, create("/t/kid"));
  assert.deepEqual(h.tree.expiredContainersAndTtls(mtime + 10_000n), []);
});

test("TTL creates are Unimplemented without extended types and BadArguments with a ttl out of range", () => {
  assert.equal(
    ready({ extendedTypesEnabled: false }).write(
      S1,
      create("/t", { op: OpCode.createTTL, flags: 5, ttl: 5n }),
    ).err,
    Code.unimplemented,
  );
  const h = ready();
  assert.equal(h.write(S1, create("/t", { op: OpCode.createTTL, flags: 5, ttl: 0n })).err, Code.badArguments);
  assert.equal(
    h.write(S1, create("/t", { op: OpCode.createTTL, flags: 5, ttl: 1n << 40n })).err,
    Code.badArguments,
  );
  assert.equal(h.write(S1, create("/t", { op: OpCode.createTTL, flags: 0, ttl: 5n })).err, Code.badArguments);
  assert.equal(h.write(S1, create("/t", { op: OpCode.create, flags: 5 })).err, Code.badArguments);
});

test("data over maxDataBytes is BadArguments for create and setData", () => {
  const h = ready({ maxDataBytes: 4 });
  assert.equal(h.write(S1, create("/big", { data: "12345" })).err, Code.badArguments);
  h.write(S1, create("/a", { data: "1234" }));
  assert.equal(h.write(S1, setData("/a", "12345")).err, Code.badArguments);
});

function cOp(path: string, flags = 0): MultiOp {
  return {
    type: "create",
    op: OpCode.create,
    req: { path, data: new Uint8Array(0), acl: open, flags, ttl: 0n },
  };
}

test("a successful multi applies every op under one zxid with one result each", () => {
  const h = ready();
  h.write(S1, create("/m"));
  const r = h.write(
    S1,
    multi([
      cOp("/m/a"),
      cOp("/m/a/b"),
      { type: "setData", op: OpCode.setData, req: { path: "/m/a", data: bytes("v"), version: 0 } },
      { type: "check", op: OpCode.check, req: { path: "/m/a", version: 1 } },
      { type: "delete", op: OpCode.delete, req: { path: "/m/a/b", version: -1 } },
    ]),
  );
  assert.equal(r.err, Code.ok);
  assert.deepEqual(
    r.multiResults!.map((x) => x.type),
    ["create", "create", "setData", "check", "delete"],
  );
  assert.equal(h.tree.statOf("/m/a")!.czxid, h.zxid);
  assert.equal(h.tree.statOf("/m/a")!.mzxid, h.zxid);
  const shaped = shapeMultiResults([cOp("/m/a")], r.multiResults!.slice(0, 1));
  assert.deepEqual(shaped, [{ type: "create", path: "/m/a", stat: null }]);
});

test("a failed multi reports Ok before the failing op, its code, then RuntimeInconsistency, and changes nothing", () => {
  const h = ready();
  h.write(S1, create("/m"));
  const before = h.tree.digest();
  const t = h.prepare(S1, multi([cOp("/m/a"), cOp("/m/a/b"), cOp("/nope/x"), cOp("/m/c")]));
  assert.equal(t.header.type, OpCode.multi);
  assert.ok(t.body.type === "multi");
  assert.deepEqual(
    t.body.txns.map((x) => x.type),
    ["create", "create", "error", "error"],
  );
  const r = h.apply(t);
  assert.equal(r.err, Code.noNode);
  assert.deepEqual(r.multiResults, [
    { type: "error", err: Code.ok },
    { type: "error", err: Code.ok },
    { type: "error", err: Code.noNode },
    { type: "error", err: Code.runtimeInconsistency },
  ]);
  assert.equal(h.tree.getNode("/m/a"), undefined);
  assert.notEqual(h.tree.digest(), before, "only lastProcessedZxid moved");
  assert.equal(h.tree.statOf("/m")!.cversion, 0);
});

test("a failed multi's prepared changes are rolled back, so the next sequential name is unchanged", () => {
  const h = ready();
  h.write(S1, create("/m"));
  const failed = h.prepare(S1, multi([cOp("/m/s", 2), cOp("/missing/x")]));
  const next = h.prepare(S1, create("/m/s", { flags: 2 }));
  assert.ok(next.body.type === "create");
  assert.equal(next.body.path, "/m/s0000000000");
  h.apply(failed);
  assert.equal(h.apply(next).path, "/m/s0000000000");
});

test("ops inside a multi see the pending state of the ops before them", () => {
  const h = ready();
  const r = h.write(
    S1,
    multi([cOp("/a"), { type: "delete", op: OpCode.delete, req: { path: "/a", version: 0 } }, cOp("/a")]),
  );
  assert.equal(r.err, Code.ok);
  assert.equal(h.tree.statOf("/")!.cversion, 2 * 2 - 2);
});

const alice: Id = { scheme: "digest", id: "alice:hashA" };
const aliceAll: ACL[] = [{ perms: Perms.ALL, id: alice }];

test("each write checks its permission: CREATE and DELETE on the parent, WRITE and ADMIN on the node", () => {
  const h = ready();
  h.write(S1, create("/p", { acl: [{ perms: Perms.READ, id: alice }] }), [alice]);
  assert.equal(h.write(S1, create("/p/c"), [alice]).err, Code.noAuth);
  assert.equal(h.write(S1, setData("/p", "x"), [alice]).err, Code.noAuth);
  assert.equal(h.write(S1, setACL("/p", open), [alice]).err, Code.noAuth);
  h.write(S1, create("/q", { acl: aliceAll }), [alice]);
  h.write(S1, create("/q/c"), [alice]);
  assert.equal(h.write(S2, del("/q/c")).err, Code.noAuth);
  assert.equal(h.write(S2, create("/q/d")).err, Code.noAuth);
  assert.equal(h.write(S1, del("/q/c"), [alice]).err, Code.ok);
  assert.equal(h.write(S2, setData("/q", "x"), [{ scheme: "super", id: "" }]).err, Code.ok);
});

test("a super digest configured on the preparer passes every ACL", () => {
  const h = ready({ superDigestId: "super:S" });
  h.write(S1, create("/locked", { acl: aliceAll }), [alice]);
  assert.equal(h.write(S2, setData("/locked", "x"), [{ scheme: "digest", id: "super:S" }]).err, Code.ok);
});

test("create with an auth ACL stores the creator's digest ids, InvalidACL for an unauthenticated session", () => {
  const h = ready();
  const auth: ACL[] = [{ perms: Perms.ALL, id: { scheme: "auth", id: "" } }];
  assert.equal(
    h.write(S1, create("/a", { acl: auth }), [{ scheme: "ip", id: "127.0.0.1" }]).err,
    Code.invalidACL,
  );
  assert.equal(h.write(S1, create("/a", { acl: auth }), [alice]).err, Code.ok);
  assert.deepEqual(h.tree.getACL("/a")!.acl, aliceAll);
  assert.equal(h.write(S1, setACL("/a", []), [alice]).err, Code.invalidACL);
});

test("reads check READ (getACL: READ or ADMIN) and register no watch when refused", () => {
  const h = ready();
  const bob: Id = { scheme: "digest", id: "bob:hashB" };
  h.write(
    S1,
    create("/r", {
      acl: [
        { perms: Perms.ADMIN, id: bob },
        { perms: Perms.READ, id: alice },
      ],
    }),
  );
  const anon = { sessionId: S2, authInfo: [] as Id[] };
  const r = (request: Request) => processRead(h.tree, anon, request, 7);
  assert.equal(r({ type: "getData", op: OpCode.getData, req: { path: "/r", watch: true } }).err, Code.noAuth);
  assert.equal(
    r({ type: "getChildren", op: OpCode.getChildren, req: { path: "/r", watch: true } }).err,
    Code.noAuth,
  );
  assert.equal(
    r({ type: "getAllChildrenNumber", op: OpCode.getAllChildrenNumber, req: { path: "/r" } }).err,
    Code.noAuth,
  );
  assert.equal(h.tree.watches.watchCount, 0);
  // As ZooKeeper 3.8.0: exists checks no ACL, and its watch is registered.
  assert.equal(r({ type: "exists", op: OpCode.exists, req: { path: "/r", watch: true } }).err, Code.ok);
  assert.equal(h.tree.watches.watchCount, 1);
  assert.equal(r({ type: "getACL", op: OpCode.getACL, req: { path: "/r" } }).err, Code.noAuth);
  const asBob = processRead(
    h.tree,
    { sessionId: S2, authInfo: [bob] },
    { type: "getACL", op: OpCode.getACL, req: { path: "/r" } },
    1,
  );
  assert.ok(asBob.response?.type === "getACL", "ADMIN is enough for getACL");
  assert.deepEqual(asBob.response.acl[1], { perms: Perms.READ, id: alice }, "ADMIN sees digests unmasked");
  const asAlice = processRead(
    h.tree,
    { sessionId: S1, authInfo: [alice] },
    { type: "getACL", op: OpCode.getACL, req: { path: "/r" } },
    1,
  );
  assert.ok(asAlice.response?.type === "getACL");
  assert.deepEqual(
    asAlice.response.acl,
    [
      { perms: Perms.ADMIN, id: { scheme: "digest", id: "bob:x" } },
      { perms: Perms.READ, id: { scheme: "digest", id: "alice:x" } },
    ],
    "READ without ADMIN: digests masked",
  );
  const multiRead = processRead(
    h.tree,
    anon,
    {
      type: "multi",
      op: OpCode.multiRead,
      ops: [
        { type: "getData", op: OpCode.getData, req: { path: "/r" } },
        { type: "getChildren", op: OpCode.getChildren, req: { path: "/" } },
        { type: "getData", op: OpCode.getData, req: { path: "/none" } },
      ],
    },
    7,
  );
  assert.ok(multiRead.response?.type === "multi");
  assert.deepEqual(multiRead.response.results, [
    { type: "error", err: Code.noAuth },
    { type: "getChildren", children: ["r", "zookeeper"] },
    { type: "error", err: Code.noNode },
  ]);
});

test("getEphemerals, getAllChildrenNumber, whoAmI and getChildren2 answer from the tree", () => {
  const h = ready();
  h.write(S1, create("/a"));
  h.write(S1, create("/a/b", { flags: 1 }));
  h.write(S1, create("/a/b2"));
  h.write(S1, create("/a/b2/c"));
  const auth = { sessionId: S1, authInfo: [alice] };
  const eph = processRead(
    h.tree,
    auth,
    { type: "getEphemerals", op: OpCode.getEphemerals, req: { path: "/a/" } },
    1,
  );
  assert.deepEqual(eph.response, { type: "getEphemerals", ephemerals: ["/a/b"] });
  const n = processRead(
    h.tree,
    auth,
    { type: "getAllChildrenNumber", op: OpCode.getAllChildrenNumber, req: { path: "/a" } },
    1,
  );
  assert.deepEqual(n.response, { type: "getAllChildrenNumber", totalNumber: 3 });
  const who = processRead(h.tree, auth, { type: "whoAmI", op: OpCode.whoAmI }, 1);
  assert.deepEqual(who.response, { type: "whoAmI", clientInfo: [{ authScheme: "digest", user: "alice" }] });
  const c2 = processRead(
    h.tree,
    auth,
    { type: "getChildren", op: OpCode.getChildren2, req: { path: "/a", watch: false } },
    1,
  );
  assert.ok(c2.response?.type === "getChildren2");
  assert.deepEqual(c2.response.children, ["b", "b2"]);
  assert.equal(c2.response.stat.numChildren, 2);
  const ex = processRead(
    h.tree,
    auth,
    { type: "exists", op: OpCode.exists, req: { path: "/none", watch: false } },
    1,
  );
  assert.equal(ex.err, Code.noNode);
});

test("applying the same txns to two trees gives equal trees, and a snapshot restores an equal tree", () => {
  const h = ready();
  const log: Txn[] = [];
  const run = (s: bigint, r: Request, a: Id[] = []): void => {
    const t = h.prepare(s, r, a);
    log.push(t);
    h.apply(t);
  };
  run(S1, create("/a", { data: "1" }));
  run(S1, create("/a/s-", { flags: 2 }));
  run(S2, create("/a/e", { flags: 1 }));
  run(S1, setData("/a", "22"));
  run(S1, create("/c", { op: OpCode.createContainer, flags: 4 }));
  run(S1, create("/t", { op: OpCode.createTTL, flags: 5, ttl: 99n }));
  run(S1, setACL("/a", aliceAll));
  run(S1, multi([cOp("/m"), cOp("/m/x")]));
  run(S1, multi([cOp("/m2"), cOp("/zz/x")]));
  run(S2, { type: "closeSession", op: OpCode.closeSession });

  const replica = new DataTree();
  replica.apply({
    header: { clientId: S1, cxid: 0, zxid: 1n, time: 1_000n, type: OpCode.createSession },
    body: { type: "createSession", timeOut: 30_000, passwd: new Uint8Array(16) },
  });
  replica.apply({
    header: { clientId: S2, cxid: 0, zxid: 2n, time: 1_000n, type: OpCode.createSession },
    body: { type: "createSession", timeOut: 30_000, passwd: new Uint8Array(16) },
  });
  for (const t of log) replica.apply(t);
  assert.ok(replica.equals(h.tree));
  assert.equal(replica.digest(), h.tree.digest());

  const restored = DataTree.restore({
    lastProcessedZxid: h.tree.lastProcessedZxid,
    sessions: [...h.tree.sessions],
    nodes: [...h.tree.nodes()].map(([p, n]) => [p, { data: n.data, acl: n.acl, stat: n.stat }] as const),
  });
  assert.equal(restored.digest(), h.tree.digest());
  assert.deepEqual([...restored.ttls], ["/t"]);
  assert.deepEqual([...restored.containers], ["/c"]);

  replica.apply(log[0]!); // a replayed create must not change the tree's nodes
  assert.equal(replica.getNode("/a")!.data!.length, 2);
});

test("nodes() lists parents before children", () => {
  const h = ready();
  h.write(S1, create("/b"));
  h.write(S1, create("/a"));
  h.write(S1, create("/a/z"));
  const paths = [...h.tree.nodes()].map(([p]) => p);
  assert.deepEqual(paths, ["/", "/a", "/a/z", "/b", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]);
});

test("getChildren of a large node follows every create and delete (the sorted list is reused only while unchanged)", () => {
  const h = ready();
  h.write(S1, create("/big"));
  const names = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, "0")}`);
  for (const n of names) assert.equal(h.write(S1, create(`/big/${n}`)).err, Code.ok);
  const first = h.tree.getChildren("/big")!.children;
  assert.deepEqual(first, names);
  assert.equal(h.tree.getChildren("/big")!.children, first, "unchanged: the same sorted list");
  h.write(S1, del("/big/c07"));
  assert.deepEqual(
    h.tree.getChildren("/big")!.children,
    names.filter((n) => n !== "c07"),
  );
  // A delete and a create in a row keep the count: the list must still change.
  h.write(S1, del("/big/c08"));
  h.write(S1, create("/big/c99"));
  const expected = names.filter((n) => n !== "c07" && n !== "c08").concat("c99");
  assert.deepEqual(h.tree.getChildren("/big")!.children, expected);
});
