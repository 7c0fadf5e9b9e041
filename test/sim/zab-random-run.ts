// One seeded random run of a ZAB ensemble (see consensus-random.test.ts). Throws on a broken invariant.
import assert from "node:assert/strict";
import { SeededPrng } from "../../src/base/clock.js";
import { ZabCluster } from "./zab-cluster.js";

const safetyTicks = 150;
const livenessTicksMax = 300;

export function runSeed(seed: number): { commits: number; epochs: number; earlyApplied: number } {
  const r = new SeededPrng(seed);
  const voters = r.below(2) === 0 ? [1, 2, 3] : [1, 2, 3, 4, 5];
  const observers = r.below(3) === 0 ? [9] : [];
  const c = new ZabCluster({
    voters,
    observers,
    seed: r.nextUint32(),
    electionTicks: 6 + r.below(6),
    syncLimitTicks: 3 + r.below(4),
    dropRate: r.below(4) === 0 ? 0 : r.below(10) / 100,
    dupRate: r.below(6) / 100,
    maxDelayTicks: r.below(4),
    stepAllThenReady: seed % 2 === 0,
    asyncPersist: seed % 3 !== 0,
  });
  const ids = [...voters, ...observers];
  const pick = (xs: number[]): number => xs[r.below(xs.length)]!;
  // Safety phase: faults and load.
  for (let t = 0; t < safetyTicks; t++) {
    const roll = r.below(100);
    const up = ids.filter((id) => c.server(id).node !== null);
    const down = ids.filter((id) => c.server(id).node === null);
    if (roll < 4 && up.length > 1) c.crash(pick(up));
    else if (roll < 7 && up.length > 0)
      c.crashDuringNextReady(pick(up), r.below(2) === 0 ? "beforePersist" : "afterPersist");
    else if (roll < 15 && down.length > 0) c.restart(pick(down));
    else if (roll < 18) c.isolate(pick(ids));
    else if (roll < 20) c.cutLink(pick(ids), pick(ids));
    else if (roll < 26) c.heal();
    else if (roll < 29 && up.length > 0) c.compact(pick(up));
    for (let k = r.below(4); k > 0; k--) c.propose();
    c.tick();
    c.checkDurability();
  }
  // Liveness phase: no more faults; everyone must converge on one leader and one history.
  c.calm();
  for (const id of ids) c.restart(id);
  const allUp = (): boolean => ids.every((id) => c.node(id).isUpToDate) && c.leader() !== null;
  assert.ok(c.runUntil(allUp, livenessTicksMax), `seed ${seed}: no stable leader after faults stopped`);
  let last: bigint | null = null;
  assert.ok(
    c.runUntil(() => {
      if (last === null) last = c.propose();
      return last !== null && ids.every((id) => c.server(id).applied.at(-1)?.zxid === last);
    }, livenessTicksMax),
    `seed ${seed}: a proposal did not reach every server`,
  );
  c.checkAll();
  const lengths = new Set(ids.map((id) => c.server(id).applied.length));
  assert.equal(lengths.size, 1, `seed ${seed}: applied histories differ in length`);
  return { commits: c.history.length, epochs: c.leaders.size, earlyApplied: c.earlyApplied };
}
