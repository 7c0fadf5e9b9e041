// The compact znode layout: data copied into shared arena chunks, a shared empty children set for leaves, the
// stat kept in the node's own fields, equal bigints shared; none of it visible in what the tree answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Perms } from "../../src/protocol/opcodes.js";
import type { ACL, Txn } from "../../src/protocol/types.js";
import { DataArena, arenaValueBytesMax } from "../../src/tree/data-arena.js";
import { DataNode, DataTree, createStat, snapshotMarkLimit } from "../../src/tree/data-tree.js";
import { deserializeTree, serializeTree } from "../../src/storage/tree-snapshot.js";
import { concatBytes } from "../helpers/bytes.js";

const open: ACL[] = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];

function create(zxid: bigint, path: string, data: Uint8Array | null, time = 1_000n): Txn {
  return {
    header: { clientId: 1n, cxid: 0, zxid, time, type: 1 },
    body: {
      type: "create",
      path,
      data,
      acl: open,
      ephemeralOwner: 0n,
      parentCVersion: -1,
      kind: "persistent",
      ttl: 0n,
    },
  };
}

test("the arena copies small values into one shared chunk and keeps nothing of the source buffer", () => {
  const arena = new DataArena();
  const source = new Uint8Array([1, 2, 3, 4, 5, 6]);
  const a = new DataNode(null, open, createStat(1n, 0n, 0n), "persistent");
  const b = new DataNode(null, open, createStat(2n, 0n, 0n), "persistent");
  arena.store(a, source.subarray(0, 3));
  arena.store(b, source.subarray(3));
  source.fill(0);
  assert.deepEqual(a.data, new Uint8Array([1, 2, 3]));
  assert.deepEqual(b.data, new Uint8Array([4, 5, 6]));
  assert.equal(a.data!.buffer, b.data!.buffer, "one chunk");
  assert.notEqual(a.data!.buffer, source.buffer);
  assert.equal(a.dataLength, 3);
});

test("the arena keeps null as null, shares one empty value, and gives a large value its own buffer", () => {
  const arena = new DataArena();
  const n = new DataNode(null, open, createStat(1n, 0n, 0n), "persistent");
  arena.store(n, null);
  assert.equal(n.data, null);
  assert.equal(n.dataLength, 0);
  arena.store(n, new Uint8Array(0));
  assert.deepEqual(n.data, new Uint8Array(0));
  const big = new Uint8Array(arenaValueBytesMax + 1).fill(7);
  arena.store(n, big);
  assert.equal(n.data, big, "a buffer of its own is kept, not copied");
  const view = new Uint8Array(2 * big.length).fill(9).subarray(big.length);
  arena.store(n, view);
  const copied = (n as DataNode).data!;
  assert.equal(copied.byteLength, copied.buffer.byteLength, "a large view is copied, not its whole buffer");
  assert.deepEqual(copied, view);
});

test("a leaf shares the empty children set until its first child, and gives it back at its last", () => {
  const t = new DataTree();
  t.apply(create(1n, "/a", null));
  t.apply(create(2n, "/b", null));
  const a = t.getNode("/a")!;
  assert.equal(a.children, t.getNode("/b")!.children);
  assert.equal(a.children.size, 0);
  t.apply(create(3n, "/a/x", null));
  assert.deepEqual([...a.children], ["x"]);
  assert.equal(t.getNode("/b")!.children.size, 0, "the shared set was not written to");
  t.apply({
    header: { clientId: 1n, cxid: 0, zxid: 4n, time: 2_000n, type: 2 },
    body: { type: "delete", path: "/a/x" },
  });
  assert.equal(a.children, t.getNode("/b")!.children);
  assert.equal(t.statOf("/a")!.numChildren, 0);
  assert.equal(t.statOf("/a")!.cversion, 2);
});

