// A simulated ZooKeeper client for the whole-stack simulator: one session at a time, one request in
// flight, sent to the server it believes leads (a "not leader" answer redirects it, a timeout or a closed
// connection sends it elsewhere and makes the outcome indeterminate). Ops on the checked keys are recorded
// with test/lin's HistoryRecorder against the world's event clock; ephemeral, sequential and session ops
// are tracked for the end-of-run checks. Test-only.
import { SeededPrng } from "../../src/base/clock.js";
import { Code } from "../../src/protocol/error-codes.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import type { Request, Response } from "../../src/protocol/types.js";
import { openAclUnsafe } from "../../src/tree/acl.js";
import type { HistoryRecorder, InputOf, OpKind, OutputOf } from "../lin/history.js";
import {
  check,
  tickMs,
  type ClientEndpoint,
  type ClientReply,
  type ClientRequest,
  type World,
} from "./corral-cluster.js";

/** What every client of one run shares: the recorder and what the end-of-run checks need. */
export interface ClientLedger {
  recorder: HistoryRecorder;
  /** The recorder's clock; set before each invoke/complete so an op's times are its send and answer. */
  clock: { now: number };
  /** Writes the server acknowledged: their zxid must be committed with this session and cxid. */
  acked: { zxid: bigint; sessionId: bigint; xid: number; what: string }[];
  /** Sequential znodes acknowledged (never deleted by anyone): unique and present at the end. */
  sequentials: string[];
  /** Ephemerals acknowledged, with their session. */
  ephemerals: { path: string; sessionId: bigint }[];
  /** Sessions whose closeSession was acknowledged. */
  closedByClient: Set<bigint>;
  /** Ops that ended indeterminate (timeout, closed connection). */
  indeterminate: number;
  completed: number;
}

type Pending =
  | { kind: "connect"; sessionId: bigint; deadline: number }
  | {
      kind: "op";
      xid: number;
      deadline: number;
      callTime: number;
      op: ClientOp;
    };

