// The linearizability checker accepts what some sequential order explains and rejects what none does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLinearizable, type CheckResult } from "../lin/checker.js";
import type { CreateOp, DeleteOp, Operation, ReadOp, ReadResult, WriteOp } from "../lin/history.js";
import { znodeModel } from "../lin/model.js";

/** Every key starts as an existing znode "init"@v0, so most histories need no create. */
const model = znodeModel({ initial: () => ({ exists: true, value: "init", version: 0 }) });
const check = (h: Operation[]): CheckResult<Operation> => checkLinearizable(h, model, { timeoutMs: 5_000 });

type Span = [callMs: number, returnMs: number | null];
const seen = (value: string, version: number): ReadResult => ({ exists: true, value, version });

function read(clientId: number, [callMs, returnMs]: Span, output: ReadOp["output"], key = "/k"): ReadOp {
  return { clientId, key, kind: "read", input: null, output, callMs, returnMs };
}
function write(
  clientId: number,
  [callMs, returnMs]: Span,
  value: string,
  output: WriteOp["output"],
  version = -1,
  key = "/k",
): WriteOp {
  const kind = version === -1 ? "write" : "cas";
  return { clientId, key, kind, input: { value, version }, output, callMs, returnMs };
}
function create(
  clientId: number,
  [callMs, returnMs]: Span,
  value: string,
  output: CreateOp["output"],
): CreateOp {
  return { clientId, key: "/k", kind: "create", input: { value }, output, callMs, returnMs };
}
function del(
  clientId: number,
  [callMs, returnMs]: Span,
  version: number,
  output: DeleteOp["output"],
): DeleteOp {
  return { clientId, key: "/k", kind: "delete", input: { version }, output, callMs, returnMs };
}

function assertFails(result: CheckResult<Operation>, culprit?: Operation): void {
  assert.equal(result.ok, false, "expected a linearizability violation");
  if (result.ok !== false) return;
  if (culprit !== undefined) assert.equal(result.culprit, culprit, result.explanation);
  assert.match(result.explanation, /not linearizable/);
}

test("concurrent writes with overlapping reads pass whichever write took effect first", () => {
  const xFirst = [
    write(1, [0, 10], "x", { version: 1 }),
    write(2, [0, 10], "y", { version: 2 }),
    read(3, [1, 3], seen("init", 0)),
    read(3, [5, 15], seen("x", 1)),
    read(4, [12, 20], seen("y", 2)),
  ];
  const yFirst = [
    write(1, [0, 10], "x", { version: 2 }),
    write(2, [0, 10], "y", { version: 1 }),
    read(3, [5, 15], seen("y", 1)),
    read(4, [12, 20], seen("x", 2)),
  ];
  assert.deepEqual(check(xFirst), { ok: true });
  assert.deepEqual(check(yFirst), { ok: true });
});

test("a read concurrent with a write may see the value before or after it", () => {
  for (const before of [true, false]) {
    const h = [
      write(1, [0, 10], "x", { version: 1 }),
      read(2, [2, 8], before ? seen("init", 0) : seen("x", 1)),
      read(3, [20, 25], seen("x", 1)),
    ];
    assert.deepEqual(check(h), { ok: true });
  }
});

test("an indeterminate write that took effect passes, whether it never returned or returned unknown", () => {
  for (const returnMs of [null, 5]) {
    const h = [write(1, [0, returnMs], "x", "unknown"), read(2, [20, 25], seen("x", 1))];
    assert.deepEqual(check(h), { ok: true });
  }
});

test("an indeterminate write that did not take effect passes", () => {
  const h = [
    write(1, [0, null], "x", "unknown"),
    read(2, [20, 25], seen("init", 0)),
    write(2, [30, 35], "y", { version: 1 }),
    read(3, [40, 45], seen("y", 1)),
  ];
  assert.deepEqual(check(h), { ok: true });
});

test("an indeterminate write may take effect long after its client gave up", () => {
  const h = [
    write(1, [0, 5], "x", "unknown"),
    read(2, [10, 12], seen("init", 0)),
    read(2, [20, 22], seen("x", 1)),
    write(3, [30, 32], "y", { version: 2 }),
  ];
  assert.deepEqual(check(h), { ok: true });
});

test("an indeterminate write cannot take effect before its call, nor be undone", () => {
  assertFails(check([write(1, [10, null], "x", "unknown"), read(2, [0, 5], seen("x", 1))]));
  const undone = read(2, [20, 22], seen("init", 0));
  assertFails(check([write(1, [0, null], "x", "unknown"), read(2, [10, 12], seen("x", 1)), undone]), undone);
});

test("a stale read fails: a read after a completed write returns the older value", () => {
  const stale = read(2, [20, 30], seen("init", 0));
  const result = check([write(1, [0, 10], "x", { version: 1 }), stale]);
  assertFails(result, stale);
  if (result.ok === false) assert.match(result.explanation, /would have returned "x"@v1/);
});

