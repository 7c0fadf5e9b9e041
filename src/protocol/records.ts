// Encode/decode of the client protocol's jute records (zookeeper.jute), requests and responses in both directions.
// Pure: no I/O, no clock, no randomness.
import { assert, unreachable } from "../base/assert.js";
import { DecodeError } from "../base/errors.js";
import { juteVectorLengthMax } from "../base/limits.js";
import type { JuteReader } from "./jute-reader.js";
import type { JuteWriter } from "./jute-writer.js";
import { OpCode } from "./opcodes.js";
import type {
  ACL,
  AuthPacket,
  ClientInfo,
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  Id,
  MultiOp,
  OpResult,
  ReconfigRequest,
  ReplyHeader,
  Request,
  RequestHeader,
  Response,
  SetWatchesRequest,
  Stat,
  WatcherEvent,
} from "./types.js";
import { UnknownOpCodeError } from "./unknown-opcode-error.js";

export { UnknownOpCodeError };

// ---------------------------------------------------------------- plain records

export function encodeId(w: JuteWriter, id: Id): void {
  w.writeString(id.scheme);
  w.writeString(id.id);
}

export function decodeId(r: JuteReader): Id {
  return { scheme: r.readNonNullString(), id: r.readNonNullString() };
}

export function encodeACL(w: JuteWriter, acl: ACL): void {
  w.writeInt(acl.perms);
  encodeId(w, acl.id);
}

export function decodeACL(r: JuteReader): ACL {
  return { perms: r.readInt(), id: decodeId(r) };
}

export function encodeStat(w: JuteWriter, s: Stat): void {
  w.writeLong(s.czxid);
  w.writeLong(s.mzxid);
  w.writeLong(s.ctime);
  w.writeLong(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner);
  w.writeInt(s.dataLength);
  w.writeInt(s.numChildren);
  w.writeLong(s.pzxid);
}

/** Fields in jute order: an object literal's initialisers run in source order. */
export function decodeStat(r: JuteReader): Stat {
  return {
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: r.readLong(),
    mtime: r.readLong(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    dataLength: r.readInt(),
    numChildren: r.readInt(),
    pzxid: r.readLong(),
  };
}

export function encodeClientInfo(w: JuteWriter, c: ClientInfo): void {
  w.writeString(c.authScheme);
  w.writeString(c.user);
}

export function decodeClientInfo(r: JuteReader): ClientInfo {
  return { authScheme: r.readNonNullString(), user: r.readNonNullString() };
}

export function encodeConnectRequest(w: JuteWriter, c: ConnectRequest): void {
  w.writeInt(c.protocolVersion);
  w.writeLong(c.lastZxidSeen);
  w.writeInt(c.timeOut);
  w.writeLong(c.sessionId);
  w.writeBuffer(c.passwd);
  if (c.readOnly !== undefined) w.writeBool(c.readOnly);
}

/** The trailing readOnly byte is optional: clients of 3.3 omit it (ProtocolManager.deserializeConnectRequest). */
export function decodeConnectRequest(r: JuteReader): ConnectRequest {
  return {
    protocolVersion: r.readInt(),
    lastZxidSeen: r.readLong(),
    timeOut: r.readInt(),
    sessionId: r.readLong(),
    passwd: r.readBuffer() ?? new Uint8Array(0),
    readOnly: r.remaining() > 0 ? r.readBool() : undefined,
  };
}

/** readOnly is written only when defined: a 3.3 client gets the reply it expects. */
export function encodeConnectResponse(w: JuteWriter, c: ConnectResponse): void {
  w.writeInt(c.protocolVersion);
  w.writeInt(c.timeOut);
  w.writeLong(c.sessionId);
  w.writeBuffer(c.passwd);
  if (c.readOnly !== undefined) w.writeBool(c.readOnly);
}

export function decodeConnectResponse(r: JuteReader): ConnectResponse {
  return {
    protocolVersion: r.readInt(),
    timeOut: r.readInt(),
    sessionId: r.readLong(),
    passwd: r.readBuffer() ?? new Uint8Array(0),
    readOnly: r.remaining() > 0 ? r.readBool() : undefined,
  };
}

export function encodeRequestHeader(w: JuteWriter, h: RequestHeader): void {
  w.writeInt(h.xid);
  w.writeInt(h.type);
}

export function decodeRequestHeader(r: JuteReader): RequestHeader {
  return { xid: r.readInt(), type: r.readInt() };
}

export function encodeReplyHeader(w: JuteWriter, h: ReplyHeader): void {
  w.writeInt(h.xid);
  w.writeLong(h.zxid);
  w.writeInt(h.err);
}

export function decodeReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.readInt(), zxid: r.readLong(), err: r.readInt() };
}

