// ServiceDiscovery against a real server: instances registered as ephemeral JSON nodes, queried, watched
// through a ServiceCache, updated, unregistered, and gone with their session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ServiceDiscovery, serviceInstance, type ServiceInstance } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor } from "../helpers/wait.js";

const { skip, connect } = serverFixture();

interface Zone {
  zone: string;
}

const summary = (list: Array<ServiceInstance<Zone>>): string =>
  list.map((i) => `${i.id}@${i.address}:${i.port}/${i.payload?.zone}`).join(",");

test(
  "register, query, watch, update, unregister, and an instance gone with its session",
  { skip, timeout: 30_000 },
  async () => {
    const zkA = await connect();
    const zkB = await connect();
    const a = new ServiceDiscovery<Zone>(zkA);
    const b = new ServiceDiscovery<Zone>(zkB, "/services");
    const before = Date.now();
    const a1 = serviceInstance<Zone>({
      name: "api",
      id: "a1",
      address: "10.0.0.1",
      port: 8080,
      payload: { zone: "x" },
    });
    const b1 = serviceInstance<Zone>({
      name: "api",
      id: "b1",
      address: "10.0.0.2",
      port: 8080,
      payload: { zone: "y" },
    });
    const w1 = serviceInstance<Zone>({ name: "web", address: "10.0.0.3", port: 80 });
    await a.registerService(a1);
    await b.registerService(b1);
    await b.registerService(w1);
    assert.match(w1.id, /^[0-9a-f-]{36}$/, "a generated id");

    // The node: ephemeral, at /services/<name>/<id>, with the instance's JSON (Curator's field names).
    const observer = await connect();
    const { data, stat } = await observer.getData("/services/api/a1");
    assert.equal(stat.ephemeralOwner, zkA.sessionId);
    const json = JSON.parse(Buffer.from(data).toString()) as Record<string, unknown>;
    for (const key of ["name", "id", "address", "port", "payload", "registrationTimeUTC"])
      assert.ok(key in json, key);
    assert.deepEqual(
      [json.name, json.id, json.address, json.port, json.payload],
      ["api", "a1", "10.0.0.1", 8080, { zone: "x" }],
    );
    assert.ok((json.registrationTimeUTC as number) >= before);

    const query = new ServiceDiscovery<Zone>(observer);
    assert.deepEqual(await query.queryForNames(), ["api", "web"]);
    assert.equal(summary(await query.queryForInstances("api")), "a1@10.0.0.1:8080/x,b1@10.0.0.2:8080/y");
    assert.equal((await query.queryForInstance("web", w1.id))?.port, 80);
    assert.equal(await query.queryForInstance("web", "nobody"), undefined);
    assert.deepEqual(await query.queryForInstances("nothing"), []);

    const cache = query.serviceCache("api");
    const changes: string[] = [];
    cache.on("changed", (list) => changes.push(summary(list)));
    await cache.start();
    assert.equal(summary(cache.instances()), "a1@10.0.0.1:8080/x,b1@10.0.0.2:8080/y");

    await a.updateService({ ...a1, port: 9090 });
    await waitFor(() => changes.length === 1, { message: "update seen" });
    await a.unregisterService(a1);
    await waitFor(() => changes.length === 2, { message: "unregistration seen" });
    assert.equal(await observer.exists("/services/api/a1"), null);
    // Someone deletes b1's node: the registration puts it back.
    await observer.delete("/services/api/b1");
    await waitFor(async () => (await observer.exists("/services/api/b1")) !== null, {
      message: "b1 re-registered",
    });
    await waitFor(() => summary(cache.instances()) === "b1@10.0.0.2:8080/y", {
      message: "cache has b1 back",
    });
    // b's session ends: its instances go.
    await zkB.close();
    await waitFor(() => cache.instances().length === 0, { message: "b1 gone with its session" });
    assert.deepEqual(changes.slice(0, 2), ["a1@10.0.0.1:9090/x,b1@10.0.0.2:8080/y", "b1@10.0.0.2:8080/y"]);
    assert.deepEqual(await query.queryForInstances("web"), []);
    cache.close();
    await a.close();
    await b.close();
  },
);
