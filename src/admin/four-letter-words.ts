// Four-letter words (ruok, srvr, stat, mntr, conf, isro, envi, cons, wchs, wchc, wchp, dump, dirs, crst, srst,
// gtmk, stmk, hash) in ZooKeeper 3.8's output layout.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { hostname, type, arch, release, userInfo, freemem, totalmem } from "node:os";
import type { ServerConfig } from "../server/config.js";
import { zxidHex } from "../base/zxid.js";

export const corralVersion = "0.1.0";
/** Tools parse "Zookeeper version:"; we name the protocol level we match and ourselves. */
export const versionLine = `3.8.0-corral-${corralVersion}, built on 2026-11-26 00:00 UTC`;

export interface ConnectionStats {
  remoteAddress: string;
  remotePort: number;
  outstanding: number;
  packetsReceived: number;
  packetsSent: number;
  sessionId: bigint;
  /** Negotiated session timeout (0 before the handshake). */
  sessionTimeoutMs: number;
  establishedMs: number;
  lastOpName: string;
  lastZxid: bigint;
  lastResponseMs: number;
  lastLatencyMs: number;
  /** The cxid of the last request answered; cons prints `lcxid` only when this is known and >= 0. */
  lastCxid?: number;
}

export interface ServerStats {
  readonly config: ServerConfig;
  /** ZooTrace's mask: gtmk shows it, stmk sets it. */
  readonly traceMask: bigint;
  readonly mode: string;
  readonly lastZxid: bigint;
  readonly nodeCount: number;
  readonly outstandingRequests: number;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  readonly latencyTotalMs: number;
  readonly latencyCount: number;
  readonly connectionList: ConnectionStats[];
  readonly sessionCount: number;
  readonly startedMs: number;
  readonly watchSummary: { connections: number; paths: number; watches: number };
  /** DataTree.getWatchCount (mntr zk_watch_count): data plus child watch registrations. */
  readonly watchCount: number;
  readonly ephemeralsCount: number;
  readonly approximateDataSize: number;
  /** SessionTrackerImpl's ExpiryQueue: [expiry time (ms since the epoch), session ids], by time. */
  readonly sessionExpiries: Array<[number, bigint[]]>;
  /** DataTree.ephemerals: [session id, its ephemeral paths]. */
  readonly ephemeralsBySession: Array<[bigint, string[]]>;
  /** The data WatchManager's watch2Paths (`wchc`), each watcher named by its connection's session id. */
  dataWatchesBySession(): Array<[bigint, string[]]>;
  /** The data WatchManager's watchTable (`wchp`): each path's watchers' session ids. */
  dataWatchersByPath(): Array<[string, bigint[]]>;
  resetStats(): void;
}

/** ZooTrace's default text trace mask: CLIENT_REQUEST | SERVER_PACKET | SESSION | WARNING. */
export const defaultTraceMask = 306n;

/** NIOServerCnxnFactory's sessionless connection timeout, which is also its connection expiry interval. */
const cnxnExpiryIntervalMs = 10_000;

function latency(s: ServerStats): { min: number; avg: string; max: number } {
  const min = s.latencyCount === 0 ? 0 : s.latencyMinMs;
  const avg = s.latencyCount === 0 ? 0 : s.latencyTotalMs / s.latencyCount;
  return { min, avg: formatDouble(avg), max: s.latencyMaxMs };
}

function formatDouble(n: number): string {
  const r = Math.round(n * 10000) / 10000;
  return Number.isInteger(r) ? r.toFixed(1) : String(r);
}

