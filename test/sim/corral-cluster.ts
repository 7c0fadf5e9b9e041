// The whole-stack deterministic simulator's world: servers that are real replicas (ZabNode, a simulated
// disk holding Corral's record framing, a DataTree fed by the real txn codec, a Preparer and the real
// RequestPipeline on the leader), a seeded network between servers and clients that drops, delays,
// reorders, duplicates and partitions, and invariants checked as it runs. Each server runs the real
// EnsembleMember (forwarding, sessions, sync, leadership) over a driver that mirrors
// server/quorum-driver.ts (persist, send, apply, advance; inputs queued while a Ready is carried out) on
// virtual time and a simulated disk, and answers clients as CorralServer does. Test-only.
import { SeededPrng } from "../../src/base/clock.js";
import { zxidEpoch, zxidHex } from "../../src/base/zxid.js";
import { MemoryLog } from "../../src/consensus/memory-log.js";
import type { LogEntry, Message } from "../../src/consensus/messages.js";
import { ZabNode, type ConsensusConfig, type Ready } from "../../src/consensus/zab-node.js";
import { Code } from "../../src/protocol/error-codes.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import { decodeTxn } from "../../src/protocol/txn-codec.js";
import type { Request, Response, Txn } from "../../src/protocol/types.js";
import { JuteWriter } from "../../src/protocol/jute-writer.js";
import { encodeRequest } from "../../src/protocol/records.js";
import { EnsembleMember, type MemberDriver, type MemberServer } from "../../src/server/ensemble-member.js";
import type { AppMessage } from "../../src/server/peer-codec.js";
import type { QuorumHost } from "../../src/server/quorum-driver.js";
import { RequestPipeline, type SessionContext } from "../../src/server/request-pipeline.js";
import { SessionTracker } from "../../src/server/session-tracker.js";
import { deserializeTree } from "../../src/storage/tree-snapshot.js";
import { DataTree } from "../../src/tree/data-tree.js";
import { Preparer, type PreparerOptions } from "../../src/tree/prepare.js";
import { processRead } from "../../src/tree/read.js";
import { SimDisk, type DiskOp } from "./sim-disk.js";
import { InvariantError } from "./zab-cluster.js";

export { InvariantError };

/** A run that stopped making progress once faults stopped. */
export class LivenessError extends Error {
  override name = "LivenessError";
}

export function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new InvariantError(msg);
}

export const tickMs = 100;
export const preparerOptions: PreparerOptions = { extendedTypesEnabled: false, maxDataBytes: 1 << 20 };

// ------------------------------------------------------------------ client <-> server messages

/** What a simulated client asks of a server. `syncRead` is sync then getData, answered in one reply. */
export type ClientRequest =
  | { type: "connect"; sessionId: bigint; timeOutMs: number }
  | { type: "write"; sessionId: bigint; xid: number; request: Request }
  | { type: "syncRead"; sessionId: bigint; xid: number; path: string };

export type ClientReply =
  | { type: "connected"; sessionId: bigint }
  | { type: "notLeader"; xid: number; leaderId: number | null }
  | { type: "reply"; xid: number; zxid: bigint; err: number; response: Response | null }
  /** The server closed the connection (role change, SNAP): outstanding requests are indeterminate. */
  | { type: "disconnected" };

interface ZabEnvelope {
  kind: "zab";
  from: number;
  to: number;
  msg: Message;
}
interface RequestEnvelope {
  kind: "request";
  from: number;
  to: number;
  req: ClientRequest;
}
interface ReplyEnvelope {
  kind: "reply";
  from: number;
  to: number;
  rep: ClientReply;
}
/** EnsembleMember's own messages between servers (peer-codec's AppMessage: forwarding, liveness, sync). */
interface AppEnvelope {
  kind: "app";
  from: number;
  to: number;
  app: AppMessage;
}
export type Envelope = ZabEnvelope | RequestEnvelope | ReplyEnvelope | AppEnvelope;

