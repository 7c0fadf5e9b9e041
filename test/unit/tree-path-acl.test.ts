// Path validation (ZooKeeper's PathUtilsTest cases), sequence formatting, and the ACL check/fixup rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/protocol/error-codes.js";
import { Perms } from "../../src/protocol/opcodes.js";
import type { ACL, Id } from "../../src/protocol/types.js";
import { formatSequence, parentOf, childNameOf, pathProblem, validatePath } from "../../src/tree/path.js";
import {
  AclCache,
  checkACL,
  clientInfos,
  fixupACL,
  ipMatches,
  isValidId,
  maskDigests,
} from "../../src/tree/acl.js";

test("paths ZooKeeper's PathUtilsTest accepts are valid", () => {
  for (const p of [
    "/",
    "/this is / a valid/path",
    "/name/with.period.",
    "/test\u0020",
    "/test\u007e",
    "/test\uffef",
    "/a/..b",
    "/a/.b/c",
  ]) {
    assert.equal(validatePath(p), Code.ok, p);
  }
});

test("paths ZooKeeper's PathUtilsTest rejects are BadArguments", () => {
  const bad = [
    "",
    "not/valid",
    "/ends/with/slash/",
    "/test\u0000",
    "/double//slash",
    "/single/./period",
    "/double/../period",
    "/test\u0001",
    "/test\u001F",
    "/test\u007f",
    "/test\u009f",
    "/test\ud800",
    "/test\uf8ff",
    "/test\ufff0",
    "/.",
    "/..",
    "/a/.",
  ];
  for (const p of bad) assert.equal(validatePath(p), Code.badArguments, JSON.stringify(p));
});

test("an emoji (a surrogate pair) in a path is an invalid character, as in Java", () => {
  assert.equal(validatePath("/emoji-\u{1F600}"), Code.badArguments);
  assert.match(pathProblem("/x\u{1F600}")!, /invalid character @2/);
});

test("the rejection reasons use PathUtils' messages", () => {
  assert.equal(pathProblem("/a//b"), 'Invalid path string "/a//b" caused by empty node name specified @3');
  assert.equal(pathProblem("/a/"), "Path must not end with / character");
  assert.equal(pathProblem("a"), "Path must start with / character");
  assert.equal(pathProblem(""), "Path length must be > 0");
  assert.equal(pathProblem("/a/./b"), 'Invalid path string "/a/./b" caused by relative paths not allowed @3');
});

test("a sequential path is validated with a digit appended, so a trailing slash is allowed", () => {
  assert.equal(validatePath("/queue/", true), Code.ok);
  assert.equal(validatePath("/queue/", false), Code.badArguments);
});

test("sequence suffixes are %010d, negative numbers keep the sign inside the width", () => {
  assert.equal(formatSequence(0), "0000000000");
  assert.equal(formatSequence(42), "0000000042");
  assert.equal(formatSequence(2147483647), "2147483647");
  assert.equal(formatSequence(-5), "-000000005");
  assert.equal(formatSequence(-2147483648), "-2147483648");
});

test("parent and child names split at the last slash", () => {
  assert.equal(parentOf("/a/b"), "/a");
  assert.equal(parentOf("/a"), "/");
  assert.equal(childNameOf("/a/b"), "b");
});

const world = (perms: number): ACL => ({ perms, id: { scheme: "world", id: "anyone" } });
const digest = (perms: number, id: string): ACL => ({ perms, id: { scheme: "digest", id } });
const ip = (perms: number, id: string): ACL => ({ perms, id: { scheme: "ip", id } });
const alice: Id = { scheme: "digest", id: "alice:hashA" };

test("world:anyone grants exactly the perms it carries", () => {
  assert.equal(checkACL([world(Perms.READ)], Perms.READ, []), Code.ok);
  assert.equal(checkACL([world(Perms.READ)], Perms.WRITE, []), Code.noAuth);
});

test("an empty ACL list lets everyone through, as ZooKeeper's checkACL", () => {
  assert.equal(checkACL([], Perms.ADMIN, []), Code.ok);
});

test("a digest entry matches only a session holding the identical digest id", () => {
  const acl = [digest(Perms.ALL, "alice:hashA")];
  assert.equal(checkACL(acl, Perms.WRITE, [alice]), Code.ok);
  assert.equal(checkACL(acl, Perms.WRITE, [{ scheme: "digest", id: "alice:other" }]), Code.noAuth);
  assert.equal(checkACL(acl, Perms.WRITE, [{ scheme: "ip", id: "alice:hashA" }]), Code.noAuth);
});

