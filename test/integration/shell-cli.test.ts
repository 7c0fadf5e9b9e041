// `corral shell` against a real `corral server`: one command per run (output and exit codes), and commands
// piped through stdin.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { corralBin, startCorral } from "../helpers/corral-process.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { repoRoot } from "../helpers/managed-process.js";

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const runTimeoutMs = 20_000;

/** Runs `corral shell -server <server> ...args`, feeding `input` on stdin; kills only that child on timeout. */
function shell(server: ManagedServer, args: string[], input = ""): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [corralBin, "shell", "-server", server.connectString, ...args], {
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, TZ: "UTC" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `corral shell ${args.join(" ")} did not exit within ${runTimeoutMs} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, runTimeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const statLines =
  /^cZxid = 0x[0-9a-f]+\nctime = \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}\nmZxid = 0x[0-9a-f]+\nmtime = .+\npZxid = 0x[0-9a-f]+\ncversion = \d+\ndataVersion = (\d+)\naclVersion = \d+\nephemeralOwner = 0x[0-9a-f]+\ndataLength = (\d+)\nnumChildren = (\d+)\n$/;

let server: ManagedServer;
before(async () => {
  server = await startCorral();
});
after(async () => {
  await server?.stop();
});

test(
  "corral shell runs one command per invocation with zkCli's output and exit codes",
  { timeout: 90_000 },
  async () => {
    assert.deepEqual(await shell(server, ["ls", "/"]), { code: 0, stdout: "[zookeeper]\n", stderr: "" });

    const created = await shell(server, ["create", "/app", "hello world"]);
    assert.deepEqual(created, { code: 0, stdout: "Created /app\n", stderr: "" });
    const again = await shell(server, ["create", "/app", "x"]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, "Node already exists: /app\n");

    assert.deepEqual(await shell(server, ["get", "/app"]), { code: 0, stdout: "hello world\n", stderr: "" });
    const getS = await shell(server, ["get", "-s", "/app"]);
    assert.equal(getS.code, 0);
    assert.ok(getS.stdout.startsWith("hello world\n"));
    assert.match(getS.stdout.slice("hello world\n".length), statLines);

    const set = await shell(server, ["set", "-s", "/app", "v2"]);
    assert.equal(set.code, 0);
    const setStat = statLines.exec(set.stdout);
    assert.ok(setStat, set.stdout);
    assert.equal(setStat[1], "1");
    assert.equal(setStat[2], "2");
    const badVersion = await shell(server, ["set", "-v", "7", "/app", "v3"]);
    assert.deepEqual(badVersion, { code: 1, stdout: "", stderr: "version No is not valid : /app\n" });

    const stat = await shell(server, ["stat", "/app"]);
    assert.equal(stat.code, 0);
    assert.match(stat.stdout, statLines);
    assert.deepEqual(await shell(server, ["stat", "/nope"]), {
      code: 1,
      stdout: "",
      stderr: "Node does not exist: /nope\n",
    });

    assert.equal((await shell(server, ["create", "/app/child"])).code, 0);
    assert.deepEqual(await shell(server, ["get", "/app/child"]), { code: 0, stdout: "null\n", stderr: "" });
    assert.deepEqual(await shell(server, ["ls", "-R", "/app"]), {
      code: 0,
      stdout: "/app\n/app/child\n",
      stderr: "",
    });
    assert.deepEqual(await shell(server, ["delete", "/app"]), {
      code: 1,
      stdout: "",
      stderr: "Node not empty: /app\n",
    });
    assert.deepEqual(await shell(server, ["deleteall", "/app"]), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await shell(server, ["ls", "/"]), { code: 0, stdout: "[zookeeper]\n", stderr: "" });

    const unknown = await shell(server, ["bogus"]);
    assert.equal(unknown.code, 127);
    assert.match(unknown.stderr, /Command not found: bogus\n$/);
    const usage = await shell(server, ["get"]);
    assert.deepEqual(usage, { code: 1, stdout: "", stderr: "get [-s] [-w] path\n" });
  },
);

test(
  "corral shell reads commands from piped stdin, prints watch events, and exits with the last failure",
  { timeout: 60_000 },
  async () => {
    const input = [
      "create /piped one",
      "get -w /piped",
      "set /piped two",
      "get /nope",
      "getAcl /piped",
      "ls /",
      "history",
      "redo 5",
      "delete /piped",
      "quit",
      "ls /",
    ].join("\n");
    const r = await shell(server, [], input + "\n");
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout,
      [
        "Created /piped",
        "one",
        "",
        "WATCHER::",
        "",
        "WatchedEvent state:SyncConnected type:NodeDataChanged path:/piped",
        "'world,'anyone",
        ": cdrwa",
        "[piped, zookeeper]",
        "0 - create /piped one",
        "1 - get -w /piped",
        "2 - set /piped two",
        "3 - get /nope",
        "4 - getAcl /piped",
        "5 - ls /",
        "6 - history",
        "[piped, zookeeper]",
        "",
      ].join("\n"),
    );
    assert.equal(r.stderr, "Node does not exist: /nope\n");
    assert.deepEqual(await shell(server, ["ls", "/"]), { code: 0, stdout: "[zookeeper]\n", stderr: "" });

    const ok = await shell(server, [], "ls /\nsync /\n");
    assert.deepEqual(ok, { code: 0, stdout: "[zookeeper]\nSync is OK\n", stderr: "" });
  },
);
