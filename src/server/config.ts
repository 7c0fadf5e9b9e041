// zoo.cfg parsing and validation: standard ZooKeeper keys into a typed ServerConfig. No I/O but reading the file.
import { readFileSync } from "node:fs";
import { resolve, dirname, isAbsolute } from "node:path";
import { ConfigError } from "../base/errors.js";
import { isSaslConfigKey, saslConfigFromProperties, type SaslConfig } from "./jaas-config.js";
import { isTlsKey, tlsConfigFromProperties, type TlsServerConfig } from "./tls-config.js";
import { juteMaxBufferDefault, maxClientCnxnsDefault, snapCountDefault } from "../base/limits.js";
import { logFormats, logLevels, type LogFormat, type LogLevel } from "./logger.js";
import { globalOutstandingLimitDefault, requestThrottleStallTimeDefault } from "./throttle.js";

export interface PeerConfig {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  observer: boolean;
  clientPort: number | undefined;
  /** The client address of `;[address:]port` (0.0.0.0 when only a port is given), as QuorumServer keeps it. */
  clientAddress: string | undefined;
}

export interface ServerConfig extends TlsServerConfig {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  dataLogDir: string;
  clientPort: number;
  clientPortAddress: string;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  snapCount: number;
  autopurgeSnapRetainCount: number;
  /** Hours between purges; 0 disables, as ZooKeeper. */
  autopurgePurgeInterval: number;
  forceSync: boolean;
  juteMaxBuffer: number;
  extendedTypesEnabled: boolean;
  /** enforceQuota (ZooKeeper's zookeeper.enforceQuota): creates and setData over a hard quota fail. */
  enforceQuota: boolean;
  /** `user:base64(sha1(user:password))`, the id a super user authenticates as. */
  superDigest: string | undefined;
  fourLetterWords: Set<string>;
  /** How often empty containers and expired TTL nodes are looked for (ZooKeeper's znode.container.checkIntervalMs). */
  containerCheckIntervalMs: number;
  /** The admin HTTP server (ZooKeeper's JettyAdminServer): on by default; a port in use is a warning, not fatal. */
  adminEnableServer: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  /** The path prefix of the commands, "/commands" as ZooKeeper's admin.commandURL. */
  adminCommandUrl: string;
  /** Idle keep-alive connections are closed after this many ms (admin.idleTimeout). */
  adminIdleTimeoutMs: number;
  /** ZooKeeper 3.9's admin.snapshot.enabled / admin.restore.enabled: off answers 503. */
  adminSnapshotEnabled: boolean;
  adminRestoreEnabled: boolean;
  /** The zoo.cfg lines as read (`key=value`), which the admin command initial_configuration shows. */
  initialConfig: string;
  /** metricsProvider.className: when set (ZooKeeper's PrometheusMetricsProvider or any value), serve /metrics. */
  metricsProviderClassName: string | undefined;
  metricsHttpPort: number;
  metricsHttpHost: string;
  /** Which server of the ensemble this is (myid), 1 for standalone unless set. */
  myid: number;
  peers: PeerConfig[];
  /** corral.log.level / corral.log.format: the process log's level and layout when set (see logger.ts). */
  logLevel: LogLevel | undefined;
  logFormat: LogFormat | undefined;
  /** corral.idleCollect: collect garbage once the server goes quiet, so memory goes back to the OS (idle-collector.ts). */
  idleCollect: boolean;
  /** audit.enable: ZooKeeper's audit log; audit.logDir: where audit.log is written (default dataDir). */
  auditEnable: boolean;
  auditLogDir: string;
  /** maxCnxns: client connections in total (0 = unlimited), as ZooKeeper's ServerCnxnFactory.maxCnxns. */
  maxCnxns: number;
  /** Requests outstanding server-wide above which connections stop being read (see throttle.ts). */
  globalOutstandingLimit: number;
  /** RequestThrottler's limit (0 = off), its re-check period, and whether closed connections' requests drop. */
  requestThrottleLimit: number;
  requestThrottleStallTime: number;
  requestThrottleDropStale: boolean;
  /** SASL DIGEST-MD5 users (jaasLoginConfig) and their keys; see jaas-config.ts. */
  sasl: SaslConfig;
  /** Keys the file had that we do not know; the caller logs them. */
  unknownKeys: string[];
}

