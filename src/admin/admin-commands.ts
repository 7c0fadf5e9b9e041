// The admin server's commands (ZooKeeper 3.8's org.apache.zookeeper.server.admin.Commands, plus 3.9's snapshot and
// restore): names and aliases, JSON field names, which need a serving server, which need auth. The values come from
// the same accessors (and four-letter words) the 4lw port uses; nothing here listens on a socket.
import { createWriteStream } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { arch, homedir, release, type } from "node:os";
import type pino from "pino";
import type { ServerStats } from "./four-letter-words.js";
import { fourLetterWord, versionLine } from "./four-letter-words.js";
import type { EnsembleMember } from "../server/ensemble-member.js";
import type { PeerConfig } from "../server/config.js";
import { digestId } from "../server/digest-auth.js";
import type { DataTree } from "../tree/data-tree.js";
import { checkACL } from "../tree/acl.js";
import type { Id } from "../protocol/types.js";
import { Perms } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { zxidCounter, zxidEpoch } from "../base/zxid.js";
import { serializeTree } from "../storage/tree-snapshot.js";
import { listSnapshots } from "../storage/snapshot.js";
import { parseSnapshotFileName } from "../storage/format.js";
import {
  loadSnapshotFile,
  serializeFromDisk,
  snapshotStream,
  snapshotStreamBytes,
} from "../storage/snapshot-stream.js";

export type JsonValue =
  null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** What the commands read and act on: the server's 4lw statistics and a few of its parts. */
export interface AdminHost extends ServerStats {
  traceMask: bigint;
  readonly logger: pino.Logger;
  readonly dataTree: DataTree;
  readonly ensembleMember: EnsembleMember | null;
  readonly serverId: number;
  /** Writes a snapshot to dataDir now; the file, or undefined when one is in flight or it failed. */
  snapshot(): Promise<string | undefined>;
  /** Replaces the state with `tree` (standalone only); the zxid the server continues from. */
  restoreSnapshot(tree: DataTree): Promise<bigint>;
}

export interface CommandRequest {
  /** Query parameters (the first value of each), ZooKeeper's kwargs. */
  readonly args: ReadonlyMap<string, string>;
  /** The `Authorization` header: "digest user:password", or "ip". */
  readonly authorization: string | undefined;
  readonly remoteAddress: string;
  /** A POST's body. */
  readonly body: AsyncIterable<Uint8Array> | null;
}

/** ZooKeeper 3.9's CommandResponse: status, command, error, data, headers, or a body to stream instead of JSON. */
export interface CommandResponse {
  status: number;
  readonly command: string;
  error: string | null;
  readonly data: JsonObject;
  readonly headers: Record<string, string>;
  stream?: Iterable<Uint8Array>;
}

interface AdminCommand {
  /** The primary name first (the one responses carry), then aliases. */
  readonly names: readonly string[];
  readonly method: "GET" | "POST";
  /** CommandBase.serverRequired: answered with an error while the server is not serving clients. */
  readonly serverRequired: boolean;
  /** 3.9's AuthRequest(Perms.ALL, "/"): the Authorization header must name an id the root's ACL allows ALL. */
  readonly auth: boolean;
  run(host: AdminHost, req: CommandRequest, res: CommandResponse): void | Promise<void>;
}

const notServing = "This ZooKeeper instance is not currently serving requests";

function command(
  names: string[],
  run: AdminCommand["run"],
  opts: Partial<Pick<AdminCommand, "method" | "serverRequired" | "auth">> = {},
): AdminCommand {
  return {
    names,
    run,
    method: opts.method ?? "GET",
    serverRequired: opts.serverRequired ?? true,
    auth: opts.auth ?? false,
  };
}

/** `key<sep>value` lines of a four-letter word's answer, as the 4lw port gives them. */
function wordLines(host: AdminHost, word: string, sep: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of fourLetterWord(word, host).split("\n")) {
    const i = line.indexOf(sep);
    if (i > 0) out.push([line.slice(0, i), line.slice(i + sep.length)]);
  }
  return out;
}

function numberOrString(v: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/** mntr's rows without the zk_ prefix (ZooKeeperServer.dumpMonitorValues), plus a leader's. */
function monitorValues(host: AdminHost): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of wordLines(host, "mntr", "\t")) out[k.replace(/^zk_/, "")] = numberOrString(v);
  for (const [k, v] of host.ensembleMember?.leaderStats() ?? []) out[k.replace(/^zk_/, "")] = v;
  return out;
}

