// Four-letter words answer in ZooKeeper's layout, and only those on the whitelist.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
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

test("wchc, wchp, wchs, dump, dirs, gtmk, stmk, hash, crst and srst answer in ZooKeeper's layout", async () => {
  const s = await startCorral();
  servers.push(s);
  const ask = (w: string): Promise<string> => fourLetterWord(s.host, s.port, w);
  const c = await RawClient.connect(s.host, s.port);
  await c.create("/eph", Buffer.from("e"), 1);
  await c.create("/w", Buffer.from("w"), 0);
  await c.getData("/w", true);
  await c.getChildren("/", true);
  const sid = "0x" + BigInt.asUintN(64, c.sessionId).toString(16);
  assert.equal(await ask("wchc"), `${sid}\n\t/w\n\n`);
  assert.equal(await ask("wchp"), `/w\n\t${sid}\n\n`);
  assert.equal(await ask("wchs"), "1 connections watching 1 paths\nTotal watches:1\n");
  assert.match(await ask("mntr"), /^zk_watch_count\t2$/m);
  const dump = await ask("dump");
  assert.match(dump, new RegExp(`^SessionTracker dump:\nSession Sets \\(\\d+\\)/\\(1\\):\n`));
  assert.match(
    dump,
    new RegExp(`^\\d+ expire at \\w{3} \\w{3} \\d{2} [\\d:]{8} \\S+ \\d{4}:\n\t${sid}$`, "m"),
  );
  assert.match(
    dump,
    new RegExp(`ephemeral nodes dump:\nSessions with Ephemerals \\(1\\):\n${sid}:\n\t/eph\n`),
  );
  assert.match(dump, new RegExp(`Connections dump:\nConnections Sets \\(\\d+\\)/\\(\\d+\\):\n`));
  assert.match(dump, new RegExp(`^\tip: /127\\.0\\.0\\.1:\\d+ sessionId: ${sid}$`, "m"));
  assert.match(await ask("dirs"), /^datadir_size: \d+\nlogdir_size: \d+\n$/);
  assert.match(await ask("conf"), /^dataDirSize=\d+\n/m);
  assert.equal(await ask("gtmk"), "306");
  assert.equal(await ask("stmk"), "");
  assert.equal(await ask("hash"), "");
  assert.equal(await ask("crst"), "Connection stats reset.\n");
  assert.match(await ask("cons"), new RegExp(`sid=${sid},lop=NA,.*lzxid=0xffffffffffffffff,lresp=0,`));
  assert.equal(await ask("srst"), "Server stats reset.\n");
  assert.match(await ask("srvr"), /^Received: \d+$/m);
  await c.close();
});

test("stmk sets the trace mask from the 8 bytes after the word, and gtmk shows it", async () => {
  const s = await startCorral();
  servers.push(s);
  const reply = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: s.host, port: s.port }, () => {
      const msg = Buffer.alloc(12);
      msg.write("stmk", 0, "ascii");
      msg.writeBigInt64BE(256n, 4);
      socket.write(msg);
    });
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
  });
  assert.equal(reply, "256");
  assert.equal(await fourLetterWord(s.host, s.port, "gtmk"), "256");
  const c = await RawClient.connect(s.host, s.port);
  await c.exists("/");
  assert.match(await fourLetterWord(s.host, s.port, "cons"), /,lcxid=0x1,/);
  await c.close();
});
