// Command line for the differential run: node dist/test/interop/differential-run.js [--seeds N] [--first-seed S]
//   [--ops N] [--a zookeeper] [--b corral|zookeeper] [--ensembles]. Exits 1 on any mismatch. Default b:
//   $INTEROP_TARGET or corral. --ensembles runs both sides as 3-node ensembles, clients on a follower.
import { parseArgs } from "node:util";
import { runDifferential } from "./differential.js";
import type { ServerKind } from "../helpers/servers.js";

function kind(value: string, flag: string): ServerKind {
  if (value !== "corral" && value !== "zookeeper") throw new Error(`${flag} must be corral or zookeeper`);
  return value;
}

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "50" },
    "first-seed": { type: "string", default: "1" },
    ops: { type: "string", default: "1000" },
    a: { type: "string", default: "zookeeper" },
    b: { type: "string", default: process.env.INTEROP_TARGET ?? "corral" },
    "failing-seeds-max": { type: "string", default: "5" },
    ensembles: { type: "boolean", default: false },
  },
});

const summary = await runDifferential({
  seeds: Number(values.seeds),
  firstSeed: Number(values["first-seed"]),
  opsPerSeed: Number(values.ops),
  a: kind(values.a, "--a"),
  b: kind(values.b, "--b"),
  failingSeedsMax: Number(values["failing-seeds-max"]),
  ensembles: values.ensembles,
});
console.log(
  `${values.a} vs ${values.b}: ${summary.seedsRun} seeds, ${summary.opsRun} ops, ` +
    `${summary.mismatchedSeeds.length} seeds with mismatches, ${(summary.elapsedMs / 1000).toFixed(1)} s`,
);
process.exit(summary.mismatchedSeeds.length === 0 ? 0 : 1);
