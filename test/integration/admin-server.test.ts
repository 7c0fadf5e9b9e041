// The admin HTTP server: every ZooKeeper command (and alias) answers JSON with `command` and `error`; unknown names
// answer 404; snapshot and restore need credentials the root's ACL allows; restore replaces a running server's state.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { startCorral } from "../helpers/corral-process.js";
import { CorralEnsemble } from "../helpers/corral-ensemble.js";
import type { ManagedServer } from "../helpers/managed-process.js";
import { freePort } from "../helpers/free-port.js";
import { fourLetterWord } from "../helpers/four-letter-word.js";
import { waitFor } from "../helpers/wait.js";
import { ZooKeeperClient, digestAcl, digestId } from "../../src/client/index.js";
import { configFromProperties } from "../../src/server/config.js";
import { ConfigError } from "../../src/base/errors.js";
import { loadSnapshotFile } from "../../src/storage/snapshot-stream.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const servers: ManagedServer[] = [];
const clients: ZooKeeperClient[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const s of servers) await s.stop();
});

const superAuth = "super:secret";
const superDigest = digestId("super", "secret");

/** Every command of ZooKeeper 3.8's Commands with its aliases, plus 3.9's snapshot and restore. */
const commandNames: Record<string, string[]> = {
  configuration: ["conf", "config"],
  connection_stat_reset: ["crst"],
  connections: ["cons"],
  dirs: [],
  dump: [],
  environment: ["env", "envi"],
  get_trace_mask: ["gtmk"],
  hash: [],
  initial_configuration: ["icfg"],
  is_read_only: ["isro"],
  last_snapshot: ["lsnp"],
  leader: ["lead"],
  monitor: ["mntr"],
  observer_connection_stat_reset: ["orst"],
  observers: ["obsr"],
  restore: ["rest"],
  ruok: [],
  server_stats: ["srvr"],
  set_trace_mask: ["stmk"],
  snapshot: ["snap"],
  stat_reset: ["srst"],
  stats: ["stat"],
  system_properties: ["sysp"],
  voting_view: [],
  watch_summary: ["wchs"],
  watches: ["wchc"],
  watches_by_path: ["wchp"],
  zabstate: [],
};

interface Admin {
  server: ManagedServer;
  base: string;
}

async function startWithAdmin(extra: Record<string, string> = {}): Promise<Admin> {
  const adminPort = await freePort();
  const server = await startCorral({
    superDigest,
    extraConfig: {
      "admin.enableServer": "true",
      "admin.serverAddress": "127.0.0.1",
      "admin.serverPort": String(adminPort),
      ...extra,
    },
  });
  servers.push(server);
  return { server, base: `http://127.0.0.1:${adminPort}/commands` };
}

async function connect(server: ManagedServer): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(server.connectString, { sessionTimeoutMs: 10_000 });
  clients.push(zk);
  return zk;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: Record<string, unknown>;
}

async function get(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    text,
    body: JSON.parse(text) as Record<string, unknown>,
  };
}

