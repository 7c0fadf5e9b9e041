// The benchmark workloads: each opens its own sessions to a connect string, sets up its nodes under a fresh path,
// keeps requests outstanding for a duration (or a count), and returns throughput and a latency summary.
import assert from "node:assert/strict";
import { NodeExistsError, NoNodeError, ZooKeeperClient, type WatchEvent } from "../src/client/index.js";
import { LatencyHistogram, type LatencySummary } from "./histogram.js";
import {
  dirBytes,
  javaHeapUsedBytes,
  settledRssBytes,
  newestSnapshot,
  processesCpuMs,
  rssBytes,
  type BenchServer,
} from "./servers.js";

export const workloadNames = [
  "create",
  "setData",
  "getData",
  "exists",
  "getChildren",
  "mixed",
  "watch",
  "churn",
  "tree",
] as const;
export type WorkloadName = (typeof workloadNames)[number];

export const workloadDescriptions: Record<WorkloadName, string> = {
  create: "create, persistent, payload bytes (deleted after the run, untimed)",
  setData: "setData on one node per worker",
  getData: "getData on one node per worker",
  exists: "exists on one node per worker",
  getChildren: "getChildren of a node with `children` children",
  mixed: "90 % getData / 10 % setData",
  watch: "one setData wakes `watchers` sessions; latency = until the last event",
  churn: "connect + create ephemeral + close",
  tree: "create `znodes` nodes; RSS per znode, snapshot size, restart time",
};

export function isWorkloadName(name: string): name is WorkloadName {
  return (workloadNames as readonly string[]).includes(name);
}

export interface WorkloadOptions {
  connectString: string;
  /** Measured time per workload (the tree workload runs until its znodes exist instead). */
  durationMs: number;
  /** Time run before measuring starts (not counted), so a JIT warms up on both sides. */
  warmupMs: number;
  /** Sessions the requests are spread over (churn: sessions open at once). */
  connections: number;
  /** Requests in flight at any moment, over all connections. */
  outstanding: number;
  /** Bytes of data in each create and setData. */
  payloadBytes: number;
  /** Children of the getChildren node. */
  children: number;
  /** Sessions one write wakes in the watch workload. */
  watchers: number;
  /** Nodes the tree workload creates. */
  znodes: number;
  /** The server, when the bench started it: RSS, snapshot size, restart time. */
  server?: BenchServer;
  /** Progress lines. */
  log?: (line: string) => void;
}

export const workloadDefaults = {
  durationMs: 10_000,
  warmupMs: 1_000,
  connections: 8,
  outstanding: 64,
  payloadBytes: 100,
  children: 1_000,
  watchers: 100,
  znodes: 1_000_000,
} satisfies Partial<WorkloadOptions>;

/** Extra figures some workloads have (null when they could not be measured, e.g. no server pid). */
export type Extra = Record<string, number | null>;

export interface WorkloadResult {
  workload: WorkloadName;
  ops: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  opsPerSec: number;
  latency: LatencySummary;
  extra: Extra;
}

const sessionTimeoutMs = 30_000;
/** How long one watch fan-out may take before it counts as an error (a lost event). */
const fanOutTimeoutMs = 10_000;
/** Requests in flight while a workload sets up its nodes. */
const setupOutstanding = 64;
/** Children per interior node of the large tree: no node gets a million children. */
const treeFanOut = 1_000;

let runCounter = 0;

/** A path no earlier run used: /corral-bench/<workload>-<time>-<pid>-<n>. */
function runPath(workload: WorkloadName): string {
  runCounter += 1;
  return `/corral-bench/${workload}-${Date.now().toString(36)}-${process.pid}-${runCounter}`;
}

/**
 * The connect string with its hosts rotated by `n`, for a client that keeps the string's order: session n of
 * an ensemble goes to member n mod size first, so sessions spread evenly (a random pick would not, over 8).
 */
export function rotatedConnectString(connectString: string, n: number): string {
  const hosts = connectString.split(",");
  const k = n % hosts.length;
  return [...hosts.slice(k), ...hosts.slice(0, k)].join(",");
}

/** A session to member `n` mod size of the connect string (falling over to the next ones). */
function connectOne(connectString: string, n: number): Promise<ZooKeeperClient> {
  return ZooKeeperClient.connect(rotatedConnectString(connectString, n), {
    sessionTimeoutMs,
    connectTimeoutMs: 30_000,
    shuffleHosts: false,
  });
}

