// The request pipeline of one server: per-session FIFO, prepare → durable log → apply → reply,
// with every write's reply held until its txn is on disk and applied (ZooKeeper's Prep → Sync → Final).
import type { ACL, Id, Request, Response, Txn } from "../protocol/types.js";
import { OpCode } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import type { DataTree, ApplyResult, WatchDelivery } from "../tree/data-tree.js";
import { shapeMultiResults, type Preparer } from "../tree/prepare.js";
import { processRead } from "../tree/read.js";
import { assert } from "../base/assert.js";
import { ChurnTable } from "../base/churn-table.js";

/** Where committed txns go to become durable (the txn log in standalone; a quorum in an ensemble). */
export interface CommitLog {
  /** Resolves once the txn is durable; resolutions happen in zxid order. */
  append(txn: Txn): Promise<void>;
}

/** How the pipeline talks back to clients, without knowing sockets. */
export interface ReplySink {
  reply(
    sessionId: bigint,
    xid: number,
    zxid: bigint,
    err: number,
    response: Response | null,
    op: number,
  ): void;
  /** Delivers a watch event to a watcher (a connection id). */
  event(watcher: number, type: number, path: string, zxid: bigint, acl: readonly ACL[]): void;
  /** A committed txn of a kind the server acts on (sessions created/closed). */
  committed(txn: Txn, result: ApplyResult): void;
  /** A client's write is about to be answered with this result (the audit log, see audit-log.ts). */
  audit?(sessionId: bigint, op: number, request: Request | null, result: ApplyResult): void;
}

export interface SessionContext {
  sessionId: bigint;
  authInfo: Id[];
  /** Watches registered by this session's reads belong to its current connection. */
  watcherId: number;
}

type Item =
  | { kind: "write"; xid: number; op: number; request: Request | null; result: ApplyResult | null }
  | { kind: "read"; xid: number; op: number; run: () => void }
  | { kind: "barrier"; xid: number; op: number; run: (() => void) | null };

/** A request held in its session's queue until the server releases it (an ensemble `sync`). */
export interface Barrier {
  /** Runs `run` (the reply) once every earlier request of the session is answered. */
  release(run: () => void): void;
}

interface SessionQueue {
  items: Item[];
}

export class RequestPipeline {
  private lastPreparedZxid: bigint;
  /** Txns prepared and handed to the log, not yet applied; applied strictly in this order. */
  private readonly inflight: { txn: Txn; durable: boolean; item: Item | null; sessionId: bigint }[] = [];
  /** By session; sessions come and go at the clients' rate (see base/churn-table.ts). */
  private readonly queues = new ChurnTable<bigint, SessionQueue>();
  private failed: Error | null = null;

  constructor(
    private readonly tree: DataTree,
    private preparer: Preparer,
    private readonly log: CommitLog,
    private readonly sink: ReplySink,
    private readonly nowMs: () => number,
    private readonly superDigestId: string | undefined,
  ) {
    this.lastPreparedZxid = tree.lastProcessedZxid;
  }

  get outstanding(): number {
    return this.inflight.length;
  }

  get lastZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  /** Writes from clients, and internal ones (session expiry, container cleanup) with xid 0 and no session queue. */
  submitWrite(ctx: SessionContext, xid: number, op: number, request: Request | null, forQueue = true): Txn {
    const txn = this.prepareWrite(ctx, xid, request, ++this.lastPreparedZxid);
    this.enqueue(ctx.sessionId, txn, forQueue ? { kind: "write", xid, op, request, result: null } : null);
    return txn;
  }

  /** Creates a session (a txn like any write); the reply is the server's business, via sink.committed. */
  submitCreateSession(sessionId: bigint, timeOut: number, passwd: Uint8Array, xid: number): void {
    const zxid = ++this.lastPreparedZxid;
    const txn = this.preparer.prepareCreateSession({
      sessionId,
      timeOut,
      passwd,
      cxid: xid,
      zxid,
      time: BigInt(this.nowMs()),
    });
    this.enqueue(sessionId, txn, {
      kind: "write",
      xid,
      op: OpCode.createSession,
      request: null,
      result: null,
    });
  }