test("a lost write fails: acknowledged, never visible, while later reads see a value from before it", () => {
  const h = [
    write(1, [0, 10], "x", { version: 1 }),
    write(2, [20, 30], "y", { version: 2 }),
    read(3, [40, 50], seen("x", 1)),
  ];
  assertFails(check(h), h[2]);
});

test("two CAS with the same expected version cannot both succeed", () => {
  const sameVersion = [write(1, [0, 10], "x", { version: 1 }, 0), write(2, [5, 15], "y", { version: 1 }, 0)];
  assertFails(check(sameVersion));
  const chained = [write(1, [0, 10], "x", { version: 1 }, 0), write(2, [5, 15], "y", { version: 2 }, 0)];
  assertFails(check(chained));
  const oneLoses = [write(1, [0, 10], "x", { version: 1 }, 0), write(2, [5, 15], "y", "badVersion", 0)];
  assert.deepEqual(check(oneLoses), { ok: true });
});

test("a client that does not read its own write fails", () => {
  const h = [write(1, [0, 10], "x", { version: 1 }), read(1, [11, 12], seen("init", 0))];
  assertFails(check(h), h[1]);
});

test("a read of a value nobody wrote fails", () => {
  const h = [write(1, [0, 10], "x", { version: 1 }), read(2, [5, 15], seen("z", 1))];
  assertFails(check(h), h[1]);
  assertFails(check([write(1, [0, 10], "x", "unknown"), read(2, [5, 15], seen("x", 2))]));
});

test("create, delete and their errors follow ZooKeeper's znode semantics", () => {
  const absent = znodeModel();
  const ok = [
    create(1, [0, 10], "a", "ok"),
    create(2, [0, 10], "b", "nodeExists"),
    read(3, [11, 12], seen("a", 0)),
    del(1, [13, 14], 1, "badVersion"),
    write(2, [15, 16], "c", { version: 1 }),
    del(3, [17, 18], 1, "ok"),
    read(1, [19, 20], "noNode"),
    write(2, [21, 22], "d", "noNode"),
    create(3, [23, 24], "e", "ok"),
    read(1, [25, 26], seen("e", 0)),
  ];
  assert.deepEqual(checkLinearizable(ok, absent, { timeoutMs: 5_000 }), { ok: true });
  const twice = [create(1, [0, 10], "a", "ok"), create(2, [0, 10], "b", "ok")];
  assertFails(checkLinearizable(twice, absent, { timeoutMs: 5_000 }));
  const ghost = [del(1, [0, 10], -1, "ok"), read(2, [11, 12], seen("init", 0))];
  assertFails(check(ghost), ghost[1]);
});

test("keys are checked separately and a failure names its key", () => {
  const h = [
    write(1, [0, 10], "x", { version: 1 }, -1, "/a"),
    write(2, [0, 10], "x", { version: 1 }, -1, "/b"),
    read(3, [20, 30], seen("x", 1), "/a"),
    read(3, [20, 30], seen("init", 0), "/b"),
  ];
  const result = check(h);
  assertFails(result, h[3]);
  if (result.ok === false) assert.equal(result.key, "/b");
  assert.deepEqual(check(h.slice(0, 3)), { ok: true });
});

test("the minimal prefix ends where the history first becomes non-linearizable", () => {
  const h: Operation[] = [];
  for (let i = 0; i < 20; i++) h.push(write(1, [i * 10, i * 10 + 5], `v${i}`, { version: i + 1 }));
  const stale = read(2, [101, 108], seen("v5", 6)); // v9 was written by 95
  h.push(stale);
  for (let i = 0; i < 5; i++) h.push(read(3, [300 + i, 301 + i], seen("v19", 20)));
  const result = check(h);
  assertFails(result, stale);
  if (result.ok !== false) return;
  assert.ok(result.minimalPrefix.every((op) => op.callMs <= 108));
  assert.equal(result.minimalPrefix.length, 12); // writes called by 108 (0..10) and the read
  assert.ok(result.linearized.length >= 10, result.explanation);
});

test("a history too hard for the time box is unknown, not a verdict", () => {
  const h: Operation[] = [];
  // Indeterminate writes can go anywhere after their call: many of them make the search large.
  for (let i = 0; i < 60; i++) h.push(write(i, [i, null], `w${i}`, "unknown"));
  for (let i = 0; i < 60; i++) h.push(read(100 + i, [100 + i, 100 + i], seen(`w${59 - i}`, i + 1)));
  let t = 0;
  const nowMs = (): number => (t += 1); // every clock check costs a millisecond
  const result = checkLinearizable(h, model, { timeoutMs: 3, nowMs });
  assert.equal(result.ok, "unknown");
  if (result.ok === "unknown") assert.deepEqual(result.keys, ["/k"]);
});

test("a long sequential history needs no recursion", () => {
  const h: Operation[] = [];
  for (let i = 0; i < 12_000; i++) {
    h.push(
      i % 2 === 0
        ? write(1, [i, i], `v${i}`, { version: i / 2 + 1 })
        : read(2, [i, i], seen(`v${i - 1}`, (i + 1) / 2)),
    );
  }
  assert.deepEqual(check(h), { ok: true });
});
