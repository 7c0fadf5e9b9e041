// TLS as ZooKeeper 3.8 configures it: the `ssl.*` (client port) and `ssl.quorum.*` (peer links) keys of zoo.cfg,
// key and trust stores (PEM or PKCS#12) read into node:tls contexts, certificate reload on file change, the TLS
// client listener, and the x509 ids a client certificate earns (X509AuthenticationProvider).
import { readFileSync, unwatchFile, watchFile, type Stats } from "node:fs";
import type { Server, Socket } from "node:net";
import { isAbsolute, resolve } from "node:path";
import {
  checkServerIdentity,
  connect as tlsConnect,
  createSecureContext,
  createServer as createTlsServer,
  getCiphers,
  type SecureContext,
  type SecureContextOptions,
  type SecureVersion,
  type Server as TlsServer,
  type TLSSocket,
} from "node:tls";
import { ConfigError } from "../base/errors.js";
import type { Id } from "../protocol/types.js";
import { certificateSubjectName } from "./x509-name.js";

export type KeyStoreType = "PEM" | "PKCS12";
/** X509Util.ClientAuth: whether the server asks a client for a certificate, and whether it must have one. */
export type ClientAuth = "none" | "want" | "need";
type Log = (level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>) => void;

/** One X509Util's settings: the client port's (`ssl.`) or the quorum's (`ssl.quorum.`). */
export interface TlsSettings {
  /** The zoo.cfg key prefix, so errors found at start-up name the key. */
  readonly prefix: "ssl." | "ssl.quorum.";
  readonly keyStoreLocation: string;
  readonly keyStorePassword: string;
  readonly keyStorePasswordPath: string | undefined;
  readonly keyStoreType: KeyStoreType;
  /** Absent: the default root certificates, as ZooKeeper falls back to the JVM's. */
  readonly trustStoreLocation: string | undefined;
  readonly trustStorePassword: string;
  readonly trustStorePasswordPath: string | undefined;
  readonly clientAuth: ClientAuth;
  /** ssl.hostnameVerification: the peer's certificate must name its address (quorum: both directions). */
  readonly hostnameVerification: boolean;
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** OpenSSL cipher list from ssl.ciphersuites; undefined keeps Node's defaults. */
  readonly ciphers: string | undefined;
  /** client.certReload / sslQuorumReloadCertFiles: reload the stores when their files change. */
  readonly reloadCertFiles: boolean;
}

/** The TLS part of ServerConfig. */
export interface TlsServerConfig {
  /** secureClientPort; undefined (or 0, as ZooKeeper) when the server has no TLS client port. */
  secureClientPort: number | undefined;
  secureClientPortAddress: string;
  /** False when zoo.cfg sets secureClientPort and no clientPort: only TLS clients are served. */
  clientPortEnabled: boolean;
  /** Settings of the TLS client port; present exactly when secureClientPort is. */
  clientTls: TlsSettings | undefined;
  /** sslQuorum=true: peer links use TLS with these settings. */
  quorumTls: TlsSettings | undefined;
  /** X509AuthenticationProvider.superUser: the certificate subject that is also the super user. */
  x509SuperUser: string | undefined;
  /** Keys accepted and ignored, for a warning at start-up. */
  tlsWarnings: string[];
}

/** How often watched key and trust store files are checked for a change. */
export const certFilePollIntervalMs = 1000;
/** A TLS handshake that has not finished by then is dropped (Netty's SslHandler default). */
export const tlsHandshakeTimeoutMs = 10_000;

const storeKeys = [
  "keyStore.location",
  "keyStore.password",
  "keyStore.passwordPath",
  "keyStore.type",
  "trustStore.location",
  "trustStore.password",
  "trustStore.passwordPath",
  "trustStore.type",
  "clientAuth",
  "protocol",
  "enabledProtocols",
  "ciphersuites",
  "hostnameVerification",
  "handshakeDetectionTimeoutMillis",
  "crl",
  "ocsp",
];
const tlsKeys = new Set([
  "secureClientPort",
  "secureClientPortAddress",
  "serverCnxnFactory",
  "client.secure",
  "client.certReload",
  "sslQuorum",
  "sslQuorumReloadCertFiles",
  "portUnification",
  "X509AuthenticationProvider.superUser",
  "authProvider.x509",
  "ssl.authProvider",
  ...storeKeys.map((k) => "ssl." + k),
  ...storeKeys.map((k) => "ssl.quorum." + k),
]);

