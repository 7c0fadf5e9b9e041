// Servers a benchmark starts: Corral and Apache ZooKeeper 3.8, each standalone and as a 3-node ensemble on
// loopback, all with the same zoo.cfg settings (tickTime, forceSync), plus what the bench reads about them from
// /proc and disk.
// Kills only the processes it spawned (through ManagedServer), never by name.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CorralEnsemble } from "../test/helpers/corral-ensemble.js";
import { corralBin } from "../test/helpers/corral-process.js";
import { freePort } from "../test/helpers/free-port.js";
import { ManagedServer, repoRoot, type ServerOptions } from "../test/helpers/managed-process.js";
import { zookeeperClasspath, zookeeperUnavailableReason } from "../test/helpers/zookeeper-process.js";

/** What a comparison runs against. */
export type TargetKind = "corral" | "zookeeper" | "zookeeper-3" | "corral-3";

export const targetLabels: Record<TargetKind, string> = {
  corral: "Corral",
  zookeeper: "ZooKeeper",
  "zookeeper-3": "ZooKeeper ×3",
  "corral-3": "Corral ×3",
};

/** Targets that are ensembles: their connect string names every member. */
export const ensembleTargets: readonly TargetKind[] = ["zookeeper-3", "corral-3"];

export interface BenchServerOptions {
  /** zoo.cfg tickTime for every server. Default 2000 (ZooKeeper's sample zoo.cfg). */
  tickTime?: number;
  /** fsync the txn log before acknowledging. Default true, ZooKeeper's default. */
  forceSync?: boolean;
  /** The JVM's -Xmx in MiB. Default 1000, what zkEnv.sh gives ZK_SERVER_HEAP. */
  zookeeperHeapMb?: number;
  /** Extra flags for Corral's node (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /**
   * Corral's collection while idle (`corral.idleCollect`, default on). Off for servers that sit idle while another
   * target is measured on the same cores: a quiet Corral's full collection would land on that measurement.
   */
  corralIdleCollect?: boolean;
  /** Server log level: "warn" keeps per-session INFO lines out of the measurement on both sides. */
  logLevel?: "info" | "warn";
}

/** One benchmark target: its connect string, and for a standalone server its process and data dir. */
export interface BenchServer {
  readonly kind: TargetKind;
  readonly connectString: string;
  /** The server process (standalone only): RSS is read from /proc/<pid>/status. */
  readonly pid: number | undefined;
  /** Every server process (all members of an ensemble): their CPU time is summed. */
  readonly pids: readonly number[];
  /** The server's dataDir (standalone only): snapshot and log sizes. */
  readonly dataDir: string | undefined;
  /** SIGTERM (SIGKILL after a grace period); the data dir stays (standalone only). */
  shutdown?: () => Promise<void>;
  /** Stops the process if it runs, starts it again on the same data, resolves once it serves (standalone only). */
  restart?: () => Promise<void>;
  stop(): Promise<void>;
}

function serverOptions(options: BenchServerOptions): ServerOptions {
  return {
    tickTime: options.tickTime ?? 2000,
    forceSync: options.forceSync ?? true,
    // The watch workload opens 100+ sessions from 127.0.0.1; both servers default to 60 per address.
    extraConfig: { maxClientCnxns: "0" },
    startTimeoutMs: 120_000,
  };
}

/** zkServer.sh's JVM (default collector, -Xmx of ZK_SERVER_HEAP), with the test helper's classpath. */
function zookeeperCommand(
  configPath: string,
  options: BenchServerOptions,
): {
  command: string;
  args: string[];
  cwd: string;
} {
  return {
    command: "java",
    args: [
      `-Xmx${options.zookeeperHeapMb ?? 1000}m`,
      "-Dzookeeper.admin.enableServer=false",
      "-Dzookeeper.extendedTypesEnabled=true",
      `-Dzookeeper.forceSync=${options.forceSync === false ? "no" : "yes"}`,
      `-Dorg.slf4j.simpleLogger.defaultLogLevel=${options.logLevel ?? "warn"}`,
      "-cp",
      zookeeperClasspath,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      configPath,
    ],
    cwd: repoRoot,
  };
}

function wrap(kind: TargetKind, server: ManagedServer): BenchServer {
  return {
    kind,
    connectString: server.connectString,
    get pid() {
      return server.pid;
    },
    get pids() {
      return server.pid === undefined ? [] : [server.pid];
    },
    dataDir: server.dataDir,
    shutdown: () => server.shutdown(),
    restart: () => server.restart(),
    stop: () => server.stop(),
  };
}

