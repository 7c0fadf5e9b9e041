// A real process appending with forceSync is killed with SIGKILL: every acknowledged txn survives and appends continue.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TxnLog } from "../../src/storage/txn-log.js";
import { recover } from "../../src/storage/recovery.js";

const txnLogModule = fileURLToPath(new URL("../../src/storage/txn-log.js", import.meta.url));

/** The child appends forever, 50 at a time without waiting, and prints each zxid once it is durable. */
const child = `
import { TxnLog } from ${JSON.stringify(txnLogModule)};
const log = await TxnLog.open({ dir: process.argv[1], forceSync: true, segmentPreallocBytes: 64 * 1024 }, 0n);
let z = 0n;
for (;;) {
  const batch = [];
  for (let i = 0; i < 50; i++) {
    const zxid = ++z;
    batch.push(log.append(zxid, new Uint8Array(Number(zxid % 200n)).fill(Number(zxid % 256n))).then(() => zxid));
    if (zxid % 700n === 0n) batch.push(log.roll().then(() => zxid));
  }
  const done = await Promise.all(batch);
  process.stdout.write(done[done.length - 1] + "\\n");
}
`;

test(
  "every txn acknowledged before a SIGKILL is recovered, and the log takes appends after",
  { timeout: 30_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "corral-storage-crash-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const proc = spawn(process.execPath, ["--input-type=module", "-e", child, dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    t.after(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    });
    let acked = 0n;
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on("data", (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        for (const l of lines) acked = BigInt(l);
        if (acked >= 5000n) {
          proc.kill("SIGKILL");
          resolve();
        }
      });
      proc.on("exit", (code, signal) => {
        if (signal !== "SIGKILL") reject(new Error(`child exited early: ${code}`));
      });
    });
    await new Promise((r) => proc.once("close", r));

    const r = await recover(dir, dir);
    assert.ok(r.lastZxid >= acked, `recovered to ${r.lastZxid}, but ${acked} was acknowledged`);
    r.txns.forEach((x, i) => {
      assert.equal(x.zxid, BigInt(i + 1));
      assert.equal(x.record.length, (i + 1) % 200);
    });
    const log = await TxnLog.open({ dir, forceSync: true }, r.lastZxid);
    await log.append(r.lastZxid + 1n, new Uint8Array([1, 2, 3]));
    await log.close();
    assert.equal((await recover(dir, dir)).lastZxid, r.lastZxid + 1n);
  },
);
