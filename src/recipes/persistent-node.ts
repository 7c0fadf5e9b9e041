// PersistentNode: a node this client keeps in place: re-created when deleted or after a reconnection (Curator's).
import { EventEmitter } from "node:events";
import {
  NodeExistsError,
  NoNodeError,
  SessionExpiredError,
  type CreateMode,
  type Data,
  type WatchEvent,
  type ZooKeeperClient,
} from "../client/index.js";
import { deleteGuaranteed, retryOnConnectionLoss } from "./connection-retry.js";
import { protectedCreate, protectedId } from "./protected-create.js";
import { validateRecipePath } from "./recipe-path.js";
import { SerialQueue } from "./serial-queue.js";
import { SessionWatcher } from "./session-watcher.js";
import { ensurePath, nodeName, parentPath } from "./znode-paths.js";

export interface PersistentNodeEvents {
  /** The node was (re-)created; `path` is its actual path (with the sequence number, if sequential). */
  created: [path: string];
  /** After the session was lost, the client factory gave a new client; the node is re-created on it. */
  newClient: [zk: ZooKeeperClient];
  error: [error: Error];
}

export interface PersistentNodeOptions {
  /**
   * Makes a new client once the session is lost (expired, or disconnected for a whole session timeout, as
   * Curator presumes), so the node comes back under a new session. Clients it makes are this object's: it closes
   * them when it replaces them and on close(). The client given to the constructor stays the caller's: it is
   * never closed here. Without a factory an expired client is terminal and the node stays gone.
   */
  clientFactory?: () => Promise<ZooKeeperClient>;
  /** Pause between failed factory calls. Default 1 s. */
  clientRetryMs?: number;
}

/**
 * Keeps a node at `path` with `data` for as long as this object is open (PersistentNode, and with an ephemeral
 * mode PersistentEphemeralNode): if anyone deletes it, or the connection comes back without it, it is created
 * again. Sequential modes use a protected name, so a create whose reply was lost is adopted, not duplicated.
 * If another session holds an ephemeral node at the path, this waits for it to go and then takes the path.
 * An expired client is terminal: after expiry the node comes back only with a `clientFactory` (the node is then
 * re-created on a new client, under a new session); without one, start a new PersistentNode on a new client.
 */
export class PersistentNode extends EventEmitter<PersistentNodeEvents> {
  private actualPath: string | undefined;
  private dataValue: Data;
  private closed = false;
  private started = false;
  private watcher: SessionWatcher | undefined;
  private readonly id = protectedId();
  private readonly queue = new SerialQueue((err) => this.report(err));
  private client: ZooKeeperClient;
  /** Aborted when the client is replaced, so nothing waits on the old one's reconnection. */
  private clientGeneration = new AbortController();
  private readonly ownedClients = new Set<ZooKeeperClient>();
  private replacing: Promise<void> | undefined;
  private readonly closing = new AbortController();
  /** Any event (a data change fires the exists watch too) re-arms the watch; a deletion re-creates. */
  private readonly onWatch = (_e: WatchEvent): void => void this.queue.push(() => this.ensure());

  constructor(
    zk: ZooKeeperClient,
    readonly path: string,
    readonly mode: CreateMode,
    data: Data,
    private readonly options: PersistentNodeOptions = {},
  ) {
    super();
    validateRecipePath(path);
    this.client = zk;
    this.dataValue = data;
  }

  /** The client the node is kept on: the one given, or after a session loss the factory's latest. */
  get zk(): ZooKeeperClient {
    return this.client;
  }

  private get retry(): { signal: AbortSignal } {
    return { signal: this.clientGeneration.signal };
  }

  /** Creates the node (its parents too); resolves once it exists. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`PersistentNode at ${this.path} already started`);
    this.started = true;
    this.watch();
    await this.queue.push(() => this.ensure());
  }

  private watch(): void {
    const watcher = new SessionWatcher(this.zk);
    this.watcher = watcher;
    watcher.on("state", (s) => {
      if (s === "reconnected") void this.queue.push(() => this.ensure());
      else if (s === "lost") this.onSessionLost(watcher);
    });
    if (watcher.state === "lost") this.onSessionLost(watcher);
  }

  /** With a factory, replaces a client whose session is lost, and re-creates the node on the new one. */
  private onSessionLost(watcher: SessionWatcher): void {
    const factory = this.options.clientFactory;
    if (factory === undefined || this.closed || watcher !== this.watcher || this.replacing !== undefined)
      return;
    // A client closed by its owner is not a lost session to recover from.
    if (this.zk.state === "closed" && !this.ownedClients.has(this.zk)) return;
    this.replacing = this.replaceClient(factory).finally(() => (this.replacing = undefined));
  }

