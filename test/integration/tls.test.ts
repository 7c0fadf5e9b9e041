// The TLS client port (secureClientPort): mutual authentication against the trust store, the x509 ids a client
// certificate earns and the ACLs that name them, PKCS#12 key stores with clientAuth=want, certificate reload,
// and start-up refused when the key store is missing. Certificates are made with openssl at test time.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { ZooKeeperClient } from "../../src/client/index.js";
import { startCorral } from "../helpers/corral-process.js";
import { freePort } from "../helpers/free-port.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import {
  ConnectionClosedError,
  frame,
  JuteWriter,
  Op,
  Perm,
  RawClient,
  ReplyError,
} from "../helpers/raw-client.js";
import { issue, makeCa, opensslMissing, pkcs12, type Issued } from "../helpers/tls-certs.js";
import { waitFor } from "../helpers/wait.js";

const skip = opensslMissing();
const aliceDn = "CN=alice,O=Corral Test,C=US";
const bobDn = "CN=bob,O=Corral Test,C=US";

let dir = "";
let ca: Issued;
let otherCa: Issued;
let serverCert: Issued;
let alice: Issued;
let bob: Issued;
let mallory: Issued;
let server: ManagedServer | undefined;
let securePort = 0;
const tunnels: Array<() => Promise<void>> = [];

before(async () => {
  if (skip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), "corral-tls-"));
  ca = makeCa(dir, "ca", "/CN=Corral Test CA");
  otherCa = makeCa(dir, "other-ca", "/CN=Unrelated CA");
  serverCert = issue(dir, ca, "server", "/CN=localhost", "IP:127.0.0.1,DNS:localhost");
  alice = issue(dir, ca, "alice", "/C=US/O=Corral Test/CN=alice");
  bob = issue(dir, ca, "bob", "/C=US/O=Corral Test/CN=bob");
  mallory = issue(dir, otherCa, "mallory", "/C=US/O=Corral Test/CN=alice");
  securePort = await freePort();
  server = await startCorral({
    extraConfig: {
      serverCnxnFactory: "org.apache.zookeeper.server.NettyServerCnxnFactory",
      secureClientPort: String(securePort),
      secureClientPortAddress: "127.0.0.1",
      "ssl.keyStore.location": serverCert.keyStore,
      "ssl.trustStore.location": ca.cert,
      "client.certReload": "true",
    },
  });
});