/** The zoo.cfg lines only Corral reads. */
function corralConfig(options: BenchServerOptions): Record<string, string> {
  return options.corralIdleCollect === false ? { "corral.idleCollect": "false" } : {};
}

export async function startCorralForBench(options: BenchServerOptions = {}): Promise<BenchServer> {
  const base = serverOptions(options);
  const config = { ...base, extraConfig: { ...base.extraConfig, ...corralConfig(options) } };
  const server = await ManagedServer.start("corral", config, (configPath) => ({
    command: process.execPath,
    args: [...(options.nodeFlags ?? []), corralBin, "server", configPath],
    cwd: repoRoot,
    env: { ...process.env, CORRAL_LOG_LEVEL: options.logLevel ?? "warn" },
  }));
  return wrap("corral", server);
}

export async function startZooKeeperForBench(options: BenchServerOptions = {}): Promise<BenchServer> {
  const server = await ManagedServer.start("zookeeper", serverOptions(options), (configPath) =>
    zookeeperCommand(configPath, options),
  );
  return wrap("zookeeper", server);
}

/**
 * A ZooKeeper ensemble of `size` JVMs on loopback, each a ManagedServer (so each is killed by its own pid).
 * server.N lines omit the client port: each member's clientPort line carries it. myid is written just before
 * each JVM starts, from the command hook, because ManagedServer creates the dirs itself.
 */
export async function startZooKeeperEnsembleForBench(
  options: BenchServerOptions = {},
  size = 3,
): Promise<BenchServer> {
  const ports = new Set<number>();
  while (ports.size < size * 2) ports.add(await freePort());
  const [...free] = ports;
  const serverLines: Record<string, string> = {};
  for (let id = 1; id <= size; id++)
    serverLines[`server.${id}`] = `127.0.0.1:${free[2 * id - 2]}:${free[2 * id - 1]}`;
  const started = await Promise.allSettled(
    Array.from({ length: size }, (_, i) =>
      ManagedServer.start(
        "zookeeper",
        {
          ...serverOptions(options),
          extraConfig: {
            maxClientCnxns: "0",
            ...serverLines,
            initLimit: "10",
            syncLimit: "5",
            reconfigEnabled: "false",
          },
        },
        (configPath) => {
          const dataDir = join(dirname(configPath), "data");
          mkdirSync(dataDir, { recursive: true });
          writeFileSync(join(dataDir, "myid"), `${i + 1}\n`);
          return zookeeperCommand(configPath, options);
        },
      ),
    ),
  );
  const members = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(members.map((m) => m.stop()));
    throw failed.reason;
  }
  return {
    kind: "zookeeper-3",
    connectString: members.map((m) => m.connectString).join(","),
    pid: undefined,
    get pids() {
      return members.flatMap((m) => (m.pid === undefined ? [] : [m.pid]));
    },
    dataDir: undefined,
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()));
    },
  };
}

/**
 * A Corral ensemble of `size` servers on loopback (the test helper CorralEnsemble: zoo.cfg, myid, one shared
 * session secret), with the bench's zoo.cfg settings; resolves once there is a leader and followers.
 */
export async function startCorralEnsembleForBench(
  options: BenchServerOptions = {},
  size = 3,
): Promise<BenchServer> {
  const base = serverOptions(options);
  // CorralEnsemble passes this process's CORRAL_LOG_LEVEL on to the members it spawns.
  const previous = process.env.CORRAL_LOG_LEVEL;
  process.env.CORRAL_LOG_LEVEL = options.logLevel ?? "warn";
  let ensemble: CorralEnsemble;
  try {
    ensemble = await CorralEnsemble.start({
      size,
      tickTime: base.tickTime,
      initLimit: 10,
      syncLimit: 5,
      extraConfig: {
        ...base.extraConfig,
        ...corralConfig(options),
        forceSync: base.forceSync === false ? "no" : "yes",
      },
      nodeFlags: options.nodeFlags,
    });
  } finally {
    if (previous === undefined) delete process.env.CORRAL_LOG_LEVEL;
    else process.env.CORRAL_LOG_LEVEL = previous;
  }
  return {
    kind: "corral-3",
    connectString: ensemble.connectString,
    pid: undefined,
    get pids() {
      return ensemble.members.flatMap((m) => (m.pid === undefined ? [] : [m.pid]));
    },
    dataDir: undefined,
    stop: () => ensemble.stop(),
  };
}