  /** Queues a prepared txn behind the session's earlier requests and hands it to the log. */
  private enqueue(sessionId: bigint, txn: Txn, item: Item | null): void {
    if (item !== null) this.queueOf(sessionId).items.push(item);
    const entry = { txn, durable: false, item, sessionId };
    this.inflight.push(entry);
    this.log.append(txn).then(
      () => {
        entry.durable = true;
        this.applyDurable();
      },
      (e: unknown) => this.fail(e as Error),
    );
  }

  // ---- ensemble: the quorum decides zxids and order; every server applies what commits ----

  /** Ensemble: a new leader starts over from the applied tree (no outstanding changes of an old epoch). */
  setPreparer(preparer: Preparer): void {
    assert(this.inflight.length === 0, "an ensemble pipeline has no standalone writes in flight");
    this.preparer = preparer;
  }

  /** Ensemble: a write of a local session goes to the quorum; its reply waits in the session's queue. */
  queueWrite(sessionId: bigint, xid: number, op: number, request: Request | null): void {
    this.queueOf(sessionId).items.push({ kind: "write", xid, op, request, result: null });
  }

  /** Ensemble leader: prepare a write (its own session's or a forwarded one) with the zxid the quorum assigns. */
  prepareWrite(ctx: SessionContext, xid: number, request: Request | null, zxid: bigint): Txn {
    const txn = this.preparer.prepareWrite({
      sessionId: ctx.sessionId,
      cxid: xid,
      request: request ?? { type: "closeSession", op: OpCode.closeSession },
      authInfo: ctx.authInfo,
      zxid,
      time: BigInt(this.nowMs()),
    });
    assert(txn.header.zxid === zxid, "prepare must use the zxid it is given");
    return txn;
  }

  /** Ensemble leader: prepare a createSession txn. */
  prepareCreateSession(sessionId: bigint, timeOut: number, passwd: Uint8Array, zxid: bigint): Txn {
    return this.preparer.prepareCreateSession({
      sessionId,
      timeOut,
      passwd,
      cxid: 0,
      zxid,
      time: BigInt(this.nowMs()),
    });
  }

  /**
   * Ensemble: a txn the quorum committed, in zxid order, prepared here or anywhere. Applies it, fires its
   * watches, and answers the local request it belongs to (matched by session id and cxid, as
   * FinalRequestProcessor matches a learner's request to its commit).
   */
  applyCommitted(txn: Txn): void {
    assert(this.inflight.length === 0, "an ensemble pipeline has no standalone writes in flight");
    assert(txn.header.zxid > this.tree.lastProcessedZxid, "committed txns apply in zxid order, once");
    const result = this.tree.apply(txn);
    this.preparer.onApplied(txn);
    this.deliver(result.events, txn.header.zxid);
    this.sink.committed(txn, result);
    const sessionId = txn.header.clientId;
    const q = this.queues.get(sessionId);
    if (q === undefined) return;
    const head = q.items.find((i) => i.kind === "write" && i.result === null);
    if (head === undefined || head.kind !== "write" || head.xid !== txn.header.cxid) return;
    head.result = result;
    this.drain(sessionId);
  }

  /** A request answered when the server says so (releases), in its session's order. */
  submitBarrier(sessionId: bigint, xid: number, op: number): Barrier {
    const item: Item = { kind: "barrier", xid, op, run: null };
    this.queueOf(sessionId).items.push(item);
    return {
      release: (run) => {
        item.run = run;
        this.drain(sessionId);
      },
    };
  }

  /** A read (or any request answered locally): runs once every earlier request of its session is answered. */
  submitRead(ctx: SessionContext, xid: number, op: number, request: Request): void {
    this.submitLocal(ctx.sessionId, xid, op, () => this.runRead(ctx, xid, op, request));
  }

  /** Anything local to run in session order (auth, setWatches, sync) without touching the tree's data. */
  submitLocal(sessionId: bigint, xid: number, op: number, run: () => void): void {
    const q = this.queueOf(sessionId);
    if (q.items.length === 0) run();
    else q.items.push({ kind: "read", xid, op, run });
  }

