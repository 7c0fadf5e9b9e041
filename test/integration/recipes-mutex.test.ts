// InterProcessMutex against a real server: processes contending, re-entrancy, timeouts, aborts, a holder's
// session lost mid-hold, and a create whose reply was lost.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ZooKeeperClient } from "../../src/client/index.js";
import { InterProcessMutex, LockLostError } from "../../src/recipes/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor, withTimeout } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const kind = interopTarget();
const skip = skipReason(kind);
let server: ManagedServer | undefined;
const clients: ZooKeeperClient[] = [];
const proxies: TcpProxy[] = [];
const workDir = mkdtempSync(join(tmpdir(), "corral-recipes-mutex-"));

/** Contenders and iterations for the multi-process test: the 5×200 with RECIPES_MUTEX_ITERATIONS=200. */
const workers = 5;
const iterations = Number(process.env.RECIPES_MUTEX_ITERATIONS ?? "100");

before(async () => {
  // A short tick lets a session expire within a test: timeouts negotiate into [200 ms, 10 s].
  if (skip === undefined) server = await startServer(kind, { tickTime: 100, maxSessionTimeout: 10_000 });
});
after(async () => {
  for (const c of clients) await c.close();
  for (const p of proxies) await p.stop();
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function connect(
  connectString = server!.connectString,
  sessionTimeoutMs = 10_000,
): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs });
  clients.push(zk);
  return zk;
}

const workerScript = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "recipes-mutex-worker.js");

/** Runs one worker process to completion; kills exactly it if it outlives the deadline. */
function runWorker(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [workerScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`worker ${args.join(" ")} still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test(
  `${workers} processes × ${iterations} acquisitions: never two holders, every acquisition happens`,
  { skip, timeout: 120_000 },
  async () => {
    const zk = await connect();
    const counter = "/mutex-procs-counter";
    await zk.create(counter, "0");
    const log = join(workDir, "holds.log");
    writeFileSync(log, "");
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        runWorker(
          [
            "--connect",
            server!.connectString,
            "--path",
            "/mutex-procs",
            "--log",
            log,
            "--counter",
            counter,
            "--id",
            `w${w}`,
            "--iterations",
            String(iterations),
          ],
          110_000,
        ),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    assert.equal(lines.length, 2 * workers * iterations);
    // Appends are atomic and in time order, so mutual exclusion means strict enter/exit pairs of one holder.
    let lastExitMs = -Infinity;
    for (let k = 0; k < lines.length; k += 2) {
      const [enter, id, i, enterMs] = lines[k]!.split(" ");
      const [exit, id2, i2, exitMs] = lines[k + 1]!.split(" ");
      assert.equal(enter, "enter", `line ${k}: ${lines[k]}`);
      assert.equal(exit, "exit", `line ${k + 1}: ${lines[k + 1]}`);
      assert.deepEqual([id2, i2], [id, i], `an exit of another holder at line ${k + 1}`);
      assert.ok(Number(enterMs) >= lastExitMs, `hold ${id}/${i} began before the previous one ended`);
      lastExitMs = Number(exitMs);
    }
    const perWorker = new Map<string, number>();
    for (const l of lines)
      if (l.startsWith("enter")) perWorker.set(l.split(" ")[1]!, (perWorker.get(l.split(" ")[1]!) ?? 0) + 1);
    assert.deepEqual([...perWorker.values()], Array(workers).fill(iterations));
    const { data } = await zk.getData(counter);
    assert.equal(Buffer.from(data).toString(), String(workers * iterations));
    assert.deepEqual(await zk.getChildren("/mutex-procs"), [], "no lock node left behind");
    console.log(`# ${workers}×${iterations} acquisitions in ${Date.now() - started} ms against ${kind}`);
  },
);

test("the mutex is re-entrant: the node goes with the last release", { skip, timeout: 30_000 }, async () => {
  const zk = await connect();
  const a = new InterProcessMutex(zk, "/mutex-reentrant");
  assert.equal(await a.acquire(), true);
  const node = a.lockPath!;
  assert.match(node, /^\/mutex-reentrant\/_c_[0-9a-f-]{36}-lock-\d{10}$/);
  assert.equal(await a.acquire(), true);
  assert.equal(a.holds, 2);
  await a.release();
  assert.notEqual(await zk.exists(node), null, "one hold left: the node stays");
  assert.equal(a.isAcquiredInThisProcess, true);
  await a.release();
  assert.equal(await zk.exists(node), null);
  assert.equal(a.isAcquiredInThisProcess, false);
  await assert.rejects(a.release(), /does not hold/);
});

