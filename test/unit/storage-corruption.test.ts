// Corruption: a bad record with valid data after it, in an older segment, or zxids out of order refuses recovery.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CorruptLogError } from "../../src/base/errors.js";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-storage-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function payload(zxid: bigint, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (Number(zxid) * 7 + i) & 0xff;
  return b;
}

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, "r+");
  const b = new Uint8Array(1);
  await fh.read(b, 0, 1, offset);
  b[0] ^= 0x01;
  await fh.write(b, 0, 1, offset);
  await fh.close();
}

async function writeLog(dir: string, zxids: bigint[], rollAfter: bigint[] = []): Promise<void> {
  const log = await TxnLog.open({ dir, forceSync: false, segmentPreallocBytes: 4096 }, zxids[0] - 1n);
  for (const z of zxids) {
    await log.append(z, payload(z, 24));
    if (rollAfter.includes(z)) await log.roll();
  }
  await log.close();
}

function isCorrupt(file: string, offset: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CorruptLogError, `expected CorruptLogError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.equal(e.offset, offset);
    assert.ok(e.message.includes(file) && e.message.includes(`offset ${offset}`), e.message);
    return true;
  };
}

test("a flipped byte anywhere in a middle record throws CorruptLogError naming the file and offset", async (t) => {
  const dir = await tempDir(t);
  await writeLog(join(dir, "clean"), [1n, 2n, 3n, 4n, 5n]);
  const clean = join(dir, "clean", "version-2", "log.1");
  const recordStart = 16 + 2 * 40; // the third record
  for (let at = recordStart; at < recordStart + 40; at++) {
    const dataDir = join(dir, `flip-${at}`);
    await mkdir(join(dataDir, "version-2"), { recursive: true });
    const segment = join(dataDir, "version-2", "log.1");
    await copyFile(clean, segment);
    await flipByte(segment, at);
    const before = await readFile(segment);
    await assert.rejects(recover(dataDir, dataDir), isCorrupt(segment, recordStart));
    assert.deepEqual(await readFile(segment), before, "a corrupt log is left as it was");
    await assert.rejects(TxnLog.open({ dir: dataDir, forceSync: false }, 5n), CorruptLogError);
    await rm(dataDir, { recursive: true });
  }
});

test("a bad last record in a segment that is not the newest is corruption, not a torn tail", async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, [1n, 2n, 3n, 4n, 5n, 6n], [3n]);
  const first = join(dir, "version-2", "log.1");
  await flipByte(first, 16 + 2 * 40 + 30);
  await assert.rejects(recover(dir, dir), isCorrupt(first, 16 + 2 * 40));
});

test("an impossible record length is reported before anything is allocated for it", async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, [1n, 2n, 3n, 4n], [2n]);
  const first = join(dir, "version-2", "log.1");
  const fh = await open(first, "r+");
  await fh.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff]), 0, 4, 16 + 40);
  await fh.close();
  await assert.rejects(recover(dir, dir), (e: unknown) => {
    assert.ok(e instanceof CorruptLogError);
    assert.match(e.message, /impossible record length 2147483647/);
    return true;
  });
});

test("zeroed records followed by valid ones in the newest segment are corruption", async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, [1n, 2n, 3n, 4n, 5n]);
  const segment = join(dir, "version-2", "log.1");
  const fh = await open(segment, "r+");
  await fh.write(new Uint8Array(80), 0, 80, 16 + 40); // records 2 and 3
  await fh.close();
  await assert.rejects(recover(dir, dir), isCorrupt(segment, 16 + 40));
});

test("a gap in zxids between segments is corruption", async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, [1n, 2n, 3n]);
  await writeLog(dir, [5n, 6n]); // 4 is missing
  await assert.rejects(recover(dir, dir), isCorrupt(join(dir, "version-2", "log.5"), 16));
});

test("a segment whose records do not start at its name's zxid is corruption", async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, [1n, 2n, 3n], [3n]);
  await writeLog(dir, [4n, 5n]);
  // Rename-by-copy: the name now claims zxid 4 but the header says 1.
  await rm(join(dir, "version-2", "log.4"));
  await copyFile(join(dir, "version-2", "log.1"), join(dir, "version-2", "log.4"));
  await assert.rejects(recover(dir, dir), CorruptLogError);
});
