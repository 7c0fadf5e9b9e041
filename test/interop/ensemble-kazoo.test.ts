// Third-party clients against a three-server Corral ensemble through a connect string naming every member:
// kazoo (python3-kazoo) and zkCli.sh create, read and watch, then ride out kill -9 of the leader: the
// session survives (its ephemeral too), a read after the reconnect works, and so do new writes and watches.
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ZooKeeperClient } from "../../src/client/index.js";
import { CorralEnsemble, type EnsembleMemberProcess } from "../helpers/corral-ensemble.js";
import { skipReason } from "../helpers/servers.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const python = "/usr/bin/python3";
const zkCli = "/usr/share/zookeeper/bin/zkCli.sh";
const kazooSkip = skipReason(
  "corral",
  existsSync(python) ? undefined : `${python} is missing`,
  existsSync("/usr/lib/python3/dist-packages/kazoo") ? undefined : "python3-kazoo is not installed",
);
const zkCliSkip = skipReason(
  "corral",
  existsSync(zkCli) ? undefined : `${zkCli} is missing (apt-get install zookeeper)`,
);

// The kazoo side, run with `python3 -c`: prints one JSON line when it is ready for the leader to be killed,
// waits for a line on stdin (the leader is dead), then prints one JSON line of what it saw after.
const kazooScript = String.raw`
import json, sys, threading
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NodeExistsError
from kazoo.retry import KazooRetry

hosts, root = sys.argv[1], sys.argv[2]
states = []
suspended = threading.Event()
reconnected = threading.Event()
def on_state(state):
    states.append(str(state))
    if state == KazooState.SUSPENDED:
        suspended.set()
    elif state == KazooState.CONNECTED and suspended.is_set():
        reconnected.set()

retry = dict(max_tries=-1, delay=0.05, backoff=1.5, max_delay=0.5)
zk = KazooClient(hosts=hosts, timeout=10.0, randomize_hosts=False,
                 connection_retry=KazooRetry(**retry), command_retry=KazooRetry(deadline=30, **retry))
zk.add_listener(on_state)
zk.start(timeout=20)
out = {}
zk.create(root, b"v0")
data_event = threading.Event()
events = []
def on_data(event):
    events.append({"type": event.type, "path": event.path})
    data_event.set()
data, _ = zk.get(root, watch=on_data)
out["get"] = data.decode()
zk.set(root, b"v1")
out["data_watch_fired"] = data_event.wait(10)
out["events"] = list(events)
out["ephemeral"] = zk.create(root + "/eph", b"e", ephemeral=True)
dropped = []
out["later_exists_before"] = zk.exists(root + "/later", watch=lambda e: dropped.append(e.type)) is not None
out["session"] = "%x" % zk.client_id[0]
print(json.dumps(out), flush=True)

sys.stdin.readline()
out = {"suspended": suspended.wait(30), "reconnected": reconnected.wait(30)}
data, _ = zk.retry(zk.get, root)
out["get_after"] = data.decode()
out["ephemeral_after"] = zk.retry(zk.exists, root + "/eph") is not None
# kazoo drops its watches on a connection loss (each gets a NONE event) and does not re-arm them: set anew.
out["dropped_watch_events"] = dropped
later_event = threading.Event()
later = []
def on_later(event):
    later.append({"type": event.type, "path": event.path})
    later_event.set()
out["later_exists_after"] = zk.retry(zk.exists, root + "/later", watch=on_later) is not None
try:
    zk.retry(zk.create, root + "/later", b"l")
except NodeExistsError:
    pass
out["later_watch_fired"] = later_event.wait(10)
out["later_events"] = later
out["session_after"] = "%x" % zk.client_id[0]
out["states"] = states
print(json.dumps(out), flush=True)
zk.stop()
zk.close()
`;
import { ZkCliShell } from "../helpers/zkcli-shell.js";

let ensemble: CorralEnsemble;
const children: ChildProcess[] = [];

