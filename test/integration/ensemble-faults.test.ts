// Real-process faults in Corral ensembles under a concurrent write load: kill -9 of a follower, a leader
// frozen with SIGSTOP past syncLimit, a follower restarted with an empty data dir (SNAP), and a five-server
// ensemble losing two and then three members. After each, every acknowledged write is on every server
// and all servers hold the same children.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { NodeExistsError, ZooKeeperClient } from "../../src/client/index.js";
import { CorralEnsemble, type EnsembleMemberProcess } from "../helpers/corral-ensemble.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const tickTime = 200;
const syncLimit = 5;
const sessionTimeoutMs = 4_000;
const loadParent = "/load";

async function connect(connectString: string): Promise<ZooKeeperClient> {
  return ZooKeeperClient.connect(connectString, { sessionTimeoutMs, connectTimeoutMs: 15_000 });
}

function logsOf(members: readonly EnsembleMemberProcess[]): string {
  return members.map((m) => `--- server ${m.id} ---\n${m.output.slice(-4000)}`).join("\n");
}

/** Runs `body`; on failure appends the servers' log tails to the error. */
async function withLogs(members: readonly EnsembleMemberProcess[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (e instanceof Error) e.message += `\n${logsOf(members)}`;
    throw e;
  }
}

/**
 * A few writers, each with its own session over the whole connect string, creating sequential nodes under
 * /load as fast as they are acknowledged. Every acknowledged path is recorded; a failed create (connection
 * loss while the ensemble changes) is counted and the writer waits until its session is connected again.
 */
class WriteLoad {
  readonly acked: string[] = [];
  failures = 0;
  private stopping = false;
  private readonly loops: Promise<void>[] = [];

  private constructor(private readonly clients: ZooKeeperClient[]) {}

  static async start(connectString: string, writers = 3): Promise<WriteLoad> {
    const clients: ZooKeeperClient[] = [];
    for (let i = 0; i < writers; i++) clients.push(await connect(connectString));
    try {
      await clients[0]!.create(loadParent);
    } catch (e) {
      if (!(e instanceof NodeExistsError)) throw e;
    }
    const load = new WriteLoad(clients);
    clients.forEach((zk, i) => load.loops.push(load.run(zk, `w${i}-`)));
    return load;
  }

  private async run(zk: ZooKeeperClient, prefix: string): Promise<void> {
    while (!this.stopping) {
      try {
        this.acked.push(
          await zk.create(`${loadParent}/${prefix}`, prefix, { mode: "persistent-sequential" }),
        );
      } catch {
        this.failures++;
        if (this.stopping) return;
        await waitFor(() => this.stopping || zk.state === "connected", {
          timeoutMs: 60_000,
          intervalMs: 20,
          message: `writer ${prefix} to reconnect`,
        });
      }
    }
  }

  /** Waits until `count` more writes than now are acknowledged. */
  async progress(count: number, timeoutMs = 20_000, what = "writes"): Promise<void> {
    const target = this.acked.length + count;
    await waitFor(() => this.acked.length >= target, {
      timeoutMs,
      intervalMs: 20,
      message: `${count} more acknowledged ${what} (have ${this.acked.length}, want ${target})`,
    });
  }

