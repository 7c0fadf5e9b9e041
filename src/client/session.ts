// Session: the session/transport state machine behind ZooKeeperClient (ClientCnxn): connect, re-connect,
// handshake, request queueing in xid order, replies, notifications, auth, and the terminal states.
import { JuteReader } from "../protocol/jute-reader.js";
import { JuteWriter } from "../protocol/jute-writer.js";
import { Code } from "../protocol/error-codes.js";
import { OpCode, Xid } from "../protocol/opcodes.js";
import {
  decodeConnectResponse,
  decodeReplyHeader,
  decodeResponse,
  decodeWatcherEvent,
  encodeConnectRequest,
  encodeRequestBody,
} from "../protocol/records.js";
import type { ConnectResponse, Request, Response } from "../protocol/types.js";
import {
  clientMaxBufferBytesDefault,
  setWatchesBatchBytesMax,
  type ConnectOptions,
} from "./client-options.js";
import { parseConnectString, prependChroot, shuffleHosts, stripChroot } from "./connect-string.js";
import type { HostPort } from "./connect-string.js";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { Connection } from "./connection.js";
import {
  ConnectionLossError,
  InvalidArgumentError,
  MarshallingError,
  errorForCode,
  type ZkError,
} from "./errors.js";
import { emptyBytes, type PathMapper } from "./requests.js";
import { SessionEvents, callSafely, type ClientState } from "./session-events.js";
import { WatchEventStream, WatchRegistry, watchEventType, type WatchEvent } from "./watches.js";

/** No connection attempt gets less time than this, however many hosts share the session timeout. */
const connectAttemptTimeoutMinMs = 1_000;
/** Pause after every host failed once: doubling from 100 ms up to 1 s, with jitter. */
const reconnectBackoffMaxMs = 1_000;
/** The largest TTL ZooKeeper takes (EphemeralType.TTL's 40-bit field). */

const textEncoder = new TextEncoder();

interface Pending {
  op: number;
  body: Uint8Array;
  /** The caller's path, for errors. */
  path: string | undefined;
  xid: number;
  resolve(resp: Response): void;
  reject(err: Error): void;
  /** Runs with the reply's err before the promise settles: where watches are registered. */
  onReply: ((err: number) => void) | undefined;
}

interface AuthEntry {
  scheme: string;
  auth: Uint8Array;
  waiters: Array<{ resolve(): void; reject(err: Error): void }>;
}

type AttemptOutcome = "connected" | "failed" | "stopped";

/** expired, auth-failed and closed: no way back. */
export function isTerminal(state: ClientState): boolean {
  return state === "expired" || state === "auth-failed" || state === "closed";
}

/**
 * A ZooKeeper session over one connection at a time (ClientCnxn). When the connection drops, outstanding
 * requests fail with ConnectionLossError, state goes to "disconnected", and the session tries the hosts in
 * turn, presenting its session id, password and last zxid seen; once a server takes the session back it
 * re-sends the credentials added with addAuth, re-arms every watch with setWatches/setWatches2, and sends what
 * was queued meanwhile. Only the server decides expiry ("expired", terminal). Internal: ZooKeeperClient is the
 * public face; the watch tables are shared with it (it registers, this re-arms and fires).
 */
export class Session implements PathMapper {
  readonly events = new SessionEvents();
  private readonly hosts: HostPort[];
  private hostIndex = 0;
  readonly chroot: string;
  private readonly requestedTimeoutMs: number;
  private readonly readOnlyAllowed: boolean;
  private readonly maxBufferBytes: number;
  private readonly tls: TlsOptions | undefined;

  private stateValue: ClientState = "connecting";
  private closing = false;
  private closePromise: Promise<void> | undefined;

  private sessionIdValue = 0n;
  private passwd: Uint8Array = new Uint8Array(16);
  private negotiatedTimeoutMsValue = 0;
  private lastZxidValue = 0n;
  private serverReadOnly = false;
  private nextXid = 1;

  /** The established connection, while state is "connected". */
  private conn: Connection | undefined;
  /** The connection being opened or handshaken, so close() can stop it. */
  private attemptAbort: AbortController | undefined;
  private wakeSleeper: (() => void) | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;

  /** Sent, awaiting replies in order (FIFO per session). */
  private inFlight: Pending[] = [];
  /** Submitted while not connected: sent once a server takes the session. */
  private queued: Pending[] = [];
  private readonly authInfo: AuthEntry[] = [];
  /** Auth packets sent on this connection, awaiting their xid -4 replies in order. */
  private authSent: Array<{ entry: AuthEntry; waiters: AuthEntry["waiters"] }> = [];
  readonly watches = new WatchRegistry();
  readonly streams = new Set<WatchEventStream>();

