// The offline tools run as `corral logdump|snapdump|cleanup` on a data dir written with storage/: output,
// exit codes, CRC checks (a corrupt record mid-log, a torn tail, a damaged snapshot), --chop and cleanup.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeZxid } from "../../src/base/zxid.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { encodeTxn } from "../../src/protocol/txn-codec.js";
import type { Txn } from "../../src/protocol/types.js";
import { logHeaderBytes } from "../../src/storage/format.js";
import { writeSnapshot } from "../../src/storage/snapshot.js";
import { TxnLog } from "../../src/storage/txn-log.js";
import { serializeTree } from "../../src/storage/tree-snapshot.js";
import { openAclUnsafe } from "../../src/tree/acl.js";
import { DataTree } from "../../src/tree/data-tree.js";
import { corralBin } from "../helpers/corral-process.js";
import { repoRoot } from "../helpers/managed-process.js";

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function corral(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [corralBin, ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "corral-tools-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const session = 0x1234n;
const z = (n: number): bigint => makeZxid(1, n);

function txnAt(n: number): Txn {
  const header = { clientId: session, cxid: n, zxid: z(n), time: 1_700_000_000_000n + BigInt(n), type: 0 };
  if (n === 1)
    return {
      header: { ...header, type: OpCode.createSession },
      body: { type: "createSession", timeOut: 30000, passwd: new Uint8Array(16) },
    };
  if (n % 2 === 0) {
    return {
      header: { ...header, type: OpCode.create },
      body: {
        type: "create",
        path: `/n${n}`,
        data: Buffer.from(`v${n}`),
        acl: [...openAclUnsafe],
        ephemeralOwner: 0n,
        parentCVersion: n,
        kind: "persistent",
        ttl: 0n,
      },
    };
  }
  return {
    header: { ...header, type: OpCode.setData },
    body: { type: "setData", path: `/n${n - 1}`, data: Buffer.from("xyz!"), version: 1 },
  };
}

/** Txns 1..20 in segments of 5 (log.<1:1>, <1:6>, <1:11>, <1:16>); snapshots after 4, 8, 12, 16, 20. */
async function history(dataDir: string): Promise<void> {
  const log = await TxnLog.open({ dir: dataDir, forceSync: false }, 0n);
  const tree = new DataTree();
  for (let n = 1; n <= 20; n++) {
    const txn = txnAt(n);
    await log.append(z(n), encodeTxn(txn));
    tree.apply(txn);
    if (n % 5 === 0) await log.roll();
    if (n % 4 === 0) await writeSnapshot(dataDir, z(n), serializeTree(tree));
  }
  await log.close();
}

const seg = (dataDir: string, n: number): string => join(dataDir, "version-2", `log.${z(n).toString(16)}`);
const snap = (dataDir: string, n: number): string =>
  join(dataDir, "version-2", `snapshot.${z(n).toString(16)}`);

test("logdump prints one line per txn, or JSON lines, for a file or a whole dir", async (t) => {
  const dir = await tempDir(t);
  await history(dir);
  const all = await corral(["logdump", dir]);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 21);
  assert.equal(lines[20], "EOF reached after 20 txns.");
  assert.equal(
    lines[0],
    "2023-11-14T22:13:20.001Z session 0x1234 cxid 0x1 zxid 0x100000001 createSession timeOut=30000",
  );
  assert.match(
    lines[1],
    / zxid 0x100000002 create \/n2 kind=persistent data=2B acl=\[world:anyone:31\] parentCVersion=2$/,
  );
  assert.match(lines[2], / zxid 0x100000003 setData \/n2 data=4B version=1$/);

  const one = await corral(["logdump", seg(dir, 6), "--json"]);
  assert.equal(one.code, 0, one.stderr);
  const recs = one.stdout
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    recs.map((r) => r.zxid),
    ["0x100000006", "0x100000007", "0x100000008", "0x100000009", "0x10000000a"],
  );
  assert.equal(recs[0].type, "create");
  assert.equal(recs[0].path, "/n6");
  assert.equal(Buffer.from(recs[0].data as string, "base64").toString(), "v6");
  assert.equal(recs[0].offset, logHeaderBytes);
});

test("logdump reports a corrupt record mid-log with file and offset, and a torn tail as such", async (t) => {
  const dir = await tempDir(t);
  await history(dir);
  // Flip a payload byte of the second record of log.<1:6>: a later valid record follows, so corruption.
  const file = seg(dir, 6);
  const bytes = await readFile(file);
  const second = logHeaderBytes + 8 + bytes.readUInt32BE(logHeaderBytes);
  bytes[second + 20] ^= 0xff;
  await writeFile(file, bytes);
  const r = await corral(["logdump", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`corrupt: ${file} at offset ${second}: .*CRC mismatch`));
  assert.equal(r.stdout.trimEnd().split("\n").length, 6); // txns 1..6 printed before the damage

  // A torn tail of the newest segment: garbage after the last record, nothing valid after it.
  const dir2 = await tempDir(t);
  await history(dir2);
  await appendFile(seg(dir2, 16), Buffer.from([0, 0, 0, 40, 1, 2, 3]));
  const torn = await corral(["logdump", dir2]);
  assert.equal(torn.code, 0, torn.stderr);
  assert.match(torn.stderr, /torn tail at offset \d+ .*recovery truncates it/);
  assert.match(torn.stdout, /EOF reached after 20 txns\./);
});

