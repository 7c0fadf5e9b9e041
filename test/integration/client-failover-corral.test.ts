// Corral's client against a 3-node Corral ensemble: when its server dies (a follower, or the leader), the
// client moves to another server within the session timeout and keeps its session, ephemeral and watches.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperClient, type ClientState, type WatchEvent } from "../../src/client/index.js";
import { CorralEnsemble, type EnsembleMemberProcess } from "../helpers/corral-ensemble.js";
import { waitFor } from "../helpers/wait.js";

const sessionTimeoutMs = 6_000;
const ensembles: CorralEnsemble[] = [];
const clients: ZooKeeperClient[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const e of ensembles) await e.stop();
});

async function serverWithSession(
  e: CorralEnsemble,
  sessionId: bigint,
): Promise<EnsembleMemberProcess | undefined> {
  const sid = `sid=0x${BigInt.asUintN(64, sessionId).toString(16)},`;
  for (const m of e.members.filter((x) => x.running)) {
    if ((await m.fourLetterWord("cons").catch(() => "")).includes(sid)) return m;
  }
  return undefined;
}

async function connect(servers: EnsembleMemberProcess[]): Promise<ZooKeeperClient> {
  const c = await ZooKeeperClient.connect(servers.map((m) => m.connectString).join(","), {
    sessionTimeoutMs,
    shuffleHosts: false,
  });
  clients.push(c);
  return c;
}

async function failover(kill: "follower" | "leader"): Promise<void> {
  const e = await CorralEnsemble.start({ size: 3, tickTime: 200 });
  ensembles.push(e);
  const leader = await e.waitForQuorum();
  const first = kill === "leader" ? leader : e.members.find((m) => m !== leader)!;
  const client = await connect([first, ...e.members.filter((m) => m !== first)]);
  const states: ClientState[] = [];
  client.on("state", (s) => states.push(s));
  const sessionId = client.sessionId;
  assert.equal(await serverWithSession(e, sessionId), first, "the client starts on the chosen server");

  await client.create("/f");
  await client.create("/f/eph", "mine", { mode: "ephemeral" });
  await client.create("/f/watched", "v0");
  const oneShot: WatchEvent[] = [];
  const persistent: WatchEvent[] = [];
  await client.getData("/f/watched", { watch: (ev) => oneShot.push(ev) });
  await client.addWatch("/f/watched", (ev) => persistent.push(ev));

  await first.kill9();
  await waitFor(() => states.includes("disconnected") && client.state === "connected", {
    timeoutMs: sessionTimeoutMs,
    intervalMs: 20,
    message: `the client to reconnect after server ${first.id} was killed (states ${states.join(",")})`,
  });
  assert.equal(client.sessionId, sessionId);
  assert.ok(!states.includes("expired"));
  const survivors = e.members.filter((m) => m !== first);
  const writer = await connect(survivors);
  const stat = await writer.exists("/f/eph");
  assert.equal(stat?.ephemeralOwner, sessionId, "the ephemeral survived with its owner");
  await writer.setData("/f/watched", "v1");
  await waitFor(() => oneShot.length === 1 && persistent.length === 1, { message: "both watches to fire" });
  await writer.setData("/f/watched", "v2");
  await waitFor(() => persistent.length === 2, { message: "the persistent watch to fire again" });
  assert.equal(oneShot.length, 1, "the one-shot watch fired exactly once");
  await client.close();
  assert.equal(await writer.exists("/f/eph"), null, "closing the session removes its ephemeral");
}

test("a client whose follower is killed keeps its session, ephemeral and watches on a Corral ensemble", () =>
  failover("follower"));

test("a client whose server is the leader and is killed keeps its session, ephemeral and watches on a Corral ensemble", () =>
  failover("leader"));
