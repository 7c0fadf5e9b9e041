// A server's part in an ensemble: routes client writes to the quorum (prepared and proposed on the
// leader, forwarded by learners), applies what commits, replicates session liveness, answers `sync`,
// and says when this server may serve clients. Consensus itself is the driver's ZabNode: the QuorumDriver
// (sockets, files, timers) in a server, the simulator's driver (virtual time and disks) in test/sim.
import { assert } from "../base/assert.js";
import { zxidHex } from "../base/zxid.js";
import type { LogEntry, Snapshot } from "../consensus/messages.js";
import type { Role, ZabNode } from "../consensus/zab-node.js";
import { OpCode } from "../protocol/opcodes.js";
import { decodeTxn, encodeTxn } from "../protocol/txn-codec.js";
import type { Request, Txn } from "../protocol/types.js";
import type { DataTree } from "../tree/data-tree.js";
import type { Preparer } from "../tree/prepare.js";
import { serializeTree, deserializeTree } from "../storage/tree-snapshot.js";
import type { AppMessage } from "./peer-codec.js";
import { sessionPasswordBytes } from "./session-password.js";
import { QuorumDriver, type QuorumDriverOptions, type QuorumHost } from "./quorum-driver.js";
import type { RequestPipeline, SessionContext } from "./request-pipeline.js";
import * as wire from "./wire.js";

/** What the member needs of its server. `tree` and `pipeline` may be replaced (a SNAP). */
export interface MemberServer {
  readonly tree: DataTree;
  readonly pipeline: RequestPipeline;
  newPreparer(): Preparer;
  replaceTree(tree: DataTree): void;
  /** Not serving: close every client connection (clients reconnect elsewhere, as ZooKeeper's do). */
  closeClientConnections(why: string): void;
  /** A write could not be routed: close the connection of its session. */
  closeSessionConnection(sessionId: bigint): void;
  /** A new leader gives every session a fresh timeout (SessionTrackerImpl starts afresh). */
  touchAllSessions(): void;
  touchSession(sessionId: bigint): void;
  replySync(sessionId: bigint, xid: number, op: number, path: string): void;
  fatal(e: Error): void;
  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void;
  /** The role changed (after the member has acted on it): for metrics. */
  roleChanged?(role: Role): void;
}

/** The real QuorumDriver's options; the member itself is its host. */
export type MemberOptions = Omit<QuorumDriverOptions, "host">;

/**
 * What the member needs of the driver that runs its ZabNode and carries out each Ready (calling back the
 * QuorumHost methods in the Ready contract's order). Inputs run against the node when no Ready is in flight.
 */
export interface MemberDriver {
  readonly node: ZabNode;
  input(fn: () => void): void;
  sendApp(to: number, m: AppMessage): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A write waiting for the leader to prepare and propose it. */
interface Proposal {
  readonly sessionId: bigint;
  readonly make: (zxid: bigint) => Txn;
}

/** Writes the leader holds before prepare; past this, clients see their connection closed. */
export const leaderProposalQueueMax = 50_000;
/** Syncs waiting for the leader's answer or for this server to apply that far. */
export const pendingSyncsMax = 10_000;

export class EnsembleMember implements QuorumHost {
  readonly driver: MemberDriver;
  private proposals: Proposal[] = [];
  /**
   * Leader: the txns it proposed, in zxid order, until they apply here: applying the prepared txn saves decoding
   * the bytes it was just encoded to. A zxid names one proposal (its epoch is this leadership's), so an entry can
   * never stand for another txn; emptied when the role changes. A queue, not a Map keyed by zxid: commits come
   * in zxid order, and a Map with a key in and out per write keeps garbage alive (see base/churn-table.ts).
   */
  private proposed: Txn[] = [];
  /** Leader: the history before our epoch is applied and the Preparer is fresh; we may prepare. */
  private leaderReady = false;
  private touched = new Set<bigint>();
  private nextSyncId = 1;
  private readonly syncsAtLeader = new Map<number, () => void>();
  private waitingApply: { zxid: bigint; run: () => void }[] = [];
  /** Leader: work waiting for a leadership check of at least `round` to be confirmed by a quorum. */
  private confirming: { round: number; run: () => void }[] = [];