/** Whether zoo.cfg's `key` is one this file reads (so it is not reported as unknown). */
export function isTlsKey(key: string): boolean {
  return tlsKeys.has(key);
}

const protocolVersions: Record<string, [SecureVersion, SecureVersion]> = {
  TLSv1: ["TLSv1", "TLSv1"],
  "TLSv1.1": ["TLSv1.1", "TLSv1.1"],
  "TLSv1.2": ["TLSv1.2", "TLSv1.2"],
  "TLSv1.3": ["TLSv1.3", "TLSv1.3"],
  // SSLContext.getInstance("TLS") enables every version the JVM allows by default.
  TLS: ["TLSv1.2", "TLSv1.3"],
};
const versionOrder: SecureVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

function boolProp(props: Map<string, string>, key: string, dflt: boolean): boolean {
  const v = props.get(key);
  if (v === undefined) return dflt;
  const s = v.trim().toLowerCase();
  if (s === "true" || s === "yes") return true;
  if (s === "false" || s === "no") return false;
  throw new ConfigError(key, `"${v}" is not true/false`);
}

/** KeyStoreFileType.fromPropertyValueOrFileName: the type key, else the file's extension. */
function storeType(props: Map<string, string>, key: string, location: string): KeyStoreType {
  const given = props.get(key);
  let type: string;
  if (given !== undefined && given.trim() !== "") type = given.trim().toUpperCase();
  else {
    const ext = location.slice(location.lastIndexOf(".")).toLowerCase();
    const byExt: Record<string, string> = {
      ".jks": "JKS",
      ".pem": "PEM",
      ".p12": "PKCS12",
      ".bcfks": "BCFKS",
    };
    const t = byExt[ext];
    if (t === undefined)
      throw new ConfigError(key, `not set and cannot be told from the name of ${location} (.pem, .p12)`);
    type = t;
  }
  if (type === "PEM" || type === "PKCS12") return type;
  if (type === "JKS" || type === "BCFKS")
    throw new ConfigError(
      key,
      `${type} stores cannot be read; convert with keytool -importkeystore -deststoretype PKCS12, or use PEM`,
    );
  throw new ConfigError(key, `"${given}" is not PEM or PKCS12`);
}

/** A Java (IANA) cipher suite name as OpenSSL spells it, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256. */
export function openSslCipherName(javaName: string): string | undefined {
  if (/^TLS_(AES_\d+_GCM|CHACHA20_POLY1305|AES_128_CCM(_8)?)_SHA\d+$/.test(javaName)) return javaName;
  const m = /^TLS_(?:(ECDHE|DHE)_(RSA|ECDSA)|RSA)_WITH_(.+)$/.exec(javaName);
  if (m === null) return undefined;
  const kx = m[1] === undefined ? "" : `${m[1]}-${m[2]}-`;
  const c = /^(AES)_(128|256)_(GCM|CBC)_(SHA|SHA256|SHA384)$/.exec(m[3]!);
  if (c !== null) return `${kx}AES${c[2]}-${c[3] === "GCM" ? "GCM-" : ""}${c[4]}`;
  if (m[3] === "CHACHA20_POLY1305_SHA256") return `${kx}CHACHA20-POLY1305`;
  return undefined;
}

function cipherList(props: Map<string, string>, key: string): string | undefined {
  const v = props.get(key);
  if (v === undefined || v.trim() === "") return undefined;
  const known = new Set(getCiphers().map((c) => c.toUpperCase()));
  const out: string[] = [];
  for (const name of v.split(",").map((s) => s.trim())) {
    if (name === "") continue;
    const ossl = openSslCipherName(name) ?? name;
    if (!known.has(ossl.toUpperCase()))
      throw new ConfigError(key, `cipher suite "${name}" is not one this server supports`);
    out.push(ossl);
  }
  return out.join(":");
}

