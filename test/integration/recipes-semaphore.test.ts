// InterProcessSemaphoreV2 against a real server: never more than maxLeases holders among contending clients,
// timeouts and aborts that leave nothing behind, and a lease freed when its holder's session ends.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../src/client/index.js";
import { InterProcessSemaphoreV2, type Lease } from "../../src/recipes/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor, withTimeout } from "../helpers/wait.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const kind = interopTarget();
const skip = skipReason(kind);
let server: ManagedServer | undefined;
const clients: ZooKeeperClient[] = [];
const proxies: TcpProxy[] = [];

before(async () => {
  // A short tick lets a session expire within a test: timeouts negotiate into [200 ms, 10 s].
  if (skip === undefined) server = await startServer(kind, { tickTime: 100, maxSessionTimeout: 10_000 });
});
after(async () => {
  for (const c of clients) await c.close();
  for (const p of proxies) await p.stop();
  await server?.stop();
});

async function connect(
  connectString = server!.connectString,
  sessionTimeoutMs = 10_000,
): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs });
  clients.push(zk);
  return zk;
}

test(
  "3 leases, 6 contending clients: never more than 3 held at once, every acquisition happens",
  { skip, timeout: 60_000 },
  async () => {
    const maxLeases = 3;
    const contenders = 6;
    const rounds = 5;
    let held = 0;
    let maxHeld = 0;
    let acquisitions = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: contenders }, async (_, c) => {
        const zk = await connect();
        const semaphore = new InterProcessSemaphoreV2(zk, "/sem-contend", maxLeases, { data: `c${c}` });
        for (let r = 0; r < rounds; r++) {
          const leases = await semaphore.acquire(1, { timeoutMs: 30_000 });
          assert.equal(leases.length, 1, `client ${c} round ${r} got a lease`);
          held++;
          maxHeld = Math.max(maxHeld, held);
          acquisitions++;
          assert.equal(Buffer.from(await leases[0]!.data()).toString(), `c${c}`);
          // The first holders wait for each other, so the semaphore is seen full; then a round trip per hold.
          if (maxHeld < maxLeases)
            await waitFor(() => maxHeld === maxLeases, { message: "the semaphore full once" });
          await zk.sync("/");
          held--;
          await leases[0]!.close();
        }
      }),
    );
    assert.equal(acquisitions, contenders * rounds);
    assert.ok(maxHeld <= maxLeases, `at most ${maxLeases} held at once, saw ${maxHeld}`);
    assert.equal(maxHeld, maxLeases, "the semaphore lets maxLeases in at once");
    const zk = await connect();
    assert.deepEqual(await zk.getChildren("/sem-contend/leases"), [], "no lease node left behind");
    assert.deepEqual(await zk.getChildren("/sem-contend/locks"), [], "no lock node left behind");
    assert.match(
      (await new InterProcessSemaphoreV2(zk, "/sem-contend", maxLeases).participantNodes()).join(),
      /^$/,
    );
    console.log(`# ${contenders}×${rounds} lease acquisitions in ${Date.now() - started} ms against ${kind}`);
  },
);

test(
  "acquire(n) takes several leases; a timed-out or aborted acquire gives back what it took",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const other = await connect();
    const a = new InterProcessSemaphoreV2(zk, "/sem-multi", 3);
    const b = new InterProcessSemaphoreV2(other, "/sem-multi", 3);
    const two = await a.acquire(2);
    assert.equal(two.length, 2);
    assert.match(two[0]!.path, /^\/sem-multi\/leases\/_c_[0-9a-f-]{36}-lease-\d{10}$/);
    assert.equal((await b.participantNodes()).length, 2);
    // b wants two: it gets one, times out on the second, and gives the first back.
    const t0 = Date.now();
    assert.deepEqual(await b.acquire(2, { timeoutMs: 400 }), []);
    assert.ok(Date.now() - t0 >= 390);
    assert.equal((await b.participantNodes()).length, 2, "b's leases are gone");
    assert.deepEqual(await other.getChildren("/sem-multi/locks"), [], "b released the lock");
    // An aborted acquire rejects and leaves nothing.
    const one = await b.acquire(1);
    const abort = new AbortController();
    const pending = b.acquire(1, { signal: abort.signal });
    await waitFor(async () => (await b.participantNodes()).length === 4, { message: "waiter's lease node" });
    abort.abort(new Error("changed my mind"));
    await assert.rejects(pending, /changed my mind/);
    await waitFor(async () => (await b.participantNodes()).length === 3, { message: "aborted node gone" });
    assert.deepEqual(await other.getChildren("/sem-multi/locks"), []);
    // A lease given back lets a waiter in.
    const waiting = b.acquire(1, { timeoutMs: 10_000 });
    await waitFor(async () => (await b.participantNodes()).length === 4, { message: "waiter queued" });
    await two[0]!.close();
    const got = await withTimeout(waiting, 10_000, "the waiter gets the freed lease");
    assert.equal(got.length, 1);
    await assert.rejects(a.acquire(4), RangeError);
    await a.returnAll([two[1]!]);
    await b.returnAll([...one, ...got]);
    assert.deepEqual(await b.participantNodes(), []);
  },
);

test("a holder whose session ends frees its lease for a waiter", { skip, timeout: 60_000 }, async () => {
  const proxy = await TcpProxy.create(server!.port);
  proxies.push(proxy);
  const doomedZk = await connect(proxy.connectString, 1_000);
  const leases: Lease[] = [];
  const doomed = new InterProcessSemaphoreV2(doomedZk, "/sem-expiry", 2);
  leases.push(...(await doomed.acquire(1)));
  const holderZk = await connect();
  const holder = new InterProcessSemaphoreV2(holderZk, "/sem-expiry", 2);
  leases.push(...(await holder.acquire(1)));
  const waiter = new InterProcessSemaphoreV2(await connect(), "/sem-expiry", 2);
  let got: Lease[] | undefined;
  const waiting = waiter.acquire(1, { timeoutMs: 30_000 }).then((l) => (got = l));
  await waitFor(async () => (await waiter.participantNodes()).length === 3, { message: "waiter queued" });
  assert.equal(got, undefined, "no room while two hold");

  await proxy.stop(); // The doomed holder can no longer reach the server: its session expires there.
  await withTimeout(waiting, 30_000, "the waiter gets the lease of the expired session");
  assert.equal(got!.length, 1);
  const nodes = await waiter.participantNodes();
  assert.equal(nodes.length, 2);
  assert.ok(!nodes.includes(leases[0]!.path), "the expired holder's lease node is gone");
  await proxy.start();
  await waitFor(() => doomedZk.state === "expired", { timeoutMs: 15_000, message: "doomed session expired" });
  await leases[0]!.close(); // quiet: the node went with the session
  await leases[1]!.close();
  await got![0]!.close();
  assert.deepEqual(await waiter.participantNodes(), []);
});