export interface ClientEndpoint {
  readonly id: number;
  receive(from: number, rep: ClientReply): void;
}

// ------------------------------------------------------------------ options

export interface WorldOptions {
  seed: number;
  voters: number[];
  observers: number[];
  electionTicks: number;
  syncLimitTicks: number;
  dropRate: number;
  dupRate: number;
  maxDelayTicks: number;
  /** Per server: a Ready's persist takes 0..diskLatencyTicksMax ticks (0 for a fast disk). */
  diskLatencyTicksMax: Map<number, number>;
  /** Chance that a crash during a write leaves its next record torn. */
  tearChance: number;
  sessionTimeoutTicks: number;
  /** Digest every tree after every apply (slower); otherwise only at zxids that end in 0 mod 4 and at the end. */
  digestEveryApply: boolean;
  log?: ((line: string) => void) | undefined;
}

interface ReadyInFlight {
  ready: Ready;
  ops: DiskOp[];
  doneAt: number;
}

export class Replica implements MemberServer, MemberDriver {
  readonly disk = new SimDisk();
  node!: ZabNode;
  /** The real EnsembleMember, whose driver is this replica; null while crashed. */
  member: EnsembleMember | null = null;
  private host!: QuorumHost;
  memLog = new MemoryLog();
  tree = new DataTree();
  pipeline: RequestPipeline;
  epochs = { acceptedEpoch: 0, currentEpoch: 0 };
  inReady: ReadyInFlight | null = null;
  inbox: (() => void)[] = [];
  /** Inside the driver loop: inputs only queue (host callbacks may call input()). */
  private running = false;
  /** Sessions with a client connected here, by session id: the client's endpoint id. */
  connections = new Map<bigint, number>();
  /** Clients waiting for their createSession to commit here. */
  pendingConnects = new Map<bigint, number>();
  /** Session liveness (CorralServer's tracker); only an active leader expires sessions. */
  tracker = new SessionTracker(tickMs);
  /** Sessions whose expiry was proposed and not yet applied. */
  private closing = new Set<bigint>();
  restarts = 0;

  constructor(
    readonly id: number,
    readonly cfg: ConsensusConfig,
    private readonly world: World,
  ) {
    this.pipeline = this.newPipeline();
  }

  get up(): boolean {
    return this.member !== null;
  }

  get isActiveLeader(): boolean {
    return this.member?.isActiveLeader ?? false;
  }

  /** Starts from what the disk recovered: a fresh ZabNode and EnsembleMember (CorralServer.start). */
  boot(node: ZabNode): void {
    this.node = node;
    this.tracker = new SessionTracker(tickMs);
    this.trackTreeSessions();
    this.member = new EnsembleMember(this, (host) => {
      this.host = host;
      return this;
    });
  }

  /** Crash: everything in memory is gone; the disk keeps what crashDuring left. */
  stopNow(): void {
    this.member = null;
    this.inReady = null;
    this.inbox = [];
    this.closing.clear();
    this.connections.clear(); // clients notice by timing out
    this.pendingConnects.clear();
  }

  newPipeline(): RequestPipeline {
    const sink = {
      reply: (sessionId: bigint, xid: number, zxid: bigint, err: number, response: Response | null): void => {
        const client = this.connections.get(sessionId);
        if (client !== undefined)
          this.world.send({
            kind: "reply",
            from: this.id,
            to: client,
            rep: { type: "reply", xid, zxid, err, response },
          });
      },
      event: (): void => undefined,
      committed: (txn: Txn): void => this.onCommittedTxn(txn),
    };
    const commitLog = {
      append: (): Promise<void> => {
        throw new Error("an ensemble pipeline never appends itself");
      },
    };
    return new RequestPipeline(
      this.tree,
      new Preparer(this.tree, preparerOptions),
      commitLog,
      sink,
      () => this.world.now * tickMs,
      undefined,
    );
  }

  // ---- MemberServer (what CorralServer does for its EnsembleMember) ----

