// The client's errors: one ZkError subclass per ZooKeeper code, with code and path; digest ACL helpers.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CREATOR_ALL_ACL,
  OPEN_ACL_UNSAFE,
  Perms,
  READ_ACL_UNSAFE,
  digestAcl,
  digestId,
} from "../../src/client/acl.js";
import * as errors from "../../src/client/errors.js";
import { Code } from "../../src/protocol/error-codes.js";

const { ZkError, errorForCode } = errors;

test("every ZooKeeper code maps to its own ZkError subclass carrying code and path", () => {
  const seen = new Set<unknown>();
  for (const [name, code] of Object.entries(Code)) {
    if (code === Code.ok) continue;
    const err = errorForCode(code, "/p");
    assert.ok(err instanceof ZkError, name);
    assert.notEqual(err.constructor, ZkError, `${name} has a subclass`);
    assert.equal(err.code, code);
    assert.equal(err.path, "/p");
    assert.equal(err.codeName, name);
    assert.equal(err.name, err.constructor.name);
    assert.ok(!seen.has(err.constructor), `${name} has its own class`);
    seen.add(err.constructor);
  }
});

test("the classes the client API names map to their codes", () => {
  const expected: Array<[number, new (code: number, path?: string) => errors.ZkError]> = [
    [Code.noNode, errors.NoNodeError],
    [Code.nodeExists, errors.NodeExistsError],
    [Code.badVersion, errors.BadVersionError],
    [Code.notEmpty, errors.NotEmptyError],
    [Code.noAuth, errors.NoAuthError],
    [Code.noChildrenForEphemerals, errors.NoChildrenForEphemeralsError],
    [Code.invalidACL, errors.InvalidACLError],
    [Code.sessionExpired, errors.SessionExpiredError],
    [Code.connectionLoss, errors.ConnectionLossError],
    [Code.marshallingError, errors.MarshallingError],
    [Code.unimplemented, errors.UnimplementedError],
    [Code.badArguments, errors.BadArgumentsError],
    [Code.noWatcher, errors.NoWatcherError],
    [Code.authFailed, errors.AuthFailedError],
    [Code.runtimeInconsistency, errors.RuntimeInconsistencyError],
    [Code.reconfigDisabled, errors.ReconfigDisabledError],
  ];
  for (const [code, Class] of expected) assert.ok(errorForCode(code) instanceof Class, Class.name);
});

test("messages read as KeeperException's", () => {
  assert.equal(errorForCode(Code.noNode, "/a/b").message, "KeeperErrorCode = NoNode for /a/b");
  assert.equal(errorForCode(Code.connectionLoss).message, "KeeperErrorCode = ConnectionLoss");
  assert.equal(errorForCode(Code.noNode, "/x", "custom").message, "custom");
});

test("an unknown code is a plain ZkError, and 0 is not an error", () => {
  const err = errorForCode(-999, "/z");
  assert.equal(err.constructor, ZkError);
  assert.equal(err.code, -999);
  assert.equal(err.codeName, "code(-999)");
  assert.throws(() => errorForCode(0), RangeError);
});

test("digest ids match DigestAuthenticationProvider.generateDigest", () => {
  // Vectors printed by `java org.apache.zookeeper.server.auth.DigestAuthenticationProvider alice:s3cret bob:pässwörd`.
  assert.equal(digestId("alice", "s3cret"), "alice:uLxpHc/uhT86OXPoSjJTp1M8CJY=");
  assert.equal(digestId("bob", "pässwörd"), "bob:gC53HwYEhhFmg1+JETnfcQTLVa8=");
  assert.deepEqual(digestAcl("alice", "s3cret", Perms.READ | Perms.WRITE), {
    perms: 3,
    id: { scheme: "digest", id: "alice:uLxpHc/uhT86OXPoSjJTp1M8CJY=" },
  });
  assert.equal(digestAcl("a", "b").perms, Perms.ALL);
});

test("the ACL constants are ZooDefs.Ids' and frozen", () => {
  assert.deepEqual(OPEN_ACL_UNSAFE, [{ perms: 31, id: { scheme: "world", id: "anyone" } }]);
  assert.deepEqual(CREATOR_ALL_ACL, [{ perms: 31, id: { scheme: "auth", id: "" } }]);
  assert.deepEqual(READ_ACL_UNSAFE, [{ perms: 1, id: { scheme: "world", id: "anyone" } }]);
  assert.ok(Object.isFrozen(OPEN_ACL_UNSAFE) && Object.isFrozen(OPEN_ACL_UNSAFE[0]));
});