export function encodeWatcherEvent(w: JuteWriter, e: WatcherEvent): void {
  w.writeInt(e.type);
  w.writeInt(e.state);
  w.writeString(e.path);
}

export function decodeWatcherEvent(r: JuteReader): WatcherEvent {
  return { type: r.readInt(), state: r.readInt(), path: r.readNonNullString() };
}

// ---------------------------------------------------------------- vectors and small helpers

function encodeAcls(w: JuteWriter, acl: readonly ACL[]): void {
  w.writeVector(acl, encodeACL);
}

/** A null ACL vector reads as empty: prepare then refuses it with InvalidACL, as fixupACL does. */
function decodeAcls(r: JuteReader): ACL[] {
  return r.readVector(decodeACL) ?? [];
}

function writeStringElement(w: JuteWriter, s: string): void {
  w.writeString(s);
}

function readStringElement(r: JuteReader): string {
  return r.readNonNullString();
}

function encodeStrings(w: JuteWriter, v: readonly string[]): void {
  w.writeVector(v, writeStringElement);
}

function decodeStrings(r: JuteReader): string[] {
  return r.readVector(readStringElement) ?? [];
}

/** MultiHeader {type, done, err}: one before each op or result, and {-1, true, -1} after the last. */
function encodeMultiHeader(w: JuteWriter, type: number, done: boolean, err: number): void {
  w.writeInt(type);
  w.writeBool(done);
  w.writeInt(err);
}

function checkMultiLength(n: number, r: JuteReader): void {
  if (n >= juteVectorLengthMax)
    throw new DecodeError(`multi longer than ${juteVectorLengthMax} at ${r.offset}`);
}

// ---------------------------------------------------------------- request bodies

function encodeCreateRequest(w: JuteWriter, c: CreateRequest, withTtl: boolean): void {
  w.writeString(c.path);
  w.writeBuffer(c.data);
  encodeAcls(w, c.acl);
  w.writeInt(c.flags);
  if (withTtl) w.writeLong(c.ttl);
  else if (c.ttl !== 0n) assert(false, `ttl ${c.ttl} on a create without TTL`);
}

/** CreateRequest, or CreateTTLRequest (one more long) for createTTL; ttl is 0n otherwise. */
function decodeCreateRequest(r: JuteReader, withTtl: boolean): CreateRequest {
  return {
    path: r.readNonNullString(),
    data: r.readBuffer(),
    acl: decodeAcls(r),
    flags: r.readInt(),
    ttl: withTtl ? r.readLong() : 0n,
  };
}

function encodeSetWatches(w: JuteWriter, s: SetWatchesRequest, v2: boolean): void {
  w.writeLong(s.relativeZxid);
  encodeStrings(w, s.dataWatches);
  encodeStrings(w, s.existWatches);
  encodeStrings(w, s.childWatches);
  if (v2) {
    encodeStrings(w, s.persistentWatches);
    encodeStrings(w, s.persistentRecursiveWatches);
  } else {
    assert(
      s.persistentWatches.length === 0 && s.persistentRecursiveWatches.length === 0,
      "persistent watches need setWatches2",
    );
  }
}

/** SetWatches, or SetWatches2 with the two persistent lists; v1 leaves them empty. */
function decodeSetWatches(r: JuteReader, v2: boolean): SetWatchesRequest {
  return {
    relativeZxid: r.readLong(),
    dataWatches: decodeStrings(r),
    existWatches: decodeStrings(r),
    childWatches: decodeStrings(r),
    persistentWatches: v2 ? decodeStrings(r) : [],
    persistentRecursiveWatches: v2 ? decodeStrings(r) : [],
  };
}

