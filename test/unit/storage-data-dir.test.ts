// Data dir housekeeping: myid, the server secret, and the lock that keeps two servers apart.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/base/errors.js";
import {
  DataDirLockedError,
  ensureDataDirs,
  lockDataDir,
  readMyid,
  writeMyid,
} from "../../src/storage/data-dir.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-storage-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("data dirs get a version-2 directory each", async (t) => {
  const dir = await tempDir(t);
  const { snapDir, logDir } = await ensureDataDirs(join(dir, "data"), join(dir, "a", "b", "log"));
  assert.ok((await stat(snapDir)).isDirectory());
  assert.ok((await stat(logDir)).isDirectory());
  assert.equal(logDir, join(dir, "a", "b", "log", "version-2"));
});

test("myid is written, read back, absent as null and refused when out of range", async (t) => {
  const dir = await tempDir(t);
  assert.equal(await readMyid(dir), null);
  await writeMyid(dir, 7);
  assert.equal(await readFile(join(dir, "myid"), "utf8"), "7\n");
  assert.equal(await readMyid(dir), 7);
  await writeFile(join(dir, "myid"), " 3 \n");
  assert.equal(await readMyid(dir), 3);
  await writeFile(join(dir, "myid"), "300");
  await assert.rejects(readMyid(dir), ConfigError);
  await writeFile(join(dir, "myid"), "two");
  await assert.rejects(readMyid(dir), ConfigError);
  await assert.rejects(writeMyid(dir, -1), ConfigError);
});

test("a locked data dir is refused to a second taker until released", async (t) => {
  const dir = await tempDir(t);
  const lock = await lockDataDir(dir);
  await assert.rejects(
    lockDataDir(dir),
    (e: unknown) => e instanceof DataDirLockedError && e.pid === process.pid,
  );
  await lock.release();
  await lock.release();
  const again = await lockDataDir(dir);
  await again.release();
});

test("a lock held by another live process is refused, and one left by a dead process is taken", async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, "corral.lock"), `${process.ppid}\n`);
  await assert.rejects(lockDataDir(dir), DataDirLockedError);
  const child = spawnSync(process.execPath, ["-e", "0"]);
  assert.equal(child.status, 0);
  await writeFile(join(dir, "corral.lock"), `${child.pid}\n`);
  const lock = await lockDataDir(dir);
  assert.equal(await readFile(join(dir, "corral.lock"), "utf8"), `${process.pid}\n`);
  await lock.release();
  await assert.rejects(stat(join(dir, "corral.lock")), /ENOENT/);
});
