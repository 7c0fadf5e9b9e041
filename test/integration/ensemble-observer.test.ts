// An observer learns every commit and serves reads, but does not vote: the ensemble's quorum is its voters'.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient } from "../../src/client/index.js";
import { CorralEnsemble } from "../helpers/corral-ensemble.js";
import { waitFor } from "../helpers/wait.js";

let ensemble: CorralEnsemble | undefined;
const clients: ZooKeeperClient[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await ensemble?.stop();
});

test("an observer serves what the voters commit, takes writes by forwarding, and does not count for the quorum", async () => {
  ensemble = await CorralEnsemble.start({ size: 4, observers: 1, tickTime: 200 });
  const observer = ensemble.member(4);
  assert.equal(await observer.mode(), "observer");
  const viaObserver = await ZooKeeperClient.connect(observer.connectString, { sessionTimeoutMs: 6000 });
  clients.push(viaObserver);
  await viaObserver.create("/obs", "from the observer");
  const voter = await ZooKeeperClient.connect(ensemble.member(1).connectString, { sessionTimeoutMs: 6000 });
  clients.push(voter);
  await voter.sync("/obs");
  assert.equal(Buffer.from((await voter.getData("/obs")).data).toString(), "from the observer");
  await voter.setData("/obs", "from a voter");
  await viaObserver.sync("/obs");
  assert.equal(Buffer.from((await viaObserver.getData("/obs")).data).toString(), "from a voter");

  // Two of three voters down: the observer does not make a quorum, so the ensemble stops serving.
  const leader = await ensemble.waitForQuorum();
  const downs = ensemble.members
    .filter((m) => m !== observer && m !== leader)
    .slice(0, 1)
    .concat([leader]);
  for (const m of downs) await m.kill9();
  await waitFor(async () => (await observer.mode()) === null, {
    timeoutMs: 15_000,
    message: "the observer to stop serving without a voting quorum",
  });
});
