// Txn codec: ZooKeeper's own txn records, read from a real ZooKeeper 3.8 log, and round-trips of every variant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/base/errors.js";
import { OpCode } from "../../src/protocol/opcodes.js";
import {
  containerEphemeralOwner,
  decodeTxn,
  encodeTxn,
  ephemeralOwnerFor,
} from "../../src/protocol/txn-codec.js";
import type { Txn, TxnBody } from "../../src/protocol/types.js";
import { openAcl } from "../fuzz/request-samples.js";

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

// Records from the txn log (version-2/log.1) of Apache ZooKeeper 3.8.0 after kazoo connected, created /corral
// with "hi", ran a multi {create /corral/a, delete /missing} that failed, and closed (captured 2025-11-26).
// Each ends with the TxnDigest {int version; long treeDigest} that ZooKeeper 3.6+ appends.
const zkLog = {
  createSession:
    "0100000b24270000 00000000 0000000000000001 000001a216ce7b95 fffffff6 00002710 00000002 0000000051c6d660",
  create:
    "0100000b24270000 00000001 0000000000000002 000001a216ce7cd4 00000001 00000007 2f636f7272616c 00000002 6869" +
    " 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00 00000001 00000002 0000000098e67e2f",
  failedMulti:
    "0100000b24270000 00000003 0000000000000003 000001a216ce7f54 0000000e 00000002 00000001 00000031" +
    " 00000009 2f636f7272616c2f61 00000000 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00 00000001" +
    " ffffffff 00000004 ffffff9b 00000002 0000000098e67e2f",
  error: "0100000b24270000 00000004 0000000000000004 000001a216ce808c ffffffff fffffff8",
  closeSession:
    "0100000b24270000 00000000 0000000000000005 000001a216ceb20e fffffff5 00000000 00000002 0000000098e67e2f",
};
const session = 0x0100000b24270000n;

test("ZooKeeper's own log records decode: createSession, create, a failed multi, error and closeSession", () => {
  assert.deepEqual(decodeTxn(hex(zkLog.createSession)), {
    header: { clientId: session, cxid: 0, zxid: 1n, time: 0x1a216ce7b95n, type: OpCode.createSession },
    body: { type: "createSession", timeOut: 10000, passwd: new Uint8Array(0) },
  });
  const create = decodeTxn(hex(zkLog.create));
  assert.deepEqual(create.body, {
    type: "create",
    path: "/corral",
    data: new Uint8Array([0x68, 0x69]),
    acl: openAcl,
    ephemeralOwner: 0n,
    parentCVersion: 1,
    kind: "persistent",
    ttl: 0n,
  });
  const multi = decodeTxn(hex(zkLog.failedMulti));
  assert.equal(multi.body.type, "multi");
  assert.ok(multi.body.type === "multi");
  assert.equal(multi.body.txns.length, 2);
  assert.equal(multi.body.txns[0]!.type, "create");
  assert.deepEqual(multi.body.txns[1], { type: "error", err: -101 });
  assert.deepEqual(decodeTxn(hex(zkLog.error)).body, { type: "error", err: -8 });
  assert.deepEqual(decodeTxn(hex(zkLog.closeSession)).body, { type: "closeSession", paths2Delete: [] });
});

test("our encoding of a ZooKeeper log record is ZooKeeper's bytes without the trailing digest", () => {
  for (const h of Object.values(zkLog)) {
    const bytes = hex(h);
    const ours = encodeTxn(decodeTxn(bytes));
    const expected = h === zkLog.error ? bytes : bytes.subarray(0, bytes.length - 12);
    assert.equal(toHex(ours), toHex(expected));
  }
});

const header = (type: number) => ({
  clientId: session,
  cxid: 7,
  zxid: 0x300000009n,
  time: 1_700_000_000_000n,
  type,
});
const data = new Uint8Array([1, 2, 3]);

function create(kind: "persistent" | "ephemeral" | "container" | "ttl", ttl = 0n): TxnBody {
  return {
    type: "create",
    path: "/n/😀",
    data,
    acl: openAcl,
    ephemeralOwner: ephemeralOwnerFor(kind, session, ttl),
    parentCVersion: 4,
    kind,
    ttl,
  };
}

