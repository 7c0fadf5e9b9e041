// Txn <-> bytes in ZooKeeper's own txn records (TxnHeader then CreateTxn, DeleteTxn, ... MultiTxn), so a Corral
// log reads like ZooKeeper's. Pure: no I/O, no clock, no randomness.
import { assert, unreachable } from "../base/assert.js";
import { DecodeError } from "../base/errors.js";
import { JuteReader } from "./jute-reader.js";
import { JuteWriter } from "./jute-writer.js";
import { OpCode } from "./opcodes.js";
import { decodeACL, encodeACL } from "./records.js";
import type { ACL, NodeKind, Txn, TxnBody, TxnHeader } from "./types.js";

import { ephemeralOwnerFor, ttlMax } from "./ephemeral-type.js";

type CreateBody = Extract<TxnBody, { type: "create" }>;

export { containerEphemeralOwner, ttlMax, ephemeralOwnerFor } from "./ephemeral-type.js";

/** The txn type ZooKeeper logs a create under: create (ephemeral flag), createContainer or createTTL. */
export function createTxnType(kind: NodeKind): number {
  if (kind === "container") return OpCode.createContainer;
  if (kind === "ttl") return OpCode.createTTL;
  return OpCode.create;
}

// ---------------------------------------------------------------- encode

/**
 * TxnHeader then the body's record. header.type must be one ZooKeeper logs that body under (a create may be
 * create or create2; a delete, delete or deleteContainer; a setData, setData or reconfig). Inside a MultiTxn
 * each Txn{type, data} uses the canonical type: createTxnType(kind), delete, setData, check or error.
 */
export function encodeTxn(txn: Txn): Uint8Array {
  const w = new JuteWriter(128);
  encodeTxnHeader(w, txn.header);
  encodeTxnBody(w, txn.header.type, txn.body, txn.header.clientId);
  return w.finish();
}

function encodeTxnHeader(w: JuteWriter, h: TxnHeader): void {
  w.writeLong(h.clientId);
  w.writeInt(h.cxid);
  w.writeLong(h.zxid);
  w.writeLong(h.time);
  w.writeInt(h.type);
}

function encodeTxnBody(w: JuteWriter, type: number, body: TxnBody, clientId: bigint): void {
  if (bodyTypeOf(type) !== body.type) assert(false, `txn type ${type} cannot carry a ${body.type} body`);
  switch (body.type) {
    case "create":
      return encodeCreateTxn(w, type, body, clientId);
    case "delete":
      return w.writeString(body.path);
    case "setData":
      w.writeString(body.path);
      w.writeBuffer(body.data);
      return w.writeInt(body.version);
    case "setACL":
      w.writeString(body.path);
      w.writeVector(body.acl, encodeACL);
      return w.writeInt(body.version);
    case "check":
      w.writeString(body.path);
      return w.writeInt(body.version);
    case "createSession":
      // ZooKeeper's CreateSessionTxn is {timeOut}; the password follows so that every server can check it
      // (none for a record read from ZooKeeper's own log, which keeps ZooKeeper's bytes).
      w.writeInt(body.timeOut);
      if (body.passwd.length > 0) w.writeBuffer(body.passwd);
      return;
    case "closeSession":
      return w.writeVector(body.paths2Delete, writeStringElement);
    case "error":
      return w.writeInt(body.err);
    case "multi":
      return encodeMultiTxn(w, body.txns, clientId);
    default:
      unreachable(body, "txn body");
  }
}

/** CreateTxn {path, data, acl, ephemeral, parentCVersion}; CreateContainerTxn drops ephemeral; CreateTTLTxn adds ttl. */
function encodeCreateTxn(w: JuteWriter, type: number, c: CreateBody, clientId: bigint): void {
  const expectedType = createTxnType(c.kind);
  if (!(type === expectedType || (expectedType === OpCode.create && type === OpCode.create2))) {
    assert(false, `a ${c.kind} create logged as txn type ${type}`);
  }
  // Paired with decodeCreateTxn: the log keeps only what ZooKeeper's does, so the owner must be derivable.
  if (c.ephemeralOwner !== ephemeralOwnerFor(c.kind, clientId, c.ttl)) {
    assert(
      false,
      `ephemeralOwner ${c.ephemeralOwner} does not follow from a ${c.kind} create by ${clientId}`,
    );
  }
  if (!(c.kind === "ttl" ? c.ttl > 0n && c.ttl <= ttlMax : c.ttl === 0n)) {
    assert(false, `ttl ${c.ttl} for a ${c.kind} node`);
  }
  w.writeString(c.path);
  w.writeBuffer(c.data);
  w.writeVector(c.acl, encodeACL);
  if (type === OpCode.create || type === OpCode.create2) w.writeBool(c.kind === "ephemeral");
  w.writeInt(c.parentCVersion);
  if (type === OpCode.createTTL) w.writeLong(c.ttl);
}

/** MultiTxn {vector<Txn{int type; buffer data}>}: each data length patched in place, no intermediate buffer. */
function encodeMultiTxn(w: JuteWriter, txns: readonly TxnBody[], clientId: bigint): void {
  w.writeInt(txns.length);
  for (const sub of txns) {
    const type = subTxnType(sub);
    w.writeInt(type);
    const at = w.reserveInt();
    encodeTxnBody(w, type, sub, clientId);
    w.patchInt(at, w.length - at - 4);
  }
}

function subTxnType(body: TxnBody): number {
  switch (body.type) {
    case "create":
      return createTxnType(body.kind);
    case "delete":
      return OpCode.delete;
    case "setData":
      return OpCode.setData;
    case "check":
      return OpCode.check;
    case "error":
      return OpCode.error;
    default:
      return assertNotInMulti(body.type);
  }
}