async function connectAll(connectString: string, count: number, first = 0): Promise<ZooKeeperClient[]> {
  const settled = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => connectOne(connectString, first + i)),
  );
  const clients = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) {
    await closeAll(clients);
    throw failed.reason;
  }
  return clients;
}

async function closeAll(clients: readonly ZooKeeperClient[]): Promise<void> {
  await Promise.allSettled(clients.map((c) => c.close()));
}

async function ensureNode(zk: ZooKeeperClient, path: string, data: Uint8Array | null = null): Promise<void> {
  try {
    await zk.create(path, data);
  } catch (err) {
    if (!(err instanceof NodeExistsError)) throw err;
  }
}

/** Creates `path` and its missing ancestors. */
async function ensurePath(zk: ZooKeeperClient, path: string): Promise<void> {
  const parts = path.split("/").filter((p) => p !== "");
  for (let i = 1; i <= parts.length; i++) await ensureNode(zk, `/${parts.slice(0, i).join("/")}`);
}

/** Each session's server catches up with the leader, so nodes another session made are visible (ensembles). */
async function syncAll(clients: readonly ZooKeeperClient[], path: string): Promise<void> {
  await Promise.all(clients.map((c) => c.sync(path)));
}

/** Runs `f` on every path, `setupOutstanding` at a time over the clients. */
async function forEachPath(
  clients: readonly ZooKeeperClient[],
  paths: readonly string[],
  f: (zk: ZooKeeperClient, path: string) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    const zk = clients[w % clients.length]!;
    while (next < paths.length) await f(zk, paths[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(setupOutstanding, paths.length) }, (_, w) => worker(w)));
}

/** Creates every path; existing nodes are fine. */
function createMany(
  clients: readonly ZooKeeperClient[],
  paths: readonly string[],
  data: Uint8Array | null,
): Promise<void> {
  return forEachPath(clients, paths, (zk, path) => ensureNode(zk, path, data));
}

