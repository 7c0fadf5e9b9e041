// Watch semantics: firing order, one-shot vs persistent vs persistent-recursive, removal, setWatches, counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/protocol/error-codes.js";
import { AddWatchMode, EventType, OpCode, Perms, WatcherType } from "../../src/protocol/opcodes.js";
import type { ACL, Txn, TxnBody } from "../../src/protocol/types.js";
import { DataTree, type WatchDelivery } from "../../src/tree/data-tree.js";

const open: ACL[] = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];
let zxid = 0n;
function txn(body: TxnBody, type: number, clientId = 1n): Txn {
  return { header: { clientId, cxid: 0, zxid: ++zxid, time: 5n, type }, body };
}
function mk(t: DataTree, path: string, kind: "persistent" | "ephemeral" = "persistent"): WatchDelivery[] {
  const parent = t.getNode(path.substring(0, path.lastIndexOf("/")) || "/")!;
  return t.apply(
    txn(
      {
        type: "create",
        path,
        data: new Uint8Array(0),
        acl: open,
        ephemeralOwner: kind === "ephemeral" ? 1n : 0n,
        parentCVersion: parent.stat.cversion + 1,
        kind,
        ttl: 0n,
      },
      OpCode.create,
    ),
  ).events;
}
const rm = (t: DataTree, path: string): WatchDelivery[] =>
  t.apply(txn({ type: "delete", path }, OpCode.delete)).events;
const set = (t: DataTree, path: string): WatchDelivery[] =>
  t.apply(txn({ type: "setData", path, data: new Uint8Array(1), version: 1 }, OpCode.setData)).events;
const brief = (es: WatchDelivery[]): [number, number, string][] => es.map((e) => [e.watcher, e.type, e.path]);

test("a data watch fires once on setData and is gone afterwards", () => {
  const t = new DataTree();
  mk(t, "/a");
  t.getData("/a", 1);
  assert.deepEqual(brief(set(t, "/a")), [[1, EventType.nodeDataChanged, "/a"]]);
  assert.deepEqual(set(t, "/a"), []);
});

test("exists on a missing node registers a data watch that fires NodeCreated", () => {
  const t = new DataTree();
  assert.equal(t.exists("/new", 4), undefined);
  assert.deepEqual(brief(mk(t, "/new")), [[4, EventType.nodeCreated, "/new"]]);
});

test("getData on a missing node registers nothing", () => {
  const t = new DataTree();
  assert.equal(t.getData("/none", 4), undefined);
  assert.equal(t.watches.watchCount, 0);
});

test("create fires the node's data watchers, then the parent's child watchers", () => {
  const t = new DataTree();
  mk(t, "/p");
  t.exists("/p/c", 1);
  t.getChildren("/p", 2);
  const es = mk(t, "/p/c");
  assert.deepEqual(brief(es), [
    [1, EventType.nodeCreated, "/p/c"],
    [2, EventType.nodeChildrenChanged, "/p"],
  ]);
  assert.deepEqual(es[1]!.acl, open, "a child event carries the parent's ACL for delivery filtering");
});

test("delete fires NodeDeleted once per watcher across data and child watches, then the parent's child event", () => {
  const t = new DataTree();
  mk(t, "/p");
  mk(t, "/p/c");
  t.getData("/p/c", 1);
  t.getChildren("/p/c", 1);
  t.getChildren("/p/c", 2);
  t.getChildren("/p", 3);
  assert.deepEqual(brief(rm(t, "/p/c")), [
    [1, EventType.nodeDeleted, "/p/c"],
    [2, EventType.nodeDeleted, "/p/c"],
    [3, EventType.nodeChildrenChanged, "/p"],
  ]);
  assert.equal(t.watches.watchCount, 0, "the suppressed child watch of watcher 1 was consumed too");
});

test("a persistent watch stays after firing and sees data, child and delete events of its node only", () => {
  const t = new DataTree();
  mk(t, "/p");
  assert.equal(t.addWatch("/p", 9, AddWatchMode.persistent), Code.ok);
  assert.deepEqual(brief(set(t, "/p")), [[9, EventType.nodeDataChanged, "/p"]]);
  assert.deepEqual(brief(mk(t, "/p/c")), [[9, EventType.nodeChildrenChanged, "/p"]]);
  assert.deepEqual(brief(set(t, "/p/c")), []);
  assert.deepEqual(brief(rm(t, "/p/c")), [[9, EventType.nodeChildrenChanged, "/p"]]);
  assert.deepEqual(brief(rm(t, "/p")), [[9, EventType.nodeDeleted, "/p"]]);
  assert.deepEqual(brief(mk(t, "/p")), [[9, EventType.nodeCreated, "/p"]]);
});

