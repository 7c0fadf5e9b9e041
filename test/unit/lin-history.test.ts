// The history recorder turns what clients saw into checkable operations, unknown outcomes included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLinearizable } from "../lin/checker.js";
import { HistoryRecorder, isIndeterminate } from "../lin/history.js";
import { znodeModel } from "../lin/model.js";

test("a recorded history keeps call and return times, and what never returned is indeterminate", () => {
  let now = 0;
  const recorder = new HistoryRecorder(() => now);
  const create = recorder.invoke(1, "/k", "create", { value: "a" });
  now = 2;
  recorder.complete(create, "ok");
  const lost = recorder.invoke(2, "/k", "write", { value: "b", version: -1 });
  const gaveUp = recorder.invoke(3, "/k", "cas", { value: "c", version: 7 });
  now = 5;
  recorder.unknown(gaveUp);
  const read = recorder.invoke(1, "/k", "read", null);
  now = 6;
  recorder.complete(read, { exists: true, value: "b", version: 1 });
  const history = recorder.history();
  assert.deepEqual(
    history.map((op) => [op.kind, op.callMs, op.returnMs, isIndeterminate(op)]),
    [
      ["create", 0, 2, false],
      ["write", 2, null, true],
      ["cas", 2, 5, true],
      ["read", 5, 6, false],
    ],
  );
  assert.deepEqual(checkLinearizable(history, znodeModel(), { timeoutMs: 1_000 }), { ok: true });
  assert.throws(() => recorder.complete(create, "ok"), /settled twice/);
  void lost;
});
