// The client's watch tables: which callbacks an event fires, one-shot removal, and the async-iterator stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WatchEventStream, WatchRegistry, type WatchEvent } from "../../src/client/watches.js";

const event = (type: WatchEvent["type"], path: string): WatchEvent => ({ type, path, zxid: -1n });

test("a one-shot data watch fires on change and then is gone", () => {
  const r = new WatchRegistry();
  const cb = (): void => {};
  r.addData("/a", cb);
  assert.deepEqual([...r.materialize("nodeDataChanged", "/a")], [cb]);
  assert.equal(r.materialize("nodeDataChanged", "/a").size, 0);
  assert.ok(r.isEmpty);
});

test("one callback armed by exists and getData on one path fires once per event", () => {
  const r = new WatchRegistry();
  const cb = (): void => {};
  r.addData("/a", cb);
  r.addExist("/a", cb);
  assert.equal(r.materialize("nodeDeleted", "/a").size, 1);
});

test("child events reach child watches, not data watches; deletion reaches both", () => {
  const r = new WatchRegistry();
  const data = (): void => {};
  const child = (): void => {};
  r.addData("/a", data);
  r.addChild("/a", child);
  assert.deepEqual([...r.materialize("nodeChildrenChanged", "/a")], [child]);
  r.addChild("/a", child);
  assert.deepEqual(new Set(r.materialize("nodeDeleted", "/a")), new Set([data, child]));
});

test("persistent watches stay; recursive ones cover the subtree but not child events", () => {
  const r = new WatchRegistry();
  const persistent = (): void => {};
  const recursive = (): void => {};
  r.addPersistent("/a", persistent, false);
  r.addPersistent("/", recursive, true);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(new Set(r.materialize("nodeDataChanged", "/a")), new Set([persistent, recursive]));
  }
  assert.deepEqual([...r.materialize("nodeChildrenChanged", "/a")], [persistent]);
  assert.deepEqual([...r.materialize("nodeCreated", "/a/b/c")], [recursive]);
  assert.deepEqual(r.lists(), {
    data: [],
    exist: [],
    child: [],
    persistent: ["/a"],
    persistentRecursive: ["/"],
  });
});

test("removing one callback leaves the others and reports the removal event", () => {
  const r = new WatchRegistry();
  const a = (): void => {};
  const b = (): void => {};
  r.addData("/x", a);
  r.addExist("/x", b);
  assert.ok(r.stillServed("/x", "data", a, "data"));
  assert.deepEqual(r.remove("/x", "data", a), [{ callback: a, type: "dataWatchRemoved" }]);
  assert.ok(!r.stillServed("/x", "data", b, "data"));
  assert.ok(r.has("/x", "data", b) && !r.has("/x", "data", a) && !r.has("/x", "children"));
  assert.deepEqual(r.remove("/x", "any"), [{ callback: b, type: "dataWatchRemoved" }]);
  assert.ok(r.isEmpty);
});

test("the server's watch stays while a persistent watch on the path still needs it", () => {
  const r = new WatchRegistry();
  const once = (): void => {};
  const persistent = (): void => {};
  r.addData("/p", once);
  r.addPersistent("/p", persistent, true);
  assert.ok(
    r.stillServed("/p", "data", undefined, "data"),
    "the recursive watch lives in the data table too",
  );
  assert.ok(r.stillServed("/p", "persistent-recursive", persistent, "any"), "the data watch needs Any");
  assert.ok(!r.stillServed("/p", "any", undefined, "any"));
  r.remove("/p", "data");
  assert.ok(!r.stillServed("/p", "persistent-recursive", persistent, "any"));
});

test("a watch stream yields buffered events in order, ends on close, and calls onStop once", async () => {
  let stops = 0;
  const s = new WatchEventStream(() => stops++);
  s.callback(event("nodeCreated", "/a"));
  s.callback(event("nodeDataChanged", "/a"));
  const waiting = s.next();
  assert.deepEqual((await waiting).value, event("nodeCreated", "/a"));
  assert.deepEqual((await s.next()).value, event("nodeDataChanged", "/a"));
  const pending = s.next();
  s.callback(event("nodeDeleted", "/a"));
  assert.deepEqual((await pending).value, event("nodeDeleted", "/a"));
  const seen: WatchEvent[] = [];
  s.callback(event("nodeCreated", "/a"));
  for await (const e of s) {
    seen.push(e);
    break;
  }
  assert.deepEqual(seen, [event("nodeCreated", "/a")]);
  assert.equal(stops, 1);
  assert.deepEqual(await s.next(), { value: undefined, done: true });
  s.close();
  assert.equal(stops, 1);
});

test("a watch stream ended with an error rejects its reader after the buffered events", async () => {
  const s = new WatchEventStream(() => {});
  s.callback(event("nodeCreated", "/a"));
  s.end(new Error("expired"));
  assert.equal((await s.next()).value?.type, "nodeCreated");
  await assert.rejects(s.next(), /expired/);
  assert.equal((await s.next()).done, true);
});
