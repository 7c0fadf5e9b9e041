// A tree survives a snapshot round trip exactly: same digest, null data still null, kinds and sessions kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataTree } from "../../src/tree/data-tree.js";
import { serializeTree, deserializeTree } from "../../src/storage/tree-snapshot.js";
import { CorruptLogError } from "../../src/base/errors.js";
import type { Txn, TxnBody } from "../../src/protocol/types.js";
import { OpCode } from "../../src/protocol/opcodes.js";

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

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

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
  const copy = deserializeTree(concat(serializeTree(tree)), "snap");
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
  const bytes = concat(serializeTree(tree));
  assert.throws(
    () => deserializeTree(bytes.subarray(0, bytes.length - 3), "snapshot.5"),
    (e: unknown) => e instanceof CorruptLogError && e.file === "snapshot.5",
  );
});
