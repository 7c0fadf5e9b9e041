// ZooKeeperClient: Corral's ZooKeeper client: sessions that move between servers, a Promise per opcode, watches.
import { JuteReader } from "../protocol/jute-reader.js";
import { JuteWriter } from "../protocol/jute-writer.js";
import { Code } from "../protocol/error-codes.js";
import { AddWatchMode, CreateFlags, OpCode, WatcherType, Xid } from "../protocol/opcodes.js";
import {
  decodeConnectResponse,
  decodeReplyHeader,
  decodeResponse,
  decodeWatcherEvent,
  encodeConnectRequest,
  encodeRequestBody,
} from "../protocol/records.js";
import type {
  ACL,
  ClientInfo,
  ConnectResponse,
  MultiOp,
  OpResult,
  Request,
  Response,
  Stat,
} from "../protocol/types.js";
import { OPEN_ACL_UNSAFE } from "./acl.js";
import {
  parseConnectString,
  prependChroot,
  shuffleHosts,
  stripChroot,
  validatePath,
} from "./connect-string.js";
import type { HostPort } from "./connect-string.js";
import { Connection } from "./connection.js";
import {
  ConnectionLossError,
  InvalidArgumentError,
  MarshallingError,
  NoNodeError,
  NoWatcherError,
  errorForCode,
  type TransactionResult,
  type ZkError,
} from "./errors.js";
import { SessionEvents, callSafely, type ClientEvents, type ClientState } from "./session-events.js";
import { Transaction, type TransactionOp } from "./transaction.js";
import {
  WatchEventStream,
  WatchRegistry,
  watchEventType,
  type WatchCallback,
  type WatcherKind,
  type WatchEvent,
} from "./watches.js";

export type { ClientState, ClientEvents };

/** Znode data as callers give it: bytes, a string (sent as UTF-8), or null (ZooKeeper stores null data). */
export type Data = Uint8Array | string | null;

export type CreateMode =
  | "persistent"
  | "ephemeral"
  | "persistent-sequential"
  | "ephemeral-sequential"
  | "container"
  | "persistent-ttl"
  | "persistent-sequential-ttl";

export interface CreateOptions {
  /** Default "persistent". */
  mode?: CreateMode;
  /** Default OPEN_ACL_UNSAFE. */
  acl?: readonly ACL[];
  /** Required for the TTL modes (and only for them): milliseconds after its last change an empty node may go. */
  ttlMs?: number;
}

export interface WatchOptions {
  /** A one-shot watch: called once, with the first event on the node, then forgotten. */
  watch?: WatchCallback;
}

export interface ConnectOptions {
  /** The session timeout asked for; the server negotiates it into [2, 20] ticks. */
  sessionTimeoutMs: number;
  /** Accept a read-only server (one cut off from its quorum). Default false. */
  readOnly?: boolean;
  /** Aborting before connect() resolves rejects it; aborting later closes the client. */
  signal?: AbortSignal;
  /** How long connect() waits for the first session. Default sessionTimeoutMs. */
  connectTimeoutMs?: number;
  /** Resume an existing session (both or neither). */
  sessionId?: bigint;
  sessionPassword?: Uint8Array;
  /** Try the hosts in a random order (default true); false keeps the connect string's order. */
  shuffleHosts?: boolean;
  /** The largest reply frame accepted. Default 4 MiB. */
  maxBufferBytes?: number;
}

export interface ReadOp {
  type: "getData" | "getChildren";
  path: string;
}

export type ReadResult =
  | { type: "getData"; data: Uint8Array; stat: Stat }
  | { type: "getChildren"; children: string[] }
  | { type: "error"; code: number; error: ZkError };

/**
 * The largest reply frame accepted by default. ZooKeeper's server allows data up to jute.maxbuffer (1 MiB) and
 * a getChildren reply past it, so the client's limit sits well above the server's.
 */
export const clientMaxBufferBytesDefault = 4 * 1024 * 1024;

/** setWatches batches stay under this many bytes of paths (ClientCnxn.SET_WATCHES_MAX_LENGTH), below jute.maxbuffer. */
export const setWatchesBatchBytesMax = 128 * 1024;

/** No connection attempt gets less time than this, however many hosts share the session timeout. */
const connectAttemptTimeoutMinMs = 1_000;
/** Pause after every host failed once: doubling from 100 ms up to 1 s, with jitter. */
const reconnectBackoffMaxMs = 1_000;
/** The largest TTL ZooKeeper takes (EphemeralType.TTL's 40-bit field). */
const ttlMsMax = 0xffffffffff;

