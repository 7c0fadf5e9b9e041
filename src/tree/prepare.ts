// Prepare (ZooKeeper's PrepRequestProcessor.pRequest2Txn with outstandingChanges): validates a write against
// the tree plus the changes prepared but not yet applied, checks ACLs, and decides the Txn, every
// non-deterministic choice (zxid, time, sequential suffix, which multi op fails) made here, once.
// Pure: no I/O, no clock, no randomness.
import type {
  ACL,
  CreateRequest,
  Id,
  MultiOp,
  NodeKind,
  OpResult,
  Request,
  Txn,
  TxnBody,
} from "../protocol/types.js";
import { OpCode, Perms } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { assert } from "../base/assert.js";
import { checkACL, fixupACL } from "./acl.js";
import { copyStat, createStat, type DataTree, type StatPersisted } from "./data-tree.js";
import { ephemeralOwnerFor, ttlMax } from "../protocol/ephemeral-type.js";
import { formatSequence, isSpecialPath, rootPath, validatePath } from "./path.js";
import { StatsTrack, checkQuota, limitPath, statPath, type QuotaExceeded } from "./quota.js";
import { ChurnTable } from "../base/churn-table.js";

export interface PreparerOptions {
  /** zookeeper.extendedTypesEnabled: TTL nodes; without it createTTL answers Unimplemented. */
  extendedTypesEnabled: boolean;
  /** The super user's digest id ("super:<base64 sha1>"): a session holding it passes every ACL check. */
  superDigestId?: string | undefined;
  /** Largest znode data accepted by create/setData; larger is BadArguments. */
  maxDataBytes: number;
  /**
   * SessionTracker.checkSession: writes from a session the tree does not know (never created, or its
   * closeSession already prepared) fail with SessionExpired. Default true.
   */
  checkSessions?: boolean;
  /** zookeeper.enforceQuota: a create or setData over a hard quota fails with QuotaExceeded. Default false. */
  enforceQuota?: boolean;
  /** Told of every quota limit a create or setData goes over (soft, or hard), for the server to log. */
  onQuotaExceeded?: (e: QuotaExceeded) => void;
}

export interface PrepareInput {
  sessionId: bigint;
  cxid: number;
  request: Request;
  authInfo: readonly Id[];
  zxid: bigint;
  /** The leader's wall clock, ms since the epoch: becomes ctime/mtime. */
  time: bigint;
}

/** ChangeRecord: a node as the prepared-but-unapplied txns leave it; stat null = deleted. */
interface ChangeRecord {
  zxid: bigint;
  path: string;
  stat: StatPersisted | null;
  childCount: number;
  acl: readonly ACL[];
  kind: NodeKind;
  /** The node's data as pending changes leave it (for the quota check of a setData). */
  data: Uint8Array | null;
}

/**
 * `base` as a later txn leaves it. Every record is built here or as a literal with the same fields in the same
 * order: object spreads with overrides cost a few microseconds each on the write path.
 */
function changedRecord(
  base: ChangeRecord,
  zxid: bigint,
  stat: StatPersisted,
  childCount: number,
  acl: readonly ACL[],
  data: Uint8Array | null,
): ChangeRecord {
  return { zxid, path: base.path, stat, childCount, acl, kind: base.kind, data };
}

/** KeeperException, inside prepare only: becomes an error txn (or a multi's failing op). */
class PrepError {
  constructor(readonly code: number) {}
}

function fail(code: number): never {
  throw new PrepError(code);
}

interface CreateMode {
  ephemeral: boolean;
  sequential: boolean;
  container: boolean;
  ttl: boolean;
}

/** CreateMode.fromFlag: BadArguments for an unknown flag. */
function createModeOf(flags: number): CreateMode {
  switch (flags) {
    case 0:
      return { ephemeral: false, sequential: false, container: false, ttl: false };
    case 1:
      return { ephemeral: true, sequential: false, container: false, ttl: false };
    case 2:
      return { ephemeral: false, sequential: true, container: false, ttl: false };
    case 3:
      return { ephemeral: true, sequential: true, container: false, ttl: false };
    case 4:
      return { ephemeral: false, sequential: false, container: true, ttl: false };
    case 5:
      return { ephemeral: false, sequential: false, container: false, ttl: true };
    case 6:
      return { ephemeral: false, sequential: true, container: false, ttl: true };
    default:
      return fail(Code.badArguments);
  }
}

type WriteRequest = Extract<Request, { type: "create" | "delete" | "setData" | "setACL" | "check" }>;
type WriteMultiOp = Extract<MultiOp, { type: "create" | "delete" | "setData" | "check" }>;

