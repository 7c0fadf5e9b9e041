// The ZooKeeper C client (cli_mt from Debian's zookeeper-bin) creates, reads, lists, updates and deletes.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { interopTarget, skipReason, startServer, type ManagedServer } from "../helpers/servers.js";
import { waitFor } from "../helpers/wait.js";

const cliMt = "/usr/lib/zookeeper/bin/cli_mt";
const target = interopTarget();
const missing = existsSync(cliMt) ? undefined : `${cliMt} is missing (Debian zookeeper-bin)`;
const skip = skipReason(target, missing);

let server: ManagedServer | undefined;
let cli: ChildProcess | undefined;
before(async () => {
  if (skip === undefined) server = await startServer(target);
});
after(async () => {
  cli?.kill("SIGKILL");
  await server?.stop();
});

test(`the C client creates, reads, lists and deletes on ${target}`, { skip, timeout: 60_000 }, async () => {
  assert.ok(server);
  // cli_mt writes through stdio: unbuffer it so each answer arrives as it is printed.
  const child = spawn("stdbuf", ["-o0", "-e0", cliMt, server.connectString], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  cli = child;
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  await waitFor(() => out.includes("CONNECTED_STATE"), { timeoutMs: 20_000, message: "cli_mt to connect" });
  // Sends one command and waits for its answer (its "rc = " line, or `until`); returns what it printed.
  const run = async (cmd: string, until = /rc = -?\d+/): Promise<string> => {
    const start = out.length;
    child.stdin!.write(cmd + "\n");
    await waitFor(() => until.test(out.slice(start)), {
      timeoutMs: 10_000,
      message: `cli_mt to answer ${cmd}`,
    });
    return out.slice(start);
  };
  assert.match(await run("create /c-client"), /\[\/c-client\]: rc = 0/);
  assert.match(await run("create /c-client/child"), /rc = 0/);
  const ls = await run("ls /c-client", /rc = 0\n\tchild\n/);
  assert.match(ls, /\/c-client: rc = 0/);
  assert.match(ls, /\tchild/);
  assert.match(await run("get /c-client"), /\/c-client: rc = 0/);
  assert.match(await run("get /c-client/missing"), /rc = -101/);
  assert.match(await run("delete /c-client"), /rc = -111/); // not empty
  assert.match(await run("delete /c-client/child"), /rc = 0/);
  assert.match(await run("delete /c-client"), /rc = 0/);
  assert.match(await run("get /c-client"), /rc = -101/);
  child.stdin!.end("quit\n");
});
