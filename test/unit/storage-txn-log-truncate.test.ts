// TxnLog.truncateAfter: ZAB's TRUNC and SNAP drop history durably, and appends continue after the cut.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeZxid } from "../../src/base/zxid.js";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-truncate-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const payload = (z: bigint): Uint8Array => new TextEncoder().encode(`txn ${z}`);

test("truncateAfter cuts inside a segment, deletes later segments, and appends continue after the cut", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true, segmentPreallocBytes: 4096 }, 0n);
  for (let c = 1; c <= 10; c++) {
    await log.append(makeZxid(1, c), payload(makeZxid(1, c)));
    if (c === 5) await log.roll();
  }
  await log.truncateAfter(makeZxid(1, 3));
  assert.equal(log.lastZxid, makeZxid(1, 3));
  const names = (await readdir(join(dir, "version-2"))).filter((n) => n.startsWith("log.")).sort();
  assert.deepEqual(names, ["log.100000001"], "the segment starting after the cut is gone");
  // A new epoch's history follows the cut (TRUNC, then DIFF).
  await log.append(makeZxid(2, 1), payload(makeZxid(2, 1)));
  await log.append(makeZxid(2, 2), payload(makeZxid(2, 2)));
  await log.close();
  const r = await recover(dir, dir);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    [makeZxid(1, 1), makeZxid(1, 2), makeZxid(1, 3), makeZxid(2, 1), makeZxid(2, 2)],
  );
  for (const { zxid, record } of r.txns) assert.deepEqual(record, payload(zxid));
});

test("truncateAfter past the last record (a SNAP) keeps the log and appends follow the snapshot's zxid", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true, segmentPreallocBytes: 4096 }, 0n);
  for (let c = 1; c <= 4; c++) await log.append(makeZxid(1, c), payload(makeZxid(1, c)));
  const snapZxid = makeZxid(2, 7);
  await writeSnapshot(dir, snapZxid, [new TextEncoder().encode("tree")]);
  await log.truncateAfter(snapZxid);
  await log.append(makeZxid(2, 8), payload(makeZxid(2, 8)));
  await log.close();
  const r = await recover(dir, dir);
  assert.equal(r.snapshot?.zxid, snapZxid);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    [makeZxid(2, 8)],
  );
});

test("truncateAfter to zero empties the log", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: false }, 0n);
  for (let c = 1; c <= 3; c++) await log.append(makeZxid(1, c), payload(makeZxid(1, c)));
  await log.truncateAfter(0n);
  await log.append(makeZxid(3, 1), payload(makeZxid(3, 1)));
  await log.close();
  const r = await recover(dir, dir);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    [makeZxid(3, 1)],
  );
});
