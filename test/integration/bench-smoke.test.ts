// `corral bench` workloads against a real Corral server, small and short: each runs and produces numbers.
// Says nothing about speed; bench:compare does that.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startCorralForBench, type BenchServer } from "../../bench/servers.js";
import { runWorkload, workloadNames, type WorkloadOptions } from "../../bench/workloads.js";

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