test(
  "waiters get the lock in the order they asked (fair) and each watches only its predecessor",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const holder = new InterProcessMutex(zk, "/mutex-fair");
    await holder.acquire();
    const order: number[] = [];
    const waiters = Array.from({ length: 4 }, () => new InterProcessMutex(zk, "/mutex-fair"));
    const done: Array<Promise<void>> = [];
    for (const [i, w] of waiters.entries()) {
      done.push(
        w.acquire().then(async () => {
          order.push(i);
          await w.release();
        }),
      );
      // The next waiter asks only once this one's node is in the queue.
      await waitFor(async () => (await holder.participantNodes()).length === i + 2, {
        message: `waiter ${i} queued`,
      });
    }
    await holder.release();
    await withTimeout(Promise.all(done), 10_000, "every waiter got the lock");
    assert.deepEqual(order, [0, 1, 2, 3]);
  },
);

test(
  "acquire with a timeout resolves false and leaves no node; an aborted acquire rejects",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const holder = new InterProcessMutex(zk, "/mutex-timeout");
    await holder.acquire();
    const other = new InterProcessMutex(zk, "/mutex-timeout");
    const t0 = Date.now();
    assert.equal(await other.acquire({ timeoutMs: 300 }), false);
    assert.ok(Date.now() - t0 >= 290);
    assert.equal((await zk.getChildren("/mutex-timeout")).length, 1, "the timed-out waiter's node is gone");
    const abort = new AbortController();
    const pending = other.acquire({ signal: abort.signal });
    await waitFor(async () => (await zk.getChildren("/mutex-timeout")).length === 2, {
      message: "waiter queued",
    });
    abort.abort(new Error("changed my mind"));
    await assert.rejects(pending, /changed my mind/);
    await waitFor(async () => (await zk.getChildren("/mutex-timeout")).length === 1, {
      message: "aborted node gone",
    });
    await holder.release();
    assert.equal(await other.acquire({ timeoutMs: 5_000 }), true);
    await other.release();
  },
);

test(
  "a holder whose session is lost mid-hold is told, and the lock passes on",
  { skip, timeout: 60_000 },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    proxies.push(proxy);
    const holderZk = await connect(proxy.connectString, 1_000);
    const waiterZk = await connect();
    const holder = new InterProcessMutex(holderZk, "/mutex-expiry");
    const waiter = new InterProcessMutex(waiterZk, "/mutex-expiry");
    await holder.acquire();
    const holderSignal = holder.signal!;
    const lost: LockLostError[] = [];
    holder.on("lost", (e) => lost.push(e));
    const waiting = waiter.acquire({ timeoutMs: 30_000 });
    await waitFor(async () => (await waiter.participantNodes()).length === 2, { message: "waiter queued" });

    await proxy.stop(); // The holder can no longer reach the server: its session expires there.
    assert.equal(await withTimeout(waiting, 30_000, "the waiter gets the lock"), true);
    await waitFor(() => lost.length === 1, { message: "holder told it lost the lock" });
    assert.equal(holder.isAcquiredInThisProcess, false);
    assert.ok(holderSignal.aborted);
    assert.ok(holderSignal.reason instanceof LockLostError);
    // Back in touch, the holder learns the session expired; its release() is quiet.
    await proxy.start();
    await waitFor(() => holderZk.state === "expired", {
      timeoutMs: 15_000,
      message: "holder's session expired",
    });
    await holder.release();
    await waiter.release();
  },
);

test(
  "a create whose reply is lost is found by its protected prefix: no orphan blocks the queue",
  { skip, timeout: 30_000 },
  async () => {
    const proxy = await TcpProxy.create(server!.port);
    proxies.push(proxy);
    const zk = await connect(proxy.connectString, 10_000);
    const direct = await connect();
    await direct.create("/mutex-lost-reply");
    const mutex = new InterProcessMutex(zk, "/mutex-lost-reply");
    // The create reaches the server but its reply does not reach the client; the connection then drops.
    proxy.hold();
    const acquiring = mutex.acquire({ timeoutMs: 20_000 });
    await waitFor(async () => (await direct.getChildren("/mutex-lost-reply")).length === 1, {
      message: "node created",
    });
    proxy.cut();
    assert.equal(await acquiring, true);
    const children = await direct.getChildren("/mutex-lost-reply");
    assert.equal(children.length, 1, `one node, adopted: ${children.join(", ")}`);
    assert.equal(mutex.lockPath, `/mutex-lost-reply/${children[0]}`);
    await mutex.release();
    assert.deepEqual(await direct.getChildren("/mutex-lost-reply"), []);
  },
);
