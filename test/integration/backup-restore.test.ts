// `corral backup` of a server under a concurrent write load, `corral restore` into an empty data dir, and a new server
// started there: it holds every acknowledged write up to the backup's zxid and nothing after it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corralBin, startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { freePort } from "../helpers/free-port.js";
import { waitFor, withTimeout } from "../helpers/wait.js";
import { ZooKeeperClient } from "../../src/client/index.js";

const servers: ManagedServer[] = [];
const clients: ZooKeeperClient[] = [];
const dir = mkdtempSync(join(tmpdir(), "corral-backup-"));
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `corral <args>`; resolves with its exit code and output. */
function corral(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [corralBin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function connect(connectString: string): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs: 20_000 });
  clients.push(zk);
  return zk;
}

const writers = 4;
const payload = "x".repeat(256);

test(
  "a backup taken under write load restores every write up to its zxid and none after",
  { timeout: 120_000 },
  async (t) => {
    const adminPort = await freePort();
    const source = await startCorral({
      extraConfig: {
        "admin.enableServer": "true",
        "admin.serverAddress": "127.0.0.1",
        "admin.serverPort": String(adminPort),
      },
    });
    servers.push(source);
    const seed = await connect(source.connectString);
    await seed.create("/load", null);
    // A tree of some size, so the snapshot is more than a header.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => seed.create(`/load/seed-${batch}-${i}`, payload)),
      );
    }

    // Several clients create nodes as fast as their acknowledgements come back, each recording its zxid.
    const acked = new Map<string, { zxid: bigint; atMs: number }>();
    let stop = false;
    const load = Array.from({ length: writers }, async (_, w) => {
      const zk = await connect(source.connectString);
      for (let n = 0; !stop; n++) {
        const path = `/load/w${w}-${n}`;
        const { stat } = await zk.create2(path, payload);
        acked.set(path, { zxid: stat.czxid, atMs: Date.now() });
      }
    });
    await waitFor(() => acked.size >= 400, { timeoutMs: 30_000, message: "400 acknowledged creates" });

    const out = join(dir, "backup.snap");
    const started = Date.now();
    const backup = await corral([
      "backup",
      "--server",
      `127.0.0.1:${adminPort}`,
      "--auth",
      "admin:pw",
      "--out",
      out,
    ]);
    const finished = Date.now();
    assert.equal(backup.code, 0, backup.stderr);
    const m = /^zxid (0x[0-9a-f]+)$/m.exec(backup.stdout);
    assert.ok(m !== null, backup.stdout);
    const backupZxid = BigInt(m[1]!);
    // Standalone: rebuilt from the data dir in a worker while the log is appended to, not serialised in memory.
    assert.doesNotMatch(source.stderr, /snapshot from the data dir failed/);

    const more = acked.size + 400;
    await waitFor(() => acked.size >= more, { timeoutMs: 30_000, message: "400 more acknowledged creates" });
    stop = true;
    await withTimeout(Promise.all(load), 30_000, "writers stop");

    const before = [...acked].filter(([, a]) => a.zxid <= backupZxid);
    const later = [...acked].filter(([, a]) => a.zxid > backupZxid);
    assert.ok(before.length >= 400 && later.length >= 400, `${before.length} before, ${later.length} after`);
    // Writes went on while the backup ran: some were acknowledged during it, past its zxid.
    const during = later.filter(([, a]) => a.atMs >= started && a.atMs <= finished).length;
    assert.ok(during > 0, "no write was acknowledged while the backup ran");
    t.diagnostic(
      `backup ${backupZxid.toString(16)} took ${finished - started} ms (CLI included); ${during} writes acknowledged meanwhile`,
    );

    // Offline restore refuses a data dir that holds anything.
    const dataDir = join(dir, "restored");
    const busy = join(dir, "busy");
    rmSync(busy, { recursive: true, force: true });
    mkdirSync(busy);
    writeFileSync(join(busy, "myid"), "1\n");
    const refused = await corral(["restore", "--file", out, "--data-dir", busy]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not empty/);
    const restored = await corral(["restore", "--file", out, "--data-dir", dataDir]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`restored zxid 0x${backupZxid.toString(16)} `));

    const target = await startCorral({ extraConfig: { dataDir } });
    servers.push(target);
    const check = await connect(target.connectString);
    const present = new Set(await check.getChildren("/load"));
    for (const [path] of before) assert.ok(present.has(path.slice("/load/".length)), `${path} is missing`);
    for (const [path] of later)
      assert.ok(!present.has(path.slice("/load/".length)), `${path} is past the backup`);
    for (const name of present) {
      const stat = await check.exists(`/load/${name}`);
      assert.ok(stat !== null && stat.czxid <= backupZxid, `/load/${name} was created after the backup`);
    }
    assert.equal(present.size, 3000 + before.length);
    // The restored server takes writes from where the backup left off.
    const { stat } = await check.create2("/after-restore", "r");
    assert.ok(stat.czxid > backupZxid);
  },
);

test("backup reports the admin server's refusal and leaves no file", async () => {
  const adminPort = await freePort();
  const server = await startCorral({
    extraConfig: {
      "admin.enableServer": "true",
      "admin.serverAddress": "127.0.0.1",
      "admin.serverPort": String(adminPort),
    },
  });
  servers.push(server);
  const out = join(dir, "refused.snap");
  const res = await corral(["backup", "--server", `127.0.0.1:${adminPort}`, "--out", out]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /answered 401: Auth info is missing for the command/);
  assert.equal(existsSync(out), false);
  const usage = await corral(["backup", "--out", out]);
  assert.equal(usage.code, 2);
});