test("ip entries match IPv4 addresses inside their CIDR", () => {
  assert.ok(ipMatches("10.1.2.3", "10.0.0.0/8"));
  assert.ok(!ipMatches("11.1.2.3", "10.0.0.0/8"));
  assert.ok(ipMatches("192.168.1.77", "192.168.1.64/26"));
  assert.ok(!ipMatches("192.168.1.128", "192.168.1.64/26"));
  assert.ok(ipMatches("127.0.0.1", "127.0.0.1"));
  assert.ok(ipMatches("1.2.3.4", "0.0.0.0/0"));
  assert.ok(!ipMatches("::1", "127.0.0.1"));
  assert.equal(
    checkACL([ip(Perms.READ, "10.0.0.0/8")], Perms.READ, [{ scheme: "ip", id: "10.9.9.9" }]),
    Code.ok,
  );
});

test("the super user passes every check, by the super id or by the configured super digest", () => {
  const acl = [digest(Perms.READ, "bob:x")];
  assert.equal(checkACL(acl, Perms.ADMIN, [{ scheme: "super", id: "" }]), Code.ok);
  assert.equal(checkACL(acl, Perms.ADMIN, [{ scheme: "digest", id: "super:S" }], "super:S"), Code.ok);
  assert.equal(checkACL(acl, Perms.ADMIN, [{ scheme: "digest", id: "super:S" }]), Code.noAuth);
});

test("fixupACL refuses empty lists, unknown schemes and malformed ids", () => {
  assert.equal(fixupACL([], []).err, Code.invalidACL);
  assert.equal(fixupACL([{ perms: 31, id: { scheme: "world", id: "someone" } }], []).err, Code.invalidACL);
  assert.equal(fixupACL([{ perms: 31, id: { scheme: "nosuch", id: "CN=a" } }], []).err, Code.invalidACL);
  assert.equal(fixupACL([{ perms: 31, id: { scheme: "x509", id: "not a name" } }], []).err, Code.invalidACL);
  assert.equal(fixupACL([digest(31, "no-colon")], []).err, Code.invalidACL);
  assert.equal(fixupACL([ip(31, "10.0.0.0/33")], []).err, Code.invalidACL);
  assert.equal(fixupACL([ip(31, "300.0.0.1")], []).err, Code.invalidACL);
  assert.equal(fixupACL([ip(31, "10.0.0.0/8")], []).err, Code.ok);
});

test("digest ids are valid when Java's split(':') gives two parts", () => {
  assert.ok(isValidId("digest", "a:b"));
  assert.ok(isValidId("digest", "a:b:"));
  assert.ok(isValidId("digest", ":b"));
  assert.ok(!isValidId("digest", "a:b:c"));
  assert.ok(!isValidId("digest", "a::"));
});

test("an auth entry expands to the session's authenticated (digest) ids, InvalidACL without any", () => {
  const auth: ACL = { perms: Perms.ALL, id: { scheme: "auth", id: "" } };
  assert.equal(fixupACL([auth], [{ scheme: "ip", id: "1.2.3.4" }]).err, Code.invalidACL);
  const r = fixupACL([auth], [{ scheme: "ip", id: "1.2.3.4" }, alice]);
  assert.equal(r.err, Code.ok);
  assert.deepEqual(r.acl, [{ perms: Perms.ALL, id: alice }]);
});

test("fixupACL drops duplicate entries and does not judge perms bits (ZooKeeper 3.8 does not)", () => {
  const r = fixupACL([world(1), world(1), world(0)], []);
  assert.deepEqual(r.acl, [world(1), world(0)]);
});

test("getACL without ADMIN shows digest ids as user:x", () => {
  assert.deepEqual(maskDigests([digest(1, "alice:hash:more"), world(1)]), [digest(1, "alice:x"), world(1)]);
});

test("whoAmI names digest users by the part before the colon", () => {
  assert.deepEqual(clientInfos([{ scheme: "ip", id: "1.2.3.4" }, alice, { scheme: "super", id: "" }]), [
    { authScheme: "ip", user: "1.2.3.4" },
    { authScheme: "digest", user: "alice" },
    { authScheme: "super", user: "" },
  ]);
});

test("identical ACL lists are shared and dropped with their last user", () => {
  const cache = new AclCache();
  const a = cache.intern([world(31)]);
  const b = cache.intern([{ perms: 31, id: { scheme: "world", id: "anyone" } }]);
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
  cache.release(a);
  assert.equal(cache.size, 1);
  cache.release(b);
  assert.equal(cache.size, 0);
});
