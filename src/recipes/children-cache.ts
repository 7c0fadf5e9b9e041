// PathChildrenCache: a znode's children, with their data, kept current through watches (Curator's).
import { EventEmitter } from "node:events";
import { NoNodeError, SessionExpiredError, type WatchEvent, type ZooKeeperClient } from "../client/index.js";
import { retryOnConnectionLoss } from "./connection-retry.js";
import type { ChildData } from "./node-cache.js";
import { validateRecipePath } from "./recipe-path.js";
import { SerialQueue } from "./serial-queue.js";
import { joinPath } from "./znode-paths.js";

export interface ChildrenCacheEvents {
  /** The initial load is complete: `children` is the state the events that follow start from. */
  initialized: [children: ChildData[]];
  childAdded: [child: ChildData];
  childUpdated: [child: ChildData];
  childRemoved: [child: ChildData];
  /** A refresh failed for a reason other than connection loss. */
  error: [error: Error];
}

/**
 * Caches the children of `path` and their data. start() loads them all, then reports "initialized" with that
 * snapshot; from then on each change arrives as childAdded, childUpdated or childRemoved, in the order the
 * cache read them. All reads run one at a time through a queue, so an event never describes an older state
 * than the one before it. The parent need not exist; the cache fills once it is created.
 */
export class ChildrenCache extends EventEmitter<ChildrenCacheEvents> {
  private readonly children = new Map<string, ChildData>();
  private initialized = false;
  private closed = false;
  private readonly queue = new SerialQueue((err) => this.report(err));
  private readonly onChildrenWatch = (_e: WatchEvent): void =>
    void this.queue.push(() => this.refreshChildren());

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
  ) {
    super();
    validateRecipePath(path);
  }

  /** Loads every child and its data; resolves (and emits "initialized") once the cache holds them. */
  async start(): Promise<void> {
    await this.queue.push(() => this.refreshChildren());
    await this.queue.idle();
    this.initialized = true;
    this.emit("initialized", this.currentData());
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }

  /** The cached children, sorted by name. */
  currentData(): ChildData[] {
    return [...this.children.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** One child by its full path. */
  get(path: string): ChildData | undefined {
    return this.children.get(path);
  }

  private async refreshChildren(): Promise<void> {
    if (this.closed) return;
    let names: string[];
    try {
      names = await retryOnConnectionLoss(this.zk, () =>
        this.zk.getChildren(this.path, { watch: this.onChildrenWatch }),
      );
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      // No parent: watch for its creation, and everything we had is gone.
      const stat = await retryOnConnectionLoss(this.zk, () =>
        this.zk.exists(this.path, { watch: this.onChildrenWatch }),
      );
      if (stat !== null) return this.refreshChildren();
      names = [];
    }
    const present = new Set(names.map((n) => joinPath(this.path, n)));
    for (const [path, child] of this.children)
      if (!present.has(path)) {
        this.children.delete(path);
        this.emitChange("childRemoved", child);
      }
    for (const path of [...present].sort()) if (!this.children.has(path)) await this.refreshChild(path);
  }

  private async refreshChild(path: string): Promise<void> {
    if (this.closed) return;
    const onDataWatch = (e: WatchEvent): void => {
      if (e.type === "nodeDataChanged" || e.type === "nodeDeleted")
        void this.queue.push(() => this.refreshChild(path));
    };
    let read: { data: Uint8Array; stat: ChildData["stat"] };
    try {
      read = await retryOnConnectionLoss(this.zk, () => this.zk.getData(path, { watch: onDataWatch }));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      const gone = this.children.get(path);
      if (gone !== undefined) {
        this.children.delete(path);
        this.emitChange("childRemoved", gone);
      }
      return;
    }
    const child: ChildData = { path, data: read.data, stat: read.stat };
    const prev = this.children.get(path);
    if (prev !== undefined && prev.stat.mzxid === child.stat.mzxid && prev.stat.czxid === child.stat.czxid)
      return;
    this.children.set(path, child);
    this.emitChange(prev === undefined ? "childAdded" : "childUpdated", child);
  }

  private emitChange(event: "childAdded" | "childUpdated" | "childRemoved", child: ChildData): void {
    if (this.initialized && !this.closed) this.emit(event, child);
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof SessionExpiredError) return;
    if (this.listenerCount("error") > 0)
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }
}