  constructor(connectString: string, options: ConnectOptions) {
    const parsed = parseConnectString(connectString);
    this.hosts = options.shuffleHosts === false ? parsed.hosts : shuffleHosts(parsed.hosts);
    this.chroot = parsed.chroot;
    if (!(Number.isInteger(options.sessionTimeoutMs) && options.sessionTimeoutMs > 0))
      throw new InvalidArgumentError(
        `sessionTimeoutMs must be a positive integer, not ${options.sessionTimeoutMs}`,
      );
    this.requestedTimeoutMs = options.sessionTimeoutMs;
    this.readOnlyAllowed = options.readOnly ?? false;
    this.maxBufferBytes = options.maxBufferBytes ?? clientMaxBufferBytesDefault;
    this.tls = options.tls;
    if ((options.sessionId === undefined) !== (options.sessionPassword === undefined))
      throw new InvalidArgumentError("sessionId and sessionPassword go together");
    if (options.sessionId !== undefined && options.sessionPassword !== undefined) {
      this.sessionIdValue = options.sessionId;
      this.passwd = options.sessionPassword.slice();
    }
  }

  /** Starts connecting (once): the "state" event says how it goes. */
  start(): void {
    void this.connectLoop();
  }

  get state(): ClientState {
    return this.stateValue;
  }

  get sessionId(): bigint {
    return this.sessionIdValue;
  }