  newPreparer(): Preparer {
    return new Preparer(this.tree, preparerOptions);
  }

  replaceTree(tree: DataTree): void {
    this.world.checkSnapshotState(this.id, tree, "SNAP");
    this.closeClientConnections("state replaced by a snapshot");
    this.tree = tree;
    this.pipeline = this.newPipeline();
    this.tracker = new SessionTracker(tickMs);
    this.trackTreeSessions();
  }

  closeClientConnections(_why: string): void {
    if (this.member?.serving === true) return;
    for (const [sessionId, client] of this.connections) {
      this.world.send({ kind: "reply", from: this.id, to: client, rep: { type: "disconnected" } });
      this.pipeline.dropSessionQueue(sessionId);
    }
    for (const client of this.pendingConnects.values())
      this.world.send({ kind: "reply", from: this.id, to: client, rep: { type: "disconnected" } });
    this.connections.clear();
    this.pendingConnects.clear();
  }

  closeSessionConnection(sessionId: bigint): void {
    const client = this.connections.get(sessionId) ?? this.pendingConnects.get(sessionId);
    if (client === undefined) return;
    this.world.send({ kind: "reply", from: this.id, to: client, rep: { type: "disconnected" } });
    this.connections.delete(sessionId);
    this.pendingConnects.delete(sessionId);
    this.pipeline.dropSessionQueue(sessionId);
  }

  touchAllSessions(): void {
    for (const id of this.tree.sessions.keys()) this.touchSession(id);
  }

  touchSession(sessionId: bigint): void {
    this.tracker.touch(sessionId, this.world.now * tickMs);
  }

  /** The sync of a `syncRead` is done: read and answer in one reply. */
  replySync(sessionId: bigint, xid: number, _op: number, path: string): void {
    const client = this.connections.get(sessionId);
    if (client === undefined) return;
    const request: Request = { type: "getData", op: OpCode.getData, req: { path, watch: false } };
    const out = processRead(this.tree, { sessionId, authInfo: [] }, request, 0);
    this.world.send({
      kind: "reply",
      from: this.id,
      to: client,
      rep: {
        type: "reply",
        xid,
        zxid: this.tree.lastProcessedZxid,
        err: out.err,
        response: out.response ?? null,
      },
    });
  }

  fatal(e: Error): void {
    throw e;
  }

  log(level: string, msg: string, fields?: Record<string, unknown>): void {
    this.world.log(`t${this.world.now} s${this.id}: ${level} ${msg}${fields ? ` ${stringify(fields)}` : ""}`);
  }

  private trackTreeSessions(): void {
    for (const [id, { timeOut }] of this.tree.sessions)
      this.tracker.add(id, timeOut, this.world.now * tickMs);
  }

  // ---- MemberDriver (what QuorumDriver does, on virtual time and a simulated disk) ----

  input(fn: () => void): void {
    if (!this.up) return;
    this.inbox.push(fn);
    this.pump();
  }

  /**
   * An ACK or COMMIT the core allows while this server's disk write is pending (QuorumDriver's
   * stepDuringReady): stepped now, readyEarly() carried out. False if it must wait as an input.
   */
  stepDuringReady(msg: Message): boolean {
    if (this.inReady === null || this.running || !this.node.canStepDuringReady(msg)) return false;
    this.node.step(msg);
    const early = this.node.readyEarly();
    for (const m of early.messages) this.world.send({ kind: "zab", from: m.from, to: m.to, msg: m });
    this.applyAll(early.committed);
    return true;
  }

