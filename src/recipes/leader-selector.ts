// LeaderSelector: take turns leading by holding a mutex while a callback runs (Curator's LeaderSelector).
import { EventEmitter } from "node:events";
import type { ZooKeeperClient } from "../client/index.js";
import { RecipeStateError } from "./errors.js";
import { InterProcessMutex } from "./mutex.js";
import { SessionWatcher } from "./session-watcher.js";

export interface LeaderSelectorOptions {
  /** This participant's id, stored in its lock node. Default "". */
  id?: string;
  /** Queue up again after leadership ends (autoRequeue). Default false: lead once. */
  autoRequeue?: boolean;
  /**
   * Leads until it returns. `signal` aborts when leadership must stop at once: the connection was suspended
   * or the session lost (LeaderSelectorListenerAdapter's CancelLeadershipException), or close() was called.
   */
  takeLeadership(signal: AbortSignal): Promise<void>;
}

export interface LeaderSelectorEvents {
  /** takeLeadership threw (other than by the abort it was given). */
  error: [error: Error];
}

/**
 * Participants queue on an InterProcessMutex at `path`; the holder runs takeLeadership and leads until it
 * returns, then releases so the next in line leads. Fair: leadership goes round in the order of asking.
 */
export class LeaderSelector extends EventEmitter<LeaderSelectorEvents> {
  private readonly mutex: InterProcessMutex;
  private started = false;
  private closed = false;
  private readonly closeAbort = new AbortController();
  private loop: Promise<void> | undefined;
  private leading = false;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    private readonly options: LeaderSelectorOptions,
  ) {
    super();
    this.mutex = new InterProcessMutex(zk, path, { data: options.id ?? "" });
  }

  get hasLeadership(): boolean {
    return this.leading;
  }

  /** Joins the queue; with autoRequeue, again after every turn, until close(). */
  start(): void {
    if (this.started) throw new RecipeStateError(`LeaderSelector at ${this.path} already started`);
    this.started = true;
    this.loop = this.run();
  }

  /** Leaves the queue; a running takeLeadership is aborted. Resolves once it has returned and the lock is gone. */
  async close(): Promise<void> {
    this.closed = true;
    this.closeAbort.abort(new RecipeStateError(`LeaderSelector at ${this.path} closed`));
    await this.loop;
  }

  /** The lock node paths in queue order: the first leads. */
  participantNodes(): Promise<string[]> {
    return this.mutex.participantNodes();
  }

  private async run(): Promise<void> {
    do {
      try {
        await this.mutex.acquire({ signal: this.closeAbort.signal });
      } catch (err) {
        if (this.closed) return;
        this.report(err);
        // The session is over (or the mutex failed): nothing to requeue on.
        return;
      }
      await this.lead();
    } while (this.options.autoRequeue === true && !this.closed);
  }

  private async lead(): Promise<void> {
    const abort = new AbortController();
    const stop = (reason: unknown): void => abort.abort(reason);
    const watcher = new SessionWatcher(this.zk);
    watcher.on("state", (s) => {
      if (s === "suspended" || s === "lost")
        stop(new Error(`leadership at ${this.path} interrupted: connection ${s}`));
    });
    const onLost = (e: Error): void => stop(e);
    this.mutex.on("lost", onLost);
    const onClose = (): void => stop(this.closeAbort.signal.reason);
    this.closeAbort.signal.addEventListener("abort", onClose, { once: true });
    if (this.closeAbort.signal.aborted) onClose();
    this.leading = true;
    try {
      await this.options.takeLeadership(abort.signal);
    } catch (err) {
      if (!abort.signal.aborted) this.report(err);
    } finally {
      this.leading = false;
      watcher.close();
      this.mutex.off("lost", onLost);
      this.closeAbort.signal.removeEventListener("abort", onClose);
      await this.mutex.release().catch((err: unknown) => this.report(err));
    }
  }

  private report(err: unknown): void {
    if (this.listenerCount("error") > 0)
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }
}
