// NodeCache: one znode's data and Stat kept current through watches (Curator's NodeCache).
import { EventEmitter } from "node:events";
import {
  NoNodeError,
  SessionExpiredError,
  type Stat,
  type WatchEvent,
  type ZooKeeperClient,
} from "../client/index.js";
import { retryOnConnectionLoss } from "./connection-retry.js";
import { validateRecipePath } from "./recipe-path.js";
import { SerialQueue } from "./serial-queue.js";

export interface ChildData {
  path: string;
  data: Uint8Array;
  stat: Stat;
}

export interface NodeCacheEvents {
  /** The node was created, changed or deleted (current is undefined then). */
  changed: [current: ChildData | undefined];
  /** A refresh failed for a reason other than connection loss (e.g. the session ended). */
  error: [error: Error];
}

/**
 * Watches `path` (which need not exist): start() reads it, and after that every creation, change and deletion
 * is read again and reported as "changed". The client re-arms the watch after a reconnection, and the server
 * fires it then if the node changed meanwhile, so nothing is missed while disconnected; several changes in a row
 * may be reported as one, with the latest state.
 */
export class NodeCache extends EventEmitter<NodeCacheEvents> {
  private currentValue: ChildData | undefined;
  private closed = false;
  private readonly queue = new SerialQueue((err) => this.report(err));
  private readonly onWatch = (_e: WatchEvent): void => void this.queue.push(() => this.refresh());

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
  ) {
    super();
    validateRecipePath(path);
  }

  /** Reads the node and starts watching it; resolves once `current` holds the initial state. */
  async start(): Promise<void> {
    await this.queue.push(() => this.refresh(true));
  }

  close(): void {
    this.closed = true;
    this.removeAllListeners();
  }

  /** The node as last read; undefined when it does not exist. */
  get current(): ChildData | undefined {
    return this.currentValue;
  }

  private async refresh(initial = false): Promise<void> {
    if (this.closed) return;
    for (;;) {
      try {
        const { data, stat } = await retryOnConnectionLoss(this.zk, () =>
          this.zk.getData(this.path, { watch: this.onWatch }),
        );
        this.set({ path: this.path, data, stat }, initial);
        return;
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
      // Absent: watch for its creation (exists leaves a watch on a missing node; that is what we want here).
      const stat = await retryOnConnectionLoss(this.zk, () =>
        this.zk.exists(this.path, { watch: this.onWatch }),
      );
      if (stat === null) {
        this.set(undefined, initial);
        return;
      }
      // Created in between: read it.
    }
  }

  private set(next: ChildData | undefined, initial: boolean): void {
    const prev = this.currentValue;
    this.currentValue = next;
    if (initial || this.closed) return;
    if (prev === undefined && next === undefined) return;
    if (
      prev !== undefined &&
      next !== undefined &&
      prev.stat.mzxid === next.stat.mzxid &&
      prev.stat.czxid === next.stat.czxid
    )
      return;
    this.emit("changed", next);
  }

  private report(err: unknown): void {
    if (this.closed || err instanceof SessionExpiredError) return;
    if (this.listenerCount("error") > 0)
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }
}