  sendApp(to: number, app: AppMessage): void {
    this.world.send({ kind: "app", from: this.id, to, app });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Runs queued inputs and Readys until idle or a disk write is pending (QuorumDriver.loop; not re-entrant). */
  pump(): void {
    if (this.running) return;
    this.running = true;
    try {
      this.loop();
    } finally {
      this.running = false;
    }
  }

  private loop(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const member = this.member;
      if (member === null || this.inReady !== null) return;
      const node = this.node;
      const batch = this.inbox;
      this.inbox = [];
      for (const fn of batch) {
        if (this.member !== member) return; // crashed meanwhile
        fn();
      }
      this.host.idle(node);
      if (!node.hasReady()) {
        if (this.inbox.length > 0) continue;
        return;
      }
      const ready = node.ready();
      for (const m of ready.earlyMessages) this.world.send({ kind: "zab", from: m.from, to: m.to, msg: m });
      if (ready.committedDurable) this.applyAll(ready.committed);
      const ops = this.persistOps(ready);
      const latency = this.world.diskLatency(this.id);
      this.inReady = { ready, ops, doneAt: this.world.now + latency };
      if (latency > 0) return;
      this.completeReady();
    }
    throw new Error(`server ${this.id}: driver loop did not quiesce`);
  }

  /** QuorumDriver.persist's steps as disk operations: snapshot, truncation, entries, then epochs. */
  private persistOps(r: Ready): DiskOp[] {
    const ops: DiskOp[] = [];
    if (r.snapshotToApply) {
      ops.push({ kind: "snapshot", zxid: r.snapshotToApply.zxid, bytes: r.snapshotToApply.data });
      ops.push({ kind: "truncate", zxid: r.snapshotToApply.zxid });
    }
    if (r.truncateTo !== undefined) ops.push({ kind: "truncate", zxid: r.truncateTo });
    for (const e of r.entriesToAppend) ops.push({ kind: "append", zxid: e.zxid, data: e.data });
    if (r.persistEpochs) {
      if (r.persistEpochs.acceptedEpoch !== this.epochs.acceptedEpoch)
        ops.push({ kind: "acceptedEpoch", epoch: r.persistEpochs.acceptedEpoch });
      if (r.persistEpochs.currentEpoch !== this.epochs.currentEpoch)
        ops.push({ kind: "currentEpoch", epoch: r.persistEpochs.currentEpoch });
    }
    return ops;
  }

  /** The pending disk write finished (virtual time reached it): complete its Ready, then go on. */
  finishReady(): void {
    this.running = true;
    try {
      this.completeReady();
    } finally {
      this.running = false;
    }
    this.pump();
  }

  /** The write finished: make it durable, then send, apply, advance (the Ready contract). */
  private completeReady(): void {
    const f = this.inReady!;
    const node = this.node;
    const r = f.ready;
    this.disk.complete(f.ops);
    if (r.snapshotToApply) {
      const s = r.snapshotToApply;
      this.memLog.installSnapshot({ zxid: s.zxid, data: new Uint8Array(0) });
      this.host.installSnapshot(s);
    }
    if (r.truncateTo !== undefined) this.memLog.truncate(r.truncateTo);
    this.memLog.append(r.entriesToAppend);
    if (r.persistEpochs) this.epochs = { ...r.persistEpochs };
    this.inReady = null;
    for (const m of r.messages) this.world.send({ kind: "zab", from: m.from, to: m.to, msg: m });
    if (!r.committedDurable) this.applyAll(r.committed);
    node.advance(r);
    this.world.checkLeader(this);
    if (r.roleChanged) this.host.roleChanged(r.roleChanged.role, r.roleChanged.leaderId, r.roleChanged.epoch);
  }

  private applyAll(committed: readonly LogEntry[]): void {
    for (const e of committed) {
      const before = this.tree.lastProcessedZxid;
      this.host.applyCommitted(e);
      this.world.onApplied(this, before, e);
    }
  }

  /** A peer's shell message, handed over as QuorumDriver hands it (not queued behind a Ready). */
  onApp(from: number, app: AppMessage): void {
    this.member?.appMessage(from, app);
  }