test("every command and alias answers 200 JSON with its primary name and error null", async () => {
  const { server, base } = await startWithAdmin();
  const zk = await connect(server);
  await zk.create("/eph", "e", { mode: "ephemeral" });
  await zk.create("/watched", "w");
  await zk.getData("/watched", { watch: () => undefined });

  const list = await fetch(base);
  assert.equal(list.status, 200);
  const html = await list.text();
  const listed = [...html.matchAll(/<a href="\/commands\/([a-z_]+)">/g)].map((m) => m[1]);
  assert.deepEqual(listed, Object.keys(commandNames).sort());
  const json = await get(base, { headers: { accept: "application/json" } });
  assert.deepEqual(json.body.commands, Object.keys(commandNames).sort());

  for (const [primary, aliases] of Object.entries(commandNames)) {
    if (primary === "snapshot" || primary === "restore") continue; // need auth: tested below
    for (const name of [primary, ...aliases]) {
      const query = primary === "set_trace_mask" ? "?traceMask=306" : "";
      const a = await get(`${base}/${name}${query}`);
      assert.equal(a.status, 200, name);
      assert.equal(a.contentType, "application/json", name);
      assert.equal(a.body.command, primary, name);
      // ZooKeeper's LeaderCommand answers a standalone server with this error.
      assert.equal(
        a.body.error,
        primary === "leader" ? "server is not initialized" : null,
        `${name}: ${a.text}`,
      );
    }
  }

  // The values are the server's, as the four-letter words report them.
  const dump = await get(`${base}/dump`);
  const sid = zk.sessionId.toString();
  assert.deepEqual(dump.body.session_id_to_ephemeral_paths, { [sid]: ["/eph"] });
  // Session ids past 2^53 are written with all their digits, as Jackson writes a long.
  assert.match(dump.text, new RegExp(`"${sid}" : \\[ "/eph" \\]`));
  assert.deepEqual((await get(`${base}/watches_by_path`)).body.path_to_session_ids, {
    "/watched": [Number(sid)],
  });
  assert.match((await get(`${base}/watches`)).text, new RegExp(`"${sid}" : \\[ "/watched" \\]`));
  const summary = (await get(`${base}/watch_summary`)).body;
  assert.deepEqual([summary.num_connections, summary.num_paths, summary.num_total_watches], [1, 1, 1]);
  const stats = (await get(`${base}/stats`)).body;
  assert.equal(stats.node_count, 5 + 2);
  assert.equal((stats.connections as unknown[]).length, 1);
  assert.equal((stats.server_stats as Record<string, unknown>).server_state, "standalone");
  const monitor = (await get(`${base}/monitor`)).body;
  assert.equal(monitor.znode_count, 5 + 2);
  assert.equal(monitor.ephemerals_count, 1);
  assert.equal(monitor.server_state, "standalone");
  const cons = (await get(`${base}/connections`)).body.connections as Array<Record<string, unknown>>;
  assert.equal(cons.length, 1);
  assert.match(cons[0]!.remote_socket_address as string, /^127\.0\.0\.1:\d+$/);
  assert.equal((await get(`${base}/configuration`)).body.client_port, server.port);
  assert.match(
    (await get(`${base}/initial_configuration`)).body.initial_configuration as string,
    new RegExp(`clientPort=${server.port}\n`),
  );
  assert.equal((await get(`${base}/is_read_only`)).body.read_only, false);

  // set_trace_mask sets what get_trace_mask and gtmk show; a bad mask is an error, not a change.
  assert.equal((await get(`${base}/set_trace_mask?traceMask=4095`)).body.tracemask, 4095);
  assert.equal((await get(`${base}/get_trace_mask`)).body.tracemask, 4095);
  assert.equal(await fourLetterWord(server.host, server.port, "gtmk"), "4095");
  const bad = await get(`${base}/set_trace_mask?traceMask=x`);
  assert.equal(bad.body.error, "setTraceMask requires long traceMask argument, got x");
  assert.equal((await get(`${base}/get_trace_mask`)).body.tracemask, 4095);

  // stat_reset clears the counters srvr reports.
  await get(`${base}/stat_reset`);
  const reset = (await get(`${base}/server_stats`)).body.server_stats as Record<string, unknown>;
  assert.equal(reset.packets_received, 0);
});

