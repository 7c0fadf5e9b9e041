// SASL over the wire (OpCode.sasl, GetSASLRequest / SetSASLResponse) against a real Corral process: the
// DIGEST-MD5 exchange a Java client makes, the sasl ACL scheme, AuthFailed and close on a wrong password,
// ZooKeeper's answer when no JAAS file is configured, and a bad JAAS file stopping start-up.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corralBin, startCorral } from "../helpers/corral-process.js";
import { ManagedServer, ServerStartError, repoRoot } from "../helpers/managed-process.js";
import { JuteWriter, Perm, RawClient, ReplyError, type ACL } from "../helpers/raw-client.js";
import { waitFor } from "../helpers/wait.js";

const opSasl = 102;
const authFailed = -115;
const noAuth = -102;

let dir: string;
let server: ManagedServer | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "corral-sasl-it-"));
  const jaas = join(dir, "server.jaas");
  writeFileSync(
    jaas,
    'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bobsecret"\n' +
      '  user_admin="adminsecret";\n};\n',
  );
  server = await startCorral({ extraConfig: { jaasLoginConfig: jaas, "zookeeper.superUser": "admin" } });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const md5hex = (b: Buffer | string): string => createHash("md5").update(b).digest("hex");

/** RFC 2831 2.1.2.1, qop=auth, md5-sess, ASCII inputs; `a2Prefix` "AUTHENTICATE" or "" (rspauth). */
function digest(user: string, password: string, nonce: string, cnonce: string, a2Prefix: string): string {
  const inner = createHash("md5").update(`${user}:zk-sasl-md5:${password}`).digest();
  const a1 = Buffer.concat([inner, Buffer.from(`:${nonce}:${cnonce}`)]);
  const a2 = `${a2Prefix}:zookeeper/zk-sasl-md5`;
  return md5hex(`${md5hex(a1)}:${nonce}:00000001:${cnonce}:auth:${md5hex(a2)}`);
}

async function saslStep(
  c: RawClient,
  token: Buffer,
): Promise<{ err: number; zxid: bigint; token: string | null }> {
  const reply = await c.request(opSasl, new JuteWriter().buffer(token).toBuffer());
  const t = reply.body.buffer();
  return { err: reply.err, zxid: reply.zxid, token: t === null ? null : t.toString("utf8") };
}

/** The two steps of DIGEST-MD5; returns the second answer and the rspauth the client expects. */
async function authenticate(
  c: RawClient,
  password: string,
  user = "bob",
): Promise<{ err: number; token: string | null; expected: string }> {
  const first = await saslStep(c, Buffer.alloc(0));
  assert.equal(first.err, 0);
  assert.equal(first.zxid, 0n, "ZooKeeper answers SASL with zxid 0");
  const challenge = first.token ?? "";
  assert.match(challenge, /realm="zk-sasl-md5"/);
  assert.match(challenge, /algorithm=md5-sess/);
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
  const cnonce = "it-cnonce";
  const response = digest(user, password, nonce, cnonce, "AUTHENTICATE");
  const second = await saslStep(
    c,
    Buffer.from(
      `charset=utf-8,username="${user}",realm="zk-sasl-md5",nonce="${nonce}",nc=00000001,cnonce="${cnonce}",` +
        `digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=${response},qop=auth`,
    ),
  );
  return {
    err: second.err,
    token: second.token,
    expected: `rspauth=${digest(user, password, nonce, cnonce, "")}`,
  };
}

test("a DIGEST-MD5 exchange authenticates bob, whom a sasl:bob ACL then admits; others only as the super user", async () => {
  assert.ok(server);
  const bob = await RawClient.connect(server.host, server.port);
  const other = await RawClient.connect(server.host, server.port);
  try {
    const { err, token, expected } = await authenticate(bob, "bobsecret");
    assert.equal(err, 0);
    assert.equal(token, expected);
    const acl: ACL[] = [{ perms: Perm.all, scheme: "sasl", id: "bob" }];
    await bob.create("/sasl-node", Buffer.from("secret"), 0, acl);
    assert.equal((await bob.getData("/sasl-node")).data?.toString(), "secret");
    await assert.rejects(
      other.getData("/sasl-node"),
      (e: unknown) => e instanceof ReplyError && e.code === noAuth,
    );
    // zookeeper.superUser: the SASL user admin is also super, and passes any ACL.
    const admin = await authenticate(other, "adminsecret", "admin");
    assert.equal(admin.err, 0);
    assert.equal(admin.token, admin.expected);
    assert.equal((await other.getData("/sasl-node")).data?.toString(), "secret");
  } finally {
    await bob.close();
    await other.close();
  }
});

test("a wrong password is answered AuthFailed with a null token, and the connection is closed", async () => {
  assert.ok(server);
  const c = await RawClient.connect(server.host, server.port);
  try {
    const { err, token } = await authenticate(c, "wrong");
    assert.equal(err, authFailed);
    assert.equal(token, null);
    await waitFor(() => c.closed, { timeoutMs: 5_000, message: "the server to close the connection" });
  } finally {
    await c.close().catch(() => undefined);
  }
});

test("without a JAAS file a SASL request is answered OK with a null token, as ZooKeeper does", async () => {
  const plain = await startCorral();
  try {
    const c = await RawClient.connect(plain.host, plain.port);
    try {
      const r = await saslStep(c, Buffer.alloc(0));
      assert.deepEqual(r, { err: 0, zxid: 0n, token: null });
      assert.equal(c.closed, false);
    } finally {
      await c.close();
    }
  } finally {
    await plain.stop();
  }
});

test("a bad JAAS file stops start-up with a message naming the key and the file", async () => {
  const bad = join(dir, "bad.jaas");
  writeFileSync(
    bad,
    "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\n};\n",
  );
  await assert.rejects(
    startCorral({ extraConfig: { jaasLoginConfig: bad }, startTimeoutMs: 10_000 }),
    (e: unknown) =>
      e instanceof ServerStartError &&
      e.exitCode !== 0 &&
      e.stderr.includes("jaasLoginConfig") &&
      e.stderr.includes(bad) &&
      /line 3: expected a value for option "user_bob"/.test(e.stderr),
  );
});

test("CORRAL_JAAS_CONFIG names the JAAS file when zoo.cfg does not", async () => {
  const missing = join(dir, "no-such.jaas");
  await assert.rejects(
    ManagedServer.start("corral", { startTimeoutMs: 10_000 }, (configPath) => ({
      command: process.execPath,
      args: [corralBin, "server", configPath],
      cwd: repoRoot,
      env: { ...process.env, CORRAL_JAAS_CONFIG: missing },
    })),
    (e: unknown) =>
      e instanceof ServerStartError &&
      e.stderr.includes("config CORRAL_JAAS_CONFIG: cannot read JAAS file") &&
      e.stderr.includes(missing),
  );
});