function encodeReconfig(w: JuteWriter, c: ReconfigRequest): void {
  w.writeString(c.joiningServers);
  w.writeString(c.leavingServers);
  w.writeString(c.newMembers);
  w.writeLong(c.curConfigId);
}

function decodeReconfig(r: JuteReader): ReconfigRequest {
  return {
    joiningServers: r.readString(),
    leavingServers: r.readString(),
    newMembers: r.readString(),
    curConfigId: r.readLong(),
  };
}

function encodeAuth(w: JuteWriter, a: AuthPacket): void {
  w.writeInt(a.type);
  w.writeString(a.scheme);
  w.writeBuffer(a.auth);
}

function decodeAuth(r: JuteReader): AuthPacket {
  return { type: r.readInt(), scheme: r.readNonNullString(), auth: r.readBuffer() };
}

/** Path plus the watch flag: ExistsRequest, GetDataRequest, GetChildrenRequest, GetChildren2Request. */
function decodePathWatch(r: JuteReader): { path: string; watch: boolean } {
  return { path: r.readNonNullString(), watch: r.readBool() };
}

function decodePathVersion(r: JuteReader): { path: string; version: number } {
  return { path: r.readNonNullString(), version: r.readInt() };
}

function decodePath(r: JuteReader): { path: string } {
  return { path: r.readNonNullString() };
}

// ---------------------------------------------------------------- multi / multiRead requests

/**
 * MultiOperationRecord.deserialize: MultiHeaders until done. multi takes only write ops, multiRead only
 * getChildren/getData (sent as GetChildrenRequest/GetDataRequest whose watch flag is always false and is dropped).
 */
function decodeMultiOps(r: JuteReader, multiOpCode: number): MultiOp[] {
  const reads = multiOpCode === OpCode.multiRead;
  const ops: MultiOp[] = [];
  for (;;) {
    const type = r.readInt();
    const done = r.readBool();
    r.readInt(); // err: -1 in requests, ignored as ZooKeeper ignores it
    if (done) return ops;
    checkMultiLength(ops.length, r);
    ops.push(reads ? decodeReadOp(type, r) : decodeWriteOp(type, r));
  }
}

function decodeWriteOp(op: number, r: JuteReader): MultiOp {
  switch (op) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type: "create", op, req: decodeCreateRequest(r, false) };
    case OpCode.createTTL:
      return { type: "create", op, req: decodeCreateRequest(r, true) };
    case OpCode.delete:
      return { type: "delete", op, req: decodePathVersion(r) };
    case OpCode.setData:
      return {
        type: "setData",
        op,
        req: { path: r.readNonNullString(), data: r.readBuffer(), version: r.readInt() },
      };
    case OpCode.check:
      return { type: "check", op, req: decodePathVersion(r) };
    default:
      throw new DecodeError(`invalid op ${op} in multi at offset ${r.offset}`);
  }
}

function decodeReadOp(op: number, r: JuteReader): MultiOp {
  if (op !== OpCode.getChildren && op !== OpCode.getData) {
    throw new DecodeError(`invalid op ${op} in multiRead at offset ${r.offset}`);
  }
  const path = r.readNonNullString();
  r.readBool(); // watch: Op.GetData/GetChildren always send false
  return op === OpCode.getData
    ? { type: "getData", op, req: { path } }
    : { type: "getChildren", op, req: { path } };
}

function encodeMultiOp(w: JuteWriter, m: MultiOp): void {
  encodeMultiHeader(w, m.op, false, -1);
  switch (m.type) {
    case "create":
      return encodeCreateRequest(w, m.req, m.op === OpCode.createTTL);
    case "delete":
    case "check":
      w.writeString(m.req.path);
      return w.writeInt(m.req.version);
    case "setData":
      w.writeString(m.req.path);
      w.writeBuffer(m.req.data);
      return w.writeInt(m.req.version);
    case "getChildren":
    case "getData":
      w.writeString(m.req.path);
      return w.writeBool(false);
    default:
      unreachable(m, "multi op");
  }
}

