// A streamed snapshot is byte for byte the file writeSnapshot writes, and loadSnapshotFile reads it back (any name);
// a damaged or foreign file is refused with CorruptLogError.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataTree } from "../../src/tree/data-tree.js";
import { openAclUnsafe } from "../../src/tree/acl.js";
import { serializeTree } from "../../src/storage/tree-snapshot.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";
import {
  loadSnapshotFile,
  snapshotFileZxid,
  snapshotStream,
  snapshotStreamBytes,
} from "../../src/storage/snapshot-stream.js";
import { CorruptLogError } from "../../src/base/errors.js";

const dir = mkdtempSync(join(tmpdir(), "corral-snapshot-stream-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function tree(): DataTree {
  const stat = {
    czxid: 7n,
    mzxid: 7n,
    ctime: 1n,
    mtime: 1n,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    pzxid: 7n,
  };
  const nodes: [string, { data: Uint8Array | null; acl: typeof openAclUnsafe; stat: typeof stat }][] = [
    ["/", { data: null, acl: openAclUnsafe, stat: { ...stat, cversion: 2 } }],
    ["/a", { data: new TextEncoder().encode("hello"), acl: openAclUnsafe, stat }],
    ["/zookeeper", { data: null, acl: openAclUnsafe, stat }],
    ["/zookeeper/quota", { data: null, acl: openAclUnsafe, stat }],
  ];
  return DataTree.restore({
    lastProcessedZxid: 0x500000007n,
    sessions: [[0x1234n, { timeOut: 10_000, passwd: new Uint8Array(16).fill(3) }]],
    nodes,
  });
}

test("snapshotStream yields exactly the bytes writeSnapshot writes", async () => {
  const t = tree();
  const chunks = serializeTree(t);
  const file = await writeSnapshot(dir, t.lastProcessedZxid, chunks);
  const streamed = Buffer.concat([...snapshotStream(t.lastProcessedZxid, chunks)]);
  assert.deepEqual(streamed, readFileSync(file));
  assert.equal(snapshotStreamBytes(chunks), streamed.length);
});

test("loadSnapshotFile reads a renamed backup; damage and foreign files are refused", async () => {
  const t = tree();
  const bytes = Buffer.concat([...snapshotStream(t.lastProcessedZxid, serializeTree(t))]);
  const backup = join(dir, "backup.snap");
  writeFileSync(backup, bytes);
  assert.equal(await snapshotFileZxid(backup), 0x500000007n);
  const loaded = await loadSnapshotFile(backup);
  assert.equal(loaded.zxid, 0x500000007n);
  assert.equal(loaded.tree.digest(), t.digest());

  const flipped = Buffer.from(bytes);
  flipped[40] ^= 0xff;
  writeFileSync(backup, flipped);
  await assert.rejects(
    loadSnapshotFile(backup),
    (e: unknown) => e instanceof CorruptLogError && /CRC/.test(e.message),
  );
  writeFileSync(backup, bytes.subarray(0, bytes.length - 3));
  await assert.rejects(loadSnapshotFile(backup), CorruptLogError);
  writeFileSync(backup, "tickTime=2000\ndataDir=/x\n");
  await assert.rejects(
    loadSnapshotFile(backup),
    (e: unknown) => e instanceof CorruptLogError && /magic/.test(e.message),
  );
});
