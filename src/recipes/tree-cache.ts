// TreeCache: every node of a subtree, with its data, kept current through watches (Curator's TreeCache).
import { EventEmitter } from "node:events";
import {
  NoNodeError,
  SessionExpiredError,
  type WatchCallback,
  type WatchEvent,
  type ZooKeeperClient,
} from "../client/index.js";
import { retryOnConnectionLoss } from "./connection-retry.js";
import type { ChildData } from "./node-cache.js";
import { validateRecipePath } from "./recipe-path.js";
import { SerialQueue } from "./serial-queue.js";
import { joinPath, parentPath } from "./znode-paths.js";

export interface TreeCacheEvents {
  /** The initial load is complete: the cache holds the subtree; the events that follow start from here. */
  initialized: [];
  nodeAdded: [node: ChildData];
  nodeUpdated: [node: ChildData];
  nodeRemoved: [node: ChildData];
  /** A refresh failed for a reason other than connection loss. */
  error: [error: Error];
}

export interface TreeCacheOptions {
  /** How deep below the root to cache: 0 caches the root alone. Default: the whole subtree. */
  maxDepth?: number;
}

interface CachedNode {
  data: ChildData;
  /** Full paths of the children as last listed. */
  children: Set<string>;
}

/**
 * Caches the node at `path` and everything below it (to `maxDepth`). Each node is read with getData and listed
 * with getChildren, both leaving a watch; a watch that fires reads that node again, so the cache follows the
 * server, and the client re-arms every watch after a reconnection so changes made meanwhile arrive then.
 * start() loads the subtree and emits "initialized"; after that each change arrives as nodeAdded, nodeUpdated
 * or nodeRemoved (a removed subtree is reported deepest first). All reads run one at a time through a queue,
 * so an event never describes an older state than the one before it. The root need not exist.
 */
export class TreeCache extends EventEmitter<TreeCacheEvents> {
  private readonly nodes = new Map<string, CachedNode>();
  private readonly maxDepth: number;
  private readonly rootDepth: number;
  private initialized = false;
  private closed = false;
  private readonly queue = new SerialQueue((err) => this.report(err));
  /** One callback per path and kind, so repeated reads leave one watch callback, not many. */
  private readonly dataWatches = new Map<string, WatchCallback>();
  private readonly childWatches = new Map<string, WatchCallback>();

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    options: TreeCacheOptions = {},
  ) {
    super();
    validateRecipePath(path);
    this.maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    this.rootDepth = depthOf(path);
  }

  /** Loads the subtree; resolves (and emits "initialized") once the cache holds it. */
  async start(): Promise<void> {
    await this.queue.push(() => this.refreshData(this.path));
    await this.queue.idle();
    this.initialized = true;
    if (!this.closed) this.emit("initialized");
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }

  /** A cached node by its full path. */
  currentData(path: string): ChildData | undefined {
    return this.nodes.get(path)?.data;
  }

  /** A cached node's children, name → data; undefined when the node is not cached. */
  currentChildren(path: string): Map<string, ChildData> | undefined {
    const node = this.nodes.get(path);
    if (node === undefined) return undefined;
    const out = new Map<string, ChildData>();
    for (const child of [...node.children].sort()) {
      const data = this.nodes.get(child)?.data;
      if (data !== undefined) out.set(child.slice(child.lastIndexOf("/") + 1), data);
    }
    return out;
  }

  /** Every cached node, sorted by path. */
  snapshot(): ChildData[] {
    return [...this.nodes.values()]
      .map((n) => n.data)
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private dataWatch(path: string): WatchCallback {
    let cb = this.dataWatches.get(path);
    if (cb === undefined) {
      cb = (_e: WatchEvent) => this.onEvent(path, () => this.refreshData(path));
      this.dataWatches.set(path, cb);
    }
    return cb;
  }

  private childWatch(path: string): WatchCallback {
    let cb = this.childWatches.get(path);
    if (cb === undefined) {
      cb = (e: WatchEvent) =>
        this.onEvent(path, () =>
          e.type === "nodeChildrenChanged" ? this.refreshChildren(path) : this.refreshData(path),
        );
      this.childWatches.set(path, cb);
    }
    return cb;
  }

  /** A watch fired: read again, unless the node left the cache meanwhile (its parent's listing covers it). */
  private onEvent(path: string, refresh: () => Promise<void>): void {
    if (this.closed) return;
    void this.queue.push(() => (path === this.path || this.nodes.has(path) ? refresh() : Promise.resolve()));
  }

  /** Reads one node (arming its data watch); lists its children when it is new or was re-created. */
  private async refreshData(path: string): Promise<void> {
    if (this.closed) return;
    let read: { data: Uint8Array; stat: ChildData["stat"] };
    try {
      read = await retryOnConnectionLoss(this.zk, () =>
        this.zk.getData(path, { watch: this.dataWatch(path) }),
      );
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      this.removeSubtree(path);
      if (path === this.path) {
        // No root: watch for its creation.
        const stat = await retryOnConnectionLoss(this.zk, () =>
          this.zk.exists(path, { watch: this.dataWatch(path) }),
        );
        if (stat !== null) return this.refreshData(path);
      }
      return;
    }
    const data: ChildData = { path, data: read.data, stat: read.stat };
    const prev = this.nodes.get(path);
    if (prev === undefined) {
      if (path !== this.path && !this.nodes.has(parentPath(path))) return; // its parent went meanwhile
      this.nodes.set(path, { data, children: new Set() });
      if (path !== this.path) this.nodes.get(parentPath(path))!.children.add(path);
      this.emitChange("nodeAdded", data);
      await this.refreshChildren(path);
      return;
    }
    if (prev.data.stat.mzxid === data.stat.mzxid && prev.data.stat.czxid === data.stat.czxid) return;
    const recreated = prev.data.stat.czxid !== data.stat.czxid;
    prev.data = data;
    this.emitChange("nodeUpdated", data);
    if (recreated) await this.refreshChildren(path);
  }

  /** Lists a cached node's children (arming its child watch); removes the gone, reads the new. */
  private async refreshChildren(path: string): Promise<void> {
    if (this.closed) return;
    const node = this.nodes.get(path);
    if (node === undefined) return;
    if (depthOf(path) - this.rootDepth >= this.maxDepth) return;
    let names: string[];
    try {
      names = await retryOnConnectionLoss(this.zk, () =>
        this.zk.getChildren(path, { watch: this.childWatch(path) }),
      );
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      return this.refreshData(path); // the node itself is gone
    }
    const present = new Set(names.map((n) => joinPath(path, n)));
    for (const child of [...node.children]) if (!present.has(child)) this.removeSubtree(child);
    for (const child of [...present].sort()) if (!this.nodes.has(child)) await this.refreshData(child);
  }

  /** Drops a node and its descendants, reporting each, deepest first. */
  private removeSubtree(path: string): void {
    const node = this.nodes.get(path);
    if (node === undefined) return;
    for (const child of [...node.children]) this.removeSubtree(child);
    this.nodes.delete(path);
    this.dataWatches.delete(path);
    this.childWatches.delete(path);
    this.nodes.get(parentPath(path))?.children.delete(path);
    this.emitChange("nodeRemoved", node.data);
  }

  private emitChange(event: "nodeAdded" | "nodeUpdated" | "nodeRemoved", node: ChildData): void {
    if (this.initialized && !this.closed) this.emit(event, node);
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof SessionExpiredError) return;
    if (this.listenerCount("error") > 0)
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }
}

function depthOf(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}
