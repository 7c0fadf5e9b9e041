// The client's connect-string parsing, path validation and chroot mapping, as ZooKeeper's Java client does them.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  parseConnectString,
  prependChroot,
  shuffleHosts,
  stripChroot,
  validatePath,
} from "../../src/client/connect-string.js";
import { InvalidConnectStringError, InvalidPathError } from "../../src/client/errors.js";

test("a connect string parses into hosts with ports, 2181 by default, and a chroot", () => {
  assert.deepEqual(parseConnectString("127.0.0.1:2181,zk2:2182,zk3/app/one"), {
    hosts: [
      { host: "127.0.0.1", port: 2181 },
      { host: "zk2", port: 2182 },
      { host: "zk3", port: 2181 },
    ],
    chroot: "/app/one",
  });
  assert.deepEqual(parseConnectString(" a:1 , b:2 "), {
    hosts: [
      { host: "a", port: 1 },
      { host: "b", port: 2 },
    ],
    chroot: "",
  });
});

test("a chroot of / is no chroot", () => {
  assert.equal(parseConnectString("h:1/").chroot, "");
});

test("IPv6 addresses are written in brackets", () => {
  assert.deepEqual(parseConnectString("[::1]:2181,[fe80::1]/x").hosts, [
    { host: "::1", port: 2181 },
    { host: "fe80::1", port: 2181 },
  ]);
  assert.throws(() => parseConnectString("::1:2181"), InvalidConnectStringError);
  assert.throws(() => parseConnectString("[::1"), InvalidConnectStringError);
});

test("bad connect strings are refused with InvalidConnectStringError", () => {
  for (const bad of ["", ",", "/app", "h:", "h:x", "h:0", "h:65536", ":2181", "h:1/app/", "h:1/a//b"]) {
    assert.throws(() => parseConnectString(bad), InvalidConnectStringError, bad);
  }
});

test("valid paths pass and invalid ones throw InvalidPathError naming the path", () => {
  for (const ok of ["/", "/a", "/a/b", "/a.b/c..d", "/.a", "/a.", "/..a/...", "/emoji😀", "/ünï"])
    validatePath(ok);
  for (const bad of [
    "",
    "a",
    "/a/",
    "//",
    "/a//b",
    "/a/./b",
    "/./a",
    "/a/.",
    "/a/..",
    "/../a",
    "/a\u0000",
    "/a\u0001",
    "/a\u007f",
    "/a\ufff5",
  ]) {
    assert.throws(
      () => validatePath(bad),
      (err: unknown) => err instanceof InvalidPathError && err.path === bad,
      bad,
    );
  }
});

test("a sequential create may end in /, the server naming the node", () => {
  validatePath("/q/", true);
  assert.throws(() => validatePath("/q/", false), InvalidPathError);
  assert.throws(() => validatePath("/q//", true), InvalidPathError);
});

test("the chroot is prepended to every path sent and stripped from every path received", () => {
  assert.equal(prependChroot("/app", "/"), "/app");
  assert.equal(prependChroot("/app", "/x/y"), "/app/x/y");
  assert.equal(prependChroot("", "/x"), "/x");
  assert.equal(stripChroot("/app", "/app"), "/");
  assert.equal(stripChroot("/app", "/app/x"), "/x");
  assert.equal(stripChroot("/app", "/apple"), "/apple");
  assert.equal(stripChroot("", "/x"), "/x");
});

test("shuffling keeps every host once", () => {
  const hosts = Array.from({ length: 20 }, (_, i) => ({ host: `h${i}`, port: 2181 }));
  let seed = 1;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const shuffled = shuffleHosts(hosts, random);
  assert.notDeepEqual(shuffled, hosts);
  assert.deepEqual(shuffled.map((h) => h.host).sort(), hosts.map((h) => h.host).sort());
});
