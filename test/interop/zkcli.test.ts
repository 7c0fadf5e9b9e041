// Apache ZooKeeper's own shell (zkCli.sh from Debian's zookeeper package) works against the target server.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient } from "../helpers/raw-client.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { ZkCliShell } from "../helpers/zkcli-shell.js";

const zkCli = "/usr/share/zookeeper/bin/zkCli.sh";
const target = interopTarget();
const skip = skipReason(
  target,
  existsSync(zkCli) ? undefined : `${zkCli} is missing (apt-get install zookeeper)`,
);

let server: ManagedServer | undefined;
let logDir: string | undefined;
let shell: ZkCliShell | undefined;

before(async () => {
  if (skip !== undefined) return;
  server = await startServer(target);
  logDir = mkdtempSync(join(tmpdir(), "corral-zkcli-"));
});
after(async () => {
  if (shell !== undefined && shell.child.exitCode === null) {
    // The whole group we created: bash and the java it started, nothing else.
    if (shell.child.pid !== undefined) process.kill(-shell.child.pid, "SIGKILL");
    await shell.exited;
  }
  await server?.stop();
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
});

test(
  `zkCli.sh creates, reads, sets, lists, watches and deletes on ${target}`,
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(server && logDir);
    // zkCli.sh runs java as a child of bash (no exec): its own process group lets after() kill both, and only them.
    const child = spawn(zkCli, ["-server", server.connectString], {
      env: { ...process.env, ZOO_LOG_DIR: logDir, CLIENT_JVMFLAGS: "-Xmx128m -XX:+UseSerialGC" },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    shell = new ZkCliShell(child, { expectTimeoutMs: 20_000 });
    await shell.expect(/WatchedEvent state:SyncConnected type:None path:null/, 30_000);

    await shell.run("create /zkcli hello", /Created \/zkcli\n/);
    await shell.run("get /zkcli", /^hello$/m);
    shell.send("set /zkcli world");
    const stat = await shell.run("stat /zkcli", /cZxid = (0x[0-9a-f]+)\n[\s\S]*?numChildren = 0\n/);
    assert.match(stat[0], /dataVersion = 1\n/);
    assert.match(stat[0], /dataLength = 5\n/);
    assert.match(stat[0], /ephemeralOwner = 0x0\n/);

    await shell.run("create /zkcli/child c", /Created \/zkcli\/child\n/);
    await shell.run("create -e /zkcli/eph", /Created \/zkcli\/eph\n/);
    await shell.run("create -s /zkcli/seq- s", /Created \/zkcli\/seq-0000000002\n/);
    await shell.run("ls /zkcli", /^\[child, eph, seq-0000000002\]$/m);

    await shell.run("get -w /zkcli", /^world$/m);
    const other = await RawClient.connect(server.host, server.port);
    try {
      await other.setData("/zkcli", Buffer.from("from-another-client"));
    } finally {
      await other.close();
    }
    await shell.expect(/WatchedEvent state:SyncConnected type:NodeDataChanged path:\/zkcli/);

    await shell.run("get /zkcli", /^from-another-client$/m);
    await shell.run("delete /zkcli", /Node not empty: \/zkcli/);
    shell.send("delete /zkcli/child");
    shell.send("delete /zkcli/eph");
    shell.send("delete /zkcli/seq-0000000002");
    await shell.run("ls /zkcli", /^\[\]$/m);
    shell.send("delete /zkcli");
    await shell.run("stat /zkcli", /Node does not exist: \/zkcli/);
    await shell.run("ls /", /^\[zookeeper\]$/m);
    shell.send("quit");
    shell.child.stdin?.end();
    assert.equal(await shell.exited, 0);
  },
);
