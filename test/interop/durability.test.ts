// Durability of the txn log (Corral's storage contract, DESIGN.md "Storage"): acknowledged writes survive
// kill -9; a torn tail is discarded; a corrupt record mid-log stops the server with the file and offset.
// The first test also runs against ZooKeeper (INTEROP_TARGET=zookeeper) to prove the harness; the other two
// are Corral's own promises and run only against Corral.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  closeSync,
  writeSync,
  ftruncateSync,
} from "node:fs";
import { basename, join } from "node:path";
import { RawClient } from "../helpers/raw-client.js";
import { ServerStartError } from "../helpers/managed-process.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const target = interopTarget();
const skip = skipReason(target);
const corralOnly = target === "corral" ? skip : "Corral's storage contract (INTEROP_TARGET=zookeeper)";
const PERSISTENT_SEQUENTIAL = 2;

const servers: ManagedServer[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.stop();
});

async function start(): Promise<ManagedServer> {
  const s = await startServer(target, { forceSync: true });
  servers.push(s);
  return s;
}

async function connect(s: ManagedServer): Promise<RawClient> {
  const c = await RawClient.connect(s.host, s.port);
  clients.push(c);
  return c;
}

/** The newest txn log file, dataDir/version-2/log.<zxid hex>. */
function newestLog(s: ManagedServer): string {
  const dir = join(s.dataDir, "version-2");
  assert.ok(existsSync(dir), `${dir} does not exist`);
  const logs = readdirSync(dir)
    .filter((f) => f.startsWith("log."))
    .map((f) => join(dir, f))
    .sort((x, y) => statSync(x).mtimeMs - statSync(y).mtimeMs || x.localeCompare(y));
  assert.ok(logs.length > 0, `no log.* files in ${dir}`);
  return logs[logs.length - 1]!;
}

/** Length of the written part of a (possibly zero-preallocated) log: one past its last non-zero byte. */
function writtenLength(file: string): number {
  const bytes = readFileSync(file);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

test(
  `every acknowledged create survives kill -9 mid-load on ${target}`,
  { skip, timeout: 120_000 },
  async () => {
    const s = await start();
    const setup = await connect(s);
    await setup.create("/durable", null);
    const writersCount = 8;
    const acknowledged: string[] = [];
    let stopping = false;
    const writers = await Promise.all(Array.from({ length: writersCount }, () => connect(s)));
    const loops = writers.map(async (c, i) => {
      for (let n = 0; !stopping; n++) {
        try {
          acknowledged.push(
            await c.create(`/durable/w${i}-`, Buffer.from(`writer ${i} op ${n}`), PERSISTENT_SEQUENTIAL),
          );
        } catch {
          return; // the server died under us: this create was never acknowledged
        }
      }
    });
    await waitFor(() => acknowledged.length >= 400, {
      timeoutMs: 60_000,
      message: "400 acknowledged creates",
    });
    await s.kill9();
    stopping = true;
    await Promise.all(loops);
    const ackedAtKill = [...acknowledged];

    await s.restart();
    const reader = await connect(s);
    const present = new Set((await reader.getChildren("/durable")).map((name) => `/durable/${name}`));
    const lost = ackedAtKill.filter((p) => !present.has(p));
    assert.deepEqual(
      lost,
      [],
      `${lost.length} of ${ackedAtKill.length} acknowledged creates lost after kill -9`,
    );
  },
);

test(
  "a torn, garbage-filled tail of the newest log is discarded and the server serves",
  { skip: corralOnly, timeout: 120_000 },
  async () => {
    const s = await start();
    const c = await connect(s);
    await c.create("/torn", null);
    const created: string[] = [];
    for (let i = 0; i < 20; i++)
      created.push(await c.create("/torn/n-", Buffer.from(`payload ${i}`), PERSISTENT_SEQUENTIAL));
    c.destroy();
    await s.shutdown();

    const log = newestLog(s);
    const end = writtenLength(log);
    assert.ok(end > 16, `${log} has only ${end} written bytes`);
    const fd = openSync(log, "r+");
    try {
      ftruncateSync(fd, end - 7); // tear the last record
      writeSync(
        fd,
        Buffer.from("\xde\xad\xbe\xef garbage after a torn record", "latin1"),
        0,
        undefined,
        end - 7,
      );
    } finally {
      closeSync(fd);
    }

    await s.restart();
    const after = await connect(s);
    const present = new Set((await after.getChildren("/torn")).map((name) => `/torn/${name}`));
    // The last create's record was torn: it may be gone. Everything before it must be there.
    const lost = created.slice(0, -1).filter((p) => !present.has(p));
    assert.deepEqual(lost, [], "records before the torn one were lost");
    await after.create("/torn/after-restart", null);
    assert.ok(await after.exists("/torn/after-restart"));
  },
);

test(
  "a flipped byte mid-log makes the server refuse to start, naming the file and offset",
  { skip: corralOnly, timeout: 120_000 },
  async () => {
    const s = await start();
    const c = await connect(s);
    await c.create("/corrupt", null);
    const marker = (i: number): string => `corral-durability-marker-${String(i).padStart(4, "0")}`;
    for (let i = 0; i < 40; i++) await c.create(`/corrupt/n${i}`, Buffer.from(marker(i).repeat(8)));
    c.destroy();
    await s.shutdown();

    const log = newestLog(s);
    const bytes = readFileSync(log);
    const at = bytes.indexOf(Buffer.from(marker(20)));
    assert.ok(at > 0, `marker of record 20 not found in ${log}: cannot aim the corruption`);
    const fd = openSync(log, "r+");
    try {
      writeSync(fd, Buffer.from([bytes[at + 5]! ^ 0x40]), 0, 1, at + 5);
    } finally {
      closeSync(fd);
    }

    const err = await s.restart().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(
      err instanceof ServerStartError,
      `the server started on a corrupt log (or failed oddly: ${String(err)})`,
    );
    assert.ok(err.exitCode !== null && err.exitCode !== 0, `expected a non-zero exit, got ${err.message}`);
    assert.match(
      err.stderr,
      new RegExp(basename(log).replace(/\./g, "\\.")),
      "stderr must name the log file",
    );
    assert.match(err.stderr, /offset\D{0,4}\d+/i, "stderr must name an offset");
  },
);
