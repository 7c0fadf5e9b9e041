// A tree survives a snapshot round trip exactly: same digest, null data still null, kinds and sessions kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataTree } from "../../src/tree/data-tree.js";
import {
  PayloadWriter,
  serializeTree,
  deserializeTree,
  streamTree,
} from "../../src/storage/tree-snapshot.js";
import type { SnapshotView } from "../../src/tree/snapshot-view.js";
import { CorruptLogError } from "../../src/base/errors.js";
import type { Txn, TxnBody } from "../../src/protocol/types.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { concatBytes } from "../helpers/bytes.js";

const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
let zxid = 0n;
function txn(body: TxnBody, type: number, clientId = 0n): Txn {
  zxid++;
  return { header: { clientId, cxid: 0, zxid, time: 1000n + zxid, type }, body };
}
const create = (
  path: string,
  data: Uint8Array | null,
  kind: "persistent" | "ephemeral" | "container",
  owner = 0n,
) =>
  txn(
    {
      type: "create",
      path,
      data,
      acl,
      ephemeralOwner: kind === "container" ? -(1n << 63n) : owner,
      parentCVersion: 0,
      kind,
      ttl: 0n,
    },
    kind === "container" ? OpCode.createContainer : OpCode.create,
    owner,
  );

test("a snapshot round trip keeps the tree's digest, null data, node kinds and sessions", () => {
  const tree = new DataTree();
  tree.apply(
    txn(
      { type: "createSession", timeOut: 5000, passwd: new Uint8Array(16).fill(3) },
      OpCode.createSession,
      7n,
    ),
  );
  tree.apply(create("/null", null, "persistent"));
  tree.apply(create("/empty", new Uint8Array(0), "persistent"));
  tree.apply(create("/box", new Uint8Array([1]), "container"));
  tree.apply(create("/eph", new Uint8Array([2, 3]), "ephemeral", 7n));
  const copy = deserializeTree(concatBytes(serializeTree(tree)), "snap");
  assert.equal(copy.digest(), tree.digest());
  assert.equal(copy.getData("/null")!.data, null);
  assert.deepEqual(copy.getData("/empty")!.data, new Uint8Array(0));
  assert.deepEqual([...copy.containers], ["/box"]);
  assert.deepEqual(copy.getEphemerals(7n), ["/eph"]);
  assert.deepEqual(copy.sessions.get(7n), { timeOut: 5000, passwd: new Uint8Array(16).fill(3) });
  assert.equal(copy.lastProcessedZxid, tree.lastProcessedZxid);
});

test("a snapshot payload cut short is corruption naming the file", () => {
  const tree = new DataTree();
  tree.apply(create("/a", new Uint8Array([1]), "persistent"));
  const bytes = concatBytes(serializeTree(tree));
  assert.throws(
    () => deserializeTree(bytes.subarray(0, bytes.length - 3), "snapshot.5"),
    (e: unknown) => e instanceof CorruptLogError && e.file === "snapshot.5",
  );
});

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const otherAcl = [{ perms: 1, id: { scheme: "world", id: "anyone" } }];

/** One random txn on `tree`: create under a random node, delete a leaf, setData, setACL, or a session's end. */
function randomTxn(tree: DataTree, paths: string[], next: () => number): Txn {
  const pick = (): string => paths[Math.floor(next() * paths.length)]!;
  const r = next();
  if (r < 0.35 || paths.length < 10) {
    let parent = pick();
    if (tree.getNode(parent)?.kind === "ephemeral") parent = "/"; // apply trusts prepare to refuse those
    const path = `${parent === "/" ? "" : parent}/n${zxid}`;
    const owner = next() < 0.2 ? 7n + BigInt(Math.floor(next() * 3)) : 0n;
    const t = create(
      path,
      new Uint8Array([Number(zxid & 0xffn)]),
      owner === 0n ? "persistent" : "ephemeral",
      owner,
    );
    paths.push(path);
    return t;
  }
  if (r < 0.55) {
    // Only leaves (apply trusts prepare to have refused the rest).
    const path = pick();
    if (path !== "/" && tree.getNode(path)?.children.size === 0) {
      paths.splice(paths.indexOf(path), 1);
      return txn({ type: "delete", path }, OpCode.delete);
    }
  }
  if (r < 0.8)
    return txn(
      { type: "setData", path: pick(), data: new Uint8Array([1, 2, Number(zxid & 0xffn)]), version: 1 },
      OpCode.setData,
    );
  if (r < 0.95)
    return txn(
      { type: "setACL", path: pick(), acl: next() < 0.5 ? otherAcl : acl, version: 2 },
      OpCode.setACL,
    );
  const session = 7n + BigInt(Math.floor(next() * 3));
  const gone = tree.getEphemerals(session);
  for (const p of gone) if (paths.includes(p)) paths.splice(paths.indexOf(p), 1);
  return txn({ type: "closeSession", paths2Delete: gone }, OpCode.closeSession, session);
}