export function startTarget(kind: TargetKind, options: BenchServerOptions = {}): Promise<BenchServer> {
  switch (kind) {
    case "corral":
      return startCorralForBench(options);
    case "zookeeper":
      return startZooKeeperForBench(options);
    case "zookeeper-3":
      return startZooKeeperEnsembleForBench(options, 3);
    case "corral-3":
      return startCorralEnsembleForBench(options, 3);
  }
}

/**
 * Makes sure Apache ZooKeeper can run: when it cannot and this process is root, `apt-get install -y zookeeper`;
 * otherwise throws with what is missing and how to install it.
 */
export function ensureZooKeeperInstalled(log: (line: string) => void): void {
  const reason = zookeeperUnavailableReason();
  if (reason === undefined) return;
  if (process.getuid?.() !== 0)
    throw new Error(
      `Apache ZooKeeper 3.8 cannot run here: ${reason}. Install it as root with: apt-get install -y zookeeper`,
    );
  log(`ZooKeeper is not runnable (${reason}); running apt-get install -y zookeeper`);
  const install = spawnSync("apt-get", ["install", "-y", "zookeeper"], { stdio: "inherit" });
  const after = zookeeperUnavailableReason();
  if (install.status !== 0 || after !== undefined)
    throw new Error(
      `apt-get install -y zookeeper failed (exit ${install.status}); ZooKeeper still cannot run: ${after ?? "?"}`,
    );
}

/** VmRSS of a process from /proc/<pid>/status, in bytes; undefined when it cannot be read. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * A Node server's RSS once it has collected on its own: the lowest RSS seen while the server sits idle for up to
 * `maxMs`, ending early once it has dropped by a tenth and then held for `holdMs`. Corral's idle collector runs a
 * full collection 5–10 s after activity stops and young ones in the following 5 s periods (the young generation
 * shrinks at one of those); nothing outside the process can ask for one sooner, as `jcmd GC.run` does for a JVM.
 * Undefined when RSS cannot be read.
 */
export async function settledRssBytes(
  pid: number | undefined,
  maxMs = 45_000,
  holdMs = 12_000,
): Promise<number | undefined> {
  const first = rssBytes(pid);
  if (first === undefined) return undefined;
  let low = first;
  let lowSince = performance.now();
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = rssBytes(pid);
    if (now === undefined) return undefined;
    if (now < low * 0.99) {
      low = now;
      lowSince = performance.now();
    }
    if (low < first * 0.9 && performance.now() - lowSince >= holdMs) break;
  }
  return low;
}

/**
 * A JVM's heap in use after a full collection, in bytes (`jcmd <pid> GC.run`, then the "used" of
 * `GC.heap_info`): what ZooKeeper's own sizing advice counts per znode, where RSS also holds the collector's
 * headroom up to -Xmx. Undefined when the pid is not a JVM or jcmd cannot reach it.
 */
export function javaHeapUsedBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const jcmd = (command: string): string | undefined => {
    const r = spawnSync("jcmd", [String(pid), command], { encoding: "utf8", timeout: 60_000 });
    return r.status === 0 ? r.stdout : undefined;
  };
  if (jcmd("GC.run") === undefined) return undefined;
  const info = jcmd("GC.heap_info");
  // e.g. " garbage-first heap   total 262144K, used 81234K [0x..." (the first heap line; Metaspace comes later).
  const m = info === undefined ? null : /\bheap\s+total \d+K, used (\d+)K/.exec(info);
  return m === null ? undefined : Number(m[1]) * 1024;
}

/** The total size of the files under `dir` (0 when it does not exist). */
export function dirBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st === undefined) continue;
    total += st.isDirectory() ? dirBytes(p) : st.size;
  }
  return total;
}

/** The newest snapshot (highest zxid) in <dataDir>/version-2, both servers' layout; undefined when none. */
export function newestSnapshot(dataDir: string): { file: string; bytes: number } | undefined {
  const dir = join(dataDir, "version-2");
  let best: { zxid: bigint; file: string } | undefined;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const m = /^snapshot\.([0-9a-f]+)$/.exec(name);
    if (m === null) continue;
    const zxid = BigInt(`0x${m[1]}`);
    if (best === undefined || zxid > best.zxid) best = { zxid, file: join(dir, name) };
  }
  if (best === undefined) return undefined;
  return { file: best.file, bytes: statSync(best.file).size };
}

let clockTicksPerSecond: number | undefined;

/** User + system CPU time of every process in `pids`, in ms; undefined when none is given or one cannot be read. */
export function processesCpuMs(pids: readonly number[]): number | undefined {
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/** User + system CPU time a process has used, in ms, from /proc/<pid>/stat; undefined when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  clockTicksPerSecond ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}
