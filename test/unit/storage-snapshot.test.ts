// Snapshots: chunked writes round-trip, and a damaged newest snapshot falls back to an older one.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CorruptLogError } from "../../src/base/errors.js";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-storage-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

async function history(dir: string, upTo: bigint, snapshotsAt: bigint[]): Promise<void> {
  const log = await TxnLog.open({ dir, forceSync: false }, 0n);
  for (let z = 1n; z <= upTo; z++) {
    await log.append(z, enc.encode(`txn ${z}`));
    if (snapshotsAt.includes(z)) {
      await log.roll();
      await writeSnapshot(dir, z, [enc.encode("state@"), enc.encode(String(z))]);
    }
  }
  await log.close();
}

test("snapshot bytes written in many chunks, sync or async, are read back exactly", async (t) => {
  const dir = await tempDir(t);
  const sizes = [0, 1, 5000, 0, 3 * 1024 * 1024, 17, 1024 * 1024 - 1, 2];
  const chunks = sizes.map((n, k) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + k) & 0xff));
  const expected = Buffer.concat(chunks);
  async function* slowly(): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield c;
  }
  const file = await writeSnapshot(dir, 0x1234n, slowly());
  assert.equal(file, join(dir, "version-2", "snapshot.1234"));
  const r = await recover(dir, dir);
  assert.equal(r.snapshot?.zxid, 0x1234n);
  assert.ok(Buffer.from(r.snapshot!.bytes).equals(expected));
  assert.equal(r.lastZxid, 0x1234n);
  await writeSnapshot(dir, 0x1235n, chunks);
  assert.ok(Buffer.from((await recover(dir, dir)).snapshot!.bytes).equals(expected));
  assert.deepEqual((await readdir(join(dir, "version-2"))).sort(), ["snapshot.1234", "snapshot.1235"]);
});

test("a truncated newest snapshot falls back to the previous one and replays more of the log", async (t) => {
  const dir = await tempDir(t);
  await history(dir, 35n, [10n, 20n, 30n]);
  const newest = join(dir, "version-2", "snapshot.1e");
  await truncate(newest, (await stat(newest)).size - 1);
  const r = await recover(dir, dir);
  assert.equal(r.snapshot?.zxid, 20n);
  assert.equal(dec.decode(r.snapshot?.bytes), "state@20");
  assert.deepEqual(
    r.txns.map((x) => dec.decode(x.record)),
    Array.from({ length: 15 }, (_, i) => `txn ${21 + i}`),
  );
  assert.equal(r.skippedSnapshots[0].file, newest);
  assert.equal(r.lastZxid, 35n);
});

test("a newest snapshot with a flipped byte fails its CRC and the previous one is used", async (t) => {
  const dir = await tempDir(t);
  await history(dir, 35n, [10n, 20n, 30n]);
  const fh = await open(join(dir, "version-2", "snapshot.1e"), "r+");
  await fh.write(new Uint8Array([0xff]), 0, 1, 18);
  await fh.close();
  const r = await recover(dir, dir);
  assert.equal(r.snapshot?.zxid, 20n);
  assert.match(r.skippedSnapshots[0].why, /CRC/);
});

test("a snapshot the caller's validator rejects is passed over like a corrupt one", async (t) => {
  const dir = await tempDir(t);
  await history(dir, 35n, [10n, 20n, 30n]);
  const r = await recover(dir, dir, (bytes) => !dec.decode(bytes).endsWith("30"));
  assert.equal(r.snapshot?.zxid, 20n);
  assert.equal(r.txns.length, 15);
});

test("falling back past a snapshot whose log was purged is a gap, not silent data loss", async (t) => {
  const dir = await tempDir(t);
  await history(dir, 35n, [10n, 20n, 30n]);
  await rm(join(dir, "version-2", "log.b"));
  await rm(join(dir, "version-2", "log.15"));
  await truncate(join(dir, "version-2", "snapshot.1e"), 10);
  await assert.rejects(recover(dir, dir), CorruptLogError);
});

test("appends go on while a snapshot is being written", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true }, 0n);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* stalled(): AsyncGenerator<Uint8Array> {
    yield enc.encode("first half,");
    await gate;
    yield enc.encode("second half");
  }
  const snap = writeSnapshot(dir, 0n, stalled());
  for (let z = 1n; z <= 5n; z++) await log.append(z, enc.encode(`txn ${z}`));
  release();
  await snap;
  await log.close();
  const r = await recover(dir, dir);
  assert.equal(dec.decode(r.snapshot?.bytes), "first half,second half");
  assert.equal(r.txns.length, 5);
});

test("a leftover temporary snapshot file is ignored", async (t) => {
  const dir = await tempDir(t);
  await history(dir, 12n, [10n]);
  await writeFile(join(dir, "version-2", "snapshot.c.tmp.1.0"), "half a snapshot");
  const r = await recover(dir, dir);
  assert.equal(r.snapshot?.zxid, 10n);
  assert.equal(r.txns.length, 2);
});
