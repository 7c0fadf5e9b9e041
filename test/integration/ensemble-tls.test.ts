// sslQuorum=true: a three-member ensemble whose peer links are TLS with mutual authentication elects a leader and
// replicates writes; its quorum ports speak only TLS and refuse a certificate from an unrelated CA.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { CorralEnsemble } from "../helpers/corral-ensemble.js";
import { RawClient } from "../helpers/raw-client.js";
import { issue, makeCa, opensslMissing, type Issued } from "../helpers/tls-certs.js";
import { waitFor, withTimeout } from "../helpers/wait.js";

const skip = opensslMissing();
let dir = "";
let ca: Issued;
let peer: Issued;
let stranger: Issued;
let ensemble: CorralEnsemble | undefined;

before(async () => {
  if (skip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), "corral-ensemble-tls-"));
  ca = makeCa(dir, "ca", "/CN=Corral Quorum CA");
  const otherCa = makeCa(dir, "other-ca", "/CN=Unrelated CA");
  peer = issue(dir, ca, "peer", "/CN=corral peer", "IP:127.0.0.1,DNS:localhost");
  stranger = issue(dir, otherCa, "stranger", "/CN=corral peer", "IP:127.0.0.1,DNS:localhost");
  ensemble = await CorralEnsemble.start({
    extraConfig: {
      sslQuorum: "true",
      "ssl.quorum.keyStore.location": peer.keyStore,
      "ssl.quorum.trustStore.location": ca.cert,
      sslQuorumReloadCertFiles: "true",
    },
  });
});

after(async () => {
  await ensemble?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** The quorum ports of zoo.cfg's server.N lines. */
function quorumPorts(e: CorralEnsemble): number[] {
  const cfg = readFileSync(e.members[0]!.configPath, "utf8");
  return [...cfg.matchAll(/^server\.\d+=[^:]+:(\d+):/gm)].map((m) => Number(m[1]));
}

/** How a TLS connection to `port` presenting `cert` ends: the server certificate's fingerprint once the handshake
 * passes, else "refused". */
function tlsProbe(port: number, cert: Issued): Promise<string> {
  return withTimeout(
    new Promise((resolve) => {
      const s = tlsConnect({
        host: "127.0.0.1",
        port,
        ca: readFileSync(ca.cert, "utf8"),
        cert: readFileSync(cert.cert, "utf8"),
        key: readFileSync(cert.key, "utf8"),
      });
      s.once("secureConnect", () => {
        const fingerprint = s.getPeerCertificate().fingerprint256;
        s.destroy();
        resolve(fingerprint);
      });
      s.once("error", () => resolve("refused"));
      s.once("close", () => resolve("refused"));
    }),
    10_000,
    `TLS probe of port ${port}`,
  );
}

test(
  "three members with sslQuorum=true elect a leader and replicate a write to every member",
  { skip, timeout: 90_000 },
  async () => {
    assert.ok(ensemble);
    const leader = await ensemble.waitForQuorum();
    const writer = await RawClient.connect("127.0.0.1", ensemble.member(leader.id === 1 ? 2 : 1).clientPort);
    await writer.create("/over-tls", Buffer.from("replicated"));
    await writer.close();
    for (const m of ensemble.members) {
      const c = await RawClient.connect("127.0.0.1", m.clientPort);
      try {
        await waitFor(async () => (await c.getData("/over-tls")).data?.toString() === "replicated", {
          timeoutMs: 10_000,
          message: `server ${m.id} to apply the write`,
        });
      } finally {
        await c.close();
      }
    }
  },
);

test(
  "quorum ports complete a TLS handshake only for a certificate of the trusted CA, and drop plain TCP",
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(ensemble);
    const ports = quorumPorts(ensemble);
    assert.equal(ports.length, 3);
    for (const port of ports) {
      assert.equal(await tlsProbe(port, peer), peer.fingerprint256);
      assert.equal(await tlsProbe(port, stranger), "refused");
    }
    // A plain peer handshake frame is not TLS: the member closes the connection.
    const plain = connect({ host: "127.0.0.1", port: ports[0]! });
    const closed = new Promise<void>((resolve) => plain.once("close", () => resolve()));
    plain.on("error", () => undefined);
    plain.write(Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9]));
    await withTimeout(closed, 10_000, "the quorum port to close a plain connection");
    // The ensemble still has its leader after the probes.
    await ensemble.waitForQuorum();
  },
);

test(
  "with sslQuorumReloadCertFiles, replaced quorum certificate files are served by new peer connections",
  { skip, timeout: 60_000 },
  async () => {
    assert.ok(ensemble);
    const renewed = issue(dir, ca, "peer", "/CN=corral peer renewed", "IP:127.0.0.1,DNS:localhost");
    for (const port of quorumPorts(ensemble)) {
      await waitFor(async () => (await tlsProbe(port, renewed)) === renewed.fingerprint256, {
        timeoutMs: 20_000,
        intervalMs: 200,
        message: `quorum port ${port} to present the renewed certificate`,
      });
    }
    const c = await RawClient.connect("127.0.0.1", ensemble.member(3).clientPort);
    await c.create("/after-reload", null);
    await c.close();
  },
);
