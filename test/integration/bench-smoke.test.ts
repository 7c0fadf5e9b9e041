// `corral bench` workloads against a real Corral server, small and short: each runs and produces numbers.
// Says nothing about speed; bench:compare does that.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareWorkloads, comparisonTable, type CompareResults } from "../../bench/report.js";
import { startCorralEnsembleForBench, startCorralForBench, type BenchServer } from "../../bench/servers.js";
import {
  rotatedConnectString,
  runWorkload,
  workloadNames,
  type WorkloadOptions,
} from "../../bench/workloads.js";
import { fourLetterWord } from "../helpers/four-letter-word.js";
import { probeFsyncLatency } from "../../bench/fsync-probe.js";
import { NodeExistsError, ZooKeeperClient } from "../../src/client/index.js";

let server: BenchServer | undefined;

before(async () => {
  server = await startCorralForBench();
});
after(async () => {
  await server?.stop();
});

function smallOptions(): WorkloadOptions {
  return {
    connectString: server!.connectString,
    durationMs: 1_000,
    warmupMs: 100,
    connections: 2,
    outstanding: 4,
    payloadBytes: 100,
    children: 20,
    watchers: 5,
    znodes: 300,
    server,
  };
}

for (const workload of workloadNames) {
  test(`the ${workload} workload runs against Corral and reports throughput and latency`, async () => {
    const r = await runWorkload(workload, smallOptions());
    assert.equal(r.workload, workload);
    assert.equal(r.errors, 0, `no errors (first: ${r.firstError})`);
    assert.ok(r.ops > 0, "some operations were measured");
    assert.ok(Number.isFinite(r.opsPerSec) && r.opsPerSec > 0, `ops/s ${r.opsPerSec}`);
    for (const [name, v] of Object.entries(r.latency))
      assert.ok(Number.isFinite(v) && v >= 0, `latency ${name} = ${v}`);
    assert.ok(
      r.latency.p50Ms <= r.latency.p99Ms && r.latency.p99Ms <= r.latency.p999Ms,
      "percentiles in order",
    );
    if (workload === "tree") {
      assert.equal(r.ops, 300, "every znode was created and timed");
      for (const key of ["rssPerZnodeBytes", "dataDirBytes", "restartMs", "shutdownMs"])
        assert.ok(Number.isFinite(r.extra[key]), `${key} = ${r.extra[key]}`);
    }
    if (workload === "watch") assert.equal(r.extra.watchers, 5);
  });
}

test("the create workload deletes what it created: the next run starts from the tree this one started from", async () => {
  const [host, port] = server!.connectString.split(":");
  const nodeCount = async (): Promise<number> => {
    const srvr = await fourLetterWord(host!, Number(port), "srvr", 2_000);
    return Number(/^Node count: (\d+)$/m.exec(srvr)?.[1] ?? NaN);
  };
  const zk = await ZooKeeperClient.connect(server!.connectString, { sessionTimeoutMs: 30_000 });
  try {
    await zk.create("/corral-bench", null).catch((err: unknown) => {
      if (!(err instanceof NodeExistsError)) throw err;
    });
    const before = await nodeCount();
    const r = await runWorkload("create", smallOptions());
    assert.ok(r.ops > 100, `it created nodes (${r.ops})`);
    await zk.sync("/");
    assert.equal(await nodeCount(), before);
  } finally {
    await zk.close();
  }
});

test("an ensemble target spreads the workload's sessions over its three members and reports per topology", async () => {
  const ensemble = await startCorralEnsembleForBench({ tickTime: 200 });
  try {
    assert.equal(ensemble.connectString.split(",").length, 3);
    assert.equal(ensemble.pids.length, 3, "every member's pid, for the CPU figures");
    const options = {
      ...smallOptions(),
      connectString: ensemble.connectString,
      server: ensemble,
      connections: 3,
    };
    const results: CompareResults = {};
    for (const workload of ["create", "mixed"] as const) {
      const r = await runWorkload(workload, options);
      assert.equal(r.errors, 0, `${workload}: no errors (first: ${r.firstError})`);
      assert.ok(r.ops > 0, `${workload}: some operations were measured`);
      assert.ok(Number.isFinite(r.extra.serverCpuUsPerOp), "the members' CPU adds up to a figure");
      (results["corral-3"] ??= {})[workload] = [r];
    }
    // Each member served one of the three sessions: every member received client packets.
    for (const hp of ensemble.connectString.split(",")) {
      const [host, port] = hp.split(":");
      const srvr = await fourLetterWord(host!, Number(port), "srvr", 2_000);
      const received = Number(/^Received: (\d+)$/m.exec(srvr)?.[1] ?? NaN);
      assert.ok(received > 100, `${hp} received ${received} packets:\n${srvr}`);
    }
    const table = comparisonTable(compareWorkloads(results, ["create", "mixed"], ["corral-3"]), true);
    assert.match(table, /\| create \| ×3 \| n\/a \| [\d,]+ \|/);
  } finally {
    await ensemble.stop();
  }
});

test("session n of a connect string goes to member n mod size first", () => {
  const cs = "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3";
  assert.equal(rotatedConnectString(cs, 0), cs);
  assert.equal(rotatedConnectString(cs, 1), "127.0.0.1:2,127.0.0.1:3,127.0.0.1:1");
  assert.equal(rotatedConnectString(cs, 5), "127.0.0.1:3,127.0.0.1:1,127.0.0.1:2");
  assert.equal(rotatedConnectString("127.0.0.1:9", 7), "127.0.0.1:9");
});

test("the fsync probe times each fdatasync and leaves nothing behind", async (t) => {
  const parent = await mkdtemp(join(tmpdir(), "corral-probe-test-"));
  t.after(() => rm(parent, { recursive: true, force: true }));
  const f = await probeFsyncLatency(parent, 20);
  assert.equal(f.count, 20);
  assert.ok(f.p50Ms > 0 && f.p50Ms <= f.p90Ms && f.p90Ms <= f.maxMs, JSON.stringify(f));
  assert.deepEqual(await readdir(parent), []);
  await assert.rejects(probeFsyncLatency(parent, 0), RangeError);
});
