// metricsProvider.* serves Prometheus text on /metrics under ZooKeeper's PrometheusMetricsProvider names.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { freePort } from "../helpers/free-port.js";
import { RawClient } from "../helpers/raw-client.js";

const servers: ManagedServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

interface Scrape {
  types: Map<string, string>;
  samples: Map<string, number>;
}

/** A tiny Prometheus text-format reader: `# TYPE name type` and `name{labels} value` lines. */
function parsePrometheus(text: string): Scrape {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t !== null) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)(?: \d+)?$/.exec(line);
    assert.ok(m !== null, `bad sample line: ${line}`);
    samples.set(m[1]!, Number(m[2]!));
  }
  return { types, samples };
}

async function scrape(port: number): Promise<{ contentType: string; body: Scrape }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return { contentType: res.headers.get("content-type") ?? "", body: parsePrometheus(await res.text()) };
}

test("GET /metrics has ZooKeeper's gauges and Node process metrics", async () => {
  const metricsPort = await freePort();
  const s = await startCorral({
    extraConfig: {
      "metricsProvider.className": "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
      "metricsProvider.httpPort": String(metricsPort),
      "metricsProvider.httpHost": "127.0.0.1",
    },
  });
  servers.push(s);
  const c = await RawClient.connect(s.host, s.port);
  await c.create("/m", null);
  await c.create("/m/a", null);
  await c.create("/m/b", new TextEncoder().encode("hello"));
  await c.create("/m/e", null, 1); // ephemeral

  const { contentType, body } = await scrape(metricsPort);
  assert.match(contentType, /^text\/plain/);
  // A fresh tree counts 5 znodes (srvr and mntr say so too), plus the 4 created here.
  assert.equal(body.samples.get("znode_count"), 5 + 4);
  assert.equal(body.samples.get("ephemerals_count"), 1);
  assert.equal(body.samples.get("num_alive_connections"), 1);
  assert.equal(body.samples.get("global_sessions"), 1);
  assert.ok(body.samples.get("packets_received")! >= 4);
  assert.ok(body.samples.get("packets_sent")! >= 4);
  assert.ok(body.samples.get("approximate_data_size")! >= 5);
  assert.ok(body.samples.get("uptime")! > 0);
  for (const name of [
    "znode_count",
    "watch_count",
    "ephemerals_count",
    "num_alive_connections",
    "outstanding_requests",
    "global_sessions",
    "approximate_data_size",
    "packets_received",
    "packets_sent",
    "avg_latency",
    "min_latency",
    "max_latency",
    "uptime",
  ]) {
    assert.equal(body.types.get(name), "gauge", `${name} is a gauge`);
    assert.ok(body.samples.has(name), `${name} has a sample`);
  }
  // Summaries observed as things happen, with ZooKeeper's names: start-up ones once.
  for (const name of [
    "fsynctime",
    "snapshottime",
    "dbinittime",
    "startup_txns_loaded",
    "startup_snap_load_time",
    "election_time",
    "sync_processor_batch_size",
  ])
    assert.equal(body.types.get(name), "summary", `${name} is a summary`);
  assert.equal(body.samples.get("dbinittime_count"), 1);
  // Four creates (and the session) were logged: at least one fsync, each batch counted.
  assert.ok(body.samples.get("fsynctime_count")! >= 1);
  assert.ok(body.samples.get("sync_processor_batch_size_sum")! >= 5);
  assert.equal(body.samples.get("startup_txns_loaded_count"), 1);
  // The consensus counters exist on a standalone server too, at 0.
  for (const name of ["proposal_count", "commit_count", "looking_count", "diff_count", "snap_count"]) {
    assert.equal(body.types.get(name), "counter", `${name} is a counter`);
    assert.equal(body.samples.get(name), 0);
  }
  assert.equal(body.types.get("process_cpu_user_seconds_total"), "counter");
  assert.ok(body.samples.has("process_cpu_user_seconds_total"));

  // Values are read at scrape time.
  await c.delete("/m/a");
  assert.equal((await scrape(metricsPort)).body.samples.get("znode_count"), 5 + 3);
  await c.close();

  const missing = await fetch(`http://127.0.0.1:${metricsPort}/nope`);
  assert.equal(missing.status, 404);
  await missing.arrayBuffer();
});

test("without metricsProvider.className nothing listens on the metrics port", async () => {
  const metricsPort = await freePort();
  const s = await startCorral({ extraConfig: { "metricsProvider.httpPort": String(metricsPort) } });
  servers.push(s);
  await assert.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`));
});