/** Every 4lw ZooKeeper 3.8 knows; `*` in the whitelist means all of them. */
export const allFourLetterWords = [
  "conf",
  "cons",
  "crst",
  "dirs",
  "dump",
  "envi",
  "gtmk",
  "ruok",
  "stmk",
  "srst",
  "srvr",
  "stat",
  "wchc",
  "wchp",
  "wchs",
  "mntr",
  "isro",
  "hash",
];

const knownKeys = new Set([
  "tickTime",
  "initLimit",
  "syncLimit",
  "dataDir",
  "dataLogDir",
  "clientPort",
  "clientPortAddress",
  "secureClientPort",
  "maxClientCnxns",
  "minSessionTimeout",
  "maxSessionTimeout",
  "snapCount",
  "autopurge.snapRetainCount",
  "autopurge.purgeInterval",
  "forceSync",
  "jute.maxbuffer",
  "extendedTypesEnabled",
  "enforceQuota",
  "superDigest",
  "DigestAuthenticationProvider.superDigest",
  "4lw.commands.whitelist",
  "admin.serverPort",
  "admin.enableServer",
  "admin.serverAddress",
  "standaloneEnabled",
  "reconfigEnabled",
  "preAllocSize",
  "myid",
  "znode.container.checkIntervalMs",
  "corral.log.level",
  "corral.log.format",
  "corral.idleCollect",
  "audit.enable",
  "audit.logDir",
  "maxCnxns",
  "globalOutstandingLimit",
  "requestThrottleLimit",
  "requestThrottleStallTime",
  "requestThrottleDropStale",
]);