after(async () => {
  for (const close of tunnels) await close();
  await server?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/**
 * A plain loopback port whose connections are carried over TLS to `port` with `options` (certificate, CA):
 * lets the plain-TCP RawClient speak to the TLS port.
 */
async function tunnel(port: number, options: ConnectionOptions): Promise<number> {
  const sockets = new Set<Socket>();
  const relay = createServer((plain) => {
    const secure = tlsConnect({ host: "127.0.0.1", port, ...options });
    sockets.add(plain).add(secure);
    const end = (): void => {
      plain.destroy();
      secure.destroy();
    };
    for (const s of [plain, secure]) {
      s.on("error", end);
      s.on("close", () => {
        sockets.delete(s);
        end();
      });
    }
    plain.pipe(secure).pipe(plain);
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  tunnels.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  });
  const a = relay.address();
  assert.ok(a !== null && typeof a === "object");
  return a.port;
}

/** Trusts our CA; presents `cert` when given. */
function clientOptions(cert: Issued | undefined): ConnectionOptions {
  const trust = { ca: readFileSync(ca.cert, "utf8") };
  if (cert === undefined) return trust;
  return { ...trust, cert: readFileSync(cert.cert, "utf8"), key: readFileSync(cert.key, "utf8") };
}

async function connectWith(port: number, cert: Issued | undefined): Promise<RawClient> {
  return RawClient.connect("127.0.0.1", await tunnel(port, clientOptions(cert)), { connectTimeoutMs: 5_000 });
}

/** whoAmI (opcode 107): the session's auth ids as [scheme, user]. */
async function whoAmI(client: RawClient): Promise<Array<[string, string]>> {
  const reply = await client.request(107, Buffer.alloc(0));
  assert.equal(reply.err, 0);
  const out: Array<[string, string]> = [];
  const n = reply.body.int();
  for (let i = 0; i < n; i++) out.push([reply.body.string() ?? "", reply.body.string() ?? ""]);
  return out;
}

async function getAcl(client: RawClient, path: string): Promise<Array<[number, string, string]>> {
  const reply = await client.request(Op.getACL, new JuteWriter().string(path).toBuffer());
  assert.equal(reply.err, 0);
  const n = reply.body.int();
  const out: Array<[number, string, string]> = [];
  for (let i = 0; i < n; i++)
    out.push([reply.body.int(), reply.body.string() ?? "", reply.body.string() ?? ""]);
  return out;
}

async function expectRefused(port: number, cert: Issued | undefined): Promise<void> {
  await assert.rejects(
    connectWith(port, cert),
    (err: Error) => err instanceof ConnectionClosedError || /ECONNRESET|closed/.test(err.message),
  );
}

test(
  "a client certificate signed by the trusted CA authenticates as x509:<subject DN> and x509 ACLs are enforced",
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(server);
    const a = await connectWith(securePort, alice);
    const b = await connectWith(securePort, bob);
    const plain = await RawClient.connect("127.0.0.1", server.port);
    try {
      assert.deepEqual(
        (await whoAmI(a)).filter(([scheme]) => scheme === "x509"),
        [["x509", aliceDn]],
      );
      await a.create("/tls-x509", Buffer.from("for alice"), 0, [
        { perms: Perm.all, scheme: "x509", id: aliceDn },
      ]);
      assert.equal((await a.getData("/tls-x509")).data?.toString(), "for alice");
      for (const other of [b, plain]) {
        await assert.rejects(other.getData("/tls-x509"), (e: ReplyError) => e.code === -102);
      }
      // "auth" expands to the certificate's id, as X509AuthenticationProvider.isAuthenticated says it may.
      await b.create("/tls-auth", null, 0, [{ perms: Perm.all, scheme: "auth", id: "" }]);
      assert.deepEqual(await getAcl(b, "/tls-auth"), [[Perm.all, "x509", bobDn]]);
      await assert.rejects(a.getData("/tls-auth"), (e: ReplyError) => e.code === -102);
      // An x509 ACL id that X500Principal would not parse is refused (InvalidACL).
      await assert.rejects(
        a.create("/tls-bad", null, 0, [{ perms: Perm.all, scheme: "x509", id: "not a name" }]),
        (e: ReplyError) => e.code === -114,
      );
    } finally {
      await Promise.all([a.close(), b.close(), plain.close()]);
    }
  },
);

test(
  "Corral's own client connects over TLS with the tls option and gets its certificate's x509 identity",
  { skip, timeout: 30_000 },
  async () => {
    const tls = (who: Issued) => ({
      ca: readFileSync(ca.cert),
      cert: readFileSync(who.cert),
      key: readFileSync(who.key),
    });
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${securePort}`, {
      sessionTimeoutMs: 10_000,
      tls: tls(alice),
    });
    try {
      const ids = await zk.whoAmI();
      assert.ok(
        ids.some((id) => id.authScheme === "x509" && id.user === aliceDn),
        `whoAmI: ${JSON.stringify(ids)}`,
      );
      await zk.create("/tls-client", "over tls");
      assert.equal(new TextDecoder().decode((await zk.getData("/tls-client")).data), "over tls");
    } finally {
      await zk.close();
    }
    // A certificate from an unrelated CA gets no session.
    await assert.rejects(
      ZooKeeperClient.connect(`127.0.0.1:${securePort}`, {
        sessionTimeoutMs: 4_000,
        connectTimeoutMs: 2_000,
        tls: { ...tls(mallory), ca: readFileSync(ca.cert) },
      }),
    );
  },
);

test(
  "the TLS port refuses a certificate from an unrelated CA and a client without one (clientAuth=need)",
  { skip, timeout: 30_000 },
  async () => {
    await expectRefused(securePort, mallory);
    await expectRefused(securePort, undefined);
    // The server still serves a good client afterwards.
    const a = await connectWith(securePort, alice);
    assert.equal((await a.getData("/")).stat.numChildren >= 0, true);
    await a.close();
  },
);

test(
  "requests sent right behind the ConnectRequest, as Java's Netty client sends them, are answered in order",
  { skip, timeout: 30_000 },
  async () => {
    const s = tlsConnect({ host: "127.0.0.1", port: securePort, ...clientOptions(alice) });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once("secureConnect", resolve);
        s.once("error", reject);
      });
      const connectRequest = new JuteWriter()
        .int(0)
        .long(0n)
        .int(30_000)
        .long(0n)
        .buffer(Buffer.alloc(16))
        .bool(false)
        .toBuffer();
      const exists = (xid: number): Buffer =>
        frame(new JuteWriter().int(xid).int(Op.exists).string("/").bool(false).toBuffer());
      let received = Buffer.alloc(0);
      s.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      s.write(Buffer.concat([frame(connectRequest), exists(1), exists(2)]));
      const frames = (): Buffer[] => {
        const out: Buffer[] = [];
        for (let at = 0; at + 4 <= received.length;) {
          const len = received.readInt32BE(at);
          if (at + 4 + len > received.length) break;
          out.push(received.subarray(at + 4, at + 4 + len));
          at += 4 + len;
        }
        return out;
      };
      await waitFor(() => frames().length >= 3, { timeoutMs: 10_000, message: "connect and two replies" });
      const [, first, second] = frames();
      // Reply header: xid, zxid, err.
      assert.deepEqual(
        [first!.readInt32BE(0), first!.readInt32BE(12), second!.readInt32BE(0), second!.readInt32BE(12)],
        [1, 0, 2, 0],
      );
    } finally {
      s.destroy();
    }
  },
);

test(
  "replaced key store files are used by the next connection without a restart (client.certReload)",
  { skip, timeout: 60_000 },
  async () => {
    const before = serverCert.fingerprint256;
    const seen = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host: "127.0.0.1", port: securePort, ...clientOptions(alice) }, () => {
          const fp = s.getPeerCertificate().fingerprint256;
          s.destroy();
          resolve(fp);
        });
        s.once("error", reject);
      });
    assert.equal(await seen(), before);
    const renewed = issue(dir, ca, "server", "/CN=localhost renewed", "IP:127.0.0.1,DNS:localhost");
    assert.notEqual(renewed.fingerprint256, before);
    await waitFor(async () => (await seen()) === renewed.fingerprint256, {
      timeoutMs: 20_000,
      intervalMs: 200,
      message: "a new TLS connection to present the renewed certificate",
    });
    serverCert = renewed;
    // Sessions still work over the renewed certificate.
    const a = await connectWith(securePort, alice);
    assert.equal((await a.getData("/tls-x509")).data?.toString(), "for alice");
    await a.close();
  },
);

test(
  "a password-protected PKCS#12 key store serves TLS; clientAuth=want admits clients without a certificate; superUser",
  { skip, timeout: 60_000 },
  async () => {
    const p12Cert = issue(dir, ca, "server-p12", "/CN=localhost", "IP:127.0.0.1,DNS:localhost");
    const p12 = pkcs12(dir, "server-p12", p12Cert, "s3cret", ca);
    const port = await freePort();
    const s = await startCorral({
      extraConfig: {
        secureClientPort: String(port),
        "ssl.keyStore.location": p12,
        "ssl.keyStore.password": "s3cret",
        "ssl.trustStore.location": ca.cert,
        "ssl.trustStore.type": "PEM",
        "ssl.clientAuth": "want",
        "X509AuthenticationProvider.superUser": bobDn,
      },
    });
    try {
      const anonymous = await connectWith(port, undefined);
      assert.deepEqual(
        (await whoAmI(anonymous)).map(([scheme]) => scheme),
        ["ip"],
      );
      await anonymous.close();
      const a = await connectWith(port, alice);
      assert.ok((await whoAmI(a)).some(([scheme, user]) => scheme === "x509" && user === aliceDn));
      await a.create("/alice-only", Buffer.from("a"), 0, [{ perms: Perm.all, scheme: "x509", id: aliceDn }]);
      await a.close();
      // X509AuthenticationProvider.superUser: bob's certificate is also the super user.
      const b = await connectWith(port, bob);
      assert.equal((await b.getData("/alice-only")).data?.toString(), "a");
      await b.close();
      // want still refuses a certificate it cannot trust.
      await expectRefused(port, mallory);
    } finally {
      await s.stop();
    }
  },
);

test(
  "start-up stops naming the key when secureClientPort has no usable key store",
  { skip, timeout: 60_000 },
  async () => {
    const port = await freePort();
    for (const [extra, key] of [
      [{}, "ssl.keyStore.location"],
      [{ "ssl.keyStore.location": join(dir, "missing.pem") }, "ssl.keyStore.location"],
      [{ "ssl.keyStore.location": alice.keyStore, "ssl.clientAuth": "sometimes" }, "ssl.clientAuth"],
      [{ "ssl.keyStore.location": join(dir, "store.jks") }, "ssl.keyStore.type"],
    ] as const) {
      await assert.rejects(
        startCorral({ startTimeoutMs: 15_000, extraConfig: { secureClientPort: String(port), ...extra } }),
        (e: Error) => e.message.includes(`config ${key}:`),
      );
    }
  },
);