export class Preparer {
  /** zks.outstandingChanges, in zxid order. */
  private readonly outstanding: ChangeRecord[] = [];
  /** zks.outstandingChangesForPath: the latest record per path. */
  private readonly byPath = new ChurnTable<string, ChangeRecord>();
  /** While a multi is prepared: each byPath entry it replaced, to roll back on failure. */
  private undo: { path: string; prev: ChangeRecord | undefined }[] | null = null;
  /** createSession/closeSession prepared but not applied. */
  private readonly pendingSessions: { zxid: bigint; sessionId: bigint; open: boolean }[] = [];
  private readonly checkSessions: boolean;

  constructor(
    private readonly tree: DataTree,
    private readonly options: PreparerOptions,
  ) {
    this.checkSessions = options.checkSessions ?? true;
  }

  /** Changes prepared and not yet applied. */
  get pendingCount(): number {
    return this.outstanding.length;
  }

  /**
   * PrepRequestProcessor.pRequest for a write: a Txn with the given zxid. A refused request becomes an error
   * txn (header type OpCode.error, body {type:"error", err}); like ZooKeeper's it is logged, consumes its zxid
   * and is applied (as a no-op that answers the error). A failed multi stays a multi txn: its ops before the
   * failure as prepared, the failing op as its error, the rest RuntimeInconsistency.
   */
  prepareWrite(input: PrepareInput): Txn {
    const { sessionId, cxid, zxid, time, request } = input;
    const header = (type: number): Txn["header"] => ({ clientId: sessionId, cxid, zxid, time, type });
    try {
      switch (request.type) {
        case "create":
        case "delete":
        case "setData":
        case "setACL":
        case "check":
          return { header: header(request.op), body: this.prepareOp(request, input) };
        case "multi":
          return { header: header(OpCode.multi), body: this.prepareMulti(request.ops, input) };
        case "closeSession":
          return { header: header(OpCode.closeSession), body: this.prepareCloseSession(sessionId, zxid) };
        case "reconfig":
          // ZooKeeperServer.reconfigEnabled is false unless configured: ReconfigDisabled, as an error txn.
          return fail(Code.reconfigDisabled);
        default:
          assert(false, `${request.type} is not a write`);
      }
    } catch (e) {
      if (!(e instanceof PrepError)) throw e;
      return { header: header(OpCode.error), body: { type: "error", err: e.code } };
    }
  }

  /** createSession: the session enters the replicated sessions table when applied. */
  prepareCreateSession(input: {
    sessionId: bigint;
    timeOut: number;
    /** The session's password, chosen by the server the client connected to; replicated with the session. */
    passwd: Uint8Array;
    cxid: number;
    zxid: bigint;
    time: bigint;
  }): Txn {
    this.pendingSessions.push({ zxid: input.zxid, sessionId: input.sessionId, open: true });
    return {
      header: {
        clientId: input.sessionId,
        cxid: input.cxid,
        zxid: input.zxid,
        time: input.time,
        type: OpCode.createSession,
      },
      body: { type: "createSession", timeOut: input.timeOut, passwd: input.passwd },
    };
  }

  /** FinalRequestProcessor: drop the changes of every txn up to this one, now visible in the tree. */
  onApplied(txn: Txn): void {
    const z = txn.header.zxid;
    while (this.outstanding.length > 0 && this.outstanding[0]!.zxid <= z) {
      const cr = this.outstanding.shift()!;
      if (this.byPath.get(cr.path) === cr) this.byPath.delete(cr.path);
    }
    while (this.pendingSessions.length > 0 && this.pendingSessions[0]!.zxid <= z)
      this.pendingSessions.shift();
  }

  // ------------------------------------------------------------------ ops

  private prepareOp(op: WriteRequest | WriteMultiOp, input: PrepareInput): TxnBody {
    switch (op.type) {
      case "create":
        return this.prepareCreate(op.op, op.req, input);
      case "delete":
        if (op.op === OpCode.deleteContainer) return this.prepareDeleteContainer(op.req.path, input.zxid);
        return this.prepareDelete(op.req.path, op.req.version, input);
      case "setData":
        return this.prepareSetData(op.req.path, op.req.data, op.req.version, input);
      case "setACL":
        return this.prepareSetACL(op.req.path, op.req.acl, op.req.version, input);
      case "check":
        return this.prepareCheck(op.req.path, op.req.version, input);
    }
  }

