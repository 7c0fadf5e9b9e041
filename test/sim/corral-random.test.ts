// The whole-stack deterministic simulator over many seeds, with every fault on: lossy, slow, reordering,
// duplicating and partitioned networks; crashes that lose unsynced writes and tear the last record; slow
// disks; real replicas (ZabNode, txn codec, Preparer, RequestPipeline, DataTree, tree snapshots) and
// seeded clients whose history must be linearizable. A failure prints the seed and the command that
// reproduces it (`npm run sim -- --seed N`); CORRAL_SIM_SEEDS sets how many seeds, CORRAL_SIM_SEED one.
import { test } from "node:test";
import { classify, runCorralSeed } from "./corral-run.js";

const seedsDefault = 500;
/** Shorter runs than scripts/sim.js's so the default suite stays within about a minute. */
const safetyTicks = 120;

test("whole-stack simulation: random faults never break safety or linearizability, and the ensemble converges", () => {
  const one = process.env.CORRAL_SIM_SEED;
  const seeds =
    one !== undefined
      ? [Number(one)]
      : Array.from({ length: Number(process.env.CORRAL_SIM_SEEDS ?? seedsDefault) }, (_, i) => i + 1);
  // CORRAL_SIM_AVOID=null-data steers around known Corral bugs (see corral-run.ts), none by default.
  const avoidEnv = process.env.CORRAL_SIM_AVOID;
  const avoid = new Set(avoidEnv ? avoidEnv.split(",") : []);
  const avoidArg = avoidEnv ? ` --avoid ${avoidEnv}` : "";
  let commits = 0;
  let ops = 0;
  let linUnknown = 0;
  for (const seed of seeds) {
    try {
      const r = runCorralSeed(seed, { safetyTicks, linTimeoutMs: 1000, avoid });
      commits += r.commits;
      ops += r.ops;
      if (r.linUnknown) linUnknown++;
    } catch (e) {
      console.error(
        `corral-sim: seed ${seed} failed (${classify(e)}); reproduce with: npm run sim -- --seed ${seed} --ticks ${safetyTicks}${avoidArg}`,
      );
      throw e;
    }
  }
  console.log(
    `corral-sim: ${seeds.length} seeds, ${commits} commits, ${ops} client ops, ${linUnknown} linearizability checks out of time`,
  );
});
