// The request throttle's state machine: open ⇄ throttled around globalOutstandingLimit and requestThrottleLimit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestThrottle, globalOutstandingLimitDefault } from "../../src/server/throttle.js";
import { configFromProperties, parseProperties } from "../../src/server/config.js";
import { ConfigError } from "../../src/base/errors.js";

const parse = (text: string) => configFromProperties(parseProperties(text), "/base");

test("throttles once more than globalOutstandingLimit are outstanding, and opens again at the limit", () => {
  const t = new RequestThrottle({ globalOutstandingLimit: 3, requestThrottleLimit: 0 });
  assert.deepEqual(
    [1, 2, 3].map(() => t.requestStarted()),
    ["open", "open", "open"],
  );
  assert.equal(t.requestStarted(), "throttled"); // 4 > 3: ZooKeeper's `limit < inProcess`
  assert.equal(t.outstanding, 4);
  assert.equal(t.requestStarted(), "throttled");
  assert.equal(t.requestFinished(), "throttled"); // 4
  assert.equal(t.requestFinished(), "open"); // 3
  assert.equal(t.throttledTransitions, 1);
});

test("requestThrottleLimit throttles at the limit itself, and the lower of the two limits wins", () => {
  const t = new RequestThrottle({ globalOutstandingLimit: 100, requestThrottleLimit: 2 });
  assert.equal(t.requestStarted(), "open");
  assert.equal(t.requestStarted(), "throttled"); // RequestThrottler stalls while inProcess >= max
  assert.equal(t.requestFinished(), "open");
});

test("only a connection with something outstanding is throttled: new connections and first requests are read", () => {
  const t = new RequestThrottle({ globalOutstandingLimit: 1, requestThrottleLimit: 0 });
  t.requestStarted();
  t.requestStarted();
  assert.equal(t.state, "throttled");
  assert.equal(t.shouldThrottle(0), false);
  assert.equal(t.shouldThrottle(1), true);
  t.requestFinished();
  assert.equal(t.shouldThrottle(1), false);
});

test("a closed connection's unanswered requests leave the count", () => {
  const t = new RequestThrottle({ globalOutstandingLimit: 2, requestThrottleLimit: 0 });
  for (let i = 0; i < 5; i++) t.requestStarted();
  assert.equal(t.state, "throttled");
  assert.equal(t.connectionClosed(4), "open");
  assert.equal(t.outstanding, 1);
  assert.throws(() => t.connectionClosed(2), /more than is outstanding/);
  t.requestFinished();
  assert.throws(() => t.requestFinished(), /without an outstanding request/);
});

test("repeated crossings count each transition to throttled once", () => {
  const t = new RequestThrottle({ globalOutstandingLimit: 1, requestThrottleLimit: 0 });
  for (let round = 0; round < 3; round++) {
    t.requestStarted();
    t.requestStarted();
    t.requestStarted();
    t.requestFinished();
    t.requestFinished();
    t.requestFinished();
  }
  assert.equal(t.throttledTransitions, 3);
  assert.equal(t.state, "open");
});

test("zoo.cfg keys: ZooKeeper's defaults, and bad values name the key", () => {
  const c = parse("dataDir=/d\n");
  assert.equal(c.globalOutstandingLimit, globalOutstandingLimitDefault);
  assert.equal(c.requestThrottleLimit, 0);
  assert.equal(c.requestThrottleStallTime, 100);
  assert.equal(c.requestThrottleDropStale, true);
  assert.equal(c.maxCnxns, 0);
  assert.equal(c.auditEnable, false);
  assert.equal(c.auditLogDir, "/d");
  const d = parse(
    "dataDir=/d\nglobalOutstandingLimit=50\nrequestThrottleLimit=20\nmaxCnxns=7\naudit.enable=true\naudit.logDir=logs\n",
  );
  assert.deepEqual(
    [d.globalOutstandingLimit, d.requestThrottleLimit, d.maxCnxns, d.auditEnable, d.auditLogDir],
    [50, 20, 7, true, "/base/logs"],
  );
  assert.deepEqual(d.unknownKeys, []);
  for (const [line, key] of [
    ["globalOutstandingLimit=0", "globalOutstandingLimit"],
    ["requestThrottleLimit=-1", "requestThrottleLimit"],
    ["maxCnxns=lots", "maxCnxns"],
    ["audit.enable=maybe", "audit.enable"],
    ["requestThrottleStallTime=0", "requestThrottleStallTime"],
  ]) {
    assert.throws(
      () => parse(`dataDir=/d\n${line}\n`),
      (e: unknown) => e instanceof ConfigError && e.key === key,
      line,
    );
  }
});