  /** Forget a session's queue (its connection went away); writes still apply, their replies are dropped. */
  dropSessionQueue(sessionId: bigint): void {
    this.queues.delete(sessionId);
  }

  private queueOf(sessionId: bigint): SessionQueue {
    let q = this.queues.get(sessionId);
    if (q === undefined) this.queues.set(sessionId, (q = { items: [] }));
    return q;
  }

  private fail(e: Error): void {
    // The log could not make a txn durable: no later txn may be acknowledged. Stop the server.
    this.failed = e;
    throw e;
  }

  private applyDurable(): void {
    if (this.failed !== null) return;
    while (this.inflight.length > 0 && this.inflight[0]!.durable) {
      const entry = this.inflight.shift()!;
      const result = this.tree.apply(entry.txn);
      this.preparer.onApplied(entry.txn);
      this.deliver(result.events, entry.txn.header.zxid);
      this.sink.committed(entry.txn, result);
      if (entry.item !== null && entry.item.kind === "write") {
        entry.item.result = result;
        this.drain(entry.sessionId);
      }
    }
  }

  private deliver(events: WatchDelivery[], zxid: bigint): void {
    for (const e of events) this.sink.event(e.watcher, e.type, e.path, zxid, e.acl);
  }

  private drain(sessionId: bigint): void {
    const q = this.queues.get(sessionId);
    if (q === undefined) return;
    while (q.items.length > 0) {
      const head = q.items[0]!;
      if (head.kind === "write") {
        if (head.result === null) return;
        q.items.shift();
        this.replyWrite(sessionId, head.xid, head.op, head.request, head.result);
      } else if (head.kind === "barrier") {
        if (head.run === null) return;
        q.items.shift();
        head.run();
      } else {
        q.items.shift();
        head.run();
      }
    }
  }

  private replyWrite(
    sessionId: bigint,
    xid: number,
    op: number,
    request: Request | null,
    r: ApplyResult,
  ): void {
    if (op === OpCode.createSession) return; // answered by the server with a ConnectResponse
    this.sink.audit?.(sessionId, op, request, r);
    const zxid = this.tree.lastProcessedZxid;
    if (r.err !== Code.ok && op !== OpCode.multi) {
      this.sink.reply(sessionId, xid, zxid, r.err, null, op);
      return;
    }
    this.sink.reply(sessionId, xid, zxid, Code.ok, writeResponse(op, request, r), op);
  }

  private runRead(ctx: SessionContext, xid: number, op: number, request: Request): void {
    const zxid = this.tree.lastProcessedZxid;
    const out = processRead(
      this.tree,
      { authInfo: ctx.authInfo, sessionId: ctx.sessionId, superDigestId: this.superDigestId },
      request,
      ctx.watcherId,
    );
    this.sink.reply(
      ctx.sessionId,
      xid,
      zxid,
      out.err,
      out.err === Code.ok ? (out.response ?? null) : null,
      op,
    );
  }

  /** Fires events of local watch operations (setWatches) through the sink. */
  deliverLocal(events: WatchDelivery[]): void {
    this.deliver(events, this.tree.lastProcessedZxid);
  }
}

function writeResponse(op: number, request: Request | null, r: ApplyResult): Response | null {
  switch (op) {
    case OpCode.create:
      return { type: "create", path: r.path ?? "" };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { type: "create2", path: r.path ?? "", stat: r.stat! };
    case OpCode.setData:
    case OpCode.setACL:
      return { type: "stat", stat: r.stat! };
    case OpCode.check:
      return r.stat !== undefined ? { type: "stat", stat: r.stat } : null;
    case OpCode.multi:
      // A plain create inside multi answers without a stat; apply cannot tell create from create2.
      return {
        type: "multi",
        results:
          request?.type === "multi"
            ? shapeMultiResults(request.ops, r.multiResults ?? [])
            : (r.multiResults ?? []),
      };
    default:
      return null;
  }
}
