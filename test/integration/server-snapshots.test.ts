// Snapshots every snapCount txns; a restart recovers from the newest snapshot plus the log; a snapshot written
// while writes go on is exactly the state at its zxid; containers and TTLs expire.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
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

test("a snapshot of a tree written while setData goes on holds exactly the writes up to its zxid", async () => {
  const nodes = 20_000;
  const s = await startCorral({ extraConfig: { snapCount: "4000" } });
  servers.push(s);
  const c = await RawClient.connect(s.host, s.port);
  await c.create("/big", null);
  for (let i = 0; i < nodes; i += 1000) {
    const batch: Promise<string>[] = [];
    for (let j = i; j < i + 1000; j++) batch.push(c.create(`/big/c${j}`, Buffer.from("v0")));
    await Promise.all(batch);
  }
  const snapDir = join(s.dataDir, "version-2");
  const snapshotZxids = (): bigint[] =>
    readdirSync(snapDir)
      .filter((f) => /^snapshot\.[0-9a-f]+$/.test(f))
      .map((f) => BigInt(`0x${f.slice("snapshot.".length)}`));
  // Four writers, each its own nodes, counting up; every acknowledged write is kept with its zxid.
  const acked: { path: string; value: number; zxid: bigint }[] = [];
  let stop = false;
  const writer = async (w: number): Promise<void> => {
    for (let value = 1; !stop; value++) {
      const path = `/big/c${(value * 97 + w) % nodes}`;
      if ((value * 97 + w) % 4 !== w) continue;
      const stat = await c.setData(path, Buffer.from(`v${value}`));
      acked.push({ path, value, zxid: stat.mzxid });
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  // A snapshot taken after the writers' first write, and more writes after it.
  const taken = (): bigint[] => snapshotZxids().filter((z) => acked.length > 0 && z > acked[0]!.zxid);
  await waitFor(() => taken().length >= 2, {
    timeoutMs: 60_000,
    message: "two snapshots taken while the writers run",
  });
  stop = true;
  await Promise.all(writers);
  const zxid = taken().sort((a, b) => (a < b ? -1 : 1))[0]!;
  const expected = new Map<string, string>();
  for (const a of acked) if (a.zxid <= zxid) expected.set(a.path, `v${a.value}`);
  assert.ok(expected.size > 0 && acked.some((a) => a.zxid > zxid), "writes on both sides of the snapshot");
  await c.close();

  // A server with that snapshot alone (no log) serves exactly the state at its zxid.
  const t = await startCorral();
  servers.push(t);
  await t.shutdown();
  const tDir = join(t.dataDir, "version-2");
  rmSync(tDir, { recursive: true, force: true });
  mkdirSync(tDir, { recursive: true });
  const name = `snapshot.${zxid.toString(16)}`;
  copyFileSync(join(snapDir, name), join(tDir, name));
  await t.restart();
  const d = await RawClient.connect(t.host, t.port);
  assert.equal((await d.getChildren("/big")).length, nodes);
  for (let i = 0; i < nodes; i += 500) {
    const reads = [];
    for (let j = i; j < i + 500; j++) reads.push(d.getData(`/big/c${j}`));
    const got = await Promise.all(reads);
    for (let j = i; j < i + 500; j++) {
      const path = `/big/c${j}`;
      assert.equal(got[j - i]!.data?.toString(), expected.get(path) ?? "v0", path);
    }
  }
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
