// The process log: corral.log.level from zoo.cfg (CORRAL_LOG_LEVEL wins), JSON lines when stderr is not a
// terminal, pretty lines with --log-format pretty, and no line per request at info.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ManagedServer, repoRoot, type ServerOptions } from "../helpers/managed-process.js";
import { corralBin } from "../helpers/corral-process.js";
import { RawClient, Op } from "../helpers/raw-client.js";
import { waitFor } from "../helpers/wait.js";
import { connect } from "node:net";

function start(
  options: ServerOptions,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Promise<ManagedServer> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.CORRAL_LOG_LEVEL;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return ManagedServer.start("corral", options, (configPath) => ({
    command: process.execPath,
    args: [corralBin, "server", configPath, ...args],
    cwd: repoRoot,
    env: childEnv,
  }));
}

/** A getData whose body is two bytes: the server answers MarshallingError and logs "bad request body" at debug. */
async function provokeDebugLine(server: ManagedServer): Promise<void> {
  const c = await RawClient.connect(server.host, server.port);
  const reply = await c.request(Op.getData, Buffer.from([0, 0]));
  assert.notEqual(reply.err, 0);
  c.destroy();
}

/**
 * Makes the server write a warn line (a frame with a negative length closes the connection) and waits for it:
 * stderr is written in order, so any line the server wrote before this one has arrived too.
 */
async function logMarker(server: ManagedServer): Promise<void> {
  const count = (): number => server.stderr.split("closing connection").length;
  const before = count();
  const s = connect({ host: server.host, port: server.port });
  s.on("error", () => undefined);
  s.on("connect", () => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff])));
  try {
    await waitFor(() => count() > before, { message: "the marker warn line" });
  } finally {
    s.destroy();
  }
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("corral.log.level=debug in zoo.cfg shows debug lines, as JSON lines when stderr is a pipe", async () => {
  const server = await start({ extraConfig: { "corral.log.level": "debug" } }, {});
  try {
    await provokeDebugLine(server);
    await waitFor(() => server.stderr.includes("bad request body"), { message: "the debug line" });
    const lines = jsonLines(server.stderr);
    const debug = lines.find((l) => l.msg === "bad request body");
    assert.equal(debug?.level, 20);
    assert.ok(lines.some((l) => l.msg === "serving clients" && l.level === 30));
  } finally {
    await server.stop();
  }
});

test("at the default level (info) debug lines do not appear, and requests write no line each", async () => {
  const server = await start({}, {});
  try {
    await waitFor(() => server.stderr.includes("serving clients"), { message: "start-up lines" });
    const before = jsonLines(server.stderr).length;
    const c = await RawClient.connect(server.host, server.port);
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.create(`/n${i}`, null)));
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.getData(`/n${i}`)));
    await c.close();
    await provokeDebugLine(server);
    await logMarker(server);
    // 400 requests and two sessions add no line each: only the marker's warn line (and nothing like 400).
    const after = jsonLines(server.stderr);
    assert.ok(after.length - before <= 2, `${after.length - before} lines for 400 requests`);
    assert.ok(!server.stderr.includes("bad request body"));
    assert.ok(after.every((l) => typeof l.level === "number" && l.level >= 30));
  } finally {
    await server.stop();
  }
});

test("CORRAL_LOG_LEVEL wins over zoo.cfg, and --log-format pretty writes human lines", async () => {
  const server = await start({ extraConfig: { "corral.log.level": "debug" } }, { CORRAL_LOG_LEVEL: "info" }, [
    "--log-format",
    "pretty",
  ]);
  try {
    await waitFor(() => server.stderr.includes("serving clients"), { message: "start-up lines" });
    await provokeDebugLine(server);
    await logMarker(server);
    assert.ok(!server.stderr.includes("bad request body"), "debug line suppressed by CORRAL_LOG_LEVEL=info");
    const serving = server.stderr.split("\n").find((l) => l.includes("serving clients"));
    assert.ok(serving !== undefined);
    assert.match(serving, /INFO/);
    assert.throws(() => JSON.parse(serving));
  } finally {
    await server.stop();
  }
});

test("a bad CORRAL_LOG_LEVEL or corral.log.level stops start-up naming it", async () => {
  await assert.rejects(start({}, { CORRAL_LOG_LEVEL: "loud" }, []), (e: Error) =>
    /CORRAL_LOG_LEVEL/.test(e.message),
  );
  await assert.rejects(start({ extraConfig: { "corral.log.level": "chatty" } }, {}, []), (e: Error) =>
    /corral\.log\.level/.test(e.message),
  );
});