before(async () => {
  if (kazooSkip !== undefined && zkCliSkip !== undefined) return;
  ensemble = await CorralEnsemble.start({ size: 3 });
});
after(async () => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      // zkCli.sh is started in its own process group (bash and its java): kill exactly that group.
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        c.kill("SIGKILL");
      }
    }
  await ensemble?.stop();
});

/** The leader first, then the others: clients that keep the order connect to the leader. */
async function leaderFirst(): Promise<{ leader: EnsembleMemberProcess; connectString: string }> {
  const leader = await ensemble.waitForQuorum(ensemble.members, 20_000).catch((e: Error) => {
    e.message += `\n${logs()}`;
    throw e;
  });
  const order = [leader, ...ensemble.members.filter((m) => m !== leader)];
  return { leader, connectString: order.map((m) => m.connectString).join(",") };
}

async function restartAndSettle(m: EnsembleMemberProcess): Promise<void> {
  m.launch();
  await ensemble.waitForQuorum(ensemble.members, 20_000).catch((e: Error) => {
    e.message += `\n${logs()}`;
    throw e;
  });
}

function logs(): string {
  return ensemble.members.map((m) => `--- server ${m.id} ---\n${m.output.slice(-3000)}`).join("\n");
}

test(
  "kazoo keeps its session, ephemeral and watches through kill -9 of the leader",
  { skip: kazooSkip, timeout: 90_000 },
  async (t) => {
    const { leader, connectString } = await leaderFirst();
    const child = spawn(python, ["-c", kazooScript, connectString, "/kazoo-ens"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-8000)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const nextJson = async (what: string): Promise<Record<string, unknown>> => {
      const r = await withTimeout(lines.next(), 60_000, `kazoo: ${what}`).catch((e: Error) => {
        throw new Error(`${e.message}\n--- kazoo stderr ---\n${stderr}\n${logs()}`);
      });
      if (r.done === true)
        throw new Error(`kazoo exited before ${what}\n--- kazoo stderr ---\n${stderr}\n${logs()}`);
      return JSON.parse(r.value as string) as Record<string, unknown>;
    };

    const before = await nextJson("ready");
    assert.equal(before.get, "v0");
    assert.equal(before.data_watch_fired, true);
    assert.deepEqual(before.events, [{ type: "CHANGED", path: "/kazoo-ens" }]);
    assert.equal(before.ephemeral, "/kazoo-ens/eph");
    assert.equal(before.later_exists_before, false);

    await leader.kill9();
    t.after(async () => {
      if (!leader.running) await restartAndSettle(leader);
    });
    // Once the survivors have a leader no further role change closes kazoo's connection: the watch it sets
    // after reconnecting stays put.
    await ensemble.waitForQuorum(
      ensemble.members.filter((m) => m !== leader),
      20_000,
    );
    child.stdin.write("killed\n");
    const afterKill = await nextJson("after the kill");
    assert.equal(afterKill.suspended, true, `kazoo never saw the connection drop: ${stderr}`);
    assert.equal(afterKill.reconnected, true, `kazoo did not reconnect: ${stderr}`);
    assert.equal(afterKill.get_after, "v1");
    assert.equal(afterKill.session_after, before.session, "kazoo's session changed");
    assert.ok(!(afterKill.states as string[]).includes("LOST"), `session lost: ${String(afterKill.states)}`);
    assert.equal(afterKill.ephemeral_after, true, "the session's ephemeral is gone");
    // kazoo's own behaviour: a connection loss triggers every watch with a NONE event.
    assert.deepEqual(afterKill.dropped_watch_events, ["NONE"]);
    assert.equal(afterKill.later_exists_after, false);
    assert.equal(afterKill.later_watch_fired, true, "an exists watch set after the reconnect did not fire");
    assert.deepEqual(
      afterKill.later_events,
      [{ type: "CREATED", path: "/kazoo-ens/later" }],
      `kazoo states ${JSON.stringify(afterKill.states)}\n${logs()}`,
    );
    const code = await new Promise<number | null>((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve),
    );
    assert.equal(code, 0, stderr);

    await restartAndSettle(leader);
    // The restarted server has what kazoo wrote.
    const zk = await ZooKeeperClient.connect(leader.connectString, { sessionTimeoutMs: 4_000 });
    try {
      await zk.sync("/kazoo-ens");
      assert.notEqual(await zk.exists("/kazoo-ens/later"), null);
    } finally {
      await zk.close();
    }
  },
);

/**
 * zkCli.sh on the whole ensemble: create, get with a data watch fired by another client; then kill -9 of the
 * leader, and once the survivors have a leader, a read and a write through the same zkCli session. With
 * `childWatchAcrossKill`, an `ls -w` child watch is outstanding at the kill and must fire afterwards (the Java
 * client re-arms it on the new server with setWatches).
 */
async function zkCliAcrossLeaderKill(
  t: TestContext,
  root: string,
  childWatchAcrossKill: boolean,
): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), "corral-zkcli-ens-"));
  try {
    const { leader, connectString } = await leaderFirst();
    const child = spawn(zkCli, ["-server", connectString], {
      env: { ...process.env, ZOO_LOG_DIR: logDir, CLIENT_JVMFLAGS: "-Xmx128m -XX:+UseSerialGC" },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    children.push(child);
    const shell = new ZkCliShell(child, { expectTimeoutMs: 30_000, context: logs });
    await shell.expect(/WatchedEvent state:SyncConnected type:None path:null/, 60_000);
    await shell.run(`create ${root} hello`, new RegExp(`Created ${root}\n`));
    await shell.run(`get -w ${root}`, /^hello$/m);
    const other = await ZooKeeperClient.connect(ensemble.connectString, { sessionTimeoutMs: 4_000 });
    try {
      await other.setData(root, "changed");
    } finally {
      await other.close();
    }
    await shell.expect(new RegExp(`WatchedEvent state:SyncConnected type:NodeDataChanged path:${root}`));
    if (childWatchAcrossKill) await shell.run(`ls -w ${root}`, /^\[\]$/m);

    await leader.kill9();
    t.after(async () => {
      if (!leader.running) await restartAndSettle(leader);
    });
    // Whichever member it was on, the connection drops (the leader died, or a follower went looking).
    await shell.expect(/WatchedEvent state:Disconnected type:None path:null/);
    await ensemble.waitForQuorum(
      ensemble.members.filter((m) => m !== leader),
      20_000,
    );
    // zkCli may be reconnecting still: a read that meets a connection loss is repeated.
    await waitFor(
      async () => {
        const m = await shell.run(`get ${root}`, /^(changed|KeeperErrorCode = ConnectionLoss.*)$/m);
        return m[1] === "changed";
      },
      { timeoutMs: 30_000, intervalMs: 200, message: `zkCli to read ${root} after the failover` },
    );
    // The event and the create's reply may print in either order: zkCli's event thread runs on its own.
    const beforeCreate = shell.output.length;
    await shell.run(`create ${root}/after x`, new RegExp(`Created ${root}/after\n`));
    if (childWatchAcrossKill) {
      const event = `WatchedEvent state:SyncConnected type:NodeChildrenChanged path:${root}\n`;
      await waitFor(() => shell.output.slice(beforeCreate).includes(event), {
        timeoutMs: 30_000,
        message: "the re-armed child watch to fire",
      });
    }
    await shell.run(`ls ${root}`, /^\[after\]$/m);
    shell.send("quit");
    child.stdin?.end();
    assert.equal(await withTimeout(shell.exited, 30_000, "zkCli to quit"), 0);
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

test(
  "zkCli.sh creates, reads and watches, and reads and writes again after kill -9 of the leader",
  { skip: zkCliSkip, timeout: 120_000 },
  (t) => zkCliAcrossLeaderKill(t, "/zkcli-ens", false),
);

test(
  "zkCli.sh: a child watch outstanding at kill -9 of the leader fires after the reconnect",
  {
    skip: zkCliSkip,
    // The 3.8 Java client re-arms watches with an ordinary xid and needs it echoed in the reply.
    timeout: 120_000,
  },
  (t) => zkCliAcrossLeaderKill(t, "/zkcli-ens-w", true),
);
