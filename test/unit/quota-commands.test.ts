// The shell's setquota/listquota/delquota parse as zkCli's (commons-cli option group), and zoo.cfg's enforceQuota.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShellParseError, parseLine } from "../../src/cli/shell-commands.js";
import { configFromProperties } from "../../src/server/config.js";
import { ConfigError } from "../../src/base/errors.js";

test("setquota takes exactly one of -n -b -N -B with a value, then the path", () => {
  assert.deepEqual(parseLine("setquota -N 3 /a")?.command, {
    name: "setquota",
    path: "/a",
    option: "N",
    value: "3",
  });
  assert.deepEqual(parseLine("setquota /a -b5")?.command, {
    name: "setquota",
    path: "/a",
    option: "b",
    value: "5",
  });
  assert.throws(
    () => parseLine("setquota /a"),
    (e: unknown) =>
      e instanceof ShellParseError && e.message.startsWith("org.apache.commons.cli.MissingOptionException"),
  );
  assert.throws(
    () => parseLine("setquota -n 1 -B 2 /a"),
    /The option 'B' was specified but an option from this group has already been selected: 'n'/,
  );
  assert.throws(() => parseLine("setquota -n 1"), /^ShellParseError: setquota -n\|-b\|-N\|-B val path$/);
});

test("delquota takes at most one flag; listquota only a path", () => {
  assert.deepEqual(parseLine("delquota /a")?.command, { name: "delquota", path: "/a", option: undefined });
  assert.deepEqual(parseLine("delquota -B /a")?.command, { name: "delquota", path: "/a", option: "B" });
  assert.throws(() => parseLine("delquota -n -b /a"), /AlreadySelectedException/);
  assert.deepEqual(parseLine("listquota /a")?.command, { name: "listquota", path: "/a" });
  assert.throws(() => parseLine("listquota"), /^ShellParseError: listquota path$/);
});

test("zoo.cfg enforceQuota defaults to false, reads true/yes, and a bad value names the key", () => {
  const cfg = (extra: [string, string][]): ReturnType<typeof configFromProperties> =>
    configFromProperties(new Map([["dataDir", "/tmp/x"], ...extra]), "/");
  assert.equal(cfg([]).enforceQuota, false);
  assert.equal(cfg([["enforceQuota", "true"]]).enforceQuota, true);
  assert.ok(!cfg([["enforceQuota", "true"]]).unknownKeys.includes("enforceQuota"));
  assert.throws(
    () => cfg([["enforceQuota", "maybe"]]),
    (e: unknown) => e instanceof ConfigError && e.key === "enforceQuota",
  );
});