  private onCommittedTxn(txn: Txn): void {
    const sessionId = txn.header.clientId;
    if (txn.header.type === OpCode.createSession) {
      this.tracker.add(sessionId, this.tree.sessions.get(sessionId)?.timeOut ?? 0, this.world.now * tickMs);
      const client = this.pendingConnects.get(sessionId);
      if (client !== undefined) {
        this.pendingConnects.delete(sessionId);
        this.connections.set(sessionId, client);
        this.world.send({ kind: "reply", from: this.id, to: client, rep: { type: "connected", sessionId } });
      }
    } else if (txn.header.type === OpCode.closeSession) {
      this.tracker.remove(sessionId);
      this.closing.delete(sessionId);
      this.world.sessionClosed(sessionId);
    }
  }

  /** Every tick, as CorralServer.tick: learners report liveness; an active leader expires sessions. */
  tickSessions(): void {
    const member = this.member;
    if (member === null) return;
    member.tick();
    const expired = this.tracker.expired(this.world.now * tickMs);
    if (!member.isActiveLeader) return;
    for (const id of expired) {
      if (this.closing.has(id) || !this.tree.sessions.has(id)) continue;
      this.closing.add(id);
      this.world.log(`t${this.world.now} s${this.id}: expiring session ${id}`);
      this.closeSessionConnection(id);
      const ctx: SessionContext = { sessionId: id, authInfo: [], watcherId: 0 };
      member.submitWrite(ctx, 0, OpCode.closeSession, null, null, false);
    }
  }

  // ---- client requests (CorralServer's connection handling) ----

  onClientRequest(client: number, req: ClientRequest): void {
    const member = this.member!;
    if (!member.serving) {
      const xid = req.type === "connect" ? -1 : req.xid;
      const leaderId = this.node.leaderId;
      this.world.send({
        kind: "reply",
        from: this.id,
        to: client,
        rep: { type: "notLeader", xid, leaderId: leaderId === this.id ? null : leaderId },
      });
      return;
    }
    switch (req.type) {
      case "connect": {
        this.pendingConnects.set(req.sessionId, client);
        member.submitCreateSession(req.sessionId, req.timeOutMs, simPassword(req.sessionId));
        return;
      }
      case "write": {
        this.attach(client, req.sessionId);
        this.touchSession(req.sessionId);
        member.sessionTouched(req.sessionId);
        const ctx: SessionContext = { sessionId: req.sessionId, authInfo: [], watcherId: 0 };
        const w = new JuteWriter(256);
        encodeRequest(w, { xid: req.xid, type: req.request.op }, req.request);
        member.submitWrite(ctx, req.xid, req.request.op, req.request, w.finish(), true);
        return;
      }
      case "syncRead": {
        this.attach(client, req.sessionId);
        this.touchSession(req.sessionId);
        member.sessionTouched(req.sessionId);
        member.submitSync(req.sessionId, req.xid, OpCode.sync, req.path);
        return;
      }
    }
  }

  /** A client (re)connecting its session here: its queue elsewhere is gone (the old connection closed). */
  private attach(client: number, sessionId: bigint): void {
    if (this.connections.get(sessionId) === client) return;
    this.world.detachElsewhere(sessionId, this.id);
    this.connections.set(sessionId, client);
  }
}

// ------------------------------------------------------------------ the world

interface InFlight {
  at: number;
  seq: number;
  env: Envelope;
}

export class World {
  readonly prng: SeededPrng;
  readonly servers = new Map<number, Replica>();
  readonly clients = new Map<number, ClientEndpoint>();
  now = 0;
  /** Strictly increasing event counter: the history's clock (finer than ticks). */
  events = 0;
  dropRate: number;
  dupRate: number;
  maxDelayTicks: number;
  tearChance: number;
  disksCalm = false;
  readonly cut = new Set<string>();
  private queue = new Map<number, InFlight[]>();
  private seq = 0;