test("logdump --chop is a dry run without --yes and cuts in place with it", async (t) => {
  const dir = await tempDir(t);
  await history(dir);
  const dry = await corral(["logdump", dir, "--chop", "0x100000008"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would truncate .*log\.100000006 at offset \d+ \(2 txns after it\)/);
  assert.match(dry.stdout, /would delete .*log\.10000000b \(5 txns\)/);
  assert.match(dry.stdout, /would delete .*log\.100000010 \(5 txns\)/);
  assert.equal((await corral(["logdump", dir])).stdout.split("\n").length - 2, 20);

  const missing = await corral(["logdump", dir, "--chop", "0x200000001", "--yes"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not in the log/);

  const done = await corral(["logdump", dir, "--chop", "0x100000008", "--yes"]);
  assert.equal(done.code, 0, done.stderr);
  const after = await corral(["logdump", dir]);
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /EOF reached after 8 txns\./);
  assert.deepEqual((await readdir(join(dir, "version-2"))).filter((n) => n.startsWith("log.")).sort(), [
    "log.100000001",
    "log.100000006",
  ]);
});

test("logdump --chop removes a corrupt region after the chop point", async (t) => {
  const dir = await tempDir(t);
  await history(dir);
  const file = seg(dir, 6);
  const bytes = await readFile(file);
  const second = logHeaderBytes + 8 + bytes.readUInt32BE(logHeaderBytes);
  bytes[second + 20] ^= 0xff;
  await writeFile(file, bytes);
  assert.equal((await corral(["logdump", dir, "--chop", "0x100000008", "--yes"])).code, 1); // damage before it
  const r = await corral(["logdump", dir, "--chop", "0x100000006", "--yes"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`truncate ${file} at offset ${second}`));
  const after = await corral(["logdump", dir]);
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /EOF reached after 6 txns\./);
});

test("snapdump prints zxid and counts, every node with -d, JSON with --json, and checks the CRC", async (t) => {
  const dir = await tempDir(t);
  await history(dir);
  const file = snap(dir, 12);
  const r = await corral(["snapdump", file]);
  assert.equal(r.code, 0, r.stderr);
  // 4 system nodes (/, /zookeeper, /zookeeper/quota, /zookeeper/config) + /n2 .. /n12.
  assert.equal(r.stdout, `snapshot ${file}\nzxid 0x10000000c\nnodes 10\nsessions 1\n`);

  const d = await corral(["snapdump", file, "-d"]);
  assert.equal(d.code, 0, d.stderr);
  assert.match(
    d.stdout,
    /^\/n4 cZxid=0x100000004 ctime=2023-11-14T22:13:20\.004Z mZxid=0x100000005 .* dataVersion=1 .* dataLength=4$/m,
  );
  assert.match(d.stdout, /^session 0x1234 timeOut=30000$/m);

  const j = await corral(["snapdump", file, "--json", "-d"]);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout) as {
    zxid: string;
    nodeCount: number;
    nodes: { path: string; dataLength: number }[];
  };
  assert.equal(doc.zxid, "0x10000000c");
  assert.equal(doc.nodeCount, 10);
  assert.equal(doc.nodes.find((n) => n.path === "/n12")?.dataLength, 3);

  const fh = await open(file, "r+");
  await fh.write(Buffer.from([0xee]), 0, 1, 30);
  await fh.close();
  const bad = await corral(["snapdump", file]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /CRC mismatch/);
});

test("cleanup keeps the newest N snapshots and the segments they need", async (t) => {
  const dir = await tempDir(t);
  await history(dir);
  assert.equal((await corral(["cleanup", dir, "-n", "2"])).code, 2);
  assert.equal((await corral(["cleanup", dir])).code, 2);
  const r = await corral(["cleanup", dir, "-n", "3"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /4 file\(s\) removed/);
  // Snapshots at 12, 16, 20 kept; replay from 12 needs log.<1:11> and later.
  assert.deepEqual((await readdir(join(dir, "version-2"))).sort(), [
    "log.10000000b",
    "log.100000010",
    "snapshot.10000000c",
    "snapshot.100000010",
    "snapshot.100000014",
  ]);
  assert.match((await corral(["logdump", dir])).stdout, /EOF reached after 10 txns\./);
});
