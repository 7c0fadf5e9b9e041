// `npm run bench:compare`: the same workloads against Apache ZooKeeper 3.8 and Corral (fsync on, same tickTime),
// standalone and as 3-node ensembles on loopback, in alternating rounds; prints the comparison and writes
// BENCHMARKS.md, bench/benchmarks.svg and bench/benchmarks.json.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { corralUnavailableReason } from "../test/helpers/corral-process.js";
import { repoRoot } from "../test/helpers/managed-process.js";
import {
  BenchUsageError,
  parseCount,
  parseWorkloads,
  workloadOptionSpec,
  workloadOptionsOf,
} from "./main.js";
import {
  chartSvg,
  compareWorkloads,
  comparisonTable,
  cpuTable,
  fmt,
  latencyTable,
  treeTable,
  workloadList,
  type CompareResults,
  type Topology,
} from "./report.js";
import {
  ensembleTargets,
  ensureZooKeeperInstalled,
  startTarget,
  targetLabels,
  type BenchServer,
  type BenchServerOptions,
  type TargetKind,
} from "./servers.js";
import { runWorkload, workloadNames, type WorkloadName, type WorkloadResult } from "./workloads.js";
import { probeFsyncLatency, type FsyncLatency } from "./fsync-probe.js";

const usage = `usage: npm run bench:compare -- [options]

Runs each workload against each target in turn (round 1: ZooKeeper, Corral, ZooKeeper ×3, Corral ×3; round 2:
Corral, ZooKeeper, Corral ×3, ZooKeeper ×3; ...), prints medians with min–max over rounds and the ratio Corral/ZooKeeper per topology, and writes
BENCHMARKS.md and a chart. The ensembles are three servers each on loopback; sessions spread over the members.

options:
  --rounds N                 rounds (default 3, at least 3 unless --allow-few-rounds)
  --topology T               standalone, ensemble or both (default both): which targets run
  --targets a,b,...          instead of --topology: zookeeper, corral, zookeeper-3, corral-3
  --tick-time MS             zoo.cfg tickTime for every server (default 2000)
  --out FILE                 the report (default BENCHMARKS.md); the chart and raw JSON go to bench/benchmarks.{svg,json}
  --no-write                 print only
  plus corral bench's --workload (default all), --duration (default 5s), --warmup, --connections,
  --outstanding, --payload, --children, --watchers, --znodes (default 1,000,000)
`;

const topologyTargetKinds: Record<Topology | "both", TargetKind[]> = {
  standalone: ["zookeeper", "corral"],
  ensemble: ["zookeeper-3", "corral-3"],
  both: ["zookeeper", "corral", "zookeeper-3", "corral-3"],
};

const partnerOf: Record<TargetKind, TargetKind> = {
  zookeeper: "corral",
  corral: "zookeeper",
  "zookeeper-3": "corral-3",
  "corral-3": "zookeeper-3",
};

/**
 * The targets in the order round `round` (from 1) runs them: odd rounds as given, even rounds with each
 * Corral and its ZooKeeper swapped. The second of two back-to-back write runs meets the first's disk
 * writeback and, after a JVM, its collector: alternating spreads that over both.
 */
function roundOrder(targets: readonly TargetKind[], round: number): TargetKind[] {
  const out = [...targets];
  if (round % 2 === 1) return out;
  const swapped = new Set<number>();
  for (let i = 0; i < out.length; i++) {
    if (swapped.has(i)) continue;
    const j = out.indexOf(partnerOf[out[i]!]);
    if (j > i) {
      [out[i], out[j]] = [out[j]!, out[i]!];
      swapped.add(j);
    }
  }
  return out;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function sh(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return "unknown";
  return `${r.stdout}${r.stderr}`.trim();
}

interface Machine {
  nproc: string;
  cpu: string;
  memory: string;
  kernel: string;
  node: string;
  java: string;
  zookeeper: string;
  filesystem: string;
}

function machine(): Machine {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const memKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1] ?? NaN);
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    nproc: sh("nproc", []) || String(availableParallelism()),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memory: Number.isFinite(memKb) ? `${fmt(memKb / 1024 / 1024)} GiB` : "unknown",
    kernel: sh("uname", ["-sr"]),
    node: process.version,
    java: sh("java", ["-version"]).split("\n")[0] ?? "unknown",
    zookeeper: sh("dpkg-query", ["-W", "-f", "${Version}", "zookeeper"]),
    filesystem: sh("df", ["--output=fstype", tmpdir()]).split("\n").pop() ?? "unknown",
  };
}