test("a snapshot taken from a view while txns apply is exactly the tree when the view opened", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const next = rng(seed);
    const tree = new DataTree();
    const paths = ["/"];
    for (const s of [7n, 8n, 9n])
      tree.apply(
        txn({ type: "createSession", timeOut: 4000, passwd: new Uint8Array(16) }, OpCode.createSession, s),
      );
    for (let i = 0; i < 400; i++) tree.apply(randomTxn(tree, paths, next));
    const expected = tree.digest();
    const zxidAtOpen = tree.lastProcessedZxid;
    const view = tree.openSnapshotView();
    const visited: string[] = [];
    const chunks = serializeFromView(
      view,
      (p) => visited.push(p),
      () => {
        for (let k = Math.floor(next() * 6); k > 0; k--) tree.apply(randomTxn(tree, paths, next));
      },
    );
    view.close();
    assert.notEqual(tree.digest(), expected, `seed ${seed}: txns applied while the view was open`);
    assert.equal(new Set(visited).size, visited.length, `seed ${seed}: no node twice`);
    const copy = deserializeTree(concatBytes(chunks), "snap");
    assert.equal(copy.lastProcessedZxid, zxidAtOpen);
    assert.equal(copy.digest(), expected, `seed ${seed}: the state when the view opened`);
  }
});

test("a view keeps a node's pre-image when it changes before being handed out, and a reader takes it before its parent", () => {
  const tree = new DataTree();
  tree.apply(create("/a", new Uint8Array([1]), "persistent"));
  tree.apply(create("/a/b", new Uint8Array([2]), "persistent"));
  tree.apply(create("/a/b/c", new Uint8Array([3]), "persistent"));
  const expected = tree.digest();
  const view = tree.openSnapshotView();
  tree.apply(txn({ type: "setData", path: "/a/b/c", data: new Uint8Array([9]), version: 1 }, OpCode.setData));
  tree.apply(create("/a/new", null, "persistent"));
  const order: string[] = [];
  const chunks = serializeFromView(
    view,
    (p) => order.push(p),
    () => undefined,
  );
  view.close();
  assert.ok(order.indexOf("/a/b/c") < order.indexOf("/a/b"), order.join());
  assert.ok(!order.includes("/a/new"));
  assert.equal(deserializeTree(concatBytes(chunks), "snap").digest(), expected);
  // After close the tree keeps no pre-images and a new view can open.
  tree.openSnapshotView().close();
});

test("payloads of versions 2 (parent first) still load", () => {
  const tree = new DataTree();
  tree.apply(create("/a", new Uint8Array([1]), "persistent"));
  const bytes = concatBytes(serializeTree(tree));
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(0, 2);
  assert.equal(deserializeTree(bytes, "snap").digest(), tree.digest());
});

/** streamTree's loop, by hand: a few nodes at a time, `between` runs between two slices. */
function serializeFromView(
  view: SnapshotView,
  seen: (path: string) => void,
  between: () => void,
): Uint8Array[] {
  const out = new PayloadWriter(view.head);
  while (
    !view.next(7, (path, data, acl, stat) => {
      seen(path);
      out.visit(path, data, acl, stat);
    })
  )
    between();
  return out.finish();
}

test("streamTree hands out chunks of one reused buffer while the tree changes, and they add up to the tree when opened", async () => {
  const tree = new DataTree();
  tree.apply(create("/s", null, "persistent"));
  for (let i = 0; i < 40_000; i++)
    tree.apply(create(`/s/node-${i}`, new Uint8Array(40).fill(i & 0xff), "persistent"));
  const expected = tree.digest();
  const copies: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  let changes = 0;
  for await (const chunk of streamTree(tree.openSnapshotView())) {
    copies.push(chunk.slice());
    buffers.add(chunk.buffer);
    // Between chunks, change nodes the stream may not have reached yet.
    for (let k = 0; k < 500; k++, changes++) {
      const path = `/s/node-${(changes * 7919) % 40_000}`;
      tree.apply(txn({ type: "setData", path, data: new Uint8Array([1]), version: 1 }, OpCode.setData));
    }
  }
  assert.ok(copies.length >= 3, `${copies.length} chunks`);
  assert.ok(buffers.size < copies.length, "the chunks share a buffer");
  assert.notEqual(tree.digest(), expected);
  assert.equal(deserializeTree(concatBytes(copies), "snap").digest(), expected);
  tree.openSnapshotView().close(); // the stream closed its view
});