  /** pRequest2TxnCreate, in ZooKeeper's order of checks. */
  private prepareCreate(op: number, req: CreateRequest, input: PrepareInput): TxnBody {
    const { sessionId, zxid, time, authInfo } = input;
    const mode = createModeOf(req.flags);
    const ttl = op === OpCode.createTTL ? req.ttl : -1n;
    // validateCreateRequest
    if (mode.ttl && !this.options.extendedTypesEnabled) fail(Code.unimplemented);
    if (mode.ttl ? ttl <= 0n || ttl > ttlMax : ttl >= 0n) fail(Code.badArguments);
    this.checkSession(sessionId);
    // validatePathForCreate
    const lastSlash = req.path.lastIndexOf("/");
    if (lastSlash === -1 || req.path.includes("\0")) fail(Code.badArguments);
    const parentPath = lastSlash === 0 ? rootPath : req.path.substring(0, lastSlash);
    const fixed = fixupACL(req.acl, authInfo);
    if (fixed.err !== Code.ok) fail(fixed.err);
    const parent = this.getRecordForPath(parentPath);
    this.checkACL(parent.acl, Perms.CREATE, authInfo);
    const parentStat = parent.stat!;
    const path = mode.sequential ? req.path + formatSequence(parentStat.cversion) : req.path;
    if (validatePath(path) !== Code.ok) fail(Code.badArguments);
    if (this.recordExists(path)) fail(Code.nodeExists);
    if (parent.kind === "ephemeral") fail(Code.noChildrenForEphemerals);
    const data = req.data;
    // Where ZooKeeper checks quota: refuse data over the limit (ZooKeeper refuses the whole packet earlier).
    if (data !== null && data.length > this.options.maxDataBytes) fail(Code.badArguments);
    this.checkQuota(path, null, data, 1n);
    const newCversion = (parentStat.cversion + 1) | 0;
    // The txn type decides the kind (CreateContainerTxn, CreateTTLTxn, CreateTxn{ephemeral}).
    const kind: NodeKind =
      op === OpCode.createContainer
        ? "container"
        : op === OpCode.createTTL
          ? "ttl"
          : mode.ephemeral
            ? "ephemeral"
            : "persistent";
    const ephemeralOwner = ephemeralOwnerFor(kind, sessionId, ttl);
    const newParentStat = copyStat(parentStat);
    newParentStat.cversion = newCversion;
    newParentStat.pzxid = zxid;
    this.addChangeRecord(
      changedRecord(parent, zxid, newParentStat, parent.childCount + 1, parent.acl, parent.data),
    );
    this.addChangeRecord({
      zxid,
      path,
      stat: createStat(zxid, time, ephemeralOwner),
      childCount: 0,
      acl: fixed.acl,
      kind,
      data,
    });
    return {
      type: "create",
      path,
      data,
      acl: fixed.acl,
      ephemeralOwner,
      parentCVersion: newCversion,
      kind,
      ttl: kind === "ttl" ? ttl : 0n,
    };
  }

  private prepareDelete(path: string, version: number, input: PrepareInput): TxnBody {
    this.checkSession(input.sessionId);
    const parentPath = parentPathAndValidate(path);
    const parent = this.getRecordForPath(parentPath);
    this.checkACL(parent.acl, Perms.DELETE, input.authInfo);
    const node = this.getRecordForPath(path);
    checkAndIncVersion(node.stat!.version, version);
    if (node.childCount > 0) fail(Code.notEmpty);
    this.recordDelete(parent, path, input.zxid);
    return { type: "delete", path };
  }

  /** deleteContainer (ContainerManager's): no session or ACL check; only if still empty and not ephemeral. */
  private prepareDeleteContainer(path: string, zxid: bigint): TxnBody {
    const parentPath = parentPathAndValidate(path);
    const node = this.getRecordForPath(path);
    if (node.childCount > 0) fail(Code.notEmpty);
    if (node.kind === "ephemeral") fail(Code.badVersion);
    const parent = this.getRecordForPath(parentPath);
    this.recordDelete(parent, path, zxid);
    return { type: "delete", path };
  }

  private recordDelete(parent: ChangeRecord, path: string, zxid: bigint): void {
    const parentStat = copyStat(parent.stat!);
    parentStat.pzxid = zxid;
    this.addChangeRecord(
      changedRecord(parent, zxid, parentStat, parent.childCount - 1, parent.acl, parent.data),
    );
    this.addChangeRecord({
      zxid,
      path,
      stat: null,
      childCount: -1,
      acl: [],
      kind: "persistent",
      data: null,
    });
  }

