// Profiles a standalone Corral server under one workload at a time: starts it with `node --cpu-prof`, runs the
// workload, stops it (SIGTERM, so V8 writes the profile) and prints the functions with the most self time.
// Usage: node dist/bench/profile-server.js [--workload setData,create] [--duration 5s] [--top 25] [--dir DIR]
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseCount, parseWorkloads, workloadOptionsOf } from "./main.js";
import { fmt } from "./report.js";
import { topSelfTime } from "./profile-top.js";
import { startCorralForBench } from "./servers.js";
import { runWorkload, workloadNames } from "./workloads.js";

const { values } = parseArgs({
  options: {
    workload: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string" },
    outstanding: { type: "string" },
    top: { type: "string" },
    dir: { type: "string" },
  },
});
const workloads = parseWorkloads(
  values.workload ?? "setData,create",
  workloadNames.filter((w) => w !== "tree"),
);
const options = workloadOptionsOf({ duration: "5s", ...values });
const top = parseCount(values.top, "--top", 25);

for (const w of workloads) {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), `corral-prof-${w}-`));
  const server = await startCorralForBench({ nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
  let line: string;
  try {
    const r = await runWorkload(w, { ...options, connectString: server.connectString, server });
    line = `${w}: ${fmt(r.opsPerSec)} ops/s, p99 ${fmt(r.latency.p99Ms)} ms, server ${fmt(r.extra.serverCpuUsPerOp)} µs/op (${fmt(r.extra.serverCpuPct)} % CPU)`;
  } finally {
    await server.stop();
  }
  const file = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f))
    .pop();
  process.stdout.write(`${line}\n`);
  if (file === undefined) {
    process.stdout.write(`  no profile in ${dir} (did the server exit cleanly?)\n`);
    continue;
  }
  process.stdout.write(`  profile: ${file}\n`);
  const profile = JSON.parse(readFileSync(file, "utf8")) as Parameters<typeof topSelfTime>[0];
  for (const [i, e] of topSelfTime(profile, top).entries())
    process.stdout.write(
      `  ${String(i + 1).padStart(2)}. ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(6)} ms  ${e.name}  ${e.location}\n`,
    );
}