/** Deletes every path; missing nodes are fine. */
function deleteMany(clients: readonly ZooKeeperClient[], paths: readonly string[]): Promise<void> {
  return forEachPath(clients, paths, async (zk, path) => {
    try {
      await zk.delete(path);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  });
}

interface LoopResult {
  ops: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  histogram: LatencyHistogram;
  cpu: Extra;
}

/**
 * CPU used over the measured window by the server (when its pid is known) and by this load generator: on a
 * small machine they share the cores, so a server's CPU per operation says more than its ops/s alone.
 */
class CpuMeter {
  private serverStartMs: number | undefined;
  private clientStart: NodeJS.CpuUsage | undefined;
  private wallStartMs = 0;

  /** `pids`: the server's processes (every member of an ensemble, whose CPU adds up). */
  constructor(private readonly pids: readonly number[]) {}

  start(): void {
    this.serverStartMs = processesCpuMs(this.pids);
    this.clientStart = process.cpuUsage();
    this.wallStartMs = performance.now();
  }

  stop(ops: number): Extra {
    if (this.clientStart === undefined) return {};
    const wallMs = performance.now() - this.wallStartMs;
    const client = process.cpuUsage(this.clientStart);
    const serverEndMs = processesCpuMs(this.pids);
    const serverMs =
      serverEndMs === undefined || this.serverStartMs === undefined ? null : serverEndMs - this.serverStartMs;
    return {
      serverCpuPct: serverMs === null || wallMs <= 0 ? null : (serverMs * 100) / wallMs,
      serverCpuUsPerOp: serverMs === null || ops === 0 ? null : (serverMs * 1000) / ops,
      clientCpuPct: wallMs <= 0 ? null : ((client.user + client.system) / 1000 / wallMs) * 100,
    };
  }
}

/**
 * A closed loop: `workers` callers, each issuing `op` and the next as soon as it completes, until the deadline
 * (or until `op` returns false: nothing left to do). Operations that start in the warmup are not counted; the
 * measured time runs from the end of the warmup until the last operation completes.
 */
async function closedLoop(
  workers: number,
  durationMs: number,
  warmupMs: number,
  pids: readonly number[],
  op: (worker: number, n: number) => Promise<boolean | void>,
): Promise<LoopResult> {
  assert(workers >= 1, "at least one worker");
  const histogram = new LatencyHistogram();
  const cpu = new CpuMeter(pids);
  const cpuTimer = setTimeout(() => cpu.start(), warmupMs);
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const deadline = measureFrom + durationMs;
  let ops = 0;
  let errors = 0;
  let firstError: string | null = null;
  let done = false;
  const worker = async (w: number): Promise<void> => {
    for (let n = 0; !done && performance.now() < deadline; n++) {
      const t0 = performance.now();
      try {
        if ((await op(w, n)) === false) {
          done = true;
          return;
        }
        if (t0 >= measureFrom) {
          histogram.record(performance.now() - t0);
          ops += 1;
        }
      } catch (err) {
        errors += 1;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  clearTimeout(cpuTimer);
  const elapsedMs = Math.max(0, performance.now() - measureFrom);
  return { ops, errors, firstError, elapsedMs, histogram, cpu: cpu.stop(ops) };
}

function result(workload: WorkloadName, loop: LoopResult, extra: Extra = {}): WorkloadResult {
  return {
    workload,
    ops: loop.ops,
    errors: loop.errors,
    firstError: loop.firstError,
    elapsedMs: loop.elapsedMs,
    opsPerSec: loop.elapsedMs > 0 ? (loop.ops * 1000) / loop.elapsedMs : 0,
    latency: loop.histogram.summary(),
    extra: { ...extra, ...loop.cpu },
  };
}

function payload(bytes: number): Uint8Array {
  return new Uint8Array(bytes).fill(0x78);
}

/** Runs one workload and closes every session it opened. */
export async function runWorkload(name: WorkloadName, options: WorkloadOptions): Promise<WorkloadResult> {
  assert(options.connections >= 1 && options.outstanding >= 1, "connections and outstanding must be ≥ 1");
  switch (name) {
    case "create":
    case "setData":
    case "getData":
    case "exists":
    case "getChildren":
    case "mixed":
      return runSimple(name, options);
    case "watch":
      return runWatchFanOut(options);
    case "churn":
      return runSessionChurn(options);
    case "tree":
      return runLargeTree(options);
  }
}

/** The request workloads: `outstanding` workers over `connections` sessions. */
async function runSimple(name: WorkloadName, o: WorkloadOptions): Promise<WorkloadResult> {
  const clients = await connectAll(o.connectString, o.connections);
  try {
    const base = runPath(name);
    await ensurePath(clients[0]!, base);
    const data = payload(o.payloadBytes);
    const nodes = Array.from({ length: o.outstanding }, (_, w) => `${base}/n${w}`);
    const zkOf = (w: number): ZooKeeperClient => clients[w % clients.length]!;
    let op: (w: number, n: number) => Promise<unknown>;
    /** What to do after the measured loop, untimed. */
    let cleanUp = async (): Promise<void> => {};
    if (name === "create") {
      // How many nodes each worker tried (a create that failed may exist or not: deleting tolerates NoNode).
      const tried = new Array<number>(o.outstanding).fill(0);
      op = (w, n) => {
        tried[w] = n + 1;
        return zkOf(w).create(`${base}/w${w}-${n}`, data);
      };
      // The next run (of any workload, on either server) starts from the tree this one started from, not from
      // one as much larger as this server was faster; a snapshot's cost grows with the tree.
      cleanUp = async () => {
        const paths = tried.flatMap((count, w) =>
          Array.from({ length: count }, (_, n) => `${base}/w${w}-${n}`),
        );
        await deleteMany(clients, paths);
        await clients[0]!.delete(base);
      };
    } else if (name === "getChildren") {
      const children = Array.from({ length: o.children }, (_, i) => `${base}/child-${i}`);
      await createMany(clients, children, null);
      op = async (w) => {
        const names = await zkOf(w).getChildren(base);
        assert.equal(names.length, o.children, "getChildren returned every child");
      };
    } else {
      await createMany(clients, nodes, data);
      if (name === "setData") op = (w) => zkOf(w).setData(nodes[w]!, data);
      else if (name === "getData") op = (w) => zkOf(w).getData(nodes[w]!);
      else if (name === "exists") op = (w) => zkOf(w).exists(nodes[w]!);
      else {
        assert.equal(name, "mixed");
        // Every tenth request of each worker writes: 10 % writes, spread evenly in time, no randomness.
        op = (w, n) => (n % 10 === 9 ? zkOf(w).setData(nodes[w]!, data) : zkOf(w).getData(nodes[w]!));
      }
    }
    await syncAll(clients, base);
    const loop = await closedLoop(
      o.outstanding,
      o.durationMs,
      o.warmupMs,
      o.server?.pids ?? [],
      async (w, n) => {
        await op(w, n);
      },
    );
    await cleanUp();
    return result(name, loop);
  } finally {
    await closeAll(clients);
  }
}

/**
 * Watch fan-out: `watchers` sessions each hold a one-shot data watch on one node; a writer's setData wakes
 * them all. One operation = one write, timed from the setData call until the last session has its event;
 * re-arming the watches between writes is not timed.
 */
async function runWatchFanOut(o: WorkloadOptions): Promise<WorkloadResult> {
  const watchers = await connectAll(o.connectString, o.watchers);
  const [writer] = await connectAll(o.connectString, 1, o.watchers);
  try {
    const path = runPath("watch");
    await ensurePath(writer!, path);
    await syncAll(watchers, path);
    let pending = 0;
    let allFired: (() => void) | undefined;
    const onEvent = (e: WatchEvent): void => {
      if (e.type !== "nodeDataChanged") return;
      pending -= 1;
      if (pending === 0) allFired?.();
    };
    const data = payload(o.payloadBytes);
    // Not closedLoop: re-arming the watches between writes must stay out of the timed part.
    const histogram = new LatencyHistogram();
    const start = performance.now();
    const measureFrom = start + o.warmupMs;
    const deadline = measureFrom + o.durationMs;
    let ops = 0;
    let errors = 0;
    let firstError: string | null = null;
    let measuredMs = 0;
    const cpu = new CpuMeter(o.server?.pids ?? []);
    let cpuStarted = false;
    while (performance.now() < deadline) {
      if (!cpuStarted && performance.now() >= measureFrom) {
        cpu.start();
        cpuStarted = true;
      }
      await Promise.all(watchers.map((zk) => zk.getData(path, { watch: onEvent })));
      pending = watchers.length;
      const fired = new Promise<void>((resolve) => (allFired = resolve));
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await writer!.setData(path, data);
        await Promise.race([
          fired,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${pending} of ${watchers.length} watch events missing`)),
              fanOutTimeoutMs,
            );
          }),
        ]);
        const t1 = performance.now();
        if (t0 >= measureFrom) {
          histogram.record(t1 - t0);
          measuredMs += t1 - t0;
          ops += 1;
        }
      } catch (err) {
        errors += 1;
        firstError ??= (err as Error).message;
        break; // the watches are in an unknown state: stop rather than count garbage
      } finally {
        clearTimeout(timer);
        allFired = undefined;
      }
    }
    const elapsedMs = Math.max(0, performance.now() - measureFrom);
    return result(
      "watch",
      { ops, errors, firstError, elapsedMs, histogram, cpu: cpu.stop(ops) },
      {
        watchers: watchers.length,
        // Events delivered per second of fan-out time (re-arming excluded).
        eventsPerSec: measuredMs > 0 ? (ops * watchers.length * 1000) / measuredMs : null,
      },
    );
  } finally {
    await closeAll([...watchers, writer!]);
  }
}

/** Session churn: `connections` callers, each in a loop of connect, create an ephemeral node, close. */
async function runSessionChurn(o: WorkloadOptions): Promise<WorkloadResult> {
  const [setup] = await connectAll(o.connectString, 1);
  const base = runPath("churn");
  try {
    await ensurePath(setup!, base);
  } finally {
    await closeAll([setup!]);
  }
  const data = payload(o.payloadBytes);
  const loop = await closedLoop(
    o.connections,
    o.durationMs,
    o.warmupMs,
    o.server?.pids ?? [],
    async (w, n) => {
      const zk = await connectOne(o.connectString, w + n);
      try {
        await zk.create(`${base}/e${w}-${n}`, data, { mode: "ephemeral" });
      } finally {
        await zk.close();
      }
    },
  );
  return result("churn", loop);
}

/**
 * A large tree: `znodes` nodes (in interior nodes of `treeFanOut` children each), created by `outstanding`
 * workers. With the server's process at hand: RSS growth per znode (after the load, and after a restart that
 * rebuilds the tree from disk), for ZooKeeper also the JVM's heap in use per znode (after a full GC, what its
 * sizing advice counts), the newest snapshot's size, the data dir's size, and how long a restart takes until the
 * last node created can be read again.
 */
async function runLargeTree(o: WorkloadOptions): Promise<WorkloadResult> {
  const clients = await connectAll(o.connectString, o.connections);
  const base = runPath("tree");
  const parents = Math.ceil(o.znodes / treeFanOut);
  const pathOf = (i: number): string =>
    `${base}/p${Math.floor(i / treeFanOut)}/c${(i % treeFanOut).toString().padStart(3, "0")}`;
  const data = payload(o.payloadBytes);
  const extra: Extra = {
    znodes: o.znodes,
    rssBeforeBytes: null,
    rssLoadedBytes: null,
    rssPerZnodeBytes: null,
    rssRestartedBytes: null,
    rssPerZnodeRestartedBytes: null,
    rssPerZnodeSettledBytes: null,
    rssPerZnodeRestartedSettledBytes: null,
    heapPerZnodeBytes: null,
    heapPerZnodeRestartedBytes: null,
    snapshotBytes: null,
    dataDirBytes: null,
    restartMs: null,
    shutdownMs: null,
  };
  // Only a JVM has a heap to ask about from outside (RSS stays the figure both servers have); a Node server's
  // counterpart, memory after a full collection, is its RSS once V8 has collected while idle.
  const heapUsed = (): number | undefined =>
    o.server?.kind === "zookeeper" ? javaHeapUsedBytes(o.server.pid) : undefined;
  const settledRss = async (): Promise<number | null> =>
    o.server?.kind === "corral" ? ((await settledRssBytes(o.server.pid)) ?? null) : null;
  let rssSettled: number | null = null;
  let heapBefore: number | undefined;
  let heapLoaded: number | undefined;
  let loop: LoopResult;
  try {
    await ensurePath(clients[0]!, base);
    await createMany(
      clients,
      Array.from({ length: parents }, (_, p) => `${base}/p${p}`),
      null,
    );
    extra.rssBeforeBytes = rssBytes(o.server?.pid) ?? null;
    heapBefore = heapUsed();
    let next = 0;
    let lastProgress = performance.now();
    loop = await closedLoop(o.outstanding, Number.POSITIVE_INFINITY, 0, o.server?.pids ?? [], async (w) => {
      const i = next++;
      if (i >= o.znodes) return false;
      await clients[w % clients.length]!.create(pathOf(i), data);
      if (o.log !== undefined && performance.now() - lastProgress > 5_000) {
        lastProgress = performance.now();
        o.log(`  tree: ${i} of ${o.znodes} znodes`);
      }
      return true;
    });
    extra.rssLoadedBytes = rssBytes(o.server?.pid) ?? null;
    heapLoaded = heapUsed();
  } finally {
    await closeAll(clients);
  }
  rssSettled = await settledRss();
  const perZnode = (after: number | null): number | null =>
    after === null || extra.rssBeforeBytes === null ? null : (after - extra.rssBeforeBytes) / o.znodes;
  extra.rssPerZnodeBytes = perZnode(extra.rssLoadedBytes);
  extra.rssPerZnodeSettledBytes = perZnode(rssSettled);
  const heapPerZnode = (after: number | undefined): number | null =>
    after === undefined || heapBefore === undefined ? null : (after - heapBefore) / o.znodes;
  extra.heapPerZnodeBytes = heapPerZnode(heapLoaded);
  const server = o.server;
  if (server?.restart !== undefined && server.shutdown !== undefined && server.dataDir !== undefined) {
    const stopping = performance.now();
    await server.shutdown();
    extra.shutdownMs = performance.now() - stopping;
    const t0 = performance.now();
    await server.restart();
    // Serving means answering a read of the last node written, not only ruok.
    const [zk] = await connectAll(server.connectString, 1);
    try {
      await zk!.getData(pathOf(o.znodes - 1));
      extra.restartMs = performance.now() - t0;
      const count = await zk!.getAllChildrenNumber(base);
      assert.equal(count, o.znodes + parents, "every znode is back after the restart");
    } finally {
      await closeAll([zk!]);
    }
    extra.rssRestartedBytes = rssBytes(server.pid) ?? null;
    extra.rssPerZnodeRestartedBytes = perZnode(extra.rssRestartedBytes);
    extra.rssPerZnodeRestartedSettledBytes = perZnode(await settledRss());
    extra.heapPerZnodeRestartedBytes = heapPerZnode(heapUsed());
    extra.snapshotBytes = newestSnapshot(server.dataDir)?.bytes ?? null;
    extra.dataDirBytes = dirBytes(server.dataDir);
  }
  return result("tree", loop, extra);
}
