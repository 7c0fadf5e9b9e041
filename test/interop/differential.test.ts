// The same seeded operation sequences give the same normalised results on Apache ZooKeeper and on the target
// (INTEROP_TARGET, default corral; INTEROP_TARGET=zookeeper checks the normaliser with ZooKeeper against itself).
import { test } from "node:test";
import assert from "node:assert/strict";
import { interopTarget, skipReason } from "../helpers/servers.js";
import { runDifferential } from "./differential.js";

const target = interopTarget();
const seeds = Number(process.env.DIFFERENTIAL_SEEDS ?? 50);

test(
  `zookeeper and ${target} agree on ${seeds} seeds of 1000 random operations`,
  { skip: skipReason("zookeeper"), timeout: 300_000 },
  async () => {
    const lines: string[] = [];
    const summary = await runDifferential({
      firstSeed: 1,
      seeds,
      opsPerSeed: 1000,
      a: "zookeeper",
      b: target,
      log: (line) => {
        lines.push(line);
        console.log(line);
      },
    });
    assert.equal(summary.mismatchedSeeds.length, 0, `mismatches:\n${lines.join("\n")}`);
    assert.equal(summary.seedsRun, seeds);
  },
);

const ensembleSeeds = Number(process.env.DIFFERENTIAL_ENSEMBLE_SEEDS ?? 20);

test(
  `3-node zookeeper and ${target} ensembles agree on ${ensembleSeeds} seeds, clients on a follower`,
  { skip: skipReason("zookeeper"), timeout: 300_000 },
  async () => {
    const lines: string[] = [];
    const summary = await runDifferential({
      firstSeed: 1,
      seeds: ensembleSeeds,
      opsPerSeed: 1000,
      a: "zookeeper",
      b: target,
      ensembles: true,
      log: (line) => {
        lines.push(line);
        console.log(line);
      },
    });
    assert.equal(summary.mismatchedSeeds.length, 0, `mismatches:\n${lines.join("\n")}`);
    assert.equal(summary.seedsRun, ensembleSeeds);
  },
);