/** Parses zoo.cfg text (java.util.Properties-like `key=value`, `#` comments). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m === null) throw new ConfigError(line, "line is not key=value");
    out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

function int(props: Map<string, string>, key: string, dflt: number, min: number, max = 2 ** 31 - 1): number {
  const v = props.get(key);
  if (v === undefined) return dflt;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(key, `"${v}" is not an integer`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(key, `${n} is out of range [${min}, ${max}]`);
  return n;
}

function bool(props: Map<string, string>, key: string, dflt: boolean): boolean {
  const v = props.get(key);
  if (v === undefined) return dflt;
  const s = v.toLowerCase();
  if (s === "yes" || s === "true") return true;
  if (s === "no" || s === "false") return false;
  throw new ConfigError(key, `"${v}" is not yes/no/true/false`);
}

function oneOf<T extends string>(
  props: Map<string, string>,
  key: string,
  values: readonly T[],
): T | undefined {
  const v = props.get(key);
  if (v === undefined) return undefined;
  const t = values.find((x) => x === v);
  if (t === undefined) throw new ConfigError(key, `"${v}" is not one of ${values.join(", ")}`);
  return t;
}

/** admin.commandURL: a path such as /commands (no trailing slash). */
function commandUrl(props: Map<string, string>): string {
  const v = props.get("admin.commandURL") ?? "/commands";
  if (!/^\/[^\s?#]*[^\s?#/]$/.test(v))
    throw new ConfigError("admin.commandURL", `"${v}" is not a path like /commands`);
  return v;
}

function port(props: Map<string, string>, key: string, dflt: number): number {
  return int(props, key, dflt, 0, 65535);
}

function parsePeer(key: string, value: string): PeerConfig {
  const id = Number(key.slice("server.".length));
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new ConfigError(key, "server id must be 0..255");
  const [addr, client] = value.split(";");
  const parts = addr!.split(":");
  if (parts.length < 3)
    throw new ConfigError(key, `"${value}" is not host:quorumPort:electionPort[:role][;clientPort]`);
  const quorumPort = Number(parts[1]);
  const electionPort = Number(parts[2]);
  if (!Number.isInteger(quorumPort) || !Number.isInteger(electionPort))
    throw new ConfigError(key, "bad port");
  const role = parts[3];
  if (role !== undefined && role !== "observer" && role !== "participant") {
    throw new ConfigError(key, `role "${role}" is not observer or participant`);
  }
  let clientPort: number | undefined;
  let clientAddress: string | undefined;
  if (client !== undefined) {
    const i = client.lastIndexOf(":");
    clientPort = Number(client.slice(i + 1));
    clientAddress = i < 0 ? "0.0.0.0" : client.slice(0, i);
    if (!Number.isInteger(clientPort)) throw new ConfigError(key, `bad client port "${client}"`);
  }
  return {
    id,
    host: parts[0]!,
    quorumPort,
    electionPort,
    observer: role === "observer",
    clientPort,
    clientAddress,
  };
}

/** QuorumVerifier.toString: the text ZooKeeper keeps in /zookeeper/config for a static ensemble. */
export function quorumConfigText(peers: readonly PeerConfig[], version = 0n): string {
  let out = "";
  for (const p of peers) {
    const client = p.clientPort === undefined ? "" : `;${p.clientAddress}:${p.clientPort}`;
    out += `server.${p.id}=${p.host}:${p.quorumPort}:${p.electionPort}:${p.observer ? "observer" : "participant"}${client}\n`;
  }
  return out + `version=${version.toString(16)}`;
}

/** Builds a validated config from properties; relative dirs resolve against baseDir. */
export function configFromProperties(props: Map<string, string>, baseDir: string): ServerConfig {
  const tickTime = int(props, "tickTime", 2000, 1);
  const dirOf = (key: string, dflt: string | undefined): string | undefined => {
    const v = props.get(key) ?? dflt;
    if (v === undefined) return undefined;
    if (v === "") throw new ConfigError(key, "must not be empty");
    return isAbsolute(v) ? v : resolve(baseDir, v);
  };
  const dataDir = dirOf("dataDir", undefined);
  if (dataDir === undefined) throw new ConfigError("dataDir", "is required");
  const minSessionTimeout = int(props, "minSessionTimeout", tickTime * 2, 0);
  const maxSessionTimeout = int(props, "maxSessionTimeout", tickTime * 20, 0);
  if (minSessionTimeout > maxSessionTimeout) {
    throw new ConfigError(
      "minSessionTimeout",
      `${minSessionTimeout} is greater than maxSessionTimeout ${maxSessionTimeout}`,
    );
  }
  const whitelist = props.get("4lw.commands.whitelist") ?? "srvr";
  const fourLetterWords = new Set<string>();
  for (const w of whitelist.split(",").map((s) => s.trim())) {
    if (w === "") continue;
    if (w === "*") allFourLetterWords.forEach((x) => fourLetterWords.add(x));
    else if (allFourLetterWords.includes(w)) fourLetterWords.add(w);
    else throw new ConfigError("4lw.commands.whitelist", `unknown command "${w}"`);
  }
  // ZooKeeper takes it as the system property zookeeper.DigestAuthenticationProvider.superDigest,
  // which a zoo.cfg line without the "zookeeper." prefix also sets.
  const superDigest = props.get("superDigest") ?? props.get("DigestAuthenticationProvider.superDigest");
  if (superDigest !== undefined && !/^[^:]+:.+$/.test(superDigest)) {
    throw new ConfigError("superDigest", "must be user:base64(sha1(user:password))");
  }
  const peers: PeerConfig[] = [];
  const unknownKeys: string[] = [];
  for (const [key, value] of props) {
    if (key.startsWith("server.")) peers.push(parsePeer(key, value));
    else if (
      !knownKeys.has(key) &&
      !key.startsWith("metricsProvider.") &&
      !key.startsWith("admin.") &&
      !isSaslConfigKey(key, value) &&
      !isTlsKey(key)
    ) {
      unknownKeys.push(key);
    }
  }
  return {
    tickTime,
    initLimit: int(props, "initLimit", 10, 1),
    syncLimit: int(props, "syncLimit", 5, 1),
    dataDir,
    dataLogDir: dirOf("dataLogDir", dataDir)!,
    clientPort: port(props, "clientPort", 2181),
    clientPortAddress: props.get("clientPortAddress") ?? "0.0.0.0",
    maxClientCnxns: int(props, "maxClientCnxns", maxClientCnxnsDefault, 0),
    minSessionTimeout,
    maxSessionTimeout,
    snapCount: int(props, "snapCount", snapCountDefault, 2),
    autopurgeSnapRetainCount: Math.max(3, int(props, "autopurge.snapRetainCount", 3, 1)),
    autopurgePurgeInterval: int(props, "autopurge.purgeInterval", 0, 0),
    forceSync: bool(props, "forceSync", true),
    juteMaxBuffer: int(props, "jute.maxbuffer", juteMaxBufferDefault, 1024),
    extendedTypesEnabled: bool(props, "extendedTypesEnabled", false),
    enforceQuota: bool(props, "enforceQuota", false),
    superDigest,
    fourLetterWords,
    containerCheckIntervalMs: int(props, "znode.container.checkIntervalMs", 60000, 10),
    adminEnableServer: bool(props, "admin.enableServer", true),
    adminServerAddress: props.get("admin.serverAddress") ?? "0.0.0.0",
    adminServerPort: port(props, "admin.serverPort", 8080),
    adminCommandUrl: commandUrl(props),
    adminIdleTimeoutMs: int(props, "admin.idleTimeout", 30000, 1),
    adminSnapshotEnabled: bool(props, "admin.snapshot.enabled", true),
    adminRestoreEnabled: bool(props, "admin.restore.enabled", true),
    initialConfig: [...props].map(([k, v]) => `${k}=${v}\n`).join(""),
    metricsProviderClassName: props.get("metricsProvider.className") || undefined,
    metricsHttpPort: port(props, "metricsProvider.httpPort", 7000),
    metricsHttpHost: props.get("metricsProvider.httpHost") ?? "0.0.0.0",
    myid: int(props, "myid", 1, 0, 255),
    peers: peers.sort((a, b) => a.id - b.id),
    logLevel: oneOf(props, "corral.log.level", logLevels),
    logFormat: oneOf(props, "corral.log.format", logFormats),
    idleCollect: bool(props, "corral.idleCollect", true),
    auditEnable: bool(props, "audit.enable", false),
    auditLogDir: dirOf("audit.logDir", dataDir)!,
    maxCnxns: int(props, "maxCnxns", 0, 0),
    globalOutstandingLimit: int(props, "globalOutstandingLimit", globalOutstandingLimitDefault, 1),
    requestThrottleLimit: int(props, "requestThrottleLimit", 0, 0),
    requestThrottleStallTime: int(props, "requestThrottleStallTime", requestThrottleStallTimeDefault, 1),
    requestThrottleDropStale: bool(props, "requestThrottleDropStale", true),
    sasl: saslConfigFromProperties(props, baseDir),
    ...tlsConfigFromProperties(props, baseDir),
    unknownKeys,
  };
}

/** Reads and validates a zoo.cfg file. */
export function loadConfig(file: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError("file", `cannot read ${file}: ${(e as Error).message}`);
  }
  return configFromProperties(parseProperties(text), dirname(resolve(file)));
}

/** The config `npm start` uses: standalone on 127.0.0.1:2181 with data under ./data. */
export function defaultConfig(cwd: string): ServerConfig {
  return configFromProperties(
    new Map([
      ["dataDir", "data"],
      ["clientPortAddress", "127.0.0.1"],
      ["4lw.commands.whitelist", "*"],
    ]),
    cwd,
  );
}
