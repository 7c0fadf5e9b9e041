// `corral bench`: runs workloads against a connect string (or a server it starts) and prints ops/s and latency.
import { parseArgs } from "node:util";
import { resultsTable } from "./report.js";
import { ensureZooKeeperInstalled, startTarget, type BenchServer } from "./servers.js";
import {
  isWorkloadName,
  runWorkload,
  workloadDefaults,
  workloadDescriptions,
  workloadNames,
  type WorkloadName,
  type WorkloadOptions,
  type WorkloadResult,
} from "./workloads.js";

export const benchUsage = `usage: corral bench [options]

Keeps --outstanding requests in flight over --connections sessions for --duration per workload, and reports
ops/s and latency p50/p99/p99.9. Without --connect it starts a server itself (--server), which also gives the
tree workload the server's RSS, snapshot size and restart time.

options:
  --connect host:port[,...]   server(s) to load (default: start one, see --server)
  --server corral|zookeeper   what to start when --connect is not given (default corral)
  --server-pid PID            with --connect: the server's pid, to read its RSS from /proc
  --workload a,b,...          ${workloadNames.join(", ")}, or all
                              (default: all but tree)
  --duration D                measured time per workload: 10s, 500ms, or seconds (default ${workloadDefaults.durationMs / 1000}s)
  --warmup D                  unmeasured time before it (default ${workloadDefaults.warmupMs / 1000}s)
  --connections N             sessions (churn: sessions open at once) (default ${workloadDefaults.connections})
  --outstanding N             requests in flight over all sessions (default ${workloadDefaults.outstanding})
  --payload BYTES             data per create/setData (default ${workloadDefaults.payloadBytes})
  --children N                children of the getChildren node (default ${workloadDefaults.children})
  --watchers N                sessions woken by one write in the watch workload (default ${workloadDefaults.watchers})
  --znodes N                  nodes the tree workload creates (default ${workloadDefaults.znodes.toLocaleString("en-US")})
  --json                      print the results as JSON instead of a table

workloads:
${workloadNames.map((w) => `  ${w.padEnd(12)}${workloadDescriptions[w]}`).join("\n")}
`;

/** Thrown for a bad option value; the command prints it with the usage and exits 2. */
export class BenchUsageError extends Error {
  override name = "BenchUsageError";
}

/** "5s", "500ms", "2m" or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) throw new BenchUsageError(`${option}: "${text}" is not a duration (5s, 500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000;
}

export function parseCount(text: string | undefined, option: string, dflt: number, min = 1): number {
  if (text === undefined) return dflt;
  const clean = text.replace(/[_,]/g, "");
  if (!/^\d+$/.test(clean) || Number(clean) < min)
    throw new BenchUsageError(`${option}: "${text}" is not an integer ≥ ${min}`);
  return Number(clean);
}

export function parseWorkloads(text: string | undefined, dflt: readonly WorkloadName[]): WorkloadName[] {
  if (text === undefined) return [...dflt];
  if (text === "all") return [...workloadNames];
  const names = text.split(",").map((s) => s.trim());
  for (const n of names)
    if (!isWorkloadName(n))
      throw new BenchUsageError(`--workload: unknown "${n}" (one of ${workloadNames.join(", ")}, all)`);
  return names as WorkloadName[];
}

/** The option set both `corral bench` and `bench:compare` take for the workloads themselves. */
export const workloadOptionSpec = {
  workload: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  connections: { type: "string" },
  outstanding: { type: "string" },
  payload: { type: "string" },
  children: { type: "string" },
  watchers: { type: "string" },
  znodes: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export type WorkloadFlagValues = Partial<
  Record<Exclude<keyof typeof workloadOptionSpec, "json" | "help">, string>
>;

/** WorkloadOptions from the shared flags, without connectString and server. */
export function workloadOptionsOf(
  values: WorkloadFlagValues,
): Omit<WorkloadOptions, "connectString" | "server" | "log"> {
  const d = workloadDefaults;
  return {
    durationMs: values.duration === undefined ? d.durationMs : parseDuration(values.duration, "--duration"),
    warmupMs: values.warmup === undefined ? d.warmupMs : parseDuration(values.warmup, "--warmup"),
    connections: parseCount(values.connections, "--connections", d.connections),
    outstanding: parseCount(values.outstanding, "--outstanding", d.outstanding),
    payloadBytes: parseCount(values.payload, "--payload", d.payloadBytes, 0),
    children: parseCount(values.children, "--children", d.children),
    watchers: parseCount(values.watchers, "--watchers", d.watchers),
    znodes: parseCount(values.znodes, "--znodes", d.znodes),
  };
}

export async function runBench(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        ...workloadOptionSpec,
        connect: { type: "string" },
        server: { type: "string" },
        "server-pid": { type: "string" },
      },
    }));
  } catch (err) {
    process.stderr.write(`corral bench: ${(err as Error).message}\n${benchUsage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(benchUsage);
    return 0;
  }
  let workloads: WorkloadName[];
  let base: ReturnType<typeof workloadOptionsOf>;
  let serverPid: number | undefined;
  const serverKind = values.server ?? "corral";
  try {
    workloads = parseWorkloads(
      values.workload,
      workloadNames.filter((w) => w !== "tree"),
    );
    base = workloadOptionsOf(values);
    if (values["server-pid"] !== undefined) serverPid = parseCount(values["server-pid"], "--server-pid", 0);
    if (serverKind !== "corral" && serverKind !== "zookeeper")
      throw new BenchUsageError(`--server: "${serverKind}" is not corral or zookeeper`);
    if (values.connect !== undefined && values.server !== undefined)
      throw new BenchUsageError("--server starts a server; it does not go with --connect");
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    process.stderr.write(`corral bench: ${err.message}\n${benchUsage}`);
    return 2;
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  let server: BenchServer | undefined;
  let connectString = values.connect;
  if (connectString === undefined) {
    if (serverKind === "zookeeper") ensureZooKeeperInstalled(log);
    log(`starting ${serverKind} on 127.0.0.1 ...`);
    server = await startTarget(serverKind);
    connectString = server.connectString;
  }
  const external: BenchServer | undefined =
    server === undefined && serverPid !== undefined
      ? {
          kind: "corral",
          connectString,
          pid: serverPid,
          pids: [serverPid],
          dataDir: undefined,
          stop: async () => {},
        }
      : undefined;
  const results: WorkloadResult[] = [];
  try {
    for (const w of workloads) {
      log(`${w}: running against ${connectString} ...`);
      results.push(await runWorkload(w, { ...base, connectString, server: server ?? external, log }));
    }
  } finally {
    await server?.stop();
  }
  process.stdout.write(
    values.json === true ? `${JSON.stringify(results, null, 2)}\n` : resultsTable(results),
  );
  return results.some((r) => r.ops === 0) ? 1 : 0;
}
