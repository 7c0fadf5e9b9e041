// The process log's level and layout: CORRAL_LOG_LEVEL over zoo.cfg, --log-format over zoo.cfg over the terminal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseLogFormat, chooseLogLevel } from "../../src/server/logger.js";
import { configFromProperties, parseProperties } from "../../src/server/config.js";
import { ConfigError } from "../../src/base/errors.js";

const parse = (text: string) => configFromProperties(parseProperties(text), "/base");

test("the level is CORRAL_LOG_LEVEL when set, else corral.log.level, else info", () => {
  assert.equal(chooseLogLevel(undefined, undefined), "info");
  assert.equal(chooseLogLevel("debug", undefined), "debug");
  assert.equal(chooseLogLevel("debug", "warn"), "warn");
  assert.equal(chooseLogLevel("debug", "ERROR"), "error");
  assert.equal(chooseLogLevel("debug", ""), "debug");
  assert.throws(
    () => chooseLogLevel(undefined, "loud"),
    (e: unknown) => e instanceof ConfigError && e.key === "CORRAL_LOG_LEVEL",
  );
});

test("the layout is --log-format, else corral.log.format, else pretty only on a terminal", () => {
  assert.equal(chooseLogFormat(undefined, undefined, false), "json");
  assert.equal(chooseLogFormat(undefined, undefined, true), "pretty");
  assert.equal(chooseLogFormat(undefined, "json", true), "json");
  assert.equal(chooseLogFormat("pretty", "json", false), "pretty");
  assert.throws(
    () => chooseLogFormat("xml", undefined, false),
    (e: unknown) => e instanceof ConfigError && e.key === "--log-format",
  );
});

test("zoo.cfg's corral.log.level and corral.log.format are checked, naming the key", () => {
  const c = parse("dataDir=/d\ncorral.log.level=debug\ncorral.log.format=pretty\n");
  assert.equal(c.logLevel, "debug");
  assert.equal(c.logFormat, "pretty");
  assert.equal(parse("dataDir=/d\n").logLevel, undefined);
  assert.throws(
    () => parse("dataDir=/d\ncorral.log.level=chatty\n"),
    (e: unknown) => e instanceof ConfigError && e.key === "corral.log.level",
  );
  assert.throws(
    () => parse("dataDir=/d\ncorral.log.format=yaml\n"),
    (e: unknown) => e instanceof ConfigError && e.key === "corral.log.format",
  );
});
