// Clients no one here wrote, over the TLS client port (secureClientPort): kazoo (use_ssl with PEM files) and
// ZooKeeper's own ZooKeeperMain (zkCli) over Netty with PKCS#12 stores made by openssl and keytool. Each creates a
// node guarded by an x509 ACL naming its certificate's subject, and reads it back.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../helpers/free-port.js";
import { RawClient, ReplyError } from "../helpers/raw-client.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { issue, makeCa, opensslMissing, pkcs12, type Issued } from "../helpers/tls-certs.js";
import { zookeeperClasspath } from "../helpers/zookeeper-process.js";

const python = "/usr/bin/python3";
const keytool = "/usr/bin/keytool";
const target = interopTarget();

function kazooMissing(): string | undefined {
  if (!existsSync(python)) return `${python} is missing`;
  if (!existsSync("/usr/lib/python3/dist-packages/kazoo")) return "python3-kazoo is not installed";
  return undefined;
}
function zkCliMissing(): string | undefined {
  if (!existsSync("/usr/share/java/zookeeper.jar"))
    return "zookeeper.jar is missing (apt-get install zookeeper)";
  if (!existsSync(keytool)) return `${keytool} is missing (a JDK's keytool)`;
  return undefined;
}
const serverSkip = skipReason(target, opensslMissing());

let dir = "";
let ca: Issued;
let server: ManagedServer | undefined;
let securePort = 0;

before(async () => {
  if (serverSkip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), "corral-tls-interop-"));
  ca = makeCa(dir, "ca", "/CN=Corral Interop CA");
  const serverCert = issue(dir, ca, "server", "/CN=localhost", "IP:127.0.0.1,DNS:localhost");
  securePort = await freePort();
  server = await startServer(target, {
    extraConfig: {
      // Apache ZooKeeper serves TLS only with Netty; Corral accepts and ignores the key.
      serverCnxnFactory: "org.apache.zookeeper.server.NettyServerCnxnFactory",
      secureClientPort: String(securePort),
      "ssl.keyStore.location": serverCert.keyStore,
      "ssl.trustStore.location": ca.cert,
    },
  });
});

after(async () => {
  await server?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** The node is readable only by the certificate's subject: a plain client gets NoAuth. */
async function onlyCertificateMayRead(path: string): Promise<void> {
  assert.ok(server);
  const plain = await RawClient.connect(server.host, server.port);
  try {
    await assert.rejects(plain.getData(path), (e: ReplyError) => e.code === -102);
  } finally {
    await plain.close();
  }
}

const kazooScript = `
import json, sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
hosts, ca, cert, key, dn = sys.argv[1:6]
zk = KazooClient(hosts=hosts, use_ssl=True, verify_certs=True, ca=ca, certfile=cert, keyfile=key, timeout=10)
zk.start(timeout=20)
path = zk.create("/kazoo-tls", b"kazoo over tls", acl=[make_acl("x509", dn, all=True)])
data, stat = zk.get(path)
acl, _ = zk.get_acls(path)
print(json.dumps({"path": path, "data": data.decode(), "acl": [[a.perms, a.id.scheme, a.id.id] for a in acl]}))
zk.stop()
zk.close()
`;

test(
  `kazoo over TLS creates and reads a node guarded by its certificate's x509 id on ${target}`,
  { skip: serverSkip ?? skipReason(target, kazooMissing()), timeout: 60_000 },
  async () => {
    const client = issue(dir, ca, "kazoo", "/C=US/O=Corral Interop/CN=kazoo client");
    const dn = "CN=kazoo client,O=Corral Interop,C=US";
    const { stdout } = await promisify(execFile)(
      python,
      ["-c", kazooScript, `127.0.0.1:${securePort}`, ca.cert, client.cert, client.key, dn],
      { timeout: 45_000 },
    );
    const out = JSON.parse(stdout) as { path: string; data: string; acl: unknown[] };
    assert.equal(out.path, "/kazoo-tls");
    assert.equal(out.data, "kazoo over tls");
    assert.deepEqual(out.acl, [[31, "x509", dn]]);
    await onlyCertificateMayRead("/kazoo-tls");
  },
);

test(
  `zkCli (ZooKeeperMain over Netty, PKCS#12 key and trust stores) creates and reads on ${target}`,
  { skip: serverSkip ?? skipReason(target, zkCliMissing()), timeout: 90_000 },
  async () => {
    const client = issue(dir, ca, "zkcli", "/C=US/O=Corral Interop/CN=zkcli client");
    const dn = "CN=zkcli client,O=Corral Interop,C=US";
    const keyStore = pkcs12(dir, "zkcli", client, "keypass", ca);
    const trustStore = join(dir, "truststore.p12");
    execFileSync(
      keytool,
      [
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        ca.cert,
        "-keystore",
        trustStore,
        "-storetype",
        "PKCS12",
        "-storepass",
        "trustpass",
      ],
      { stdio: "pipe" },
    );
    const zkCli = (...command: string[]): Promise<{ stdout: string; stderr: string }> =>
      promisify(execFile)(
        "java",
        [
          "-Xmx128m",
          "-XX:+UseSerialGC",
          "-Dzookeeper.client.secure=true",
          "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
          `-Dzookeeper.ssl.keyStore.location=${keyStore}`,
          "-Dzookeeper.ssl.keyStore.password=keypass",
          "-Dzookeeper.ssl.keyStore.type=PKCS12",
          `-Dzookeeper.ssl.trustStore.location=${trustStore}`,
          "-Dzookeeper.ssl.trustStore.password=trustpass",
          "-Dzookeeper.ssl.trustStore.type=PKCS12",
          "-cp",
          zookeeperClasspath,
          "org.apache.zookeeper.ZooKeeperMain",
          "-server",
          `127.0.0.1:${securePort}`,
          ...command,
        ],
        { timeout: 40_000 },
      );
    // zkCli's ACL syntax splits on commas, so the DN cannot be written out: "auth" expands to it on the server.
    const created = await zkCli("create", "/zkcli-tls", "zkcli over tls", "auth::cdrwa");
    assert.match(created.stdout + created.stderr, /Created \/zkcli-tls/);
    const read = await zkCli("get", "/zkcli-tls");
    assert.match(read.stdout, /^zkcli over tls$/m);
    const acl = await zkCli("getAcl", "/zkcli-tls");
    // Id.toString() is jute's CSV form: a quote before each string, commas as %2C.
    assert.match(acl.stdout, new RegExp(`^'x509,'${dn.replace(/,/g, "%2C")}\n: cdrwa$`, "m"));
    const who = await zkCli("whoami");
    assert.match(who.stdout, new RegExp(`^x509: ${dn}$`, "m"));
    await onlyCertificateMayRead("/zkcli-tls");
  },
);
