// RawClient: a minimal ZooKeeper wire-protocol client over node:net, with its own small jute encoder.
// Test helper: independent of src/protocol on purpose (that codec is written concurrently and is what we test).
import { connect, type Socket } from "node:net";
import { createHash } from "node:crypto";
import { withTimeout } from "./wait.js";

// ---------- jute ----------

const textEncoder = new TextEncoder();

export class JuteWriter {
  private chunks: Buffer[] = [];
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.chunks.push(b);
    return this;
  }
  long(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt.asIntN(64, v));
    this.chunks.push(b);
    return this;
  }
  bool(v: boolean): this {
    this.chunks.push(Buffer.from([v ? 1 : 0]));
    return this;
  }
  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.chunks.push(Buffer.from(v));
    return this;
  }
  string(v: string | null): this {
    return this.buffer(v === null ? null : textEncoder.encode(v));
  }
  vector<T>(items: T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.int(-1);
    this.int(items.length);
    for (const item of items) each(this, item);
    return this;
  }
  acl(acl: ACL[]): this {
    return this.vector(acl, (w, a) => w.int(a.perms).string(a.scheme).string(a.id));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * Decodes Java's "modified" UTF-8 as well as standard UTF-8: ZooKeeper writes a character outside the BMP as a
 * surrogate pair of two 3-byte sequences (CESU-8). Both forms decode to the same JavaScript string.
 */
export function decodeJavaUtf8(bytes: Buffer): string {
  let hasSurrogate = false;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 0xed && (bytes[i + 1]! & 0xe0) === 0xa0) {
      hasSurrogate = true;
      break;
    }
  }
  if (!hasSurrogate) return bytes.toString("utf8");
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] === 0xed && i + 2 < bytes.length && (bytes[i + 1]! & 0xe0) === 0xa0) {
      const unit = ((bytes[i]! & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      out += String.fromCharCode(unit);
      i += 3;
      continue;
    }
    let j = i + 1;
    while (
      j < bytes.length &&
      !(bytes[j] === 0xed && j + 1 < bytes.length && (bytes[j + 1]! & 0xe0) === 0xa0)
    )
      j++;
    out += bytes.subarray(i, j).toString("utf8");
    i = j;
  }
  return out;
}

export class JuteReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}
  get remaining(): number {
    return this.buf.length - this.offset;
  }
  private need(n: number): void {
    if (this.offset + n > this.buf.length)
      throw new Error(`jute: need ${n} bytes at ${this.offset}, have ${this.buf.length - this.offset}`);
  }
  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  bool(): boolean {
    this.need(1);
    return this.buf[this.offset++] !== 0;
  }
  buffer(): Buffer | null {
    const n = this.int();
    if (n < 0) return null;
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return Buffer.from(v);
  }
  string(): string | null {
    const b = this.buffer();
    return b === null ? null : decodeJavaUtf8(b);
  }
  vector<T>(each: (r: this) => T): T[] | null {
    const n = this.int();
    if (n < 0) return null;
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }
  stat(): Stat {
    return {
      czxid: this.long(),
      mzxid: this.long(),
      ctime: this.long(),
      mtime: this.long(),
      version: this.int(),
      cversion: this.int(),
      aversion: this.int(),
      ephemeralOwner: this.long(),
      dataLength: this.int(),
      numChildren: this.int(),
      pzxid: this.long(),
    };
  }
  acl(): ACL[] {
    return this.vector((r) => ({ perms: r.int(), scheme: r.string() ?? "", id: r.string() ?? "" })) ?? [];
  }
}

// ---------- records ----------

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export interface ACL {
  perms: number;
  scheme: string;
  id: string;
}

export const Op = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  createContainer: 19,
  createTTL: 21,
  auth: 100,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  closeSession: -11,
  error: -1,
} as const;

export const Perm = { read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 } as const;
export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perm.all, scheme: "world", id: "anyone" }];

/** digest ACL id for user:password, as DigestAuthenticationProvider.generateDigest computes it. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash("sha1").update(`${user}:${password}`).digest("base64")}`;
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

export interface Reply {
  xid: number;
  zxid: bigint;
  err: number;
  body: JuteReader;
}

/** A sub-op of multi. */
export type MultiOp =
  | { op: "create"; path: string; data: Uint8Array | null; acl: ACL[]; flags: number }
  | { op: "delete"; path: string; version: number }
  | { op: "setData"; path: string; data: Uint8Array | null; version: number }
  | { op: "check"; path: string; version: number };

export type MultiResult =
  | { type: "create"; path: string; stat?: Stat }
  | { type: "delete" }
  | { type: "setData"; stat: Stat }
  | { type: "check" }
  | { type: "error"; err: number };

export interface ConnectOptions {
  sessionTimeoutMs?: number;
  sessionId?: bigint;
  password?: Buffer;
  lastZxidSeen?: bigint;
  connectTimeoutMs?: number;
  /** Send pings every third of the negotiated timeout (default true). */
  ping?: boolean;
}

