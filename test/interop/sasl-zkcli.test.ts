// SASL DIGEST-MD5 with ZooKeeper's own shell: zkCli.sh given a client JAAS file authenticates against a server
// given the server JAAS file, and the sasl ACL scheme admits it and no one else. INTEROP_TARGET=zookeeper runs
// the same script against Apache ZooKeeper 3.8 (started with -Djava.security.auth.login.config).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { ManagedServer as Managed, repoRoot } from "../helpers/managed-process.js";
import { zookeeperClasspath } from "../helpers/zookeeper-process.js";
import { runProcess, zkCli } from "../helpers/run-process.js";

const target = interopTarget();
const skip = skipReason(
  target,
  existsSync(zkCli) ? undefined : `${zkCli} is missing (apt-get install zookeeper)`,
);
const saslProvider = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
const zkCliTimeoutMs = 60_000;

const serverJaas = `Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
`;
const clientJaas = (password: string): string => `Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="${password}";
};
`;

let dir: string | undefined;
let server: ManagedServer | undefined;

before(async () => {
  if (skip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), "corral-sasl-"));
  const jaas = join(dir, "server.jaas");
  writeFileSync(jaas, serverJaas);
  writeFileSync(join(dir, "bob.jaas"), clientJaas("bobsecret"));
  writeFileSync(join(dir, "wrong.jaas"), clientJaas("not-bobs-password"));
  const extraConfig = { "authProvider.1": saslProvider };
  server =
    target === "corral"
      ? await startServer("corral", { extraConfig: { ...extraConfig, jaasLoginConfig: jaas } })
      : await Managed.start("zookeeper", { extraConfig }, (configPath) => ({
          command: "java",
          args: [
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-Dzookeeper.admin.enableServer=false",
            `-Djava.security.auth.login.config=${jaas}`,
            "-cp",
            zookeeperClasspath,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain",
            configPath,
          ],
          cwd: repoRoot,
        }));
});
after(async () => {
  await server?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs zkCli.sh with `commands` on stdin (it exits at their end) and returns everything it printed. A JAAS file
 * goes to its JVM as -Djava.security.auth.login.config; without one it does not attempt SASL. `exitCode`: what
 * zkCli.sh must exit with (1 after a failed authentication).
 */
async function runZkCli(jaasFile: string | undefined, commands: string[], exitCode = 0): Promise<string> {
  assert.ok(server && dir);
  const flags = ["-Xmx128m", "-XX:+UseSerialGC"];
  if (jaasFile !== undefined) flags.push(`-Djava.security.auth.login.config=${jaasFile}`);
  const r = await runProcess(zkCli, ["-server", server.connectString], {
    env: { ZOO_LOG_DIR: dir, CLIENT_JVMFLAGS: flags.join(" ") },
    input: commands.join("\n") + "\n",
    timeoutMs: zkCliTimeoutMs,
  });
  const code = r.code;
  const output = r.stdout + r.stderr;
  assert.equal(code, exitCode, `zkCli.sh exited with ${code}; output:\n${output}`);
  return output;
}

test(
  `zkCli.sh authenticates with DIGEST-MD5 on ${target}; sasl:bob admits bob only`,
  { skip, timeout: 4 * zkCliTimeoutMs },
  async () => {
    assert.ok(dir);
    const bob = await runZkCli(join(dir, "bob.jaas"), [
      "create /n data",
      "setAcl /n sasl:bob:cdrwa",
      "get /n",
      "getAcl /n",
      "create /n/child c",
      "ls /n",
      "whoami",
      "quit",
    ]);
    assert.match(bob, /WatchedEvent state:SaslAuthenticated type:None path:null/, bob);
    assert.doesNotMatch(bob, /AuthFailed|SaslException|SASL authentication failed/, bob);
    assert.match(bob, /Created \/n\n/, bob);
    assert.match(bob, /^data$/m, bob);
    assert.match(bob, /^'sasl,'bob\n: cdrwa$/m, bob);
    assert.match(bob, /Created \/n\/child\n/, bob);
    assert.match(bob, /^\[child\]$/m, bob);
    assert.match(bob, /^sasl: bob$/m, bob);

    // The same user with a wrong password: the server refuses the exchange and closes the connection.
    const wrong = await runZkCli(join(dir, "wrong.jaas"), ["get /n", "quit"], 1);
    assert.match(wrong, /WatchedEvent state:AuthFailed type:None path:null/, wrong);
    assert.doesNotMatch(wrong, /SaslAuthenticated/, wrong);
    assert.doesNotMatch(wrong, /^data$/m, wrong);

    // No JAAS file: no SASL, and the node's ACL refuses the read.
    const anonymous = await runZkCli(undefined, ["get /n", "ls /n", "quit"], 1);
    assert.match(anonymous, /WatchedEvent state:SyncConnected type:None path:null/, anonymous);
    assert.match(anonymous, /Insufficient permission : \/n/, anonymous);
    assert.doesNotMatch(anonymous, /^data$/m, anonymous);
  },
);
