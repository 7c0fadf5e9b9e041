// The sasl ACL scheme as ZooKeeper's SASLAuthenticationProvider checks it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkACL, clientInfos, fixupACL, isValidId } from "../../src/tree/acl.js";
import { Code } from "../../src/protocol/error-codes.js";
import { Perms } from "../../src/protocol/opcodes.js";
import type { ACL, Id } from "../../src/protocol/types.js";

const bobOnly: ACL[] = [{ perms: Perms.ALL, id: { scheme: "sasl", id: "bob" } }];
const ip: Id = { scheme: "ip", id: "127.0.0.1" };

test("a sasl ACL admits the session authenticated as that user, and no one else", () => {
  assert.equal(checkACL(bobOnly, Perms.READ, [ip, { scheme: "sasl", id: "bob" }]), Code.ok);
  assert.equal(checkACL(bobOnly, Perms.READ, [ip, { scheme: "sasl", id: "alice" }]), Code.noAuth);
  assert.equal(checkACL(bobOnly, Perms.READ, [ip]), Code.noAuth);
  // A digest id of the same name is another scheme.
  assert.equal(checkACL(bobOnly, Perms.READ, [{ scheme: "digest", id: "bob" }]), Code.noAuth);
  // Only the perms granted.
  const readOnly: ACL[] = [{ perms: Perms.READ, id: { scheme: "sasl", id: "bob" } }];
  assert.equal(checkACL(readOnly, Perms.WRITE, [{ scheme: "sasl", id: "bob" }]), Code.noAuth);
});

test("the sasl user named super passes every sasl entry (SASLAuthenticationProvider.matches)", () => {
  assert.equal(checkACL(bobOnly, Perms.DELETE, [{ scheme: "sasl", id: "super" }]), Code.ok);
});

test("auth expands to the session's sasl id, and sasl ids are checked as Kerberos names", () => {
  const { err, acl } = fixupACL(
    [{ perms: Perms.ALL, id: { scheme: "auth", id: "" } }],
    [ip, { scheme: "sasl", id: "bob" }],
  );
  assert.equal(err, Code.ok);
  assert.deepEqual(acl, bobOnly);
  assert.equal(isValidId("sasl", "bob"), true);
  assert.equal(isValidId("sasl", "zookeeper/host@EXAMPLE.COM"), true);
  assert.equal(isValidId("sasl", "bob@EXAMPLE.COM"), true);
  assert.equal(isValidId("sasl", "a@b@c"), false);
  assert.equal(
    fixupACL([{ perms: Perms.ALL, id: { scheme: "sasl", id: "a@b@c" } }], []).err,
    Code.invalidACL,
  );
});

test("whoAmI shows a sasl id's user name", () => {
  assert.deepEqual(clientInfos([{ scheme: "sasl", id: "bob" }]), [{ authScheme: "sasl", user: "bob" }]);
});