test("unknown commands, other paths and wrong methods answer JSON errors", async () => {
  const { base } = await startWithAdmin();
  const unknown = await get(`${base}/no_such_command`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.contentType, "application/json");
  assert.deepEqual(unknown.body, { command: "no_such_command", error: "Unknown command: no_such_command" });
  const other = await get(base.replace("/commands", "/elsewhere"));
  assert.equal(other.status, 404);
  assert.equal(typeof other.body.error, "string");
  const wrong = await get(`${base}/ruok`, { method: "POST", body: "x" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.body.command, "ruok");
  const getRestore = await get(`${base}/restore`);
  assert.equal(getRestore.status, 405);
});

test("snapshot and restore need credentials that the root's ACL allows ALL", async () => {
  const { server, base } = await startWithAdmin();
  for (const name of ["snapshot", "restore"]) {
    const init: RequestInit = name === "restore" ? { method: "POST", body: "x" } : {};
    const none = await get(`${base}/${name}`, init);
    assert.equal(none.status, 401, name);
    assert.deepEqual(none.body, { command: name, error: "Auth info is missing for the command" });
    const scheme = await get(`${base}/${name}`, { ...init, headers: { authorization: "kerberos x" } });
    assert.equal(scheme.status, 401, name);
    assert.equal(scheme.body.error, "Not authenticated");
  }
  // Only admin (and the super user) may have ALL on "/".
  const zk = await connect(server);
  await zk.addAuth("digest", superAuth);
  await zk.setACL("/", [digestAcl("admin", "pw")]);
  const other = await get(`${base}/snapshot`, { headers: { authorization: "digest someone:pw" } });
  assert.equal(other.status, 403);
  assert.deepEqual(other.body, { command: "snapshot", error: "Not authorized" });
  const ip = await get(`${base}/snapshot`, { headers: { authorization: "ip" } });
  assert.equal(ip.status, 403);
  for (const auth of ["digest admin:pw", `digest ${superAuth}`]) {
    const res = await fetch(`${base}/snapshot`, { headers: { authorization: auth } });
    assert.equal(res.status, 200, auth);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.match(res.headers.get("last_zxid") ?? "", /^0x[0-9a-f]+$/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(String(bytes.length), res.headers.get("snapshot_size"));
  }
});

test("restore replaces a running server's state with a snapshot, and it stays after a restart", async () => {
  const { server, base } = await startWithAdmin();
  const auth = { authorization: "digest admin:pw" };
  const zk = await connect(server);
  await zk.create("/before", "b");
  const snap = await fetch(`${base}/snapshot?streaming=true`, { headers: auth });
  assert.equal(snap.status, 200);
  const snapZxid = BigInt(snap.headers.get("last_zxid")!);
  const bytes = new Uint8Array(await snap.arrayBuffer());
  const after = await zk.create2("/after", "a");
  assert.ok(after.stat.czxid > snapZxid);

  // streaming=false writes the snapshot to dataDir instead; last_snapshot then names it.
  const onDisk = await get(`${base}/snapshot?streaming=false`, { headers: auth });
  assert.equal(onDisk.status, 200);
  assert.equal(onDisk.body.error, null);
  const last = (await get(`${base}/last_snapshot`)).body;
  assert.equal(BigInt(`0x${last.zxid as string}`), after.stat.czxid);
  // The streamed snapshot (rebuilt from the data dir off the event loop) is the live tree the server wrote itself.
  const streamed = await fetch(`${base}/snapshot`, { headers: auth });
  assert.equal(BigInt(streamed.headers.get("last_zxid")!), after.stat.czxid);
  const streamedFile = join(server.baseDir, "streamed.snap");
  writeFileSync(streamedFile, new Uint8Array(await streamed.arrayBuffer()));
  const written = join(server.dataDir, "version-2", `snapshot.${after.stat.czxid.toString(16)}`);
  assert.equal(
    (await loadSnapshotFile(streamedFile)).tree.digest(),
    (await loadSnapshotFile(written)).tree.digest(),
  );
  assert.doesNotMatch(server.stderr, /snapshot from the data dir failed/);

  const bad = await get(`${base}/restore`, { method: "POST", headers: auth, body: "not a snapshot" });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error as string, /not a valid snapshot/);
  assert.notEqual(await zk.exists("/after"), null, "a refused restore changes nothing");

  const restored = await get(`${base}/restore`, { method: "POST", headers: auth, body: bytes });
  assert.equal(restored.status, 200, restored.text);
  assert.equal(restored.body.error, null);
  const lastZxid = BigInt(restored.body.last_zxid as number);
  assert.ok(lastZxid > after.stat.czxid, "the server continues past every zxid it had logged");

  const fresh = await connect(server);
  await waitFor(async () => (await fresh.exists("/before")) !== null, { message: "the restored tree" });
  assert.equal(await fresh.exists("/after"), null);
  const next = await fresh.create2("/next", "n");
  assert.ok(next.stat.czxid > lastZxid);

  await server.restart();
  const again = await connect(server);
  assert.deepEqual((await again.getChildren("/")).sort(), ["before", "next", "zookeeper"]);
});

test("an admin port in use is logged as a warning and the server serves anyway", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const server = await startCorral({
      extraConfig: {
        "admin.enableServer": "true",
        "admin.serverAddress": "127.0.0.1",
        "admin.serverPort": String(port),
      },
    });
    servers.push(server);
    assert.equal(await fourLetterWord(server.host, server.port, "ruok"), "imok");
    await waitFor(() => server.stderr.includes("cannot start the admin server"), { message: "the warning" });
  } finally {
    blocker.close();
  }
});

