// A snapshot file decoded into a tree as it is read, a window at a time: the same tree as a whole-file read,
// for any window size; a bad CRC passes the file over, a payload that does not decode names file and offset.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CorruptLogError } from "../../src/base/errors.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import type { Txn, TxnBody } from "../../src/protocol/types.js";
import { recoverTree } from "../../src/storage/recovery.js";
import { snapshotHeaderBytes } from "../../src/storage/format.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";
import { loadTreeSnapshot, serializeTree, streamTree } from "../../src/storage/tree-snapshot.js";
import { DataTree } from "../../src/tree/data-tree.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-snapload-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const acl = [{ perms: 31, id: { scheme: "digest", id: "user:aGFzaA==" } }];
let zxid = 0n;
function txn(body: TxnBody, type: number, clientId = 0n): Txn {
  zxid++;
  return { header: { clientId, cxid: 0, zxid, time: 1000n + (zxid >> 2n), type }, body };
}

function create(path: string, data: Uint8Array | null, owner = 0n): Txn {
  const body: TxnBody = {
    type: "create",
    path,
    data,
    acl,
    ephemeralOwner: owner,
    parentCVersion: 0,
    kind: owner === 0n ? "persistent" : "ephemeral",
    ttl: 0n,
  };
  return txn(body, OpCode.create, owner);
}

/** Sessions with passwords, null, empty and large data (larger than a small window), nested paths. */
function sampleTree(): DataTree {
  const tree = new DataTree();
  for (const id of [7n, 8n]) {
    const passwd = new Uint8Array(16).fill(Number(id));
    tree.apply(txn({ type: "createSession", timeOut: 5000 + Number(id), passwd }, OpCode.createSession, id));
  }
  tree.apply(create("/null", null));
  tree.apply(create("/empty", new Uint8Array(0)));
  for (let i = 0; i < 60; i++) {
    const data = new Uint8Array((i * 97) % 700).map((_, j) => (i * 31 + j) & 0xff);
    tree.apply(create(`/n${i}`, data, i % 5 === 0 ? 7n : 0n));
    if (i % 5 !== 0) tree.apply(create(`/n${i}/child-${"x".repeat(i)}`, new Uint8Array([i])));
  }
  return tree;
}

test("a snapshot read a window at a time gives the tree it was taken from, for any window size", async (t) => {
  const dir = await tempDir(t);
  const tree = sampleTree();
  const file = await writeSnapshot(dir, tree.lastProcessedZxid, serializeTree(tree));
  for (const window of [1, 7, 64, 100, 1000, undefined]) {
    const loaded = await loadTreeSnapshot(file, tree.lastProcessedZxid, window);
    assert.ok(loaded.ok, `window ${window}`);
    assert.equal(loaded.tree.digest(), tree.digest(), `window ${window}`);
    assert.deepEqual(loaded.tree.sessions.get(7n)?.passwd, new Uint8Array(16).fill(7), `window ${window}`);
  }
});

test("nodes written before their parent (a view's pre-images) load the same through a small window", async (t) => {
  const dir = await tempDir(t);
  const tree = sampleTree();
  const expected = tree.digest();
  const view = tree.openSnapshotView();
  // Changed while the view is open: the view hands these out first, ahead of their parents.
  for (let i = 1; i < 60; i++) {
    const path = `/n${i}/child-${"x".repeat(i)}`;
    if (i % 5 !== 0)
      tree.apply(txn({ type: "setData", path, data: new Uint8Array(300), version: 1 }, OpCode.setData));
  }
  const chunks: Uint8Array[] = [];
  for await (const c of streamTree(view)) chunks.push(c.slice());
  view.close();
  const file = await writeSnapshot(dir, view.head.zxid, chunks);
  const loaded = await loadTreeSnapshot(file, view.head.zxid, 16);
  assert.ok(loaded.ok);
  assert.equal(loaded.tree.digest(), expected);
});

test("recoverTree passes over a snapshot whose CRC fails and loads the one before", async (t) => {
  const dir = await tempDir(t);
  const tree = sampleTree();
  await writeSnapshot(dir, 5n, serializeTree(new DataTree()));
  const newest = await writeSnapshot(dir, tree.lastProcessedZxid, serializeTree(tree));
  const fh = await open(newest, "r+");
  await fh.write(new Uint8Array([0xee]), 0, 1, snapshotHeaderBytes + 200); // inside some node's data
  await fh.close();
  const r = await recoverTree(dir, dir);
  assert.equal(r.snapshot?.zxid, 5n);
  assert.deepEqual(r.skippedSnapshots, [{ file: newest, why: "CRC mismatch" }]);
});

test("a snapshot whose CRC matches but whose payload does not decode is corruption at its offset in the file", async (t) => {
  const dir = await tempDir(t);
  const tree = new DataTree();
  tree.apply(create("/a", new Uint8Array([1])));
  const payload = Buffer.concat(serializeTree(tree));
  // The payload's first field is its version: one no reader knows, under a CRC computed over it.
  payload.writeInt32BE(99, 0);
  const file = await writeSnapshot(dir, tree.lastProcessedZxid, [payload]);
  await assert.rejects(loadTreeSnapshot(file, tree.lastProcessedZxid, 8), (e: unknown) => {
    assert.ok(e instanceof CorruptLogError);
    assert.equal(e.file, file);
    assert.equal(e.offset, snapshotHeaderBytes + 4);
    assert.match(e.message, /unknown snapshot payload version 99/);
    return true;
  });
});
