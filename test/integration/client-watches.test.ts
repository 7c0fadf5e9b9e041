// ZooKeeperClient watches against a real server: one-shot ones fire once, persistent ones keep firing, recursive ones cover a subtree.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { NoWatcherError, ZooKeeperClient, type WatchEvent } from "../../src/client/index.js";
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

async function connect(): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(server!.connectString, { sessionTimeoutMs: 10_000 });
  clients.push(zk);
  return zk;
}

/** A callback that records its events, with a condition to wait on. */
function recorder(): {
  events: WatchEvent[];
  callback: (e: WatchEvent) => void;
  count(n: number): Promise<void>;
} {
  const events: WatchEvent[] = [];
  return {
    events,
    callback: (e) => events.push(e),
    count: (n) => waitFor(() => events.length >= n, { message: `${n} watch events (have ${events.length})` }),
  };
}

const brief = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.path}`);

test("a one-shot data watch fires once, for the first change only", { skip }, async () => {
  const zk = await connect();
  await zk.create("/once", "0");
  const r = recorder();
  await zk.getData("/once", { watch: r.callback });
  await zk.setData("/once", "1");
  await zk.setData("/once", "2");
  await r.count(1);
  // Events come before the replies that follow them: after this round trip nothing more is on its way.
  await zk.getData("/once");
  assert.deepEqual(brief(r.events), ["nodeDataChanged /once"]);
});

test(
  "an exists watch on a missing node fires on its creation; a child watch on a new child",
  { skip },
  async () => {
    const zk = await connect();
    const other = await connect();
    const created = recorder();
    assert.equal(await zk.exists("/later", { watch: created.callback }), null);
    await other.create("/later");
    await created.count(1);
    assert.deepEqual(brief(created.events), ["nodeCreated /later"]);

    const children = recorder();
    assert.deepEqual(await zk.getChildren("/later", { watch: children.callback }), []);
    await other.create("/later/kid");
    await children.count(1);
    const deleted = recorder();
    await zk.exists("/later/kid", { watch: deleted.callback });
    await other.delete("/later/kid");
    await deleted.count(1);
    await zk.sync("/");
    assert.deepEqual(brief(children.events), ["nodeChildrenChanged /later"]);
    assert.deepEqual(brief(deleted.events), ["nodeDeleted /later/kid"]);
  },
);

test("a persistent watch keeps firing, for data and child changes of its node only", { skip }, async () => {
  const zk = await connect();
  await zk.create("/pw", "0");
  const r = recorder();
  await zk.addWatch("/pw", r.callback);
  await zk.setData("/pw", "1");
  await zk.setData("/pw", "2");
  await zk.create("/pw/c");
  await zk.setData("/pw/c", "not watched");
  await zk.delete("/pw/c");
  await zk.delete("/pw");
  await r.count(5);
  await zk.getData("/");
  assert.deepEqual(brief(r.events), [
    "nodeDataChanged /pw",
    "nodeDataChanged /pw",
    "nodeChildrenChanged /pw",
    "nodeChildrenChanged /pw",
    "nodeDeleted /pw",
  ]);
  await zk.create("/pw");
  await r.count(6);
  assert.equal(r.events[5]!.type, "nodeCreated");
  await zk.removeWatches("/pw", "persistent");
  assert.equal(r.events[6]?.type, "persistentWatchRemoved");
  await zk.setData("/pw", "after");
  await zk.getData("/pw");
  assert.equal(r.events.length, 7);
});

test("a recursive watch covers the subtree without child events", { skip }, async () => {
  const zk = await connect();
  await zk.create("/rw");
  const r = recorder();
  await zk.addWatch("/rw", r.callback, { recursive: true });
  await zk.create("/rw/a");
  await zk.create("/rw/a/b", "x");
  await zk.setData("/rw/a/b", "y");
  await zk.delete("/rw/a/b");
  await zk.setData("/rw", "z");
  await r.count(5);
  await zk.getData("/");
  assert.deepEqual(brief(r.events), [
    "nodeCreated /rw/a",
    "nodeCreated /rw/a/b",
    "nodeDataChanged /rw/a/b",
    "nodeDeleted /rw/a/b",
    "nodeDataChanged /rw",
  ]);
});

test(
  "the async-iterator form yields events until the loop leaves, which removes the watch",
  { skip },
  async () => {
    const zk = await connect();
    await zk.create("/it");
    const stream = await zk.watchEvents("/it", { recursive: true });
    await zk.checkWatches("/it", "persistent-recursive");
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of stream) {
        seen.push(`${e.type} ${e.path}`);
        if (seen.length === 3) break;
      }
    })();
    await zk.create("/it/one");
    await zk.setData("/it/one", "1");
    await zk.delete("/it/one");
    await reading;
    assert.deepEqual(seen, ["nodeCreated /it/one", "nodeDataChanged /it/one", "nodeDeleted /it/one"]);
    await assert.rejects(zk.checkWatches("/it", "persistent-recursive"), NoWatcherError);
  },
);

test(
  "removeWatches takes one callback or all, tells them, and refuses when there is none",
  { skip },
  async () => {
    const zk = await connect();
    await zk.create("/rm", "0");
    const a = recorder();
    const b = recorder();
    await zk.getData("/rm", { watch: a.callback });
    await zk.exists("/rm", { watch: b.callback });
    await zk.removeWatches("/rm", "data", { callback: a.callback });
    assert.deepEqual(brief(a.events), ["dataWatchRemoved /rm"]);
    await zk.checkWatches("/rm", "data");
    await zk.setData("/rm", "1");
    await b.count(1);
    assert.deepEqual(brief(b.events), ["nodeDataChanged /rm"]);
    await assert.rejects(
      zk.removeWatches("/rm", "data"),
      (e) => e instanceof NoWatcherError && e.path === "/rm",
    );
    await assert.rejects(zk.checkWatches("/rm", "children"), NoWatcherError);

    const c = recorder();
    await zk.getChildren("/rm", { watch: c.callback });
    await zk.removeWatches("/rm", "any");
    assert.deepEqual(brief(c.events), ["childWatchRemoved /rm"]);
    await zk.create("/rm/x");
    await zk.getData("/rm");
    assert.equal(c.events.length, 1);
  },
);