  /** The one committed history: every entry any server applied, in order. */
  readonly committed: LogEntry[] = [];
  private readonly indexOf = new Map<bigint, number>();
  /** Tree digest after each committed zxid, as the first server to apply it computed it. */
  private readonly digests = new Map<bigint, string>();
  readonly leaders = new Map<number, number>();
  /** Sessions whose closeSession committed. */
  readonly closedSessions = new Set<bigint>();
  readonly stats = {
    crashes: 0,
    tornWrites: 0,
    snaps: 0,
    messages: 0,
    applies: 0,
    forwarded: 0,
    syncRequests: 0,
  };

  constructor(readonly opts: WorldOptions) {
    this.prng = new SeededPrng(opts.seed);
    this.dropRate = opts.dropRate;
    this.dupRate = opts.dupRate;
    this.maxDelayTicks = opts.maxDelayTicks;
    this.tearChance = opts.tearChance;
    for (const id of [...opts.voters, ...opts.observers]) {
      const cfg: ConsensusConfig = {
        id,
        voters: opts.voters,
        observers: opts.observers,
        electionTicks: opts.electionTicks,
        syncLimitTicks: opts.syncLimitTicks,
      };
      this.servers.set(id, new Replica(id, cfg, this));
    }
    for (const id of this.servers.keys()) this.restart(id);
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  server(id: number): Replica {
    const s = this.servers.get(id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  get serverIds(): number[] {
    return [...this.servers.keys()];
  }

  chance(p: number): boolean {
    return p > 0 && this.prng.nextUint32() / 2 ** 32 < p;
  }

  diskLatency(id: number): number {
    const max = this.disksCalm ? 0 : (this.opts.diskLatencyTicksMax.get(id) ?? 0);
    return max === 0 ? 0 : this.prng.below(max + 1);
  }

  // ---- faults ----

  crash(id: number): void {
    const s = this.server(id);
    if (!s.up) return;
    this.stats.crashes++;
    if (s.inReady !== null) {
      const torn = s.disk.tornWritten;
      s.disk.crashDuring(s.inReady.ops, this.prng, this.tearChance);
      if (s.disk.tornWritten > torn) this.stats.tornWrites++;
      this.log(`t${this.now} s${id}: crash during a write of ${s.inReady.ops.length} ops`);
    } else {
      this.log(`t${this.now} s${id}: crash`);
    }
    s.stopNow();
  }

  /** Startup as the real server does it: recover the disk, load the snapshot, replay nothing. */
  restart(id: number): void {
    const s = this.server(id);
    if (s.up) return;
    const rec = s.disk.recover();
    if (rec.tornDiscarded) this.log(`t${this.now} s${id}: recovery discarded a torn record`);
    const tree = rec.snapshot ? deserializeTree(rec.snapshot.bytes, `snapshot of s${id}`) : new DataTree();
    const snapZxid = rec.snapshot?.zxid ?? 0n;
    check(tree.lastProcessedZxid === snapZxid, `server ${id}: snapshot's tree is not as of its zxid`);
    if (snapZxid > 0n) this.checkSnapshotState(id, tree, "restart");
    s.tree = tree;
    s.pipeline = s.newPipeline();
    s.memLog = new MemoryLog();
    if (snapZxid > 0n) s.memLog.installSnapshot({ zxid: snapZxid, data: new Uint8Array(0) });
    s.memLog.append(rec.txns);
    s.epochs = { acceptedEpoch: rec.acceptedEpoch, currentEpoch: rec.currentEpoch };
    s.restarts++;
    s.boot(
      new ZabNode(
        s.cfg,
        { ...s.epochs, appliedZxid: snapZxid },
        s.memLog,
        { snapshot: () => s.member!.snapshot() },
        new SeededPrng(this.prng.nextUint32()),
      ),
    );
    this.log(
      `t${this.now} s${id}: start (snapshot ${zxidHex(snapZxid)}, ${rec.txns.length} logged, epochs ${rec.acceptedEpoch}/${rec.currentEpoch})`,
    );
    s.pump();
  }

  /** The shell snapshots its applied tree and purges the log before it. */
  snapshot(id: number): void {
    const s = this.server(id);
    if (!s.up || s.inReady !== null) return;
    const snap = s.member!.snapshot();
    if (snap.zxid <= s.memLog.snapshotZxid() || snap.zxid > s.memLog.lastZxid()) return;
    s.disk.takeSnapshot(snap.zxid, snap.data);
    s.memLog.compact({ zxid: snap.zxid, data: new Uint8Array(0) });
    this.stats.snaps++;
  }

  isolate(id: number): void {
    for (const other of this.servers.keys()) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: number, b: number): void {
    if (a !== b) this.cut.add(`${a}-${b}`).add(`${b}-${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  calm(): void {
    this.heal();
    this.dropRate = 0;
    this.dupRate = 0;
    this.maxDelayTicks = Math.min(this.maxDelayTicks, 1);
    this.disksCalm = true;
  }

  // ---- network ----

  send(env: Envelope): void {
    this.stats.messages++;
    if (env.kind === "app" && env.app.type === "request") this.stats.forwarded++;
    if (env.kind === "app" && env.app.type === "syncRequest") this.stats.syncRequests++;
    // Client links are cut with their server: a client is partitioned with its side.
    const a = env.from;
    const b = env.to;
    if (this.cut.has(`${a}-${b}`)) return;
    if (this.chance(this.dropRate)) return;
    const copies = env.kind === "zab" && this.chance(this.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.maxDelayTicks > 0 ? this.prng.below(this.maxDelayTicks + 1) : 0;
      const at = this.now + delay;
      let q = this.queue.get(at);
      if (q === undefined) this.queue.set(at, (q = []));
      q.push({ at, seq: this.seq++, env });
    }
  }

  /** The connection of a session at any other server is closed (the client moved). */
  detachElsewhere(sessionId: bigint, here: number): void {
    for (const s of this.servers.values()) {
      if (s.id === here || !s.connections.has(sessionId)) continue;
      s.connections.delete(sessionId);
      if (s.up) s.pipeline.dropSessionQueue(sessionId);
    }
  }

  /** Delivers every message due by now, oldest first (a zero-delay message sent meanwhile too). */
  private deliverDue(): void {
    for (let guard = 0; guard < 100_000; guard++) {
      let at = Infinity;
      for (const k of this.queue.keys()) if (k < at) at = k;
      if (at > this.now) return;
      const q = this.queue.get(at)!;
      const f = q.shift();
      if (f === undefined) {
        this.queue.delete(at);
        continue;
      }
      this.deliver(f.env);
    }
    throw new Error("message storm: deliveries did not quiesce");
  }

  private deliver(env: Envelope): void {
    this.events++;
    if (env.kind === "reply") {
      this.clients.get(env.to)?.receive(env.from, env.rep);
      return;
    }
    const s = this.servers.get(env.to);
    if (s === undefined || !s.up) return;
    if (env.kind === "zab") {
      const msg = env.msg;
      if (!s.stepDuringReady(msg)) s.input(() => s.node.step(msg));
    } else if (env.kind === "app") {
      s.onApp(env.from, env.app);
    } else {
      const req = env.req;
      const from = env.from;
      s.input(() => s.onClientRequest(from, req));
    }
  }

  /** One tick: finished disk writes complete, due messages arrive, every server ticks. */
  tick(): void {
    this.now++;
    this.events++;
    for (const s of this.servers.values()) {
      if (s.up && s.inReady !== null && s.inReady.doneAt <= this.now) {
        s.finishReady();
      }
    }
    this.deliverDue();
    for (const s of this.servers.values()) {
      if (!s.up) continue;
      s.input(() => {
        s.node.tick();
        s.tickSessions();
      });
    }
    this.deliverDue();
  }

  // ---- invariants ----

  checkLeader(s: Replica): void {
    const n = s.node;
    if (!n?.isEstablished) return;
    const prior = this.leaders.get(n.epoch);
    check(prior === undefined || prior === s.id, `two leaders in epoch ${n.epoch}: ${prior} and ${s.id}`);
    this.leaders.set(n.epoch, s.id);
  }

  /** Server s applied e after `before`: e must be the committed history's next entry after `before`. */
  onApplied(s: Replica, before: bigint, e: LogEntry): void {
    this.stats.applies++;
    const i = before === 0n ? -1 : this.indexOf.get(before);
    check(
      i !== undefined,
      `server ${s.id}: applied ${zxidHex(e.zxid)} on top of ${zxidHex(before)}, never committed`,
    );
    const h = this.committed[i + 1];
    if (h !== undefined) {
      check(
        h.zxid === e.zxid && sameBytes(h.data, e.data),
        `server ${s.id}: committed #${i + 1} is ${zxidHex(e.zxid)}, others committed ${zxidHex(h.zxid)}`,
      );
    } else {
      check(i + 1 === this.committed.length, "history gap");
      check(
        this.committed.length === 0 || this.committed.at(-1)!.zxid < e.zxid,
        `committed ${zxidHex(e.zxid)} out of zxid order`,
      );
      this.committed.push(e);
      this.indexOf.set(e.zxid, i + 1);
    }
    check(s.tree.lastProcessedZxid === e.zxid, `server ${s.id}: tree not at ${zxidHex(e.zxid)} after apply`);
    if (this.opts.digestEveryApply || (e.zxid & 3n) === 0n) this.checkDigest(s.id, s.tree);
  }

  /** A tree as of a committed zxid must equal every other tree as of that zxid. */
  checkDigest(id: number, tree: DataTree): void {
    const z = tree.lastProcessedZxid;
    const d = tree.digest();
    const prior = this.digests.get(z);
    if (prior === undefined) this.digests.set(z, d);
    else
      check(
        prior === d,
        `server ${id}: tree at ${zxidHex(z)} has digest ${d}, another server's has ${prior}`,
      );
  }

  /** A loaded snapshot (restart or SNAP) must be a state of the committed history. */
  checkSnapshotState(id: number, tree: DataTree, what: string): void {
    const z = tree.lastProcessedZxid;
    if (z === 0n) return;
    check(this.indexOf.has(z), `server ${id}: ${what} snapshot at ${zxidHex(z)} is not a committed state`);
    this.checkDigest(id, tree);
  }

  sessionClosed(sessionId: bigint): void {
    this.closedSessions.add(sessionId);
  }

  /** Every committed entry is durable on a majority of voters (logged, or inside their snapshot). */
  checkDurability(): void {
    const voters = this.opts.voters.map((id) => this.server(id));
    const majority = Math.floor(voters.length / 2) + 1;
    for (const h of this.committed) {
      let n = 0;
      for (const s of voters) if (s.disk.holds(h.zxid, h.data)) n++;
      check(n >= majority, `committed ${zxidHex(h.zxid)} is durable on only ${n} voters`);
    }
  }

  /** The committed txn at zxid, decoded; undefined if not committed. */
  committedTxn(zxid: bigint): Txn | undefined {
    const i = this.indexOf.get(zxid);
    return i === undefined ? undefined : decodeTxn(this.committed[i]!.data);
  }

  /** The established leader that serves, if any (the newest epoch among live ones). */
  activeLeader(): Replica | null {
    let best: Replica | null = null;
    for (const s of this.servers.values()) {
      if (!s.isActiveLeader) continue;
      if (best === null || s.node.epoch > best.node.epoch) best = s;
    }
    return best;
  }

  epochsSeen(): number {
    return this.leaders.size;
  }

  lastCommittedEpoch(): number {
    const last = this.committed.at(-1);
    return last === undefined ? 0 : zxidEpoch(last.zxid);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export { Code };

/** A session's password in the simulation: derived from its id, so runs stay deterministic. */
function simPassword(sessionId: bigint): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setBigUint64(8, BigInt.asUintN(64, sessionId));
  return b;
}

function stringify(fields: Record<string, unknown>): string {
  return JSON.stringify(fields, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
