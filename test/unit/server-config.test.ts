// zoo.cfg parsing: ZooKeeper's keys and defaults, and errors that name the key.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  configFromProperties,
  defaultConfig,
  parseProperties,
  quorumConfigText,
} from "../../src/server/config.js";
import { ConfigError } from "../../src/base/errors.js";

const parse = (text: string) => configFromProperties(parseProperties(text), "/base");

test("defaults follow ZooKeeper: session timeouts at 2x and 20x tickTime, forceSync on, srvr whitelisted", () => {
  const c = parse("dataDir=/d\ntickTime=1000\n");
  assert.equal(c.minSessionTimeout, 2000);
  assert.equal(c.maxSessionTimeout, 20000);
  assert.equal(c.forceSync, true);
  assert.deepEqual([...c.fourLetterWords], ["srvr"]);
  assert.equal(c.dataLogDir, "/d");
  assert.equal(c.clientPort, 2181);
  assert.equal(c.juteMaxBuffer, 0xfffff);
  assert.equal(c.idleCollect, true);
  assert.deepEqual(c.unknownKeys, []);
});

test("corral.idleCollect=false turns the collection while idle off", () => {
  const c = parse("dataDir=/d\ncorral.idleCollect=false\n");
  assert.equal(c.idleCollect, false);
  assert.deepEqual(c.unknownKeys, []);
});

test("relative dirs resolve against the config file's directory", () => {
  assert.equal(parse("dataDir=data\n").dataDir, "/base/data");
});

test("a bad value throws ConfigError naming the key", () => {
  for (const [text, key] of [
    ["dataDir=/d\ntickTime=x", "tickTime"],
    ["dataDir=/d\nforceSync=maybe", "forceSync"],
    ["dataDir=/d\ncorral.idleCollect=sometimes", "corral.idleCollect"],
    ["dataDir=/d\nclientPort=-1", "clientPort"],
    ["dataDir=/d\n4lw.commands.whitelist=ruok,nope", "4lw.commands.whitelist"],
    ["dataDir=/d\nminSessionTimeout=50000", "minSessionTimeout"],
    ["tickTime=2000", "dataDir"],
    ["dataDir=/d\nserver.1=localhost", "server.1"],
  ] as const) {
    assert.throws(
      () => parse(text),
      (e: unknown) => e instanceof ConfigError && e.key === key,
      `${text} → ${key}`,
    );
  }
});

test("unknown keys are collected for a warning, not refused", () => {
  assert.deepEqual(parse("dataDir=/d\nfrobnicate=1\n").unknownKeys, ["frobnicate"]);
});

test("a whitelist of * enables every four-letter word", () => {
  const c = parse("dataDir=/d\n4lw.commands.whitelist=*\n");
  assert.ok(c.fourLetterWords.has("mntr") && c.fourLetterWords.has("ruok") && c.fourLetterWords.has("envi"));
});

test("server.N lines parse roles and client ports", () => {
  const c = parse("dataDir=/d\nserver.1=h1:2888:3888\nserver.2=h2:2888:3888:observer;2181\n");
  assert.equal(c.peers.length, 2);
  assert.equal(c.peers[1]!.observer, true);
  assert.equal(c.peers[1]!.clientPort, 2181);
});

test("npm start's config is standalone on 127.0.0.1:2181 with data under ./data", () => {
  const c = defaultConfig("/repo");
  assert.equal(c.clientPortAddress, "127.0.0.1");
  assert.equal(c.clientPort, 2181);
  assert.equal(c.dataDir, "/repo/data");
  assert.deepEqual(c.peers, []);
});

test("an ensemble's /zookeeper/config text is QuorumVerifier's", () => {
  const c = parse(
    "dataDir=/d\nserver.1=h1:2888:3888;2181\nserver.2=h2:2888:3888:observer;10.0.0.2:2182\nserver.3=h3:1:2\n",
  );
  assert.equal(
    quorumConfigText(c.peers),
    "server.1=h1:2888:3888:participant;0.0.0.0:2181\n" +
      "server.2=h2:2888:3888:observer;10.0.0.2:2182\n" +
      "server.3=h3:1:2:participant\n" +
      "version=0",
  );
});