function assertNotInMulti(type: string): never {
  assert(false, `a ${type} txn cannot be inside a multi`);
}

function writeStringElement(w: JuteWriter, s: string): void {
  w.writeString(s);
}

// ---------------------------------------------------------------- decode

/** The body type each txn type carries (DataTree.processTxn's switch); undefined for types never logged. */
function bodyTypeOf(type: number): TxnBody["type"] | undefined {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return "create";
    case OpCode.delete:
    case OpCode.deleteContainer:
      return "delete";
    case OpCode.setData:
    case OpCode.reconfig:
      return "setData";
    case OpCode.setACL:
      return "setACL";
    case OpCode.check:
      return "check";
    case OpCode.createSession:
      return "createSession";
    case OpCode.closeSession:
      return "closeSession";
    case OpCode.error:
      return "error";
    case OpCode.multi:
      return "multi";
    default:
      return undefined;
  }
}

const txnDigestBytes = 12;

/**
 * The inverse of encodeTxn; also reads ZooKeeper's own log records (a trailing TxnDigest is skipped).
 * Any other trailing byte is a DecodeError.
 */
export function decodeTxn(bytes: Uint8Array): Txn {
  const r = new JuteReader(bytes);
  const header: TxnHeader = {
    clientId: r.readLong(),
    cxid: r.readInt(),
    zxid: r.readLong(),
    time: r.readLong(),
    type: r.readInt(),
  };
  const body = decodeTxnBody(r, header.type, header.clientId, true);
  // ZooKeeper 3.6+ appends a TxnDigest {int version; long treeDigest} (SerializeUtils.deserializeTxn): skipped.
  if (r.remaining() === txnDigestBytes) {
    r.readInt();
    r.readLong();
  }
  r.expectEnd("txn");
  return { header, body };
}

function decodeTxnBody(r: JuteReader, type: number, clientId: bigint, topLevel: boolean): TxnBody {
  switch (bodyTypeOf(type)) {
    case "create":
      return decodeCreateTxn(r, type, clientId);
    case "delete":
      return { type: "delete", path: r.readNonNullString() };
    case "setData":
      return { type: "setData", path: r.readNonNullString(), data: readData(r), version: r.readInt() };
    case "check":
      return { type: "check", path: r.readNonNullString(), version: r.readInt() };
    case "error":
      return { type: "error", err: r.readInt() };
    default:
      if (!topLevel) throw new DecodeError(`txn type ${type} inside a multi at offset ${r.offset}`);
      return decodeSessionOrMultiTxn(r, type, clientId);
  }
}

function decodeSessionOrMultiTxn(r: JuteReader, type: number, clientId: bigint): TxnBody {
  switch (bodyTypeOf(type)) {
    case "setACL":
      return { type: "setACL", path: r.readNonNullString(), acl: readAcls(r), version: r.readInt() };
    case "createSession":
      return {
        type: "createSession",
        timeOut: r.readInt(),
        // ZooKeeper's own records end here (or with their 12-byte digest): no password.
        passwd:
          r.remaining() === 0 || r.remaining() === txnDigestBytes
            ? new Uint8Array(0)
            : (r.readBuffer() ?? new Uint8Array(0)),
      };
    case "closeSession":
      // Logs before ZooKeeper 3.5 have no CloseSessionTxn: an empty body means no paths listed.
      return { type: "closeSession", paths2Delete: r.remaining() === 0 ? [] : readStrings(r) };
    case "multi":
      return { type: "multi", txns: decodeMultiTxn(r, clientId) };
    default:
      throw new DecodeError(`unknown txn type ${type}`);
  }
}

function decodeCreateTxn(r: JuteReader, type: number, clientId: bigint): TxnBody {
  const path = r.readNonNullString();
  const data = readData(r);
  const acl = readAcls(r);
  let kind: NodeKind =
    type === OpCode.createContainer ? "container" : type === OpCode.createTTL ? "ttl" : "persistent";
  if (type === OpCode.create || type === OpCode.create2) kind = r.readBool() ? "ephemeral" : "persistent";
  const parentCVersion = r.readInt();
  const ttl = kind === "ttl" ? r.readLong() : 0n;
  if (kind === "ttl" && (ttl <= 0n || ttl > ttlMax)) throw new DecodeError(`createTTL txn with ttl ${ttl}`);
  const ephemeralOwner = ephemeralOwnerFor(kind, clientId, ttl);
  return { type: "create", path, data, acl, ephemeralOwner, parentCVersion, kind, ttl };
}

function decodeMultiTxn(r: JuteReader, clientId: bigint): TxnBody[] {
  const txns =
    r.readVector((vr) => {
      const type = vr.readInt();
      const data = vr.readBufferView();
      if (data === null) throw new DecodeError(`null Txn.data in multi at offset ${vr.offset}`);
      const sub = new JuteReader(data);
      const body = decodeTxnBody(sub, type, clientId, false);
      sub.expectEnd("sub-txn");
      return body;
    }) ?? [];
  return txns;
}

/** A null data buffer (ZooKeeper logs one for a create with null data) stays null, as ZooKeeper returns it. */
function readData(r: JuteReader): Uint8Array | null {
  return r.readBuffer();
}

function readAcls(r: JuteReader): ACL[] {
  return r.readVector(decodeACL) ?? [];
}

function readStrings(r: JuteReader): string[] {
  return r.readVector((vr) => vr.readNonNullString()) ?? [];
}
