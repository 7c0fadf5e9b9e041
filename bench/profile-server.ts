// Profiles Corral under one workload at a time: starts a standalone server (or with --ensemble a 3-member
// ensemble) with `node --cpu-prof`, runs the workload, stops it (SIGTERM, so V8 writes the profiles) and prints
// the functions with the most self time, per process.
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BenchUsageError, parseCount, parseWorkloads, workloadOptionsOf } from "./main.js";
import { fmt } from "./report.js";
import { topSelfTime } from "./profile-top.js";
import { startCorralEnsembleForBench, startCorralForBench, type BenchServer } from "./servers.js";
import { runWorkload, workloadNames, type WorkloadName } from "./workloads.js";
import { fourLetterWord } from "../test/helpers/four-letter-word.js";

const usage = `Usage: npm run bench:profile -- [options]
Runs each workload against a fresh Corral started with node --cpu-prof and prints the top self time.
  --workload W[,W...]   workloads (default setData,create; not tree)
  --duration D          measured time per workload (default 5s); also --warmup, --connections, --outstanding
  --top N               rows per profile (default 25)
  --dir DIR             where the .cpuprofile files go (default a new temporary directory per workload)
  --ensemble            a 3-member ensemble instead of a standalone server: one profile per member
  --help                this text
`;

function parseOptions(): {
  workloads: WorkloadName[];
  options: ReturnType<typeof workloadOptionsOf>;
  top: number;
  dir: string | undefined;
  ensemble: boolean;
} | null {
  try {
    const { values } = parseArgs({
      options: {
        workload: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        connections: { type: "string" },
        outstanding: { type: "string" },
        top: { type: "string" },
        dir: { type: "string" },
        ensemble: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
    if (values.help === true) {
      process.stdout.write(usage);
      return null;
    }
    return {
      workloads: parseWorkloads(
        values.workload ?? "setData,create",
        workloadNames.filter((w) => w !== "tree"),
      ),
      options: workloadOptionsOf({ duration: "5s", ...values }),
      top: parseCount(values.top, "--top", 25),
      dir: values.dir,
      ensemble: values.ensemble === true,
    };
  } catch (err) {
    // parseArgs's own errors (unknown option, missing value) carry an ERR_PARSE_ARGS_* code; anything else is a bug.
    const parseArgsError = String((err as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_");
    if (!(err instanceof BenchUsageError) && !parseArgsError) throw err;
    process.stderr.write(`bench:profile: ${(err as Error).message}\n${usage}`);
    process.exitCode = 2;
    return null;
  }
}

/** Each member's `srvr` Mode (leader, follower, standalone), by the order of the connect string. */
async function modesOf(connectString: string): Promise<string[]> {
  return Promise.all(
    connectString.split(",").map(async (hostPort) => {
      const [host, port] = hostPort.split(":");
      const text = await fourLetterWord(host!, Number(port), "srvr", 2_000).catch(() => "");
      return /^Mode: (\w+)$/m.exec(text)?.[1] ?? "?";
    }),
  );
}

const parsed = parseOptions();
for (const w of parsed?.workloads ?? []) {
  const { options, top, ensemble } = parsed!;
  const dir = parsed!.dir ?? mkdtempSync(join(tmpdir(), `corral-prof-${w}-`));
  const nodeFlags = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  const server: BenchServer = ensemble
    ? await startCorralEnsembleForBench({ nodeFlags })
    : await startCorralForBench({ nodeFlags });
  const pids = server.pids;
  let line: string;
  let modes: string[] = [];
  try {
    modes = await modesOf(server.connectString);
    const r = await runWorkload(w, { ...options, connectString: server.connectString, server });
    line = `${w}: ${fmt(r.opsPerSec)} ops/s, p99 ${fmt(r.latency.p99Ms)} ms, server ${fmt(r.extra.serverCpuUsPerOp)} µs/op (${fmt(r.extra.serverCpuPct)} % CPU)`;
  } finally {
    await server.stop();
  }
  process.stdout.write(`${line}\n`);
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) process.stdout.write(`  no profile in ${dir} (did the server exit cleanly?)\n`);
  for (const f of files) {
    const member = pids.findIndex((pid) => f.includes(`.${pid}.`));
    const role = member < 0 ? "" : ` (${modes[member] ?? "?"})`;
    process.stdout.write(`  profile${role}: ${join(dir, f)}\n`);
    const profile = JSON.parse(readFileSync(join(dir, f), "utf8")) as Parameters<typeof topSelfTime>[0];
    for (const [i, e] of topSelfTime(profile, top).entries())
      process.stdout.write(
        `  ${String(i + 1).padStart(2)}. ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.name}  ${e.location}\n`,
      );
  }
}
