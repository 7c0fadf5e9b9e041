// The ZAB wire vocabulary between peers, as a union on `type`. Pure: data only, no I/O.
//
// Names follow ZooKeeper's (FastLeaderElection.Notification, Leader.FOLLOWERINFO, LEADERINFO (here
// `newEpoch`), ACKEPOCH, DIFF, TRUNC, SNAP, NEWLEADER, ACK, UPTODATE, PROPOSAL, COMMIT, INFORM, PING).
// Unlike ZooKeeper, which relies on TCP's FIFO delivery, every message carries what the receiver needs
// to reject it when stale, duplicated or reordered: the epoch, and during the handshake the learner's
// `attempt` nonce; proposals and informs name their predecessor (`prevZxid`) so a learner appends only
// contiguous history.

/** One transaction: opaque bytes (an encoded Txn) tagged with its zxid. */
export interface LogEntry {
  readonly zxid: bigint;
  readonly data: Uint8Array;
}

/** A snapshot of the applied state as of `zxid` (opaque bytes produced by the shell). */
export interface Snapshot {
  readonly zxid: bigint;
  readonly data: Uint8Array;
}

/** A peer's state as reported in election notifications (ZooKeeper's ServerState). */
export type PeerState = "looking" | "following" | "leading" | "observing";

/** A vote: the proposed leader and the history it was judged by (FastLeaderElection's Vote). */
export interface Vote {
  /** Proposed leader's server id; -1 for an observer's empty vote. */
  readonly leader: number;
  /** The proposed leader's currentEpoch (ZooKeeper's peerEpoch). */
  readonly epoch: number;
  /** The proposed leader's last logged zxid. */
  readonly zxid: bigint;
}

interface Envelope {
  readonly from: number;
  readonly to: number;
}

/** FastLeaderElection notification: the sender's vote, election round (logicalclock) and state. */
export interface NotificationMessage extends Envelope {
  readonly type: "notification";
  readonly round: number;
  readonly state: PeerState;
  readonly vote: Vote;
}

/** Learner → leader, first message of a join attempt (FOLLOWERINFO / OBSERVERINFO). */
export interface FollowerInfoMessage extends Envelope {
  readonly type: "followerInfo";
  readonly attempt: number;
  readonly acceptedEpoch: number;
  readonly observer: boolean;
}

/** Leader → learner: the epoch it proposes (LEADERINFO). */
export interface NewEpochMessage extends Envelope {
  readonly type: "newEpoch";
  readonly attempt: number;
  readonly epoch: number;
}

/** Learner → leader (ACKEPOCH). `fresh` is false when the learner had already accepted this epoch:
 * such an ack lets it sync but does not count toward the quorum that establishes the epoch. */
export interface AckEpochMessage extends Envelope {
  readonly type: "ackEpoch";
  readonly attempt: number;
  readonly epoch: number;
  readonly fresh: boolean;
  readonly currentEpoch: number;
  readonly lastZxid: bigint;
  readonly committedZxid: bigint;
}

interface SyncBase extends Envelope {
  readonly attempt: number;
  readonly epoch: number;
  /** The leader's history after the sync point, in order. */
  readonly entries: readonly LogEntry[];
  /** The leader's commit point when it sent this. */
  readonly committedZxid: bigint;
}

/** Leader → learner: append `entries` after your last zxid (DIFF). */
export interface DiffMessage extends SyncBase {
  readonly type: "diff";
}

/** Leader → learner: drop everything after `truncZxid`, then append `entries` (TRUNC, then DIFF). */
export interface TruncMessage extends SyncBase {
  readonly type: "trunc";
  readonly truncZxid: bigint;
}

/** Leader → learner: replace your state with `snapshot`, then append `entries` (SNAP). */
export interface SnapMessage extends SyncBase {
  readonly type: "snap";
  readonly snapshot: Snapshot;
}

/** Leader → learner after the sync: your history now ends at `zxid`; adopt `epoch` as currentEpoch. */
export interface NewLeaderMessage extends Envelope {
  readonly type: "newLeader";
  readonly attempt: number;
  readonly epoch: number;
  readonly zxid: bigint;
}

/** Learner → leader: everything up to `zxid` is durably logged and currentEpoch = `epoch`.
 * Cumulative. `attempt` is set when this is the acknowledgement of NEWLEADER. */
export interface AckMessage extends Envelope {
  readonly type: "ack";
  readonly epoch: number;
  readonly zxid: bigint;
  readonly attempt?: number;
  /** The highest leadership-check round of the leader's pings this learner has seen (see PingMessage). */
  readonly round?: number;
}

/** Leader → learner: the epoch is established; serve clients (UPTODATE). */
export interface UpToDateMessage extends Envelope {
  readonly type: "upToDate";
  readonly attempt: number;
  readonly epoch: number;
}

/** Leader → follower: log `zxid` after `prevZxid` (PROPOSAL). */
export interface ProposalMessage extends Envelope {
  readonly type: "proposal";
  readonly epoch: number;
  readonly prevZxid: bigint;
  readonly zxid: bigint;
  readonly data: Uint8Array;
}

/** Leader → follower: everything up to `zxid` is committed (COMMIT; cumulative). */
export interface CommitMessage extends Envelope {
  readonly type: "commit";
  readonly epoch: number;
  readonly zxid: bigint;
}

/** Leader → observer: a committed txn, after `prevZxid` (INFORM). */
export interface InformMessage extends Envelope {
  readonly type: "inform";
  readonly epoch: number;
  readonly prevZxid: bigint;
  readonly zxid: bigint;
  readonly data: Uint8Array;
}

/** Heartbeat both ways (PING). Leader → learner carries its commit point and last proposed zxid. */
export interface PingMessage extends Envelope {
  readonly type: "ping";
  /** Who sent it: a leader's ping is answered, a learner's only proves it alive (never echoed). */
  readonly sender: "leader" | "learner";
  readonly epoch: number;
  readonly committedZxid: bigint;
  readonly lastZxid: bigint;
  /** Leader → learner: a leadership check (ZabNode.confirmLeadership); the learner echoes it in its ack. */
  readonly round?: number;
}

export type Message =
  | NotificationMessage
  | FollowerInfoMessage
  | NewEpochMessage
  | AckEpochMessage
  | DiffMessage
  | TruncMessage
  | SnapMessage
  | NewLeaderMessage
  | AckMessage
  | UpToDateMessage
  | ProposalMessage
  | CommitMessage
  | InformMessage
  | PingMessage;

export type MessageType = Message["type"];

/** Total order of votes, FastLeaderElection.totalOrderPredicate: (epoch, zxid, server id). */
export function compareVotes(a: Vote, b: Vote): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.zxid !== b.zxid) return a.zxid < b.zxid ? -1 : 1;
  if (a.leader !== b.leader) return a.leader < b.leader ? -1 : 1;
  return 0;
}
