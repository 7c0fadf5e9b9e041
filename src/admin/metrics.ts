// Prometheus metrics under the names ZooKeeper 3.8's PrometheusMetricsProvider exposes, plus prom-client's
// default Node process metrics, served as text on GET /metrics.
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from "prom-client";
import type { ZabCounters } from "../consensus/zab-node.js";
import type { ServerStats } from "./four-letter-words.js";

/** What the gauges read, lazily at scrape time. */
export type MetricsSource = Pick<
  ServerStats,
  | "nodeCount"
  | "watchCount"
  | "ephemeralsCount"
  | "outstandingRequests"
  | "sessionCount"
  | "approximateDataSize"
  | "packetsReceived"
  | "packetsSent"
  | "latencyMinMs"
  | "latencyMaxMs"
  | "latencyTotalMs"
  | "latencyCount"
  | "startedMs"
> & {
  readonly connectionList: readonly unknown[];
  /** The consensus core's running totals; null for a standalone server. */
  zabCounters(): ZabCounters | null;
};

/**
 * Summaries observed as things happen, under ServerMetrics' names (ms unless said). ZooKeeper's "BASIC"
 * summaries report the median; so do these, over a sliding ten minutes, with _sum and _count.
 */
export const summaryNames = {
  fsynctime: "Time to fsync the txn log, ms",
  snapshottime: "Time to serialise and write a snapshot, ms",
  dbinittime: "Time to load the data tree at start, ms",
  startup_txns_loaded: "Txns replayed from the log at start",
  startup_snap_load_time: "Time to load the newest snapshot at start, ms",
  election_time: "Time from looking to leading, following or observing, ms",
  sync_processor_batch_size: "Txns made durable by one fsync (group commit)",
} as const;
export type SummaryName = keyof typeof summaryNames;

/** Counters read from the consensus core's totals at scrape time. */
const zabCounterNames: Record<string, [keyof ZabCounters, string]> = {
  proposal_count: ["proposals", "Txns proposed while leading"],
  commit_count: ["commits", "Txns committed and applied"],
  looking_count: ["lookings", "Times this server started an election"],
  diff_count: ["diffs", "Learners synced by DIFF while leading"],
  snap_count: ["snaps", "Learners synced by SNAP while leading"],
  learner_proposal_received_count: ["learnerProposalsReceived", "Proposals received while following"],
  learner_commit_received_count: ["learnerCommitsReceived", "Commits received while following"],
};

/** ZooKeeper's class name; any non-empty metricsProvider.className turns metrics on. */
export const prometheusProviderClass = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

export class Metrics {
  readonly registry = new Registry();
  private readonly summaries = new Map<SummaryName, Summary>();

  constructor(source: MetricsSource) {
    const gauge = (name: string, help: string, read: (s: MetricsSource) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(source));
        },
      });
    };
    // The gauges ZooKeeperServer.registerMetrics registers, with the values mntr prints.
    gauge("znode_count", "Number of znodes", (s) => s.nodeCount);
    gauge("watch_count", "Number of data and child watches", (s) => s.watchCount);
    gauge("ephemerals_count", "Number of ephemeral znodes", (s) => s.ephemeralsCount);
    gauge("num_alive_connections", "Number of client connections", (s) => s.connectionList.length);
    gauge("outstanding_requests", "Requests received but not yet answered", (s) => s.outstandingRequests);
    gauge("global_sessions", "Number of sessions", (s) => s.sessionCount);
    gauge("local_sessions", "Number of local sessions", () => 0);
    gauge(
      "approximate_data_size",
      "Approximate size of the data tree in bytes",
      (s) => s.approximateDataSize,
    );
    gauge("packets_received", "Client packets received", (s) => s.packetsReceived);
    gauge("packets_sent", "Client packets sent", (s) => s.packetsSent);
    gauge("avg_latency", "Average request latency in ms", (s) =>
      s.latencyCount === 0 ? 0 : s.latencyTotalMs / s.latencyCount,
    );
    gauge("min_latency", "Minimum request latency in ms", (s) => (s.latencyCount === 0 ? 0 : s.latencyMinMs));
    gauge("max_latency", "Maximum request latency in ms", (s) => s.latencyMaxMs);
    gauge("uptime", "Milliseconds since the server started", (s) => Date.now() - s.startedMs);
    for (const [name, help] of Object.entries(summaryNames)) {
      const summary = new Summary({
        name,
        help,
        percentiles: [0.5],
        maxAgeSeconds: 600,
        ageBuckets: 5,
        registers: [this.registry],
      });
      this.summaries.set(name as SummaryName, summary);
    }
    for (const [name, [key, help]] of Object.entries(zabCounterNames)) {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(source.zabCounters()?.[key] ?? 0);
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }

  /** One observation of a summary (ZooKeeper's Summary.add). */
  observe(name: SummaryName, value: number): void {
    this.summaries.get(name)!.observe(value);
  }

  /** Serves GET /metrics on host:port; resolves once listening. */
  async listen(port: number, host: string): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" || (path !== "/metrics" && path !== "/")) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(e)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return server;
  }
}

/** Closes the metrics server, dropping idle keep-alive sockets. */
export function closeMetricsServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