// ---------------------------------------------------------------- requests

/**
 * Decodes the body that follows `header` into a Request. An opcode ZooKeeper's Request.isValid refuses is an
 * UnknownOpCodeError (answer Unimplemented); a body that does not decode is a DecodeError (ZooKeeper answers
 * MarshallingError, PrepRequestProcessor.pRequest). Bytes after the body are ignored, as ZooKeeper ignores them.
 */
export function decodeRequest(header: RequestHeader, r: JuteReader): Request {
  const op = header.type;
  switch (op) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type: "create", op, req: decodeCreateRequest(r, false) };
    case OpCode.createTTL:
      return { type: "create", op, req: decodeCreateRequest(r, true) };
    case OpCode.delete:
      return { type: "delete", op, req: decodePathVersion(r) };
    case OpCode.deleteContainer:
      // DeleteContainerRequest is the path alone, written as a buffer (same bytes as a ustring).
      return { type: "delete", op, req: { path: r.readNonNullString(), version: -1 } };
    case OpCode.exists:
      return { type: "exists", op, req: decodePathWatch(r) };
    case OpCode.getData:
      return { type: "getData", op, req: decodePathWatch(r) };
    case OpCode.setData:
      return {
        type: "setData",
        op,
        req: { path: r.readNonNullString(), data: r.readBuffer(), version: r.readInt() },
      };
    case OpCode.getACL:
      return { type: "getACL", op, req: decodePath(r) };
    case OpCode.setACL:
      return {
        type: "setACL",
        op,
        req: { path: r.readNonNullString(), acl: decodeAcls(r), version: r.readInt() },
      };
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return { type: "getChildren", op, req: decodePathWatch(r) };
    case OpCode.sync:
      return { type: "sync", op, req: decodePath(r) };
    case OpCode.multi:
    case OpCode.multiRead:
      return { type: "multi", op, ops: decodeMultiOps(r, op) };
    default:
      return decodeOtherRequest(header, r);
  }
}

/** The session, watch and admin requests (split from decodeRequest to keep each switch short). */
function decodeOtherRequest(header: RequestHeader, r: JuteReader): Request {
  const op = header.type;
  switch (op) {
    case OpCode.ping:
      return { type: "ping", op };
    case OpCode.reconfig:
      return { type: "reconfig", op, req: decodeReconfig(r) };
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      return { type: "checkWatches", op, req: { path: r.readNonNullString(), type: r.readInt() } };
    case OpCode.auth:
      return { type: "auth", op, req: decodeAuth(r) };
    case OpCode.setWatches:
    case OpCode.setWatches2:
      return { type: "setWatches", op, req: decodeSetWatches(r, op === OpCode.setWatches2) };
    case OpCode.sasl:
      // GetSASLRequest {buffer token}
      return { type: "sasl", op, token: r.readBuffer() };
    case OpCode.getEphemerals:
      return { type: "getEphemerals", op, req: decodePath(r) };
    case OpCode.getAllChildrenNumber:
      return { type: "getAllChildrenNumber", op, req: decodePath(r) };
    case OpCode.addWatch:
      return { type: "addWatch", op, req: { path: r.readNonNullString(), mode: r.readInt() } };
    case OpCode.whoAmI:
      return { type: "whoAmI", op };
    case OpCode.closeSession:
      return { type: "closeSession", op };
    default:
      // notification, check (not valid alone), createSession, error and anything unknown: Request.isValid.
      throw new UnknownOpCodeError(header.xid, op);
  }
}

/** Writes the RequestHeader and the body of `req` (header.type must be req.op). */
export function encodeRequest(w: JuteWriter, header: RequestHeader, req: Request): void {
  if (header.type !== req.op) assert(false, `header type ${header.type} != request op ${req.op}`);
  encodeRequestHeader(w, header);
  encodeRequestBody(w, req);
}