/** ServerCnxn.dumpConnectionInfo: brief for stat, full (with the session) for cons. */
function connectionLine(c: ConnectionStats, brief: boolean): string {
  let out = ` /${c.remoteAddress}:${c.remotePort}[1](queued=${c.outstanding},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    out +=
      `,sid=0x${BigInt.asUintN(64, c.sessionId).toString(16)},lop=${c.lastOpName},est=${c.establishedMs}` +
      `,to=${c.sessionTimeoutMs}` +
      (c.lastCxid !== undefined && c.lastCxid >= 0 ? `,lcxid=0x${c.lastCxid.toString(16)}` : "") +
      `,lzxid=${zxidHex(c.lastZxid)},lresp=${c.lastResponseMs}` +
      `,llat=${c.lastLatencyMs},minlat=0,avglat=0,maxlat=0`;
  }
  return out + ")\n";
}

function srvr(s: ServerStats, withClients: boolean): string {
  const l = latency(s);
  let out = `Zookeeper version: ${versionLine}\n`;
  if (withClients) {
    out += "Clients:\n";
    for (const c of s.connectionList) out += connectionLine(c, true) + "\n";
    out += "\n";
  }
  out +=
    `Latency min/avg/max: ${l.min}/${l.avg}/${l.max}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${s.connectionList.length}\n` +
    `Outstanding: ${s.outstandingRequests}\n` +
    `Zxid: ${zxidHex(s.lastZxid)}\n` +
    `Mode: ${s.mode}\n` +
    `Node count: ${s.nodeCount}\n`;
  return out;
}

function mntr(s: ServerStats): string {
  const l = latency(s);
  const rows: [string, string | number][] = [
    ["zk_version", versionLine],
    ["zk_server_state", s.mode],
    ["zk_ephemerals_count", s.ephemeralsCount],
    ["zk_num_alive_connections", s.connectionList.length],
    ["zk_avg_latency", l.avg],
    ["zk_outstanding_requests", s.outstandingRequests],
    ["zk_znode_count", s.nodeCount],
    ["zk_global_sessions", s.sessionCount],
    ["zk_packets_sent", s.packetsSent],
    ["zk_packets_received", s.packetsReceived],
    ["zk_watch_count", s.watchCount],
    ["zk_min_latency", l.min],
    ["zk_max_latency", l.max],
    ["zk_approximate_data_size", s.approximateDataSize],
    ["zk_uptime", Date.now() - s.startedMs],
    ["zk_local_sessions", 0],
    ["zk_open_file_descriptor_count", 0],
    ["zk_max_file_descriptor_count", 0],
  ];
  return rows.map(([k, v]) => `${k}\t${v}\n`).join("");
}

/** ZooKeeperServer.getDirSize: the bytes of every file below `path` (0 when it does not exist). */
function dirSize(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let size = 0;
  for (const name of readdirSync(path)) size += dirSize(join(path, name));
  return size;
}

/**
 * ZooKeeperServer.getDataDirSize / getLogDirSize. ZooKeeper swaps them: "data dir size" measures
 * snapLog.getDataDir() (the txn log dir) and "log dir size" the snapshot dir; we print what it prints.
 */
function dirSizes(s: ServerStats): { dataDirSize: number; logDirSize: number } {
  return {
    dataDirSize: dirSize(join(s.config.dataLogDir, "version-2")),
    logDirSize: dirSize(join(s.config.dataDir, "version-2")),
  };
}

function conf(s: ServerStats): string {
  const c = s.config;
  const d = dirSizes(s);
  return (
    `clientPort=${c.clientPort}\n` +
    `secureClientPort=${c.secureClientPort ?? -1}\n` +
    `dataDir=${c.dataDir}/version-2\n` +
    `dataDirSize=${d.dataDirSize}\n` +
    `dataLogDir=${c.dataLogDir}/version-2\n` +
    `dataLogSize=${d.logDirSize}\n` +
    `tickTime=${c.tickTime}\n` +
    `maxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeout}\n` +
    `maxSessionTimeout=${c.maxSessionTimeout}\n` +
    `clientPortListenBacklog=-1\n` +
    `serverId=${c.myid}\n`
  );
}

function envi(): string {
  const rows: [string, string][] = [
    ["zookeeper.version", versionLine],
    ["host.name", hostname()],
    ["node.version", process.version],
    ["os.name", type()],
    ["os.arch", arch()],
    ["os.version", release()],
    ["user.name", userInfo().username],
    ["user.dir", process.cwd()],
    ["os.memory.free", `${Math.round(freemem() / 1048576)}MB`],
    ["os.memory.total", `${Math.round(totalmem() / 1048576)}MB`],
  ];
  return "Environment:\n" + rows.map(([k, v]) => `${k}=${v}\n`).join("");
}

function wchs(s: ServerStats): string {
  const w = s.watchSummary;
  return `${w.connections} connections watching ${w.paths} paths\nTotal watches:${w.watches}\n`;
}

function sidHex(sessionId: bigint): string {
  return "0x" + BigInt.asUintN(64, sessionId).toString(16);
}

const javaDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const javaMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** java.util.Date.toString in the local zone: "Thu Nov 26 09:21:44 UTC 2026". */
export function javaDateString(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, "0");
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(d)
      .find((part) => part.type === "timeZoneName")?.value ?? "UTC";
  return (
    `${javaDays[d.getDay()]} ${javaMonths[d.getMonth()]} ${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${zone} ${d.getFullYear()}`
  );
}

/** ExpiryQueue.dump after its caller's prefix: "Sets (buckets)/(elements):" then each bucket by time. */
function expiryDump(buckets: Array<[number, string[]]>): string {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const elements = sorted.reduce((n, [, e]) => n + e.length, 0);
  let out = `Sets (${sorted.length})/(${elements}):\n`;
  for (const [at, elems] of sorted) {
    out += `${elems.length} expire at ${javaDateString(at)}:\n`;
    for (const e of elems) out += `\t${e}\n`;
  }
  return out;
}

/**
 * DumpCommand: SessionTrackerImpl.dumpSessions, DataTree.dumpEphemerals and NIOServerCnxnFactory.dumpConnections.
 * Corral keeps no connection expiry queue; a connection's bucket is its last activity plus its session timeout
 * (10 s before the handshake), rounded up to NIO's 10 s interval, as NIOServerCnxnFactory.touchCnxn files it.
 */
function dump(s: ServerStats): string {
  let out = "SessionTracker dump:\nSession ";
  out += expiryDump(s.sessionExpiries.map(([at, ids]) => [at, ids.map(sidHex)]));
  const eph = s.ephemeralsBySession;
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${eph.length}):\n`;
  for (const [sid, paths] of eph) {
    out += `${sidHex(sid)}:\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  const cnxnBuckets = new Map<number, string[]>();
  for (const c of s.connectionList) {
    const last = Math.max(c.establishedMs, c.lastResponseMs);
    const timeout = c.sessionTimeoutMs > 0 ? c.sessionTimeoutMs : cnxnExpiryIntervalMs;
    const at = (Math.floor((last + timeout) / cnxnExpiryIntervalMs) + 1) * cnxnExpiryIntervalMs;
    const line = `ip: /${c.remoteAddress}:${c.remotePort} sessionId: ${sidHex(c.sessionId)}`;
    cnxnBuckets.set(at, [...(cnxnBuckets.get(at) ?? []), line]);
  }
  out += "Connections dump:\nConnections " + expiryDump([...cnxnBuckets]);
  return out;
}

/** DataTree.dumpWatches(pw, byPath) and WatchCommand's trailing println. */
function dumpWatches(s: ServerStats, byPath: boolean): string {
  let out = "";
  if (byPath) {
    for (const [path, sids] of s.dataWatchersByPath()) {
      out += `${path}\n`;
      for (const sid of sids) out += `\t${sidHex(sid)}\n`;
    }
  } else {
    for (const [sid, paths] of s.dataWatchesBySession()) {
      out += `${sidHex(sid)}\n`;
      for (const p of paths) out += `\t${p}\n`;
    }
  }
  return out + "\n";
}

/** CnxnStatResetCommand → ServerCnxn.resetStats on every connection. */
function resetConnectionStats(s: ServerStats): void {
  for (const c of s.connectionList) {
    c.packetsReceived = 0;
    c.packetsSent = 0;
    c.lastOpName = "NA";
    if (c.lastCxid !== undefined) c.lastCxid = -1;
    c.lastZxid = -1n;
    c.lastResponseMs = 0;
    c.lastLatencyMs = 0;
  }
}

/** The answer to one four-letter word; the caller has checked the whitelist. */
export function fourLetterWord(word: string, s: ServerStats): string {
  switch (word) {
    case "ruok":
      return "imok";
    case "srvr":
      return srvr(s, false);
    case "stat":
      return srvr(s, true);
    case "mntr":
      return mntr(s);
    case "conf":
      return conf(s);
    case "envi":
      return envi();
    case "isro":
      return "rw";
    case "cons":
      return s.connectionList.map((c) => connectionLine(c, false)).join("") + "\n";
    case "wchs":
      return wchs(s);
    case "srst":
      s.resetStats();
      return "Server stats reset.\n";
    case "crst":
      resetConnectionStats(s);
      return "Connection stats reset.\n";
    case "wchc":
      return dumpWatches(s, false);
    case "wchp":
      return dumpWatches(s, true);
    case "dump":
      return dump(s);
    case "dirs": {
      const d = dirSizes(s);
      return `datadir_size: ${d.dataDirSize}\nlogdir_size: ${d.logDirSize}\n`;
    }
    case "gtmk":
      // TraceMaskCommand: pw.print(long), no newline.
      return String(s.traceMask);
    case "stmk":
      // With its 8 mask bytes, stmk is answered by the server (it sets the mask); without them the connection
      // closes with no reply before reaching here, as ZooKeeper's getLong fails.
      return "";
    case "hash":
      // DigestCommand prints "<zxid hex>: <digest>" for each zxid divisible by DIGEST_LOG_INTERVAL (128) in
      // DataTree.digestLog, and nothing when the log is empty (digest disabled, or fewer than 128 txns). Corral
      // computes no per-zxid ZooKeeper digest, so its log is always empty.
      return "";
    default:
      return `${word} is not executed because it is not supported yet.\n`;
  }
}