function describeFsync(f: FsyncLatency): string {
  return `p50 ${fmt(f.p50Ms)} ms, p90 ${fmt(f.p90Ms)} ms, max ${fmt(f.maxMs)} ms over ${f.count}`;
}

function commandLine(args: readonly string[]): string {
  const quoted = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `npm run bench:compare${quoted.length > 0 ? ` -- ${quoted.join(" ")}` : ""}`;
}

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        ...workloadOptionSpec,
        rounds: { type: "string" },
        targets: { type: "string" },
        topology: { type: "string" },
        "tick-time": { type: "string" },
        out: { type: "string" },
        "no-write": { type: "boolean" },
        "allow-few-rounds": { type: "boolean" },
      },
    }));
  } catch (err) {
    process.stderr.write(`bench:compare: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  let workloads: WorkloadName[];
  let options: ReturnType<typeof workloadOptionsOf>;
  let rounds: number;
  let targets: TargetKind[];
  let tickTime: number;
  try {
    workloads = parseWorkloads(values.workload, workloadNames);
    options = workloadOptionsOf({ duration: "5s", ...values });
    rounds = parseCount(values.rounds, "--rounds", 3);
    if (rounds < 3 && values["allow-few-rounds"] !== true)
      throw new BenchUsageError("--rounds: at least 3 (or --allow-few-rounds, for trying it out)");
    tickTime = parseCount(values["tick-time"], "--tick-time", 2000);
    const topology = values.topology ?? "both";
    if (!(topology in topologyTargetKinds))
      throw new BenchUsageError(`--topology: "${topology}" is not standalone, ensemble or both`);
    if (values.targets !== undefined && values.topology !== undefined)
      throw new BenchUsageError("--targets and --topology: give one of them");
    targets =
      values.targets === undefined
        ? [...topologyTargetKinds[topology as Topology | "both"]]
        : (values.targets.split(",").map((t) => t.trim()) as TargetKind[]);
    for (const t of targets) if (!(t in targetLabels)) throw new BenchUsageError(`--targets: unknown "${t}"`);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`bench:compare: ${err.message}\n${usage}`);
    return 2;
  }
  const notBuilt = corralUnavailableReason();
  if (notBuilt !== undefined) throw new Error(`Corral is not built: ${notBuilt}`);
  if (targets.some((t) => t === "zookeeper" || t === "zookeeper-3")) ensureZooKeeperInstalled(log);

  const serverOptions: BenchServerOptions = { tickTime, forceSync: true };
  const results: CompareResults = {};
  const unavailable: Partial<Record<TargetKind, string>> = {};
  const record = (t: TargetKind, r: WorkloadResult): void => {
    const perTarget = (results[t] ??= {});
    (perTarget[r.workload] ??= []).push(r);
  };
  const describe = (t: TargetKind, r: WorkloadResult): string =>
    `${targetLabels[t].padEnd(13)} ${r.workload.padEnd(12)} ${fmt(r.opsPerSec).padStart(8)} ops/s  p50 ${fmt(r.latency.p50Ms)} ms  p99 ${fmt(r.latency.p99Ms)} ms  p99.9 ${fmt(r.latency.p999Ms)} ms${r.errors > 0 ? `  errors ${r.errors} (${r.firstError})` : ""}`;

  // The request workloads share one long-lived server per target; the tree workload gets a fresh one per run
  // (its RSS baseline must be an empty server, and it restarts the server).
  const longLived = new Map<TargetKind, BenchServer>();
  const started = Date.now();
  // Before any server starts and after all have stopped: the disk's own fsync latency, on a quiet machine.
  const fsyncBefore = await probeFsyncLatency(tmpdir());
  log(`fdatasync before the run: ${describeFsync(fsyncBefore)}`);
  try {
    for (const t of targets) {
      log(`starting ${targetLabels[t]} ...`);
      try {
        // Idle between their turns: no collection while idle, which would land on another target's turn.
        longLived.set(t, await startTarget(t, { ...serverOptions, corralIdleCollect: false }));
      } catch (err) {
        unavailable[t] = (err as Error).message.split("\n")[0]!;
        log(`${targetLabels[t]} did not start: ${unavailable[t]}`);
      }
    }
    for (let round = 1; round <= rounds; round++) {
      log(`--- round ${round} of ${rounds}`);
      for (const w of workloads) {
        for (const t of roundOrder(targets, round)) {
          if (w === "tree") {
            if (ensembleTargets.includes(t)) continue; // no single process to measure
            const fresh = await startTarget(t, serverOptions);
            try {
              const r = await runWorkload(w, {
                ...options,
                connectString: fresh.connectString,
                server: fresh,
                log,
              });
              record(t, r);
              log(describe(t, r));
            } finally {
              await fresh.stop();
            }
            continue;
          }
          const server = longLived.get(t);
          if (server === undefined) continue;
          const r = await runWorkload(w, { ...options, connectString: server.connectString, server, log });
          record(t, r);
          log(describe(t, r));
        }
      }
    }
  } finally {
    for (const s of longLived.values()) await s.stop();
  }
  const fsync = { before: fsyncBefore, after: await probeFsyncLatency(tmpdir()) };
  log(`fdatasync after the run: ${describeFsync(fsync.after)}`);
  const elapsedMin = (Date.now() - started) / 60_000;

  const ran = targets.filter((t) => results[t] !== undefined);
  const comparisons = compareWorkloads(results, workloads, ran);
  process.stdout.write(comparisonTable(comparisons, false));
  log(`took ${fmt(elapsedMin)} min`);
  if (values["no-write"] === true) return 0;

  const outPath = values.out ?? join(repoRoot, "BENCHMARKS.md");
  const svgPath = join(repoRoot, "bench", "benchmarks.svg");
  const jsonPath = join(repoRoot, "bench", "benchmarks.json");
  const m = machine();
  const date = new Date().toISOString();
  const command = commandLine(args);
  writeFileSync(svgPath, chartSvg(comparisons, ran));
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ date, command, machine: m, fsync, options, rounds, targets, unavailable, results }, null, 2)}\n`,
  );
  const md = [
    "# Benchmarks: Corral vs Apache ZooKeeper 3.8",
    "",
    `Generated by \`${command}\` on ${date} (${fmt(elapsedMin)} min). Do not edit by hand: run it again.`,
    "",
    `![Throughput ratio and p99 per workload](${relative(join(outPath, ".."), svgPath)})`,
    "",
    "## Machine",
    "",
    `- \`nproc\`: ${m.nproc} (${m.cpu}); memory ${m.memory}; ${m.kernel}; data dirs on ${m.filesystem}`,
    `- node ${m.node}; ${m.java}; Debian zookeeper ${m.zookeeper}`,
    `- fdatasync after a 4 KiB overwrite, on that file system with no server running: before the run ${describeFsync(fsync.before)};`,
    `  after it ${describeFsync(fsync.after)}. Both servers wait for one before acknowledging a write, so the write`,
    "  workloads' figures and their ratios move with it: compare runs only where it was alike.",
    "- The load generator (one node process, Corral's client) shares the cores with the server under test;",
    "  Corral's server is one node process, ZooKeeper's JVM runs several threads. This machine is shared and noisy:",
    "  read the spread, not only the median.",
    "",
    "## Settings",
    "",
    `- \`tickTime=${tickTime}\`, \`forceSync=yes\` (fsync before every ack), default snapCount, log level WARN on both.`,
    "- ZooKeeper: Debian's jars, `java -Xmx1000m` (zkEnv.sh's heap), default collector; the ×3 ensemble is three such JVMs on loopback.",
    "- ×3: an ensemble of three voters on loopback (`initLimit=10`, `syncLimit=5`), every member serving clients;",
    "  session i goes to member i mod 3 first, so the sessions spread evenly. All of an ensemble's processes share",
    "  the same 2 cores with the load generator, so a ×3 ensemble is slower than a standalone server here.",
    `- ${options.connections} sessions, ${options.outstanding} requests outstanding over them, ${options.payloadBytes}-byte payloads, ${options.durationMs / 1000} s measured after ${options.warmupMs / 1000} s of warmup per workload and target.`,
    `- ${rounds} rounds; each round runs every workload against ${ran.map((t) => targetLabels[t]).join(", then ")}, back to back;`,
    "  even rounds swap each Corral with its ZooKeeper (the second of two write runs in a row meets the first's disk writeback).",
    `- The request workloads share one server (or ensemble) per target for the whole run; the large tree (${options.znodes.toLocaleString("en-US")} znodes) starts a fresh standalone server each time.`,
    "  Those shared Corral servers run with `corral.idleCollect=false`: each sits idle while the others are measured,",
    "  and a quiet Corral's full collection (hundreds of ms of CPU with a large tree) would land on that measurement.",
    "  The large-tree servers keep it on (their settled memory depends on it).",
    "  After each `create` run its nodes are deleted (not timed), so every run starts from the same tree: otherwise",
    "  the faster server would be measured on a larger tree in each later round (a snapshot's cost grows with it).",
    ...Object.entries(unavailable).map(
      ([t, why]) => `- ${targetLabels[t as TargetKind]}: did not start (${why}).`,
    ),
    "",
    "Workloads:",
    "",
    workloadList(workloads),
    "",
    "## Throughput and p99",
    "",
    "Median over rounds, (min–max) when they differ. Ratios are Corral / ZooKeeper of the same topology (standalone",
    "or ×3), taken per round (the two ran back to back) and then summarised the same way: above 1× Corral is",
    "faster for ops/s; below 1× Corral is faster for p99.",
    "",
    comparisonTable(comparisons, true),
    "",
    "## Latency percentiles (ms, median over rounds), and errors over all rounds",
    "",
    latencyTable(comparisons),
    "",
    "## CPU per operation",
    "",
    "Server CPU (user + system from /proc/<pid>/stat over the measured window; an ensemble's three processes added",
    "up) per operation, and how busy the load generator was (100 % = one core). With 2 cores, a load generator near",
    "100 % means the client, not the server, may set the pace: compare CPU per operation then, not ops/s.",
    "",
    cpuTable(results, workloads),
    "",
  ];
  if (workloads.includes("tree")) {
    md.push(
      "## Large tree",
      "",
      `${options.znodes.toLocaleString("en-US")} znodes of ${options.payloadBytes} bytes, 1,000 per parent. RSS is VmRSS from /proc/<pid>/status minus`,
      "the same process's before the load; a JVM's RSS follows its heap sizing and collector more than its data.",
      "The restart time runs from spawning the server until a new session reads the last znode created.",
      "",
      treeTable(results, ran),
      "",
    );
  }
  md.push(
    "## Reproduce",
    "",
    "```sh",
    "npx tsc -b",
    command,
    "```",
    "",
    `Raw results per round: \`${relative(repoRoot, jsonPath)}\`.`,
    "",
  );
  writeFileSync(outPath, md.join("\n"));
  log(`wrote ${outPath}, ${svgPath}, ${jsonPath}`);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`bench:compare: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
