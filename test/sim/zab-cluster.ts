// An in-memory ensemble of ZabNodes for tests and simulation: a seeded network that can drop, delay
// (and so reorder), duplicate and cut messages; disks (MemoryLog + epochs) that keep exactly what a
// Ready persisted; crashes that lose everything else. It checks the safety invariants as it runs.
import { SeededPrng } from "../../src/base/clock.js";
import { zxidHex } from "../../src/base/zxid.js";
import { MemoryLog } from "../../src/consensus/memory-log.js";
import type { LogEntry, Message, Snapshot } from "../../src/consensus/messages.js";
import { ZabNode, type ConsensusConfig, type Ready } from "../../src/consensus/zab-node.js";

export interface ClusterOptions {
  voters: number[];
  observers?: number[];
  seed?: number;
  electionTicks?: number;
  syncLimitTicks?: number;
  /** Probability a message is lost. */
  dropRate?: number;
  /** Probability a message is delivered twice. */
  dupRate?: number;
  /** Each message is delayed 0..maxDelayTicks ticks (uniformly), which also reorders them. */
  maxDelayTicks?: number;
  /** Prepare a server's disk before it first starts. */
  init?: (s: SimServer) => void;
  /**
   * Step every message due at a server before its next Ready, as the server's driver does with what arrived
   * meanwhile. Default false: a Ready after each message.
   */
  stepAllThenReady?: boolean;
  /**
   * A Ready's log write may still be in flight when messages arrive (it completes after a random number of
   * rounds of deliveries, always before the server next ticks): as the server's driver does, those
   * canStepDuringReady() allows are stepped at once, ahead of any that wait, and readyEarly() carried out;
   * the others wait, in order, until the write is done. Default false.
   */
  asyncPersist?: boolean;
  /** Sees every message a server sends, before the network can drop or delay it. */
  onSend?: (m: Message) => void;
}

export interface SimServer {
  readonly id: number;
  readonly cfg: ConsensusConfig;
  readonly storage: MemoryLog;
  epochs: { acceptedEpoch: number; currentEpoch: number };
  node: ZabNode | null;
  /** The applied state: every committed entry in order (the "tree"). */
  applied: LogEntry[];
  /** A Ready whose persist is in flight (asyncPersist). */
  persisting: { r: Ready } | null;
  /** Messages that arrived during that persist and wait for it. */
  held: Message[];
}

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
}

export class InvariantError extends Error {
  override name = "InvariantError";
}

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new InvariantError(msg);
}

