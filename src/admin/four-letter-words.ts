// Four-letter words (ruok, srvr, stat, mntr, conf, isro, envi, cons, wchs, ...) in ZooKeeper 3.8's output layout.
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
}

export interface ServerStats {
  readonly config: ServerConfig;
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
  readonly ephemeralsCount: number;
  readonly approximateDataSize: number;
  resetStats(): void;
}

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
      `,to=${c.sessionTimeoutMs},lzxid=${zxidHex(c.lastZxid)},lresp=${c.lastResponseMs}` +
      `,llat=${c.lastLatencyMs},minlat=0,avglat=0.0,maxlat=0`;
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
  const w = s.watchSummary;
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
    ["zk_watch_count", w.watches],
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

function conf(s: ServerStats): string {
  const c = s.config;
  return (
    `clientPort=${c.clientPort}\n` +
    `secureClientPort=-1\n` +
    `dataDir=${c.dataDir}/version-2\n` +
    `dataLogDir=${c.dataLogDir}/version-2\n` +
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
      return "Connection stats reset.\n";
    default:
      return `${word} is not executed because it is not supported yet.\n`;
  }
}
