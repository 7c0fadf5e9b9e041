// Audit lines: ZooKeeper's field names, order, values and results (AuditEvent, AuditHelper, AuthUtil, ZKUtil).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  aclToString,
  auditEventsForWrite,
  auditUser,
  createModeName,
  formatAuditEvent,
  formatAuditLine,
  sessionHex,
  type AuditClient,
} from "../../src/server/audit-log.js";
import { OpCode, Perms } from "../../src/protocol/opcodes.js";
import { Code } from "../../src/protocol/error-codes.js";
import type { ACL, Request } from "../../src/protocol/types.js";

const client: AuditClient = {
  sessionId: 0x10000a2b3c0000n,
  authInfo: [
    { scheme: "ip", id: "127.0.0.1" },
    { scheme: "digest", id: "alice:XyZ=" },
    { scheme: "super", id: "" },
  ],
  ip: "127.0.0.1",
};
const anyone: ACL[] = [{ perms: Perms.ALL, id: { scheme: "world", id: "anyone" } }];

function create(path: string, flags: number, op: number = OpCode.create): Request {
  return { type: "create", op, req: { path, data: null, acl: anyone, flags, ttl: 0n } };
}

test("an event is key=value pairs joined by tabs in ZooKeeper's order, result last, absent fields left out", () => {
  const line = formatAuditEvent({
    operation: "create",
    znode: "/a",
    session: "0x1",
    znode_type: "persistent",
    ip: "10.0.0.1",
    user: "10.0.0.1",
    result: "success",
  });
  assert.equal(
    line,
    "session=0x1\tuser=10.0.0.1\tip=10.0.0.1\toperation=create\tznode=/a\tznode_type=persistent\tresult=success",
  );
  assert.equal(
    formatAuditEvent({ user: "root", operation: "serverStop", result: "invoked" }),
    "user=root\toperation=serverStop\tresult=invoked",
  );
});

test("a line has the appender's ISO8601 time, ERROR for failures and INFO otherwise", () => {
  const at = new Date(2024, 0, 2, 3, 4, 5, 67);
  const ok = formatAuditLine({ operation: "serverStart", user: "u", result: "success" }, at);
  assert.equal(
    ok,
    "2024-01-02 03:04:05,067 INFO audit.Slf4jAuditLogger: user=u\toperation=serverStart\tresult=success\n",
  );
  const bad = formatAuditLine({ operation: "delete", znode: "/x", result: "failure" }, at);
  assert.match(
    bad,
    /^2024-01-02 03:04:05,067 ERROR audit\.Slf4jAuditLogger: operation=delete\tznode=\/x\tresult=failure\n$/,
  );
});

test("session ids are 0x-prefixed unsigned hex, negative ids included", () => {
  assert.equal(sessionHex(0x10000a2b3c0000n), "0x10000a2b3c0000");
  assert.equal(sessionHex(-1n), "0xffffffffffffffff");
});

test("the user is each id's user name, comma-separated: ip as is, digest before the colon, super left out", () => {
  assert.equal(auditUser(client.authInfo), "127.0.0.1,alice");
  assert.equal(auditUser([{ scheme: "super", id: "" }]), undefined);
  assert.equal(auditUser([]), undefined);
});

test("ACLs print as scheme:id:perms in cdrwa order with no separator between entries, as ZKUtil.aclToString", () => {
  assert.equal(aclToString(anyone), "world:anyone:cdrwa");
  assert.equal(
    aclToString([
      { perms: Perms.READ | Perms.ADMIN, id: { scheme: "digest", id: "bob:h=" } },
      { perms: Perms.CREATE | Perms.WRITE, id: { scheme: "ip", id: "10.0.0.0/8" } },
    ]),
    "digest:bob:h=:raip:10.0.0.0/8:cw",
  );
});

test("create modes are CreateMode names in lower case", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(createModeName), [
    "persistent",
    "ephemeral",
    "persistent_sequential",
    "ephemeral_sequential",
    "container",
    "persistent_with_ttl",
    "persistent_sequential_with_ttl",
    undefined,
  ]);
});

