// ZabNode: leader election and atomic broadcast (ZAB) as a pure state machine, shaped like etcd's
// raft RawNode: the shell calls tick(), step(message), propose(data), then ready() / advance().
// Pure: no I/O, no clock, no randomness except through the Prng it is given.
//
// Election follows ZooKeeper's FastLeaderElection (votes ordered by (currentEpoch, last zxid, server
// id), notifications carrying the sender's state and round). Safety does not rest on the election:
// it rests on epoch establishment (a quorum of fresh ACKEPOCHs, the leader abandoning when one shows a
// more recent history: Leader.waitForEpochAck), sync (LearnerHandler.syncFollower's DIFF/TRUNC/SNAP),
// a quorum of NEWLEADER acks before the leader sets currentEpoch and commits, and commit only by a
// quorum of voters' acks in the leader's epoch.
import { assert, unreachable } from "../base/assert.js";
import type { Prng } from "../base/clock.js";
import { makeZxid, zxidCounter, zxidEpoch } from "../base/zxid.js";
import {
  finalizeWaitTicks,
  gapTicksMax,
  handshakeRetryTicks,
  proposalsInFlightMax,
  readyCommittedMax,
  reorderBufferMax,
  syncDiffEntriesMax,
} from "./limits.js";
import { ZabLog, type LogView, type SnapshotSource } from "./log-view.js";
import {
  compareVotes,
  type AckEpochMessage,
  type AckMessage,
  type CommitMessage,
  type DiffMessage,
  type FollowerInfoMessage,
  type InformMessage,
  type LogEntry,
  type Message,
  type NewEpochMessage,
  type NewLeaderMessage,
  type NotificationMessage,
  type PeerState,
  type PingMessage,
  type ProposalMessage,
  type SnapMessage,
  type Snapshot,
  type TruncMessage,
  type UpToDateMessage,
  type Vote,
} from "./messages.js";

export interface ConsensusConfig {
  /** This server's id (myid). */
  readonly id: number;
  /** Voting members (participants), including this server if it votes. */
  readonly voters: readonly number[];
  /** Non-voting members (observers), including this server if it observes. */
  readonly observers: readonly number[];
  readonly tickMs?: never;
  /** initLimit: ticks for a join (election aftermath, epoch, sync) to complete. */
  readonly electionTicks: number;
  /** syncLimit: ticks without hearing from the leader (or, for a leader, from a quorum) before looking. */
  readonly syncLimitTicks: number;
  /** The leader pings its learners every this many ticks (default 1). */
  readonly pingIntervalTicks?: number;
}

/** What the shell recovered from disk. The log itself is read through the LogView. */
export interface RestoredState {
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** The zxid the shell's state (tree) reflects: its loaded snapshot. Entries after it are not applied. */
  readonly appliedZxid: bigint;
}

export type Role = "looking" | "following" | "leading" | "observing";

/** propose() refused: not the leader, its epoch not yet established, or too much in flight. */
export interface NotLeader {
  readonly refused: true;
  readonly reason: "notLeader" | "notEstablished" | "tooManyInFlight";
  readonly leaderId: number | null;
}

/**
 * What the shell must do now, returned by ready(); call advance(ready) when done.
 *
 * The contract, in this order (as etcd's Ready):
 * 0. `earlyMessages` may be sent at once, before step 1: they vouch for nothing on this node's disk (a
 *    PROPOSAL, COMMIT, INFORM or leader PING; the leader's own ack counts only once its log is durable,
 *    as etcd's leader sends MsgApp while its own append is in flight). This lets followers log a
 *    proposal while the leader does.
 * 1. Make the log changes durable (fsync): replace state and log by `snapshotToApply`, then drop the
 *    entries after `truncateTo`, then append `entriesToAppend`; then persist `persistEpochs`.
 *    Epochs go after the log: a currentEpoch on disk vouches for the history before it.
 * 2. Only then send `messages`. They may acknowledge what step 1 made durable (ACK, ACKEPOCH), so
 *    sending any of them earlier breaks the protocol's safety.
 * 3. Apply `committed` to the tree, in order (they are all durable after step 1). When
 *    `committedDurable` is set they already were durable here before this Ready: apply them at step 0,
 *    so replies to clients do not wait for the fsync of newer entries.
 * 4. Call advance(ready). Between ready() and advance() do not call step, tick or propose: queue them.
 *    Except: while step 1 is in flight, a message for which canStepDuringReady() holds (a follower's ACK
 *    at the leader, the leader's COMMIT at a follower) may be stepped, even ahead of what is queued; then
 *    carry out readyEarly() at once. That way a commit does not wait for the fsync of newer entries.
 */
export interface Ready {
  readonly persistEpochs?: { readonly acceptedEpoch: number; readonly currentEpoch: number };
  readonly snapshotToApply?: Snapshot;
  readonly truncateTo?: bigint;
  readonly entriesToAppend: readonly LogEntry[];
  /** Sent before persisting (step 0); every message to a peer after its first late one is in `messages`. */
  readonly earlyMessages: readonly Message[];
  readonly messages: readonly Message[];
  readonly committed: readonly LogEntry[];
  /** `committed` was in this node's storage before this Ready, and nothing in it replaces the log or state. */
  readonly committedDurable: boolean;
  /** Set when role, leader or epoch changed since the last Ready (fail pending requests, redirect). */
  readonly roleChanged?: { readonly role: Role; readonly leaderId: number | null; readonly epoch: number };
}

/** A learner's progress through one join attempt (Learner.registerWithLeader .. syncWithLeader). */
type LearnerPhase = "discovery" | "sync" | "synced" | "acked" | "upToDate";
const phaseRank: Record<LearnerPhase, number> = { discovery: 0, sync: 1, synced: 2, acked: 3, upToDate: 4 };

/** The leader's progress establishing its epoch (Leader.lead). */
type LeaderPhase = "collectingInfo" | "collectingAckEpoch" | "awaitingNewLeaderAcks" | "broadcast";

/** The leader's record of one learner (LearnerHandler). */
interface LearnerHandle {
  readonly id: number;
  readonly observer: boolean;
  readonly attempt: number;
  readonly acceptedEpoch: number;
  stage: "info" | "epochSent" | "ackedEpoch" | "syncSent" | "acked";
  lastHeardTick: number;
  ackEpoch: AckEpochMessage | null;
  /** Observers: the last committed zxid sent to it (by sync or INFORM). */
  informedZxid: bigint;
  /** The highest leadership-check round this learner echoed. */
  confirmedRound: number;
}

type Sequenced = ProposalMessage | InformMessage;

const noMessages: readonly Message[] = [];

