// A server survives bad input: oversized frames, garbage, bad UTF-8, unknown opcodes, connection floods.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { RawClient, frame } from "../helpers/raw-client.js";
import { fourLetterWord } from "../helpers/four-letter-word.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

let server: ManagedServer;

before(async () => {
  server = await startCorral({ extraConfig: { maxClientCnxns: "20" } });
});
after(async () => {
  await server?.stop();
});

function openSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: server.host, port: server.port }, () => resolve(s));
    s.on("error", reject);
  });
}

function closed(s: Socket, timeoutMs = 5000): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      if (s.destroyed) resolve();
      s.on("close", () => resolve());
      s.on("error", () => undefined);
      s.resume();
    }),
    timeoutMs,
    "server to close the connection",
  );
}

async function stillServes(): Promise<void> {
  assert.equal(await fourLetterWord(server.host, server.port, "ruok"), "imok");
  const c = await RawClient.connect(server.host, server.port);
  await c.create("/alive-" + Date.now() + Math.random().toString(16).slice(2), null);
  await c.close();
}

test("a frame longer than jute.maxbuffer closes that connection only", async () => {
  const s = await openSocket();
  const header = Buffer.alloc(4);
  header.writeInt32BE(0x100000 + 1);
  s.write(header);
  await closed(s);
  await stillServes();
});

test("a negative frame length closes the connection", async () => {
  const s = await openSocket();
  s.write(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3]));
  await closed(s);
  await stillServes();
});

test("a garbage connect request closes the connection", async () => {
  const s = await openSocket();
  s.write(frame(Buffer.from([1, 2, 3])));
  await closed(s);
  await stillServes();
});

test("a request with invalid UTF-8 in its path gets MarshallingError and the session goes on", async () => {
  const c = await RawClient.connect(server.host, server.port);
  const body = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0x2f, 0xc3, 0x28]), Buffer.from([0])]);
  const reply = await c.request(4 /* getData */, body);
  assert.equal(reply.err, -5);
  await c.create("/after-bad-utf8", null);
  await c.close();
});

test("an unknown opcode is answered Unimplemented and the server goes on", async () => {
  const c = await RawClient.connect(server.host, server.port);
  const reply = await c.request(999, Buffer.alloc(0));
  assert.equal(reply.err, -6);
  c.destroy();
  await stillServes();
});

/** Waits until the server holds no client connection but the srvr asking (which it refuses while full). */
function connectionsGone(what: string): Promise<void> {
  const srvr = (): Promise<string> => fourLetterWord(server.host, server.port, "srvr").catch(() => "");
  return waitFor(async () => /^Connections: 1$/m.test(await srvr()), { message: `${what} to close` });
}

test("connections past maxClientCnxns from one address are refused", async () => {
  // Earlier tests' connections must be gone first: srvr counts itself only.
  await connectionsGone("earlier connections");
  const sockets: Socket[] = [];
  for (let i = 0; i < 20; i++) sockets.push(await openSocket());
  const extra = await openSocket();
  await closed(extra);
  for (const s of sockets) s.destroy();
  // The server frees the address's slots as it sees each close; until then it refuses new connections.
  await connectionsGone("the 20 connections");
  await stillServes();
});

test("a client that has seen a newer zxid than the server is refused", async () => {
  await assert.rejects(RawClient.connect(server.host, server.port, { lastZxidSeen: 1n << 40n }));
  await stillServes();
});