test("a successful create names the created path (with its sequence suffix) and its mode", () => {
  const [e, ...rest] = auditEventsForWrite(
    client,
    OpCode.create,
    create("/q/n-", 3),
    Code.ok,
    "/q/n-0000000007",
    undefined,
  );
  assert.equal(rest.length, 0);
  assert.equal(
    formatAuditEvent(e!),
    "session=0x10000a2b3c0000\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=create\tznode=/q/n-0000000007\tznode_type=ephemeral_sequential\tresult=success",
  );
});

test("a failed create names the requested path and fails", () => {
  const [e] = auditEventsForWrite(
    client,
    OpCode.create,
    create("/exists", 0),
    Code.nodeExists,
    undefined,
    undefined,
  );
  assert.equal(e!.znode, "/exists");
  assert.equal(e!.znode_type, "persistent");
  assert.equal(e!.result, "failure");
});

test("delete, setData and setAcl are audited; setAcl carries the new ACL", () => {
  const del: Request = { type: "delete", op: OpCode.delete, req: { path: "/d", version: -1 } };
  const set: Request = { type: "setData", op: OpCode.setData, req: { path: "/s", data: null, version: 3 } };
  const acl: Request = { type: "setACL", op: OpCode.setACL, req: { path: "/a", acl: anyone, version: -1 } };
  const [d] = auditEventsForWrite(client, OpCode.delete, del, Code.noNode, undefined, undefined);
  const [s] = auditEventsForWrite(client, OpCode.setData, set, Code.badVersion, undefined, undefined);
  const [a] = auditEventsForWrite(client, OpCode.setACL, acl, Code.ok, "/a", undefined);
  assert.deepEqual(
    [d, s, a].map((e) => [e!.operation, e!.znode, e!.acl, e!.result]),
    [
      ["delete", "/d", undefined, "failure"],
      ["setData", "/s", undefined, "failure"],
      ["setAcl", "/a", "world:anyone:cdrwa", "success"],
    ],
  );
});

test("reads, sync and session ops are not audited", () => {
  const get: Request = { type: "getData", op: OpCode.getData, req: { path: "/x", watch: false } };
  assert.deepEqual(auditEventsForWrite(client, OpCode.getData, get, Code.ok, "/x", undefined), []);
  assert.deepEqual(auditEventsForWrite(client, OpCode.closeSession, null, Code.ok, undefined, undefined), []);
});

test("a successful multi gives a line per create, delete and setData (check gives none)", () => {
  const multi: Request = {
    type: "multi",
    op: OpCode.multi,
    ops: [
      { type: "create", op: OpCode.create, req: { path: "/m", data: null, acl: anyone, flags: 0, ttl: 0n } },
      { type: "check", op: OpCode.check, req: { path: "/m", version: 0 } },
      { type: "setData", op: OpCode.setData, req: { path: "/m", data: null, version: -1 } },
      { type: "delete", op: OpCode.delete, req: { path: "/old", version: -1 } },
    ],
  };
  const events = auditEventsForWrite(client, OpCode.multi, multi, Code.ok, undefined, [
    { type: "create", path: "/m", stat: null },
    { type: "check" },
    { type: "setData", stat: {} as never },
    { type: "delete" },
  ]);
  assert.deepEqual(
    events.map((e) => [e.operation, e.znode, e.znode_type, e.result]),
    [
      ["create", "/m", "persistent", "success"],
      ["setData", "/m", undefined, "success"],
      ["delete", "/old", undefined, "success"],
    ],
  );
});

test("a failed multi gives one multiOperation failure line without a znode", () => {
  const multi: Request = {
    type: "multi",
    op: OpCode.multi,
    ops: [{ type: "delete", op: OpCode.delete, req: { path: "/none", version: -1 } }],
  };
  const events = auditEventsForWrite(client, OpCode.multi, multi, Code.ok, undefined, [
    { type: "error", err: Code.noNode },
  ]);
  assert.equal(events.length, 1);
  assert.equal(
    formatAuditEvent(events[0]!),
    "session=0x10000a2b3c0000\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=multiOperation\tresult=failure",
  );
  // multiRead is a read: not audited.
  assert.deepEqual(auditEventsForWrite(client, OpCode.multiRead, multi, Code.ok, undefined, []), []);
});
