// ZooKeeperClient: Corral's ZooKeeper client: sessions that move between servers, a Promise per opcode, watches.
// The public API surface; the session and its connection live in session.ts, request building in requests.ts.
import { Code } from "../protocol/error-codes.js";
import { AddWatchMode, OpCode } from "../protocol/opcodes.js";
import type { ACL, ClientInfo, Request, Response, Stat } from "../protocol/types.js";
import type {
  ConnectOptions,
  CreateOptions,
  Data,
  ReadOp,
  ReadResult,
  WatchOptions,
} from "./client-options.js";
import { validatePath } from "./connect-string.js";
import { NoNodeError, NoWatcherError, errorForCode, type TransactionResult } from "./errors.js";
import {
  copyAcl,
  createRequest,
  emptyBytes,
  multiOp,
  multiReadOps,
  readResults,
  serverWatcherKind,
  statOf,
  toBytes,
  transactionResults,
  unexpected,
  watcherTypes,
} from "./requests.js";
import { Session, isTerminal } from "./session.js";
import { callSafely, type ClientEvents, type ClientState } from "./session-events.js";
import { Transaction, type TransactionOp } from "./transaction.js";
import { WatchEventStream, type WatchCallback, type WatcherKind } from "./watches.js";

export type { ClientState, ClientEvents };
export {
  clientMaxBufferBytesDefault,
  setWatchesBatchBytesMax,
  type ConnectOptions,
  type CreateMode,
  type CreateOptions,
  type Data,
  type ReadOp,
  type ReadResult,
  type WatchOptions,
} from "./client-options.js";

/**
 * A ZooKeeper session over one connection at a time (ClientCnxn). When the connection drops, outstanding
 * requests fail with ConnectionLossError, state goes to "disconnected", and the client tries the hosts in turn,
 * presenting its session id, password and last zxid seen; once a server takes the session back it re-sends the
 * credentials added with addAuth, re-arms every watch with setWatches/setWatches2, and sends what was queued
 * meanwhile. Only the server decides expiry ("expired", terminal). Create with `ZooKeeperClient.connect()`.
 */
export class ZooKeeperClient {
  private readonly session: Session;
  readonly chroot: string;

  private constructor(connectString: string, options: ConnectOptions) {
    this.session = new Session(connectString, options);
    this.chroot = this.session.chroot;
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
        client.session.events.off("state", onState);
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
      client.session.events.on("state", onState);
      signal?.addEventListener("abort", onAbort, { once: true });
      client.session.start();
    });
    signal?.addEventListener("abort", () => void client.close(), { once: true });
    return client;
  }

  // ------------------------------------------------------------------ session

  get state(): ClientState {
    return this.session.state;
  }

  /** 0n until the first session is established. */
  get sessionId(): bigint {
    return this.session.sessionId;
  }

  /** With sessionId, what another client needs to resume this session (ConnectOptions). */
  get sessionPassword(): Uint8Array {
    return this.session.sessionPassword;
  }

  /** The session timeout the server granted. */
  get sessionTimeoutMs(): number {
    return this.session.sessionTimeoutMs;
  }

  /** The highest zxid seen in a reply: sent on reconnect so no server shows this client an older state. */
  get lastZxid(): bigint {
    return this.session.lastZxid;
  }

  /** Whether the current server serves read-only (it lost its quorum and readOnly was allowed). */
  get readOnly(): boolean {
    return this.session.readOnly;
  }

  on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    this.session.events.on(event, listener);
    return this;
  }

  once<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    this.session.events.once(event, listener);
    return this;
  }

  off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    this.session.events.off(event, listener);
    return this;
  }

  /**
   * Sends closeSession and resolves once the server answers (or the connection drops, or a read timeout
   * passes). Requests sent before complete first; anything after fails with SessionExpiredError. Idempotent.
   */
  close(): Promise<void> {
    return this.session.close();
  }

  /** Adds credentials (scheme "digest": "user:password"); resolves when the server accepts them. They are re-sent on every reconnect. */
  addAuth(scheme: string, auth: string | Uint8Array): Promise<void> {
    return this.session.addAuth(scheme, auth);
  }

  // ------------------------------------------------------------------ znodes

  /** Creates a node; resolves with its path (the sequential name filled in, chroot stripped). */
  async create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    const resp = await this.submit(createRequest(this.session, path, data, options, false), path);
    if (resp.type !== "create" && resp.type !== "create2") throw unexpected(resp, path);
    return this.clientPath(resp.path);
  }

  /** Creates a node and resolves with its path and Stat (OpCode.create2). */
  async create2(
    path: string,
    data?: Data,
    options: CreateOptions = {},
  ): Promise<{ path: string; stat: Stat }> {
    const resp = await this.submit(createRequest(this.session, path, data, options, true), path);
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

  /**
   * Data and Stat. A watch fires on change or deletion. Null data (a node created without data) reads as
   * empty bytes, unless `keepNull` asks to tell it from empty data (as zkCli's `get` prints "null").
   */
  getData(
    path: string,
    options?: WatchOptions & { keepNull?: false },
  ): Promise<{ data: Uint8Array; stat: Stat }>;
  getData(
    path: string,
    options: WatchOptions & { keepNull: true },
  ): Promise<{ data: Uint8Array | null; stat: Stat }>;
  async getData(
    path: string,
    options: WatchOptions & { keepNull?: boolean } = {},
  ): Promise<{ data: Uint8Array | null; stat: Stat }> {
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
    return { data: options.keepNull === true ? resp.data : (resp.data ?? emptyBytes), stat: resp.stat };
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
    const multiOps = multiReadOps(this.session, ops);
    const resp = await this.submit({ type: "multi", op: OpCode.multiRead, ops: multiOps }, undefined);
    return readResults(ops, resp);
  }

  private async multi(ops: readonly TransactionOp[]): Promise<TransactionResult[]> {
    const multiOps = ops.map((o) => multiOp(this.session, o));
    const resp = await this.submit({ type: "multi", op: OpCode.multi, ops: multiOps }, undefined);
    return transactionResults(this.session, ops, resp);
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
      this.session.streams.delete(s);
      const serverKind = serverWatcherKind(kind);
      const served = this.watches.stillServed(path, kind, s.callback, serverKind);
      this.watches.remove(path, kind, s.callback);
      if (!served && this.session.state === "connected") this.sendRemoveWatches(path, serverKind).catch(noop);
    });
    await this.addWatch(path, stream.callback, { recursive });
    if (isTerminal(this.session.state)) stream.end(this.session.terminalError(path));
    else this.session.streams.add(stream);
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
    for (const s of this.session.streams) if (s.ended) this.session.streams.delete(s);
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

  // ------------------------------------------------------------------ session plumbing

  private submit(
    request: Request,
    path: string | undefined,
    onReply?: (err: number) => void,
  ): Promise<Response> {
    return this.session.submit(request, path, onReply);
  }

  private get watches(): Session["watches"] {
    return this.session.watches;
  }

  private serverPath(clientPath: string): string {
    return this.session.serverPath(clientPath);
  }

  private clientPath(serverPath: string): string {
    return this.session.clientPath(serverPath);
  }
}

function noop(): void {}