function parseSettings(
  props: Map<string, string>,
  baseDir: string,
  prefix: "ssl." | "ssl.quorum.",
  reloadCertFiles: boolean,
  requiredBy: string,
): TlsSettings {
  const k = (s: string): string => prefix + s;
  // Relative file names resolve against the config file's directory, as dataDir does.
  const file = (key: string): string | undefined => {
    const v = props.get(k(key))?.trim();
    return v === undefined || v === "" ? undefined : isAbsolute(v) ? v : resolve(baseDir, v);
  };
  const keyStoreLocation = file("keyStore.location") ?? "";
  if (keyStoreLocation === "")
    throw new ConfigError(k("keyStore.location"), `is required when ${requiredBy} is set`);
  const trustStoreLocation = file("trustStore.location");
  if (
    trustStoreLocation !== undefined &&
    storeType(props, k("trustStore.type"), trustStoreLocation) !== "PEM"
  )
    throw new ConfigError(
      k("trustStore.type"),
      "a PKCS12 trust store cannot be read; give the CA certificates as a PEM file",
    );
  const clientAuthText = (props.get(k("clientAuth")) ?? "").trim().toLowerCase();
  if (clientAuthText !== "" && !["none", "want", "need"].includes(clientAuthText))
    throw new ConfigError(k("clientAuth"), `"${props.get(k("clientAuth"))}" is not none, want or need`);
  const protocol = (props.get(k("protocol")) ?? "TLSv1.2").trim();
  if (protocolVersions[protocol] === undefined)
    throw new ConfigError(k("protocol"), `"${protocol}" is not TLSv1.2, TLSv1.3 or TLS`);
  const enabled = (props.get(k("enabledProtocols")) ?? protocol)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const versions: SecureVersion[] = [];
  for (const p of enabled) {
    const range = protocolVersions[p];
    if (range === undefined)
      throw new ConfigError(k("enabledProtocols"), `"${p}" is not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3`);
    versions.push(...range);
  }
  if (versions.length === 0) throw new ConfigError(k("enabledProtocols"), "names no protocol");
  versions.sort((a, b) => versionOrder.indexOf(a) - versionOrder.indexOf(b));
  for (const flag of ["crl", "ocsp"])
    if (boolProp(props, k(flag), false))
      throw new ConfigError(k(flag), "certificate revocation checks are not supported");
  return {
    prefix,
    keyStoreLocation,
    keyStorePassword: props.get(k("keyStore.password")) ?? "",
    keyStorePasswordPath: file("keyStore.passwordPath"),
    keyStoreType: storeType(props, k("keyStore.type"), keyStoreLocation),
    trustStoreLocation,
    trustStorePassword: props.get(k("trustStore.password")) ?? "",
    trustStorePasswordPath: file("trustStore.passwordPath"),
    clientAuth: (clientAuthText || "need") as ClientAuth,
    hostnameVerification: boolProp(props, k("hostnameVerification"), true),
    minVersion: versions[0]!,
    maxVersion: versions[versions.length - 1]!,
    ciphers: cipherList(props, k("ciphersuites")),
    reloadCertFiles,
  };
}

/** Reads the TLS keys of zoo.cfg (QuorumPeerConfig and the ssl.* system properties it sets). No I/O. */
export function tlsConfigFromProperties(props: Map<string, string>, baseDir: string): TlsServerConfig {
  const warnings: string[] = [];
  const portText = props.get("secureClientPort");
  let secureClientPort: number | undefined;
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535)
      throw new ConfigError("secureClientPort", `"${portText}" is not a port number`);
    secureClientPort = Number(portText) === 0 ? undefined : Number(portText);
  }
  const secureClientPortAddress = props.get("secureClientPortAddress");
  if (secureClientPortAddress !== undefined && secureClientPort === undefined)
    throw new ConfigError("secureClientPortAddress", "is set but secureClientPort is not set");
  const clientTls =
    secureClientPort === undefined
      ? undefined
      : parseSettings(
          props,
          baseDir,
          "ssl.",
          boolProp(props, "client.certReload", false),
          "secureClientPort",
        );
  const quorumTls = boolProp(props, "sslQuorum", false)
    ? parseSettings(
        props,
        baseDir,
        "ssl.quorum.",
        boolProp(props, "sslQuorumReloadCertFiles", false),
        "sslQuorum",
      )
    : undefined;
  if (boolProp(props, "portUnification", false))
    warnings.push("portUnification is not supported: peer links accept TLS only when sslQuorum=true");
  for (const key of ["ssl.authProvider", "authProvider.x509"]) {
    const v = props.get(key);
    if (v !== undefined && v !== "x509" && !v.endsWith("X509AuthenticationProvider"))
      warnings.push(`${key}=${v} is ignored: client certificates authenticate with the x509 scheme`);
  }
  return {
    secureClientPort,
    secureClientPortAddress: secureClientPortAddress ?? "0.0.0.0",
    clientPortEnabled: props.has("clientPort") || secureClientPort === undefined,
    clientTls,
    quorumTls,
    x509SuperUser: props.get("X509AuthenticationProvider.superUser") || undefined,
    tlsWarnings: warnings,
  };
}

// ---- stores → node:tls ----