  private prepareSetData(
    path: string,
    data: Uint8Array | null,
    version: number,
    input: PrepareInput,
  ): TxnBody {
    this.checkSession(input.sessionId);
    if (validatePath(path) !== Code.ok) fail(Code.badArguments);
    const node = this.getRecordForPath(path);
    this.checkACL(node.acl, Perms.WRITE, input.authInfo);
    const bytes = data;
    if (bytes !== null && bytes.length > this.options.maxDataBytes) fail(Code.badArguments);
    this.checkQuota(path, node.data, bytes, 0n);
    const newVersion = checkAndIncVersion(node.stat!.version, version);
    const stat = copyStat(node.stat!);
    stat.version = newVersion;
    stat.mtime = input.time;
    stat.mzxid = input.zxid;
    this.addChangeRecord(changedRecord(node, input.zxid, stat, node.childCount, node.acl, bytes));
    return { type: "setData", path, data: bytes, version: newVersion };
  }

  private prepareSetACL(path: string, acl: ACL[], version: number, input: PrepareInput): TxnBody {
    this.checkSession(input.sessionId);
    if (validatePath(path) !== Code.ok) fail(Code.badArguments);
    const fixed = fixupACL(acl, input.authInfo);
    if (fixed.err !== Code.ok) fail(fixed.err);
    const node = this.getRecordForPath(path);
    this.checkACL(node.acl, Perms.ADMIN, input.authInfo);
    const newVersion = checkAndIncVersion(node.stat!.aversion, version);
    const stat = copyStat(node.stat!);
    stat.aversion = newVersion;
    this.addChangeRecord(changedRecord(node, input.zxid, stat, node.childCount, fixed.acl, node.data));
    return { type: "setACL", path, acl: fixed.acl, version: newVersion };
  }

  /** check: READ on the node; the txn carries version+1, as ZooKeeper's CheckVersionTxn. */
  private prepareCheck(path: string, version: number, input: PrepareInput): TxnBody {
    this.checkSession(input.sessionId);
    if (validatePath(path) !== Code.ok) fail(Code.badArguments);
    const node = this.getRecordForPath(path);
    this.checkACL(node.acl, Perms.READ, input.authInfo);
    return { type: "check", path, version: checkAndIncVersion(node.stat!.version, version) };
  }

  /**
   * pRequestHelper's multi: each op against the pending state of the ops before it, all under one zxid. On
   * the first failure the multi's own changes are rolled back (rollbackPendingChanges) and the remaining ops
   * become RuntimeInconsistency.
   */
  private prepareMulti(ops: readonly MultiOp[], input: PrepareInput): TxnBody {
    // Read ops cannot be mixed into a write multi (MultiOperationRecord refuses to decode them).
    const writes: WriteMultiOp[] = [];
    for (const o of ops) {
      if (o.type === "getData" || o.type === "getChildren") fail(Code.marshallingError);
      writes.push(o);
    }
    const mark = this.outstanding.length;
    this.undo = [];
    const txns: TxnBody[] = [];
    let failed = false;
    try {
      for (const op of writes) {
        if (failed) {
          txns.push({ type: "error", err: Code.runtimeInconsistency });
          continue;
        }
        try {
          txns.push(this.prepareOp(op, input));
        } catch (e) {
          if (!(e instanceof PrepError)) throw e;
          failed = true;
          txns.push({ type: "error", err: e.code });
          this.rollback(mark);
        }
      }
    } finally {
      this.undo = null;
    }
    return { type: "multi", txns };
  }

  /** closeSession: paths2Delete = the session's ephemerals, counting prepared creates and deletes (sorted). */
  private prepareCloseSession(sessionId: bigint, zxid: bigint): TxnBody {
    const es = new Set(this.tree.getEphemerals(sessionId));
    for (const c of this.outstanding) {
      if (c.stat === null) es.delete(c.path);
      else if (c.kind === "ephemeral" && c.stat.ephemeralOwner === sessionId) es.add(c.path);
    }
    const paths2Delete = [...es].sort();
    for (const p of paths2Delete) {
      const lastSlash = p.lastIndexOf("/");
      const parentPath = lastSlash <= 0 ? rootPath : p.substring(0, lastSlash);
      const parent = this.getRecordForPath(parentPath);
      this.recordDelete(parent, p, zxid);
    }
    this.pendingSessions.push({ zxid, sessionId, open: false });
    return { type: "closeSession", paths2Delete };
  }

  // ------------------------------------------------------------------ pending state

