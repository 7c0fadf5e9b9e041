// The idle collector collects once after progress stops (and once after start), never while progress moves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdleCollector, loadCollector } from "../../src/server/idle-collector.js";

test("collects once a whole period passes without progress after some, and not again until progress resumes", () => {
  let activity = 5;
  let collections = 0;
  const idle = new IdleCollector(
    () => collections++,
    () => activity,
  );
  assert.equal(idle.check(), false, "first look: the start counts as progress");
  assert.equal(idle.check(), true, "a quiet period after start");
  assert.equal(idle.check(), false, "still quiet: once is enough");
  activity++;
  assert.equal(idle.check(), false, "progress");
  activity++;
  assert.equal(idle.check(), false, "more progress");
  assert.equal(idle.check(), true, "quiet again");
  assert.equal(collections, 2);
});

test("V8's collector can be loaded at run time and frees what nothing holds", async () => {
  const collect = loadCollector();
  assert.ok(collect !== undefined);
  const ref = new WeakRef({ payload: new Array<number>(1000).fill(1) });
  // A WeakRef's target lives at least until the current job ends.
  await new Promise<void>((resolve) => setImmediate(resolve));
  collect();
  assert.equal(ref.deref(), undefined);
});