test("a persistent recursive watch covers the subtree for data, created and deleted, never child events", () => {
  const t = new DataTree();
  mk(t, "/r");
  t.addWatch("/r", 5, AddWatchMode.persistentRecursive);
  assert.deepEqual(brief(mk(t, "/r/a")), [[5, EventType.nodeCreated, "/r/a"]]);
  assert.deepEqual(brief(mk(t, "/r/a/b")), [[5, EventType.nodeCreated, "/r/a/b"]]);
  assert.deepEqual(brief(set(t, "/r/a/b")), [[5, EventType.nodeDataChanged, "/r/a/b"]]);
  assert.deepEqual(brief(rm(t, "/r/a/b")), [[5, EventType.nodeDeleted, "/r/a/b"]]);
  assert.deepEqual(brief(set(t, "/r")), [[5, EventType.nodeDataChanged, "/r"]]);
  assert.deepEqual(brief(mk(t, "/other")), []);
  assert.equal(t.watches.check("/r/a", WatcherType.data, 5), Code.ok, "covered by the recursive watch");
});

test("watchers are told once per trigger even when several of their watches match", () => {
  const t = new DataTree();
  mk(t, "/a");
  t.addWatch("/", 1, AddWatchMode.persistentRecursive);
  t.addWatch("/a", 1, AddWatchMode.persistentRecursive);
  t.getData("/a", 2);
  assert.deepEqual(brief(set(t, "/a")), [
    [1, EventType.nodeDataChanged, "/a"],
    [2, EventType.nodeDataChanged, "/a"],
  ]);
});

test("closing a connection removes all its watches", () => {
  const t = new DataTree();
  mk(t, "/a");
  t.getData("/a", 1);
  t.getChildren("/a", 1);
  t.addWatch("/a", 1, AddWatchMode.persistentRecursive);
  t.getData("/a", 2);
  t.watches.removeWatcher(1);
  assert.deepEqual(brief(set(t, "/a")), [[2, EventType.nodeDataChanged, "/a"]]);
  assert.equal(t.watches.watchCount, 0);
});

test("checkWatches and removeWatches answer NoWatcher when this connection has no such watch", () => {
  const t = new DataTree();
  mk(t, "/a");
  t.getData("/a", 1);
  assert.equal(t.watches.check("/a", WatcherType.data, 1), Code.ok);
  assert.equal(t.watches.check("/a", WatcherType.children, 1), Code.noWatcher);
  assert.equal(t.watches.check("/a", WatcherType.data, 2), Code.noWatcher);
  assert.equal(t.watches.check("/a", WatcherType.any, 1), Code.ok);
  assert.equal(t.watches.remove("/a", WatcherType.children, 1), Code.noWatcher);
  assert.equal(t.watches.remove("/a", WatcherType.any, 1), Code.ok);
  assert.equal(t.watches.remove("/a", WatcherType.data, 1), Code.noWatcher);
  assert.equal(t.watches.remove("/a", 7, 1), Code.marshallingError);
  assert.deepEqual(set(t, "/a"), []);
});

test("setWatches reports what changed since the client's zxid and re-arms the rest", () => {
  const t = new DataTree();
  mk(t, "/old");
  const seen = zxid;
  mk(t, "/new");
  mk(t, "/old/kid");
  const es = t.setWatches(
    {
      relativeZxid: seen,
      dataWatches: ["/old", "/gone"],
      existWatches: ["/new", "/later"],
      childWatches: ["/old", "/new"],
      persistentWatches: [],
      persistentRecursiveWatches: ["/x"],
    },
    3,
  );
  assert.deepEqual(brief(es), [
    [3, EventType.nodeDeleted, "/gone"],
    [3, EventType.nodeCreated, "/new"],
    [3, EventType.nodeChildrenChanged, "/old"],
    [3, EventType.nodeChildrenChanged, "/new"], // a node's pzxid starts at its czxid
  ]);
  assert.deepEqual(brief(set(t, "/old")), [[3, EventType.nodeDataChanged, "/old"]]);
  assert.deepEqual(brief(mk(t, "/later")), [[3, EventType.nodeCreated, "/later"]]);
  assert.deepEqual(brief(mk(t, "/new/k")), []);
  assert.deepEqual(brief(mk(t, "/x")), [[3, EventType.nodeCreated, "/x"]]);
  assert.deepEqual(brief(mk(t, "/x/k")), [[3, EventType.nodeCreated, "/x/k"]]);
});

test("the watch summary counts the data table as wchs does, and watchCount both tables", () => {
  const t = new DataTree();
  mk(t, "/a");
  t.getData("/a", 1);
  t.exists("/b", 1);
  t.getData("/a", 2);
  t.getChildren("/a", 2);
  assert.deepEqual(t.watches.summary(), { connections: 2, paths: 2, watches: 3 });
  assert.equal(t.watches.watchCount, 4);
});

test("closeSession fires the watches on each ephemeral it deletes", () => {
  const t = new DataTree();
  t.apply(txn({ type: "createSession", timeOut: 10, passwd: new Uint8Array(16) }, OpCode.createSession, 1n));
  mk(t, "/e", "ephemeral");
  t.getData("/e", 8);
  t.getChildren("/", 9);
  const r = t.apply(txn({ type: "closeSession", paths2Delete: ["/e"] }, OpCode.closeSession, 1n));
  assert.deepEqual(brief(r.events), [
    [8, EventType.nodeDeleted, "/e"],
    [9, EventType.nodeChildrenChanged, "/"],
  ]);
});
