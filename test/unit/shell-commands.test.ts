// `corral shell` command parsing: zkCli's word splitting, options and usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ShellParseError,
  commandNames,
  complete,
  parseCommand,
  parseLine,
  splitWords,
} from "../../src/cli/shell-commands.js";

test("splitWords groups quoted words and strips their quotes as zkCli does", () => {
  assert.deepEqual(splitWords("  create /a 'hello world'  "), ["create", "/a", "hello world"]);
  assert.deepEqual(splitWords('set /a "x y" '), ["set", "/a", "x y"]);
  assert.deepEqual(splitWords("ls /"), ["ls", "/"]);
  assert.deepEqual(splitWords("   "), []);
});

test("ls takes -s, -w and -R in any order and grouped", () => {
  assert.deepEqual(parseCommand(["ls", "-sR", "/a"]).command, {
    name: "ls",
    path: "/a",
    stat: true,
    watch: false,
    recursive: true,
  });
  assert.deepEqual(parseCommand(["ls", "/a", "-w"]).command, {
    name: "ls",
    path: "/a",
    stat: false,
    watch: true,
    recursive: false,
  });
});

test("the old 'get path watch' form means -w and warns", () => {
  const r = parseCommand(["get", "/a", "1"]);
  assert.deepEqual(r.command, { name: "get", path: "/a", stat: false, watch: true });
  assert.match(r.warnings[0]!, /has been deprecated/);
});

test("create maps -s -e -c -t and keeps absent data as null", () => {
  assert.deepEqual(parseLine("create -s -e /x d world:anyone:r")!.command, {
    name: "create",
    path: "/x",
    data: "d",
    acl: "world:anyone:r",
    sequential: true,
    ephemeral: true,
    container: false,
    ttlMs: undefined,
  });
  const ttl = parseLine("create -t 5000 /t")!.command;
  assert.equal(ttl.name === "create" && ttl.ttlMs, 5000);
  assert.equal(ttl.name === "create" && ttl.data, null);
});

test("create refuses the combinations zkCli refuses, with its messages", () => {
  assert.throws(() => parseLine("create -c -e /x"), /-c cannot be combined with -s or -e/);
  assert.throws(() => parseLine("create -t 10 -e /x"), /TTLs cannot be used with Ephemeral znodes/);
  assert.throws(() => parseLine("create -t abc /x"), /-t argument must be a long value/);
});

test("set and delete take -v version, also written -v3", () => {
  const set = parseLine("set -v 3 /a data")!.command;
  assert.equal(set.name === "set" && set.version, 3);
  const del = parseLine("delete -v7 /a")!.command;
  assert.equal(del.name === "delete" && del.version, 7);
  assert.equal(parseLine("delete /a")!.command.name === "delete", true);
});

test("a missing argument fails with the command's usage line", () => {
  assert.throws(
    () => parseLine("get"),
    (err: ShellParseError) => err.message === "get [-s] [-w] path",
  );
  assert.throws(() => parseLine("set /a"), /^ShellParseError: set \[-s\] \[-v version\] path data$/);
});

test("an unknown command exits 127 and an unknown option 1", () => {
  assert.throws(
    () => parseLine("bogus /"),
    (err: ShellParseError) => err.exitCode === 127,
  );
  assert.throws(
    () => parseLine("ls -x /"),
    (err: ShellParseError) => err.exitCode === 1 && err.message === "Unrecognized option: -x",
  );
});

test("addWatch defaults to PERSISTENT_RECURSIVE and takes -m persistent", () => {
  assert.deepEqual(parseLine("addWatch /a")!.command, { name: "addWatch", path: "/a", recursive: true });
  assert.deepEqual(parseLine("addWatch -m persistent /a")!.command, {
    name: "addWatch",
    path: "/a",
    recursive: false,
  });
  assert.throws(() => parseLine("addWatch -m bogus /a"), /addWatch \[-m mode\]/);
});

test("removewatches picks the watcher kind from -c, -d, -a", () => {
  assert.deepEqual(parseLine("removewatches /a -d -l")!.command, {
    name: "removewatches",
    path: "/a",
    kind: "data",
    local: true,
  });
});

test("command names are sorted as zkCli's usage lists them", () => {
  assert.equal(commandNames[0], "addWatch");
  assert.ok(commandNames.indexOf("getAcl") < commandNames.indexOf("getAllChildrenNumber"));
});

test("completion lists commands for the first word and children of the typed parent for paths", async () => {
  const children = async (parent: string): Promise<string[]> => {
    if (parent === "/") return ["zookeeper", "apps", "app2"];
    if (parent === "/apps") return ["web", "db"];
    throw new Error("no node");
  };
  assert.deepEqual(await complete("get", children), [
    ["get", "getAcl", "getAllChildrenNumber", "getEphemerals"],
    "get",
  ]);
  assert.deepEqual(await complete("ls /ap", children), [["/app2", "/apps"], "/ap"]);
  assert.deepEqual(await complete("ls /apps/", children), [["/apps/db", "/apps/web"], "/apps/"]);
  assert.deepEqual(await complete("ls /nope/x", children), [[], "/nope/x"]);
});
