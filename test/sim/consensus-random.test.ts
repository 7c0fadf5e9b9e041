// Seeded random runs of a ZAB ensemble: message loss, delay, reordering, duplication, partitions,
// crashes and restarts (losing what was not persisted), log compaction. Safety is checked as it runs
// (at most one leader per epoch; committed histories agree: Zab.tla's prefix consistency, agreement,
// total order; every committed entry durable on a majority), then faults stop and the ensemble must
// converge (liveness). A failure prints the seed; rerun one with CONSENSUS_SEED=<n>.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed } from "./zab-random-run.js";

const seedsDefault = 300;

test("random faults never break ZAB's safety, and the ensemble recovers once they stop", () => {
  const one = process.env.CONSENSUS_SEED;
  const seeds =
    one !== undefined
      ? [Number(one)]
      : Array.from({ length: Number(process.env.CONSENSUS_SEEDS ?? seedsDefault) }, (_, i) => i + 1);
  let commits = 0;
  let epochs = 0;
  let earlyApplied = 0;
  for (const seed of seeds) {
    try {
      const s = runSeed(seed);
      commits += s.commits;
      epochs += s.epochs;
      earlyApplied += s.earlyApplied;
    } catch (e) {
      console.error(
        `consensus-random: seed ${seed} failed; reproduce with CONSENSUS_SEED=${seed} node --test dist/test/sim/consensus-random.test.js`,
      );
      throw e;
    }
  }
  console.log(
    `consensus-random: ${seeds.length} seeds, ${commits} commits, ${epochs} established epochs, ` +
      `${earlyApplied} entries applied while a Ready was persisting`,
  );
  // The runs exercise stepping during a Ready's persist (ZabNode.canStepDuringReady / readyEarly).
  if (seeds.length >= 30) assert.ok(earlyApplied > 0, "no entry was applied through readyEarly()");
});
