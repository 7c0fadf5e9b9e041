// ClientConnection's lifetime: a connection the server closed is garbage once its socket has closed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { once } from "node:events";
import { ClientConnection, type ConnectionHost } from "../../src/server/client-connection.js";
import { loadCollector } from "../../src/server/idle-collector.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("a connection the server closed is released as soon as its socket closes, not a second later", async () => {
  const collector = loadCollector();
  assert.ok(collector !== undefined, "V8's gc() is available");
  let closed!: () => void;
  const socketClosed = new Promise<void>((resolve) => (closed = resolve));
  const host: ConnectionHost = {
    fourLetterWord: () => "",
    onConnectFrame: () => undefined,
    onRequestFrame: () => undefined,
    onClose: () => closed(),
    log: () => undefined,
  };
  let ref: WeakRef<ClientConnection> | undefined;
  const server = createServer((socket: Socket) => {
    const conn = new ClientConnection(socket, host, 1024 * 1024);
    ref = new WeakRef(conn);
    conn.close(); // as after a closeSession: flush, end, and destroy later if the peer never closes
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as { port: number };
    const client = connect(port, "127.0.0.1");
    client.resume();
    await once(client, "end"); // the server's FIN; ending our side lets the socket close at once
    client.end();
    await socketClosed;
    // The connection (and its socket, streams and decoder) must not outlive the socket by the destroy timer.
    let collected = false;
    for (let i = 0; i < 20 && !collected; i++) {
      await tick(); // a WeakRef's target stays alive until the job that read it ends
      collector.full();
      await tick();
      collected = ref!.deref() === undefined;
    }
    assert.ok(collected, "the closed connection is still reachable");
  } finally {
    server.close();
  }
});
