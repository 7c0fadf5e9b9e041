// Quotas in the tree: StatsTrack's text, the quota trie, zookeeper_stats kept current by create/delete/setData
// (without touching the stats node's Stat), recounting after a snapshot, and the preparer's enforcement.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/protocol/error-codes.js";
import { OpCode, Perms } from "../../src/protocol/opcodes.js";
import type { ACL, MultiOp, OpResult, Request, Txn } from "../../src/protocol/types.js";
import { DataTree, type ApplyResult } from "../../src/tree/data-tree.js";
import { Preparer, type PreparerOptions } from "../../src/tree/prepare.js";
import {
  PathTrie,
  StatsTrack,
  checkQuota,
  quotaExceededMessage,
  type QuotaExceeded,
} from "../../src/tree/quota.js";

const open: ACL[] = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => new TextDecoder().decode(b ?? new Uint8Array());
const S = 0x100n;

class Harness {
  readonly tree = new DataTree();
  readonly prep: Preparer;
  readonly exceeded: QuotaExceeded[] = [];
  private zxid = 0n;
  constructor(opts: Partial<PreparerOptions> = {}) {
    this.prep = new Preparer(this.tree, {
      extendedTypesEnabled: false,
      maxDataBytes: 1024,
      onQuotaExceeded: (e) => this.exceeded.push(e),
      ...opts,
    });
    this.apply(
      this.prep.prepareCreateSession({
        sessionId: S,
        timeOut: 30_000,
        passwd: new Uint8Array(16),
        cxid: 0,
        zxid: ++this.zxid,
        time: 1n,
      }),
    );
  }
  prepare(request: Request): Txn {
    return this.prep.prepareWrite({
      sessionId: S,
      cxid: 1,
      request,
      authInfo: [],
      zxid: ++this.zxid,
      time: 2n,
    });
  }
  apply(txn: Txn): ApplyResult {
    const r = this.tree.apply(txn);
    this.prep.onApplied(txn);
    return r;
  }
  write(request: Request): ApplyResult {
    return this.apply(this.prepare(request));
  }
  ok(request: Request): ApplyResult {
    const r = this.write(request);
    assert.equal(r.err, Code.ok, `${request.type} failed with ${r.err}`);
    return r;
  }
  data(path: string): string {
    const d = this.tree.getData(path);
    assert.ok(d !== undefined, `${path} missing`);
    return text(d.data);
  }
  /** What SetQuotaCommand.createQuota does for a new quota: the quota path's parents, limits, then stats. */
  setQuota(path: string, limits: string): void {
    let p = "/zookeeper/quota";
    for (const part of path.split("/").slice(1)) {
      p += `/${part}`;
      if (this.tree.getNode(p) === undefined) this.ok(create(p));
    }
    this.ok(create(`${p}/zookeeper_limits`, limits));
    this.ok(create(`${p}/zookeeper_stats`, "count=0,bytes=0"));
  }
}

function create(path: string, data = ""): Request {
  return {
    type: "create",
    op: OpCode.create,
    req: { path, data: bytes(data), acl: open, flags: 0, ttl: 0n },
  };
}
const setData = (path: string, data: string): Request => ({
  type: "setData",
  op: OpCode.setData,
  req: { path, data: bytes(data), version: -1 },
});
const del = (path: string): Request => ({ type: "delete", op: OpCode.delete, req: { path, version: -1 } });
const multi = (ops: MultiOp[]): Request => ({ type: "multi", op: OpCode.multi, ops });
const createOp = (path: string, data = ""): MultiOp => create(path, data) as MultiOp;

test("StatsTrack writes count and bytes first, then the other keys sorted after an extra '='", () => {
  const t = new StatsTrack();
  t.count = -1n;
  t.bytes = -1n;
  t.countHardLimit = 3n;
  t.byteHardLimit = -1n;
  assert.equal(t.toString(), "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3");
  const plain = new StatsTrack();
  plain.count = 2n;
  plain.bytes = 10n;
  assert.equal(plain.toString(), "count=2,bytes=10");
  assert.equal(new StatsTrack().toString(), "count=-1,bytes=-1", "absent values read as -1");
});

test("StatsTrack reads its own text back, 3.4's form, and skips pairs ZooKeeper could not parse", () => {
  const t = new StatsTrack("count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3");
  assert.equal(t.countHardLimit, 3n);
  assert.equal(t.count, -1n);
  assert.equal(t.byteHardLimit, -1n);
  assert.equal(new StatsTrack("count=5,bytes=7").bytes, 7n);
  const odd = new StatsTrack("count=x,bytes==;junk;countHardLimit=9223372036854775807");
  assert.equal(odd.count, -1n, "not a long: skipped");
  assert.equal(odd.bytes, -1n, "empty value: -1");
  assert.equal(odd.countHardLimit, 9223372036854775807n, "a long's whole range");
  assert.equal(new StatsTrack("count=9223372036854775808").count, -1n, "past Long.MAX_VALUE: skipped");
});