  /** `driver`: the options of a real QuorumDriver, or a function that makes another driver for this host. */
  constructor(
    private readonly server: MemberServer,
    driver: MemberOptions | ((host: QuorumHost) => MemberDriver),
  ) {
    this.driver = typeof driver === "function" ? driver(this) : new QuorumDriver({ ...driver, host: this });
  }

  start(): Promise<void> {
    return this.driver.start();
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }

  private get node(): ZabNode {
    return this.driver.node;
  }

  /** Clients may connect: a synced learner, or a leader that may prepare writes. */
  get serving(): boolean {
    return this.node.isUpToDate && (this.node.role !== "leading" || this.leaderReady);
  }

  /** The leader that prepares writes and owns session expiry. */
  get isActiveLeader(): boolean {
    return this.node.role === "leading" && this.leaderReady;
  }

  /** ZooKeeper's Mode line: leader, follower, observer (or looking). */
  get mode(): string {
    switch (this.node.role) {
      case "leading":
        return "leader";
      case "following":
        return "follower";
      case "observing":
        return "observer";
      case "looking":
        return "looking";
    }
  }

  /** mntr rows only a leader has. */
  leaderStats(): [string, number][] {
    if (this.node.role !== "leading") return [];
    const c = this.node.learnerCounts();
    return [
      ["zk_learners", c.followers + c.observers],
      ["zk_followers", c.followers],
      ["zk_synced_followers", c.syncedFollowers],
      ["zk_synced_observers", c.observers],
      ["zk_pending_syncs", this.syncsAtLeader.size + this.confirming.length + this.waitingApply.length],
      ["zk_pending_proposals", this.proposals.length],
    ];
  }

  // ---- from the server: client requests ----

  /**
   * A write. `frame` is the client's request frame (forwarded as is); null for the leader's own writes
   * (session expiry, container cleanup). `local` queues the reply in the session's FIFO.
   */
  submitWrite(
    ctx: SessionContext,
    xid: number,
    op: number,
    request: Request | null,
    frame: Uint8Array | null,
    local: boolean,
  ): void {
    if (local) this.server.pipeline.queueWrite(ctx.sessionId, xid, op, request);
    if (this.node.role === "leading") {
      this.propose({
        sessionId: ctx.sessionId,
        make: (zxid) => this.server.pipeline.prepareWrite(ctx, xid, request, zxid),
      });
      return;
    }
    const leader = this.node.leaderId;
    if (frame === null || leader === null) {
      if (local) this.server.closeSessionConnection(ctx.sessionId);
      return;
    }
    this.driver.sendApp(leader, {
      type: "request",
      sessionId: ctx.sessionId,
      cxid: xid,
      op,
      timeOut: 0,
      frame,
      authInfo: ctx.authInfo,
    });
  }

  /** A new session: a createSession txn like any write; the server answers when it commits. */
  submitCreateSession(sessionId: bigint, timeOut: number, passwd: Uint8Array): void {
    if (this.node.role === "leading") {
      this.propose({
        sessionId,
        make: (zxid) => this.server.pipeline.prepareCreateSession(sessionId, timeOut, passwd, zxid),
      });
      return;
    }
    const leader = this.node.leaderId;
    if (leader === null) return this.server.closeSessionConnection(sessionId);
    this.driver.sendApp(leader, {
      type: "request",
      sessionId,
      cxid: 0,
      op: OpCode.createSession,
      timeOut,
      frame: passwd,
      authInfo: [],
    });
  }