/** Thrown by request helpers when the reply header carries an error code. */
export class ReplyError extends Error {
  constructor(
    readonly code: number,
    readonly op: string,
  ) {
    super(`${op}: error ${code}`);
  }
}

export class ConnectionClosedError extends Error {
  override name = "ConnectionClosedError";
}

interface Pending {
  xid: number;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

/** One ZooKeeper session over one socket. Requests are answered in order; events are collected in `events`. */
export class RawClient {
  readonly events: WatcherEvent[] = [];
  private nextXid = 1;
  private readonly pending: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private pingTimer: NodeJS.Timeout | undefined;
  private closedError: Error | undefined;
  private eventListeners: Array<(e: WatcherEvent) => void> = [];
  /** The zxid of the last reply header seen (what a real client sends as lastZxidSeen). */
  lastZxid = 0n;

  private constructor(
    private readonly socket: Socket,
    readonly sessionId: bigint,
    readonly password: Buffer,
    readonly timeoutMs: number,
  ) {}

  static async connect(host: string, port: number, options: ConnectOptions = {}): Promise<RawClient> {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const response = await withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        let buf = Buffer.alloc(0);
        const onData = (chunk: Buffer): void => {
          buf = Buffer.concat([buf, chunk]);
          if (buf.length < 4) return;
          const len = buf.readInt32BE(0);
          if (buf.length < 4 + len) return;
          socket.off("data", onData);
          socket.off("error", reject);
          socket.off("close", onClose);
          if (buf.length > 4 + len) socket.unshift(buf.subarray(4 + len));
          resolve(buf.subarray(4, 4 + len));
        };
        const onClose = (): void => reject(new ConnectionClosedError("closed during connect handshake"));
        socket.on("data", onData);
        socket.once("error", reject);
        socket.once("close", onClose);
        socket.once("connect", () => {
          const body = new JuteWriter()
            .int(0)
            .long(options.lastZxidSeen ?? 0n)
            .int(options.sessionTimeoutMs ?? 30_000)
            .long(options.sessionId ?? 0n)
            .buffer(options.password ?? Buffer.alloc(16))
            .bool(false)
            .toBuffer();
          socket.write(frame(body));
        });
      }),
      connectTimeoutMs,
      `connect handshake with ${host}:${port}`,
    ).catch((err: unknown) => {
      socket.destroy();
      throw err;
    });
    const r = new JuteReader(response);
    r.int(); // protocolVersion
    const timeOut = r.int();
    const sessionId = r.long();
    const password = r.buffer() ?? Buffer.alloc(0);
    if (timeOut <= 0) {
      socket.destroy();
      throw new SessionRefusedError(sessionId);
    }
    const client = new RawClient(socket, sessionId, password, timeOut);
    client.attach(options.ping ?? true);
    return client;
  }

  private attach(ping: boolean): void {
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err) => this.fail(err));
    this.socket.on("close", () => this.fail(new ConnectionClosedError("connection closed")));
    if (ping) {
      this.pingTimer = setInterval(() => this.sendPing(), Math.max(100, Math.floor(this.timeoutMs / 3)));
      this.pingTimer.unref();
    }
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  onEvent(listener: (e: WatcherEvent) => void): void {
    this.eventListeners.push(listener);
  }

  private sendPing(): void {
    if (this.closed) return;
    this.socket.write(frame(new JuteWriter().int(-2).int(Op.ping).toBuffer()));
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const len = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + len) return;
      const body = this.buffered.subarray(4, 4 + len);
      this.buffered = this.buffered.subarray(4 + len);
      this.onFrame(body);
    }
  }

  private onFrame(body: Buffer): void {
    const r = new JuteReader(body);
    const xid = r.int();
    const zxid = r.long();
    const err = r.int();
    if (xid === -1) {
      const event = { type: r.int(), state: r.int(), path: r.string() ?? "" };
      this.events.push(event);
      for (const listener of this.eventListeners) listener(event);
      return;
    }
    if (xid === -2) return; // ping reply
    if (zxid > 0n) this.lastZxid = zxid;
    const next = this.pending.shift();
    if (next === undefined || next.xid !== xid) {
      this.fail(new Error(`reply xid ${xid} does not match the oldest request (${next?.xid})`));
      return;
    }
    next.resolve({ xid, zxid, err, body: r });
  }

  private fail(err: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = err;
    clearInterval(this.pingTimer);
    for (const p of this.pending.splice(0)) p.reject(err);
    this.socket.destroy();
  }

  /** Sends one request; the reply's header and body reader come back whatever `err` is. */
  request(type: number, body: Buffer, xid?: number): Promise<Reply> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const x = xid ?? this.nextXid++;
    const header = new JuteWriter().int(x).int(type).toBuffer();
    return new Promise((resolve, reject) => {
      this.pending.push({ xid: x, resolve, reject });
      this.socket.write(frame(Buffer.concat([header, body])));
    });
  }

  private async expectOk(name: string, type: number, body: Buffer): Promise<JuteReader> {
    const reply = await this.request(type, body);
    if (reply.err !== 0) throw new ReplyError(reply.err, name);
    return reply.body;
  }

  // ---- typed helpers: throw ReplyError on a non-zero err ----

  async create(
    path: string,
    data: Uint8Array | null,
    flags = 0,
    acl: ACL[] = OPEN_ACL_UNSAFE,
  ): Promise<string> {
    const r = await this.expectOk("create", Op.create, encodeCreate(path, data, acl, flags));
    return r.string() ?? "";
  }

  async getData(path: string, watch = false): Promise<{ data: Buffer | null; stat: Stat }> {
    const r = await this.expectOk("getData", Op.getData, encodePathWatch(path, watch));
    return { data: r.buffer(), stat: r.stat() };
  }

  async exists(path: string, watch = false): Promise<Stat | null> {
    const reply = await this.request(Op.exists, encodePathWatch(path, watch));
    if (reply.err === -101) return null;
    if (reply.err !== 0) throw new ReplyError(reply.err, "exists");
    return reply.body.stat();
  }

  async setData(path: string, data: Uint8Array | null, version = -1): Promise<Stat> {
    const r = await this.expectOk("setData", Op.setData, encodeSetData(path, data, version));
    return r.stat();
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.expectOk("delete", Op.delete, new JuteWriter().string(path).int(version).toBuffer());
  }

  async getChildren(path: string, watch = false): Promise<string[]> {
    const r = await this.expectOk("getChildren", Op.getChildren, encodePathWatch(path, watch));
    return r.vector((x) => x.string() ?? "") ?? [];
  }

  /** closeSession, then wait for the server to close the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    const closedNow = new Promise<void>((resolve) => this.socket.once("close", () => resolve()));
    try {
      await this.request(Op.closeSession, Buffer.alloc(0));
    } catch {
      // the server may close before or instead of replying
    }
    this.socket.end();
    await withTimeout(closedNow, 5_000, "socket close after closeSession").catch(() => this.socket.destroy());
    this.fail(new ConnectionClosedError("closed by client"));
  }

  /** Drops the TCP connection without closeSession: the session lives on until it times out. */
  destroy(): void {
    this.fail(new ConnectionClosedError("destroyed by client"));
  }
}