test("the quota trie finds the deepest marked prefix and deletePath drops the whole trie subtree", () => {
  const trie = new PathTrie();
  assert.equal(trie.findMaxPrefix("/a/b"), "/");
  trie.addPath("/a");
  trie.addPath("/a/b/c");
  assert.equal(trie.findMaxPrefix("/a"), "/a");
  assert.equal(trie.findMaxPrefix("/a/b"), "/a");
  assert.equal(trie.findMaxPrefix("/a/b/c/d"), "/a/b/c");
  assert.equal(trie.findMaxPrefix("/ab"), "/");
  trie.deletePath("/a/b");
  assert.equal(trie.findMaxPrefix("/a/b/c/d"), "/a", "the nested quota went with its trie parent");
  trie.deletePath("/a");
  assert.ok(trie.empty);
});

test("creating zookeeper_stats counts the subtree, and creates, setData and deletes below keep it current", () => {
  const h = new Harness();
  h.ok(create("/app", "12345"));
  h.ok(create("/app/x", "ab"));
  h.setQuota("/app", "count=10,bytes=-1");
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=2,bytes=7");
  h.ok(create("/app/y", "abc"));
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=3,bytes=10");
  h.ok(setData("/app/x", "abcdef"));
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=3,bytes=14");
  h.ok(del("/app/y"));
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=2,bytes=11");
  h.ok(create("/other", "zzz"));
  h.ok(create("/apple", "zzz"));
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=2,bytes=11", "outside the subtree");
});

test("a stats update leaves the stats node's Stat alone, as ZooKeeper changes it without a txn", () => {
  const h = new Harness();
  h.ok(create("/app"));
  h.setQuota("/app", "count=10,bytes=-1");
  const before = h.tree.statOf("/zookeeper/quota/app/zookeeper_stats")!;
  const events = h.ok(create("/app/child", "xyz")).events;
  const after = h.tree.statOf("/zookeeper/quota/app/zookeeper_stats")!;
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=2,bytes=3");
  assert.equal(after.mzxid, before.mzxid);
  assert.equal(after.version, before.version);
  assert.equal(after.mtime, before.mtime);
  assert.equal(after.dataLength, "count=2,bytes=3".length, "dataLength follows the data");
  assert.ok(!events.some((e) => e.path.startsWith("/zookeeper")), "no watch fires on the stats node");
});

test("the create reply for zookeeper_stats carries the Stat of the data as sent, before the recount", () => {
  const h = new Harness();
  h.ok(create("/app", "0123456789"));
  h.ok(create("/zookeeper/quota/app"));
  h.ok(create("/zookeeper/quota/app/zookeeper_limits", "count=5,bytes=-1"));
  const r = h.ok(create("/zookeeper/quota/app/zookeeper_stats", "count=0,bytes=0"));
  assert.equal(r.stat!.dataLength, "count=0,bytes=0".length);
  assert.equal(h.data("/zookeeper/quota/app/zookeeper_stats"), "count=1,bytes=10");
});

test("deleting zookeeper_limits ends the accounting; only the deepest quota root is updated", () => {
  const h = new Harness();
  h.ok(create("/a"));
  h.ok(create("/a/b"));
  h.setQuota("/a", "count=10,bytes=-1");
  h.setQuota("/a/b", "count=10,bytes=-1");
  assert.equal(h.data("/zookeeper/quota/a/zookeeper_stats"), "count=2,bytes=0");
  assert.equal(h.data("/zookeeper/quota/a/b/zookeeper_stats"), "count=1,bytes=0");
  h.ok(create("/a/b/c"));
  assert.equal(h.data("/zookeeper/quota/a/b/zookeeper_stats"), "count=2,bytes=0");
  assert.equal(h.data("/zookeeper/quota/a/zookeeper_stats"), "count=2,bytes=0", "nested: only /a/b's");
  h.ok(del("/zookeeper/quota/a/zookeeper_limits"));
  h.ok(create("/a/d"));
  assert.equal(h.data("/zookeeper/quota/a/zookeeper_stats"), "count=2,bytes=0", "/a has no quota now");
  assert.equal(h.tree.quotas.maxPrefixWithQuota("/a/b/x"), undefined, "and /a/b's trie entry went with it");
});