  /**
   * `sync`: answered, in the session's order, once this server has applied everything the leader had
   * proposed when it was asked (Learner.sync / Leader.processSync, but waiting for the leader's last
   * proposal rather than only its commits, so every write acknowledged before the sync is seen). Unlike
   * ZooKeeper, the leader first confirms with a quorum that it still leads (`confirmThen`), so a deposed
   * leader that has not noticed yet cannot answer with a stale history: sync-then-read is linearizable.
   */
  submitSync(sessionId: bigint, xid: number, op: number, path: string): void {
    const barrier = this.server.pipeline.submitBarrier(sessionId, xid, op);
    const done = (): void => barrier.release(() => this.server.replySync(sessionId, xid, op, path));
    if (this.node.role === "leading") {
      const zxid = this.node.lastZxid;
      this.confirmThen(() => this.afterApplied(zxid, done));
      return;
    }
    const leader = this.node.leaderId;
    if (leader === null || this.syncsAtLeader.size >= pendingSyncsMax) {
      this.server.closeSessionConnection(sessionId);
      return;
    }
    const id = this.nextSyncId++;
    this.syncsAtLeader.set(id, done);
    this.driver.sendApp(leader, { type: "syncRequest", id });
  }

  /** Client traffic on a session; learners report it to the leader every tick. */
  sessionTouched(sessionId: bigint): void {
    if (this.node.role !== "leading") this.touched.add(sessionId);
  }

  /** Every tickTime: learners send the sessions they heard from (Learner's PING with session info). */
  tick(): void {
    const leader = this.node.leaderId;
    if (this.node.role === "leading" || leader === null || this.touched.size === 0) return;
    this.driver.sendApp(leader, { type: "sessionsAlive", sessionIds: [...this.touched] });
    this.touched = new Set();
  }

  private propose(p: Proposal): void {
    if (this.proposals.length >= leaderProposalQueueMax) {
      this.server.closeSessionConnection(p.sessionId);
      return;
    }
    this.proposals.push(p);
    this.driver.input(() => undefined); // idle() runs once no Ready is in flight
  }

  /**
   * Leader: runs `run` once a quorum confirmed this leadership after now (ZabNode.confirmLeadership).
   * Dropped if the role changes first; the client's connection is closed then anyway.
   */
  private confirmThen(run: () => void): void {
    if (this.confirming.length >= pendingSyncsMax) return;
    this.driver.input(() => {
      const round = this.node.confirmLeadership();
      if (round > 0) this.confirming.push({ round, run });
    });
  }

  private afterApplied(zxid: bigint, run: () => void): void {
    if (this.server.tree.lastProcessedZxid >= zxid) run();
    else this.waitingApply.push({ zxid, run });
  }

  // ---- QuorumHost ----

  idle(node: ZabNode): void {
    if (this.confirming.length > 0) {
      const confirmed = node.confirmedRound;
      const ready = this.confirming.filter((c) => c.round <= confirmed);
      this.confirming = this.confirming.filter((c) => c.round > confirmed);
      for (const c of ready) c.run();
    }
    if (node.role !== "leading") {
      this.proposals = []; // their connections are closed by roleChanged
      return;
    }
    if (!this.leaderReady) {
      if (!node.isEstablished || this.server.tree.lastProcessedZxid !== node.lastZxid) return;
      this.leaderReady = true;
      this.server.log("info", "leading: history applied, serving", { zxid: zxidHex(node.lastZxid) });
    }
    while (this.proposals.length > 0) {
      const zxid = node.nextZxid();
      if (typeof zxid !== "bigint") {
        if (zxid.reason === "tooManyInFlight") return; // retried after the next advance
        this.proposals = [];
        return;
      }
      const p = this.proposals.shift()!;
      const txn = p.make(zxid);
      const got = node.propose(encodeTxn(txn));
      if (got !== zxid) assert(false, `propose assigned ${String(got)}, nextZxid said ${zxidHex(zxid)}`);
      this.proposed.push(txn);
    }
  }