/** The `dirs` word: ZooKeeperServer.getDataDirSize / getLogDirSize. */
function dirSizes(host: AdminHost): { datadir_size: number; logdir_size: number } {
  const m = new Map(wordLines(host, "dirs", ": "));
  return { datadir_size: Number(m.get("datadir_size") ?? 0), logdir_size: Number(m.get("logdir_size") ?? 0) };
}

/** BufferStats of response sizes, which Corral does not measure (-1 is BufferStats' "none yet"). */
function unmeasuredBufferStats(): JsonObject {
  return { last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 };
}

/** ServerStats as Jackson serialises it (SrvrCommand's "server_stats"). */
function serverStats(host: AdminHost): JsonObject {
  const mntr = monitorValues(host);
  const dirs = dirSizes(host);
  return {
    packets_sent: host.packetsSent,
    packets_received: host.packetsReceived,
    fsync_threshold_exceed_count: 0,
    client_response_stats: unmeasuredBufferStats(),
    data_dir_size: dirs.datadir_size,
    log_dir_size: dirs.logdir_size,
    provider_null: false,
    server_state: host.mode,
    last_processed_zxid: host.lastZxid,
    outstanding_requests: host.outstandingRequests,
    avg_latency: mntr.avg_latency ?? 0,
    max_latency: mntr.max_latency ?? 0,
    min_latency: mntr.min_latency ?? 0,
    num_alive_client_connections: host.connectionList.length,
    uptime: Date.now() - host.startedMs,
    auth_failed_count: 0,
    non_mtlsremote_conn_count: 0,
    non_mtlslocal_conn_count: 0,
  };
}

/** ServerCnxn.getConnectionInfo(brief). */
function connectionInfo(host: AdminHost, brief: boolean): JsonObject[] {
  return host.connectionList.map((c) => {
    const info: JsonObject = {
      remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
      interest_ops: 1, // OP_READ: Corral reads every connection unless throttled
      outstanding_requests: c.outstanding,
      packets_received: c.packetsReceived,
      packets_sent: c.packetsSent,
    };
    if (brief) return info;
    return {
      ...info,
      session_id: BigInt.asIntN(64, c.sessionId),
      last_operation: c.lastOpName,
      established: c.establishedMs,
      session_timeout: c.sessionTimeoutMs,
      last_cxid: c.lastCxid ?? -1,
      last_zxid: c.lastZxid,
      last_response_time: c.lastResponseMs,
      last_latency: c.lastLatencyMs,
      min_latency: 0,
      avg_latency: 0,
      max_latency: 0,
    };
  });
}

function srvr(host: AdminHost, res: CommandResponse): void {
  Object.assign(res.data, {
    version: versionLine,
    read_only: false,
    server_stats: serverStats(host),
    client_response: unmeasuredBufferStats(),
  });
  if (host.ensembleMember?.driver.node.role === "leading") res.data.proposal_stats = unmeasuredBufferStats();
  res.data.node_count = host.nodeCount;
}

function sidMap<T extends JsonValue>(entries: Array<[bigint | number | string, T[]]>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of entries) out[String(typeof k === "bigint" ? BigInt.asIntN(64, k) : k)] = v;
  return out;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function peerOf(host: AdminHost, id: number | null): PeerConfig | undefined {
  return host.config.peers.find((p) => p.id === id);
}

function clientAddressOf(p: PeerConfig | undefined): string {
  return p?.clientPort === undefined ? "" : hostPort(p.clientAddress ?? "0.0.0.0", p.clientPort);
}

/** QuorumPeer.ZabState by the node's role and progress. */
function zabState(member: EnsembleMember): string {
  const node = member.driver.node;
  if (node.role === "looking") return "election";
  if (node.isUpToDate) return "broadcast";
  return node.role === "leading" ? "discovery" : "synchronization";
}

