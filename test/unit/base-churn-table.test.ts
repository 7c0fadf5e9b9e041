// ChurnTable: the table behind the prepare step's pending changes, the server's connections and sessions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChurnTable } from "../../src/base/churn-table.js";

test("keeps the latest value per key, counts keys, and forgets deleted ones", () => {
  const t = new ChurnTable<string, number>();
  t.set("/a", 1);
  t.set("/a", 2);
  t.set("/a/b", 3);
  assert.equal(t.size, 2);
  assert.equal(t.get("/a"), 2);
  assert.equal(t.has("/a/b"), true);
  assert.equal(t.delete("/a"), true);
  assert.equal(t.delete("/a"), false);
  assert.equal(t.get("/a"), undefined);
  assert.equal(t.has("/a"), false);
  assert.equal(t.size, 1);
});

test("keys that name Object.prototype's members, or look like indices, are ordinary keys", () => {
  const t = new ChurnTable<string, string>();
  for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty", "0", "42", ""]) {
    assert.equal(t.has(key), false, key);
    assert.equal(t.get(key), undefined, key);
    t.set(key, `v${key}`);
    assert.equal(t.get(key), `v${key}`, key);
  }
  assert.equal(t.size, 7);
  assert.equal(t.delete("__proto__"), true);
  assert.equal(t.has("__proto__"), false);
  assert.equal(t.size, 6);
});

test("a value may be undefined-like without losing its key", () => {
  const t = new ChurnTable<string, number | null>();
  t.set("/n", null);
  assert.equal(t.has("/n"), true);
  assert.equal(t.size, 1);
  t.set("/n", 0);
  assert.equal(t.size, 1);
});

test("many keys coming and going leave the table exact", () => {
  const t = new ChurnTable<string, number>();
  const live = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const key = `/k${i % 300}`;
    if (i % 3 === 0) {
      assert.equal(t.delete(key), live.delete(key));
    } else {
      t.set(key, i);
      live.set(key, i);
    }
  }
  assert.equal(t.size, live.size);
  for (let k = 0; k < 300; k++) assert.equal(t.get(`/k${k}`), live.get(`/k${k}`));
});

test("bigint and number keys, values() and clear()", () => {
  const sessions = new ChurnTable<bigint, string>();
  const big = 0x7fffffffffffffffn;
  sessions.set(big, "max");
  sessions.set(1n, "one");
  sessions.set(-1n, "minus one");
  assert.equal(sessions.get(big), "max");
  assert.equal(sessions.get(big - 1n), undefined);
  assert.deepEqual(sessions.values().sort(), ["max", "minus one", "one"]);
  sessions.delete(1n);
  assert.deepEqual(sessions.values().sort(), ["max", "minus one"]);
  sessions.clear();
  assert.equal(sessions.size, 0);
  assert.deepEqual(sessions.values(), []);
  assert.equal(sessions.has(big), false);

  const byId = new ChurnTable<number, string>();
  for (const id of [3, 1, 2]) byId.set(id, `c${id}`);
  assert.equal(byId.get(2), "c2");
  assert.equal(byId.has(4), false);
  assert.deepEqual(byId.values().sort(), ["c1", "c2", "c3"]);
});

test("bigint keys that share their low 32 bits (one hash) stay apart", () => {
  const t = new ChurnTable<bigint, string>();
  const low = 0x12345678n;
  const keys = [low, (1n << 56n) | low, (2n << 56n) | low, (1n << 32n) | low, -(1n << 32n) + low];
  keys.forEach((k, i) => t.set(k, `v${i}`));
  assert.equal(t.size, keys.length);
  keys.forEach((k, i) => assert.equal(t.get(k), `v${i}`));
  assert.equal(t.has((3n << 56n) | low), false);
  t.set(keys[2]!, "again");
  assert.equal(t.size, keys.length);
  assert.equal(t.get(keys[2]!), "again");
  // Out of the middle of the run of slots they share, its end and its start.
  for (const k of [keys[2]!, keys[4]!, keys[0]!]) {
    assert.equal(t.delete(k), true);
    assert.equal(t.delete(k), false);
    assert.equal(t.has(k), false);
  }
  assert.deepEqual(t.values().sort(), ["v1", "v3"]);
  assert.equal(t.get(keys[1]!), "v1");
  assert.equal(t.get(keys[3]!), "v3");
  t.delete(keys[1]!);
  t.delete(keys[3]!);
  assert.equal(t.size, 0);
  assert.deepEqual(t.values(), []);
});

test("grows, shrinks and stays exact when keys share a hash or wrap round the end of the table", () => {
  // Numbers 2^32 apart share a hash (their low 32 bits); the others spread. A fixed-seed generator
  // picks the operations, and every step is checked against a Map.
  let seed = 12345;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const t = new ChurnTable<number, number>();
  const model = new Map<number, number>();
  const keyOf = (r: number): number => (r % 2 === 0 ? r * 2 ** 32 : r);
  for (let step = 0; step < 20_000; step++) {
    // Phases: fill to ~2,000 keys, drain to a few, fill again.
    const filling = step % 10_000 < 6_000;
    const key = keyOf(random(filling ? 4_000 : 40));
    if (filling && random(4) !== 0) {
      t.set(key, step);
      model.set(key, step);
    } else {
      const victim = model.size > 0 && random(2) === 0 ? [...model.keys()][random(model.size)]! : key;
      assert.equal(t.delete(victim), model.delete(victim));
    }
    assert.equal(t.size, model.size);
    if (step % 500 === 0) for (const [k, v] of model) assert.equal(t.get(k), v);
  }
  for (const [k, v] of model) assert.equal(t.get(k), v);
  assert.deepEqual(
    t.values().sort((a, b) => a - b),
    [...model.values()].sort((a, b) => a - b),
  );
  for (const k of [...model.keys()]) assert.equal(t.delete(k), true);
  assert.equal(t.size, 0);
  assert.equal(t.has(0), false);
});
