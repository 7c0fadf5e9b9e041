// A Corral server: recovery, the client port, sessions, the request pipeline, snapshots and housekeeping.
// Standalone is an ensemble of one; all I/O of the server lives here and in its siblings.
import { createServer, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import type { Role, ZabCounters } from "../consensus/zab-node.js";
import type pino from "pino";
type Logger = pino.Logger;
import { quorumConfigText, type ServerConfig } from "./config.js";
import { ClientConnection, type ConnectionHost } from "./client-connection.js";
import { RequestPipeline, type ReplySink, type SessionContext } from "./request-pipeline.js";
import { SessionTracker } from "./session-tracker.js";
import { checkSessionPassword, newSessionPassword, sessionPasswordBytes } from "./session-password.js";
import { digestId } from "./digest-auth.js";
import { AuthInfo } from "./auth-info.js";
import * as wire from "./wire.js";
import { DataTree, type ApplyResult } from "../tree/data-tree.js";
import { Preparer } from "../tree/prepare.js";
import type { ACL, Id, Request, Response, Txn } from "../protocol/types.js";
import { OpCode, Xid, KeeperState, Perms } from "../protocol/opcodes.js";
import { checkACL } from "../tree/acl.js";
import { Code } from "../protocol/error-codes.js";
import { UnknownOpCodeError } from "../protocol/records.js";
import { TxnLog } from "../storage/txn-log.js";
import { writeSnapshot } from "../storage/snapshot.js";
import { recoverTree } from "../storage/recovery.js";
import { purge } from "../storage/purge.js";
import { lockDataDir, readMyid, type DataDirLock } from "../storage/data-dir.js";
import { serializeTree, streamTree } from "../storage/tree-snapshot.js";
import { encodeTxn, decodeTxn } from "../protocol/txn-codec.js";
import { defaultTraceMask, fourLetterWord, type ServerStats } from "../admin/four-letter-words.js";
import { Metrics, closeMetricsServer } from "../admin/metrics.js";
import { startAdminServer, type AdminServer } from "../admin/admin-server.js";
import { makeZxid, zxidEpoch, zxidHex } from "../base/zxid.js";
import { ConfigError } from "../base/errors.js";
import { EnsembleMember, type MemberServer } from "./ensemble-member.js";
import { readEpochs } from "./quorum-driver.js";
import { AuditLog } from "./audit-log.js";
import { RequestThrottle } from "./throttle.js";
import { quotaExceededMessage } from "../tree/quota.js";
import { DigestMd5Server, SaslAuthError } from "./sasl-digest-md5.js";
import { loadServerCredentials } from "./jaas-config.js";
import { SecureClientListener, clientCertIds, peerTls, type PeerTls } from "./tls-config.js";
import { connectionRequestsOutstandingMax, idleCollectAfterMs } from "../base/limits.js";
import { IdleCollector, loadCollector } from "./idle-collector.js";
import { ChurnTable } from "../base/churn-table.js";

interface SessionState {
  id: bigint;
  timeoutMs: number;
  /** Per connection, as ZooKeeper's ServerCnxn.authInfo: a reconnecting client authenticates again. */
  auth: AuthInfo;
  conn: ClientConnection | null;
  closing: boolean;
}

/** The names FinalRequestProcessor gives each op in `cons` (lop=). */
const lastOpNames = new Map<number, string>([
  [OpCode.ping, "PING"],
  [OpCode.create, "CREA"],
  [OpCode.create2, "CREA"],
  [OpCode.createContainer, "CREA"],
  [OpCode.createTTL, "CREA"],
  [OpCode.delete, "DELE"],
  [OpCode.setData, "SETD"],
  [OpCode.setACL, "SETA"],
  [OpCode.multi, "MULT"],
  [OpCode.multiRead, "MLTR"],
  [OpCode.closeSession, "CLOS"],
  [OpCode.sync, "SYNC"],
  [OpCode.check, "CHEC"],
  [OpCode.exists, "EXIS"],
  [OpCode.getData, "GETD"],
  [OpCode.setWatches, "SETW"],
  [OpCode.setWatches2, "STW2"],
  [OpCode.addWatch, "ADDW"],
  [OpCode.getACL, "GETA"],
  [OpCode.getChildren, "GETC"],
  [OpCode.getChildren2, "GETC"],
  [OpCode.getAllChildrenNumber, "GETACN"],
  [OpCode.checkWatches, "CHKW"],
  [OpCode.removeWatches, "REMW"],
  [OpCode.whoAmI, "HOMI"],
  [OpCode.getEphemerals, "GETE"],
]);

/** Requests that only read the tree or the watch registry; everything else becomes a txn. */
const readOps = new Set<number>([
  OpCode.exists,
  OpCode.getData,
  OpCode.getACL,
  OpCode.getChildren,
  OpCode.getChildren2,
  OpCode.getAllChildrenNumber,
  OpCode.getEphemerals,
  OpCode.multiRead,
  OpCode.whoAmI,
  OpCode.checkWatches,
  OpCode.removeWatches,
  OpCode.addWatch,
]);

/** 4lw that ZooKeeper refuses while its ZooKeeperServer is not running (looking, or not yet synced). */
const notServingWords = new Set([
  "srvr",
  "stat",
  "mntr",
  "cons",
  "wchs",
  "wchc",
  "wchp",
  "dump",
  "crst",
  "srst",
]);
const notServingText = "This ZooKeeper instance is not currently serving requests\n";

export class CorralServer implements ConnectionHost, ReplySink, ServerStats, MemberServer {
  tree!: DataTree;
  private preparer!: Preparer;
  pipeline!: RequestPipeline;
  /** Set when zoo.cfg lists an ensemble of two or more voters; null for standalone. */
  private member: EnsembleMember | null = null;
  private myid: number;
  private txnLog!: TxnLog;
  private lock: DataDirLock | null = null;
  private readonly net: Server;
  /** The TLS client port (secureClientPort) and the quorum's TLS, when configured. */
  private secure: SecureClientListener | null = null;
  private quorumTls: PeerTls | undefined;
  /** By connection id; connections and sessions come and go at the client's rate (see base/churn-table.ts). */
  private readonly connections = new ChurnTable<number, ClientConnection>();
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly sessions = new ChurnTable<bigint, SessionState>();
  /** DIGEST-MD5 users from the JAAS file (null: none configured), and each connection's exchange. */
  private saslUsers: Map<string, string> | null = null;
  private readonly saslServers = new WeakMap<ClientConnection, DigestMd5Server>();
  private tracker: SessionTracker;
  /** Connections waiting for their createSession txn to commit. */
  private readonly pendingConnect = new ChurnTable<
    bigint,
    {
      conn: ClientConnection;
      readOnly: boolean | undefined;
    }
  >();
  /** Requests a client sent behind its ConnectRequest, held until the session exists (see onRequestFrame). */
  private readonly framesBeforeSession = new WeakMap<ClientConnection, Uint8Array[]>();
  private nextSessionId = 0n;
  private timers: NodeJS.Timeout[] = [];
  private txnsSinceSnapshot = 0;
  private snapshotInFlight = false;
  private stopped = false;
  private metricsServer: HttpServer | null = null;
  /**
   * Only when /metrics is served (metricsProvider.className): nothing else reads the summaries, and observing
   * them costs a few percent of a write (each observation goes into five t-digests).
   */
  private readonly metrics: Metrics | null;
  /** When this member last started looking for a leader (for election_time). */
  private lookingSinceMs: number | null = null;
  /** audit.enable: opened by start(). */
  private auditLog: AuditLog | null = null;
  /** globalOutstandingLimit / requestThrottleLimit over every client connection. */
  private readonly throttle: RequestThrottle;
  private adminServer: AdminServer | null = null;
  /** An admin `restore` is swapping the state: new connections are refused meanwhile. */
  private restoring = false;
  readonly startedMs = Date.now();
  /** ZooTrace's mask, which gtmk shows and stmk sets; Corral logs through pino and only reports it. */
  traceMask = defaultTraceMask;
  // ServerStats
  packetsReceived = 0;
  /** Requests other than pings, and txns applied: the idle collector waits for this to stop moving. */
  private activity = 0;
  packetsSent = 0;
  latencyMinMs = Number.MAX_SAFE_INTEGER;
  latencyMaxMs = 0;
  latencyTotalMs = 0;
  latencyCount = 0;

  constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
  ) {
    this.tracker = new SessionTracker(config.tickTime);
    this.myid = config.myid;
    this.net = createServer({ noDelay: true }, (s) => this.accept(s));
    this.net.maxConnections = 1 << 16;
    this.throttle = new RequestThrottle(config);
    this.metrics = config.metricsProviderClassName !== undefined ? new Metrics(this) : null;
  }

  get port(): number {
    const a = this.net.address();
    return typeof a === "object" && a !== null ? a.port : this.config.clientPort;
  }

  async start(): Promise<void> {
    const c = this.config;
    // Key and trust stores are read first: a bad one stops start-up naming its key.
    for (const w of c.tlsWarnings) this.logger.warn(w);
    const log = this.log.bind(this);
    if (c.clientTls !== undefined)
      this.secure = new SecureClientListener(c.clientTls, c.x509SuperUser, log, (s) => this.accept(s));
    if (c.quorumTls !== undefined) this.quorumTls = peerTls(c.quorumTls, log);
    const jaasFile = c.sasl.jaasLoginConfig ?? (process.env.CORRAL_JAAS_CONFIG || undefined);
    if (jaasFile !== undefined) {
      const key = c.sasl.jaasLoginConfig !== undefined ? "jaasLoginConfig" : "CORRAL_JAAS_CONFIG";
      this.saslUsers = loadServerCredentials(jaasFile, c.sasl.serverSection, key);
    }
    this.lock = await lockDataDir(c.dataDir);
    const auditFailed = (e: Error): void => this.logger.error({ err: e.message }, "audit log write failed");
    if (c.auditEnable) this.auditLog = await AuditLog.open(c.auditLogDir, auditFailed);
    const initStarted = performance.now();
    const recovered = await recoverTree(c.dataDir, c.dataLogDir);
    this.tree = recovered.snapshot?.tree ?? new DataTree();
    this.metrics?.observe("startup_snap_load_time", performance.now() - initStarted);
    const ensemble = c.peers.filter((p) => !p.observer).length >= 2;
    if (ensemble) this.tree.setConfigData(this.configNodeData, 0n);
    // A member applies only what the quorum says is committed: logged txns come back through it.
    if (!ensemble) for (const { record } of recovered.txns) this.tree.apply(decodeTxn(record));
    this.metrics?.observe("startup_txns_loaded", recovered.txns.length);
    this.metrics?.observe("dbinittime", performance.now() - initStarted);
    this.logger.info(
      {
        snapshot: recovered.snapshot?.file ?? null,
        txns: recovered.txns.length,
        zxid: zxidHex(this.tree.lastProcessedZxid),
      },
      "recovered data tree",
    );
    this.txnsSinceSnapshot = recovered.txns.length;
    this.txnLog = await TxnLog.open(
      {
        dir: c.dataLogDir,
        forceSync: c.forceSync,
        onBatchDurable: (records, fsyncMs) => {
          this.metrics?.observe("sync_processor_batch_size", records);
          if (c.forceSync) this.metrics?.observe("fsynctime", fsyncMs);
        },
      },
      ensemble ? recovered.lastZxid : this.tree.lastProcessedZxid,
    );
    this.buildPipeline();
    if (ensemble) {
      const myid = (await readMyid(c.dataDir)) ?? (c.peers.some((p) => p.id === c.myid) ? c.myid : null);
      if (myid === null || !c.peers.some((p) => p.id === myid))
        throw new ConfigError("myid", `${c.dataDir}/myid must name one of the server.N lines`);
      this.myid = myid;
      this.member = new EnsembleMember(this, {
        myid,
        peers: c.peers,
        tickTime: c.tickTime,
        initLimit: c.initLimit,
        syncLimit: c.syncLimit,
        dataDir: c.dataDir,
        txnLog: this.txnLog,
        snapshotZxid: this.tree.lastProcessedZxid,
        loggedTxns: recovered.txns.map((t) => ({ zxid: t.zxid, data: t.record })),
        epochs: await readEpochs(c.dataDir, recovered.lastZxid),
        tls: this.quorumTls,
      });
    }
    this.trackTreeSessions();
    this.nextSessionId = initialSessionId(this.myid, Date.now());
    await this.member?.start();
    if (c.clientPortEnabled)
      await new Promise<void>((resolve, reject) => {
        this.net.once("error", reject);
        this.net.listen(c.clientPort, c.clientPortAddress, () => {
          this.net.off("error", reject);
          resolve();
        });
      });
    if (this.secure !== null && c.secureClientPort !== undefined) {
      await this.secure.listen(c.secureClientPort, c.secureClientPortAddress);
      this.logger.info({ address: c.secureClientPortAddress, port: this.secure.port }, "serving TLS clients");
    }
    this.timers.push(setInterval(() => this.tick(), c.tickTime));
    this.timers.push(setInterval(() => this.cleanContainers(), c.containerCheckIntervalMs));
    if (c.autopurgePurgeInterval > 0) {
      this.timers.push(setInterval(() => void this.purge(), c.autopurgePurgeInterval * 3600_000));
    }
    const collector = c.idleCollect ? loadCollector() : undefined;
    if (collector !== undefined) {
      const idle = new IdleCollector(collector, () => this.activity);
      this.timers.push(
        setInterval(() => {
          const started = performance.now();
          const kind = idle.check();
          if (kind !== null)
            this.logger.debug({ kind, ms: performance.now() - started }, "collected garbage while idle");
        }, idleCollectAfterMs),
      );
    }
    for (const t of this.timers) t.unref();
    if (this.metrics !== null) {
      this.metricsServer = await this.metrics.listen(c.metricsHttpPort, c.metricsHttpHost);
      this.logger.info({ host: c.metricsHttpHost, port: c.metricsHttpPort }, "serving /metrics");
    }
    if (c.adminEnableServer) this.adminServer = await startAdminServer(this);
    this.logger.info(
      { address: c.clientPortAddress, port: this.port, dataDir: c.dataDir },
      "serving clients",
    );
    this.auditLog?.writeServer("serverStart", "success");
  }

  /** ZKAuditProvider.addServerStartFailureAuditLog: start() threw. */
  async auditStartFailure(): Promise<void> {
    this.auditLog?.writeServer("serverStart", "failure");
    await this.auditLog?.close();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.auditLog?.writeServer("serverStop", "invoked");
    for (const t of this.timers) clearInterval(t);
    if (this.metricsServer !== null) await closeMetricsServer(this.metricsServer);
    await this.adminServer?.close();
    await this.member?.stop();
    for (const conn of this.connections.values()) conn.socket.destroy();
    await this.secure?.close();
    await new Promise<void>((resolve) => this.net.close(() => resolve()));
    await this.txnLog?.close();
    await this.lock?.release();
    await this.auditLog?.close();
  }

  private buildPipeline(): void {
    this.preparer = this.newPreparer();
    this.pipeline = new RequestPipeline(
      this.tree,
      this.preparer,
      { append: (t) => this.appendTxn(t) },
      this,
      Date.now,
      this.config.superDigest,
    );
  }

  // ---- ensemble (MemberServer) ----

  newPreparer(): Preparer {
    return new Preparer(this.tree, {
      extendedTypesEnabled: this.config.extendedTypesEnabled,
      superDigestId: this.config.superDigest,
      maxDataBytes: this.config.juteMaxBuffer,
      enforceQuota: this.config.enforceQuota,
      // ZooKeeperServer.checkQuota's warning, with the numbers as fields too.
      onQuotaExceeded: (e) =>
        this.logger.warn(
          {
            quota: e.prefix,
            what: e.what,
            current: e.current.toString(),
            limit: e.limit.toString(),
            hard: e.hard,
          },
          quotaExceededMessage(e),
        ),
    });
  }

  /** What an ensemble member shows in /zookeeper/config: the static server list, as ZooKeeper does. */
  private get configNodeData(): Uint8Array {
    return new TextEncoder().encode(quorumConfigText(this.config.peers));
  }

  /** A SNAP from the leader replaced the applied state; only happens while not serving clients. */
  replaceTree(tree: DataTree): void {
    this.closeClientConnections("state replaced by a snapshot");
    this.tree = tree;
    tree.setConfigData(this.configNodeData, 0n);
    this.buildPipeline();
    this.sessions.clear();
    this.tracker = new SessionTracker(this.config.tickTime);
    this.trackTreeSessions();
  }

  /** The tree's sessions, recovered or received, each with a fresh timeout from now (SessionTrackerImpl). */
  private trackTreeSessions(): void {
    for (const [id, { timeOut }] of this.tree.sessions) {
      this.sessions.set(id, { id, timeoutMs: timeOut, auth: new AuthInfo(), conn: null, closing: false });
      this.tracker.add(id, timeOut, Date.now());
    }
  }

  /** election_time: from starting to look to having a role (FastLeaderElection's time to a decision). */
  roleChanged(role: Role): void {
    if (role === "looking") {
      this.lookingSinceMs ??= performance.now();
      return;
    }
    if (this.lookingSinceMs === null) return;
    this.metrics?.observe("election_time", performance.now() - this.lookingSinceMs);
    this.lookingSinceMs = null;
  }

  zabCounters(): ZabCounters | null {
    return this.member?.driver.node.counters ?? null;
  }

  closeClientConnections(why: string): void {
    if (this.member?.serving === true) return;
    if (this.connections.size > 0)
      this.logger.info({ why, connections: this.connections.size }, "closing client connections");
    this.pendingConnect.clear();
    for (const conn of this.connections.values()) conn.close();
  }

  closeSessionConnection(sessionId: bigint): void {
    this.pendingConnect.get(sessionId)?.conn.close();
    this.pendingConnect.delete(sessionId);
    this.sessions.get(sessionId)?.conn?.close();
  }

  touchAllSessions(): void {
    const now = Date.now();
    for (const s of this.sessions.values()) this.tracker.touch(s.id, now);
  }

  touchSession(sessionId: bigint): void {
    this.tracker.touch(sessionId, Date.now());
  }

  replySync(sessionId: bigint, xid: number, op: number, path: string): void {
    this.reply(sessionId, xid, this.tree.lastProcessedZxid, 0, { type: "sync", path }, op);
  }

  fatal(e: Error): void {
    this.logger.error({ err: e.message }, "quorum storage failed");
    setImmediate(() => {
      throw e;
    });
  }

  /** Routes a write: the local pipeline (standalone) or the quorum (ensemble). */
  private submitWrite(
    ctx: SessionContext,
    xid: number,
    op: number,
    request: Request | null,
    frame: Uint8Array | null,
    local: boolean,
  ): void {
    if (this.member === null) this.pipeline.submitWrite(ctx, xid, op, request, local);
    else this.member.submitWrite(ctx, xid, op, request, frame, local);
  }

  // ---- txn log, snapshots, housekeeping ----

  private appendTxn(txn: Txn): Promise<void> {
    return this.txnLog.append(txn.header.zxid, encodeTxn(txn));
  }

  committed(txn: Txn, result: ApplyResult): void {
    void result;
    const body = txn.body;
    const type = body.type;
    if (body.type === "closeSession")
      this.auditLog?.writeEphemeralDeletions(txn.header.clientId, body.paths2Delete);
    if (body.type === "createSession") {
      const id = txn.header.clientId;
      const pending = this.pendingConnect.get(id);
      this.pendingConnect.delete(id);
      const timeoutMs = body.timeOut;
      const s: SessionState = {
        id,
        timeoutMs,
        auth: new AuthInfo(),
        conn: pending?.conn ?? null,
        closing: false,
      };
      if (pending !== undefined)
        s.auth = new AuthInfo([
          { scheme: "ip", id: pending.conn.remoteAddress },
          ...clientCertIds(pending.conn.socket),
        ]);
      this.sessions.set(id, s);
      this.tracker.add(id, timeoutMs, Date.now());
      if (pending !== undefined && !pending.conn.closed) {
        pending.conn.sessionId = id;
        pending.conn.sessionTimeoutMs = timeoutMs;
        pending.conn.send(
          wire.connectResponseFrame({
            protocolVersion: 0,
            timeOut: timeoutMs,
            sessionId: id,
            passwd: body.passwd,
            readOnly: pending.readOnly === undefined ? undefined : false,
          }),
        );
        const held = this.framesBeforeSession.get(pending.conn) ?? [];
        this.framesBeforeSession.delete(pending.conn);
        for (const frame of held) this.onRequestFrame(pending.conn, frame);
      }
    } else if (type === "closeSession") {
      const id = txn.header.clientId;
      const s = this.sessions.get(id);
      this.sessions.delete(id);
      this.tracker.remove(id);
      this.pipeline.dropSessionQueue(id);
      if (s?.conn && !s.conn.closed) {
        // The reply (if the client asked) is already queued; close after it.
        const conn = s.conn;
        queueMicrotask(() => conn.close());
      }
    }
    this.txnsSinceSnapshot++;
    this.activity++;
    if (this.txnsSinceSnapshot >= this.config.snapCount && !this.snapshotInFlight) void this.snapshot();
  }

  /**
   * Snapshots the tree as of now (between two applies): serialised a slice at a time from a SnapshotView and
   * written while txns go on applying, so a large tree does not stop the server (ZooKeeper's are fuzzy and
   * need an idempotent replay; this one is exact at its zxid).
   */
  async snapshot(): Promise<string | undefined> {
    if (this.snapshotInFlight || this.stopped) return undefined;
    this.snapshotInFlight = true;
    this.txnsSinceSnapshot = 0;
    const view = this.tree.openSnapshotView();
    try {
      const started = performance.now();
      const zxid = view.head.zxid;
      const chunks = streamTree(view);
      await this.txnLog.roll();
      const file = await writeSnapshot(this.config.dataDir, zxid, chunks);
      this.metrics?.observe("snapshottime", performance.now() - started);
      this.logger.info({ file, zxid: zxidHex(zxid) }, "snapshot written");
      return file;
    } catch (e) {
      this.logger.error({ err: (e as Error).message }, "snapshot failed");
      return undefined;
    } finally {
      view.close();
      this.snapshotInFlight = false;
      // snapCount txns applied while this one was written: the next is due now, not at the next txn.
      if (!this.stopped && this.txnsSinceSnapshot >= this.config.snapCount)
        setImmediate(() => void this.snapshot());
    }
  }

  /**
   * The admin `restore` (ZooKeeperServer.restoreFromSnapshot), standalone only: `tree` replaces the state and
   * its zxid moves to a new epoch, so later zxids follow everything logged before. It is written as a snapshot
   * first (recovery then prefers it), and swapped in once the writes in flight have applied; clients reconnect.
   */
  async restoreSnapshot(tree: DataTree): Promise<bigint> {
    if (this.member !== null || this.restoring)
      throw new Error("restore needs a standalone server, one at a time");
    const zxids = [tree.lastProcessedZxid, this.tree.lastProcessedZxid, this.txnLog.lastZxid];
    tree.lastProcessedZxid = makeZxid(zxidEpoch(zxids.reduce((a, b) => (a > b ? a : b))) + 1, 0);
    this.restoring = true;
    try {
      await this.txnLog.roll();
      await writeSnapshot(this.config.dataDir, tree.lastProcessedZxid, serializeTree(tree));
      this.closeClientConnections("restoring a snapshot");
      const deadline = Date.now() + 10_000;
      while (this.pipeline.outstanding > 0) {
        if (Date.now() > deadline) this.fatal(new Error("restore: writes in flight did not finish"));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      this.tree = tree;
      this.buildPipeline();
      this.sessions.clear();
      this.tracker = new SessionTracker(this.config.tickTime);
      for (const [id, { timeOut }] of tree.sessions) {
        this.sessions.set(id, { id, timeoutMs: timeOut, auth: new AuthInfo(), conn: null, closing: false });
        this.tracker.add(id, timeOut, Date.now());
      }
      this.txnsSinceSnapshot = 0;
      this.logger.info(
        { zxid: zxidHex(tree.lastProcessedZxid), nodes: tree.nodeCount },
        "restored a snapshot",
      );
      return tree.lastProcessedZxid;
    } finally {
      this.restoring = false;
    }
  }

  private async purge(): Promise<void> {
    try {
      const { removed } = await purge(
        this.config.dataDir,
        this.config.dataLogDir,
        this.config.autopurgeSnapRetainCount,
      );
      if (removed.length > 0) this.logger.info({ removed }, "purged old snapshots and logs");
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, "purge failed");
    }
  }

  private tick(): void {
    const now = Date.now();
    this.member?.tick();
    const expired = this.tracker.expired(now);
    // In an ensemble only the leader decides expiry; learners report liveness to it.
    if (this.member !== null && !this.member.isActiveLeader) return;
    for (const id of expired) {
      const s = this.sessions.get(id);
      if (s === undefined || s.closing) continue;
      s.closing = true;
      this.logger.info({ session: zxidHex(id), timeoutMs: s.timeoutMs }, "session expired");
      if (s.conn !== null) {
        s.conn.close();
        s.conn = null;
      }
      this.pipeline.dropSessionQueue(id);
      this.submitWrite(internalContext(id), 0, OpCode.closeSession, null, null, false);
    }
  }

  /** ContainerManager: delete empty containers and expired TTL nodes through ordinary txns. */
  private cleanContainers(): void {
    if (this.member !== null && !this.member.isActiveLeader) return;
    for (const path of this.tree.expiredContainersAndTtls(BigInt(Date.now()))) {
      this.submitWrite(
        internalContext(0n),
        0,
        OpCode.deleteContainer,
        {
          type: "delete",
          op: OpCode.deleteContainer,
          req: { path, version: -1 },
        },
        null,
        false,
      );
    }
  }

  // ---- connections ----

  private accept(socket: Socket): void {
    if (this.stopped || this.restoring) {
      socket.destroy();
      return;
    }
    const ip = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (this.config.maxCnxns > 0 && this.connections.size >= this.config.maxCnxns) {
      // NIOServerCnxnFactory.limitTotalNumberOfCnxns: the new connection is closed at once.
      this.logger.warn({ ip, max: this.config.maxCnxns }, "too many connections");
      socket.destroy();
      return;
    }
    const max = this.config.maxClientCnxns;
    const count = this.connectionsPerIp.get(ip) ?? 0;
    if (max > 0 && count >= max) {
      this.logger.warn({ ip, max }, "too many connections from one address");
      socket.destroy();
      return;
    }
    this.connectionsPerIp.set(ip, count + 1);
    const { juteMaxBuffer, requestThrottleStallTime } = this.config;
    const conn = new ClientConnection(socket, this, juteMaxBuffer, this.throttle, requestThrottleStallTime);
    this.connections.set(conn.id, conn);
  }

  onClose(conn: ClientConnection): void {
    const left = (this.connectionsPerIp.get(conn.remoteAddress) ?? 1) - 1;
    if (left <= 0) this.connectionsPerIp.delete(conn.remoteAddress);
    else this.connectionsPerIp.set(conn.remoteAddress, left);
    this.connections.delete(conn.id);
    this.tree?.watches.removeWatcher(conn.id);
    const s = this.sessions.get(conn.sessionId);
    if (s !== undefined && s.conn === conn) {
      s.conn = null;
      this.pipeline.dropSessionQueue(s.id);
    }
  }

  audit(sessionId: bigint, op: number, request: Request | null, result: ApplyResult): void {
    const s = this.sessions.get(sessionId);
    if (this.auditLog === null || s?.conn == null) return;
    const client = { sessionId, authInfo: s.auth.ids, ip: s.conn.remoteAddress };
    this.auditLog.writeRequest(client, op, request, result.err, result.path, result.multiResults);
  }

  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void {
    this.logger[level](fields ?? {}, msg);
  }

  fourLetterWord(word: string, conn: ClientConnection, arg?: Uint8Array): string {
    void conn;
    if (!this.config.fourLetterWords.has(word)) {
      return `${word} is not executed because it is not in the whitelist.\n`;
    }
    if (word === "stmk" && arg !== undefined) {
      // SetTraceMaskCommand: the mask is a big-endian long; the answer is the new mask in decimal.
      this.traceMask = new DataView(arg.buffer, arg.byteOffset, 8).getBigInt64(0);
      return String(this.traceMask);
    }
    if (this.member !== null && !this.member.serving && notServingWords.has(word)) return notServingText;
    const text = fourLetterWord(word, this);
    if (word === "mntr" && this.member !== null)
      return (
        text +
        this.member
          .leaderStats()
          .map(([k, v]) => `${k}\t${v}\n`)
          .join("")
      );
    return text;
  }

  onConnectFrame(conn: ClientConnection, frame: Uint8Array): void {
    if (this.member !== null && !this.member.serving) {
      // ZooKeeper closes connections while its ZooKeeperServer is not running; the client tries another.
      conn.close();
      return;
    }
    const req = wire.decodeConnect(frame);
    const lastZxid = this.tree.lastProcessedZxid;
    if (req.lastZxidSeen > lastZxid) {
      this.logger.info(
        { client: conn.remoteAddress, clientZxid: zxidHex(req.lastZxidSeen), ourZxid: zxidHex(lastZxid) },
        "refusing session: client has seen a newer zxid; it must try another server",
      );
      conn.close();
      return;
    }
    const timeoutMs = Math.min(
      Math.max(req.timeOut, this.config.minSessionTimeout),
      this.config.maxSessionTimeout,
    );
    if (req.sessionId === 0n) {
      const id = this.nextSessionId++;
      this.pendingConnect.set(id, { conn, readOnly: req.readOnly });
      conn.sessionId = id;
      const passwd = newSessionPassword();
      if (this.member === null) this.pipeline.submitCreateSession(id, timeoutMs, passwd, 0);
      else this.member.submitCreateSession(id, timeoutMs, passwd);
      return;
    }
    const s = this.sessions.get(req.sessionId);
    const replicated = this.tree.sessions.get(req.sessionId);
    const valid =
      s !== undefined &&
      !s.closing &&
      replicated !== undefined &&
      checkSessionPassword(replicated.passwd, req.passwd);
    if (!valid || s === undefined) {
      conn.send(
        wire.connectResponseFrame({
          protocolVersion: 0,
          timeOut: 0,
          sessionId: 0n,
          passwd: new Uint8Array(sessionPasswordBytes),
          readOnly: req.readOnly === undefined ? undefined : false,
        }),
      );
      conn.close();
      return;
    }
    if (s.conn !== null && s.conn !== conn) {
      const old = s.conn;
      this.pipeline.dropSessionQueue(s.id);
      old.sessionId = 0n;
      old.close();
    }
    s.conn = conn;
    s.auth = new AuthInfo([{ scheme: "ip", id: conn.remoteAddress }, ...clientCertIds(conn.socket)]);
    conn.sessionId = s.id;
    conn.sessionTimeoutMs = timeoutMs;
    this.tracker.touch(s.id, Date.now());
    this.member?.sessionTouched(s.id);
    conn.send(
      wire.connectResponseFrame({
        protocolVersion: 0,
        timeOut: timeoutMs,
        sessionId: s.id,
        passwd: replicated.passwd,
        readOnly: req.readOnly === undefined ? undefined : false,
      }),
    );
  }

  onRequestFrame(conn: ClientConnection, frame: Uint8Array): void {
    this.packetsReceived++;
    const s = this.sessions.get(conn.sessionId);
    if (s === undefined || s.conn !== conn) {
      // Requests before the session is established, or on a connection the session left.
      if (!this.pendingConnect.has(conn.sessionId)) conn.close();
      else {
        // The Netty client sends requests right behind its ConnectRequest; ZooKeeper does not read them until
        // the session exists. Hold them and run them then, in order.
        const held = this.framesBeforeSession.get(conn) ?? [];
        held.push(frame);
        this.framesBeforeSession.set(conn, held);
        this.packetsReceived--; // counted when it runs
        if (held.length > connectionRequestsOutstandingMax) conn.close();
      }
      return;
    }
    this.tracker.touch(s.id, Date.now());
    this.member?.sessionTouched(s.id);
    let decoded: { xid: number; op: number; request: Request };
    try {
      decoded = wire.decodeRequestFrame(frame);
    } catch (e) {
      if (e instanceof UnknownOpCodeError) {
        // UnimplementedRequestProcessor: answer Unimplemented, then close the connection.
        conn.send(wire.replyFrame(e.xid, -1n, Code.unimplemented, null));
        conn.close();
        return;
      }
      if (e instanceof wire.BadRequestBodyError) {
        // ZooKeeper answers a body it cannot read with MarshallingError and keeps the connection.
        this.logger.debug({ op: e.op, err: e.message }, "bad request body");
        const bad = e;
        this.pipeline.submitLocal(s.id, bad.xid, bad.op, () =>
          this.reply(s.id, bad.xid, this.tree.lastProcessedZxid, Code.marshallingError, null, bad.op),
        );
        return;
      }
      throw e;
    }
    const { xid, op, request } = decoded;
    const ctx: SessionContext = { sessionId: s.id, authInfo: s.auth.ids, watcherId: conn.id };
    conn.requestStarted(Date.now());
    if (request.type !== "ping") this.activity++;
    switch (request.type) {
      case "ping":
        this.pipeline.submitLocal(s.id, xid, op, () =>
          this.reply(s.id, Xid.ping, this.tree.lastProcessedZxid, 0, null, op),
        );
        return;
      case "auth":
        this.handleAuth(s, conn, request.req.scheme, request.req.auth);
        return;
      case "sasl":
        this.pipeline.submitLocal(s.id, xid, op, () => this.handleSasl(s, conn, xid, op, request.token));
        return;
      case "sync":
        if (this.member !== null) {
          this.member.submitSync(s.id, xid, op, request.req.path);
          return;
        }
        this.pipeline.submitLocal(s.id, xid, op, () =>
          this.reply(s.id, xid, this.tree.lastProcessedZxid, 0, { type: "sync", path: request.req.path }, op),
        );
        return;
      case "setWatches":
        this.pipeline.submitLocal(s.id, xid, op, () => {
          const events = this.tree.setWatches(request.req, conn.id);
          this.pipeline.deliverLocal(events);
          // FinalRequestProcessor answers with the request's own xid: the 3.8 Java client sends an ordinary one.
          this.reply(s.id, xid, this.tree.lastProcessedZxid, 0, null, op);
        });
        return;
      case "closeSession":
        s.closing = true;
        this.submitWrite(ctx, xid, op, request, frame, true);
        return;
      default:
        if (readOps.has(op)) this.pipeline.submitRead(ctx, xid, op, request);
        else this.submitWrite(ctx, xid, op, request, frame, true);
    }
  }

  /**
   * ZooKeeperServer.processSasl: one step of the connection's DIGEST-MD5 exchange, answered with zxid 0. Success
   * adds the id sasl:<user>; a failure answers AuthFailed and closes the connection. Without JAAS users the
   * connection has no SASL server, and ZooKeeper answers OK with no token.
   */
  private handleSasl(
    s: SessionState,
    conn: ClientConnection,
    xid: number,
    op: number,
    token: Uint8Array | null,
  ): void {
    if (this.saslUsers === null) {
      this.reply(s.id, xid, 0n, Code.ok, { type: "sasl", token: null }, op);
      return;
    }
    let sasl = this.saslServers.get(conn);
    if (sasl === undefined) {
      sasl = new DigestMd5Server({ credentials: this.saslUsers });
      this.saslServers.set(conn, sasl);
    }
    let out: Uint8Array;
    try {
      out = sasl.evaluateResponse(token ?? new Uint8Array(0));
    } catch (e) {
      if (!(e instanceof SaslAuthError)) throw e;
      this.logger.warn({ client: conn.remoteAddress, err: e.message }, "SASL authentication failed");
      this.reply(s.id, xid, 0n, Code.authFailed, { type: "sasl", token: null }, op);
      conn.close();
      return;
    }
    const user = sasl.authorizationId;
    if (sasl.isComplete && user !== undefined) {
      s.auth.add({ scheme: "sasl", id: user });
      if (user === this.config.sasl.superUser) s.auth.add({ scheme: "super", id: "" });
      this.logger.info({ session: s.id.toString(16), user }, "SASL authenticated");
    }
    this.reply(s.id, xid, 0n, Code.ok, { type: "sasl", token: out }, op);
  }

  private handleAuth(s: SessionState, conn: ClientConnection, scheme: string, auth: Uint8Array | null): void {
    let id: Id | undefined;
    if (scheme === "digest" && auth !== null) {
      const d = digestId(new TextDecoder().decode(auth));
      if (d !== undefined) id = { scheme: "digest", id: d };
    }
    if (id === undefined) {
      this.logger.warn({ scheme, client: conn.remoteAddress }, "authentication failed");
      this.reply(s.id, Xid.auth, 0n, Code.authFailed, null, OpCode.auth);
      conn.close();
      return;
    }
    s.auth.add(id);
    if (this.config.superDigest !== undefined && id.id === this.config.superDigest) {
      s.auth.add({ scheme: "super", id: "" });
    }
    this.reply(s.id, Xid.auth, 0n, Code.ok, null, OpCode.auth);
  }

  // ---- ReplySink ----

  reply(
    sessionId: bigint,
    xid: number,
    zxid: bigint,
    err: number,
    response: Response | null,
    op: number,
  ): void {
    const s = this.sessions.get(sessionId);
    const conn = s?.conn;
    if (conn == null) {
      // closeSession's reply: the session is gone by now, find the connection directly.
      if (op === OpCode.closeSession) {
        for (const c of this.connections.values()) {
          if (c.sessionId === sessionId) {
            c.send(wire.replyFrame(xid, zxid, err, null));
            c.close();
          }
        }
      }
      return;
    }
    this.packetsSent++;
    conn.lastZxid = zxid;
    const started = conn.requestFinished();
    const now = Date.now();
    if (started !== undefined) {
      this.recordLatency(now - started);
      conn.lastLatencyMs = now - started;
    }
    conn.lastResponseMs = now;
    conn.lastOpName = lastOpNames.get(op) ?? "NA";
    if (xid >= 0) conn.lastCxid = xid;
    conn.send(wire.replyFrame(xid, zxid, err, response));
  }

  event(watcher: number, type: number, path: string, zxid: bigint, acl: readonly ACL[]): void {
    const conn = this.connections.get(watcher);
    if (conn === undefined || conn.closed) return;
    // A watcher learns of a change only if it may read the node (NIOServerCnxn.process with the znode's ACL).
    if (acl.length > 0) {
      const s = this.sessions.get(conn.sessionId);
      if (checkACL(acl, Perms.READ, s?.auth.ids ?? [], this.config.superDigest) !== Code.ok) return;
    }
    conn.send(wire.eventFrame(zxid, { type, state: KeeperState.syncConnected, path }));
  }

  private recordLatency(ms: number): void {
    this.latencyMinMs = Math.min(this.latencyMinMs, ms);
    this.latencyMaxMs = Math.max(this.latencyMaxMs, ms);
    this.latencyTotalMs += ms;
    this.latencyCount++;
  }

  // ---- ServerStats ----

  get mode(): string {
    return this.member?.mode ?? "standalone";
  }
  get lastZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }
  get nodeCount(): number {
    return this.tree.nodeCount;
  }
  get outstandingRequests(): number {
    return this.throttle.outstanding;
  }
  /** In the order they were accepted (ids ascend). */
  get connectionList(): ClientConnection[] {
    return this.connections.values().sort((a, b) => a.id - b.id);
  }
  get dataTree(): DataTree {
    return this.tree;
  }
  /** The ensemble role (leader, voting view, ZAB state) for the admin commands; null when standalone. */
  get ensembleMember(): EnsembleMember | null {
    return this.member;
  }
  get serverId(): number {
    return this.myid;
  }
  get sessionCount(): number {
    return this.sessions.size;
  }
  get watchSummary(): { connections: number; paths: number; watches: number } {
    return this.tree.watches.summary();
  }
  get ephemeralsCount(): number {
    return this.tree.ephemeralCount;
  }
  get approximateDataSize(): number {
    return this.tree.approximateDataSize;
  }
  get watchCount(): number {
    return this.tree.watches.dataWatches.size + this.tree.watches.childWatches.size;
  }
  get sessionExpiries(): Array<[number, bigint[]]> {
    return this.tracker.buckets();
  }
  get ephemeralsBySession(): Array<[bigint, string[]]> {
    return this.tree.sessionsWithEphemerals().map((sid) => [sid, this.tree.getEphemerals(sid)]);
  }
  private watcherSession(watcher: number): bigint {
    return this.connections.get(watcher)?.sessionId ?? 0n;
  }
  dataWatchesBySession(): Array<[bigint, string[]]> {
    return [...this.tree.watches.dataWatches.byWatcher()].map(([w, paths]) => [
      this.watcherSession(w),
      paths,
    ]);
  }
  dataWatchersByPath(): Array<[string, bigint[]]> {
    return [...this.tree.watches.dataWatches.byPath()].map(([path, ws]) => [
      path,
      ws.map((w) => this.watcherSession(w)),
    ]);
  }
  resetStats(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.latencyMinMs = Number.MAX_SAFE_INTEGER;
    this.latencyMaxMs = 0;
    this.latencyTotalMs = 0;
    this.latencyCount = 0;
  }
}

function internalContext(sessionId: bigint): SessionContext {
  return { sessionId, authInfo: [{ scheme: "super", id: "" }], watcherId: 0 };
}

/** SessionTrackerImpl.initializeNextSessionId: server id in the high byte, time below it. */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  let next = BigInt.asUintN(64, BigInt(nowMs) << 24n) >> 8n;
  next |= BigInt(serverId) << 56n;
  if (next === 1n << 63n) next++;
  return BigInt.asIntN(64, next);
}

export { randomBytes };