test("a snapshot restore rebuilds the trie and recounts every quota's stats", () => {
  const h = new Harness();
  h.ok(create("/app", "xy"));
  h.setQuota("/app", "count=10,bytes=-1");
  h.ok(create("/app/c", "zz"));
  // Corrupt the stats as a client could (setData on the stats node); a restart recounts it.
  h.ok(setData("/zookeeper/quota/app/zookeeper_stats", "count=99,bytes=99"));
  const restored = DataTree.restore({
    lastProcessedZxid: h.tree.lastProcessedZxid,
    sessions: [],
    nodes: [...h.tree.nodes()].map(([p, n]) => [p, { data: n.data, acl: n.acl, stat: n.stat, kind: n.kind }]),
  });
  assert.equal(text(restored.getData("/zookeeper/quota/app/zookeeper_stats")!.data), "count=2,bytes=4");
  assert.equal(restored.quotas.maxPrefixWithQuota("/app/c/d"), "/app");
});

test("checkQuota reports count before bytes and prefers the hard limit when both are set", () => {
  const limits = new StatsTrack("count=2,bytes=5=;byteHardLimit=-1;countHardLimit=3");
  const stats = new StatsTrack("count=3,bytes=4");
  const r = checkQuota(limits, stats, "/q", 2n, 1n);
  assert.deepEqual(r, [
    { prefix: "/q", what: "count", current: 4n, limit: 3n, hard: true },
    { prefix: "/q", what: "bytes", current: 6n, limit: 5n, hard: false },
  ]);
  assert.equal(quotaExceededMessage(r[0]!), "Quota exceeded: /q [current count=4, hardCountLimit=3]");
  assert.equal(quotaExceededMessage(r[1]!), "Quota exceeded: /q [current bytes=6, softByteLimit=5]");
  assert.deepEqual(checkQuota(limits, stats, "/q", 0n, 0n), [], "no change, nothing to check");
});

test("with enforceQuota a hard count quota stops the N+1th create with QuotaExceeded", () => {
  const h = new Harness({ enforceQuota: true });
  h.ok(create("/q"));
  h.setQuota("/q", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3");
  h.ok(create("/q/1"));
  h.ok(create("/q/2"));
  const r = h.write(create("/q/3"));
  assert.equal(r.err, Code.quotaExceeded);
  assert.equal(h.tree.getNode("/q/3"), undefined);
  assert.equal(h.data("/zookeeper/quota/q/zookeeper_stats"), "count=3,bytes=0");
  assert.deepEqual(h.exceeded.at(-1), { prefix: "/q", what: "count", current: 4n, limit: 3n, hard: true });
  h.ok(create("/elsewhere"));
});

test("with enforceQuota a hard byte quota stops a setData that grows the subtree past it, not one that shrinks", () => {
  const h = new Harness({ enforceQuota: true });
  h.ok(create("/q", "12345"));
  h.setQuota("/q", "count=-1,bytes=-1=;byteHardLimit=8;countHardLimit=-1");
  h.ok(setData("/q", "12345678"));
  assert.equal(h.write(setData("/q", "123456789")).err, Code.quotaExceeded);
  assert.equal(h.data("/q"), "12345678");
  h.ok(setData("/q", "1"));
  assert.equal(h.write(create("/q/c", "12345678")).err, Code.quotaExceeded, "create counts its data too");
});

test("a soft quota is reported and the write goes through; without enforceQuota a hard one is only reported", () => {
  const soft = new Harness({ enforceQuota: true });
  soft.ok(create("/s"));
  soft.setQuota("/s", "count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
  soft.ok(create("/s/over"));
  assert.deepEqual(soft.exceeded, [{ prefix: "/s", what: "count", current: 2n, limit: 1n, hard: false }]);
  const lax = new Harness();
  lax.ok(create("/h"));
  lax.setQuota("/h", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=1");
  lax.ok(create("/h/over"));
  assert.equal(lax.exceeded.length, 1);
  assert.equal(lax.exceeded[0]!.hard, true);
});

test("in a multi the quota is checked per op against the applied tree, and a refused op fails the multi", () => {
  const h = new Harness({ enforceQuota: true });
  h.ok(create("/m"));
  h.setQuota("/m", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2");
  // ZooKeeper checks each op against committed stats (count=1), so two creates pass where the limit is 2.
  const r = h.write(multi([createOp("/m/a"), createOp("/m/b")]));
  assert.equal(r.err, Code.ok);
  assert.equal(h.data("/zookeeper/quota/m/zookeeper_stats"), "count=3,bytes=0");
  const refused = h.write(multi([createOp("/x"), createOp("/m/c")]));
  assert.deepEqual(
    refused.multiResults!.map((x: OpResult) => (x.type === "error" ? x.err : 0)),
    [Code.ok, Code.quotaExceeded],
  );
  assert.equal(h.tree.getNode("/x"), undefined, "the multi's other op did not happen");
});