type ClientOp =
  | { kind: "read"; key: string }
  /** `viaMulti`: sent as multi {check(key, version), setData(key, value, -1)}, which must act as one CAS. */
  | { kind: "write" | "cas"; key: string; value: string; version: number; viaMulti?: boolean }
  | { kind: "create"; key: string; value: string }
  | { kind: "delete"; key: string; version: number }
  | { kind: "ephemeral"; path: string; sequential: boolean }
  | { kind: "sequential"; withData: boolean }
  | { kind: "close" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SimClient implements ClientEndpoint {
  private readonly prng: SeededPrng;
  private session: bigint | null = null;
  private sessionsStarted = 0;
  private target: number;
  private xid = 0;
  private pending: Pending | null = null;
  private thinkUntil = 0;
  private values = 0;
  private readonly versions = new Map<string, number>();
  /** Where the read in flight went, if it went elsewhere than the target. */
  private readTarget: number | null = null;
  stopped = false;

  constructor(
    readonly id: number,
    seed: number,
    private readonly world: World,
    private readonly ledger: ClientLedger,
    private readonly keys: string[],
    private readonly requestTimeoutTicks: number,
    /** Known-bug workarounds (see corral-run.ts): "null-data" makes every create carry data. */
    private readonly avoid: ReadonlySet<string> = new Set(),
  ) {
    this.prng = new SeededPrng(seed);
    this.target = this.pickServer();
  }

  get idle(): boolean {
    return this.pending === null;
  }

  private pickServer(): number {
    const ids = this.world.serverIds;
    return ids[this.prng.below(ids.length)]!;
  }

  private send(req: ClientRequest): void {
    this.world.send({ kind: "request", from: this.id, to: this.target, req });
  }

  tick(): void {
    const now = this.world.now;
    const p = this.pending;
    if (p !== null) {
      if (now >= p.deadline) {
        this.world.log(`t${now} c${this.id}: timeout at s${this.readTarget ?? this.target}`);
        this.giveUp();
        if (this.readTarget === null) this.target = this.pickServer();
        this.readTarget = null;
      }
      return;
    }
    if (this.stopped || now < this.thinkUntil) return;
    if (this.session === null) return this.connect();
    this.startOp(this.chooseOp());
  }

  private connect(): void {
    const sessionId = (BigInt(this.id) << 32n) | BigInt(++this.sessionsStarted);
    this.readTarget = null;
    this.pending = { kind: "connect", sessionId, deadline: this.world.now + this.requestTimeoutTicks };
    this.send({ type: "connect", sessionId, timeOutMs: 40 * tickMs });
  }

  private chooseOp(): ClientOp {
    const r = this.prng.below(100);
    const key = this.keys[this.prng.below(this.keys.length)]!;
    const value = `c${this.id}-${++this.values}`;
    if (r < 30) return { kind: "read", key };
    if (r < 48) return { kind: "write", key, value, version: -1 };
    if (r < 60) {
      const version = this.versions.get(key) ?? this.prng.below(3);
      return { kind: "cas", key, value, version, viaMulti: r % 2 === 0 };
    }
    if (r < 72) return { kind: "create", key, value };
    if (r < 80) {
      const v = this.versions.get(key);
      return { kind: "delete", key, version: v !== undefined && this.prng.below(2) === 0 ? v : -1 };
    }
    if (r < 88) return { kind: "ephemeral", path: `/e-c${this.id}-${this.values}`, sequential: r % 2 === 0 };
    if (r < 97) return { kind: "sequential", withData: r % 2 === 0 || this.avoid.has("null-data") };
    return { kind: "close" };
  }

  private startOp(op: ClientOp): void {
    const xid = ++this.xid;
    const sessionId = this.session!;
    this.pending = {
      kind: "op",
      xid,
      deadline: this.world.now + this.requestTimeoutTicks,
      callTime: this.world.events,
      op,
    };
    if (op.kind === "read") {
      // Half the reads go to whichever server (any up-to-date one may serve a sync + read).
      const to = this.prng.below(2) === 0 ? this.pickServer() : this.target;
      this.readTarget = to;
      this.world.send({
        kind: "request",
        from: this.id,
        to,
        req: { type: "syncRead", sessionId, xid, path: op.key },
      });
      return;
    }
    this.readTarget = null;
    this.send({ type: "write", sessionId, xid, request: requestOf(op) });
  }

  receive(from: number, rep: ClientReply): void {
    const p = this.pending;
    if (p === null || from !== (this.readTarget ?? this.target)) return;
    const now = this.world.now;
    switch (rep.type) {
      case "disconnected":
        this.world.log(`t${now} c${this.id}: disconnected by s${from}`);
        this.giveUp();
        if (this.readTarget === null) this.target = this.pickServer();
        this.readTarget = null;
        this.thinkUntil = now + 1;
        return;
      case "notLeader":
        if (p.kind === "op" && rep.xid !== p.xid) return;
        if (p.kind === "connect" && rep.xid !== -1) return;
        // Refused before it was queued: it never happens. Not recorded; retry at the leader it names.
        this.pending = null;
        if (this.readTarget === null)
          this.target = rep.leaderId !== null && rep.leaderId !== from ? rep.leaderId : this.pickServer();
        this.readTarget = null;
        this.thinkUntil = now + 1;
        return;
      case "connected":
        if (p.kind !== "connect" || rep.sessionId !== p.sessionId) return;
        this.pending = null;
        this.session = rep.sessionId;
        this.world.log(`t${now} c${this.id}: session ${rep.sessionId} at s${from}`);
        return;
      case "reply":
        if (p.kind !== "op" || rep.xid !== p.xid) return;
        this.pending = null;
        this.readTarget = null;
        this.thinkUntil = now + this.prng.below(3);
        this.onReply(p.op, p.xid, p.callTime, rep.zxid, rep.err, rep.response);
        return;
    }
  }

  private onReply(
    op: ClientOp,
    xid: number,
    callTime: number,
    zxid: bigint,
    err: number,
    response: Response | null,
  ): void {
    const sessionId = this.session!;
    const l = this.ledger;
    l.completed++;
    if (op.kind === "cas" && op.viaMulti === true)
      ({ err, response } = multiCasOutcome(op.key, err, response));
    if (err === Code.sessionExpired) {
      // The session is gone (expired by the leader): a determinate no-op, recorded conservatively.
      if (op.kind !== "read" && op.kind !== "close") this.recordUnknown(op, callTime);
      this.session = null;
      return;
    }
    const ack = (what: string): void => {
      l.acked.push({ zxid, sessionId, xid, what });
    };
    switch (op.kind) {
      case "read":
        if (err === Code.ok) {
          check(response?.type === "getData", `read of ${op.key} answered ${response?.type}`);
          const value = response.data === null ? "" : decoder.decode(response.data);
          this.versions.set(op.key, response.stat.version);
          return this.record("read", op.key, null, callTime, {
            exists: true,
            value,
            version: response.stat.version,
          });
        }
        check(err === Code.noNode, `read of ${op.key} failed with ${err}`);
        this.versions.delete(op.key);
        return this.record("read", op.key, null, callTime, "noNode");
      case "write":
      case "cas": {
        const input = { value: op.value, version: op.version };
        if (err === Code.ok) {
          check(response?.type === "stat", `setData of ${op.key} answered ${response?.type}`);
          ack(`setData ${op.key}`);
          this.versions.set(op.key, response.stat.version);
          return this.record(op.kind, op.key, input, callTime, { version: response.stat.version });
        }
        check(err === Code.noNode || err === Code.badVersion, `setData of ${op.key} failed with ${err}`);
        this.versions.delete(op.key);
        return this.record(op.kind, op.key, input, callTime, err === Code.noNode ? "noNode" : "badVersion");
      }
      case "create":
        if (err === Code.ok) {
          ack(`create ${op.key}`);
          this.versions.set(op.key, 0);
          return this.record("create", op.key, { value: op.value }, callTime, "ok");
        }
        check(err === Code.nodeExists, `create of ${op.key} failed with ${err}`);
        return this.record("create", op.key, { value: op.value }, callTime, "nodeExists");
      case "delete": {
        const input = { version: op.version };
        if (err === Code.ok) {
          ack(`delete ${op.key}`);
          this.versions.delete(op.key);
          return this.record("delete", op.key, input, callTime, "ok");
        }
        check(err === Code.noNode || err === Code.badVersion, `delete of ${op.key} failed with ${err}`);
        this.versions.delete(op.key);
        return this.record("delete", op.key, input, callTime, err === Code.noNode ? "noNode" : "badVersion");
      }
      case "ephemeral":
      case "sequential": {
        check(err === Code.ok, `create ${op.kind} failed with ${err}`);
        check(response?.type === "create", `create ${op.kind} answered ${response?.type}`);
        ack(`create ${response.path}`);
        if (op.kind === "ephemeral") l.ephemerals.push({ path: response.path, sessionId });
        else l.sequentials.push(response.path);
        return;
      }
      case "close":
        check(err === Code.ok, `closeSession failed with ${err}`);
        ack("closeSession");
        l.closedByClient.add(sessionId);
        this.session = null;
        return;
    }
  }

  /** The client will never learn the outcome of what it has in flight. */
  private giveUp(): void {
    const p = this.pending;
    this.pending = null;
    if (p === null) return;
    this.ledger.indeterminate++;
    if (p.kind === "connect") return; // the session may yet be created: the leader will expire it
    if (p.op.kind === "close") {
      this.session = null; // may or may not be closed; either way we start a new one
      return;
    }
    this.recordUnknown(p.op, p.callTime);
  }

  private recordUnknown(op: ClientOp, callTime: number): void {
    switch (op.kind) {
      case "read":
        return this.record("read", op.key, null, callTime, "unknown");
      case "write":
      case "cas":
        return this.record(op.kind, op.key, { value: op.value, version: op.version }, callTime, "unknown");
      case "create":
        return this.record("create", op.key, { value: op.value }, callTime, "unknown");
      case "delete":
        return this.record("delete", op.key, { version: op.version }, callTime, "unknown");
      default:
        return;
    }
  }

  private record<K extends OpKind>(
    kind: K,
    key: string,
    input: InputOf<K>,
    callTime: number,
    output: OutputOf<K> | "unknown",
  ): void {
    const l = this.ledger;
    l.clock.now = callTime;
    const h = l.recorder.invoke(this.id, key, kind, input);
    l.clock.now = this.world.events;
    if (output === "unknown") l.recorder.unknown(h);
    else l.recorder.complete(h, output);
  }
}

/**
 * A multi {check, setData}'s reply as the plain setData's would be: its header err is 0 either way
 * (DESIGN), the sub-results say what happened: [check, setData(stat)] or [error(code), error(-2)].
 */
function multiCasOutcome(
  key: string,
  err: number,
  response: Response | null,
): { err: number; response: Response | null } {
  if (err !== Code.ok) return { err, response };
  check(
    response?.type === "multi" && response.results.length === 2,
    `multi on ${key} answered ${response?.type}`,
  );
  const [first, second] = response.results;
  if (second!.type === "setData") {
    check(first!.type === "check", `multi on ${key}: first result ${first!.type}`);
    return { err: Code.ok, response: { type: "stat", stat: second.stat } };
  }
  check(first!.type === "error" && second!.type === "error", `multi on ${key}: partial results`);
  check(
    second.err === Code.runtimeInconsistency,
    `multi on ${key}: the op after the failure has ${second.err}`,
  );
  return { err: first.err, response: null };
}

function requestOf(op: Exclude<ClientOp, { kind: "read" }>): Request {
  switch (op.kind) {
    case "write":
    case "cas":
      if (op.viaMulti === true)
        return {
          type: "multi",
          op: OpCode.multi,
          ops: [
            { type: "check", op: OpCode.check, req: { path: op.key, version: op.version } },
            {
              type: "setData",
              op: OpCode.setData,
              req: { path: op.key, data: encoder.encode(op.value), version: -1 },
            },
          ],
        };
      return {
        type: "setData",
        op: OpCode.setData,
        req: { path: op.key, data: encoder.encode(op.value), version: op.version },
      };
    case "create":
      return {
        type: "create",
        op: OpCode.create,
        req: { path: op.key, data: encoder.encode(op.value), acl: [...openAclUnsafe], flags: 0, ttl: 0n },
      };
    case "delete":
      return { type: "delete", op: OpCode.delete, req: { path: op.key, version: op.version } };
    case "ephemeral":
      return {
        type: "create",
        op: OpCode.create,
        req: {
          path: op.path,
          data: encoder.encode(op.path),
          acl: [...openAclUnsafe],
          flags: op.sequential ? 3 : 1,
          ttl: 0n,
        },
      };
    case "sequential":
      return {
        type: "create",
        op: OpCode.create,
        req: {
          path: "/s-",
          data: op.withData ? encoder.encode("seq") : null,
          acl: [...openAclUnsafe],
          flags: 2,
          ttl: 0n,
        },
      };
    case "close":
      return { type: "closeSession", op: OpCode.closeSession };
  }
}
