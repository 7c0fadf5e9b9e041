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
  error: [error: Error];
}

/**
 * Keeps a node at `path` with `data` for as long as this object is open (PersistentNode, and with an ephemeral
 * mode PersistentEphemeralNode): if anyone deletes it, or the connection comes back without it, it is created
 * again. Sequential modes use a protected name, so a create whose reply was lost is adopted, not duplicated.
 * If another session holds an ephemeral node at the path, this waits for it to go and then takes the path.
 * An expired client is terminal, so after expiry the node cannot come back on it: start a new PersistentNode
 * on a new client.
 */
export class PersistentNode extends EventEmitter<PersistentNodeEvents> {
  private actualPath: string | undefined;
  private dataValue: Data;
  private closed = false;
  private started = false;
  private watcher: SessionWatcher | undefined;
  private readonly id = protectedId();
  private readonly queue = new SerialQueue((err) => this.report(err));
  /** Any event (a data change fires the exists watch too) re-arms the watch; a deletion re-creates. */
  private readonly onWatch = (_e: WatchEvent): void => void this.queue.push(() => this.ensure());

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    readonly mode: CreateMode,
    data: Data,
  ) {
    super();
    validateRecipePath(path);
    this.dataValue = data;
  }

  /** Creates the node (its parents too); resolves once it exists. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`PersistentNode at ${this.path} already started`);
    this.started = true;
    this.watcher = new SessionWatcher(this.zk);
    this.watcher.on("state", (s) => {
      if (s === "reconnected") void this.queue.push(() => this.ensure());
    });
    await this.queue.push(() => this.ensure());
  }

  /** The node's path as created (sequential modes add a suffix); undefined until then. */
  get actual(): string | undefined {
    return this.actualPath;
  }

  /** Changes the data, now and for every re-creation. */
  async setData(data: Data): Promise<void> {
    this.dataValue = data;
    const path = this.actualPath;
    if (path !== undefined) await retryOnConnectionLoss(this.zk, () => this.zk.setData(path, data));
  }

  /** Stops keeping the node and deletes it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    await this.queue.idle();
    const path = this.actualPath;
    this.actualPath = undefined;
    if (path !== undefined) await deleteGuaranteed(this.zk, path);
  }

  private isSequential(): boolean {
    return this.mode.includes("sequential");
  }

  private async ensure(): Promise<void> {
    if (this.closed) return;
    if (this.actualPath !== undefined) {
      const stat = await retryOnConnectionLoss(this.zk, () =>
        this.zk.exists(this.actualPath!, { watch: this.onWatch }),
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
        },
      );
      this.actualPath = created;
    } else {
      try {
        await ensurePath(this.zk, parentPath(this.path));
        await retryOnConnectionLoss(this.zk, () =>
          this.zk.create(this.path, this.dataValue, { mode: this.mode }),
        );
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
        // Ours from before a lost reply, or someone else's: either way watch it; a deletion brings us back.
        const stat = await retryOnConnectionLoss(this.zk, () =>
          this.zk.exists(this.path, { watch: this.onWatch }),
        );
        if (stat === null) return this.ensure();
        if (stat.ephemeralOwner !== this.zk.sessionId && this.mode === "ephemeral") return;
        this.actualPath = this.path;
        await retryOnConnectionLoss(this.zk, () => this.zk.setData(this.path, this.dataValue));
        return;
      }
      this.actualPath = this.path;
    }
    if (this.closed) {
      await deleteGuaranteed(this.zk, this.actualPath);
      return;
    }
    const stat = await retryOnConnectionLoss(this.zk, () =>
      this.zk.exists(this.actualPath!, { watch: this.onWatch }),
    );
    this.emit("created", this.actualPath);
    if (stat === null) return this.ensure();
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof SessionExpiredError || err instanceof NoNodeError) return;
    if (this.listenerCount("error") > 0)
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }
}