  /** Stops the writers (each finishes its create in flight) and closes their sessions. */
  async stop(): Promise<void> {
    this.stopping = true;
    await withTimeout(Promise.all(this.loops), 30_000, "writers to stop");
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}

/** sync + getChildren of `parent` through a session on `member` alone. */
async function childrenOn(member: EnsembleMemberProcess, parent: string): Promise<Set<string>> {
  const zk = await connect(member.connectString);
  try {
    await zk.sync(parent);
    return new Set(await zk.getChildren(parent));
  } finally {
    await zk.close().catch(() => undefined);
  }
}

/**
 * Waits until every member in `members` answers sync + getChildren(parent) with the same set, then checks
 * that set holds every acknowledged path.
 */
async function assertConverged(
  members: readonly EnsembleMemberProcess[],
  parent: string,
  acked: readonly string[],
): Promise<void> {
  let sets: Set<string>[] = [];
  await waitFor(
    async () => {
      sets = await Promise.all(members.map((m) => childrenOn(m, parent)));
      return sets.every((s) => s.size === sets[0]!.size && [...s].every((c) => sets[0]!.has(c)));
    },
    {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: `servers ${members.map((m) => m.id).join(",")} to hold the same children of ${parent}`,
    },
  ).catch((e: Error) => {
    e.message += `; sizes ${sets.map((s) => s.size).join(",")}`;
    throw e;
  });
  for (const [i, set] of sets.entries()) {
    const missing = acked.filter((p) => !set.has(p.slice(parent.length + 1)));
    assert.deepEqual(missing, [], `acknowledged writes missing on server ${members[i]!.id}`);
  }
  assert.ok(sets[0]!.size >= new Set(acked).size);
}

describe("three servers under a write load", () => {
  let ensemble: CorralEnsemble;
  before(async () => {
    // A small snapCount: every member has a snapshot on disk by the time (c) needs one.
    ensemble = await CorralEnsemble.start({
      size: 3,
      tickTime,
      syncLimit,
      extraConfig: { snapCount: "64" },
    });
  });
  after(async () => {
    for (const m of ensemble?.members ?? []) m.resume();
    await ensemble?.stop();
  });

  test("(a) kill -9 of a follower: writes continue; restarted, it catches up", async (t) => {
    await withLogs(ensemble.members, async () => {
      const leader = await ensemble.waitForQuorum();
      const follower = ensemble.members.find((m) => m !== leader)!;
      const load = await WriteLoad.start(ensemble.connectString);
      try {
        await load.progress(30);
        await follower.kill9();
        const ackedAtKill = load.acked.length;
        await load.progress(100, 20_000, "writes with a follower down");
        follower.launch();
        await ensemble.waitForQuorum(ensemble.members, 20_000);
        await load.progress(30);
        t.diagnostic(
          `follower ${follower.id} killed at ${ackedAtKill} acks; ${load.acked.length} acked, ${load.failures} failed`,
        );
      } finally {
        await load.stop();
      }
      await assertConverged(ensemble.members, loadParent, load.acked);
    });
  });

  test("(b) SIGSTOP of the leader past syncLimit: a new leader, writes resume; SIGCONT: it rejoins as follower", async (t) => {
    await withLogs(ensemble.members, async () => {
      const leader = await ensemble.waitForQuorum();
      const others = ensemble.members.filter((m) => m !== leader);
      const load = await WriteLoad.start(ensemble.connectString);
      try {
        await load.progress(30);
        const pausedAt = Date.now();
        leader.pause();
        let newLeader: EnsembleMemberProcess;
        try {
          newLeader = await ensemble.waitForQuorum(others, 20_000);
          await load.progress(50, 20_000, "writes with the old leader frozen");
          // The old leader was frozen for longer than the followers' patience.
          await waitFor(() => Date.now() - pausedAt > syncLimit * tickTime, {
            timeoutMs: syncLimit * tickTime + 1_000,
          });
        } finally {
          leader.resume();
        }
        const frozenMs = Date.now() - pausedAt;
        assert.notEqual(newLeader.id, leader.id);
        const settled = await ensemble.waitForQuorum(ensemble.members, 20_000);
        assert.notEqual(settled.id, leader.id, "the old leader came back as leader");
        assert.equal(await leader.mode(), "follower");
        await load.progress(30);
        t.diagnostic(
          `leader ${leader.id} frozen ${frozenMs} ms; server ${newLeader.id} took over; ${load.failures} failed creates`,
        );
      } finally {
        await load.stop();
      }
      await assertConverged(ensemble.members, loadParent, load.acked);
    });
  });

  test("(c) a follower restarted with an empty data dir gets the state by SNAP and converges", async (t) => {
    await withLogs(ensemble.members, async () => {
      const load = await WriteLoad.start(ensemble.connectString);
      try {
        // A leader offers a DIFF from zxid 0 while its in-memory history reaches back that far; once it has
        // restarted from a snapshot it must SNAP a learner that is behind that snapshot. Restart every member
        // (followers first), each from a snapshot, so whichever leads next has to SNAP.
        const leader = await ensemble.waitForQuorum();
        for (const m of [...ensemble.members.filter((x) => x !== leader), leader]) {
          await waitFor(() => m.snapshotFiles().length > 0, {
            timeoutMs: 20_000,
            message: `a snapshot on server ${m.id}`,
          });
          await m.kill9();
          m.launch();
          await ensemble.waitForQuorum(ensemble.members, 20_000);
          await load.progress(10);
        }
        const current = await ensemble.waitForQuorum();
        const victim = ensemble.members.find((m) => m !== current)!;
        await victim.kill9();
        victim.wipeData();
        await load.progress(30, 20_000, "writes with the victim down");
        victim.launch();
        await ensemble.waitForQuorum(ensemble.members, 20_000);
        await waitFor(() => victim.output.includes("installed snapshot from leader"), {
          timeoutMs: 10_000,
          message: `server ${victim.id} to log "installed snapshot from leader"`,
        });
        await load.progress(30);
        t.diagnostic(`server ${victim.id} wiped and restored by SNAP from server ${current.id}`);
      } finally {
        await load.stop();
      }
      await assertConverged(ensemble.members, loadParent, load.acked);
    });
  });
});

describe("five servers", () => {
  let ensemble: CorralEnsemble;
  const clients: ZooKeeperClient[] = [];
  before(async () => {
    ensemble = await CorralEnsemble.start({ size: 5, tickTime, syncLimit });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await ensemble?.stop();
  });

  test("(d) with two followers down writes go on; with three down they stop; a restart recovers", async (t) => {
    await withLogs(ensemble.members, async () => {
      const leader = await ensemble.waitForQuorum();
      const followers = ensemble.members.filter((m) => m !== leader);
      const [f1, f2, f3, f4] = followers as [
        EnsembleMemberProcess,
        EnsembleMemberProcess,
        EnsembleMemberProcess,
        EnsembleMemberProcess,
      ];
      const load = await WriteLoad.start(ensemble.connectString);
      try {
        await load.progress(30);
        await f1.kill9();
        await f2.kill9();
        await ensemble.waitForQuorum([leader, f3, f4], 20_000);
        await load.progress(100, 20_000, "writes with two of five down");
      } finally {
        await load.stop();
      }
      const acked = [...load.acked];

      // A session on the two that will remain, opened while there is still a quorum.
      const probe = await connect([leader, f4].map((m) => m.connectString).join(","));
      clients.push(probe);
      await f3.kill9();
      const noQuorumWrite = probe.create("/no-quorum", "x").then(
        () => "succeeded",
        (e: Error) => `failed: ${e.name}`,
      );
      // A leader without a quorum steps down: neither survivor serves as leader or follower.
      await waitFor(
        async () => {
          const modes = await Promise.all([leader.mode(), f4.mode()]);
          return modes.every((m) => m !== "leader" && m !== "follower");
        },
        { timeoutMs: 10_000, message: "the two survivors to stop serving" },
      );
      const outcome = await withTimeout(noQuorumWrite, 3_000, "the write without a quorum").catch(
        () => "still pending after 3 s",
      );
      assert.notEqual(outcome, "succeeded", "a write succeeded with three of five servers down");
      t.diagnostic(`write with three of five down: ${outcome}`);

      f3.launch();
      await ensemble.waitForQuorum([leader, f3, f4], 20_000);
      const recovered = await connect(ensemble.connectString);
      clients.push(recovered);
      const afterPaths: string[] = [];
      for (let i = 0; i < 10; i++)
        afterPaths.push(
          await recovered.create(`${loadParent}/recovered-`, "", { mode: "persistent-sequential" }),
        );

      f1.launch();
      f2.launch();
      await ensemble.waitForQuorum(ensemble.members, 20_000);
      await assertConverged(ensemble.members, loadParent, [...acked, ...afterPaths]);
    });
  });
});