  get sessionPassword(): Uint8Array {
    return this.passwd.slice();
  }

  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMsValue;
  }

  get lastZxid(): bigint {
    return this.lastZxidValue;
  }

  get readOnly(): boolean {
    return this.serverReadOnly;
  }

  /**
   * Sends closeSession and resolves once the server answers (or the connection drops, or a read timeout
   * passes). Requests sent before complete first; anything after fails with SessionExpiredError. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    if (isTerminal(this.stateValue)) return;
    this.closing = true;
    if (this.stateValue === "connected" && this.conn !== undefined) {
      const reply = this.enqueue(
        { type: "closeSession", op: OpCode.closeSession },
        undefined,
        undefined,
        true,
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.readTimeoutMs())));
      await Promise.race([reply.then(noop, noop), timeout]);
      clearTimeout(timer);
    }
    this.terminate("closed");
  }

  /** Adds credentials (scheme "digest": "user:password"); resolves when the server accepts them. They are re-sent on every reconnect. */
  addAuth(scheme: string, auth: string | Uint8Array): Promise<void> {
    if (isTerminal(this.stateValue) || this.closing) return Promise.reject(this.terminalError(undefined));
    const bytes = typeof auth === "string" ? textEncoder.encode(auth) : auth.slice();
    let entry = this.authInfo.find((e) => e.scheme === scheme && sameBytes(e.auth, bytes));
    if (entry === undefined) {
      entry = { scheme, auth: bytes, waiters: [] };
      this.authInfo.push(entry);
    }
    const e = entry;
    return new Promise((resolve, reject) => {
      e.waiters.push({ resolve, reject });
      if (this.stateValue === "connected") this.sendAuth(e);
    });
  }

  // ------------------------------------------------------------------ requests

  submit(request: Request, path: string | undefined, onReply?: (err: number) => void): Promise<Response> {
    return this.enqueue(request, path, onReply, false);
  }

  /** Encodes the body now (so a bad argument rejects at once) and sends it, or queues it until connected. */
  private enqueue(
    request: Request,
    path: string | undefined,
    onReply: ((err: number) => void) | undefined,
    closing: boolean,
  ): Promise<Response> {
    if (isTerminal(this.stateValue) || (this.closing && !closing))
      return Promise.reject(this.terminalError(path));
    let body: Uint8Array;
    try {
      const w = new JuteWriter();
      encodeRequestBody(w, request);
      body = w.finish();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Response>((resolve, reject) => {
      const p: Pending = { op: request.op, body, path, xid: 0, resolve, reject, onReply };
      if (this.stateValue === "connected" && this.conn !== undefined) this.sendPending(p);
      else this.queued.push(p);
    });
  }

  private sendPending(p: Pending): void {
    p.xid = this.nextXid;
    this.nextXid = this.nextXid === 0x7fffffff ? 1 : this.nextXid + 1;
    this.inFlight.push(p);
    this.sendFrame(p.xid, p.op, p.body);
  }

  private sendFrame(xid: number, op: number, body: Uint8Array): void {
    const w = JuteWriter.frame(body.length + 12);
    w.writeInt(xid);
    w.writeInt(op);
    w.writeRaw(body);
    this.conn!.send(w.finishFrame());
    this.pingTimer?.refresh();
  }

  private sendAuth(entry: AuthEntry): void {
    const w = new JuteWriter();
    encodeRequestBody(w, {
      type: "auth",
      op: OpCode.auth,
      req: { type: 0, scheme: entry.scheme, auth: entry.auth },
    });
    this.authSent.push({ entry, waiters: entry.waiters.splice(0) });
    this.sendFrame(Xid.auth, OpCode.auth, w.finish());
  }

  /**
   * Re-arms every watch on a new connection (ClientCnxn.primeConnection): batches under setWatchesBatchBytesMax
   * of paths, setWatches when a batch has no persistent watch (older servers know only that), else setWatches2.
   * The server fires at once any watch whose node changed after lastZxid, so a one-shot watch still fires once.
   */
  private sendSetWatches(): void {
    if (this.watches.isEmpty) return;
    const lists = this.watches.lists();
    const kinds = ["data", "exist", "child", "persistent", "persistentRecursive"] as const;
    let batch = emptyLists();
    let batchBytes = 0;
    const flush = (): void => {
      const v2 = batch.persistent.length + batch.persistentRecursive.length > 0;
      const op = v2 ? OpCode.setWatches2 : OpCode.setWatches;
      const w = new JuteWriter();
      encodeRequestBody(w, {
        type: "setWatches",
        op,
        req: {
          relativeZxid: this.lastZxidValue,
          dataWatches: batch.data,
          existWatches: batch.exist,
          childWatches: batch.child,
          persistentWatches: batch.persistent,
          persistentRecursiveWatches: batch.persistentRecursive,
        },
      });
      this.sendFrame(Xid.setWatches, op, w.finish());
      batch = emptyLists();
      batchBytes = 0;
    };
    for (const kind of kinds) {
      for (const clientPath of lists[kind]) {
        const serverPath = this.serverPath(clientPath);
        const bytes = Buffer.byteLength(serverPath) + 4;
        if (batchBytes > 0 && batchBytes + bytes > setWatchesBatchBytesMax) flush();
        batch[kind].push(serverPath);
        batchBytes += bytes;
      }
    }
    if (batchBytes > 0) flush();
  }

  // ------------------------------------------------------------------ connecting

  /** Tries host after host until one takes the session, the session is refused, or the client closes. */
  private async connectLoop(): Promise<void> {
    let failedThisRound = 0;
    let rounds = 0;
    while (!this.closing && !isTerminal(this.stateValue) && this.stateValue !== "connected") {
      const host = this.hosts[this.hostIndex]!;
      this.hostIndex = (this.hostIndex + 1) % this.hosts.length;
      const outcome = await this.attempt(host);
      if (outcome !== "failed") return;
      failedThisRound++;
      if (failedThisRound < this.hosts.length) continue;
      // Every host failed once: what waited for a connection fails (it may be retried), then back off.
      failedThisRound = 0;
      rounds++;
      this.failQueued();
      const backoffMs = Math.min(reconnectBackoffMaxMs, 100 * 2 ** Math.min(rounds, 10));
      await this.sleep(backoffMs / 2 + Math.random() * (backoffMs / 2));
    }
  }

  private attemptTimeoutMs(): number {
    const timeout =
      this.negotiatedTimeoutMsValue > 0 ? this.negotiatedTimeoutMsValue : this.requestedTimeoutMs;
    return Math.max(connectAttemptTimeoutMinMs, Math.floor(timeout / this.hosts.length));
  }

  private async attempt(host: HostPort): Promise<AttemptOutcome> {
    const timeoutMs = this.attemptTimeoutMs();
    const abort = new AbortController();
    this.attemptAbort = abort;
    let conn: Connection;
    try {
      conn = await Connection.open(
        host.host,
        host.port,
        timeoutMs,
        this.maxBufferBytes,
        abort.signal,
        this.tls,
      );
    } catch {
      return abort.signal.aborted ? "stopped" : "failed";
    } finally {
      if (this.attemptAbort === abort) this.attemptAbort = undefined;
    }
    if (this.closing || isTerminal(this.stateValue)) {
      conn.destroy(undefined);
      return "stopped";
    }
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const onAbort = (): void => conn.destroy(new Error("client closed"));
      const finish = (outcome: AttemptOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.attemptAbort = undefined;
        resolve(outcome);
      };
      const timer = setTimeout(
        () => conn.destroy(new Error(`no ConnectResponse within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const handshake = new AbortController();
      handshake.signal.addEventListener("abort", onAbort, { once: true });
      this.attemptAbort = handshake;
      conn.start({
        onFrame: (frame) => {
          if (settled) return;
          let resp: ConnectResponse;
          try {
            resp = decodeConnectResponse(new JuteReader(frame));
          } catch (err) {
            conn.destroy(err as Error);
            return;
          }
          clearTimeout(timer);
          settled = true;
          this.attemptAbort = undefined;
          resolve(this.establish(conn, resp));
        },
        onClose: () => finish(this.closing || isTerminal(this.stateValue) ? "stopped" : "failed"),
      });
      const w = JuteWriter.frame();
      encodeConnectRequest(w, {
        protocolVersion: 0,
        lastZxidSeen: this.lastZxidValue,
        timeOut: this.requestedTimeoutMs,
        sessionId: this.sessionIdValue,
        passwd: this.passwd,
        readOnly: this.readOnlyAllowed,
      });
      conn.send(w.finishFrame());
    });
  }

  /** The server answered the ConnectRequest: the session is back (or new), or it is gone. */
  private establish(conn: Connection, resp: ConnectResponse): AttemptOutcome {
    if (this.closing || isTerminal(this.stateValue)) {
      conn.destroy(undefined);
      return "stopped";
    }
    if (resp.timeOut <= 0) {
      // ClientCnxn.onConnected: a non-positive timeout is the server saying this session expired.
      conn.destroy(undefined);
      this.terminate("expired");
      return "stopped";
    }
    this.sessionIdValue = resp.sessionId;
    this.passwd = resp.passwd.slice();
    this.negotiatedTimeoutMsValue = resp.timeOut;
    this.serverReadOnly = resp.readOnly === true;
    this.conn = conn;
    conn.start({
      onFrame: (frame) => this.onFrame(conn, frame),
      onClose: (error) => this.onConnectionClosed(conn, error),
    });
    const readTimeoutMs = this.readTimeoutMs();
    this.readTimer = setTimeout(
      () => conn.destroy(new Error(`nothing read for ${readTimeoutMs} ms`)),
      readTimeoutMs,
    );
    this.pingTimer = setTimeout(() => this.sendPing(), Math.max(1, Math.floor(resp.timeOut / 3)));
    // primeConnection's order: credentials, then watches, then whatever was waiting.
    for (const entry of this.authInfo) this.sendAuth(entry);
    this.sendSetWatches();
    const queued = this.queued;
    this.queued = [];
    for (const p of queued) this.sendPending(p);
    this.setState("connected");
    return "connected";
  }

  private readTimeoutMs(): number {
    const t = this.negotiatedTimeoutMsValue > 0 ? this.negotiatedTimeoutMsValue : this.requestedTimeoutMs;
    return Math.max(1, Math.floor((t * 2) / 3));
  }

  private sendPing(): void {
    if (this.conn === undefined || this.stateValue !== "connected") return;
    this.sendFrame(Xid.ping, OpCode.ping, emptyBytes);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }

  // ------------------------------------------------------------------ replies

  private onFrame(conn: Connection, frame: Uint8Array): void {
    if (conn !== this.conn) return;
    this.readTimer?.refresh();
    const r = new JuteReader(frame);
    let xid: number;
    let zxid: bigint;
    let err: number;
    try {
      ({ xid, zxid, err } = decodeReplyHeader(r));
    } catch (e) {
      conn.destroy(e as Error);
      return;
    }
    switch (xid) {
      case Xid.ping:
      case Xid.setWatches:
        return;
      case Xid.notification:
        return this.onNotification(conn, r, zxid);
      case Xid.auth:
        return this.onAuthReply(err);
    }
    const p = this.inFlight.shift();
    if (p === undefined || p.xid !== xid) {
      // ClientCnxn.readResponse: replies come in request order; anything else means the stream is not ours.
      conn.destroy(new Error(`reply xid ${xid} out of order (expected ${p?.xid})`));
      if (p !== undefined) p.reject(new ConnectionLossError(Code.connectionLoss, p.path));
      return;
    }
    if (zxid > 0n) this.lastZxidValue = zxid;
    if (p.onReply !== undefined) callSafely(p.onReply, err);
    if (err !== Code.ok) {
      p.reject(errorForCode(err, p.path));
      return;
    }
    let resp: Response;
    try {
      resp = decodeResponse(p.op, r);
    } catch (e) {
      p.reject(new MarshallingError(Code.marshallingError, p.path, `bad reply: ${(e as Error).message}`));
      return;
    }
    p.resolve(resp);
  }

  private onNotification(conn: Connection, r: JuteReader, zxid: bigint): void {
    let serverPath: string;
    let wireType: number;
    try {
      ({ path: serverPath, type: wireType } = decodeWatcherEvent(r));
    } catch (e) {
      conn.destroy(e as Error);
      return;
    }
    const type = watchEventType(wireType);
    if (type === undefined) return; // EventType.None: session state, which the client tracks itself.
    const path = this.clientPath(serverPath);
    const event: WatchEvent = { type, path, zxid };
    for (const cb of this.watches.materialize(type, path)) callSafely(cb, event);
  }

  private onAuthReply(err: number): void {
    const sent = this.authSent.shift();
    if (err === Code.authFailed) {
      // The server closes the connection after this; ZooKeeper's AUTH_FAILED state is terminal.
      for (const w of sent?.waiters ?? []) w.reject(errorForCode(Code.authFailed, undefined));
      if (sent !== undefined) this.authInfo.splice(this.authInfo.indexOf(sent.entry), 1);
      this.terminate("auth-failed");
      return;
    }
    for (const w of sent?.waiters ?? []) {
      if (err === Code.ok) w.resolve();
      else w.reject(errorForCode(err, undefined));
    }
  }

  private onConnectionClosed(conn: Connection, _error: Error | undefined): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.stopTimers();
    const inFlight = this.inFlight;
    this.inFlight = [];
    for (const p of inFlight) p.reject(new ConnectionLossError(Code.connectionLoss, p.path));
    // Credentials not yet acknowledged are re-sent, with their waiters, on the next connection.
    for (const sent of this.authSent) sent.entry.waiters.unshift(...sent.waiters);
    this.authSent = [];
    if (this.closing || isTerminal(this.stateValue)) return;
    this.setState("disconnected");
    void this.connectLoop();
  }

  // ------------------------------------------------------------------ state

  private setState(state: ClientState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.events.emit(state);
    this.events.emit("state", state);
  }

  /** Requests waiting for a connection fail: every host was tried once. They may be retried. */
  private failQueued(): void {
    const queued = this.queued;
    this.queued = [];
    for (const p of queued) p.reject(new ConnectionLossError(Code.connectionLoss, p.path));
    for (const entry of this.authInfo) {
      for (const w of entry.waiters.splice(0))
        w.reject(new ConnectionLossError(Code.connectionLoss, undefined));
    }
  }

  terminalError(path: string | undefined): ZkError {
    switch (this.stateValue) {
      case "auth-failed":
        return errorForCode(Code.authFailed, path);
      case "expired":
        return errorForCode(Code.sessionExpired, path);
      default:
        // ClientCnxn.conLossPacket: a closed client's requests fail as SESSIONEXPIRED.
        return errorForCode(
          Code.sessionExpired,
          path,
          `client closed${path === undefined ? "" : ` (${path})`}`,
        );
    }
  }

  /** Ends the session for good: everything outstanding fails, watches are dropped, streams end. */
  private terminate(state: "expired" | "auth-failed" | "closed"): void {
    if (isTerminal(this.stateValue)) return;
    this.stopTimers();
    this.attemptAbort?.abort();
    this.attemptAbort = undefined;
    this.wakeSleeper?.();
    this.wakeSleeper = undefined;
    const conn = this.conn;
    this.conn = undefined;
    this.stateValue = state;
    conn?.destroy(undefined);
    const pending = [...this.inFlight, ...this.queued];
    this.inFlight = [];
    this.queued = [];
    for (const p of pending) p.reject(this.terminalError(p.path));
    for (const entry of this.authInfo)
      for (const w of entry.waiters.splice(0)) w.reject(this.terminalError(undefined));
    for (const sent of this.authSent) for (const w of sent.waiters) w.reject(this.terminalError(undefined));
    this.authSent = [];
    this.watches.clear();
    const streams = [...this.streams];
    this.streams.clear();
    for (const s of streams) s.end(state === "closed" ? undefined : this.terminalError(undefined));
    this.events.emit(state);
    this.events.emit("state", state);
  }

  private stopTimers(): void {
    clearTimeout(this.pingTimer);
    clearTimeout(this.readTimer);
    this.pingTimer = undefined;
    this.readTimer = undefined;
  }

  serverPath(clientPath: string): string {
    return prependChroot(this.chroot, clientPath);
  }

  clientPath(serverPath: string): string {
    return stripChroot(this.chroot, serverPath);
  }
}

function noop(): void {}

function emptyLists(): {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
} {
  return { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