export function encodeRequestBody(w: JuteWriter, req: Request): void {
  switch (req.type) {
    case "create":
      return encodeCreateRequest(w, req.req, req.op === OpCode.createTTL);
    case "delete":
      w.writeString(req.req.path);
      if (req.op !== OpCode.deleteContainer) w.writeInt(req.req.version);
      return;
    case "exists":
    case "getData":
    case "getChildren":
      w.writeString(req.req.path);
      return w.writeBool(req.req.watch);
    case "setData":
      w.writeString(req.req.path);
      w.writeBuffer(req.req.data);
      return w.writeInt(req.req.version);
    case "getACL":
    case "sync":
    case "getEphemerals":
    case "getAllChildrenNumber":
      return w.writeString(req.req.path);
    case "setACL":
      w.writeString(req.req.path);
      encodeAcls(w, req.req.acl);
      return w.writeInt(req.req.version);
    case "check":
      w.writeString(req.req.path);
      return w.writeInt(req.req.version);
    default:
      return encodeOtherRequestBody(w, req);
  }
}

type OtherRequest = Extract<
  Request,
  {
    type:
      | "ping"
      | "whoAmI"
      | "closeSession"
      | "sasl"
      | "multi"
      | "reconfig"
      | "checkWatches"
      | "auth"
      | "setWatches"
      | "addWatch";
  }
>;

function encodeOtherRequestBody(w: JuteWriter, req: OtherRequest): void {
  switch (req.type) {
    case "ping":
    case "whoAmI":
    case "closeSession":
      return;
    case "sasl":
      return w.writeBuffer(req.token);
    case "multi":
      for (const m of req.ops) encodeMultiOp(w, m);
      return encodeMultiHeader(w, -1, true, -1);
    case "reconfig":
      return encodeReconfig(w, req.req);
    case "checkWatches":
      w.writeString(req.req.path);
      return w.writeInt(req.req.type);
    case "auth":
      return encodeAuth(w, req.req);
    case "setWatches":
      return encodeSetWatches(w, req.req, req.op === OpCode.setWatches2);
    case "addWatch":
      w.writeString(req.req.path);
      return w.writeInt(req.req.mode);
    default:
      unreachable(req, "request");
  }
}

// ---------------------------------------------------------------- responses

/** Writes the body of a reply (after its ReplyHeader), as FinalRequestProcessor builds it. */
export function encodeResponse(w: JuteWriter, resp: Response): void {
  switch (resp.type) {
    case "empty":
      return;
    case "create":
    case "sync":
      return w.writeString(resp.path);
    case "create2":
      w.writeString(resp.path);
      return encodeStat(w, resp.stat);
    case "stat":
      return encodeStat(w, resp.stat);
    case "getData":
    case "getConfig":
      w.writeBuffer(resp.data);
      return encodeStat(w, resp.stat);
    case "getACL":
      encodeAcls(w, resp.acl);
      return encodeStat(w, resp.stat);
    case "getChildren":
      return encodeStrings(w, resp.children);
    case "getChildren2":
      encodeStrings(w, resp.children);
      return encodeStat(w, resp.stat);
    case "multi":
      return encodeOpResults(w, resp.results);
    case "getAllChildrenNumber":
      return w.writeInt(resp.totalNumber);
    case "getEphemerals":
      return encodeStrings(w, resp.ephemerals);
    case "whoAmI":
      return w.writeVector(resp.clientInfo, encodeClientInfo);
    case "sasl":
      return w.writeBuffer(resp.token);
    default:
      unreachable(resp, "response");
  }
}

/**
 * MultiResponse.serialize: per result a MultiHeader {type, done: false, err} then its body; a create without
 * stat is CreateResponse under opcode create, with stat Create2Response under create2 (FinalRequestProcessor
 * gives create2/createTTL/createContainer ops the stat); an error is ErrorResponse {err} under -1.
 */
function encodeOpResults(w: JuteWriter, results: readonly OpResult[]): void {
  for (const res of results) encodeOpResult(w, res);
  encodeMultiHeader(w, -1, true, -1);
}