  private async replaceClient(factory: () => Promise<ZooKeeperClient>): Promise<void> {
    const old = this.zk;
    this.watcher?.close();
    this.watcher = undefined;
    this.clientGeneration.abort(
      new SessionExpiredError(-112, this.path, "session lost: replacing the client"),
    );
    let next: ZooKeeperClient | undefined;
    while (next === undefined && !this.closed) {
      try {
        next = await factory();
      } catch (err) {
        this.report(err);
        await pause(this.options.clientRetryMs ?? 1_000, this.closing.signal);
      }
    }
    if (this.ownedClients.delete(old)) await old.close().catch(() => {});
    if (next === undefined) return;
    this.ownedClients.add(next);
    if (this.closed) {
      this.ownedClients.delete(next);
      await next.close().catch(() => {});
      return;
    }
    this.client = next;
    this.clientGeneration = new AbortController();
    // An ephemeral node of the old session is gone (or goes when the server expires it); a persistent one stays.
    if (this.mode.startsWith("ephemeral")) this.actualPath = undefined;
    this.emit("newClient", next);
    this.watch();
    void this.queue.push(() => this.ensure());
  }

  /** The node's path as created (sequential modes add a suffix); undefined until then. */
  get actual(): string | undefined {
    return this.actualPath;
  }

  /** Changes the data, now and for every re-creation. */
  async setData(data: Data): Promise<void> {
    this.dataValue = data;
    const path = this.actualPath;
    if (path !== undefined)
      await retryOnConnectionLoss(this.zk, () => this.zk.setData(path, data), this.retry);
  }

  /** Stops keeping the node and deletes it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.watcher?.close();
    await this.replacing;
    await this.queue.idle();
    const path = this.actualPath;
    this.actualPath = undefined;
    if (path !== undefined) await deleteGuaranteed(this.zk, path);
    for (const zk of this.ownedClients) await zk.close().catch(() => {});
    this.ownedClients.clear();
  }

  private isSequential(): boolean {
    return this.mode.includes("sequential");
  }

  private async ensure(): Promise<void> {
    if (this.closed) return;
    if (this.actualPath !== undefined) {
      const stat = await retryOnConnectionLoss(
        this.zk,
        () => this.zk.exists(this.actualPath!, { watch: this.onWatch }),
        this.retry,
      );
      if (stat !== null) return;
    }
    if (this.isSequential()) {
      const created = await protectedCreate(
        this.zk,
        parentPath(this.path),
        nodeName(this.path),
        this.dataValue,
        {
          mode: this.mode,
          id: this.id,
          ...this.retry,
        },
      );
      this.actualPath = created;
    } else {
      try {
        await ensurePath(this.zk, parentPath(this.path), this.retry);
        await retryOnConnectionLoss(
          this.zk,
          () => this.zk.create(this.path, this.dataValue, { mode: this.mode }),
          this.retry,
        );
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
        // Ours from before a lost reply, or someone else's: either way watch it; a deletion brings us back.
        const stat = await retryOnConnectionLoss(
          this.zk,
          () => this.zk.exists(this.path, { watch: this.onWatch }),
          this.retry,
        );
        if (stat === null) return this.ensure();
        if (stat.ephemeralOwner !== this.zk.sessionId && this.mode === "ephemeral") return;
        this.actualPath = this.path;
        await retryOnConnectionLoss(this.zk, () => this.zk.setData(this.path, this.dataValue), this.retry);
        return;
      }
      this.actualPath = this.path;
    }
    if (this.closed) {
      await deleteGuaranteed(this.zk, this.actualPath);
      return;
    }
    const stat = await retryOnConnectionLoss(
      this.zk,
      () => this.zk.exists(this.actualPath!, { watch: this.onWatch }),
      this.retry,
    );
    this.emit("created", this.actualPath);
    if (stat === null) return this.ensure();
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof SessionExpiredError || err instanceof NoNodeError) return;
    if (err === this.clientGeneration.signal.reason) return;
    if (this.listenerCount("error") > 0)
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
