// audit.enable=true: each audited operation writes one line to dataDir/audit.log in ZooKeeper's layout,
// failures included; reads write none; start and stop are logged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { userInfo } from "node:os";
import { startCorral } from "../helpers/corral-process.js";
import { CorralEnsemble } from "../helpers/corral-ensemble.js";
import { waitFor } from "../helpers/wait.js";
import {
  JuteWriter,
  Op,
  OPEN_ACL_UNSAFE,
  RawClient,
  ReplyError,
  encodeMulti,
  decodeMultiResponse,
} from "../helpers/raw-client.js";

const linePattern = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|ERROR) audit\.Slf4jAuditLogger: (.*)$/;

function readAudit(file: string): Array<{ level: string; event: string }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const m = linePattern.exec(l);
      assert.ok(m, `audit line in ZooKeeper's layout: ${JSON.stringify(l)}`);
      return { level: m[1]!, event: m[2]! };
    });
}

function expectError(code: number): (e: unknown) => boolean {
  return (e: unknown) => e instanceof ReplyError && e.code === code;
}

test("audited operations write ZooKeeper's key=value lines, failures at ERROR; reads write none", async () => {
  const server = await startCorral({ extraConfig: { "audit.enable": "true" } });
  const file = join(server.dataDir, "audit.log");
  const user = userInfo().username;
  try {
    await waitFor(() => readAudit(file).length >= 1, { message: "serverStart line" });
    const c = await RawClient.connect(server.host, server.port);
    const auth = new JuteWriter().int(0).string("digest").buffer(Buffer.from("alice:secret")).toBuffer();
    assert.equal((await c.request(Op.auth, auth, -4)).err, 0);
    const who = `session=0x${c.sessionId.toString(16)}\tuser=alice,127.0.0.1\tip=127.0.0.1`;

    await c.create("/a", Buffer.from("1"));
    await assert.rejects(c.create("/a", null), expectError(-110));
    await c.setData("/a", Buffer.from("2"));
    await assert.rejects(c.setData("/a", null, 99), expectError(-103));
    const setAcl = new JuteWriter().string("/a").acl(OPEN_ACL_UNSAFE).int(-1).toBuffer();
    assert.equal((await c.request(Op.setACL, setAcl)).err, 0);
    const seq = await c.create("/s-", null, 2);
    await c.getData("/a");
    await c.getChildren("/");
    await c.exists("/nothing");
    const ok = await c.request(
      Op.multi,
      encodeMulti([
        { op: "create", path: "/m", data: null, acl: OPEN_ACL_UNSAFE, flags: 0 },
        { op: "check", path: "/m", version: 0 },
        { op: "setData", path: "/m", data: Buffer.from("x"), version: -1 },
        { op: "delete", path: "/m", version: -1 },
      ]),
    );
    assert.equal(decodeMultiResponse(ok.body).length, 4);
    const bad = await c.request(Op.multi, encodeMulti([{ op: "delete", path: "/none", version: -1 }]));
    assert.equal(decodeMultiResponse(bad.body)[0]?.type, "error");
    await c.delete("/a");
    await assert.rejects(c.delete("/a"), expectError(-101));

    const e = await RawClient.connect(server.host, server.port);
    await e.create("/eph", null, 1);
    await e.close();
    await c.close();

    await server.shutdown();
    const lines = readAudit(file);
    const ephemeralOwner = `session=0x${e.sessionId.toString(16)}`;
    const ephWho = `${ephemeralOwner}\tuser=127.0.0.1\tip=127.0.0.1`;
    assert.deepEqual(lines, [
      { level: "INFO", event: `user=${user}\toperation=serverStart\tresult=success` },
      { level: "INFO", event: `${who}\toperation=create\tznode=/a\tznode_type=persistent\tresult=success` },
      { level: "ERROR", event: `${who}\toperation=create\tznode=/a\tznode_type=persistent\tresult=failure` },
      { level: "INFO", event: `${who}\toperation=setData\tznode=/a\tresult=success` },
      { level: "ERROR", event: `${who}\toperation=setData\tznode=/a\tresult=failure` },
      { level: "INFO", event: `${who}\toperation=setAcl\tznode=/a\tacl=world:anyone:cdrwa\tresult=success` },
      {
        level: "INFO",
        event: `${who}\toperation=create\tznode=${seq}\tznode_type=persistent_sequential\tresult=success`,
      },
      { level: "INFO", event: `${who}\toperation=create\tznode=/m\tznode_type=persistent\tresult=success` },
      { level: "INFO", event: `${who}\toperation=setData\tznode=/m\tresult=success` },
      { level: "INFO", event: `${who}\toperation=delete\tznode=/m\tresult=success` },
      { level: "ERROR", event: `${who}\toperation=multiOperation\tresult=failure` },
      { level: "INFO", event: `${who}\toperation=delete\tznode=/a\tresult=success` },
      { level: "ERROR", event: `${who}\toperation=delete\tznode=/a\tresult=failure` },
      {
        level: "INFO",
        event: `${ephWho}\toperation=create\tznode=/eph\tznode_type=ephemeral\tresult=success`,
      },
      {
        level: "INFO",
        event: `${ephemeralOwner}\tuser=${user}\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/eph\tresult=success`,
      },
      { level: "INFO", event: `user=${user}\toperation=serverStop\tresult=invoked` },
    ]);
    assert.match(seq, /^\/s-\d{10}$/);
  } finally {
    await server.stop();
  }
});