export class SessionRefusedError extends Error {
  override name = "SessionRefusedError";
  constructor(readonly sessionId: bigint) {
    super(`server refused session 0x${sessionId.toString(16)} (timeOut 0: expired or unknown)`);
  }
}

export function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export function encodeCreate(path: string, data: Uint8Array | null, acl: ACL[], flags: number): Buffer {
  return new JuteWriter().string(path).buffer(data).acl(acl).int(flags).toBuffer();
}

export function encodeCreateTTL(
  path: string,
  data: Uint8Array | null,
  acl: ACL[],
  flags: number,
  ttl: bigint,
): Buffer {
  return new JuteWriter().string(path).buffer(data).acl(acl).int(flags).long(ttl).toBuffer();
}

export function encodePathWatch(path: string, watch: boolean): Buffer {
  return new JuteWriter().string(path).bool(watch).toBuffer();
}

export function encodeSetData(path: string, data: Uint8Array | null, version: number): Buffer {
  return new JuteWriter().string(path).buffer(data).int(version).toBuffer();
}

export function encodeMulti(ops: MultiOp[]): Buffer {
  const w = new JuteWriter();
  for (const op of ops) {
    switch (op.op) {
      case "create":
        w.int(Op.create).bool(false).int(-1);
        w.string(op.path).buffer(op.data).acl(op.acl).int(op.flags);
        break;
      case "delete":
        w.int(Op.delete).bool(false).int(-1).string(op.path).int(op.version);
        break;
      case "setData":
        w.int(Op.setData).bool(false).int(-1).string(op.path).buffer(op.data).int(op.version);
        break;
      case "check":
        w.int(Op.check).bool(false).int(-1).string(op.path).int(op.version);
        break;
    }
  }
  w.int(-1).bool(true).int(-1);
  return w.toBuffer();
}

export function decodeMultiResponse(r: JuteReader): MultiResult[] {
  const results: MultiResult[] = [];
  for (;;) {
    const type = r.int();
    const done = r.bool();
    r.int(); // err: repeated in the ErrorResponse that follows an error result
    if (done) break;
    switch (type) {
      case Op.create:
        results.push({ type: "create", path: r.string() ?? "" });
        break;
      case Op.create2:
        results.push({ type: "create", path: r.string() ?? "", stat: r.stat() });
        break;
      case Op.delete:
        results.push({ type: "delete" });
        break;
      case Op.setData:
        results.push({ type: "setData", stat: r.stat() });
        break;
      case Op.check:
        results.push({ type: "check" });
        break;
      case Op.error:
        results.push({ type: "error", err: r.int() });
        break;
      default:
        throw new Error(`multi: unexpected result type ${type}`);
    }
  }
  return results;
}
