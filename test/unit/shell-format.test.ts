// `corral shell` output: zkCli 3.8's layouts for stat, ls, getAcl, errors and watch events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NoNodeError, NodeExistsError, BadVersionError, Perms } from "../../src/client/index.js";
import {
  errorMessage,
  formatAcl,
  formatChildren,
  formatData,
  formatStat,
  formatWatchEvent,
  javaDate,
  javaHex,
  parseAcl,
  permString,
} from "../../src/cli/shell-format.js";

const stat = {
  czxid: 3n,
  mzxid: 0x17n,
  ctime: 1795681738000n,
  mtime: 0n,
  version: 2,
  cversion: 1,
  aversion: 0,
  ephemeralOwner: 0x1000abcn,
  dataLength: 5,
  numChildren: 1,
  pzxid: 0xen,
};

test("javaDate prints java.util.Date.toString's layout", () => {
  assert.equal(javaDate(0, "UTC"), "Thu Jan 01 00:00:00 UTC 1970");
  assert.equal(javaDate(1795681738000, "UTC"), "Thu Nov 26 08:28:58 UTC 2026");
});

test("formatStat prints StatPrinter's eleven lines", () => {
  assert.equal(
    formatStat(stat, "UTC"),
    [
      "cZxid = 0x3",
      "ctime = Thu Nov 26 08:28:58 UTC 2026",
      "mZxid = 0x17",
      "mtime = Thu Jan 01 00:00:00 UTC 1970",
      "pZxid = 0xe",
      "cversion = 1",
      "dataVersion = 2",
      "aclVersion = 0",
      "ephemeralOwner = 0x1000abc",
      "dataLength = 5",
      "numChildren = 1",
      "",
    ].join("\n"),
  );
});

test("javaHex prints negative longs as two's complement", () => {
  assert.equal(javaHex(-1n), "ffffffffffffffff");
  assert.equal(javaHex(0n), "0");
});

test("formatChildren sorts and brackets as LsCommand does", () => {
  assert.equal(formatChildren(["zookeeper", "b", "a", "B"]), "[B, a, b, zookeeper]\n");
  assert.equal(formatChildren([]), "[]\n");
});

test("formatData prints null data as null", () => {
  assert.equal(formatData(null), "null\n");
  assert.equal(formatData(new TextEncoder().encode("héllo")), "héllo\n");
});

test("ACLs print as jute Ids and cdrwa perms, and parse as AclParser does", () => {
  assert.equal(permString(Perms.ALL), "cdrwa");
  assert.equal(
    formatAcl([{ perms: Perms.READ | Perms.WRITE, id: { scheme: "world", id: "anyone" } }]),
    "'world,'anyone\n: rw\n",
  );
  const { acl, warnings } = parseAcl("digest:u:abc=:r,bad,ip:10.0.0.1:cdx");
  assert.deepEqual(acl, [
    { perms: Perms.READ, id: { scheme: "digest", id: "u:abc=" } },
    { perms: Perms.CREATE | Perms.DELETE, id: { scheme: "ip", id: "10.0.0.1" } },
  ]);
  assert.deepEqual(warnings, ["bad does not have the form scheme:id:perm", "Unknown perm type: x"]);
});

test("errors read as zkCli's CliWrapperException messages", () => {
  assert.equal(errorMessage(new NoNodeError(-101, "/x")), "Node does not exist: /x");
  assert.equal(errorMessage(new NodeExistsError(-110, "/x")), "Node already exists: /x");
  assert.equal(errorMessage(new BadVersionError(-103, "/x")), "version No is not valid : /x");
});

test("watch events print as zkCli's watcher prints them", () => {
  assert.equal(
    formatWatchEvent({ type: "nodeDataChanged", path: "/a", zxid: -1n }),
    "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/a\n",
  );
});