test("admin.snapshot.enabled and admin.restore.enabled turn the two commands off (503)", async () => {
  const { base } = await startWithAdmin({
    "admin.snapshot.enabled": "false",
    "admin.restore.enabled": "false",
  });
  const auth = { authorization: "digest admin:pw" };
  const snap = await get(`${base}/snapshot`, { headers: auth });
  assert.equal(snap.status, 503);
  assert.match(snap.body.error as string, /admin\.snapshot\.enabled/);
  const rest = await get(`${base}/restore`, { method: "POST", headers: auth, body: "x" });
  assert.equal(rest.status, 503);
  assert.match(rest.body.error as string, /admin\.restore\.enabled/);
});

test("admin.enableServer=false starts no admin server", async () => {
  const port = await freePort();
  const server = await startCorral({
    extraConfig: { "admin.enableServer": "false", "admin.serverPort": String(port) },
  });
  servers.push(server);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/commands/ruok`));
});

test("admin.commandURL moves the commands; bad admin.* values stop start-up naming the key", async () => {
  const { base } = await startWithAdmin({ "admin.commandURL": "/zk/admin" });
  const moved = await get(base.replace("/commands", "/zk/admin/ruok"));
  assert.equal(moved.status, 200);
  assert.equal(moved.body.command, "ruok");
  assert.equal((await get(`${base}/ruok`)).status, 404);

  const props = (extra: Record<string, string>): Map<string, string> =>
    new Map(Object.entries({ dataDir: "/tmp/x", ...extra }));
  const c = configFromProperties(props({}), "/");
  assert.deepEqual(
    [c.adminEnableServer, c.adminServerAddress, c.adminServerPort, c.adminCommandUrl, c.adminIdleTimeoutMs],
    [true, "0.0.0.0", 8080, "/commands", 30000],
  );
  for (const [key, value] of [
    ["admin.serverPort", "99999"],
    ["admin.enableServer", "maybe"],
    ["admin.commandURL", "commands"],
    ["admin.idleTimeout", "0"],
  ]) {
    assert.throws(
      () => configFromProperties(props({ [key!]: value! }), "/"),
      (e: unknown) => e instanceof ConfigError && e.key === key,
      key,
    );
  }
});

test(
  "an ensemble member answers leader, voting_view and zabstate from its quorum role",
  { timeout: 60_000 },
  async () => {
    const adminPort = await freePort();
    // Every member is given the same admin port: the first to bind serves it, the others warn and run without.
    const ensemble = await CorralEnsemble.start({
      size: 3,
      extraConfig: {
        "admin.enableServer": "true",
        "admin.serverAddress": "127.0.0.1",
        "admin.serverPort": String(adminPort),
      },
    });
    try {
      const base = `http://127.0.0.1:${adminPort}/commands`;
      await waitFor(async () => (await get(`${base}/zabstate`)).body.zabstate === "broadcast", {
        message: "the member to serve",
      });
      const zab = (await get(`${base}/zabstate`)).body;
      assert.ok([1, 2, 3].includes(zab.myid as number));
      assert.equal(zab.voting, true);
      assert.match(zab.quorum_address as string, /^127\.0\.0\.1:\d+$/);
      const leader = await get(`${base}/leader`);
      assert.equal(leader.body.error, null);
      assert.ok([1, 2, 3].includes(leader.body.leader_id as number));
      assert.equal(leader.body.is_leader, leader.body.leader_id === zab.myid);
      assert.equal(leader.body.leader_ip, "127.0.0.1");
      assert.equal(zab.is_leader, leader.body.is_leader);
      const view = (await get(`${base}/voting_view`)).body.current_config as Record<
        string,
        Record<string, unknown>
      >;
      assert.deepEqual(Object.keys(view).sort(), ["1", "2", "3"]);
      assert.equal(view["1"]!.learner_type, "participant");
      const state = ((await get(`${base}/server_stats`)).body.server_stats as Record<string, unknown>)
        .server_state;
      assert.equal(state, leader.body.is_leader ? "leader" : "follower");
      const restore = await get(`${base}/restore`, {
        method: "POST",
        headers: { authorization: "digest a:b" },
        body: "x",
      });
      assert.equal(restore.status, 400);
      assert.match(restore.body.error as string, /standalone/);
    } finally {
      await ensemble.stop();
    }
  },
);
