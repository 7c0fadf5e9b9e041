// Pure helpers of the recipes: sequence ordering, protected names, lock drivers, count encoding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeCount, encodeCount, sortBySequence, stripProtectedPrefix } from "../../src/recipes/index.js";
import { standardDriver } from "../../src/recipes/lock-internals.js";
import { joinPath, nodeName, parentPath, sequenceOf } from "../../src/recipes/znode-paths.js";

const uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";

test("lock nodes sort by their sequence suffix, whatever their protected prefix", () => {
  const names = [
    `_c_${uuid}-lock-0000000003`,
    "_c_aaaaaaaa-d9cb-469f-a165-70867728950e-lock-0000000001",
    "lock-0000000002",
  ];
  assert.deepEqual(sortBySequence(names).map(sequenceOf), [1, 2, 3]);
  assert.equal(sequenceOf("lock--000000001"), -1, "a wrapped counter sorts first, as ZooKeeper's does");
});

test("stripProtectedPrefix removes _c_<uuid>- and leaves other names alone", () => {
  assert.equal(stripProtectedPrefix(`_c_${uuid}-__WRIT__0000000007`), "__WRIT__0000000007");
  assert.equal(stripProtectedPrefix("__READ__0000000001"), "__READ__0000000001");
});

test("the standard driver lets the first maxLeases hold and points the rest maxLeases ahead", () => {
  const sorted = ["a1", "b2", "c3", "d4"];
  assert.deepEqual(standardDriver(1)(sorted, "a1"), { acquired: true });
  assert.deepEqual(standardDriver(1)(sorted, "c3"), { acquired: false, watch: "b2" });
  assert.deepEqual(standardDriver(2)(sorted, "b2"), { acquired: true });
  assert.deepEqual(standardDriver(2)(sorted, "d4"), { acquired: false, watch: "b2" });
});

test("shared counts are Curator's 4-byte big-endian ints", () => {
  assert.deepEqual([...encodeCount(258)], [0, 0, 1, 2]);
  assert.equal(decodeCount(encodeCount(-5)), -5);
  assert.throws(() => encodeCount(2 ** 31), RangeError);
});

test("path helpers", () => {
  assert.equal(joinPath("/", "a"), "/a");
  assert.equal(joinPath("/a", "b"), "/a/b");
  assert.equal(parentPath("/a/b"), "/a");
  assert.equal(parentPath("/a"), "/");
  assert.equal(nodeName("/a/b"), "b");
});
