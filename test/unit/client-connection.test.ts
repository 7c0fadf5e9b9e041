import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, Socket, type AddressInfo } from "node:net";
import { Connection } from "../../src/client/connection.js";
import { waitFor } from "../helpers/wait.js";

function frame(byte: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, 1, byte);
}

/**
 * A Connection to a loopback server that keeps what it receives (`received()`), and the length of every
 * socket write made meanwhile (`writes`). Everything is undone when the test ends.
 */
async function spiedConnection(
  t: TestContext,
): Promise<{ conn: Connection; writes: number[]; received: () => Buffer }> {
  const chunks: Buffer[] = [];
  const server = createServer((s) => s.on("data", (chunk: Buffer) => chunks.push(chunk)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const conn = await Connection.open("127.0.0.1", port, 5_000, 1 << 20);
  conn.start({ onFrame: () => undefined, onClose: () => undefined });
  t.after(() => conn.destroy(undefined));

  const writes: number[] = [];
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
    writes.push((args[0] as Uint8Array).length);
    return write.apply(this, args);
  } as Socket["write"];
  t.after(() => (Socket.prototype.write = write));
  return { conn, writes, received: () => Buffer.concat(chunks) };
}

test("frames sent in one turn, directly or from its promise reactions, leave in one write, in order", async (t) => {
  const { conn, writes, received } = await spiedConnection(t);
  conn.send(frame(1));
  conn.send(frame(2));
  void Promise.resolve().then(() => conn.send(frame(3)));
  await waitFor(() => received().length === 15, { message: "three frames at the server" });
  assert.deepEqual(writes, [15]);
  assert.deepEqual([...received()], [...frame(1), ...frame(2), ...frame(3)]);

  conn.send(frame(4)); // a later turn: a write of its own
  await waitFor(() => received().length === 20, { message: "the fourth frame at the server" });
  assert.deepEqual(writes, [15, 5]);
});

test("a burst past the write size goes out in several writes, the rest after each drain, in order", async (t) => {
  const { conn, writes, received } = await spiedConnection(t);
  // Five frames of 300,000 bytes each (a 4-byte length, then the frame's number over and over).
  const frames = [1, 2, 3, 4, 5].map((k) => {
    const f = new Uint8Array(300_000).fill(k);
    new DataView(f.buffer).setInt32(0, f.length - 4);
    return f;
  });
  for (const f of frames) conn.send(f);
  await waitFor(() => received().length === 1_500_000, { message: "every byte at the server" });
  assert.deepEqual(writes, [900_000, 600_000]); // three fit in a megabyte, the other two follow the drain
  assert.deepEqual(received(), Buffer.concat(frames));
});
