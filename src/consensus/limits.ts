// Limits of the consensus core, each with why. Pure: constants only.

/** Committed entries handed to the shell in one Ready; the rest follow in the next. Bounds a Ready's size. */
export const readyCommittedMax = 4096;

/** A learner further behind than this many entries gets a SNAP instead of a DIFF (when a snapshot
 * can serve it): a DIFF is one message, and a snapshot is cheaper to ship than a long history. */
export const syncDiffEntriesMax = 100_000;

/** Proposals the leader holds uncommitted before propose() refuses (backpressure to the shell). */
export const proposalsInFlightMax = 10_000;

/** Proposals/informs a learner holds that arrived ahead of a gap (reordered); past this it resyncs. */
export const reorderBufferMax = 1024;

/** Ticks a voter waits after its vote reaches a quorum for a better one (FastLeaderElection's finalizeWait). */
export const finalizeWaitTicks = 1;

/** Ticks a learner may stay behind a zxid its leader announced before it resyncs (a lost message). */
export const gapTicksMax = 3;

/** Ticks a learner's join attempt (FOLLOWERINFO .. NEWLEADER) may take before it starts another. */
export function handshakeRetryTicks(electionTicks: number): number {
  return Math.max(2, Math.ceil(electionTicks / 2));
}
