// TreeCache against a real server: a consistent initial load, then nodeAdded/nodeUpdated/nodeRemoved events,
// and a cache (and an event log) that matches the server after a burst of changes at every depth.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient, NoNodeError } from "../../src/client/index.js";
import { TreeCache, type ChildData } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const fixture = serverFixture();
const { skip, proxies, connect } = fixture;

const text = (d: ChildData): string => Buffer.from(d.data).toString();

/** "path=data" for every node of the subtree, sorted: what the server holds. */
async function serverTree(zk: ZooKeeperClient, root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (path: string): Promise<void> => {
    try {
      const { data } = await zk.getData(path);
      out.push(`${path}=${Buffer.from(data).toString()}`);
      for (const c of await zk.getChildren(path)) await visit(`${path}/${c}`);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  };
  await visit(root);
  return out.sort();
}

const cacheTree = (cache: TreeCache): string[] =>
  cache
    .snapshot()
    .map((d) => `${d.path}=${text(d)}`)
    .sort();

test("initial load, then added, updated and removed events", { skip, timeout: 30_000 }, async () => {
  const writer = await connect();
  await writer.create("/tc", "root");
  await writer.create("/tc/a", "a");
  await writer.create("/tc/a/x", "ax");
  await writer.create("/tc/b", "b");
  const cache = new TreeCache(await connect(), "/tc");
  const events: string[] = [];
  let initialized = 0;
  cache.on("initialized", () => initialized++);
  cache.on("nodeAdded", (d) => events.push(`added ${d.path}=${text(d)}`));
  cache.on("nodeUpdated", (d) => events.push(`updated ${d.path}=${text(d)}`));
  cache.on("nodeRemoved", (d) => events.push(`removed ${d.path}`));
  await cache.start();
  assert.equal(initialized, 1);
  assert.deepEqual(cacheTree(cache), ["/tc/a/x=ax", "/tc/a=a", "/tc/b=b", "/tc=root"]);
  assert.deepEqual([...cache.currentChildren("/tc")!.keys()], ["a", "b"]);
  assert.deepEqual(events, [], "the initial load is not events");
  await writer.create("/tc/a/y", "ay");
  await waitFor(() => events.length === 1, { message: "add seen" });
  await writer.setData("/tc/b", "b2");
  await waitFor(() => events.length === 2, { message: "update seen" });
  await writer.delete("/tc/a/x");
  await writer.delete("/tc/a/y");
  await writer.delete("/tc/a");
  await waitFor(() => events.length === 5, { message: "removals seen" });
  assert.deepEqual(events, [
    "added /tc/a/y=ay",
    "updated /tc/b=b2",
    "removed /tc/a/x",
    "removed /tc/a/y",
    "removed /tc/a",
  ]);
  assert.deepEqual(cacheTree(cache), ["/tc/b=b2", "/tc=root"]);
  assert.equal(cache.currentData("/tc/a"), undefined);
  cache.close();
});

test(
  "after a burst of changes at every depth the cache, and its events replayed, match the server",
  { skip, timeout: 30_000 },
  async () => {
    const writer = await connect();
    await writer.create("/tcb", "r");
    for (let i = 0; i < 5; i++) {
      await writer.create(`/tcb/n${i}`, `${i}`);
      for (let j = 0; j < 3; j++) await writer.create(`/tcb/n${i}/c${j}`, `${i}.${j}`);
    }
    const cache = new TreeCache(await connect(), "/tcb");
    // The event log replayed onto the initial state must give the final state.
    const model = new Map<string, string>();
    cache.on("initialized", () => {
      for (const d of cache.snapshot()) model.set(d.path, text(d));
    });
    const badEvents: string[] = [];
    cache.on("nodeAdded", (d) => {
      if (model.has(d.path)) badEvents.push(`added twice: ${d.path}`);
      model.set(d.path, text(d));
    });
    cache.on("nodeUpdated", (d) => {
      if (!model.has(d.path)) badEvents.push(`update of unknown ${d.path}`);
      model.set(d.path, text(d));
    });
    cache.on("nodeRemoved", (d) => {
      if (!model.delete(d.path)) badEvents.push(`removal of unknown ${d.path}`);
    });
    await cache.start();
    assert.deepEqual(cacheTree(cache), await serverTree(writer, "/tcb"));
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < 5; i++) {
      ops.push(writer.setData(`/tcb/n${i}`, `${i}*`));
      ops.push(writer.setData(`/tcb/n${i}/c0`, "changed"));
      for (let k = 0; k < 4; k++) ops.push(writer.create(`/tcb/n${i}/new${k}`, `new${k}`));
      ops.push(
        writer.create(`/tcb/n${i}/c1/deep`, "deep").then(() => writer.create(`/tcb/n${i}/c1/deep/er`, "er")),
      );
    }
    for (let i = 5; i < 10; i++) ops.push(writer.create(`/tcb/n${i}`, `${i}`));
    await Promise.all(ops);
    // Remove a whole subtree, and delete and re-create a node with new data.
    for (const p of ["/tcb/n4/c1/deep/er", "/tcb/n4/c1/deep", "/tcb/n4/c1", "/tcb/n4/c0", "/tcb/n4/c2"])
      await writer.delete(p);
    for (let k = 0; k < 4; k++) await writer.delete(`/tcb/n4/new${k}`);
    await writer.delete("/tcb/n4");
    await writer.delete("/tcb/n3/c2");
    await writer.create("/tcb/n3/c2", "reborn");
    const expected = await serverTree(writer, "/tcb");
    await waitFor(() => JSON.stringify(cacheTree(cache)) === JSON.stringify(expected), {
      message: "the cache equals the tree",
    });
    await waitFor(
      () => JSON.stringify([...model].map(([p, d]) => `${p}=${d}`).sort()) === JSON.stringify(expected),
      {
        message: "the replayed events equal the tree",
      },
    );
    assert.deepEqual(badEvents, []);
    assert.equal(expected.length, 1 + 4 * (1 + 3 + 4 + 2) + 5, "root, n0-n3 with 9 below each, n5-n9");
    cache.close();
  },
);

