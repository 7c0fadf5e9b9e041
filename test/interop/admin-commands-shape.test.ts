// Every admin command Apache ZooKeeper 3.8 has, sent to its admin server and to Corral's with the same state (one
// session with an ephemeral node and a data watch): the answers must have the same top-level JSON keys (and the same
// keys in the nested server_stats and connection records). environment, system_properties and monitor describe the
// runtime (Java's properties, ZooKeeper's metrics) and are compared one way: what Corral reports, ZooKeeper reports.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { skipReason, type ManagedServer } from "../helpers/servers.js";
import { startCorral } from "../helpers/corral-process.js";
import { startZooKeeper, zookeeperAdminJars } from "../helpers/zookeeper-process.js";
import { freePort } from "../helpers/free-port.js";
import { ZooKeeperClient } from "../../src/client/index.js";

const servers: ManagedServer[] = [];
const clients: ZooKeeperClient[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const s of servers) await s.stop();
});

/** ZooKeeper 3.8.0's primary command names (JettyAdminServer's list), with the query a command needs. */
const zk38Commands: Record<string, string> = {
  configuration: "",
  connection_stat_reset: "",
  connections: "",
  dirs: "",
  dump: "",
  environment: "",
  get_trace_mask: "",
  hash: "",
  initial_configuration: "",
  is_read_only: "",
  last_snapshot: "",
  leader: "",
  monitor: "",
  observer_connection_stat_reset: "",
  observers: "",
  ruok: "",
  server_stats: "",
  set_trace_mask: "?traceMask=306",
  stat_reset: "",
  stats: "",
  system_properties: "",
  voting_view: "",
  watch_summary: "",
  watches: "",
  watches_by_path: "",
  zabstate: "",
};
/** Keys of Node's runtime that have no Java property of the same name. */
const nodeOnlyKeys = new Set(["node.version", "node.exec.path", "node.command"]);

type Body = Record<string, unknown>;

async function answers(kind: "corral" | "zookeeper"): Promise<{ list: string; bodies: Map<string, Body> }> {
  const adminPort = await freePort();
  const extraConfig = {
    "admin.enableServer": "true",
    "admin.serverAddress": "127.0.0.1",
    "admin.serverPort": String(adminPort),
  };
  const s =
    kind === "corral"
      ? await startCorral({ extraConfig })
      : await startZooKeeper({ extraConfig, adminServer: true });
  servers.push(s);
  const zk = await ZooKeeperClient.connect(s.connectString, { sessionTimeoutMs: 10_000 });
  clients.push(zk);
  await zk.create("/eph", "e", { mode: "ephemeral" });
  await zk.create("/watched", "w");
  await zk.getData("/watched", { watch: () => undefined });
  const base = `http://127.0.0.1:${adminPort}/commands`;
  const list = await (await fetch(base)).text();
  const bodies = new Map<string, Body>();
  for (const [name, query] of Object.entries(zk38Commands)) {
    const res = await fetch(`${base}/${name}${query}`);
    assert.equal(res.status, 200, `${kind} ${name}`);
    assert.equal(res.headers.get("content-type"), "application/json", `${kind} ${name}`);
    bodies.set(name, (await res.json()) as Body);
  }
  return { list, bodies };
}

const missingJars = zookeeperAdminJars.filter((j) => !existsSync(j));
const zkSkip = skipReason(
  "zookeeper",
  missingJars.length > 0 ? `missing ${missingJars.join(", ")} (apt-get install libjetty9-java)` : undefined,
);

function keys(o: unknown): string[] {
  return Object.keys(o as Body).sort();
}

test(
  "every ZooKeeper 3.8 admin command answers with ZooKeeper's JSON keys",
  { skip: zkSkip, timeout: 120_000 },
  async (t) => {
    const zk = await answers("zookeeper");
    const corral = await answers("corral");

    // GET /commands: ZooKeeper's links, and Corral's, to the same commands (Corral adds 3.9's snapshot and restore).
    const links = (html: string): string[] =>
      [...html.matchAll(/<a href="\/commands\/(\w+)">/g)].map((m) => m[1]!);
    assert.deepEqual(
      links(corral.list).filter((n) => n !== "snapshot" && n !== "restore"),
      links(zk.list),
    );

    for (const name of Object.keys(zk38Commands)) {
      const z = zk.bodies.get(name)!;
      const c = corral.bodies.get(name)!;
      assert.equal(c.command, z.command, name);
      assert.equal(c.error, z.error, `${name}: ${JSON.stringify(c.error)}`);
      if (name === "environment" || name === "system_properties" || name === "monitor") {
        const extra = keys(c).filter((k) => !(k in z) && !nodeOnlyKeys.has(k));
        assert.deepEqual(extra, [], `${name}: keys Corral reports that ZooKeeper does not`);
        t.diagnostic(`${name}: Corral reports ${keys(c).length} keys, ZooKeeper ${keys(z).length}`);
        continue;
      }
      assert.deepEqual(keys(c), keys(z), name);
    }
    for (const name of ["server_stats", "stats"]) {
      const z = zk.bodies.get(name)!;
      const c = corral.bodies.get(name)!;
      assert.deepEqual(keys(c.server_stats), keys(z.server_stats), `${name}.server_stats`);
      assert.deepEqual(keys(c.client_response), keys(z.client_response), `${name}.client_response`);
    }
    const conn = (b: Body, field: string): unknown => (b[field] as unknown[])[0];
    assert.deepEqual(
      keys(conn(corral.bodies.get("stats")!, "connections")),
      keys(conn(zk.bodies.get("stats")!, "connections")),
    );
    assert.deepEqual(
      keys(conn(corral.bodies.get("connections")!, "connections")),
      keys(conn(zk.bodies.get("connections")!, "connections")),
    );
    // The same state, the same values where they do not depend on the process.
    for (const name of [
      "watch_summary",
      "is_read_only",
      "get_trace_mask",
      "set_trace_mask",
      "zabstate",
      "voting_view",
    ])
      assert.deepEqual(corral.bodies.get(name), zk.bodies.get(name), name);
    const ephemerals = (b: Body): unknown[] => Object.values(b.session_id_to_ephemeral_paths as Body);
    assert.deepEqual(ephemerals(corral.bodies.get("dump")!), ephemerals(zk.bodies.get("dump")!));
    assert.deepEqual(
      keys(corral.bodies.get("watches_by_path")!.path_to_session_ids),
      keys(zk.bodies.get("watches_by_path")!.path_to_session_ids),
    );
  },
);
