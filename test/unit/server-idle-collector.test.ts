// The idle collector collects the whole heap once after progress stops (and once after start), then the young
// generation for a few quiet periods, never while progress moves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { getHeapSpaceStatistics } from "node:v8";
import { IdleCollector, loadCollector, youngCollectionsAfterFull } from "../../src/server/idle-collector.js";

test("a full collection once a whole period passes without progress, then young ones, and nothing while progress moves", () => {
  let activity = 5;
  const done: string[] = [];
  const idle = new IdleCollector(
    { full: () => done.push("full"), young: () => done.push("young") },
    () => activity,
  );
  assert.equal(idle.check(), null, "first look: the start counts as progress");
  assert.equal(idle.check(), "full", "a quiet period after start");
  for (let i = 0; i < youngCollectionsAfterFull; i++)
    assert.equal(idle.check(), "young", `quiet period ${i + 2}`);
  assert.equal(idle.check(), null, "still quiet: enough");
  activity++;
  assert.equal(idle.check(), null, "progress");
  assert.equal(idle.check(), "full", "quiet again");
  activity++;
  assert.equal(idle.check(), null, "progress before the young collections");
  activity++;
  assert.equal(idle.check(), null, "more progress");
  assert.equal(idle.check(), "full", "quiet again: the whole heap first");
  assert.equal(idle.check(), "young");
  assert.deepEqual(done, [
    "full",
    ...Array<string>(youngCollectionsAfterFull).fill("young"),
    "full",
    "full",
    "young",
  ]);
});

test("V8's collector can be loaded at run time: full frees what nothing holds, young empties the young generation", async () => {
  const collector = loadCollector();
  assert.ok(collector !== undefined);
  const ref = new WeakRef({ payload: new Array<number>(1000).fill(1) });
  // A WeakRef's target lives at least until the current job ends.
  await new Promise<void>((resolve) => setImmediate(resolve));
  collector.full();
  assert.equal(ref.deref(), undefined);

  const youngUsed = (): number =>
    getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_used_size;
  // Garbage until the young generation holds a measurable amount (a scavenge on the way only restarts the count).
  const sink: { i: number }[] = [];
  for (let i = 0; youngUsed() < 256 * 1024 && i < 1_000_000; i++) {
    sink.push({ i });
    if (sink.length === 1000) sink.length = 0;
  }
  const before = youngUsed();
  assert.ok(before >= 256 * 1024, `young generation holds ${before} bytes`);
  sink.length = 0;
  collector.young();
  assert.ok(youngUsed() < before / 2, `young generation: ${before} bytes, then ${youngUsed()}`);
});