test(
  "a root that does not exist yet; maxDepth; changes while disconnected arrive after",
  { skip, timeout: 30_000 },
  async () => {
    const proxy = await TcpProxy.create(fixture.server.port);
    proxies.push(proxy);
    const zk = await connect(proxy.connectString);
    const writer = await connect();
    const cache = new TreeCache(zk, "/tc-late", { maxDepth: 1 });
    await cache.start();
    assert.deepEqual(cache.snapshot(), []);
    await writer.create("/tc-late", "r");
    await writer.create("/tc-late/a", "a");
    await writer.create("/tc-late/a/too-deep", "x");
    await waitFor(() => cache.snapshot().length === 2, { message: "root and child seen" });
    assert.deepEqual(cacheTree(cache), ["/tc-late/a=a", "/tc-late=r"]);
    await proxy.stop();
    await waitFor(() => zk.state === "disconnected" || zk.state === "connecting", {
      message: "disconnected",
    });
    await writer.setData("/tc-late/a", "while away");
    await writer.create("/tc-late/b", "b");
    await proxy.start();
    await waitFor(
      () =>
        JSON.stringify(cacheTree(cache)) ===
        JSON.stringify(["/tc-late/a=while away", "/tc-late/b=b", "/tc-late=r"]),
      {
        timeoutMs: 15_000,
        message: `changes made while away (${cacheTree(cache).join(", ")})`,
      },
    );
    await writer.delete("/tc-late/a/too-deep");
    await writer.delete("/tc-late/a");
    await writer.delete("/tc-late/b");
    await writer.delete("/tc-late");
    await waitFor(() => cache.snapshot().length === 0, { message: "root removed" });
    await writer.create("/tc-late", "again");
    await waitFor(() => JSON.stringify(cacheTree(cache)) === JSON.stringify(["/tc-late=again"]), {
      message: "root re-created",
    });
    cache.close();
  },
);