/** Running totals for metrics (ZooKeeper's ServerMetrics counters of the same meaning). Never reset. */
export interface ZabCounters {
  /** Leader: txns proposed (proposal_count). */
  proposals: number;
  /** Txns handed to the shell as committed (commit_count). */
  commits: number;
  /** Times this node started looking (looking_count). */
  lookings: number;
  /** Leader: learners synced by DIFF, TRUNC (then DIFF) and SNAP (diff_count, snap_count). */
  diffs: number;
  truncs: number;
  snaps: number;
  /** Follower: proposals and commits received from the leader. */
  learnerProposalsReceived: number;
  learnerCommitsReceived: number;
}

export class ZabNode {
  private readonly log: ZabLog;
  private readonly isVoter: boolean;
  private readonly quorumSize: number;

  private acceptedEpoch: number;
  private currentEpoch: number;
  private epochsDirty = false;
  private committed: bigint;
  /**
   * Following: the leader's commit point as last heard in this attempt, which may be past our log (a
   * COMMIT stepped before the PROPOSAL it covers, see canStepDuringReady); entries up to it are committed
   * as they arrive.
   */
  private leaderCommit = 0n;
  /** The last committed zxid handed to the shell to apply (by ready() or readyEarly()): what it has applied. */
  private handedOut: bigint;
  /** The late messages of the Ready being carried out: nothing may overtake one to the same peer. */
  private held: readonly Message[] = noMessages;
  /** The Ready being carried out only appends entries (no snapshot, truncation, epochs or role change). */
  private readyIsAppendOnly = false;
  private ticks = 0;
  /** Messages for the next Ready; null where a cumulative message was superseded (see send). */
  private outbox: (Message | null)[] = [];
  /** Per peer, the outbox index of the last cumulative message (a COMMIT, or an ACK of log progress) to it. */
  private cumulativeSlot = new Map<number, number>();
  private roleDirty = true;
  private inReady = false;

  private roleValue: Role = "looking";
  private leaderIdValue: number | null = null;
  private epochValue: number;

  // looking
  private round = 0;
  private vote: Vote;
  private votes = new Map<number, Vote>();
  private outOfElection = new Map<number, NotificationMessage>();
  private decideAtTick: number | null = null;
  private lookingSinceTick = 0;

  // following / observing
  private attempt = 0;
  private phase: LearnerPhase = "discovery";
  private attemptStartTick = 0;
  private lastHeardTick = 0;
  private pendingNewLeader: NewLeaderMessage | null = null;
  private reorder = new Map<bigint, Sequenced>();
  private behind: { target: bigint; sinceTick: number } | null = null;

  // leading
  private leaderPhase: LeaderPhase = "collectingInfo";
  private leadingSinceTick = 0;
  private learners = new Map<number, LearnerHandle>();
  private infoFrom = new Set<number>();
  private maxAcceptedEpoch = 0;
  private ackEpochFrom = new Set<number>();
  private initialZxid = 0n;
  private newLeaderAcked = new Set<number>();
  private acked = new Map<number, bigint>();
  private counter = 0;
  readonly counters: ZabCounters = {
    proposals: 0,
    commits: 0,
    lookings: 0,
    diffs: 0,
    truncs: 0,
    snaps: 0,
    learnerProposalsReceived: 0,
    learnerCommitsReceived: 0,
  };
  /** Leadership-check rounds issued (confirmLeadership); never reset, so rounds of any term are distinct. */
  private checkRound = 0;

  constructor(
    private readonly cfg: ConsensusConfig,
    restored: RestoredState,
    storage: LogView,
    private readonly snapshots: SnapshotSource,
    private readonly prng: Prng,
  ) {
    assert(cfg.voters.length > 0, "an ensemble needs at least one voter");
    assert(
      new Set([...cfg.voters, ...cfg.observers]).size === cfg.voters.length + cfg.observers.length,
      "a server is a voter or an observer, once",
    );
    assert(
      cfg.voters.includes(cfg.id) || cfg.observers.includes(cfg.id),
      `server ${cfg.id} is not in the ensemble`,
    );
    assert(
      cfg.electionTicks >= 1 && cfg.syncLimitTicks >= 1,
      "electionTicks and syncLimitTicks must be >= 1",
    );
    assert(restored.currentEpoch <= restored.acceptedEpoch, "currentEpoch > acceptedEpoch on disk");
    assert(restored.appliedZxid >= storage.snapshotZxid(), "applied state older than the log's snapshot");
    assert(restored.appliedZxid <= storage.lastZxid(), "applied state newer than the log");
    this.log = new ZabLog(storage);
    this.isVoter = cfg.voters.includes(cfg.id);
    this.quorumSize = Math.floor(cfg.voters.length / 2) + 1;
    this.acceptedEpoch = restored.acceptedEpoch;
    this.currentEpoch = restored.currentEpoch;
    this.epochValue = restored.currentEpoch;
    this.committed = restored.appliedZxid;
    this.handedOut = restored.appliedZxid;
    this.vote = this.selfVote();
    this.becomeLooking("start");
  }

