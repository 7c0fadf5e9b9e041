// Torn tails: a last record cut or zeroed at any byte is discarded, the file truncated, and appends go on.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, open, readdir, rm, stat, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-storage-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function payload(zxid: bigint, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (Number(zxid) * 31 + i + 1) & 0xff || 1;
  return b;
}

const recordOverhead = 16;
const headerBytes = 16;
const lengths = [10, 0, 33, 7, 40]; // the last record is 56 bytes on disk

/**
 * Writes zxids 1..5 into one preallocated segment and leaves it open, as a crash would, copying the
 * segment file aside. Returns the copy and where the last record starts and ends.
 */
async function crashedSegment(dir: string): Promise<{ file: string; lastStart: number; lastEnd: number }> {
  const src = join(dir, "src");
  const log = await TxnLog.open({ dir: src, forceSync: false, segmentPreallocBytes: 1024 }, 0n);
  for (let i = 0; i < lengths.length; i++)
    await log.append(BigInt(i + 1), payload(BigInt(i + 1), lengths[i]));
  const file = join(dir, "log.1.crashed");
  await copyFile(join(src, "version-2", "log.1"), file);
  await log.close();
  const lastStart = headerBytes + lengths.slice(0, -1).reduce((a, n) => a + recordOverhead + n, 0);
  return { file, lastStart, lastEnd: lastStart + recordOverhead + lengths[lengths.length - 1] };
}

async function zeroRange(file: string, from: number, to: number): Promise<void> {
  const fh = await open(file, "r+");
  await fh.write(new Uint8Array(to - from), 0, to - from, from);
  await fh.close();
}

/** Recovers zxids 1..4, appends 5 and 6, recovers all six; returns whether a torn tail was cut off. */
async function checkRecoversPrefixAndContinues(
  dataDir: string,
  segment: string,
  lastStart: number,
): Promise<boolean> {
  const r = await recover(dataDir, dataDir);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    [1n, 2n, 3n, 4n],
  );
  assert.equal((await stat(segment)).size <= 1024, true);
  if (r.tornTail !== null) {
    assert.equal(r.tornTail.offset, lastStart);
    assert.equal((await stat(segment)).size, lastStart); // truncated at the torn record
  }
  const log = await TxnLog.open({ dir: dataDir, forceSync: true }, r.lastZxid);
  await log.append(5n, payload(55n, 12));
  await log.append(6n, payload(6n, 3));
  await log.close();
  const again = await recover(dataDir, dataDir);
  assert.deepEqual(
    again.txns.map((x) => x.zxid),
    [1n, 2n, 3n, 4n, 5n, 6n],
  );
  assert.deepEqual(again.txns[4].record, payload(55n, 12));
  assert.equal(again.tornTail, null);
  return r.tornTail !== null;
}

test("a last record cut off at every byte offset is discarded and appending continues", async (t) => {
  const dir = await tempDir(t);
  const { file, lastStart, lastEnd } = await crashedSegment(dir);
  let torn = 0;
  for (let cut = lastStart; cut < lastEnd; cut++) {
    const dataDir = join(dir, `cut-${cut}`);
    await mkdir(join(dataDir, "version-2"), { recursive: true });
    const segment = join(dataDir, "version-2", "log.1");
    await copyFile(file, segment);
    await truncate(segment, cut);
    if (await checkRecoversPrefixAndContinues(dataDir, segment, lastStart)) torn++;
    await rm(dataDir, { recursive: true });
  }
  // The length field's three high bytes are zero: torn inside them, only zeros remain (a clean end).
  assert.equal(torn, lastEnd - lastStart - 4);
});

test("a last record zeroed from every byte offset inside a preallocated segment is discarded", async (t) => {
  const dir = await tempDir(t);
  const { file, lastStart, lastEnd } = await crashedSegment(dir);
  let torn = 0;
  for (let from = lastStart; from < lastEnd; from++) {
    const dataDir = join(dir, `zero-${from}`);
    await mkdir(join(dataDir, "version-2"), { recursive: true });
    const segment = join(dataDir, "version-2", "log.1");
    await copyFile(file, segment);
    await zeroRange(segment, from, lastEnd);
    if (await checkRecoversPrefixAndContinues(dataDir, segment, lastStart)) torn++;
    await rm(dataDir, { recursive: true });
  }
  // The length field's three high bytes are zero: torn inside them, only zeros remain (a clean end).
  assert.equal(torn, lastEnd - lastStart - 4);
});

test("a last record with its first sector lost but later bytes written is a torn tail", async (t) => {
  const dir = await tempDir(t);
  const { file, lastStart } = await crashedSegment(dir);
  const dataDir = join(dir, "sector");
  await mkdir(join(dataDir, "version-2"), { recursive: true });
  const segment = join(dataDir, "version-2", "log.1");
  await copyFile(file, segment);
  await zeroRange(segment, lastStart, lastStart + 20); // length, CRC, zxid and some payload gone
  const r = await recover(dataDir, dataDir);
  assert.equal(r.txns.length, 4);
  assert.equal(r.tornTail?.offset, lastStart);
});

test("a newest segment whose only record is torn is removed, and its name is used again", async (t) => {
  const dir = await tempDir(t);
  let log = await TxnLog.open({ dir, forceSync: true, segmentPreallocBytes: 1024 }, 0n);
  for (let z = 1n; z <= 3n; z++) await log.append(z, payload(z, 20));
  await log.roll();
  await log.append(4n, payload(4n, 20));
  const second = join(dir, "version-2", "log.4");
  const crashed = join(dir, "log.4.crashed");
  await copyFile(second, crashed);
  await log.close();
  await copyFile(crashed, second);
  await zeroRange(second, headerBytes + 30, headerBytes + 36);

  const r = await recover(dir, dir);
  assert.deepEqual(
    r.txns.map((x) => x.zxid),
    [1n, 2n, 3n],
  );
  assert.deepEqual(
    (await readdir(join(dir, "version-2"))).filter((n) => n.startsWith("log.")),
    ["log.1"],
  );
  log = await TxnLog.open({ dir, forceSync: true }, r.lastZxid);
  await log.append(4n, payload(4n, 5));
  await log.close();
  assert.equal((await recover(dir, dir)).txns.length, 4);
});

test("a newest segment with a torn header and nothing after it is removed", async (t) => {
  const dir = await tempDir(t);
  const log = await TxnLog.open({ dir, forceSync: true }, 0n);
  await log.append(1n, payload(1n, 5));
  await log.close();
  const partial = join(dir, "version-2", "log.2");
  await (await open(partial, "w")).close();
  await truncate(partial, 4096); // created and preallocated, header never written
  const r = await recover(dir, dir);
  assert.equal(r.txns.length, 1);
  assert.deepEqual(
    (await readdir(join(dir, "version-2"))).filter((n) => n.startsWith("log.")),
    ["log.1"],
  );
});
