// `corral shell` prints what zkCli.sh 3.8 prints: the same commands through both against the same server give
// identical stdout, stderr and exit codes (zkCli's connection preamble removed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { corralBin } from "../helpers/corral-process.js";
import { runProcess, zkCli, type RunResult } from "../helpers/run-process.js";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";

const target = interopTarget();
const skip = skipReason(
  target,
  existsSync(zkCli) ? undefined : `${zkCli} is missing (apt-get install zookeeper)`,
  // zkCli itself needs java even when the server is Corral.
  target === "corral" ? skipReason("zookeeper") : undefined,
);

const runTimeoutMs = 60_000;

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runProcess(command, args, { env: { ...env, TZ: "UTC" }, timeoutMs: runTimeoutMs });
}

let server: ManagedServer | undefined;
let logDir: string | undefined;

before(async () => {
  if (skip !== undefined) return;
  server = await startServer(target);
  logDir = mkdtempSync(join(tmpdir(), "corral-shell-zkcli-"));
});
after(async () => {
  await server?.stop();
  if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
});

function corralShell(words: string[]): Promise<RunResult> {
  return run(process.execPath, [corralBin, "shell", "-server", server!.connectString, ...words], {});
}

/** zkCli.sh's output without its JVM noise and connection preamble (-waitforconnection prints it first). */
async function zkCliShell(words: string[]): Promise<RunResult> {
  const r = await run(zkCli, ["-server", server!.connectString, "-waitforconnection", ...words], {
    ZOO_LOG_DIR: logDir!,
    CLIENT_JVMFLAGS: "-Xmx128m -XX:+UseSerialGC",
  });
  const stdout = r.stdout
    .replace(/^Connecting to \S+\n/, "")
    .replace("\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n", "");
  const stderr = r.stderr
    .split("\n")
    .filter((l) => !l.startsWith("SLF4J:") && !l.startsWith("log4j:"))
    .join("\n");
  return { code: r.code, stdout, stderr };
}

const setup = [
  ["create", "/layout", "hello world"],
  ["create", "/layout/b", "bee"],
  ["create", "/layout/a"],
  ["create", "/layout/a/deep", ""],
  ["create", "/layout/Z", "zed"],
  ["set", "/layout", "hello again"],
  ["setquota", "-N", "10", "/layout"],
];

const compared = [
  ["ls", "/"],
  ["ls", "/layout"],
  ["ls", "-s", "/layout"],
  ["ls", "-R", "/layout"],
  ["ls", "/nope"],
  ["get", "/layout"],
  ["get", "-s", "/layout"],
  ["get", "/layout/a"],
  ["get", "/layout/a/deep"],
  ["get", "/nope"],
  ["get"],
  ["stat", "/layout"],
  ["stat", "/layout/b"],
  ["stat", "/nope"],
  ["getAcl", "-s", "/layout"],
  ["getAllChildrenNumber", "/layout"],
  ["sync", "/layout"],
  ["whoami"],
  ["delete", "/layout"],
  ["listquota", "/layout"],
  ["listquota", "/nope"],
  ["listquota"],
  ["setquota", "-n", "0", "/layout"],
  ["setquota", "-b", "x", "/layout"],
  ["setquota", "/layout"],
  ["setquota", "-n", "1", "-b", "2", "/layout"],
  ["setquota", "-n", "5", "/nope"],
  ["setquota", "-n", "5", "/layout/a"],
  ["delquota", "/nope"],
];

test(
  `corral shell and zkCli.sh print the same for ls, get, stat and friends on ${target}`,
  { skip, timeout: 300_000 },
  async () => {
    for (const words of setup) {
      const r = await corralShell(words);
      assert.equal(r.code, 0, `${words.join(" ")}: ${r.stderr}`);
    }
    for (const words of compared) {
      const [ours, theirs] = await Promise.all([corralShell(words), zkCliShell(words)]);
      assert.deepEqual(ours, theirs, `corral shell ${words.join(" ")} differs from zkCli.sh`);
    }
  },
);
