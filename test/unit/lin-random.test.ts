// Random linearizable histories pass the checker quickly; corrupting one read makes them fail at that read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLinearizable } from "../lin/checker.js";
import type { Operation, ReadOp } from "../lin/history.js";
import { znodeModel } from "../lin/model.js";
import { randomLinearizableHistory } from "../lin/random-history.js";

const model = znodeModel();
const keys = ["/a", "/b", "/c"];

test("a random linearizable history of 5 clients × 200 ops on 3 keys checks in under 3 seconds", () => {
  for (const seed of [1, 2, 3]) {
    const history = randomLinearizableHistory({ seed, clients: 5, opsPerClient: 200, keys });
    assert.equal(history.length, 1000);
    const started = performance.now();
    const result = checkLinearizable(history, model, { timeoutMs: 10_000 });
    const elapsedMs = performance.now() - started;
    assert.deepEqual(result, { ok: true }, `seed ${seed}`);
    assert.ok(elapsedMs < 3_000, `seed ${seed} took ${elapsedMs.toFixed(0)} ms`);
  }
});

test("random histories with indeterminate operations are linearizable", () => {
  for (const seed of [4, 5, 6]) {
    const history = randomLinearizableHistory({
      seed,
      clients: 5,
      opsPerClient: 200,
      keys,
      indeterminatePerMille: 20,
    });
    assert.ok(history.some((op) => op.output === "unknown"));
    const result = checkLinearizable(history, model, { timeoutMs: 10_000 });
    assert.deepEqual(result, { ok: true }, `seed ${seed}`);
  }
});

test("a read of a value nobody wrote, planted in a random history, is the culprit", () => {
  const history = randomLinearizableHistory({ seed: 7, clients: 5, opsPerClient: 200, keys });
  const reads = history.filter((op): op is ReadOp => op.kind === "read" && op.output !== "noNode");
  const planted = reads[Math.floor(reads.length / 2)]!;
  planted.output = { exists: true, value: "nobody", version: 1 };
  const result = checkLinearizable(history, model, { timeoutMs: 10_000 });
  assert.equal(result.ok, false);
  if (result.ok !== false) return;
  assert.equal(result.key, planted.key);
  assert.equal(result.culprit, planted, result.explanation);
  assert.ok(result.minimalPrefix.every((op: Operation) => op.callMs <= planted.returnMs!));
});

test("a read that goes back in time, planted in a random history, is found", () => {
  const history = randomLinearizableHistory({ seed: 8, clients: 5, opsPerClient: 200, keys });
  const onA = history.filter((op) => op.key === "/a");
  // A read saw state S; a later write changed it (values are unique, so S never comes back); a read after
  // that write returned is made to see S again.
  const early = onA.find((op): op is ReadOp => op.kind === "read" && typeof op.output === "object")!;
  const changed = onA.find(
    (op) =>
      op.kind !== "read" &&
      op.callMs > early.returnMs! &&
      op.returnMs !== null &&
      (op.output === "ok" || typeof op.output === "object"),
  )!;
  const late = onA.find((op): op is ReadOp => op.kind === "read" && op.callMs > changed.returnMs!)!;
  late.output = early.output;
  const result = checkLinearizable(history, model, { timeoutMs: 10_000 });
  assert.equal(result.ok, false);
  if (result.ok === false) assert.equal(result.culprit, late, result.explanation);
});
