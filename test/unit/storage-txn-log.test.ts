// Txn log behaviour: round trips through recovery, preallocation, group commit, zxid order.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssertionError } from "../../src/base/assert.js";
import { makeZxid } from "../../src/base/zxid.js";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-storage-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic payload for a zxid; length varies, including 0. */
function payload(zxid: bigint, length = Number(zxid % 97n) * 3): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (Number(zxid & 0xffn) * 31 + i) & 0xff;
  return b;
}

test("appended txns come back in order after recovery, across several segments and a snapshot", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true, segmentPreallocBytes: 4096 }, 0n);
  for (let z = 1n; z <= 100n; z++) {
    await log.append(z, payload(z));
    if (z % 25n === 0n) await log.roll();
    if (z === 60n) await writeSnapshot(dir, 60n, [new TextEncoder().encode("tree@60")]);
  }
  await log.close();
  const logs = (await readdir(join(dir, "version-2"))).filter((n) => n.startsWith("log.")).sort();
  assert.deepEqual(logs, ["log.1", "log.1a", "log.33", "log.4c"]);

  const r = await recover(dir, dir);
  assert.equal(r.snapshot?.zxid, 60n);
  assert.equal(new TextDecoder().decode(r.snapshot?.bytes), "tree@60");
  assert.equal(r.lastZxid, 100n);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    Array.from({ length: 40 }, (_, i) => BigInt(61 + i)),
  );
  for (const { zxid, record } of r.txns) assert.deepEqual(record, payload(zxid));
  assert.equal(r.tornTail, null);

  // Without the snapshot every txn is replayed from the first segment.
  const all = await recover(dir, dir, () => false);
  assert.equal(all.snapshot, null);
  assert.equal(all.txns.length, 100);
  assert.equal(all.skippedSnapshots.length, 1);
});

test("a reopened log continues in a new segment and recovery reads both", async (t) => {
  const dir = await tempDir(t);
  let log = await TxnLog.open({ dir, forceSync: true }, 0n);
  for (let z = 1n; z <= 3n; z++) await log.append(z, payload(z));
  await log.close();
  const r1 = await recover(dir, dir);
  log = await TxnLog.open({ dir, forceSync: true }, r1.lastZxid);
  const epoch2 = makeZxid(2, 1);
  await log.append(4n, payload(4n));
  await log.append(epoch2, payload(epoch2)); // a new epoch may start anywhere after the last
  await log.close();
  const r2 = await recover(dir, dir);
  assert.deepEqual(
    r2.txns.map((x) => x.zxid),
    [1n, 2n, 3n, 4n, epoch2],
  );
  assert.equal(r2.lastZxid, epoch2);
});

test("a segment grows in preallocated steps and is trimmed to its records when rolled", async (t) => {
  const dir = await tempDir(t);
  const step = 4096;
  const log = await TxnLog.open({ dir, forceSync: true, segmentPreallocBytes: step }, 0n);
  const file = join(dir, "version-2", "log.1");
  await log.append(1n, payload(1n, 100));
  assert.equal((await stat(file)).size, step);
  for (let z = 2n; z <= 60n; z++) await log.append(z, payload(z, 100));
  const size = (await stat(file)).size;
  assert.equal(size % step, 0);
  assert.ok(size > step);
  await log.roll();
  assert.equal((await stat(file)).size, 16 + 60 * (16 + 100));
  await log.close();
});

test("group commit gathers 1,000 appends made without waiting into a few fsyncs", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true }, 0n);
  const all: Promise<void>[] = [];
  for (let z = 1n; z <= 1000n; z++) all.push(log.append(z, payload(z)));
  await Promise.all(all);
  assert.equal(log.stats.appends, 1000);
  assert.equal(log.durableZxid, 1000n);
  assert.ok(log.stats.fsyncs <= 10, `expected few fsyncs, saw ${log.stats.fsyncs}`);
  assert.ok(log.stats.batches <= 5, `expected few batches, saw ${log.stats.batches}`);

  // One at a time, each append is its own write and fsync.
  const before = log.stats.fsyncs;
  for (let z = 1001n; z <= 1010n; z++) await log.append(z, payload(z));
  assert.equal(log.stats.fsyncs - before, 10);
  await log.close();
  assert.equal((await recover(dir, dir)).txns.length, 1010);
});

test("with forceSync off appends resolve without any fsync", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: false }, 0n);
  for (let z = 1n; z <= 20n; z++) await log.append(z, payload(z));
  await log.close();
  assert.equal(log.stats.fsyncs, 0);
  assert.equal((await recover(dir, dir)).txns.length, 20);
});

test("zxids must increase, consecutively within an epoch", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: false }, 5n);
  assert.throws(() => log.append(5n, payload(5n)), AssertionError);
  assert.throws(() => log.append(3n, payload(3n)), AssertionError);
  assert.throws(() => log.append(7n, payload(7n)), AssertionError); // skips 6
  await log.append(6n, payload(6n));
  await log.append(makeZxid(1, 5), payload(7n));
  assert.throws(() => log.append(makeZxid(1, 5), payload(7n)), AssertionError);
  assert.equal(log.lastZxid, makeZxid(1, 5));
  await log.close();
  assert.throws(() => log.append(makeZxid(1, 6), payload(8n)), AssertionError);
});

test("a record over the payload limit is refused before it is written", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: false, recordPayloadBytesMax: 1000 }, 0n);
  assert.throws(() => log.append(1n, new Uint8Array(1001)), AssertionError);
  await log.append(1n, new Uint8Array(1000));
  await log.close();
});

test("after a failed write the log rejects that append, everything pending and every later call", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true }, 0n);
  await rm(join(dir, "version-2"), { recursive: true }); // the segment cannot be created now
  const first = log.append(1n, payload(1n));
  const second = log.append(2n, payload(2n));
  await assert.rejects(first, /ENOENT/);
  await assert.rejects(second, /ENOENT/);
  await assert.rejects(log.append(3n, payload(3n)), /ENOENT/);
  await assert.rejects(log.roll(), /ENOENT/);
  await assert.rejects(log.close(), /ENOENT/);
});

test("open refuses a start zxid behind what the log already holds", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: false }, 0n);
  for (let z = 1n; z <= 5n; z++) await log.append(z, payload(z));
  await log.close();
  await assert.rejects(TxnLog.open({ dir, forceSync: false }, 4n), AssertionError);
  const again = await TxnLog.open({ dir, forceSync: false }, 5n);
  await again.close();
});