  get role(): Role {
    return this.roleValue;
  }
  get leaderId(): number | null {
    return this.leaderIdValue;
  }
  /** The epoch being led or followed (once known), else currentEpoch. */
  get epoch(): number {
    return this.epochValue;
  }
  get committedZxid(): bigint {
    return this.committed;
  }
  get lastZxid(): bigint {
    return this.log.lastZxid();
  }
  /** Leader: its epoch is established (quorum of NEWLEADER acks); it may propose. */
  get isEstablished(): boolean {
    return this.roleValue === "leading" && this.leaderPhase === "broadcast";
  }
  /**
   * Leader: the highest leadership-check round a quorum (this leader and synced followers of its epoch)
   * has answered. A follower answers a round only while it follows this leader in this epoch, so once
   * round r is confirmed, no later epoch had been established when r was issued: everything committed
   * before then is in this leader's log (the read index of Raft's ReadIndex).
   */
  get confirmedRound(): number {
    if (!this.isEstablished) return 0;
    const rounds = [this.checkRound];
    for (const l of this.learners.values())
      if (!l.observer && l.stage === "acked") rounds.push(l.confirmedRound);
    rounds.sort((a, b) => b - a);
    return rounds[this.quorumSize - 1] ?? 0;
  }
  /** Learner: UPTODATE received; it may serve clients. Leader: established. */
  get isUpToDate(): boolean {
    if (this.roleValue === "leading") return this.isEstablished;
    return (this.roleValue === "following" || this.roleValue === "observing") && this.phase === "upToDate";
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Leader: starts a leadership check and returns its round; `confirmedRound` reaches it once a quorum
   * answered. Pings go out now (and every ping after carries the latest round, so a lost one is retried).
   * Not leading or not established: returns 0 and sends nothing.
   */
  confirmLeadership(): number {
    assert(!this.inReady, "confirmLeadership() between ready() and advance()");
    if (!this.isEstablished) return 0;
    this.checkRound++;
    for (const l of this.learners.values()) if (!l.observer && l.stage === "acked") this.sendLeaderPing(l);
    return this.checkRound;
  }

  /** One tickTime passed. */
  tick(): void {
    assert(!this.inReady, "tick() between ready() and advance()");
    this.ticks++;
    switch (this.roleValue) {
      case "looking":
        return this.tickLooking();
      case "following":
      case "observing":
        return this.tickLearner();
      case "leading":
        return this.tickLeader();
      default:
        unreachable(this.roleValue);
    }
  }

  /** A message from a peer. Messages not addressed to this server, or from strangers, are dropped. */
  step(m: Message): void {
    assert(!this.inReady || this.canStepDuringReady(m), "step() between ready() and advance()");
    if (m.to !== this.cfg.id || m.from === this.cfg.id || !this.isMember(m.from)) return;
    if (m.type === "notification") return this.stepNotification(m);
    switch (this.roleValue) {
      case "looking":
        return; // no leader yet: learners retry, leaders resend on their next attempt
      case "following":
      case "observing":
        return this.stepLearner(m);
      case "leading":
        return this.stepLeader(m);
      default:
        unreachable(this.roleValue);
    }
  }

  /**
   * The zxid the next propose() will assign, or why it would refuse. A pure query: the shell's leader
   * prepares a txn with this zxid (the zxid is inside the encoded txn), then proposes it at once.
   */
  nextZxid(): bigint | NotLeader {
    const refused = this.proposeRefusal();
    if (refused !== null) return refused;
    if (this.counter >= 0xffffffff) return { refused: true, reason: "notLeader", leaderId: null };
    return makeZxid(this.epochValue, this.counter + 1);
  }

  private proposeRefusal(): NotLeader | null {
    if (this.roleValue !== "leading")
      return { refused: true, reason: "notLeader", leaderId: this.leaderIdValue };
    if (this.leaderPhase !== "broadcast")
      return { refused: true, reason: "notEstablished", leaderId: this.cfg.id };
    if (
      this.counter - (zxidEpoch(this.committed) === this.epochValue ? zxidCounter(this.committed) : 0) >=
      proposalsInFlightMax
    ) {
      return { refused: true, reason: "tooManyInFlight", leaderId: this.cfg.id };
    }
    return null;
  }

  /** Leader: learners it has a handle for, and those synced (acked NEWLEADER), for mntr. */
  learnerCounts(): { followers: number; syncedFollowers: number; observers: number } {
    let followers = 0;
    let syncedFollowers = 0;
    let observers = 0;
    if (this.roleValue !== "leading") return { followers, syncedFollowers, observers };
    for (const l of this.learners.values()) {
      if (l.observer) observers++;
      else {
        followers++;
        if (l.stage === "acked") syncedFollowers++;
      }
    }
    return { followers, syncedFollowers, observers };
  }

  /** Leader only: assign the next zxid to `data`, log it and send PROPOSALs. Returns the zxid. */
  propose(data: Uint8Array): bigint | NotLeader {
    assert(!this.inReady, "propose() between ready() and advance()");
    const refused = this.proposeRefusal();
    if (refused !== null) return refused;
    const last = this.log.lastZxid();
    if (this.counter >= 0xffffffff) {
      // The counter would overflow into the epoch bits: ZooKeeper forces a new election (a new epoch).
      this.becomeLooking("zxid counter exhausted");
      return { refused: true, reason: "notLeader", leaderId: null };
    }
    this.counter++;
    this.counters.proposals++;
    const zxid = makeZxid(this.epochValue, this.counter);
    assert(zxid > last, "proposal zxid must exceed the leader's last zxid");
    this.log.append({ zxid, data });
    for (const l of this.learners.values()) {
      if (l.observer || (l.stage !== "syncSent" && l.stage !== "acked")) continue;
      this.send({
        type: "proposal",
        from: this.cfg.id,
        to: l.id,
        epoch: this.epochValue,
        prevZxid: last,
        zxid,
        data,
      });
    }
    return zxid;
  }

  /**
   * Whether `m` may be stepped while a Ready's log changes are being made durable (see Ready): an ACK of log
   * progress from a learner while we lead an established epoch, or the leader's COMMIT to an up-to-date
   * follower, and only while the Ready does no more than append entries. Neither changes the log or the
   * epochs, and both only raise what they report, so they may overtake messages queued before them (a
   * COMMIT ahead of its PROPOSAL is kept in leaderCommit). What they produce comes out through readyEarly().
   */
  canStepDuringReady(m: Message): boolean {
    if (!this.inReady || !this.readyIsAppendOnly) return false;
    if (m.to !== this.cfg.id || !("epoch" in m) || m.epoch !== this.epochValue) return false;
    if (m.type === "ack")
      return (
        this.roleValue === "leading" &&
        this.leaderPhase === "broadcast" &&
        m.attempt === undefined &&
        this.learners.has(m.from)
      );
    if (m.type === "commit")
      return this.roleValue === "following" && m.from === this.leaderIdValue && this.phase === "upToDate";
    return false;
  }

  /**
   * While a Ready is being carried out, after stepping what canStepDuringReady() allowed: COMMITs (and
   * INFORMs) to send now, and committed entries already durable here to apply now, in order, before anything
   * else is applied. What must wait stays for the next Ready.
   */
  readyEarly(): { messages: Message[]; committed: LogEntry[] } {
    assert(this.inReady, "readyEarly() outside a Ready");
    const messages: Message[] = [];
    const kept: Message[] = [];
    for (const m of this.outbox) {
      if (m === null) continue;
      if ((m.type === "commit" || m.type === "inform") && !this.held.some((h) => h.to === m.to))
        messages.push(m);
      else kept.push(m);
    }
    this.outbox = kept;
    this.cumulativeSlot = new Map();
    kept.forEach((m, i) => {
      if (isCumulative(m)) this.cumulativeSlot.set(m.to, i);
    });
    const stable = this.log.stableLastZxid();
    const upTo = this.committed < stable ? this.committed : stable;
    const committed =
      upTo > this.handedOut ? this.log.entriesBetween(this.handedOut, upTo, readyCommittedMax) : [];
    if (committed.length > 0) {
      this.handedOut = committed[committed.length - 1]!.zxid;
      this.counters.commits += committed.length;
    }
    return { messages, committed };
  }

  // ---------------------------------------------------------------- ready / advance

  hasReady(): boolean {
    return (
      this.outbox.length > 0 ||
      this.log.hasPending() ||
      this.epochsDirty ||
      this.roleDirty ||
      this.committed > this.handedOut
    );
  }

  ready(): Ready {
    assert(!this.inReady, "ready() called twice without advance()");
    this.inReady = true;
    const changes = this.log.peekPending();
    const committed =
      this.committed > this.handedOut
        ? this.log.entriesBetween(this.handedOut, this.committed, readyCommittedMax)
        : [];
    assert(
      committed.length > 0 || this.committed <= this.handedOut,
      "committed entries missing from the log",
    );
    const r: Ready = {
      ...(this.epochsDirty
        ? { persistEpochs: { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch } }
        : {}),
      ...(changes.snapshot ? { snapshotToApply: changes.snapshot } : {}),
      ...(changes.truncateTo !== undefined ? { truncateTo: changes.truncateTo } : {}),
      entriesToAppend: changes.entries,
      ...splitEarly(this.outbox),
      committed,
      committedDurable:
        changes.snapshot === undefined &&
        changes.truncateTo === undefined &&
        (committed.length === 0 || committed[committed.length - 1]!.zxid <= this.log.stableLastZxid()),
      ...(this.roleDirty
        ? { roleChanged: { role: this.roleValue, leaderId: this.leaderIdValue, epoch: this.epochValue } }
        : {}),
    };
    this.outbox = [];
    if (this.cumulativeSlot.size > 0) this.cumulativeSlot = new Map(); // clear() would link the old table to a new one
    if (committed.length > 0) this.handedOut = committed[committed.length - 1]!.zxid;
    this.held = r.messages;
    this.readyIsAppendOnly =
      r.snapshotToApply === undefined &&
      r.truncateTo === undefined &&
      r.persistEpochs === undefined &&
      r.roleChanged === undefined;
    return r;
  }

  /** The shell did everything `r` asked (see Ready). */
  advance(r: Ready): void {
    assert(this.inReady, "advance() without ready()");
    this.inReady = false;
    this.held = noMessages;
    this.log.stable(this.log.lastZxid());
    if (r.persistEpochs) this.epochsDirty = false;
    if (r.roleChanged) this.roleDirty = false;
    if (r.committed.length > 0) {
      this.counters.commits += r.committed.length;
      assert(r.committed[r.committed.length - 1]!.zxid <= this.committed, "applied beyond the commit point");
    }
    if (this.roleValue === "leading") {
      // Our own log just became durable: that is the leader's ack (etcd's self MsgAppResp).
      if (this.leaderPhase === "awaitingNewLeaderAcks") this.checkEstablished();
      if (this.leaderPhase === "broadcast") this.advanceCommit();
    }
  }

  /**
   * The shell lost its connection to a peer. A learner whose leader it was stops following at once, as a
   * ZooKeeper follower does when its socket to the leader breaks, instead of waiting syncLimit ticks.
   */
  peerLost(id: number): void {
    assert(!this.inReady, "peerLost() between ready() and advance()");
    if ((this.roleValue === "following" || this.roleValue === "observing") && this.leaderIdValue === id) {
      this.becomeLooking("lost the connection to the leader");
    }
  }

  // ---------------------------------------------------------------- transitions

  private becomeLooking(_reason: string): void {
    this.counters.lookings++;
    this.roleValue = "looking";
    this.lookingSinceTick = this.ticks;
    this.leaderIdValue = null;
    this.epochValue = this.currentEpoch;
    this.roleDirty = true;
    this.round++;
    this.vote = this.selfVote();
    this.votes = new Map();
    if (this.isVoter) this.votes.set(this.cfg.id, this.vote);
    this.outOfElection = new Map();
    this.decideAtTick = null;
    this.learners = new Map();
    this.reorder = new Map();
    this.pendingNewLeader = null;
    this.behind = null;
    this.broadcastNotification();
    this.checkElection();
  }

  private becomeFollowing(leader: number): void {
    assert(this.roleValue === "looking", `becomeFollowing from ${this.roleValue}`);
    assert(
      this.isVoter && leader !== this.cfg.id && this.cfg.voters.includes(leader),
      "follow a voter other than self",
    );
    this.roleValue = "following";
    this.startLearning(leader);
  }

  private becomeObserving(leader: number): void {
    assert(this.roleValue === "looking", `becomeObserving from ${this.roleValue}`);
    assert(!this.isVoter && this.cfg.voters.includes(leader), "only observers observe, and only voters lead");
    this.roleValue = "observing";
    this.startLearning(leader);
  }

  private becomeLeading(): void {
    assert(this.roleValue === "looking", `becomeLeading from ${this.roleValue}`);
    assert(this.isVoter, "an observer cannot lead");
    this.roleValue = "leading";
    this.leaderIdValue = this.cfg.id;
    this.roleDirty = true;
    this.leaderPhase = "collectingInfo";
    this.leadingSinceTick = this.ticks;
    this.learners = new Map();
    this.infoFrom = new Set([this.cfg.id]);
    this.maxAcceptedEpoch = this.acceptedEpoch;
    this.ackEpochFrom = new Set();
    this.newLeaderAcked = new Set();
    this.acked = new Map();
    this.counter = 0;
    this.checkInfoQuorum();
  }

  // ---------------------------------------------------------------- election (FastLeaderElection)

  private selfVote(): Vote {
    if (!this.isVoter) return { leader: -1, epoch: -1, zxid: 0n };
    return { leader: this.cfg.id, epoch: this.currentEpoch, zxid: this.log.lastZxid() };
  }

  private myState(): PeerState {
    return this.roleValue;
  }

  /** The vote a non-looking server reports: its leader and that leader's epoch. */
  private currentVote(): Vote {
    if (this.roleValue === "looking") return this.vote;
    return { leader: this.leaderIdValue ?? -1, epoch: this.epochValue, zxid: this.log.lastZxid() };
  }

  private notify(to: number): void {
    this.send({
      type: "notification",
      from: this.cfg.id,
      to,
      round: this.round,
      state: this.myState(),
      vote: this.currentVote(),
    });
  }

  private broadcastNotification(): void {
    for (const v of this.cfg.voters) if (v !== this.cfg.id) this.notify(v);
  }

  private tickLooking(): void {
    this.broadcastNotification(); // FastLeaderElection resends when its queue runs dry
    if (this.decideAtTick !== null && this.ticks >= this.decideAtTick) this.checkElection(true);
  }

  private stepNotification(m: NotificationMessage): void {
    const fromVoter = this.cfg.voters.includes(m.from);
    if (this.roleValue !== "looking") {
      // WorkerReceiver: a server out of the election answers a looking one with its leader.
      if (m.state === "looking") this.notify(m.from);
      return;
    }
    if (!fromVoter) {
      if (m.state === "looking") this.notify(m.from); // an observer looking for the leader
      return;
    }
    if (m.state === "looking") {
      if (!this.isVoter) return; // an observer waits for a voter that has a leader; it never answers rounds
      if (m.round > this.round) {
        this.round = m.round;
        this.votes = new Map();
        this.vote = this.selfVote();
        if (this.isVoter && compareVotes(m.vote, this.vote) > 0) this.vote = m.vote;
        if (this.isVoter) this.votes.set(this.cfg.id, this.vote);
        this.decideAtTick = null;
        this.broadcastNotification();
      } else if (m.round < this.round) {
        this.notify(m.from); // bring it to our round
        return;
      } else if (this.isVoter && compareVotes(m.vote, this.vote) > 0) {
        this.vote = m.vote;
        this.votes.set(this.cfg.id, this.vote);
        this.decideAtTick = null;
        this.broadcastNotification();
      }
      this.votes.set(m.from, m.vote);
      this.checkElection();
    } else {
      this.outOfElection.set(m.from, m);
      this.checkOutOfElection(m.vote.leader);
    }
  }

  /** Termination: a quorum of voters agrees with our vote; wait finalizeWait for a better one. */
  private checkElection(deadlinePassed = false): void {
    if (!this.isVoter || this.roleValue !== "looking") return;
    const agree = new Set<number>();
    for (const [id, v] of this.votes) if (sameVote(v, this.vote)) agree.add(id);
    if (!this.isQuorum(agree)) {
      this.decideAtTick = null;
      return;
    }
    if (agree.size === this.cfg.voters.length || deadlinePassed) {
      if (this.vote.leader === this.cfg.id) this.becomeLeading();
      else this.becomeFollowing(this.vote.leader);
    } else if (this.decideAtTick === null) {
      this.decideAtTick = this.ticks + finalizeWaitTicks;
    }
  }

  /** Join an established leader: it says it leads, and with us a quorum of voters is with it. */
  private checkOutOfElection(leader: number): void {
    const l = this.outOfElection.get(leader);
    if (!l || l.state !== "leading" || l.vote.leader !== leader) return;
    // One tick in looking before rejoining keeps a refused learner from spinning (FastLeaderElection's
    // timeouts do that in ZooKeeper).
    if (this.ticks === this.lookingSinceTick) return;
    if (this.isVoter) {
      const with_ = new Set<number>([this.cfg.id]);
      for (const [id, n] of this.outOfElection) {
        if (this.cfg.voters.includes(id) && n.state !== "looking" && n.vote.leader === leader) with_.add(id);
      }
      if (!this.isQuorum(with_)) return;
      this.becomeFollowing(leader);
    } else {
      this.becomeObserving(leader);
    }
  }

  // ---------------------------------------------------------------- learner (Follower, Observer)

  private startLearning(leader: number): void {
    this.leaderIdValue = leader;
    this.roleDirty = true;
    this.lastHeardTick = this.ticks;
    this.startAttempt();
  }

  /** A new join attempt: FOLLOWERINFO with a fresh nonce, so replies to older attempts are ignored. */
  private startAttempt(): void {
    this.attempt = this.prng.nextUint32();
    this.phase = "discovery";
    this.epochValue = this.currentEpoch;
    this.attemptStartTick = this.ticks; // lastHeardTick is not reset: only the leader's messages do that
    this.pendingNewLeader = null;
    this.reorder = new Map();
    this.behind = null;
    this.leaderCommit = 0n;
    this.sendFollowerInfo();
  }

  private sendFollowerInfo(): void {
    this.send({
      type: "followerInfo",
      from: this.cfg.id,
      to: this.leader(),
      attempt: this.attempt,
      acceptedEpoch: this.acceptedEpoch,
      observer: !this.isVoter,
    });
  }

  private leader(): number {
    assert(this.leaderIdValue !== null, "no leader");
    return this.leaderIdValue;
  }

  private tickLearner(): void {
    const established = phaseRank[this.phase] >= phaseRank.acked;
    const limit = established ? this.cfg.syncLimitTicks : this.cfg.electionTicks;
    if (this.ticks - this.lastHeardTick > limit) return this.becomeLooking("leader silent");
    if (this.phase !== "upToDate") {
      // No UPTODATE yet: a lost message, or the leader replaced our handle (a stale FOLLOWERINFO). Retry.
      if (this.ticks - this.attemptStartTick > handshakeRetryTicks(this.cfg.electionTicks))
        return this.startAttempt();
      if (this.phase === "discovery") this.sendFollowerInfo(); // the leader may not have decided yet
      if (!established) return;
    }
    if (this.behind !== null) {
      if (this.log.lastZxid() >= this.behind.target) this.behind = null;
      else if (this.ticks - this.behind.sinceTick > gapTicksMax) return this.startAttempt(); // lost a message
    }
  }

  /** The leader announced (by PING or a later PROPOSAL/INFORM) history up to `zxid`. */
  private noteLeaderAt(zxid: bigint): void {
    if (zxid > this.log.lastZxid() && this.behind === null)
      this.behind = { target: zxid, sinceTick: this.ticks };
  }

  private stepLearner(m: Message): void {
    if (m.from !== this.leaderIdValue) return;
    if (m.type === "ping" && m.sender !== "leader") return;
    if (this.phase === "discovery" && m.type !== "newEpoch" && m.type !== "ping") return;
    if (this.phase !== "discovery" && "epoch" in m && m.epoch !== this.epochValue) return;
    if ("attempt" in m && m.type !== "ack" && m.attempt !== this.attempt) return;
    this.lastHeardTick = this.ticks;
    switch (m.type) {
      case "newEpoch":
        return this.onNewEpoch(m);
      case "diff":
      case "trunc":
      case "snap":
        return this.onSync(m);
      case "newLeader":
        return this.onNewLeader(m);
      case "upToDate":
        return this.onUpToDate(m);
      case "proposal":
        if (this.roleValue !== "following") return;
        this.counters.learnerProposalsReceived++;
        return this.onSequenced(m);
      case "inform":
        return this.roleValue === "observing" ? this.onSequenced(m) : undefined;
      case "commit":
        this.counters.learnerCommitsReceived++;
        return this.onCommit(m);
      case "ping":
        return m.sender === "leader" ? this.onLeaderPing(m) : undefined;
      case "followerInfo":
      case "ackEpoch":
      case "ack":
      case "notification":
        return; // addressed to a leader
      default:
        unreachable(m);
    }
  }

  /** Learner.registerWithLeader: accept the epoch (persisting acceptedEpoch) or refuse an older one. */
  private onNewEpoch(m: NewEpochMessage): void {
    if (this.phase !== "discovery") return;
    if (m.epoch < this.acceptedEpoch) return this.becomeLooking("leader's epoch is older than accepted");
    const fresh = m.epoch > this.acceptedEpoch;
    if (fresh) {
      this.acceptedEpoch = m.epoch;
      this.epochsDirty = true;
    }
    this.epochValue = m.epoch;
    this.roleDirty = true;
    this.phase = "sync";
    this.send({
      type: "ackEpoch",
      from: this.cfg.id,
      to: m.from,
      attempt: this.attempt,
      epoch: m.epoch,
      fresh,
      currentEpoch: this.currentEpoch,
      lastZxid: this.log.lastZxid(),
      committedZxid: this.committed,
    });
  }

  /** Learner.syncWithLeader: DIFF, TRUNC or SNAP, each followed by the leader's history. */
  private onSync(m: DiffMessage | TruncMessage | SnapMessage): void {
    if (this.phase !== "sync") return;
    if (m.type === "trunc") {
      // Only uncommitted history may be dropped; anything else is a protocol bug.
      assert(m.truncZxid >= this.committed, `TRUNC to ${m.truncZxid} below commit point ${this.committed}`);
      this.log.truncate(m.truncZxid);
    } else if (m.type === "snap") {
      assert(
        m.snapshot.zxid >= this.committed,
        `SNAP at ${m.snapshot.zxid} behind commit point ${this.committed}`,
      );
      this.log.installSnapshot(m.snapshot);
      this.committed = m.snapshot.zxid;
      this.handedOut = m.snapshot.zxid; // the snapshot replaces the applied state
    }
    for (const e of m.entries) this.log.append(e);
    const last = this.log.lastZxid();
    if (this.roleValue === "observing")
      this.committed = last; // observers hold only committed history
    else this.raiseCommit(m.committedZxid);
    assert(this.committed <= last, "commit point beyond the log");
    this.phase = "synced";
    const pending = this.pendingNewLeader;
    this.pendingNewLeader = null;
    if (pending) this.onNewLeader(pending);
  }

  /** NEWLEADER: our history now equals the leader's up to m.zxid; adopt the epoch and ack. */
  private onNewLeader(m: NewLeaderMessage): void {
    if (this.phase === "sync") {
      this.pendingNewLeader = m; // overtook the sync
      return;
    }
    if (this.phase !== "synced") return;
    if (this.log.lastZxid() !== m.zxid) return this.startAttempt();
    this.currentEpoch = m.epoch;
    this.epochsDirty = true;
    this.phase = "acked";
    this.send({
      type: "ack",
      from: this.cfg.id,
      to: m.from,
      epoch: m.epoch,
      zxid: this.log.lastZxid(),
      attempt: this.attempt,
    });
    this.drainReorder();
  }

  private onUpToDate(_m: UpToDateMessage): void {
    if (this.phase === "acked") this.phase = "upToDate";
  }

  /** PROPOSAL (follower) or INFORM (observer): append only contiguous history. */
  private onSequenced(m: Sequenced): void {
    if (phaseRank[this.phase] < phaseRank.acked) {
      if (this.phase !== "discovery") this.buffer(m);
      return;
    }
    const last = this.log.lastZxid();
    if (m.zxid <= last) {
      if (m.type === "proposal") this.sendAck(); // a duplicate; our earlier ack may have been lost
      return;
    }
    if (m.prevZxid > last) {
      this.buffer(m);
      this.noteLeaderAt(m.zxid);
      return;
    }
    assert(
      m.prevZxid === last,
      `history diverged: ${m.type} ${m.zxid} after ${m.prevZxid}, our last ${last}`,
    );
    this.log.append({ zxid: m.zxid, data: m.data });
    if (m.type === "inform") this.committed = m.zxid;
    this.drainReorder();
    if (m.type === "proposal") {
      if (this.leaderCommit > this.committed) this.raiseCommit(this.leaderCommit);
      this.sendAck();
    }
  }

  private buffer(m: Sequenced): void {
    if (this.reorder.size >= reorderBufferMax) return this.startAttempt();
    this.reorder.set(m.prevZxid, m);
  }

  private drainReorder(): void {
    for (;;) {
      const last = this.log.lastZxid();
      const next = this.reorder.get(last);
      if (!next) break;
      this.reorder.delete(last);
      this.log.append({ zxid: next.zxid, data: next.data });
      if (next.type === "inform") this.committed = next.zxid;
    }
    const last = this.log.lastZxid();
    for (const k of this.reorder.keys()) if (k < last) this.reorder.delete(k);
  }

  private sendAck(round: { round?: number } = {}): void {
    this.send({
      type: "ack",
      from: this.cfg.id,
      to: this.leader(),
      epoch: this.epochValue,
      zxid: this.log.lastZxid(),
      ...round,
    });
  }

  private onCommit(m: CommitMessage): void {
    if (phaseRank[this.phase] >= phaseRank.synced && this.roleValue === "following") this.raiseCommit(m.zxid);
  }

  /**
   * Our log is a prefix of the leader's, so its commit point, capped at our last zxid, is ours; the rest of
   * it becomes ours as the leader's proposals reach our log.
   */
  private raiseCommit(zxid: bigint): void {
    if (zxid > this.leaderCommit) this.leaderCommit = zxid;
    const last = this.log.lastZxid();
    const c = zxid < last ? zxid : last;
    if (c > this.committed) this.committed = c;
  }

  private onLeaderPing(m: PingMessage): void {
    if (phaseRank[this.phase] >= phaseRank.synced) {
      if (this.roleValue === "following") this.raiseCommit(m.committedZxid);
      if (phaseRank[this.phase] >= phaseRank.acked) this.noteLeaderAt(m.lastZxid);
    }
    // Until UPTODATE arrives, repeat the NEWLEADER ack (UPTODATE may have been lost; the leader resends).
    const round = m.round !== undefined && this.roleValue === "following" ? { round: m.round } : {};
    if (this.phase === "acked") {
      this.send({
        type: "ack",
        from: this.cfg.id,
        to: m.from,
        epoch: this.epochValue,
        zxid: this.log.lastZxid(),
        attempt: this.attempt,
        ...round,
      });
      return;
    }
    // Followers answer with a (cumulative) ack once they hold the epoch; it doubles as liveness and
    // answers the leader's leadership check.
    if (this.roleValue === "following" && this.phase === "upToDate") return this.sendAck(round);
    if (this.phase === "discovery") return; // FOLLOWERINFO resends prove us alive
    this.send({
      type: "ping",
      sender: "learner",
      from: this.cfg.id,
      to: m.from,
      epoch: this.epochValue,
      committedZxid: this.committed,
      lastZxid: this.log.lastZxid(),
    });
  }

  // ---------------------------------------------------------------- leader (Leader, LearnerHandler)

  private tickLeader(): void {
    if (this.leaderPhase !== "broadcast" && this.ticks - this.leadingSinceTick > this.cfg.electionTicks) {
      return this.becomeLooking("epoch not established within initLimit");
    }
    const pingNow = this.ticks % (this.cfg.pingIntervalTicks ?? 1) === 0;
    for (const l of [...this.learners.values()]) {
      const limit = l.stage === "acked" ? this.cfg.syncLimitTicks : this.cfg.electionTicks;
      if (this.ticks - l.lastHeardTick > limit) {
        this.learners.delete(l.id);
        continue;
      }
      if (pingNow) this.sendLeaderPing(l);
    }
    if (this.leaderPhase === "broadcast") {
      const synced = new Set<number>([this.cfg.id]);
      for (const l of this.learners.values()) if (!l.observer && l.stage === "acked") synced.add(l.id);
      if (!this.isQuorum(synced)) this.becomeLooking("lost the quorum for syncLimit ticks");
    }
  }

  private sendLeaderPing(l: LearnerHandle): void {
    this.send({
      type: "ping",
      sender: "leader",
      from: this.cfg.id,
      to: l.id,
      epoch: this.epochValue,
      committedZxid: this.committed,
      lastZxid: l.observer ? this.committed : this.log.lastZxid(),
      ...(this.checkRound > 0 && !l.observer ? { round: this.checkRound } : {}),
    });
  }

  private stepLeader(m: Message): void {
    const l = this.learners.get(m.from);
    if (m.type === "followerInfo") return this.onFollowerInfo(m);
    if (!l || (m.type === "ping" && m.sender !== "learner")) return;
    if ("attempt" in m && m.type !== "ack" && m.attempt !== l.attempt) return;
    l.lastHeardTick = this.ticks;
    switch (m.type) {
      case "ackEpoch":
        return this.onAckEpoch(l, m);
      case "ack":
        return this.onAck(l, m);
      case "ping":
        return;
      case "newEpoch":
      case "diff":
      case "trunc":
      case "snap":
      case "newLeader":
      case "upToDate":
      case "proposal":
      case "commit":
      case "inform":
      case "notification":
        return; // from another would-be leader: ignore
      default:
        unreachable(m);
    }
  }

  /** A learner (re)joins. A new attempt replaces its handle (LearnerHandler per connection). */
  private onFollowerInfo(m: FollowerInfoMessage): void {
    const isObserver = this.cfg.observers.includes(m.from);
    if (m.observer !== isObserver) return;
    const old = this.learners.get(m.from);
    if (old && old.attempt === m.attempt) {
      old.lastHeardTick = this.ticks;
      return; // a resend
    }
    const l: LearnerHandle = {
      id: m.from,
      observer: isObserver,
      attempt: m.attempt,
      acceptedEpoch: m.acceptedEpoch,
      stage: "info",
      lastHeardTick: this.ticks,
      ackEpoch: null,
      informedZxid: 0n,
      confirmedRound: 0,
    };
    this.learners.set(m.from, l);
    if (this.leaderPhase === "collectingInfo") {
      if (!isObserver) {
        this.infoFrom.add(m.from);
        if (m.acceptedEpoch > this.maxAcceptedEpoch) this.maxAcceptedEpoch = m.acceptedEpoch;
        this.checkInfoQuorum();
      }
    } else if (!isObserver && m.acceptedEpoch > this.epochValue) {
      // The voter accepted a newer epoch from a would-be leader that failed; it would refuse ours forever
      // (ZooKeeper's Learner throws, and retries until the leader changes). Like a Raft leader seeing a
      // higher term, step down so the next election picks an epoch above it.
      this.becomeLooking("a voter accepted a newer epoch");
    } else {
      this.sendNewEpoch(l);
    }
  }

  /** Leader.getEpochToPropose: a quorum has reported acceptedEpoch; propose one past the largest. */
  private checkInfoQuorum(): void {
    if (this.leaderPhase !== "collectingInfo" || !this.isQuorum(this.infoFrom)) return;
    const epoch = this.maxAcceptedEpoch + 1;
    assert(epoch > this.acceptedEpoch && epoch < 2 ** 32, "new epoch out of range");
    this.acceptedEpoch = epoch;
    this.epochsDirty = true;
    this.epochValue = epoch;
    this.roleDirty = true;
    this.leaderPhase = "collectingAckEpoch";
    this.ackEpochFrom = new Set([this.cfg.id]);
    for (const l of this.learners.values()) if (l.stage === "info") this.sendNewEpoch(l);
    this.checkAckEpochQuorum();
  }

  private sendNewEpoch(l: LearnerHandle): void {
    l.stage = "epochSent";
    this.send({ type: "newEpoch", from: this.cfg.id, to: l.id, attempt: l.attempt, epoch: this.epochValue });
  }

  /** Leader.waitForEpochAck. */
  private onAckEpoch(l: LearnerHandle, m: AckEpochMessage): void {
    if (l.stage !== "epochSent" || m.epoch !== this.epochValue) return;
    l.stage = "ackedEpoch";
    l.ackEpoch = m;
    if (this.leaderPhase !== "collectingAckEpoch") return this.syncLearner(l);
    if (l.observer || !m.fresh) return; // may sync once established, but does not count
    const ours = { leader: this.cfg.id, epoch: this.currentEpoch, zxid: this.log.lastZxid() };
    const theirs = { leader: this.cfg.id, epoch: m.currentEpoch, zxid: m.lastZxid };
    if (compareVotes(theirs, ours) > 0) return this.becomeLooking("a follower is ahead of the leader");
    this.ackEpochFrom.add(l.id);
    this.checkAckEpochQuorum();
  }

  private checkAckEpochQuorum(): void {
    if (this.leaderPhase !== "collectingAckEpoch" || !this.isQuorum(this.ackEpochFrom)) return;
    this.leaderPhase = "awaitingNewLeaderAcks";
    this.initialZxid = this.log.lastZxid();
    this.newLeaderAcked = new Set();
    this.acked = new Map();
    for (const l of this.learners.values()) if (l.stage === "ackedEpoch") this.syncLearner(l);
    this.checkEstablished();
  }

  /** LearnerHandler.syncFollower: bring the learner to our history (followers) or commit point (observers). */
  private syncLearner(l: LearnerHandle): void {
    const ack = l.ackEpoch;
    assert(ack !== null && l.stage === "ackedEpoch", "sync before ACKEPOCH");
    const base = this.log.baseZxid();
    const last = this.log.lastZxid();
    const target = l.observer ? this.committed : last;
    const peer = ack.lastZxid;
    const common = {
      from: this.cfg.id,
      to: l.id,
      attempt: l.attempt,
      epoch: this.epochValue,
      committedZxid: this.committed,
    };
    let msg: DiffMessage | TruncMessage | SnapMessage | null = null;
    let syncZxid: bigint;
    if (peer >= base) {
      // Our history and the learner's agree up to the last zxid we share (zxids are unique per epoch).
      const shared = peer > last ? last : this.log.floor(peer);
      assert(!l.observer || shared === peer, "an observer holds history its leader does not");
      syncZxid = shared > target ? shared : target;
      const entries = this.log.entriesBetween(shared, target, syncDiffEntriesMax + 1);
      if (entries.length <= syncDiffEntriesMax) {
        msg =
          shared === peer
            ? { ...common, type: "diff", entries }
            : { ...common, type: "trunc", truncZxid: shared, entries };
      }
    } else {
      syncZxid = target;
    }
    if (msg === null) {
      const snapshot = this.snapshots.snapshot();
      assert(snapshot.zxid >= base && snapshot.zxid <= this.committed, "snapshot outside the log's range");
      if (snapshot.zxid < ack.committedZxid) {
        // A SNAP would roll back what it applied: send the long DIFF after all.
        assert(peer >= base, "learner behind our log but ahead of our snapshot");
        const entries = this.log.entriesBetween(peer, target, Number.MAX_SAFE_INTEGER);
        msg = { ...common, type: "diff", entries };
      } else {
        const entries = this.log.entriesBetween(snapshot.zxid, target, Number.MAX_SAFE_INTEGER);
        msg = { ...common, type: "snap", snapshot, entries };
      }
    }
    this.counters[msg.type === "diff" ? "diffs" : msg.type === "trunc" ? "truncs" : "snaps"]++;
    this.send(msg);
    this.send({
      type: "newLeader",
      from: this.cfg.id,
      to: l.id,
      attempt: l.attempt,
      epoch: this.epochValue,
      zxid: syncZxid,
    });
    l.stage = "syncSent";
    l.informedZxid = syncZxid;
  }

  /** ACK: cumulative and durable, so counted whatever the attempt; the first after sync acks NEWLEADER. */
  private onAck(l: LearnerHandle, m: AckMessage): void {
    if (m.epoch !== this.epochValue || phaseBefore(this.leaderPhase, "awaitingNewLeaderAcks")) return;
    // An observer acks NEWLEADER to get UPTODATE; its acks never count toward a quorum.
    if (!l.observer && m.zxid > (this.acked.get(l.id) ?? -1n)) this.acked.set(l.id, m.zxid);
    if (m.round !== undefined && m.round > l.confirmedRound) l.confirmedRound = m.round;
    if (m.attempt === l.attempt && l.stage === "syncSent") {
      l.stage = "acked";
      if (!l.observer) this.newLeaderAcked.add(l.id);
      if (this.leaderPhase === "broadcast") this.sendUpToDate(l);
      this.checkEstablished();
    } else if (m.attempt === l.attempt && l.stage === "acked" && this.leaderPhase === "broadcast") {
      this.sendUpToDate(l); // the learner is still waiting for it
    }
    if (this.leaderPhase === "broadcast") this.advanceCommit();
  }

  private sendUpToDate(l: LearnerHandle): void {
    this.send({ type: "upToDate", from: this.cfg.id, to: l.id, attempt: l.attempt, epoch: this.epochValue });
    if (!l.observer)
      this.send({
        type: "commit",
        from: this.cfg.id,
        to: l.id,
        epoch: this.epochValue,
        zxid: this.committed,
      });
  }

  /** The leader's own durable ack: the part of its log already in storage (etcd's self MsgAppResp). */
  private selfAck(): bigint {
    return this.log.stableLastZxid();
  }

  /** Leader.waitForNewLeaderAck: a quorum holds our history in our epoch; set currentEpoch, broadcast. */
  private checkEstablished(): void {
    if (this.leaderPhase !== "awaitingNewLeaderAcks") return;
    const acks = new Set(this.newLeaderAcked);
    if (this.selfAck() >= this.initialZxid) acks.add(this.cfg.id);
    if (!this.isQuorum(acks)) return;
    this.leaderPhase = "broadcast";
    this.currentEpoch = this.epochValue;
    this.epochsDirty = true;
    this.roleDirty = true;
    assert(zxidEpoch(this.initialZxid) < this.epochValue, "history from our own epoch before we led it");
    this.counter = 0;
    for (const l of this.learners.values()) if (l.stage === "acked") this.sendUpToDate(l);
    this.advanceCommit();
  }

  /** Commit the largest zxid a quorum of voters (us included) has durably logged in our epoch. */
  private advanceCommit(): void {
    assert(this.leaderPhase === "broadcast", "commit before the epoch is established");
    const acks: bigint[] = [this.selfAck()];
    for (const v of this.cfg.voters) if (v !== this.cfg.id) acks.push(this.acked.get(v) ?? -1n);
    acks.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const q = acks[this.quorumSize - 1]!;
    if (q <= this.committed) return;
    assert(q <= this.log.lastZxid() && q >= this.initialZxid, "commit point outside our history");
    this.committed = q;
    for (const l of this.learners.values()) {
      if (l.stage !== "syncSent" && l.stage !== "acked") continue;
      if (!l.observer) {
        this.send({ type: "commit", from: this.cfg.id, to: l.id, epoch: this.epochValue, zxid: q });
        continue;
      }
      let prev = l.informedZxid;
      for (const e of this.log.entriesBetween(prev, q, Number.MAX_SAFE_INTEGER)) {
        this.send({
          type: "inform",
          from: this.cfg.id,
          to: l.id,
          epoch: this.epochValue,
          prevZxid: prev,
          zxid: e.zxid,
          data: e.data,
        });
        prev = e.zxid;
      }
      l.informedZxid = prev;
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Queues `m` for the next Ready. A COMMIT, and an ACK that only reports log progress, say "everything up to
   * zxid": a newer one to the same peer in the same epoch takes the place of one still queued, and goes out
   * where the newer one was sent (later, never earlier). A follower that logs a group commit's proposals
   * acks once, and the leader commits once per peer per Ready, instead of once per txn.
   */
  private send(m: Message): void {
    if (isCumulative(m)) {
      const slot = this.cumulativeSlot.get(m.to);
      if (slot !== undefined) {
        const prev = this.outbox[slot];
        if (prev?.type === m.type && prev.epoch === m.epoch && prev.zxid <= m.zxid) this.outbox[slot] = null;
      }
      this.cumulativeSlot.set(m.to, this.outbox.length);
    }
    this.outbox.push(m);
  }

  private isMember(id: number): boolean {
    return this.cfg.voters.includes(id) || this.cfg.observers.includes(id);
  }

  /** A quorum of voters (QuorumMaj.containsQuorum); observers in `ids` never count. */
  private isQuorum(ids: ReadonlySet<number>): boolean {
    let n = 0;
    for (const v of this.cfg.voters) if (ids.has(v)) n++;
    return n >= this.quorumSize;
  }
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.epoch === b.epoch && a.zxid === b.zxid;
}

const leaderPhaseRank: Record<LeaderPhase, number> = {
  collectingInfo: 0,
  collectingAckEpoch: 1,
  awaitingNewLeaderAcks: 2,
  broadcast: 3,
};
/** A COMMIT, or a plain ACK (not answering NEWLEADER or a ping round): a later one supersedes it. */
function isCumulative(m: Message): m is CommitMessage | AckMessage {
  return m.type === "commit" || (m.type === "ack" && m.attempt === undefined && m.round === undefined);
}

function phaseBefore(p: LeaderPhase, q: LeaderPhase): boolean {
  return leaderPhaseRank[p] < leaderPhaseRank[q];
}

/**
 * Splits the outbox into what may go before the Ready's fsync and what must wait, keeping each peer's
 * messages in order: once a message to a peer must wait, so does every later one to that peer.
 */
function splitEarly(outbox: readonly (Message | null)[]): { earlyMessages: Message[]; messages: Message[] } {
  const earlyMessages: Message[] = [];
  const messages: Message[] = [];
  const held = new Set<number>();
  for (const m of outbox) {
    if (m === null) continue;
    const early =
      m.type === "proposal" ||
      m.type === "commit" ||
      m.type === "inform" ||
      (m.type === "ping" && m.sender === "leader");
    if (early && !held.has(m.to)) earlyMessages.push(m);
    else {
      held.add(m.to);
      messages.push(m);
    }
  }
  return { earlyMessages, messages };
}
