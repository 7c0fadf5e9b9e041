// Quotas look and act the same on Apache ZooKeeper 3.8 and Corral, both with enforceQuota on: the same zkCli.sh
// session (setquota, listquota, delquota, creates and sets over the limits) prints the same, leaves the same
// zookeeper_limits and zookeeper_stats nodes (data and Stat), and the same writes fail with the same codes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZkError, ZooKeeperClient } from "../../src/client/index.js";
import { runProcess, zkCli } from "../helpers/run-process.js";
import { skipReason, startServer, type ManagedServer } from "../helpers/servers.js";

const skip = skipReason(
  "zookeeper",
  existsSync(zkCli) ? undefined : `${zkCli} is missing (apt-get install zookeeper)`,
);

const runTimeoutMs = 90_000;

/** zkCli.sh reading `script` on stdin, its output without the connection preamble. */
async function zkCliScript(
  connectString: string,
  script: string,
  logDir: string,
): Promise<{ stdout: string; stderr: string }> {
  const r = await runProcess(zkCli, ["-server", connectString], {
    env: { TZ: "UTC", ZOO_LOG_DIR: logDir, CLIENT_JVMFLAGS: "-Xmx128m -XX:+UseSerialGC" },
    input: script,
    timeoutMs: runTimeoutMs,
  });
  const keep = (l: string): boolean =>
    !l.startsWith("SLF4J:") &&
    !l.startsWith("log4j:") &&
    !l.startsWith("Connecting to ") &&
    l !== "Welcome to ZooKeeper!" &&
    l !== "JLine support is disabled";
  const clean = (s: string): string =>
    s
      .replace(/\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n/g, "\n")
      .split("\n")
      .filter(keep)
      .join("\n");
  return { stdout: clean(r.stdout), stderr: clean(r.stderr) };
}

const script = [
  "create /q data1",
  "create /q/c1 x",
  "setquota -N 3 /q",
  "listquota /q",
  "create /q/c2 y",
  "create /q/c3 z",
  "setquota -B 10 /q",
  "listquota /q",
  "set /q/c1 0123456",
  "set /q/c1 ab",
  "delete /q/c2",
  "create /q/c4 w",
  "setquota -n 1 /q",
  "create /s",
  "setquota -n 1 /s",
  "create /s/a soft",
  "create /s/b",
  "listquota /s",
  "delquota -N /q",
  "create /q/c5",
  "listquota /q",
  "delquota /s",
  "listquota /s",
  "delquota /s",
  "create /deep",
  "create /deep/er",
  "setquota -b 100 /deep/er",
  "setquota -n 5 /deep",
  "listquota /deep/er",
  "ls /zookeeper/quota",
  "ls -R /zookeeper/quota",
  "",
].join("\n");

interface NodeShape {
  path: string;
  data: string | null;
  version: number;
  dataLength: number;
  numChildren: number;
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  cversion: number;
}

/** Every node under /zookeeper/quota, and the quota'd trees themselves, with data and Stat (times left out). */
async function shapeOf(zk: ZooKeeperClient): Promise<NodeShape[]> {
  const out: NodeShape[] = [];
  const visit = async (path: string): Promise<void> => {
    const { data, stat } = await zk.getData(path, { keepNull: true });
    out.push({
      path,
      data: data === null ? null : new TextDecoder().decode(data),
      version: stat.version,
      dataLength: stat.dataLength,
      numChildren: stat.numChildren,
      czxid: stat.czxid,
      mzxid: stat.mzxid,
      pzxid: stat.pzxid,
      cversion: stat.cversion,
    });
    for (const c of (await zk.getChildren(path)).sort()) await visit(`${path}/${c}`);
  };
  for (const root of ["/zookeeper/quota", "/q", "/s", "/deep"]) await visit(root);
  return out;
}

/** Writes through the client after the zkCli session; each write's outcome as a code (0 = ok). */
async function codesOf(zk: ZooKeeperClient): Promise<number[]> {
  const codes: number[] = [];
  const attempt = async (write: () => Promise<unknown>): Promise<void> => {
    try {
      await write();
      codes.push(0);
    } catch (err) {
      if (!(err instanceof ZkError)) throw err;
      codes.push(err.code);
    }
  };
  // /q: hard byte limit 10 with 9 bytes used; /deep/er: 100 bytes; /deep's quota was refused.
  await attempt(() => zk.create("/q/c6", "ab"));
  await attempt(() => zk.create("/q/c6", "a"));
  await attempt(() => zk.setData("/q", "data12"));
  await attempt(() => zk.setData("/q", "d"));
  await attempt(() => zk.transaction().create("/q/m1", "x").create("/q/m2", "123456").commit());
  await attempt(() => zk.transaction().create("/q/m1", "x").create("/q/m2", "y").commit());
  // Each op is checked against the applied tree (8 of 10 bytes): both pass, and together they overshoot.
  await attempt(() => zk.transaction().create("/q/m3", "ab").create("/q/m4", "ab").commit());
  await attempt(() => zk.create("/q/m5", "a"));
  await attempt(() => zk.create("/deep/er/big", "x".repeat(101)));
  await attempt(() => zk.create("/deep/er/ok", "x".repeat(99)));
  return codes;
}

let zookeeper: ManagedServer | undefined;
let corral: ManagedServer | undefined;
let logDir: string | undefined;

before(async () => {
  if (skip !== undefined) return;
  const options = { extraConfig: { enforceQuota: "true" } };
  [zookeeper, corral] = await Promise.all([
    startServer("zookeeper", options),
    startServer("corral", options),
  ]);
  logDir = mkdtempSync(join(tmpdir(), "corral-quota-shape-"));
});
after(async () => {
  await zookeeper?.stop();
  await corral?.stop();
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
});

test(
  "a zkCli quota session prints the same and leaves the same quota nodes on zookeeper and corral",
  { skip, timeout: 300_000 },
  async () => {
    const [theirs, ours] = await Promise.all([
      zkCliScript(zookeeper!.connectString, script, logDir!),
      zkCliScript(corral!.connectString, script, logDir!),
    ]);
    assert.match(theirs.stderr, /Quota has exceeded : \/q\/c3/, "zookeeper enforced the hard count quota");
    assert.match(theirs.stderr, /Quota has exceeded : \/q\/c1/, "and the hard byte quota on set");
    assert.equal(ours.stdout, theirs.stdout, "zkCli's stdout");
    assert.equal(ours.stderr, theirs.stderr, "zkCli's stderr");

    const clients = await Promise.all(
      [zookeeper!, corral!].map((s) =>
        ZooKeeperClient.connect(s.connectString, { sessionTimeoutMs: 10_000 }),
      ),
    );
    try {
      const [zkShape, corralShape] = await Promise.all(clients.map(shapeOf));
      assert.ok(
        zkShape!.some((n) => n.path === "/zookeeper/quota/q/zookeeper_stats" && n.data === "count=4,bytes=8"),
        JSON.stringify(zkShape, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      );
      assert.deepEqual(corralShape, zkShape);
      const [zkCodes, corralCodes] = await Promise.all(clients.map(codesOf));
      assert.ok(zkCodes!.includes(-125), `zookeeper refused something over quota: ${zkCodes}`);
      assert.deepEqual(zkCodes!.slice(6, 8), [0, -125], "zookeeper let one multi overshoot, then refused");
      assert.deepEqual(corralCodes, zkCodes);
      assert.deepEqual(await shapeOf(clients[1]!), await shapeOf(clients[0]!), "after the client's writes");
    } finally {
      for (const c of clients) await c.close();
    }
  },
);
