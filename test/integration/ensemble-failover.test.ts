// Leader failure in a three-server ensemble: kill -9 the leader, a new one is elected and writes resume;
// the killed server restarts, rejoins, and holds every write that was acknowledged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { NodeExistsError, ZooKeeperClient } from "../../src/client/index.js";
import { CorralEnsemble } from "../helpers/corral-ensemble.js";
import { waitFor } from "../helpers/wait.js";

let ensemble: CorralEnsemble;
const clients: ZooKeeperClient[] = [];

before(async () => {
  ensemble = await CorralEnsemble.start({ size: 3 });
});
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await ensemble?.stop();
});

async function connect(connectString: string): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, {
    sessionTimeoutMs: 6_000,
    connectTimeoutMs: 15_000,
  });
  clients.push(zk);
  return zk;
}

/** Creates `path`, retrying through connection loss; a create that landed before the loss counts. */
async function createEventually(zk: ZooKeeperClient, path: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      try {
        await zk.create(path, path);
        return true;
      } catch (e) {
        if (e instanceof NodeExistsError) return true;
        throw e;
      }
    },
    { timeoutMs, intervalMs: 10, message: `create ${path}` },
  );
}

test("after kill -9 of the leader a new leader is elected, writes resume, and the restarted server has every acknowledged write", async (t) => {
  const leader = await ensemble.waitForQuorum();
  const zk = await connect(ensemble.connectString);
  await zk.create("/fo");
  const acked: string[] = [];
  for (let i = 0; i < 20; i++) {
    const p = `/fo/before-${i}`;
    await zk.create(p, p);
    acked.push(p);
  }

  const killedAt = Date.now();
  await leader.kill9();
  const survivors = ensemble.members.filter((m) => m !== leader);
  const newLeader = await ensemble.waitForQuorum(survivors, 20_000);
  assert.notEqual(newLeader.id, leader.id);
  await createEventually(zk, "/fo/first-after", 20_000);
  const failoverMs = Date.now() - killedAt;
  acked.push("/fo/first-after");
  t.diagnostic(
    `leader ${leader.id} killed; server ${newLeader.id} leads; first write after ${failoverMs} ms`,
  );

  for (let i = 0; i < 20; i++) {
    const p = `/fo/after-${i}`;
    await createEventually(zk, p, 10_000);
    acked.push(p);
  }

  leader.launch();
  await ensemble.waitForQuorum(ensemble.members, 20_000);
  const direct = await connect(leader.connectString);
  await direct.sync("/fo");
  const children = new Set(await direct.getChildren("/fo"));
  for (const p of acked)
    assert.ok(children.has(p.slice("/fo/".length)), `${p} missing on the restarted server`);
  // And it takes part: a write through it is seen by the others.
  await direct.create("/fo/via-restarted", "x");
  const other = await connect(newLeader.connectString);
  await other.sync("/fo");
  assert.notEqual(await other.exists("/fo/via-restarted"), null);
});
