// DistributedQueue against a real server: producers and consumers at once, every item taken exactly once and
// in order; Curator's item format; take() waiting, timing out and aborting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DistributedQueue, decodeQueueItem, encodeQueueItem } from "../../src/recipes/index.js";
import { serverFixture } from "../helpers/server-fixture.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const { kind, skip, connect } = serverFixture();

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString();

test(
  "3 producers × 50 items, 2 consumers: every item consumed exactly once, each producer's in order",
  { skip, timeout: 60_000 },
  async () => {
    const producers = 3;
    const perProducer = 50;
    const total = producers * perProducer;
    const started = Date.now();
    const taken: string[][] = [[], []];
    let consumed = 0;
    const done = new AbortController();
    const consumers = taken.map(async (mine) => {
      const queue = new DistributedQueue(await connect(), "/queue-mixed");
      for (;;) {
        let item: Uint8Array | undefined;
        try {
          item = await queue.take({ signal: done.signal, timeoutMs: 30_000 });
        } catch (err) {
          if (done.signal.aborted) return;
          throw err;
        }
        assert.ok(item !== undefined, "an item within 30 s");
        mine.push(text(item)!);
        if (++consumed === total) done.abort();
      }
    });
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        const queue = new DistributedQueue(await connect(), "/queue-mixed");
        for (let i = 0; i < perProducer; i++) await queue.put(`p${p}:${i}`);
      }),
    );
    await withTimeout(Promise.all(consumers), 30_000, "consumers take everything");
    const all = [...taken[0]!, ...taken[1]!].sort();
    const expected = Array.from({ length: producers }, (_, p) =>
      Array.from({ length: perProducer }, (_, i) => `p${p}:${i}`),
    )
      .flat()
      .sort();
    assert.deepEqual(all, expected, "every item exactly once");
    // A consumer always takes the lowest item left, so what it takes from one producer comes in that order.
    for (const [c, mine] of taken.entries())
      for (let p = 0; p < producers; p++) {
        const order = mine.filter((m) => m.startsWith(`p${p}:`)).map((m) => Number(m.split(":")[1]));
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          `consumer ${c}, producer ${p} in FIFO order`,
        );
      }
    assert.ok(
      taken[0]!.length > 0 && taken[1]!.length > 0,
      `both consumers took items (${taken[0]!.length}/${taken[1]!.length})`,
    );
    const queue = new DistributedQueue(await connect(), "/queue-mixed");
    assert.equal(await queue.size(), 0);
    console.log(`# ${total} items through 2 consumers in ${Date.now() - started} ms against ${kind}`);
  },
);

test("one consumer takes items in the order they were put", { skip, timeout: 30_000 }, async () => {
  const producer = new DistributedQueue(await connect(), "/queue-fifo");
  const consumer = new DistributedQueue(await connect(), "/queue-fifo");
  for (let i = 0; i < 20; i++) await producer.put(`m${i}`);
  const got: string[] = [];
  for (let i = 0; i < 20; i++) got.push(text(await consumer.take({ timeoutMs: 5_000 }))!);
  assert.deepEqual(
    got,
    Array.from({ length: 20 }, (_, i) => `m${i}`),
  );
  assert.equal(await consumer.poll(), undefined);
});

test(
  "items use Curator's format; putMulti items are taken together, in order",
  { skip, timeout: 30_000 },
  async () => {
    const zk = await connect();
    const queue = new DistributedQueue(zk, "/queue-format");
    const path = await queue.put("hello");
    assert.match(path, /^\/queue-format\/_c_[0-9a-f-]{36}-queue-\d{10}$/);
    const { data } = await zk.getData(path);
    assert.equal(
      Buffer.from(data).toString("hex"),
      `00010001` + `01` + `00000005` + Buffer.from("hello").toString("hex") + `02`,
    );
    assert.deepEqual(decodeQueueItem(encodeQueueItem(["a", "", "bc"])).map(text), ["a", "", "bc"]);
    await queue.putMulti(["x", "y", "z"]);
    // A plain Curator item ("queue-<seq>") is taken as well, in sequence order.
    await zk.create("/queue-format/queue-", encodeQueueItem(["from curator"]), {
      mode: "persistent-sequential",
    });
    const consumer = new DistributedQueue(await connect(), "/queue-format");
    const got: Array<string | undefined> = [];
    for (let i = 0; i < 5; i++) got.push(text(await consumer.poll()));
    assert.deepEqual(got, ["hello", "x", "y", "z", "from curator"]);
    assert.equal(await consumer.poll(), undefined);
  },
);

test("take() waits for a put, times out, and aborts", { skip, timeout: 30_000 }, async () => {
  const consumer = new DistributedQueue(await connect(), "/queue-wait/q");
  const producer = new DistributedQueue(await connect(), "/queue-wait/q");
  const t0 = Date.now();
  assert.equal(await consumer.take({ timeoutMs: 300 }), undefined, "nothing queued (and no queue node yet)");
  assert.ok(Date.now() - t0 >= 290);
  let got: string | undefined;
  const waiting = consumer.take({ timeoutMs: 10_000 }).then((b) => (got = text(b)));
  await producer.put("late");
  await withTimeout(waiting, 10_000, "the waiting take gets the item");
  assert.equal(got, "late");
  const abort = new AbortController();
  const pending = consumer.take({ signal: abort.signal });
  abort.abort(new Error("enough"));
  await assert.rejects(pending, /enough/);
  await producer.put("still there");
  await waitFor(async () => (await producer.size()) === 1, { message: "item queued" });
  assert.equal(text(await consumer.take({ timeoutMs: 5_000 })), "still there");
});
