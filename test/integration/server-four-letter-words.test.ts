// Four-letter words answer in ZooKeeper's layout, and only those on the whitelist.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { fourLetterWord } from "../helpers/four-letter-word.js";
import { RawClient } from "../helpers/raw-client.js";

const servers: ManagedServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

test("ruok, srvr, stat, mntr, conf, isro and envi answer in ZooKeeper's layout", async () => {
  const s = await startCorral();
  servers.push(s);
  const ask = (w: string): Promise<string> => fourLetterWord(s.host, s.port, w);
  assert.equal(await ask("ruok"), "imok");
  const srvr = await ask("srvr");
  assert.match(srvr, /^Zookeeper version: 3\.8\.0/);
  for (const key of [
    "Latency min/avg/max",
    "Received",
    "Sent",
    "Connections",
    "Outstanding",
    "Zxid",
    "Mode",
    "Node count",
  ]) {
    assert.match(srvr, new RegExp(`^${key.replace("/", "\\/")}: `, "m"), `srvr has ${key}`);
  }
  assert.match(srvr, /^Mode: standalone$/m);
  assert.match(srvr, /^Node count: 5$/m);
  assert.match(await ask("stat"), /^Clients:$/m);
  const mntr = await ask("mntr");
  assert.match(mntr, /^zk_server_state\tstandalone$/m);
  assert.match(mntr, /^zk_znode_count\t5$/m);
  assert.match(await ask("conf"), /^clientPort=\d+$/m);
  assert.equal(await ask("isro"), "rw");
  assert.match(await ask("envi"), /^Environment:\n/);
  const c = await RawClient.connect(s.host, s.port);
  await c.exists("/");
  const cons = await ask("cons");
  const sid = BigInt.asUintN(64, c.sessionId).toString(16);
  assert.match(
    cons,
    new RegExp(`^ /127\\.0\\.0\\.1:\\d+\\[1\\]\\(queued=0,recved=\\d+,sent=\\d+,sid=0x${sid},lop=EXIS,`, "m"),
  );
  await c.close();
});

test("a word not on 4lw.commands.whitelist is refused with ZooKeeper's message", async () => {
  const s = await startCorral({ extraConfig: { "4lw.commands.whitelist": "srvr,ruok" } });
  servers.push(s);
  assert.equal(
    await fourLetterWord(s.host, s.port, "mntr"),
    "mntr is not executed because it is not in the whitelist.\n",
  );
  assert.match(await fourLetterWord(s.host, s.port, "srvr"), /^Zookeeper version/);
});