function encodeOpResult(w: JuteWriter, res: OpResult): void {
  switch (res.type) {
    case "create":
      encodeMultiHeader(w, res.stat === null ? OpCode.create : OpCode.create2, false, 0);
      w.writeString(res.path);
      if (res.stat !== null) encodeStat(w, res.stat);
      return;
    case "delete":
      return encodeMultiHeader(w, OpCode.delete, false, 0);
    case "check":
      return encodeMultiHeader(w, OpCode.check, false, 0);
    case "setData":
      encodeMultiHeader(w, OpCode.setData, false, 0);
      return encodeStat(w, res.stat);
    case "getData":
      encodeMultiHeader(w, OpCode.getData, false, 0);
      w.writeBuffer(res.data);
      return encodeStat(w, res.stat);
    case "getChildren":
      encodeMultiHeader(w, OpCode.getChildren, false, 0);
      return encodeStrings(w, res.children);
    case "error":
      encodeMultiHeader(w, OpCode.error, false, res.err);
      return w.writeInt(res.err);
    default:
      unreachable(res, "multi result");
  }
}

/** MultiResponse.deserialize: results until a header with done. */
function decodeOpResults(r: JuteReader): OpResult[] {
  const results: OpResult[] = [];
  for (;;) {
    const type = r.readInt();
    const done = r.readBool();
    r.readInt(); // err: repeated in ErrorResponse's body
    if (done) return results;
    checkMultiLength(results.length, r);
    results.push(decodeOpResult(type, r));
  }
}

function decodeOpResult(type: number, r: JuteReader): OpResult {
  switch (type) {
    case OpCode.create:
      return { type: "create", path: r.readNonNullString(), stat: null };
    case OpCode.create2:
      return { type: "create", path: r.readNonNullString(), stat: decodeStat(r) };
    case OpCode.delete:
      return { type: "delete" };
    case OpCode.check:
      return { type: "check" };
    case OpCode.setData:
      return { type: "setData", stat: decodeStat(r) };
    case OpCode.getData:
      return { type: "getData", data: r.readBuffer(), stat: decodeStat(r) };
    case OpCode.getChildren:
      return { type: "getChildren", children: decodeStrings(r) };
    case OpCode.error:
      return { type: "error", err: r.readInt() };
    default:
      throw new DecodeError(`invalid result type ${type} in multi response at offset ${r.offset}`);
  }
}

/**
 * Decodes a reply body given the opcode of the request it answers. Call it only when the ReplyHeader's err
 * is 0 (an error reply has no body; multi always has err 0 and carries per-op errors in its results).
 */
export function decodeResponse(op: number, r: JuteReader): Response {
  switch (op) {
    case OpCode.create:
      return { type: "create", path: r.readNonNullString() };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { type: "create2", path: r.readNonNullString(), stat: decodeStat(r) };
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
      return { type: "stat", stat: decodeStat(r) };
    case OpCode.getData:
      return { type: "getData", data: r.readBuffer(), stat: decodeStat(r) };
    case OpCode.reconfig:
      return { type: "getConfig", data: r.readBuffer(), stat: decodeStat(r) };
    case OpCode.getACL:
      return { type: "getACL", acl: decodeAcls(r), stat: decodeStat(r) };
    case OpCode.getChildren:
      return { type: "getChildren", children: decodeStrings(r) };
    case OpCode.getChildren2:
      return { type: "getChildren2", children: decodeStrings(r), stat: decodeStat(r) };
    case OpCode.sync:
      return { type: "sync", path: r.readNonNullString() };
    case OpCode.multi:
    case OpCode.multiRead:
      return { type: "multi", results: decodeOpResults(r) };
    case OpCode.getAllChildrenNumber:
      return { type: "getAllChildrenNumber", totalNumber: r.readInt() };
    case OpCode.getEphemerals:
      return { type: "getEphemerals", ephemerals: decodeStrings(r) };
    case OpCode.whoAmI:
      return { type: "whoAmI", clientInfo: r.readVector(decodeClientInfo) ?? [] };
    case OpCode.sasl:
      return { type: "sasl", token: r.readBuffer() };
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.ping:
    case OpCode.check:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.auth:
    case OpCode.setWatches:
    case OpCode.setWatches2:
    case OpCode.addWatch:
    case OpCode.closeSession:
      return { type: "empty" };
    default:
      throw new UnknownOpCodeError(0, op);
  }
}
