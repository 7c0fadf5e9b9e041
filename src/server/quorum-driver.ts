// The shell around a ZabNode: ticks it on a timer, feeds it peer messages and proposals, and carries
// out each Ready in the order its contract demands (persist and fsync, then send, then apply, then
// advance). Inputs arriving while a Ready is being carried out wait and are stepped after advance(),
// so everything queued during one fsync is logged by the next (group commit across the ensemble).
import { randomInt } from "node:crypto";
import { open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { SeededPrng } from "../base/clock.js";
import { ConfigError } from "../base/errors.js";
import { zxidEpoch, zxidHex } from "../base/zxid.js";
import { MemoryLog } from "../consensus/memory-log.js";
import type { LogEntry, Message, Snapshot } from "../consensus/messages.js";
import { ZabNode, type Ready, type Role } from "../consensus/zab-node.js";
import type { TxnLog } from "../storage/txn-log.js";
import { writeSnapshot } from "../storage/snapshot.js";
import { fsyncDir, writeAt } from "../storage/fs-util.js";
import type { PeerConfig } from "./config.js";
import { encodeApp, encodeZab, type AppMessage } from "./peer-codec.js";
import { PeerNetwork } from "./peer-network.js";
import type { PeerTls } from "./tls-config.js";

/** What the server does for the driver. Called only between ready() and advance(), or from idle(). */
/**
 * The consensus core counts time in ticks of tickTime / 10 (initLimit and syncLimit scaled to match), so an
 * election settles in a fraction of tickTime, as FastLeaderElection's 200 ms finalize wait does, while
 * the limits keep their zoo.cfg meaning.
 */
export const consensusTicksPerTickTime = 10;

export interface QuorumHost {
  /** A committed txn, in zxid order: apply it to the tree and answer the session that sent it. */
  applyCommitted(entry: LogEntry): void;
  /** A SNAP from the leader: the applied state becomes this snapshot. */
  installSnapshot(snapshot: Snapshot): void;
  /** The applied state, for a learner too far behind for a DIFF. */
  snapshot(): Snapshot;
  /** The zxid the applied state reflects. */
  appliedZxid(): bigint;
  /** Role, leader or epoch changed (reported once the Ready that changed it is carried out). */
  roleChanged(role: Role, leaderId: number | null, epoch: number): void;
  /** A shell message (forwarded request, session liveness, sync) from a peer. */
  appMessage(from: number, m: AppMessage): void;
  /** The node is between Readys: a leader may prepare and propose its queued writes now. */
  idle(node: ZabNode): void;
  /** Storage failed: no further txn may be acknowledged. The server must stop. */
  fatal(e: Error): void;
  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void;
}

export interface QuorumDriverOptions {
  readonly myid: number;
  readonly peers: readonly PeerConfig[];
  readonly tickTime: number;
  readonly initLimit: number;
  readonly syncLimit: number;
  readonly dataDir: string;
  readonly txnLog: TxnLog;
  /** From recovery: the snapshot the tree was loaded from and the txns logged after it (not applied). */
  readonly snapshotZxid: bigint;
  readonly loggedTxns: readonly LogEntry[];
  readonly epochs: Epochs;
  readonly host: QuorumHost;
  /** sslQuorum: TLS with mutual authentication on the links between members. */
  readonly tls?: PeerTls | undefined;
}

export interface Epochs {
  acceptedEpoch: number;
  currentEpoch: number;
}

/** Log entries kept in memory for DIFFs; past this the oldest applied ones go (learners then get a SNAP). */
export const memoryLogEntriesMax = 50_000;

export const acceptedEpochFile = "acceptedEpoch";
export const currentEpochFile = "currentEpoch";

/**
 * `acceptedEpoch`/`currentEpoch` in dataDir (QuorumPeer's files of the same names). Missing files (a
 * new server, or a standalone data dir joining an ensemble) fall back to the epoch of the last zxid.
 */
export async function readEpochs(dataDir: string, lastZxid: bigint): Promise<Epochs> {
  const fallback = zxidEpoch(lastZxid);
  const read = async (name: string): Promise<number | null> => {
    try {
      const text = (await readFile(join(dataDir, name), "utf8")).trim();
      if (!/^\d{1,10}$/.test(text) || Number(text) >= 2 ** 32)
        throw new ConfigError(name, `${join(dataDir, name)} must hold an epoch, has "${text.slice(0, 20)}"`);
      return Number(text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  };
  const currentEpoch = (await read(currentEpochFile)) ?? fallback;
  const acceptedEpoch = Math.max((await read(acceptedEpochFile)) ?? fallback, currentEpoch);
  return { acceptedEpoch, currentEpoch };
}

async function writeAtomically(dir: string, name: string, text: string): Promise<void> {
  const file = join(dir, name);
  const temp = `${file}.tmp.${process.pid}`;
  const fh = await open(temp, "w");
  try {
    await writeAt(fh, Buffer.from(text), 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, file);
}

export class QuorumDriver {
  readonly node: ZabNode;
  private readonly memLog = new MemoryLog();
  private readonly network: PeerNetwork;
  private inputs: (() => void)[] = [];
  private running = false;
  /** A Ready's log changes are being made durable (see Ready: what may be stepped meanwhile). */
  private persisting = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private epochs: Epochs;

  constructor(private readonly opts: QuorumDriverOptions) {
    const voters = opts.peers.filter((p) => !p.observer).map((p) => p.id);
    const observers = opts.peers.filter((p) => p.observer).map((p) => p.id);
    if (opts.snapshotZxid > 0n)
      this.memLog.installSnapshot({ zxid: opts.snapshotZxid, data: new Uint8Array(0) });
    this.memLog.append(opts.loggedTxns);
    this.epochs = { ...opts.epochs };
    const host = opts.host;
    this.node = new ZabNode(
      {
        id: opts.myid,
        voters,
        observers,
        electionTicks: opts.initLimit * consensusTicksPerTickTime,
        syncLimitTicks: opts.syncLimit * consensusTicksPerTickTime,
        // Leader pings every half tickTime, as ZooKeeper's Leader does.
        pingIntervalTicks: consensusTicksPerTickTime / 2,
      },
      { ...opts.epochs, appliedZxid: opts.snapshotZxid },
      this.memLog,
      { snapshot: () => host.snapshot() },
      new SeededPrng(randomInt(2 ** 32 - 1)),
    );
    const me = opts.peers.find((p) => p.id === opts.myid);
    if (me === undefined) throw new ConfigError("myid", `server.${opts.myid} is not in the config`);
    this.network = new PeerNetwork({
      myid: opts.myid,
      listen: { id: me.id, host: me.host, port: me.quorumPort },
      peers: opts.peers.map((p) => ({ id: p.id, host: p.host, port: p.quorumPort })),
      onFrame: (from, frame) => {
        if (frame.kind !== "zab") this.opts.host.appMessage(from, frame.msg);
        else if (this.persisting && this.node.canStepDuringReady(frame.msg)) this.stepDuringReady(frame.msg);
        else this.input(() => this.node.step(frame.msg));
      },
      // As a ZooKeeper follower whose socket to the leader breaks: stop following at once.
      onPeerLost: (id) => this.input(() => this.node.peerLost(id)),
      log: (level, msg, fields) => host.log(level, msg, fields),
      tls: opts.tls,
    });
  }

  async start(): Promise<void> {
    await this.network.start();
    const tickMs = Math.max(1, Math.floor(this.opts.tickTime / consensusTicksPerTickTime));
    this.timer = setInterval(() => this.input(() => this.node.tick()), tickMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.network.stop();
  }

  /** Runs `fn` against the node as soon as no Ready is being carried out. */
  input(fn: () => void): void {
    if (this.stopped) return;
    this.inputs.push(fn);
    this.kick();
  }

  sendApp(to: number, m: AppMessage): void {
    this.network.send(to, encodeApp(this.opts.myid, to, m));
  }

  get currentEpochs(): Epochs {
    return this.epochs;
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop().then(
      () => undefined,
      (e: unknown) => this.opts.host.fatal(e as Error),
    );
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const batch = this.inputs;
      this.inputs = [];
      for (const fn of batch) fn();
      this.opts.host.idle(this.node);
      if (!this.node.hasReady()) {
        if (this.inputs.length > 0) continue;
        this.running = false;
        return;
      }
      const r = this.node.ready();
      // Proposals and commits go out while our own log write is in flight (Ready step 0), and what was
      // already durable and is now committed is applied without waiting for that write.
      for (const m of r.earlyMessages) this.network.send(m.to, encodeZab(m));
      if (r.committedDurable) for (const e of r.committed) this.opts.host.applyCommitted(e);
      this.persisting = true;
      try {
        await this.persist(r);
      } finally {
        this.persisting = false;
      }
      if (this.stopped) return;
      for (const m of r.messages) this.network.send(m.to, encodeZab(m));
      if (!r.committedDurable) for (const e of r.committed) this.opts.host.applyCommitted(e);
      this.node.advance(r);
      this.compactMemory();
      if (r.roleChanged) {
        const { role, leaderId, epoch } = r.roleChanged;
        this.opts.host.roleChanged(role, leaderId, epoch);
      }
    }
  }

  /** An ACK (leading) or COMMIT (following) that arrived while a Ready's log write is in flight. */
  private stepDuringReady(m: Message): void {
    if (this.stopped) return;
    this.node.step(m);
    const early = this.node.readyEarly();
    for (const e of early.messages) this.network.send(e.to, encodeZab(e));
    for (const e of early.committed) this.opts.host.applyCommitted(e);
  }

  /** Step 1 of the Ready contract: snapshot, truncation, entries, then epochs, all durable. */
  private async persist(r: Ready): Promise<void> {
    const log = this.opts.txnLog;
    if (r.snapshotToApply) {
      const s = r.snapshotToApply;
      // The snapshot goes to disk before the log loses what it replaces, so a crash between the two
      // restarts from the snapshot, whose zxid recovery skips every older record up to.
      await writeSnapshot(this.opts.dataDir, s.zxid, [s.data]);
      await log.truncateAfter(s.zxid);
      this.memLog.installSnapshot({ zxid: s.zxid, data: new Uint8Array(0) });
      this.opts.host.installSnapshot(s);
      this.opts.host.log("info", "installed snapshot from leader", { zxid: zxidHex(s.zxid) });
    }
    if (r.truncateTo !== undefined) {
      await log.truncateAfter(r.truncateTo);
      this.memLog.truncate(r.truncateTo);
      this.opts.host.log("info", "truncated log", { after: zxidHex(r.truncateTo) });
    }
    if (r.entriesToAppend.length > 0) {
      const durable = r.entriesToAppend.map((e) => log.append(e.zxid, e.data));
      await Promise.all(durable);
      // Only now: the core reads this log as durable (a leader's own ack, what a COMMIT lets it apply).
      this.memLog.append(r.entriesToAppend);
    }
    if (r.persistEpochs) {
      const { acceptedEpoch, currentEpoch } = r.persistEpochs;
      // acceptedEpoch first: currentEpoch <= acceptedEpoch must hold on disk at every moment.
      if (acceptedEpoch !== this.epochs.acceptedEpoch)
        await writeAtomically(this.opts.dataDir, acceptedEpochFile, `${acceptedEpoch}\n`);
      if (currentEpoch !== this.epochs.currentEpoch)
        await writeAtomically(this.opts.dataDir, currentEpochFile, `${currentEpoch}\n`);
      await fsyncDir(this.opts.dataDir);
      this.epochs = { acceptedEpoch, currentEpoch };
    }
  }

  /** Keeps the in-memory log bounded; only applied entries are dropped (a SNAP covers them). */
  private compactMemory(): void {
    const all = this.memLog.all();
    if (all.length <= memoryLogEntriesMax) return;
    let zxid = all[all.length - memoryLogEntriesMax / 2]!.zxid;
    const applied = this.opts.host.appliedZxid();
    if (applied < zxid) zxid = applied;
    if (zxid > this.memLog.snapshotZxid()) this.memLog.compact({ zxid, data: new Uint8Array(0) });
  }
}