test("the stat is the node's own fields, and equal zxids and times share one bigint", () => {
  const t = new DataTree();
  t.apply(create(1n << 32n, "/a", new Uint8Array([1])));
  const n = t.getNode("/a")!;
  assert.equal(n.stat, n);
  assert.equal(n.mzxid, n.czxid);
  assert.equal(n.pzxid, n.czxid);
  const stat = t.statOf("/a")!;
  assert.equal(stat.czxid, 1n << 32n);
  assert.equal(stat.dataLength, 1);
  n.stat.version = 5;
  assert.equal(t.statOf("/a")!.version, 5);
});

test("a snapshot loads back to the same tree, data copied out of the payload", () => {
  const t = new DataTree();
  t.apply(create(1n, "/p", null, 10n));
  for (let i = 0; i < 50; i++) t.apply(create(BigInt(2 + i), `/p/c${i}`, new Uint8Array([i, i + 1]), 10n));
  t.apply(create(60n, "/p/big", new Uint8Array(arenaValueBytesMax + 10).fill(3), 11n));
  t.apply(create(61n, "/p/empty", new Uint8Array(0), 11n));
  t.lastProcessedZxid = 61n;
  const payload = concatBytes(serializeTree(t));
  const copy = deserializeTree(payload, "snap");
  payload.fill(0);
  assert.equal(copy.digest(), t.digest());
  assert.deepEqual(copy.getData("/p/c7")!.data, new Uint8Array([7, 8]));
  assert.equal(copy.getData("/p")!.data, null);
  const [a, b] = [copy.getNode("/p/c1")!, copy.getNode("/p/c2")!];
  assert.equal(a.ctime, b.ctime);
  assert.equal(a.mtime, a.ctime);
});

test("a node's kind and snapshot mark share one field without disturbing each other", () => {
  for (const kind of ["persistent", "ephemeral", "container", "ttl"] as const) {
    const n = new DataNode(null, open, createStat(1n, 0n, 0n), kind);
    assert.equal(n.snapshotMark, 0);
    for (const mark of [1, 2, 12345, snapshotMarkLimit - 1]) {
      n.snapshotMark = mark;
      assert.equal(n.snapshotMark, mark);
      assert.equal(n.kind, kind);
    }
  }
});

test("a slice of a chunk, a whole array and an empty slice all read back as stored", () => {
  const chunk = new Uint8Array(4096).map((_, i) => i & 0xff);
  const n = new DataNode(null, open, createStat(1n, 0n, 0n), "persistent");
  for (const [offset, length] of [
    [0, 10],
    [4000, 96],
    [4095, 1],
    [17, 0],
    [0, 4095],
  ] as const) {
    n.setDataSlice(chunk, offset, length);
    assert.deepEqual(n.data, chunk.subarray(offset, offset + length), `${offset}+${length}`);
    assert.equal(n.dataLength, length);
  }
  n.setDataSlice(chunk, 0, chunk.length);
  assert.equal(n.data, chunk, "the whole array is kept as it is");
  assert.equal(n.dataLength, 4096);
  const large = new Uint8Array(1 << 20);
  n.setDataSlice(large, 0, large.length);
  assert.equal(n.dataLength, large.length);
  assert.throws(() => n.setDataSlice(large, 1 << 19, 100), /data slice out of range/);
});

test("when snapshot marks run out they start over, and the next view still hands out every node", () => {
  const tree = new DataTree();
  for (let i = 0; i < 5; i++) tree.apply(create(BigInt(i + 1), `/n${i}`, new Uint8Array([i])));
  const count = (): number => {
    const view = tree.openSnapshotView();
    let n = 0;
    while (!view.next(100, () => n++));
    view.close();
    return n;
  };
  const all = count();
  assert.equal(all, 5 + 4, "five nodes, /, /zookeeper, its quota and config");
  (tree as unknown as { viewMarks: number }).viewMarks = snapshotMarkLimit - 1;
  assert.equal(count(), all, "the view whose mark wraps to 1 (the first view's)");
  assert.equal(count(), all);
});
