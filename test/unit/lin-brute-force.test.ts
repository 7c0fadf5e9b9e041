// On small histories, the checker agrees with trying every order: nothing it prunes could have passed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededPrng } from "../../src/base/clock.js";
import { checkLinearizable } from "../lin/checker.js";
import { isIndeterminate, type Operation } from "../lin/history.js";
import { absentZnode, znodeModel, type ZnodeState } from "../lin/model.js";
import { randomLinearizableHistory } from "../lin/random-history.js";

const model = znodeModel();

/** Every order that respects real time, each indeterminate op placed somewhere or left out. */
function bruteForce(ops: readonly Operation[]): boolean {
  const done = new Array<boolean>(ops.length).fill(false);
  const search = (state: ZnodeState, left: number): boolean => {
    if (ops.every((op, i) => done[i] || isIndeterminate(op))) return true;
    if (left === 0) return false;
    for (let i = 0; i < ops.length; i++) {
      if (done[i]) continue;
      // op i may go next unless some other pending op returned before it was called.
      const blocked = ops.some(
        (o, j) => !done[j] && j !== i && !isIndeterminate(o) && o.returnMs! < ops[i]!.callMs,
      );
      if (blocked) continue;
      const { ok, next } = model.step(state, ops[i]!);
      if (!ok) continue;
      done[i] = true;
      const found = search(next, left - 1);
      done[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(absentZnode, ops.length);
}

/** Changes what one op saw into something plausible, which may or may not still be explainable. */
function corrupt(op: Operation, prng: SeededPrng): void {
  const delta = prng.below(2) === 0 ? -1 : 1;
  switch (op.kind) {
    case "read":
      op.output =
        typeof op.output === "object"
          ? { ...op.output, version: op.output.version + delta }
          : { exists: true, value: `c${prng.below(3)}-${prng.below(3)}`, version: prng.below(2) };
      return;
    case "write":
    case "cas":
      op.output = typeof op.output === "object" ? { version: op.output.version + delta } : { version: 1 };
      return;
    case "create":
      op.output = op.output === "ok" ? "nodeExists" : "ok";
      return;
    case "delete":
      op.output = op.output === "ok" ? "noNode" : "ok";
      return;
  }
}

test("the checker and exhaustive search agree on 400 small random histories, half of them corrupted", () => {
  const prng = new SeededPrng(42);
  let failures = 0;
  for (let seed = 0; seed < 400; seed++) {
    const history = randomLinearizableHistory({
      seed,
      clients: 3,
      opsPerClient: 3,
      keys: ["/k"],
      indeterminatePerMille: 150,
    });
    if (seed % 2 === 1) corrupt(history[prng.below(history.length)]!, prng);
    const expected = bruteForce(history);
    const result = checkLinearizable(history, model, { timeoutMs: 5_000 });
    assert.equal(result.ok, expected, `seed ${seed}: ${JSON.stringify(history)}`);
    if (!expected) failures++;
  }
  assert.ok(failures > 20, `only ${failures} corrupted histories were non-linearizable`);
});