const emptyBytes = new Uint8Array(0);
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

function toBytes(data: Data | undefined): Uint8Array | null {
  if (data === undefined) return emptyBytes;
  if (data === null || data instanceof Uint8Array) return data;
  if (typeof data === "string") return textEncoder.encode(data);
  throw new InvalidArgumentError(`data must be a Uint8Array, a string or null, not ${typeof data}`);
}

function isTerminal(state: ClientState): boolean {
  return state === "expired" || state === "auth-failed" || state === "closed";
}

const createFlags: Record<CreateMode, number> = {
  persistent: CreateFlags.persistent,
  ephemeral: CreateFlags.ephemeral,
  "persistent-sequential": CreateFlags.persistentSequential,
  "ephemeral-sequential": CreateFlags.ephemeralSequential,
  container: CreateFlags.container,
  "persistent-ttl": CreateFlags.persistentWithTtl,
  "persistent-sequential-ttl": CreateFlags.persistentSequentialWithTtl,
};

/**
 * The WatcherType sent for a kind. ZooKeeper 3.8 knows only Children, Data and Any (Persistent and
 * PersistentRecursive, 4 and 5, came in 3.9 and 3.8 answers them MarshallingError), and its Java client
 * removes persistent watches with Any: so does this client.
 */
function serverWatcherKind(kind: WatcherKind): WatcherKind {
  return kind === "persistent" || kind === "persistent-recursive" ? "any" : kind;
}

const watcherTypes: Record<WatcherKind, number> = {
  children: WatcherType.children,
  data: WatcherType.data,
  any: WatcherType.any,
  persistent: WatcherType.persistent,
  "persistent-recursive": WatcherType.persistentRecursive,
};

/**
 * A ZooKeeper session over one connection at a time (ClientCnxn). When the connection drops, outstanding
 * requests fail with ConnectionLossError, state goes to "disconnected", and the client tries the hosts in turn,
 * presenting its session id, password and last zxid seen; once a server takes the session back it re-sends the
 * credentials added with addAuth, re-arms every watch with setWatches/setWatches2, and sends what was queued
 * meanwhile. Only the server decides expiry ("expired", terminal). Create with `ZooKeeperClient.connect()`.
 */
export class ZooKeeperClient {
  private readonly events = new SessionEvents();
  private readonly hosts: HostPort[];
  private hostIndex = 0;
  readonly chroot: string;
  private readonly requestedTimeoutMs: number;
  private readonly readOnlyAllowed: boolean;
  private readonly maxBufferBytes: number;

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

  private readonly watches = new WatchRegistry();
  private readonly streams = new Set<WatchEventStream>();

  private constructor(connectString: string, options: ConnectOptions) {
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
    if ((options.sessionId === undefined) !== (options.sessionPassword === undefined))
      throw new InvalidArgumentError("sessionId and sessionPassword go together");
    if (options.sessionId !== undefined && options.sessionPassword !== undefined) {
      this.sessionIdValue = options.sessionId;
      this.passwd = options.sessionPassword.slice();
    }
  }

