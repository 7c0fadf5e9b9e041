// Snapshots every snapCount txns; a restart recovers from the newest snapshot plus the log; containers and TTLs expire.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { RawClient, encodeCreate, encodeCreateTTL, OPEN_ACL_UNSAFE } from "../helpers/raw-client.js";
import { waitFor } from "../helpers/wait.js";

const servers: ManagedServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

test("a server writes snapshots every snapCount txns and recovers from snapshot plus log after kill -9", async () => {
  const s = await startCorral({ extraConfig: { snapCount: "100" } });
  servers.push(s);
  const c = await RawClient.connect(s.host, s.port);
  await c.create("/snap", null);
  const snapDir = join(s.dataDir, "version-2");
  const snapshots = (): number => readdirSync(snapDir).filter((f) => f.startsWith("snapshot.")).length;
  // Three batches of 150 writes, each after the previous batch's snapshot is on disk: a snapshot still being
  // written when more than snapCount txns arrive is not followed by a second one, so a single burst may
  // leave only one snapshot on a slow machine.
  for (let batch = 0; batch < 3; batch++) {
    const writes: Promise<string>[] = [];
    for (let i = batch * 150; i < (batch + 1) * 150; i++)
      writes.push(c.create(`/snap/n${i}`, Buffer.from(`v${i}`)));
    await Promise.all(writes);
    await waitFor(() => snapshots() >= batch + 1, { timeoutMs: 20_000, message: `snapshot ${batch + 1}` });
  }
  await c.setData("/snap/n7", Buffer.from("changed"));
  assert.ok(snapshots() >= 2, "snapshots every snapCount txns");
  c.destroy();
  await s.kill9();
  await s.restart();
  const d = await RawClient.connect(s.host, s.port);
  assert.equal((await d.getChildren("/snap")).length, 450);
  assert.equal((await d.getData("/snap/n7")).data?.toString(), "changed");
  assert.equal((await d.getData("/snap/n449")).data?.toString(), "v449");
  await d.close();
});

test("an empty container that had a child, and a TTL node past its TTL, are removed", async () => {
  const s = await startCorral({ containerCheckIntervalMs: 100 });
  servers.push(s);
  const c = await RawClient.connect(s.host, s.port);
  const box = await c.request(19 /* createContainer */, encodeCreate("/box", null, OPEN_ACL_UNSAFE, 4));
  assert.equal(box.err, 0);
  await c.create("/box/item", null);
  const ttl = await c.request(21 /* createTTL */, encodeCreateTTL("/ttl", null, OPEN_ACL_UNSAFE, 5, 200n));
  assert.equal(ttl.err, 0);
  await c.delete("/box/item");
  await waitFor(async () => (await c.exists("/box")) === null && (await c.exists("/ttl")) === null, {
    message: "the container and the TTL node to be removed",
  });
  await c.close();
});