  private getRecordForPath(path: string): ChangeRecord {
    const p = path === "" ? rootPath : path;
    const pending = this.byPath.get(p);
    if (pending !== undefined) {
      if (pending.stat === null) fail(Code.noNode);
      return pending;
    }
    const n = this.tree.getNode(p);
    if (n === undefined) fail(Code.noNode);
    return {
      zxid: -1n,
      path: p,
      stat: copyStat(n.stat),
      childCount: n.children.size,
      acl: n.acl,
      kind: n.kind,
      data: n.data,
    };
  }

  private recordExists(path: string): boolean {
    const pending = this.byPath.get(path);
    if (pending !== undefined) return pending.stat !== null;
    return this.tree.getNode(path) !== undefined;
  }

  private addChangeRecord(c: ChangeRecord): void {
    if (this.undo !== null) this.undo.push({ path: c.path, prev: this.byPath.get(c.path) });
    this.outstanding.push(c);
    this.byPath.set(c.path, c);
  }

  /** rollbackPendingChanges: forget the failed multi's records and restore what they shadowed. */
  private rollback(mark: number): void {
    const undo = this.undo!;
    this.outstanding.length = mark;
    for (let i = undo.length - 1; i >= 0; i--) {
      const { path, prev } = undo[i]!;
      if (prev === undefined) this.byPath.delete(path);
      else this.byPath.set(path, prev);
    }
    undo.length = 0;
  }

  private checkACL(acl: readonly ACL[], perm: number, authInfo: readonly Id[]): void {
    const err = checkACL(acl, perm, authInfo, this.options.superDigestId);
    if (err !== Code.ok) fail(err);
  }

  /**
   * ZooKeeperServer.checkQuota: against the applied tree's zookeeper_limits and zookeeper_stats (not pending
   * changes, as ZooKeeper), count first. Every limit exceeded is reported; with enforceQuota a hard one fails
   * the op with QuotaExceeded. ZooKeeper looks only when enforcing; reporting soft limits always costs a lookup
   * in the quota trie and is what makes a soft quota useful.
   */
  private checkQuota(
    path: string,
    lastData: Uint8Array | null,
    data: Uint8Array | null,
    countDiff: bigint,
  ): void {
    const prefix = this.tree.quotas.maxPrefixWithQuota(path);
    if (prefix === undefined) return;
    const limitsNode = this.tree.getNode(limitPath(prefix));
    const statsNode = this.tree.getNode(statPath(prefix));
    if (limitsNode === undefined || statsNode === undefined) return;
    const bytesDiff = BigInt((data?.length ?? 0) - (lastData?.length ?? 0));
    const limits = StatsTrack.fromBytes(limitsNode.data);
    const stats = StatsTrack.fromBytes(statsNode.data);
    for (const e of checkQuota(limits, stats, prefix, bytesDiff, countDiff)) {
      this.options.onQuotaExceeded?.(e);
      if (e.hard && this.options.enforceQuota === true) fail(Code.quotaExceeded);
    }
  }

  private checkSession(sessionId: bigint): void {
    if (!this.checkSessions) return;
    for (let i = this.pendingSessions.length - 1; i >= 0; i--) {
      const s = this.pendingSessions[i]!;
      if (s.sessionId === sessionId) {
        if (!s.open) fail(Code.sessionExpired);
        return;
      }
    }
    if (!this.tree.sessions.has(sessionId)) fail(Code.sessionExpired);
  }
}

/** getParentPathAndValidate: BadArguments without a '/', with a NUL, or for the root and /zookeeper nodes. */
function parentPathAndValidate(path: string): string {
  const lastSlash = path.lastIndexOf("/");
  if (lastSlash === -1 || path.includes("\0") || isSpecialPath(path)) fail(Code.badArguments);
  return lastSlash === 0 ? rootPath : path.substring(0, lastSlash);
}

/** checkAndIncVersion: -1 matches any version. */
function checkAndIncVersion(currentVersion: number, expectedVersion: number): number {
  if (expectedVersion !== -1 && expectedVersion !== currentVersion) fail(Code.badVersion);
  return (currentVersion + 1) | 0;
}

/**
 * The multi reply as ZooKeeper shapes it: a sub-op sent as plain `create` gets a CreateResult without its
 * stat (create2, createContainer and createTTL keep it). Apply cannot know the op, so the server calls this
 * with the request's ops.
 */
export function shapeMultiResults(ops: readonly MultiOp[], results: readonly OpResult[]): OpResult[] {
  return results.map((r, i) =>
    r.type === "create" && ops[i]?.op === OpCode.create ? { type: "create", path: r.path, stat: null } : r,
  );
}