  applyCommitted(entry: LogEntry): void {
    const proposed = this.proposed;
    while (proposed.length > 0 && proposed[0]!.header.zxid < entry.zxid) proposed.shift();
    const txn = proposed[0]?.header.zxid === entry.zxid ? proposed.shift()! : decodeTxn(entry.data);
    if (txn.header.zxid !== entry.zxid) assert(false, "a logged txn carries its own zxid");
    this.server.pipeline.applyCommitted(txn);
    if (this.waitingApply.length > 0) {
      const applied = this.server.tree.lastProcessedZxid;
      const ready = this.waitingApply.filter((w) => w.zxid <= applied);
      this.waitingApply = this.waitingApply.filter((w) => w.zxid > applied);
      for (const w of ready) w.run();
    }
  }

  installSnapshot(snapshot: Snapshot): void {
    const tree = deserializeTree(snapshot.data, `SNAP ${zxidHex(snapshot.zxid)} from the leader`);
    assert(tree.lastProcessedZxid === snapshot.zxid, "a SNAP's tree is as of its zxid");
    this.server.replaceTree(tree);
  }

  snapshot(): Snapshot {
    const tree = this.server.tree;
    const chunks = serializeTree(tree);
    let n = 0;
    for (const c of chunks) n += c.length;
    const data = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      data.set(c, at);
      at += c.length;
    }
    return { zxid: tree.lastProcessedZxid, data };
  }

  appliedZxid(): bigint {
    return this.server.tree.lastProcessedZxid;
  }

  roleChanged(role: Role, leaderId: number | null, epoch: number): void {
    this.server.log("info", "quorum role changed", { role, leader: leaderId, epoch });
    if (!(role === "leading" && this.leaderReady)) {
      // A new leadership (or none): outstanding changes of an older epoch mean nothing now.
      this.leaderReady = false;
      this.proposals = [];
      this.proposed = [];
      this.server.pipeline.setPreparer(this.server.newPreparer());
    }
    if (role === "leading") this.server.touchAllSessions();
    this.syncsAtLeader.clear();
    this.confirming = [];
    this.waitingApply = [];
    this.touched = new Set();
    this.server.closeClientConnections(`quorum role changed to ${role}`);
    this.server.roleChanged?.(role);
  }

  appMessage(from: number, m: AppMessage): void {
    switch (m.type) {
      case "request":
        return this.onForwardedRequest(from, m);
      case "sessionsAlive":
        if (this.node.role === "leading") for (const id of m.sessionIds) this.server.touchSession(id);
        return;
      case "syncRequest": {
        if (this.node.role !== "leading") return;
        const zxid = this.node.lastZxid;
        this.confirmThen(() => this.driver.sendApp(from, { type: "syncReply", id: m.id, zxid }));
        return;
      }
      case "syncReply": {
        const done = this.syncsAtLeader.get(m.id);
        if (done === undefined || from !== this.node.leaderId) return;
        this.syncsAtLeader.delete(m.id);
        this.afterApplied(m.zxid, done);
        return;
      }
    }
  }

  private onForwardedRequest(from: number, m: Extract<AppMessage, { type: "request" }>): void {
    if (this.node.role !== "leading") return; // the learner's client reconnects when its leader changes
    if (m.op === OpCode.createSession) {
      if (m.timeOut <= 0 || m.frame.length !== sessionPasswordBytes) return;
      this.propose({
        sessionId: m.sessionId,
        make: (zxid) => this.server.pipeline.prepareCreateSession(m.sessionId, m.timeOut, m.frame, zxid),
      });
      return;
    }
    let decoded: { xid: number; op: number; request: Request };
    try {
      decoded = wire.decodeRequestFrame(m.frame);
    } catch (e) {
      this.server.log("warn", "dropping a forwarded request that does not decode", {
        from,
        err: (e as Error).message,
      });
      return;
    }
    if (decoded.xid !== m.cxid) return;
    this.server.touchSession(m.sessionId);
    const ctx: SessionContext = { sessionId: m.sessionId, authInfo: [...m.authInfo], watcherId: 0 };
    this.propose({
      sessionId: m.sessionId,
      make: (zxid) => this.server.pipeline.prepareWrite(ctx, decoded.xid, decoded.request, zxid),
    });
  }

  fatal(e: Error): void {
    this.server.fatal(e);
  }

  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void {
    this.server.log(level, msg, fields);
  }
}