/** Java's Long.parseLong, for set_trace_mask. */
function parseJavaLong(v: string): bigint | undefined {
  if (!/^[-+]?\d+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n === BigInt.asIntN(64, n) ? n : undefined;
}

/** What `system_properties` lists: the process's own properties under Java's names where one exists. */
function systemProperties(): JsonObject {
  const props: Record<string, string> = {
    "file.separator": "/",
    "line.separator": "\n",
    "path.separator": ":",
    "node.version": process.version,
    "node.exec.path": process.execPath,
    "node.command": process.argv.join(" "),
    "os.arch": arch(),
    "os.name": type(),
    "os.version": release(),
    "user.dir": process.cwd(),
    "user.home": homedir(),
    "user.timezone": Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
  const out: JsonObject = {};
  for (const k of Object.keys(props).sort()) out[k] = props[k]!;
  return out;
}

let restoreCounter = 0;

/** ZooKeeper 3.9's SnapshotCommand: a consistent snapshot of the live tree, streamed or written to dataDir. */
async function snapshotCommand(host: AdminHost, req: CommandRequest, res: CommandResponse): Promise<void> {
  if (!host.config.adminSnapshotEnabled) {
    res.status = 503;
    res.error = "the snapshot command is disabled (admin.snapshot.enabled=false)";
    return;
  }
  const streaming = (req.args.get("streaming") ?? "true").toLowerCase() === "true";
  if (!streaming) {
    const file = await host.snapshot();
    const zxid = file === undefined ? null : parseSnapshotFileName(basename(file));
    if (file === undefined || zxid === null) {
      res.status = 500;
      res.error = "a snapshot is already being written, or writing it failed (see the server log)";
      return;
    }
    res.headers.last_zxid = `0x${zxid.toString(16)}`;
    res.headers.snapshot_size = String((await stat(file)).size);
    return;
  }
  const { zxid, chunks } = await liveSnapshot(host);
  res.headers.last_zxid = `0x${zxid.toString(16)}`;
  res.headers.snapshot_size = String(snapshotStreamBytes(chunks));
  res.stream = snapshotStream(zxid, chunks);
}

/**
 * A consistent snapshot of the live tree. Standalone: the state as of the last applied zxid, rebuilt from the data
 * dir in a worker thread, so writes go on meanwhile. An ensemble member (whose log may hold uncommitted txns), or a
 * worker that fails: serialised here, synchronously between two applies, so writes wait for that only.
 */
async function liveSnapshot(host: AdminHost): Promise<{ zxid: bigint; chunks: Uint8Array[] }> {
  if (host.ensembleMember === null) {
    const zxid = host.dataTree.lastProcessedZxid;
    try {
      return { zxid, chunks: await serializeFromDisk(host.config.dataDir, host.config.dataLogDir, zxid) };
    } catch (e) {
      host.logger.warn(
        { err: (e as Error).message },
        "snapshot from the data dir failed; serialising in memory",
      );
    }
  }
  const tree = host.dataTree;
  return { zxid: tree.lastProcessedZxid, chunks: serializeTree(tree) };
}

/** ZooKeeper 3.9's RestoreCommand: the body is a snapshot (as `snapshot` streams it) that replaces the state. */
async function restoreCommand(host: AdminHost, req: CommandRequest, res: CommandResponse): Promise<void> {
  if (!host.config.adminRestoreEnabled) {
    res.status = 503;
    res.error = "the restore command is disabled (admin.restore.enabled=false)";
    return;
  }
  if (host.ensembleMember !== null) {
    res.status = 400;
    res.error = "restore is supported on a standalone server only";
    return;
  }
  if (req.body === null) {
    res.status = 400;
    res.error = "restore needs a snapshot in the request body";
    return;
  }
  const temp = join(host.config.dataDir, `restore.tmp.${process.pid}.${restoreCounter++}`);
  try {
    await pipeline(Readable.from(req.body), createWriteStream(temp, { flags: "wx" }));
    let loaded;
    try {
      loaded = await loadSnapshotFile(temp);
    } catch (e) {
      res.status = 400;
      res.error = `not a valid snapshot: ${(e as Error).message.replace(temp, "request body")}`;
      return;
    }
    const zxid = await host.restoreSnapshot(loaded.tree);
    host.logger.info({ snapshotZxid: `0x${loaded.zxid.toString(16)}` }, "admin restore");
    res.data.last_zxid = zxid;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

const commands: AdminCommand[] = [
  command(["connection_stat_reset", "crst"], (h) => void fourLetterWord("crst", h)),
  command(["configuration", "conf", "config"], (h, _req, res) => {
    const c = h.config;
    Object.assign(res.data, {
      client_port: c.clientPort,
      data_dir: `${c.dataDir}/version-2`,
      data_log_dir: `${c.dataLogDir}/version-2`,
      tick_time: c.tickTime,
      max_client_cnxns: c.maxClientCnxns,
      min_session_timeout: c.minSessionTimeout,
      max_session_timeout: c.maxSessionTimeout,
      server_id: h.serverId,
      client_port_listen_backlog: -1,
    });
  }),
  command(["connections", "cons"], (h, _req, res) => {
    res.data.connections = connectionInfo(h, false);
    res.data.secure_connections = [];
  }),
  command(["hash"], (_h, _req, res) => {
    // DataTree.getDigestLog: Corral keeps no per-zxid ZooKeeper digest, as the `hash` word says.
    res.data.digests = [];
  }),
  command(["dirs"], (h, _req, res) => void Object.assign(res.data, dirSizes(h))),
  command(["dump"], (h, _req, res) => {
    res.data.expiry_time_to_session_ids = sidMap(
      h.sessionExpiries.map(([at, ids]) => [at, ids.map((id) => BigInt.asIntN(64, id))]),
    );
    res.data.session_id_to_ephemeral_paths = sidMap(h.ephemeralsBySession);
  }),
  command(
    ["environment", "env", "envi"],
    (h, _req, res) => {
      for (const [k, v] of wordLines(h, "envi", "=")) res.data[k] = v;
    },
    { serverRequired: false },
  ),
  command(["get_trace_mask", "gtmk"], (h, _req, res) => void (res.data.tracemask = h.traceMask), {
    serverRequired: false,
  }),
  command(["initial_configuration", "icfg"], (h, _req, res) => {
    res.data.initial_configuration = h.config.initialConfig;
  }),
  command(["is_read_only", "isro"], (_h, _req, res) => void (res.data.read_only = false)),
  command(["last_snapshot", "lsnp"], async (h, _req, res) => {
    const newest = (await listSnapshots(h.config.dataDir))[0];
    res.data.zxid = newest === undefined ? "ffffffffffffffff" : newest.zxid.toString(16);
    res.data.timestamp = newest === undefined ? -1 : Math.floor((await stat(newest.file)).mtimeMs / 1000);
  }),
  command(["leader", "lead"], (h, _req, res) => {
    const member = h.ensembleMember;
    if (member === null) {
      res.error = "server is not initialized";
      return;
    }
    const node = member.driver.node;
    res.data.is_leader = node.role === "leading";
    res.data.leader_id = node.leaderId ?? -1;
    res.data.leader_ip = peerOf(h, node.leaderId)?.host ?? "";
  }),
  command(["monitor", "mntr"], (h, _req, res) => void Object.assign(res.data, monitorValues(h)), {
    serverRequired: false,
  }),
  command(["observer_connection_stat_reset", "orst"], () => undefined),
  command(["restore", "rest"], restoreCommand, { method: "POST", auth: true }),
  command(["ruok"], () => undefined),
  command(
    ["set_trace_mask", "stmk"],
    (h, req, res) => {
      const arg = req.args.get("traceMask");
      if (arg === undefined) {
        res.error = "setTraceMask requires long traceMask argument";
        return;
      }
      const mask = parseJavaLong(arg);
      if (mask === undefined) {
        res.error = `setTraceMask requires long traceMask argument, got ${arg}`;
        return;
      }
      h.traceMask = mask;
      res.data.tracemask = mask;
    },
    { serverRequired: false },
  ),
  command(["snapshot", "snap"], snapshotCommand, { auth: true }),
  command(["server_stats", "srvr"], (h, _req, res) => srvr(h, res)),
  command(["stats", "stat"], (h, _req, res) => {
    srvr(h, res);
    res.data.connections = connectionInfo(h, true);
    res.data.secure_connections = [];
  }),
  command(["stat_reset", "srst"], (h) => void fourLetterWord("srst", h)),
  command(["observers", "obsr"], (h, _req, res) => {
    const node = h.ensembleMember?.driver.node;
    res.data.synced_observers = node?.role === "leading" ? node.learnerCounts().observers : 0;
    res.data.observers = []; // LearnerHandler details are not kept
  }),
  command(
    ["system_properties", "sysp"],
    (_h, _req, res) => void Object.assign(res.data, systemProperties()),
    {
      serverRequired: false,
    },
  ),
  command(["voting_view"], (h, _req, res) => {
    const view: JsonObject = {};
    if (h.ensembleMember !== null) {
      for (const p of h.config.peers.filter((x) => !x.observer)) {
        view[String(p.id)] = {
          server_addresses: [hostPort(p.host, p.quorumPort)],
          election_addresses: [hostPort(p.host, p.electionPort)],
          client_address: clientAddressOf(p),
          learner_type: "participant",
        };
      }
    }
    res.data.current_config = view;
  }),
  command(["watches", "wchc"], (h, _req, res) => {
    res.data.session_id_to_watched_paths = sidMap(h.dataWatchesBySession());
  }),
  command(["watches_by_path", "wchp"], (h, _req, res) => {
    const out: JsonObject = {};
    for (const [path, sids] of h.dataWatchersByPath()) out[path] = sids.map((s) => BigInt.asIntN(64, s));
    res.data.path_to_session_ids = out;
  }),
  command(["watch_summary", "wchs"], (h, _req, res) => {
    const w = h.watchSummary;
    Object.assign(res.data, {
      num_connections: w.connections,
      num_paths: w.paths,
      num_total_watches: w.watches,
    });
  }),
  command(
    ["zabstate"],
    (h, _req, res) => {
      const member = h.ensembleMember;
      if (member === null) {
        Object.assign(res.data, { voting: false, zabstate: "" });
        return;
      }
      const node = member.driver.node;
      const me = peerOf(h, h.serverId);
      const zxid = h.lastZxid;
      Object.assign(res.data, {
        myid: h.serverId,
        is_leader: node.role === "leading",
        quorum_address: me === undefined ? "" : hostPort(me.host, me.quorumPort),
        election_address: me === undefined ? "" : hostPort(me.host, me.electionPort),
        client_address: clientAddressOf(me),
        voting: me !== undefined && !me.observer,
        last_zxid: `0x${zxid.toString(16)}`,
        zab_epoch: zxidEpoch(zxid),
        zab_counter: zxidCounter(zxid),
        zabstate: zabState(member),
      });
    },
    { serverRequired: false },
  ),
];

const byName = new Map<string, AdminCommand>();
for (const c of commands) for (const n of c.names) byName.set(n, c);

/** Commands.getPrimaryNames, sorted as JettyAdminServer lists them. */
export const primaryCommandNames: readonly string[] = commands.map((c) => c.names[0]!).sort();
/** Every name a command answers to, aliases included. */
export const allCommandNames: readonly string[] = [...byName.keys()].sort();

/** Commands.handleAuthentication: "digest user:password" or "ip" (the caller's address); undefined if neither. */
function authenticate(
  authorization: string,
  remoteAddress: string,
  superDigest: string | undefined,
): Id[] | undefined {
  const parts = authorization.split(" ");
  if (parts.length !== 1 && parts.length !== 2) return undefined;
  const [scheme, auth] = parts;
  if (scheme === "digest" && auth !== undefined) {
    const id = digestId(auth);
    if (id === undefined) return undefined;
    return id === superDigest
      ? [
          { scheme: "digest", id },
          { scheme: "super", id: "" },
        ]
      : [{ scheme: "digest", id }];
  }
  if (scheme === "ip") return [{ scheme: "ip", id: remoteAddress.replace(/^::ffff:/, "") }];
  return undefined;
}

/**
 * Commands.runGetCommand / runPostCommand. Unknown names answer 404 and a wrong method 405 (ZooKeeper answers an
 * unknown name 200 with the same error text, and a wrong method with Jetty's HTML 405); the rest as 3.9 does.
 */
export async function runCommand(
  host: AdminHost,
  name: string,
  method: string,
  req: CommandRequest,
): Promise<CommandResponse> {
  const cmd = byName.get(name);
  const res: CommandResponse = {
    status: 200,
    command: cmd?.names[0] ?? name,
    error: null,
    data: {},
    headers: {},
  };
  if (cmd === undefined) return { ...res, status: 404, error: `Unknown command: ${name}` };
  if (method !== cmd.method && !(method === "HEAD" && cmd.method === "GET"))
    return { ...res, status: 405, error: `${res.command} must be sent with ${cmd.method}` };
  const member = host.ensembleMember;
  if (cmd.serverRequired && member !== null && !member.serving) return { ...res, error: notServing };
  if (cmd.auth) {
    if (req.authorization === undefined)
      return { ...res, status: 401, error: "Auth info is missing for the command" };
    const ids = authenticate(req.authorization, req.remoteAddress, host.config.superDigest);
    if (ids === undefined) return { ...res, status: 401, error: "Not authenticated" };
    const root = host.dataTree.getACL("/");
    if (root === undefined || checkACL(root.acl, Perms.ALL, ids, host.config.superDigest) !== Code.ok)
      return { ...res, status: 403, error: "Not authorized" };
  }
  try {
    await cmd.run(host, req, res);
  } catch (e) {
    host.logger.warn({ command: res.command, err: (e as Error).message }, "admin command failed");
    res.status = 500;
    res.error = (e as Error).message;
  }
  return res;
}