const txns: Txn[] = [
  { header: header(OpCode.create), body: create("persistent") },
  { header: header(OpCode.create), body: create("ephemeral") },
  { header: header(OpCode.create2), body: create("ephemeral") },
  { header: header(OpCode.createContainer), body: create("container") },
  { header: header(OpCode.createTTL), body: create("ttl", 3_600_000n) },
  { header: header(OpCode.delete), body: { type: "delete", path: "/a" } },
  { header: header(OpCode.deleteContainer), body: { type: "delete", path: "/c" } },
  {
    header: header(OpCode.setData),
    body: { type: "setData", path: "/a", data: new Uint8Array(0), version: 3 },
  },
  { header: header(OpCode.setACL), body: { type: "setACL", path: "/a", acl: [], version: 1 } },
  { header: header(OpCode.check), body: { type: "check", path: "/a", version: 2 } },
  {
    header: header(OpCode.createSession),
    body: { type: "createSession", timeOut: 30000, passwd: new Uint8Array(16).fill(7) },
  },
  { header: header(OpCode.closeSession), body: { type: "closeSession", paths2Delete: ["/e1", "/e2"] } },
  { header: header(OpCode.error), body: { type: "error", err: -110 } },
  {
    header: header(OpCode.multi),
    body: {
      type: "multi",
      txns: [
        create("ephemeral"),
        create("container"),
        create("ttl", 1n),
        { type: "delete", path: "/a" },
        { type: "setData", path: "/b", data, version: -1 },
        { type: "check", path: "/c", version: 0 },
        { type: "error", err: -2 },
      ],
    },
  },
  { header: header(OpCode.multi), body: { type: "multi", txns: [] } },
];

test("every txn variant round-trips through encodeTxn and decodeTxn", () => {
  for (const txn of txns) assert.deepEqual(decodeTxn(encodeTxn(txn)), txn, `type ${txn.header.type}`);
});

test("node kinds map to ZooKeeper's txn types and ephemeral owners", () => {
  // create with the ephemeral flag: CreateTxn's boolean after the ACL.
  const eph = encodeTxn({ header: header(OpCode.create), body: create("ephemeral") });
  assert.equal(eph[eph.length - 5], 1);
  assert.equal(ephemeralOwnerFor("container", session, 0n), containerEphemeralOwner);
  assert.equal(containerEphemeralOwner, -0x8000000000000000n);
  // EphemeralType.TTL.toEphemeralOwner(1000) = 0xff000000000003e8 as a signed long.
  assert.equal(ephemeralOwnerFor("ttl", session, 1000n), -0x00fffffffffffc18n);
  // Inside a multi the sub-txn types are create, createContainer and createTTL.
  const multi = encodeTxn(txns[13]!);
  const view = new DataView(multi.buffer, multi.byteOffset);
  assert.equal(view.getInt32(32 + 4), OpCode.create);
});

test("a body that does not fit its txn type is a programmer error on encode", () => {
  assert.throws(() => encodeTxn({ header: header(OpCode.setData), body: { type: "delete", path: "/a" } }));
  assert.throws(() => encodeTxn({ header: header(OpCode.create), body: create("container") }));
  const wrongOwner = { ...create("ephemeral"), ephemeralOwner: 5n } as TxnBody;
  assert.throws(() => encodeTxn({ header: header(OpCode.create), body: wrongOwner }));
  const nested: TxnBody = {
    type: "multi",
    txns: [{ type: "createSession", timeOut: 1, passwd: new Uint8Array(16) }],
  };
  assert.throws(() => encodeTxn({ header: header(OpCode.multi), body: nested }));
});

test("truncated, trailing, unknown or nested-invalid txn bytes are DecodeErrors", () => {
  const good = encodeTxn(txns[0]!);
  for (let n = 0; n < good.length; n++)
    assert.throws(() => decodeTxn(good.subarray(0, n)), DecodeError, `at ${n}`);
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good);
  assert.throws(() => decodeTxn(trailing), DecodeError);
  const unknown = encodeTxn(txns[10]!).slice();
  new DataView(unknown.buffer).setInt32(28, 99);
  assert.throws(() => decodeTxn(unknown), DecodeError);
  // A multi holding a createSession txn.
  const bad = hex(
    "0000000000000001 00000000 0000000000000001 0000000000000000 0000000e 00000001 fffffff6 00000004 00002710",
  );
  assert.throws(() => decodeTxn(bad), DecodeError);
  // A createTTL with ttl 0.
  const ttl0 = encodeTxn(txns[4]!).slice();
  new DataView(ttl0.buffer).setBigInt64(ttl0.length - 8, 0n);
  assert.throws(() => decodeTxn(ttl0), DecodeError);
});

test("a closeSession txn without a body (ZooKeeper before 3.5) decodes with no paths", () => {
  const t = decodeTxn(hex("0100000b24270000 00000000 0000000000000005 000001a216ceb20e fffffff5"));
  assert.deepEqual(t.body, { type: "closeSession", paths2Delete: [] });
});
