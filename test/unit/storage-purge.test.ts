// Purge keeps the newest snapshots and every log segment needed to replay from the oldest kept one.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/base/errors.js";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";
import { purge } from "../../src/storage/purge.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-storage-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Segments start at 1, 11, 21, 31, 41; snapshots at 15, 25, 35, 45; txns up to 50. */
async function history(dataDir: string, logDir: string): Promise<TxnLog> {
  const log = await TxnLog.open({ dir: logDir, forceSync: false }, 0n);
  for (let z = 1n; z <= 50n; z++) {
    await log.append(z, new Uint8Array([Number(z)]));
    if (z % 10n === 0n) await log.roll();
    if (z % 10n === 5n && z > 10n) await writeSnapshot(dataDir, z, [new Uint8Array([Number(z)])]);
  }
  return log; // left open: purge runs beside a live log
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(join(dir, "version-2"))).sort();
}

test("purge keeps the newest N snapshots and the segments needed to replay from the oldest kept", async (t) => {
  const dataDir = await tempDir(t);
  const logDir = await tempDir(t);
  const log = await history(dataDir, logDir);
  const { removed } = await purge(dataDir, logDir, 3);
  assert.deepEqual(removed.map((f) => f.slice(f.lastIndexOf("/") + 1)).sort(), [
    "log.1",
    "log.b",
    "snapshot.f",
  ]);
  assert.deepEqual(await names(dataDir), ["snapshot.19", "snapshot.23", "snapshot.2d"]);
  // log.15 holds 21..30: replay from the oldest kept snapshot (25) needs its 26..30.
  assert.deepEqual(await names(logDir), ["log.15", "log.1f", "log.29"]);
  await log.append(51n, new Uint8Array([51]));
  await log.close();
  const r = await recover(dataDir, logDir, (b) => b[0] !== 45);
  assert.equal(r.snapshot?.zxid, 35n);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    Array.from({ length: 16 }, (_, i) => BigInt(36 + i)),
  );
  assert.deepEqual((await purge(dataDir, logDir, 3)).removed, []);
});

test("an incomplete snapshot does not count towards those retained", async (t) => {
  const dataDir = await tempDir(t);
  const log = await history(dataDir, dataDir);
  await log.close();
  await truncate(join(dataDir, "version-2", "snapshot.2d"), 20);
  await writeFile(join(dataDir, "version-2", "snapshot.5.tmp.9.9"), "stale");
  const { removed } = await purge(dataDir, dataDir, 3);
  assert.deepEqual(removed.map((f) => f.slice(f.lastIndexOf("/") + 1)).sort(), [
    "log.1",
    "snapshot.5.tmp.9.9",
  ]);
  const r = await recover(dataDir, dataDir);
  assert.equal(r.snapshot?.zxid, 35n);
  assert.equal(r.txns.length, 15);
});

test("purge refuses to keep fewer than three snapshots", async (t) => {
  const dataDir = await tempDir(t);
  await assert.rejects(purge(dataDir, dataDir, 2), ConfigError);
  assert.deepEqual((await purge(dataDir, dataDir, 3)).removed, []);
});
