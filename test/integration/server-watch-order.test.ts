// A watch event reaches the client before the reply that shows the change, with the right types and paths.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { withTimeout } from "../helpers/wait.js";
import { FrameDecoder } from "../../src/protocol/frame-decoder.js";
import { JuteReader } from "../../src/protocol/jute-reader.js";
import { JuteWriter } from "../../src/protocol/jute-writer.js";
import {
  decodeConnectResponse,
  decodeReplyHeader,
  decodeWatcherEvent,
  encodeConnectRequest,
  encodeRequest,
} from "../../src/protocol/records.js";
import { OpCode, EventType, Perms } from "../../src/protocol/opcodes.js";
import type { Request } from "../../src/protocol/types.js";

let server: ManagedServer;
before(async () => {
  server = await startCorral();
});
after(async () => {
  await server?.stop();
});

type Frame = { kind: "reply"; xid: number; err: number } | { kind: "event"; type: number; path: string };

/** A client that records every frame in arrival order. */
class OrderedClient {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder();
  private xid = 1;
  private handshake = true;
  private waiters: (() => void)[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== undefined; f = this.decoder.next()) {
        const r = new JuteReader(f);
        if (this.handshake) {
          this.handshake = false;
          decodeConnectResponse(r);
        } else {
          const h = decodeReplyHeader(r);
          if (h.xid === -1) {
            const e = decodeWatcherEvent(r);
            this.frames.push({ kind: "event", type: e.type, path: e.path });
          } else {
            this.frames.push({ kind: "reply", xid: h.xid, err: h.err });
          }
        }
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  static async open(port: number): Promise<OrderedClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
      s.on("error", reject);
    });
    const c = new OrderedClient(socket);
    const w = JuteWriter.frame();
    encodeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 10000,
      sessionId: 0n,
      passwd: new Uint8Array(16),
      readOnly: false,
    });
    socket.write(w.finishFrame());
    await c.until(() => !c.handshake);
    return c;
  }

  send(req: Request): number {
    const xid = this.xid++;
    const w = JuteWriter.frame();
    encodeRequest(w, { xid, type: req.op }, req);
    this.socket.write(w.finishFrame());
    return xid;
  }

  until(cond: () => boolean): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (cond()) resolve();
          else this.waiters.push(check);
        };
        check();
      }),
      5000,
      "expected frames",
    );
  }

  async call(req: Request): Promise<Frame & { kind: "reply" }> {
    const xid = this.send(req);
    await this.until(() => this.frames.some((f) => f.kind === "reply" && f.xid === xid));
    return this.frames.find((f) => f.kind === "reply" && f.xid === xid) as Frame & { kind: "reply" };
  }

  close(): void {
    this.socket.destroy();
  }
}

const acl = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];
const create = (path: string): Request => ({
  type: "create",
  op: OpCode.create,
  req: { path, data: new Uint8Array([1]), acl, flags: 0, ttl: 0n },
});

test("a data watch fires before the reply to the write that triggered it, on the writer's own connection", async () => {
  const c = await OrderedClient.open(server.port);
  assert.equal((await c.call(create("/order"))).err, 0);
  await c.call({ type: "getData", op: OpCode.getData, req: { path: "/order", watch: true } });
  c.frames.length = 0;
  const xid = c.send({
    type: "setData",
    op: OpCode.setData,
    req: { path: "/order", data: null, version: -1 },
  });
  await c.until(() => c.frames.length >= 2);
  assert.deepEqual(c.frames.slice(0, 2), [
    { kind: "event", type: EventType.nodeDataChanged, path: "/order" },
    { kind: "reply", xid, err: 0 },
  ]);
  c.close();
});

test("another session's watch fires before that session's next reply, and a one-shot watch fires once", async () => {
  const writer = await OrderedClient.open(server.port);
  const watcher = await OrderedClient.open(server.port);
  assert.equal((await writer.call(create("/parent"))).err, 0);
  watcher.frames.length = 0;
  await watcher.call({ type: "getChildren", op: OpCode.getChildren, req: { path: "/parent", watch: true } });
  await writer.call(create("/parent/a"));
  await writer.call(create("/parent/b"));
  const probe = await watcher.call({
    type: "exists",
    op: OpCode.exists,
    req: { path: "/parent", watch: false },
  });
  const events = watcher.frames.filter((f) => f.kind === "event");
  assert.deepEqual(events, [{ kind: "event", type: EventType.nodeChildrenChanged, path: "/parent" }]);
  assert.ok(watcher.frames.indexOf(events[0]!) < watcher.frames.indexOf(probe));
  writer.close();
  watcher.close();
});

test("a persistent recursive watch keeps firing for the whole subtree", async () => {
  const c = await OrderedClient.open(server.port);
  await c.call(create("/tree"));
  await c.call({ type: "addWatch", op: OpCode.addWatch, req: { path: "/tree", mode: 1 } });
  c.frames.length = 0;
  await c.call(create("/tree/x"));
  await c.call(create("/tree/x/y"));
  await c.call({ type: "setData", op: OpCode.setData, req: { path: "/tree/x/y", data: null, version: -1 } });
  await c.call({ type: "delete", op: OpCode.delete, req: { path: "/tree/x/y", version: -1 } });
  const events = c.frames.filter((f) => f.kind === "event");
  assert.deepEqual(events, [
    { kind: "event", type: EventType.nodeCreated, path: "/tree/x" },
    { kind: "event", type: EventType.nodeCreated, path: "/tree/x/y" },
    { kind: "event", type: EventType.nodeDataChanged, path: "/tree/x/y" },
    { kind: "event", type: EventType.nodeDeleted, path: "/tree/x/y" },
  ]);
  c.close();
});
