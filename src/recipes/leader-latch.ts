// LeaderLatch: leader election among participants; the lowest sequence node leads (Curator's LeaderLatch).
import { EventEmitter } from "node:events";
import { NoNodeError, SessionExpiredError, type ZooKeeperClient } from "../client/index.js";
import { deleteGuaranteed, retryOnConnectionLoss } from "./connection-retry.js";
import { RecipeStateError } from "./errors.js";
import { protectedCreate, protectedId } from "./protected-create.js";
import { validateRecipePath } from "./recipe-path.js";
import { SessionWatcher, type ConnectionState } from "./session-watcher.js";
import { joinPath, nodeName, sortBySequence } from "./znode-paths.js";

export interface LeaderLatchOptions {
  /** This participant's id, stored in its node for getLeader()/getParticipants(). Default "". */
  id?: string;
}

export interface LeaderLatchEvents {
  isLeader: [];
  notLeader: [];
  /** Something failed in the background (not connection loss, which the latch rides out). Optional. */
  error: [error: Error];
}

export interface Participant {
  id: string;
  isLeader: boolean;
  path: string;
}

export type LeaderLatchState = "latent" | "started" | "closed";

/**
 * Each participant creates a protected ephemeral-sequential `latch-` node under `path`; the lowest sequence
 * leads, everyone else watches only the node just ahead of it. Leadership is dropped ("notLeader") as soon as
 * the connection is suspended, since another participant may be elected once the session expires, and taken
 * back if the session survives. After the session is lost the latch rejoins only on a live client: an
 * expired client is terminal, so close() it and start a latch on a new client.
 */
export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  readonly id: string;
  private stateValue: LeaderLatchState = "latent";
  private leading = false;
  private ourPath: string | undefined;
  private readonly protectedPrefixId = protectedId();
  private watcher: SessionWatcher | undefined;
  private checking = false;
  private recheck = false;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    options: LeaderLatchOptions = {},
  ) {
    super();
    validateRecipePath(path);
    this.id = options.id ?? "";
  }

  get state(): LeaderLatchState {
    return this.stateValue;
  }

  get hasLeadership(): boolean {
    return this.stateValue === "started" && this.leading;
  }

  /** Our node's path, once created. */
  get nodePath(): string | undefined {
    return this.ourPath;
  }

  /** Joins the election. Resolves once this participant's node exists (not when it leads: see await()). */
  async start(): Promise<void> {
    if (this.stateValue !== "latent")
      throw new RecipeStateError(`LeaderLatch at ${this.path} already started`);
    this.stateValue = "started";
    this.watcher = new SessionWatcher(this.zk);
    this.watcher.on("state", (s) => this.onConnectionState(s));
    await this.createNode();
    await this.check();
  }

  /**
   * Resolves true once this participant leads, false when `timeoutMs` passes first or the latch closes;
   * rejects with the signal's reason on abort (LeaderLatch.await).
   */
  waitForLeadership(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    const { timeoutMs, signal } = options;
    signal?.throwIfAborted();
    if (this.hasLeadership) return Promise.resolve(true);
    if (this.stateValue === "closed") return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (value: boolean | Error): void => {
        clearTimeout(timer);
        this.off("isLeader", onLeader);
        this.off("notLeader", onNotLeader);
        signal?.removeEventListener("abort", onAbort);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const onLeader = (): void => finish(true);
      const onNotLeader = (): void => {
        if (this.stateValue === "closed") finish(false);
      };
      const onAbort = (): void => finish(signal!.reason as Error);
      if (timeoutMs !== undefined) timer = setTimeout(() => finish(false), timeoutMs);
      this.on("isLeader", onLeader);
      this.on("notLeader", onNotLeader);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Leaves the election: deletes our node (through connection loss) and, if leading, says "notLeader". */
  async close(): Promise<void> {
    if (this.stateValue !== "started") {
      this.stateValue = "closed";
      return;
    }
    this.stateValue = "closed";
    this.watcher?.close();
    const ourPath = this.ourPath;
    this.ourPath = undefined;
    this.setLeadership(false, true);
    if (ourPath !== undefined) await deleteGuaranteed(this.zk, ourPath);
  }

  /** Every participant in election order; the first leads (LeaderLatch.getParticipants). */
  async participants(): Promise<Participant[]> {
    let names: string[];
    try {
      names = sortBySequence(await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.path)));
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
    const out: Participant[] = [];
    for (const name of names) {
      const path = joinPath(this.path, name);
      try {
        const { data } = await retryOnConnectionLoss(this.zk, () => this.zk.getData(path));
        out.push({ id: Buffer.from(data).toString("utf8"), isLeader: out.length === 0, path });
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    }
    return out;
  }

  /** The current leader, or undefined when there is no participant. */
  async leader(): Promise<Participant | undefined> {
    return (await this.participants())[0];
  }

  private async createNode(): Promise<void> {
    this.ourPath = await protectedCreate(this.zk, this.path, "latch-", this.id, {
      mode: "ephemeral-sequential",
      id: this.protectedPrefixId,
    });
    if (this.stateValue === "closed") await deleteGuaranteed(this.zk, this.ourPath);
  }

  /** checkLeadership, serialized: a check asked for while one runs runs once more after it. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.recheck = false;
        await this.checkOnce();
      } while (this.recheck && this.stateValue === "started");
    } catch (err) {
      if (
        this.stateValue === "started" &&
        !(err instanceof SessionExpiredError) &&
        this.listenerCount("error") > 0
      )
        this.emit("error", err as Error);
    } finally {
      this.checking = false;
    }
  }

  private async checkOnce(): Promise<void> {
    if (this.stateValue !== "started" || this.watcher?.isConnected !== true) return;
    if (this.ourPath === undefined) await this.createNode();
    const ourPath = this.ourPath!;
    const ourName = nodeName(ourPath);
    const sorted = sortBySequence(await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.path)));
    const index = sorted.indexOf(ourName);
    if (index < 0) {
      // Our node is gone (someone deleted it, or a session that was presumed lost): join again.
      this.ourPath = undefined;
      this.setLeadership(false);
      this.recheck = true;
      return;
    }
    if (index === 0) {
      this.setLeadership(true);
      return;
    }
    this.setLeadership(false);
    const predecessor = joinPath(this.path, sorted[index - 1]!);
    try {
      await retryOnConnectionLoss(this.zk, () =>
        this.zk.getData(predecessor, {
          watch: (e) => {
            if (e.type === "nodeDeleted" && this.ourPath === ourPath) void this.check();
          },
        }),
      );
    } catch (err) {
      if (err instanceof NoNodeError) this.recheck = true;
      else throw err;
    }
  }

  private onConnectionState(state: ConnectionState): void {
    if (this.stateValue !== "started") return;
    if (state === "suspended" || state === "lost") this.setLeadership(false);
    if (state === "reconnected") void this.check();
  }

  private setLeadership(leader: boolean, force = false): void {
    if (this.leading === leader) return;
    if (!force && leader && this.stateValue !== "started") return;
    this.leading = leader;
    this.emit(leader ? "isLeader" : "notLeader");
  }
}
