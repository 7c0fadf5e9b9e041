// Quotas against a real Corral server with enforceQuota=true, through the client and the shell's quota commands:
// hard limits refuse creates and setData with QuotaExceeded, a soft limit logs a warning and lets the write
// through, zookeeper_stats stays current (and survives a restart).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { QuotaExceededError, ZooKeeperClient } from "../../src/client/index.js";
import { delQuota, listQuota, setQuota, type QuotaOption } from "../../src/cli/shell-quota.js";
import { startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

let server: ManagedServer | undefined;
let zk: ZooKeeperClient | undefined;

before(async () => {
  server = await startCorral({ extraConfig: { enforceQuota: "true" } });
  zk = await ZooKeeperClient.connect(server.connectString, { sessionTimeoutMs: 10_000 });
});
after(async () => {
  await zk?.close();
  await server?.stop();
});

/** Runs a shell quota command and returns what it printed. */
async function shell(
  run: (io: { out(t: string): void; err(t: string): void }) => Promise<void>,
): Promise<{ out: string; err: string }> {
  let out = "";
  let err = "";
  await run({ out: (t) => void (out += t), err: (t) => void (err += t) });
  return { out, err };
}

const set = (path: string, option: QuotaOption, value: number): Promise<{ out: string; err: string }> =>
  shell((io) => setQuota(zk!, io, path, option, String(value)));

async function statsOf(path: string): Promise<string> {
  return new TextDecoder().decode((await zk!.getData(`/zookeeper/quota${path}/zookeeper_stats`)).data);
}

test("a hard count quota lets N nodes exist and stops the N+1th create with QuotaExceeded", async () => {
  await zk!.create("/hardcount", "root");
  assert.deepEqual(await set("/hardcount", "N", 3), { out: "", err: "" });
  await zk!.create("/hardcount/a");
  await zk!.create("/hardcount/b", "bb");
  await assert.rejects(zk!.create("/hardcount/c"), (e: unknown) => {
    assert.ok(e instanceof QuotaExceededError, String(e));
    assert.equal(e.path, "/hardcount/c");
    return true;
  });
  assert.equal(await zk!.exists("/hardcount/c"), null);
  assert.equal(await statsOf("/hardcount"), "count=3,bytes=6");
  const listed = await shell((io) => listQuota(zk!, io, "/hardcount"));
  assert.equal(
    listed.out,
    "Output quota for /hardcount count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3\n" +
      "Output stat for /hardcount count=3,bytes=6\n",
  );
  assert.equal(listed.err, "absolute path is /zookeeper/quota/hardcount/zookeeper_limits\n");
  // Deleting frees room again.
  await zk!.delete("/hardcount/a");
  await zk!.create("/hardcount/c");
  // A multi with an op over the quota fails whole.
  await assert.rejects(
    zk!.transaction().create("/hardcount-free").create("/hardcount/d").commit(),
    QuotaExceededError,
  );
  assert.equal(await zk!.exists("/hardcount-free"), null);
});

test("a hard byte quota stops a setData that would grow the subtree past it", async () => {
  await zk!.create("/hardbytes", "12345");
  await set("/hardbytes", "B", 10);
  await zk!.setData("/hardbytes", "1234567890");
  await assert.rejects(zk!.setData("/hardbytes", "12345678901"), QuotaExceededError);
  assert.equal(new TextDecoder().decode((await zk!.getData("/hardbytes")).data), "1234567890");
  await zk!.setData("/hardbytes", "1");
  await assert.rejects(zk!.create("/hardbytes/child", "1234567890"), QuotaExceededError);
  assert.equal(await statsOf("/hardbytes"), "count=1,bytes=1");
});

test("a soft quota logs a warning line on the server and lets the write through", async () => {
  await zk!.create("/soft");
  await set("/soft", "n", 1);
  await zk!.create("/soft/over", "x");
  assert.notEqual(await zk!.exists("/soft/over"), null);
  assert.equal(await statsOf("/soft"), "count=2,bytes=1");
  const line = "Quota exceeded: /soft [current count=2, softCountLimit=1]";
  await waitFor(() => (server!.stdout + server!.stderr).includes(line), {
    timeoutMs: 5_000,
    message: `the server to log "${line}"`,
  });
  const logged = (server!.stdout + server!.stderr).split("\n").find((l) => l.includes(line))!;
  assert.match(logged, /"level":40/, "logged at warn");
});

test("delquota lifts one limit or removes the quota, and the tree stops counting", async () => {
  await zk!.create("/lifted");
  await set("/lifted", "N", 1);
  await assert.rejects(zk!.create("/lifted/a"), QuotaExceededError);
  await shell((io) => delQuota(zk!, io, "/lifted", "N"));
  await zk!.create("/lifted/a");
  assert.equal(await statsOf("/lifted"), "count=2,bytes=0");
  assert.deepEqual(await shell((io) => delQuota(zk!, io, "/lifted", undefined)), { out: "", err: "" });
  assert.equal(await zk!.exists("/zookeeper/quota/lifted"), null, "quota nodes and empty parents removed");
  await zk!.create("/lifted/b");
  const listed = await shell((io) => listQuota(zk!, io, "/lifted"));
  assert.equal(listed.err.split("\n")[1], "quota for /lifted does not exist.");
});

test("setquota refuses nested quotas and missing paths as zkCli does", async () => {
  await zk!.create("/outer");
  await zk!.create("/outer/inner");
  await set("/outer", "n", 5);
  await assert.rejects(set("/outer/inner", "n", 5), /\/outer\/inner has a parent \/outer which has a quota/);
  await assert.rejects(set("/nothing-here", "n", 5), /\/nothing-here does not exist\./);
  const warned = await set("/outer", "n", 1);
  assert.equal(warned.out, "[Warning]: the count quota you create is less than the existing count:2\n");
});

test("zookeeper_stats and enforcement survive a restart", async () => {
  await zk!.create("/durable");
  await set("/durable", "N", 2);
  await zk!.create("/durable/a", "abc");
  await zk!.close();
  await server!.kill9();
  await server!.restart();
  zk = await ZooKeeperClient.connect(server!.connectString, { sessionTimeoutMs: 10_000 });
  assert.equal(await statsOf("/durable"), "count=2,bytes=3");
  await assert.rejects(zk.create("/durable/b"), QuotaExceededError);
});