  /**
   * Connects to one of the connect string's servers ("host:port,host:port/chroot") and resolves once a session
   * is established. Rejects (and closes the client) when none is within connectTimeoutMs, when the signal
   * aborts, or when the server refuses the session (SessionExpiredError for a resumed session that is gone).
   */
  static async connect(connectString: string, options: ConnectOptions): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient(connectString, options);
    const signal = options.signal;
    signal?.throwIfAborted();
    const waitMs = options.connectTimeoutMs ?? options.sessionTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        client.events.off("state", onState);
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (err: unknown): void => {
        cleanup();
        void client.close().finally(() => reject(err));
      };
      const onState = (state: ClientState): void => {
        if (state === "connected") {
          cleanup();
          resolve();
        } else if (state === "expired") fail(errorForCode(Code.sessionExpired, undefined, "session expired"));
        else if (state === "auth-failed") fail(errorForCode(Code.authFailed));
        else if (state === "closed") fail(errorForCode(Code.connectionLoss, undefined, "client closed"));
      };
      const onAbort = (): void => fail(signal!.reason);
      const timer = setTimeout(
        () =>
          fail(
            errorForCode(
              Code.connectionLoss,
              undefined,
              `no server of ${connectString} took a session within ${waitMs} ms`,
            ),
          ),
        waitMs,
      );
      client.events.on("state", onState);
      signal?.addEventListener("abort", onAbort, { once: true });
      void client.connectLoop();
    });
    signal?.addEventListener("abort", () => void client.close(), { once: true });
    return client;
  }

  // ------------------------------------------------------------------ session

  get state(): ClientState {
    return this.stateValue;
  }

  /** 0n until the first session is established. */
  get sessionId(): bigint {
    return this.sessionIdValue;
  }

  /** With sessionId, what another client needs to resume this session (ConnectOptions). */
  get sessionPassword(): Uint8Array {
    return this.passwd.slice();
  }

  /** The session timeout the server granted. */
  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMsValue;
  }

  /** The highest zxid seen in a reply: sent on reconnect so no server shows this client an older state. */
  get lastZxid(): bigint {
    return this.lastZxidValue;
  }

  /** Whether the current server serves read-only (it lost its quorum and readOnly was allowed). */
  get readOnly(): boolean {
    return this.serverReadOnly;
  }

  on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  once<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    this.events.once(event, listener);
    return this;
  }

  off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    this.events.off(event, listener);
    return this;
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

  // ------------------------------------------------------------------ znodes

  /** Creates a node; resolves with its path (the sequential name filled in, chroot stripped). */
  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    const resp = await this.submit(this.createRequest(path, data, options, false), path);
    if (resp.type !== "create" && resp.type !== "create2") throw unexpected(resp, path);
    return this.clientPath(resp.path);
  }

  /** Creates a node and resolves with its path and Stat (OpCode.create2). */
  async create2(
    path: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    const resp = await this.submit(this.createRequest(path, data, options, true), path);
    if (resp.type !== "create2") throw unexpected(resp, path);
    return { path: this.clientPath(resp.path), stat: resp.stat };
  }

  /** Deletes a node at `version` (-1: any). */
  async delete(path: string, version = -1): Promise<void> {
    validatePath(path);
    await this.submit(
      { type: "delete", op: OpCode.delete, req: { path: this.serverPath(path), version } },
      path,
    );
  }

  /** The node's Stat, or null when there is none. A watch fires on its creation, change or deletion. */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    validatePath(path);
    const watch = options.watch;
    const onReply =
      watch === undefined
        ? undefined
        : (err: number): void => {
            if (err === Code.ok) this.watches.addData(path, watch);
            else if (err === Code.noNode) this.watches.addExist(path, watch);
          };
    try {
      const resp = await this.submit(
        {
          type: "exists",
          op: OpCode.exists,
          req: { path: this.serverPath(path), watch: watch !== undefined },
        },
        path,
        onReply,
      );
      return statOf(resp, path);
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
  }

  /** Data (null data reads as empty bytes) and Stat. A watch fires on change or deletion. */
  async getData(path: string, options: WatchOptions = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    validatePath(path);
    const watch = options.watch;
    const resp = await this.submit(
      {
        type: "getData",
        op: OpCode.getData,
        req: { path: this.serverPath(path), watch: watch !== undefined },
      },
      path,
      watch === undefined ? undefined : (err) => err === Code.ok && this.watches.addData(path, watch),
    );
    if (resp.type !== "getData") throw unexpected(resp, path);
    return { data: resp.data ?? emptyBytes, stat: resp.stat };
  }

  /** Sets data at `version` (-1: any); resolves with the new Stat. */
  async setData(path: string, data: Data, version = -1): Promise<Stat> {
    validatePath(path);
    const resp = await this.submit(
      {
        type: "setData",
        op: OpCode.setData,
        req: { path: this.serverPath(path), data: toBytes(data), version },
      },
      path,
    );
    return statOf(resp, path);
  }

  async getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    validatePath(path);
    const resp = await this.submit(
      { type: "getACL", op: OpCode.getACL, req: { path: this.serverPath(path) } },
      path,
    );
    if (resp.type !== "getACL") throw unexpected(resp, path);
    return { acl: resp.acl, stat: resp.stat };
  }

  /** Sets the ACL at ACL version `aclVersion` (-1: any); resolves with the new Stat. */
  async setACL(path: string, acl: readonly ACL[], aclVersion = -1): Promise<Stat> {
    validatePath(path);
    const resp = await this.submit(
      {
        type: "setACL",
        op: OpCode.setACL,
        req: { path: this.serverPath(path), acl: copyAcl(acl), version: aclVersion },
      },
      path,
    );
    return statOf(resp, path);
  }

  /** Child names (unsorted, as the server lists them). A watch fires on a child's creation or deletion, or the node's deletion. */
  async getChildren(path: string, options: WatchOptions = {}): Promise<string[]> {
    const resp = await this.children(path, options, OpCode.getChildren);
    if (resp.type !== "getChildren") throw unexpected(resp, path);
    return resp.children;
  }

  /** Child names and the parent's Stat (OpCode.getChildren2). */
  async getChildren2(path: string, options: WatchOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    const resp = await this.children(path, options, OpCode.getChildren2);
    if (resp.type !== "getChildren2") throw unexpected(resp, path);
    return { children: resp.children, stat: resp.stat };
  }

  private children(path: string, options: WatchOptions, op: number): Promise<Response> {
    validatePath(path);
    const watch = options.watch;
    return this.submit(
      { type: "getChildren", op, req: { path: this.serverPath(path), watch: watch !== undefined } },
      path,
      watch === undefined ? undefined : (err) => err === Code.ok && this.watches.addChild(path, watch),
    );
  }

  /** How many nodes lie below `path` (the whole subtree, not counting `path`). */
  async getAllChildrenNumber(path: string): Promise<number> {
    validatePath(path);
    const resp = await this.submit(
      { type: "getAllChildrenNumber", op: OpCode.getAllChildrenNumber, req: { path: this.serverPath(path) } },
      path,
    );
    if (resp.type !== "getAllChildrenNumber") throw unexpected(resp, path);
    return resp.totalNumber;
  }

  /** This session's ephemeral nodes whose paths start with `prefixPath` (chroot stripped). */
  async getEphemerals(prefixPath = "/"): Promise<string[]> {
    validatePath(prefixPath);
    const resp = await this.submit(
      { type: "getEphemerals", op: OpCode.getEphemerals, req: { path: this.serverPath(prefixPath) } },
      prefixPath,
    );
    if (resp.type !== "getEphemerals") throw unexpected(resp, prefixPath);
    return resp.ephemerals.map((p) => this.clientPath(p));
  }

  /** Waits until the server this client talks to has caught up with the leader (for `path`'s sake). */
  async sync(path = "/"): Promise<void> {
    validatePath(path);
    await this.submit({ type: "sync", op: OpCode.sync, req: { path: this.serverPath(path) } }, path);
  }

  /** The identities the server has authenticated this session as. */
  async whoAmI(): Promise<ClientInfo[]> {
    const resp = await this.submit({ type: "whoAmI", op: OpCode.whoAmI }, undefined);
    if (resp.type !== "whoAmI") throw unexpected(resp, undefined);
    return resp.clientInfo;
  }

  /** A builder for an atomic multi: `zk.transaction().create(...).check(...).commit()`. */
  transaction(): Transaction {
    return new Transaction((ops) => this.multi(ops));
  }

  /** Reads several nodes in one round trip (OpCode.multiRead); each op succeeds or fails on its own. */
  async multiRead(ops: readonly ReadOp[]): Promise<ReadResult[]> {
    const multiOps: MultiOp[] = ops.map((o) => {
      validatePath(o.path);
      const req = { path: this.serverPath(o.path) };
      if (o.type === "getData") return { type: "getData", op: OpCode.getData, req };
      if (o.type === "getChildren") return { type: "getChildren", op: OpCode.getChildren, req };
      throw new InvalidArgumentError(`multiRead takes getData and getChildren, not ${String(o.type)}`);
    });
    const resp = await this.submit({ type: "multi", op: OpCode.multiRead, ops: multiOps }, undefined);
    if (resp.type !== "multi" || resp.results.length !== ops.length) throw unexpected(resp, undefined);
    return resp.results.map((r, i): ReadResult => {
      const path = ops[i]!.path;
      switch (r.type) {
        case "getData":
          return { type: "getData", data: r.data ?? emptyBytes, stat: r.stat };
        case "getChildren":
          return { type: "getChildren", children: r.children };
        case "error":
          return { type: "error", code: r.err, error: errorForCode(r.err, path) };
        default:
          throw unexpected(resp, path);
      }
    });
  }

  private async multi(ops: readonly TransactionOp[]): Promise<TransactionResult[]> {
    const multiOps = ops.map((o) => this.multiOp(o));
    const resp = await this.submit({ type: "multi", op: OpCode.multi, ops: multiOps }, undefined);
    if (resp.type !== "multi" || resp.results.length !== ops.length) throw unexpected(resp, undefined);
    const failedOpIndex = resp.results.findIndex((r) => r.type === "error" && r.err !== Code.ok);
    const results = resp.results.map((r, i) => this.transactionResult(r, ops[i]!.path));
    if (failedOpIndex < 0) return results;
    // The rejection is the failing op's own error object, so `err.results[err.failedOpIndex].error === err`.
    const failed = results[failedOpIndex] as Extract<TransactionResult, { type: "error" }>;
    const error = failed.error ?? errorForCode(failed.code, ops[failedOpIndex]!.path);
    error.results = results;
    error.failedOpIndex = failedOpIndex;
    throw error;
  }

  private multiOp(o: TransactionOp): MultiOp {
    switch (o.type) {
      case "create": {
        const req = this.createRequest(o.path, o.data, o.options, false);
        return { type: "create", op: req.op, req: req.req };
      }
      case "delete":
        validatePath(o.path);
        return {
          type: "delete",
          op: OpCode.delete,
          req: { path: this.serverPath(o.path), version: o.version },
        };
      case "setData":
        validatePath(o.path);
        return {
          type: "setData",
          op: OpCode.setData,
          req: { path: this.serverPath(o.path), data: toBytes(o.data), version: o.version },
        };
      case "check":
        validatePath(o.path);
        return {
          type: "check",
          op: OpCode.check,
          req: { path: this.serverPath(o.path), version: o.version },
        };
      default:
        throw new InvalidArgumentError(`unknown transaction op ${String((o as { type: unknown }).type)}`);
    }
  }

  private transactionResult(r: OpResult, path: string): TransactionResult {
    switch (r.type) {
      case "create":
        return { type: "create", path: this.clientPath(r.path), stat: r.stat };
      case "delete":
      case "check":
        return { type: r.type };
      case "setData":
        return { type: "setData", stat: r.stat };
      case "error":
        return { type: "error", code: r.err, error: r.err === Code.ok ? null : errorForCode(r.err, path) };
      default:
        throw new MarshallingError(
          Code.marshallingError,
          path,
          `unexpected ${r.type} result in a multi reply`,
        );
    }
  }

  private createRequest(
    path: string,
    data: Data | undefined,
    options: CreateOptions,
    withStat: boolean,
  ): Extract<Request, { type: "create" }> {
    const mode = options.mode ?? "persistent";
    const flags = createFlags[mode];
    if (flags === undefined) throw new InvalidArgumentError(`unknown create mode ${String(mode)}`);
    validatePath(path, mode.includes("sequential"));
    const isTtl = mode === "persistent-ttl" || mode === "persistent-sequential-ttl";
    let ttl = 0n;
    if (isTtl) {
      const ttlMs = options.ttlMs;
      if (ttlMs === undefined || !Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > ttlMsMax)
        throw new InvalidArgumentError(`mode ${mode} needs ttlMs in [1, ${ttlMsMax}], not ${ttlMs}`);
      ttl = BigInt(ttlMs);
    } else if (options.ttlMs !== undefined) {
      throw new InvalidArgumentError(`ttlMs is only for the TTL modes, not ${mode}`);
    }
    const op =
      mode === "container"
        ? OpCode.createContainer
        : isTtl
          ? OpCode.createTTL
          : withStat
            ? OpCode.create2
            : OpCode.create;
    const acl = copyAcl(options.acl ?? OPEN_ACL_UNSAFE);
    return { type: "create", op, req: { path: this.serverPath(path), data: toBytes(data), acl, flags, ttl } };
  }

  // ------------------------------------------------------------------ watches

  /**
   * Adds a persistent watch (AddWatchMode.persistent): `callback` gets every event on `path`, and keeps
   * getting them, until removeWatches. With `recursive` it covers the whole subtree, without child events.
   */
  async addWatch(
    path: string,
    callback: WatchCallback,
    options: { recursive?: boolean } = {},
  ): Promise<void> {
    validatePath(path);
    const recursive = options.recursive ?? false;
    await this.submit(
      {
        type: "addWatch",
        op: OpCode.addWatch,
        req: {
          path: this.serverPath(path),
          mode: recursive ? AddWatchMode.persistentRecursive : AddWatchMode.persistent,
        },
      },
      path,
      (err) => err === Code.ok && this.watches.addPersistent(path, callback, recursive),
    );
  }

  /**
   * A persistent (or recursive) watch as an async iterator, armed when this resolves: `for await (const e of
   * stream)`. Leaving the loop (or stream.close()) removes the watch; the stream ends when the client closes
   * and throws SessionExpiredError when the session expires.
   */
  async watchEvents(path: string, options: { recursive?: boolean } = {}): Promise<WatchEventStream> {
    const recursive = options.recursive ?? false;
    const kind: WatcherKind = recursive ? "persistent-recursive" : "persistent";
    const stream = new WatchEventStream((s) => {
      this.streams.delete(s);
      const serverKind = serverWatcherKind(kind);
      const served = this.watches.stillServed(path, kind, s.callback, serverKind);
      this.watches.remove(path, kind, s.callback);
      if (!served && this.stateValue === "connected") this.sendRemoveWatches(path, serverKind).catch(noop);
    });
    await this.addWatch(path, stream.callback, { recursive });
    if (isTerminal(this.stateValue)) stream.end(this.terminalError(path));
    else this.streams.add(stream);
    return stream;
  }

  /**
   * Removes watches of `kind` on `path`: one callback's, or (without `callback`) all of them. The server drops
   * its watch only once no callback of this client needs it (otherwise it is asked checkWatches). NoWatcherError
   * when there is none; with `local` the server is not asked (for use while disconnected). Removed callbacks
   * are told with a dataWatchRemoved, childWatchRemoved or persistentWatchRemoved event.
   */
  async removeWatches(
    path: string,
    kind: WatcherKind,
    options: { callback?: WatchCallback; local?: boolean } = {},
  ): Promise<void> {
    validatePath(path);
    const { callback, local } = options;
    if (!this.watches.has(path, kind, callback)) throw new NoWatcherError(Code.noWatcher, path);
    if (local !== true) {
      const serverKind = serverWatcherKind(kind);
      if (this.watches.stillServed(path, kind, callback, serverKind))
        await this.checkWatchesOnServer(path, serverKind);
      else await this.sendRemoveWatches(path, serverKind);
    }
    for (const { callback: cb, type } of this.watches.remove(path, kind, callback))
      callSafely(cb, { type, path, zxid: -1n });
    for (const s of this.streams) if (s.ended) this.streams.delete(s);
  }

  /** Resolves when a watch of `kind` on `path` is set here and on the server; NoWatcherError otherwise. */
  async checkWatches(
    path: string,
    kind: WatcherKind,
    options: { callback?: WatchCallback } = {},
  ): Promise<void> {
    validatePath(path);
    if (!this.watches.has(path, kind, options.callback)) throw new NoWatcherError(Code.noWatcher, path);
    await this.checkWatchesOnServer(path, serverWatcherKind(kind));
  }

  private async checkWatchesOnServer(path: string, kind: WatcherKind): Promise<void> {
    await this.submit(
      {
        type: "checkWatches",
        op: OpCode.checkWatches,
        req: { path: this.serverPath(path), type: watcherTypes[kind] },
      },
      path,
    );
  }

  private async sendRemoveWatches(path: string, kind: WatcherKind): Promise<void> {
    await this.submit(
      {
        type: "checkWatches",
        op: OpCode.removeWatches,
        req: { path: this.serverPath(path), type: watcherTypes[kind] },
      },
      path,
    );
  }

  // ------------------------------------------------------------------ requests

  private submit(
    request: Request,
    path: string | undefined,
    onReply?: (err: number) => void,
  ): Promise<Response> {
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
      conn = await Connection.open(host.host, host.port, timeoutMs, this.maxBufferBytes, abort.signal);
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

  private terminalError(path: string | undefined): ZkError {
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

  private serverPath(clientPath: string): string {
    return prependChroot(this.chroot, clientPath);
  }

  private clientPath(serverPath: string): string {
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

function copyAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }));
}

function statOf(resp: Response, path: string): Stat {
  if (resp.type !== "stat") throw unexpected(resp, path);
  return resp.stat;
}

function unexpected(resp: Response | { type: string }, path: string | undefined): ZkError {
  return new MarshallingError(Code.marshallingError, path, `unexpected ${resp.type} reply`);
}