function sameEntry(a: LogEntry, b: LogEntry): boolean {
  if (a.zxid !== b.zxid || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

export class ZabCluster {
  readonly servers = new Map<number, SimServer>();
  readonly prng: SeededPrng;
  now = 0;
  /** Every entry any server applied, in order: the one committed history all must agree with. */
  readonly history: LogEntry[] = [];
  /** Established leader of each epoch. */
  readonly leaders = new Map<number, number>();
  dropRate: number;
  dupRate: number;
  maxDelayTicks: number;
  private inflight: InFlight[] = [];
  private seq = 0;
  private readonly cut = new Set<string>();
  private readonly snapshotStore = new Map<number, LogEntry[]>();
  private snapshotIds = 0;
  private proposals = 0;
  private readonly crashPoints = new Map<number, "beforePersist" | "afterPersist">();
  private readonly stepAllThenReady: boolean;
  private readonly asyncPersist: boolean;
  /** Entries applied through readyEarly() (for tests to see that the path ran). */
  earlyApplied = 0;
  private readonly onSend: ((m: Message) => void) | undefined;
  readonly messagesByType = new Map<string, number>();

  constructor(opts: ClusterOptions) {
    this.prng = new SeededPrng(opts.seed ?? 1);
    this.dropRate = opts.dropRate ?? 0;
    this.dupRate = opts.dupRate ?? 0;
    this.maxDelayTicks = opts.maxDelayTicks ?? 0;
    this.stepAllThenReady = opts.stepAllThenReady ?? false;
    this.asyncPersist = opts.asyncPersist ?? false;
    this.onSend = opts.onSend;
    for (const id of [...opts.voters, ...(opts.observers ?? [])]) {
      const cfg: ConsensusConfig = {
        id,
        voters: opts.voters,
        observers: opts.observers ?? [],
        electionTicks: opts.electionTicks ?? 10,
        syncLimitTicks: opts.syncLimitTicks ?? 5,
      };
      const s: SimServer = {
        id,
        cfg,
        storage: new MemoryLog(),
        epochs: { acceptedEpoch: 0, currentEpoch: 0 },
        node: null,
        applied: [],
        persisting: null,
        held: [],
      };
      this.servers.set(id, s);
    }
    for (const s of this.servers.values()) opts.init?.(s);
    for (const id of this.servers.keys()) this.restart(id);
  }

  server(id: number): SimServer {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  node(id: number): ZabNode {
    const n = this.server(id).node;
    if (!n) throw new Error(`server ${id} is down`);
    return n;
  }

  // ------------------------------------------------------------ faults

  crash(id: number): void {
    const s = this.server(id);
    s.node = null; // everything not persisted through a Ready is gone
    s.persisting = null;
    s.held = [];
  }

  /** Crash `id` inside its next Ready: before it persists anything, or after persisting but before
   * sending its messages and applying its commits. */
  crashDuringNextReady(id: number, point: "beforePersist" | "afterPersist"): void {
    this.crashPoints.set(id, point);
  }

  restart(id: number): void {
    const s = this.server(id);
    if (s.node) return;
    const snap = s.storage.snapshot();
    s.applied = this.decodeSnapshot(snap);
    const snapshots = { snapshot: (): Snapshot => this.encodeSnapshot(s.applied) };
    s.node = new ZabNode(
      s.cfg,
      { ...s.epochs, appliedZxid: snap.zxid },
      s.storage,
      snapshots,
      new SeededPrng(this.prng.nextUint32()),
    );
    this.flush(s);
  }

  /** Cut every link between `id` and the rest. */
  isolate(id: number): void {
    for (const other of this.servers.keys()) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: number, b: number): void {
    this.cut.add(`${a}-${b}`).add(`${b}-${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Stop every fault: heal partitions, a perfect network, no pending crash. */
  calm(): void {
    this.heal();
    this.dropRate = 0;
    this.dupRate = 0;
    this.maxDelayTicks = 0;
    this.crashPoints.clear();
  }

  /** The shell took a snapshot of its applied state: its log drops what the snapshot covers. */
  compact(id: number): void {
    const s = this.server(id);
    this.settle(s);
    const snap = this.encodeSnapshot(s.applied);
    if (snap.zxid > s.storage.snapshotZxid()) s.storage.compact(snap);
  }

  // ------------------------------------------------------------ driving

  /** Advance one tick: deliver what is due (repeatedly, for zero-delay messages), then tick everyone. */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.deliverDue();
      this.now++;
      for (const s of this.servers.values()) {
        this.settle(s); // the driver ticks between Readys
        if (!s.node) continue;
        s.node.tick();
        this.flush(s);
      }
      this.deliverDue();
    }
  }

  /** Tick until pred() holds; false if it did not within maxTicks. */
  runUntil(pred: () => boolean, maxTicks: number): boolean {
    for (let i = 0; i < maxTicks; i++) {
      if (pred()) return true;
      this.tick();
    }
    return pred();
  }

  /** The established leader among live servers, if exactly one. */
  leader(): number | null {
    const ls = [...this.servers.values()].filter((s) => s.node?.isEstablished);
    if (ls.length === 0) return null;
    ls.sort((a, b) => b.node!.epoch - a.node!.epoch);
    return ls[0]!.id;
  }

  /** Propose on the established leader; the zxid, or null if there is none or it refused. */
  propose(data?: Uint8Array): bigint | null {
    const id = this.leader();
    if (id === null) return null;
    const s = this.server(id);
    this.settle(s);
    if (!s.node?.isEstablished) return null;
    const r = s.node.propose(data ?? new TextEncoder().encode(`p${++this.proposals}`));
    if (typeof r !== "bigint") return null;
    this.flush(s);
    return r;
  }

  appliedZxids(id: number): bigint[] {
    return this.server(id).applied.map((e) => e.zxid);
  }

  private deliverDue(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      // A persist in flight completes between two rounds of deliveries, at random: messages sent meanwhile
      // (a follower's ACK of the leader's PROPOSAL in flight, say) may arrive before it does.
      for (const s of this.servers.values())
        if (s.persisting !== null && this.chance(0.5)) this.completePersist(s);
      const due = this.inflight.filter((f) => f.at <= this.now);
      if (due.length === 0) {
        const busy = [...this.servers.values()].filter((s) => s.persisting !== null);
        if (busy.length === 0) return;
        for (const s of busy) this.completePersist(s);
        continue;
      }
      this.inflight = this.inflight.filter((f) => f.at > this.now);
      due.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const stepped = new Set<SimServer>();
      for (const f of due) {
        const s = this.servers.get(f.msg.to);
        if (!s?.node) continue;
        this.deliver(s, f.msg);
        if (this.stepAllThenReady) stepped.add(s);
        else this.flush(s);
      }
      for (const s of stepped) this.flush(s);
    }
    throw new Error("message storm: deliveries did not quiesce");
  }

  private send(m: Message): void {
    this.messagesByType.set(m.type, (this.messagesByType.get(m.type) ?? 0) + 1);
    this.onSend?.(m);
    if (this.cut.has(`${m.from}-${m.to}`)) return;
    if (this.dropRate > 0 && this.chance(this.dropRate)) return;
    const copies = this.dupRate > 0 && this.chance(this.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.maxDelayTicks > 0 ? this.prng.below(this.maxDelayTicks + 1) : 0;
      this.inflight.push({ at: this.now + delay, seq: this.seq++, msg: m });
    }
  }

  private chance(p: number): boolean {
    return this.prng.nextUint32() / 2 ** 32 < p;
  }

  /** The shell's loop: persist, send, apply, advance. */
  flush(s: SimServer): void {
    for (let guard = 0; guard < 1000 && s.persisting === null && s.node?.hasReady(); guard++) {
      const r = s.node.ready();
      for (const m of r.earlyMessages) this.send(m);
      if (r.committedDurable) for (const e of r.committed) this.apply(s, e);
      if (this.asyncPersist && this.chance(0.5)) {
        s.persisting = { r };
        return;
      }
      if (!this.finishReady(s, r)) return;
    }
  }

  /** Persist (unless the server crashes first), send, apply, advance; false if it crashed. */
  private finishReady(s: SimServer, r: Ready): boolean {
    const node = s.node!;
    const crashAt = this.crashPoints.get(s.id);
    this.crashPoints.delete(s.id);
    if (crashAt === "beforePersist") {
      this.crash(s.id);
      return false;
    }
    this.persist(s, r);
    if (crashAt === "afterPersist") {
      this.crash(s.id);
      return false;
    }
    for (const m of r.messages) this.send(m);
    if (!r.committedDurable) for (const e of r.committed) this.apply(s, e);
    node.advance(r);
    this.checkLeader(s);
    return true;
  }

  /** A message reaches a live server: stepped, or during a persist in flight stepped early or held. */
  private deliver(s: SimServer, m: Message): void {
    const node = s.node;
    if (!node) return;
    if (s.persisting === null) return node.step(m);
    if (!node.canStepDuringReady(m)) {
      s.held.push(m);
      return;
    }
    node.step(m);
    const early = node.readyEarly();
    for (const e of early.messages) this.send(e);
    for (const e of early.committed) this.apply(s, e);
    this.earlyApplied += early.committed.length;
  }

  /** Finish persists in flight until none is (a step between Readys: tick, propose, compact). */
  private settle(s: SimServer): void {
    for (let guard = 0; guard < 1000 && s.persisting !== null; guard++) this.completePersist(s);
  }

  /** The persist in flight (if any) is done: finish its Ready, then step what waited for it. */
  private completePersist(s: SimServer): void {
    const p = s.persisting;
    if (p === null) return;
    s.persisting = null;
    if (!this.finishReady(s, p.r)) return;
    const held = s.held;
    s.held = [];
    for (const m of held) {
      this.deliver(s, m);
      if (!this.stepAllThenReady) this.flush(s);
    }
    this.flush(s);
  }

  private persist(s: SimServer, r: Ready): void {
    if (r.snapshotToApply) {
      const next = this.decodeSnapshot(r.snapshotToApply);
      check(next.length >= s.applied.length, `server ${s.id}: SNAP rolls back applied state`);
      for (let i = 0; i < s.applied.length; i++) {
        check(
          sameEntry(s.applied[i]!, next[i]!),
          `server ${s.id}: SNAP disagrees with applied state at ${i}`,
        );
      }
      s.storage.installSnapshot(r.snapshotToApply);
      s.applied = next;
    }
    if (r.truncateTo !== undefined) s.storage.truncate(r.truncateTo);
    s.storage.append(r.entriesToAppend);
    if (r.persistEpochs) s.epochs = { ...r.persistEpochs };
  }

  private apply(s: SimServer, e: LogEntry): void {
    const i = s.applied.length;
    if (i > 0)
      check(e.zxid > s.applied[i - 1]!.zxid, `server ${s.id}: applied ${zxidHex(e.zxid)} out of order`);
    const h = this.history[i];
    if (h) {
      check(
        sameEntry(h, e),
        `server ${s.id}: committed #${i} is ${zxidHex(e.zxid)}, others committed ${zxidHex(h.zxid)}`,
      );
    } else {
      check(i === this.history.length, "history gap");
      this.history.push(e);
    }
    s.applied.push(e);
  }

  private checkLeader(s: SimServer): void {
    const n = s.node;
    if (!n?.isEstablished) return;
    const prior = this.leaders.get(n.epoch);
    check(prior === undefined || prior === s.id, `two leaders in epoch ${n.epoch}: ${prior} and ${s.id}`);
    this.leaders.set(n.epoch, s.id);
  }

  /** Every committed entry is durable on a majority of voters (logged, or inside their snapshot). */
  checkDurability(): void {
    const voters = [...this.servers.values()].filter((s) => s.cfg.voters.includes(s.id));
    const majority = Math.floor(voters.length / 2) + 1;
    const logged = voters.map((s) => {
      const m = new Map<bigint, LogEntry>();
      for (const e of s.storage.all()) m.set(e.zxid, e);
      return { s, m, snap: s.storage.snapshotZxid() };
    });
    for (const h of this.history) {
      let n = 0;
      for (const { m, snap } of logged) {
        const e = m.get(h.zxid);
        if (h.zxid <= snap || (e && sameEntry(e, h))) n++;
      }
      check(n >= majority, `committed ${zxidHex(h.zxid)} is durable on only ${n} voters`);
    }
  }

  /** Every live server's applied state is a prefix of the history (checked as applied) and logs agree. */
  checkAll(): void {
    this.checkDurability();
    for (const s of this.servers.values()) {
      for (let i = 0; i < s.applied.length; i++)
        check(sameEntry(s.applied[i]!, this.history[i]!), `server ${s.id} diverged at ${i}`);
    }
  }

  private encodeSnapshot(applied: LogEntry[]): Snapshot {
    const id = ++this.snapshotIds;
    this.snapshotStore.set(id, applied.slice());
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, id);
    return { zxid: applied.length > 0 ? applied[applied.length - 1]!.zxid : 0n, data };
  }

  private decodeSnapshot(s: Snapshot): LogEntry[] {
    if (s.data.length === 0) return [];
    const id = new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0);
    const entries = this.snapshotStore.get(id);
    if (!entries) throw new Error(`unknown snapshot ${id}`);
    return entries.slice();
  }
}