function readStore(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(key, `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** X509Util.getPasswordFromConfigPropertyOrFile: the file (first line, trimmed) wins over the value. */
function password(key: string, value: string, path: string | undefined): string {
  if (path === undefined) return value;
  return readStore(key, path).toString("utf8").split(/\r?\n/)[0]!.trim();
}

function pemBlocks(text: string, label: RegExp): string[] {
  const out: string[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) if (label.test(m[1]!)) out.push(m[0]);
  return out;
}

/** The key store, trust store and protocol settings as node:tls options; a bad store names its key. */
export function loadContextOptions(s: TlsSettings): SecureContextOptions {
  const p = s.prefix;
  const opts: SecureContextOptions = { minVersion: s.minVersion, maxVersion: s.maxVersion };
  if (s.ciphers !== undefined) opts.ciphers = s.ciphers;
  const keyPass = password(p + "keyStore.passwordPath", s.keyStorePassword, s.keyStorePasswordPath);
  const keyBytes = readStore(p + "keyStore.location", s.keyStoreLocation);
  if (s.keyStoreType === "PKCS12") {
    opts.pfx = keyBytes;
    opts.passphrase = keyPass;
  } else {
    const text = keyBytes.toString("utf8");
    const keys = pemBlocks(text, /PRIVATE KEY$/);
    const certs = pemBlocks(text, /^CERTIFICATE$/);
    if (keys.length === 0 || certs.length === 0)
      throw new ConfigError(
        p + "keyStore.location",
        `${s.keyStoreLocation} must hold a PEM private key and its certificate chain`,
      );
    opts.key = keys[0]!;
    opts.cert = certs.join("\n");
    if (keyPass !== "") opts.passphrase = keyPass;
  }
  if (s.trustStoreLocation !== undefined) {
    const text = readStore(p + "trustStore.location", s.trustStoreLocation).toString("utf8");
    const cas = pemBlocks(text, /^CERTIFICATE$/);
    if (cas.length === 0)
      throw new ConfigError(p + "trustStore.location", `${s.trustStoreLocation} holds no PEM certificate`);
    opts.ca = cas;
  }
  try {
    createSecureContext(opts);
  } catch (e) {
    throw new ConfigError(p + "keyStore.location", `${s.keyStoreLocation}: ${(e as Error).message}`);
  }
  return opts;
}

/** A TLS context from settings, rebuilt when the store files change (when reloadCertFiles is set). */
export class TlsContextSource {
  private opts: SecureContextOptions;
  private ctx: SecureContext;
  private readonly listeners: Array<(opts: SecureContextOptions) => void> = [];
  private readonly watched: string[] = [];

  constructor(
    readonly settings: TlsSettings,
    private readonly log: Log,
  ) {
    this.opts = loadContextOptions(settings);
    this.ctx = createSecureContext(this.opts);
    if (!settings.reloadCertFiles) return;
    const files = [settings.keyStoreLocation, settings.trustStoreLocation, settings.keyStorePasswordPath];
    for (const f of files) {
      if (f === undefined) continue;
      this.watched.push(f);
      watchFile(f, { interval: certFilePollIntervalMs, persistent: false }, (cur, prev) =>
        this.changed(f, cur, prev),
      );
    }
  }

  get options(): SecureContextOptions {
    return this.opts;
  }

  get secureContext(): SecureContext {
    return this.ctx;
  }

  /** `fn` runs with the new options after each successful reload. */
  onReload(fn: (opts: SecureContextOptions) => void): void {
    this.listeners.push(fn);
  }

  close(): void {
    for (const f of this.watched) unwatchFile(f);
    this.watched.length = 0;
  }

  private changed(file: string, cur: Stats, prev: Stats): void {
    if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return;
    try {
      this.opts = loadContextOptions(this.settings);
      this.ctx = createSecureContext(this.opts);
    } catch (e) {
      // Often one file of a pair is new and the other not yet: keep the old context until both agree.
      this.log("warn", "certificate files changed but cannot be loaded; keeping the old ones", {
        file,
        err: (e as Error).message,
      });
      return;
    }
    this.log("info", "reloaded TLS certificates", { prefix: this.settings.prefix, file });
    for (const fn of this.listeners) fn(this.opts);
  }
}

// ---- x509 identity ----

const certIds = new WeakMap<Socket, Id[]>();

/** The ids X509AuthenticationProvider.handleAuthentication gives this connection's certificate, if any. */
export function clientCertIds(socket: Socket): Id[] {
  return certIds.get(socket) ?? [];
}

function x509Ids(socket: TLSSocket, superUser: string | undefined): Id[] {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return [];
  const dn = certificateSubjectName(new Uint8Array(cert.raw));
  const ids: Id[] = [];
  if (superUser !== undefined && dn === superUser) ids.push({ scheme: "super", id: dn });
  ids.push({ scheme: "x509", id: dn });
  return ids;
}

function normalise(address: string | undefined): string {
  return (address ?? "").replace(/^::ffff:/, "");
}

/** A TLS server that hands each socket on only once its handshake is done, and can drop the half-done ones. */
function secureServer(
  source: TlsContextSource,
  log: Log,
  what: string,
  onSecure: (socket: TLSSocket) => void,
): { server: TlsServer; destroyAll: () => void } {
  const s = source.settings;
  const raw = new Set<Socket>();
  const server = createTlsServer(
    {
      ...source.options,
      requestCert: s.clientAuth !== "none",
      rejectUnauthorized: s.clientAuth === "need",
      handshakeTimeout: tlsHandshakeTimeoutMs,
      noDelay: true,
    },
    onSecure,
  );
  server.on("connection", (socket: Socket) => {
    raw.add(socket);
    socket.once("close", () => raw.delete(socket));
  });
  server.on("tlsClientError", (err, socket) =>
    log("info", `${what}: TLS handshake failed`, {
      remote: normalise(socket.remoteAddress),
      err: err.message,
    }),
  );
  source.onReload((opts) => server.setSecureContext(opts));
  return { server, destroyAll: () => raw.forEach((r) => r.destroy()) };
}

/** The TLS client port (secureClientPort): feeds the same connection handling as the plain one. */
export class SecureClientListener {
  private readonly server: TlsServer;
  private readonly destroyAll: () => void;
  private readonly source: TlsContextSource;

  constructor(
    settings: TlsSettings,
    superUser: string | undefined,
    log: Log,
    accept: (socket: Socket) => void,
  ) {
    this.source = new TlsContextSource(settings, log);
    const made = secureServer(this.source, log, "secure client port", (socket) => {
      // NettyServerCnxnFactory.CertificateVerifier: with clientAuth=want a client may come without a
      // certificate, but one that shows an untrusted certificate is refused.
      const presented = socket.getPeerX509Certificate() !== undefined;
      if (presented && !socket.authorized) {
        log("info", "refusing client certificate", {
          remote: normalise(socket.remoteAddress),
          err: String(socket.authorizationError),
        });
        socket.destroy();
        return;
      }
      try {
        certIds.set(socket, presented ? x509Ids(socket, superUser) : []);
      } catch (e) {
        log("warn", "cannot read the client certificate's subject", { err: (e as Error).message });
        socket.destroy();
        return;
      }
      accept(socket);
    });
    this.server = made.server;
    this.destroyAll = made.destroyAll;
    this.server.maxConnections = 1 << 16;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === "object" && a !== null ? a.port : 0;
  }

  close(): Promise<void> {
    this.source.close();
    this.destroyAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** TLS for the links between ensemble members (sslQuorum=true), with mutual authentication. */
export interface PeerTls {
  /** A server whose `onSecure` sees only sockets whose handshake (and host check) passed. */
  createServer(onSecure: (socket: Socket) => void): Server;
  /** A client socket; it emits "secureConnect" once the peer's certificate is verified. */
  connect(host: string, port: number): Socket;
  /** Stops watching files and drops handshakes in progress. */
  close(): void;
}

export function peerTls(settings: TlsSettings, log: Log): PeerTls {
  const source = new TlsContextSource(settings, log);
  const destroyers: Array<() => void> = [];
  return {
    createServer(onSecure) {
      const made = secureServer(source, log, "quorum port", (socket) => {
        // ZKTrustManager.checkClientTrusted: a quorum peer's certificate must name the address it comes from.
        const cert = socket.getPeerCertificate();
        const err =
          settings.hostnameVerification && socket.authorized
            ? checkServerIdentity(normalise(socket.remoteAddress), cert)
            : undefined;
        if (err !== undefined) {
          log("warn", "refusing quorum peer: certificate does not match its address", { err: err.message });
          socket.destroy();
          return;
        }
        onSecure(socket);
      });
      destroyers.push(made.destroyAll);
      return made.server;
    },
    connect(host, port) {
      const socket = tlsConnect({
        host,
        port,
        secureContext: source.secureContext,
        ...(settings.hostnameVerification ? {} : { checkServerIdentity: () => undefined }),
      });
      socket.setNoDelay(true);
      return socket;
    },
    close() {
      source.close();
      for (const d of destroyers) d();
    },
  };
}