test("audit.logDir puts audit.log elsewhere; without audit.enable no file is written", async () => {
  const off = await startCorral();
  try {
    const c = await RawClient.connect(off.host, off.port);
    await c.create("/x", null);
    await c.close();
    assert.equal(existsSync(join(off.dataDir, "audit.log")), false);
  } finally {
    await off.stop();
  }
  const on = await startCorral({ extraConfig: { "audit.enable": "yes", "audit.logDir": "audit-dir" } });
  try {
    const file = join(on.baseDir, "audit-dir", "audit.log");
    await waitFor(() => readAudit(file).some((l) => l.event.includes("operation=serverStart")), {
      message: "serverStart in audit-dir/audit.log",
    });
    assert.equal(existsSync(join(on.dataDir, "audit.log")), false);
  } finally {
    await on.stop();
  }
});

test("an audit.logDir that cannot be written stops start-up naming the key", async () => {
  // Under zoo.cfg, a file: no directory can be made there, even by root.
  await assert.rejects(
    startCorral({ extraConfig: { "audit.enable": "true", "audit.logDir": "zoo.cfg/audit" } }),
    (e: Error) => /audit\.logDir/.test(e.message),
  );
});

test("in an ensemble a write is audited by the member its client is connected to; ephemeral deletions by all", async () => {
  const ensemble = await CorralEnsemble.start({ size: 3, extraConfig: { "audit.enable": "true" } });
  try {
    const leader = await ensemble.waitForQuorum();
    const follower = ensemble.members.find((m) => m !== leader)!;
    const c = await RawClient.connect(follower.host, follower.clientPort);
    await c.create("/via-follower", null);
    await c.create("/eph", null, 1);
    await c.close();
    const session = `session=0x${c.sessionId.toString(16)}`;
    const fileOf = (id: number): string => join(ensemble.member(id).dataDir, "audit.log");
    for (const m of ensemble.members) {
      await waitFor(
        () =>
          readAudit(fileOf(m.id)).some((l) =>
            l.event.includes("ephemeralZNodeDeletionOnSessionCloseOrExpire"),
          ),
        { message: `server ${m.id} to log the ephemeral deletion` },
      );
      const events = readAudit(fileOf(m.id)).map((l) => l.event);
      assert.ok(
        events.includes(
          `${session}\tuser=${userInfo().username}\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/eph\tresult=success`,
        ),
        `server ${m.id}: ${events.join("\n")}`,
      );
      // Every line of a server is written in zxid order: the creates came before the deletion.
      const creates = events.filter((e) => e.includes("operation=create"));
      assert.deepEqual(
        creates,
        m === follower
          ? [
              `${session}\tuser=127.0.0.1\tip=127.0.0.1\toperation=create\tznode=/via-follower\tznode_type=persistent\tresult=success`,
              `${session}\tuser=127.0.0.1\tip=127.0.0.1\toperation=create\tznode=/eph\tznode_type=ephemeral\tresult=success`,
            ]
          : [],
        `server ${m.id}`,
      );
    }
  } finally {
    await ensemble.stop();
  }
});
