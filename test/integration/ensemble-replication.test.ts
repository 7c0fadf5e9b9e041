// A three-server ensemble of real `corral server` processes: writes through any member are seen by
// all, sequential names are unique ensemble-wide, and ephemerals die everywhere with their session.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { NoNodeError, ZooKeeperClient } from "../../src/client/index.js";
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

async function connectTo(id: number): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(ensemble.member(id).connectString, {
    sessionTimeoutMs: 4_000,
    connectTimeoutMs: 10_000,
  });
  clients.push(zk);
  return zk;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

test("srvr reports one leader and two followers, and mntr counts the leader's synced followers", async () => {
  const leader = await ensemble.waitForQuorum();
  const mntr = await leader.fourLetterWord("mntr");
  assert.match(mntr, /^zk_server_state\tleader$/m);
  assert.match(mntr, /^zk_followers\t2$/m);
  assert.match(mntr, /^zk_synced_followers\t2$/m);
  assert.match(mntr, /^zk_pending_syncs\t\d+$/m);
});

test("a write through any member is visible on every member after sync", async () => {
  const zks = [await connectTo(1), await connectTo(2), await connectTo(3)];
  await zks[0]!.create("/rep", "root");
  for (let i = 0; i < 3; i++) await zks[i]!.create(`/rep/from-${i + 1}`, `written via ${i + 1}`);
  for (const zk of zks) {
    await zk.sync("/rep");
    assert.deepEqual((await zk.getChildren("/rep")).sort(), ["from-1", "from-2", "from-3"]);
    for (let i = 0; i < 3; i++)
      assert.equal(text((await zk.getData(`/rep/from-${i + 1}`)).data), `written via ${i + 1}`);
  }
  // A setData through a follower bumps the version seen by all.
  await zks[1]!.setData("/rep", "v2");
  for (const zk of zks) {
    await zk.sync("/rep");
    const { data, stat } = await zk.getData("/rep");
    assert.equal(text(data), "v2");
    assert.equal(stat.version, 1);
  }
});

test("sequential names are unique across the ensemble", async () => {
  const zks = [await connectTo(1), await connectTo(2), await connectTo(3)];
  await zks[0]!.create("/seq");
  const created = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      zks[i % 3]!.create("/seq/n-", "", { mode: "persistent-sequential" }),
    ),
  );
  assert.equal(new Set(created).size, 30);
  await zks[2]!.sync("/seq");
  const children = await zks[2]!.getChildren("/seq");
  assert.deepEqual(children.sort(), created.map((p) => p.slice("/seq/".length)).sort());
});

test("an ephemeral created through a follower disappears everywhere when its session closes", async () => {
  const leader = await ensemble.waitForQuorum();
  const followerId = ensemble.members.find((m) => m.id !== leader.id)!.id;
  const owner = await ZooKeeperClient.connect(ensemble.member(followerId).connectString, {
    sessionTimeoutMs: 4_000,
  });
  await owner.create("/eph-" + followerId, "mine", { mode: "ephemeral" });
  const watchers = [await connectTo(1), await connectTo(2), await connectTo(3)];
  for (const zk of watchers) {
    await zk.sync("/");
    assert.equal((await zk.exists("/eph-" + followerId))?.ephemeralOwner, owner.sessionId);
  }
  await owner.close();
  for (const zk of watchers) {
    await zk.sync("/");
    await assert.rejects(zk.getData("/eph-" + followerId), NoNodeError);
  }
});

test("a session that moves to another member keeps its ephemerals", async () => {
  const zk = await ZooKeeperClient.connect(ensemble.connectString, { sessionTimeoutMs: 4_000 });
  clients.push(zk);
  await zk.create("/moving", "", { mode: "ephemeral" });
  const other = await connectTo(1);
  await waitFor(async () => {
    await other.sync("/");
    return (await other.exists("/moving")) !== null;
  });
});
