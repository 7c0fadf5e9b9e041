// NodeCache and ChildrenCache against a real server: the initial state first, then every change as an event.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChildrenCache, NodeCache, type ChildData } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const fixture = serverFixture();
const { skip, proxies, connect } = fixture;

const text = (d: ChildData | undefined): string | undefined =>
  d === undefined ? undefined : Buffer.from(d.data).toString();

test("NodeCache: initial state, then creation, changes and deletion", { skip, timeout: 30_000 }, async () => {
  const zk = await connect();
  const writer = await connect();
  await writer.create("/nc", "v0");
  const cache = new NodeCache(zk, "/nc");
  const seen: Array<string | undefined> = [];
  cache.on("changed", (d) => seen.push(text(d)));
  await cache.start();
  assert.equal(text(cache.current), "v0");
  assert.deepEqual(seen, [], "the initial state is not an event");
  await writer.setData("/nc", "v1");
  await waitFor(() => seen.length === 1, { message: "change seen" });
  await writer.delete("/nc");
  await waitFor(() => seen.length === 2, { message: "deletion seen" });
  await writer.create("/nc", "v2");
  await waitFor(() => seen.length === 3, { message: "re-creation seen" });
  assert.deepEqual(seen, ["v1", undefined, "v2"]);
  assert.equal(text(cache.current), "v2");
  cache.close();
});

test(
  "NodeCache: a node that does not exist yet is seen when created; changes while disconnected arrive after",
  { skip, timeout: 30_000 },
  async () => {
    const proxy = await TcpProxy.create(fixture.server.port);
    proxies.push(proxy);
    const zk = await connect(proxy.connectString);
    const writer = await connect();
    const cache = new NodeCache(zk, "/nc-later");
    await cache.start();
    assert.equal(cache.current, undefined);
    await writer.create("/nc-later", "born");
    await waitFor(() => text(cache.current) === "born", { message: "creation seen" });
    await proxy.stop();
    await waitFor(() => zk.state === "disconnected", { message: "disconnected" });
    await writer.setData("/nc-later", "while away");
    await proxy.start();
    await waitFor(() => text(cache.current) === "while away", {
      timeoutMs: 15_000,
      message: "change made while away",
    });
    cache.close();
  },
);

test(
  "ChildrenCache: initialized with the existing children, then added, updated and removed events",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const writer = await connect();
    await writer.create("/cc");
    await writer.create("/cc/a", "1");
    await writer.create("/cc/b", "2");
    const cache = new ChildrenCache(zk, "/cc");
    const events: string[] = [];
    let initial: string[] | undefined;
    cache.on("initialized", (children) => (initial = children.map((c) => `${c.path}=${text(c)}`)));
    cache.on("childAdded", (c) => events.push(`added ${c.path}=${text(c)}`));
    cache.on("childUpdated", (c) => events.push(`updated ${c.path}=${text(c)}`));
    cache.on("childRemoved", (c) => events.push(`removed ${c.path}`));
    await cache.start();
    assert.deepEqual(initial, ["/cc/a=1", "/cc/b=2"]);
    await writer.create("/cc/c", "3");
    await waitFor(() => events.length === 1, { message: "add seen" });
    await writer.setData("/cc/a", "1b");
    await waitFor(() => events.length === 2, { message: "update seen" });
    await writer.delete("/cc/b");
    await waitFor(() => events.length === 3, { message: "removal seen" });
    assert.deepEqual(events, ["added /cc/c=3", "updated /cc/a=1b", "removed /cc/b"]);
    assert.deepEqual(
      cache.currentData().map((c) => `${c.path}=${text(c)}`),
      ["/cc/a=1b", "/cc/c=3"],
    );
    cache.close();
  },
);

test(
  "ChildrenCache: converges on the final state after a burst of changes",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const writer = await connect();
    await writer.create("/cc-burst");
    const cache = new ChildrenCache(zk, "/cc-burst");
    await cache.start();
    assert.deepEqual(cache.currentData(), []);
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) ops.push(writer.create(`/cc-burst/n${i}`, `${i}`));
    await Promise.all(ops);
    await Promise.all(Array.from({ length: 25 }, (_, i) => writer.delete(`/cc-burst/n${2 * i}`)));
    await Promise.all(Array.from({ length: 25 }, (_, i) => writer.setData(`/cc-burst/n${2 * i + 1}`, "odd")));
    const expected = Array.from({ length: 25 }, (_, i) => `/cc-burst/n${2 * i + 1}`)
      .sort()
      .map((p) => `${p}=odd`);
    await waitFor(
      () =>
        JSON.stringify(cache.currentData().map((c) => `${c.path}=${text(c)}`)) === JSON.stringify(expected),
      {
        message: "cache equals the tree",
      },
    );
    cache.close();
  },
);
