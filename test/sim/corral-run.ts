// One seeded run of the whole-stack simulator (VOPR-style): the seed draws the ensemble, its timing, the
// network's and the disks' faults and the client load; a safety phase runs faults and load while invariants
// are checked as they are touched; a liveness phase stops every fault and requires the ensemble to converge;
// then the end-of-run checks (trees, acknowledged writes, sessions, linearizability). A failure throws, and
// classify() tells a crash (an assertion or exception in the code), a liveness failure and a correctness
// failure apart. Test-only.
import { SeededPrng } from "../../src/base/clock.js";
import { zxidHex } from "../../src/base/zxid.js";
import { checkLinearizable } from "../lin/checker.js";
import { HistoryRecorder } from "../lin/history.js";
import { znodeModel } from "../lin/model.js";
import { check, InvariantError, LivenessError, World, type WorldOptions } from "./corral-cluster.js";
import { SimClient, type ClientLedger } from "./sim-client.js";

export type FailureKind = "crash" | "liveness" | "correctness";

/** Process exit codes of scripts/sim.js, TigerBeetle's VOPR style: one per kind of failure. */
export const exitCodes: Record<FailureKind | "ok", number> = { ok: 0, crash: 2, liveness: 3, correctness: 4 };

export function classify(e: unknown): FailureKind {
  if (e instanceof LivenessError) return "liveness";
  if (e instanceof InvariantError) return "correctness";
  return "crash";
}

export interface RunOptions {
  /** Ticks of faults and load (default drawn from the seed, 150..250). */
  safetyTicks?: number;
  /** Time box for the linearizability check of this run, ms (a timeout is reported, not failed). */
  linTimeoutMs?: number;
  /** Every tree digested after every apply. */
  digestEveryApply?: boolean;
  log?: (line: string) => void;
  /**
   * Known Corral bugs to steer around so a long run finds others. "null-data" (creates always carry data)
   * steered around snapshots that turned null data into empty data; that is fixed, and the switch stays for
   * the next such bug.
   */
  avoid?: ReadonlySet<string>;
}

/** The workarounds `avoid` accepts. */
export const knownBugs = ["null-data"] as const;

export interface RunResult {
  seed: number;
  commits: number;
  epochs: number;
  ops: number;
  indeterminate: number;
  crashes: number;
  tornWrites: number;
  tornDiscarded: number;
  /** Client writes and session creations a learner forwarded to its leader, and syncs it asked of it. */
  forwarded: number;
  syncs: number;
  /** The linearizability check ran out of time (no verdict: not a failure, but not a pass either). */
  linUnknown: boolean;
  description: string;
}

const livenessTicksMax = 600;

export function runCorralSeed(seed: number, options: RunOptions = {}): RunResult {
  const r = new SeededPrng(seed);
  const voters = r.below(3) === 0 ? [1, 2, 3, 4, 5] : [1, 2, 3];
  const observers = r.below(4) === 0 ? [9] : [];
  const ids = [...voters, ...observers];
  const diskLatencyTicksMax = new Map<number, number>();
  for (const id of ids) diskLatencyTicksMax.set(id, r.below(3) === 0 ? 2 + r.below(5) : r.below(2));
  const wopts: WorldOptions = {
    seed: r.nextUint32(),
    voters,
    observers,
    electionTicks: 8 + r.below(8),
    syncLimitTicks: 4 + r.below(5),
    dropRate: r.below(4) === 0 ? 0 : r.below(8) / 100,
    dupRate: r.below(5) / 100,
    maxDelayTicks: r.below(4),
    diskLatencyTicksMax,
    tearChance: 0.5,
    sessionTimeoutTicks: 40,
    digestEveryApply: options.digestEveryApply ?? false,
    log: options.log,
  };
  const crashPct = 1 + r.below(4);
  const partitionPct = r.below(4);
  const drawnTicks = 150 + r.below(101); // drawn even when overridden, so the rest of the seed is the same
  const safetyTicks = options.safetyTicks ?? drawnTicks;
  const clientCount = 3 + r.below(6);
  const keyCount = 2 + r.below(3);
  const keys = Array.from({ length: keyCount }, (_, i) => `/k${i}`);
  const description =
    `voters ${voters.length}, observers ${observers.length}, election ${wopts.electionTicks}, ` +
    `syncLimit ${wopts.syncLimitTicks}, drop ${wopts.dropRate}, dup ${wopts.dupRate}, delay ${wopts.maxDelayTicks}, ` +
    `disks [${[...diskLatencyTicksMax.values()].join(",")}], crash ${crashPct}%, partition ${partitionPct}%, ` +
    `${clientCount} clients, ${keyCount} keys, ${safetyTicks} ticks`;
  options.log?.(`seed ${seed}: ${description}`);

  const w = new World(wopts);
  const clock = { now: 0 };
  const ledger: ClientLedger = {
    recorder: new HistoryRecorder(() => clock.now),
    clock,
    acked: [],
    sequentials: [],
    ephemerals: [],
    closedByClient: new Set(),
    indeterminate: 0,
    completed: 0,
  };
  const requestTimeoutTicks = 2 * wopts.syncLimitTicks + 2 * wopts.maxDelayTicks + 8;
  const clients: SimClient[] = [];
  for (let i = 0; i < clientCount; i++) {
    const c = new SimClient(100 + i, r.nextUint32(), w, ledger, keys, requestTimeoutTicks, options.avoid);
    clients.push(c);
    w.clients.set(c.id, c);
  }
  const pick = (xs: number[]): number => xs[r.below(xs.length)]!;

  // ---- safety phase: faults and load ----
  for (let t = 0; t < safetyTicks; t++) {
    const up = ids.filter((id) => w.server(id).up);
    const down = ids.filter((id) => !w.server(id).up);
    const roll = r.below(100);
    if (roll < crashPct && up.length > 1) w.crash(pick(up));
    else if (roll >= 10 && roll < 18 && down.length > 0) w.restart(pick(down));
    else if (roll >= 20 && roll < 20 + partitionPct) w.isolate(pick(ids));
    else if (roll >= 30 && roll < 30 + partitionPct) w.cutLink(pick(ids), pick(ids));
    else if (roll >= 40 && roll < 40 + partitionPct / 2)
      w.cutLink(pick(ids), clients[r.below(clients.length)]!.id);
    else if (roll >= 50 && roll < 58) w.heal();
    else if (roll >= 60 && roll < 63 && up.length > 0) w.snapshot(pick(up));
    else if (roll >= 70 && roll < 70 + crashPct) {
      // Crash a server in the middle of a disk write: a prefix survives, the last record may be torn.
      const writing = up.filter((id) => w.server(id).inReady !== null);
      if (writing.length > 0 && up.length > 1) w.crash(pick(writing));
    }
    w.tick();
    for (const c of clients) c.tick();
    if (t % 25 === 0) w.checkDurability();
  }

  // ---- liveness phase: no faults; everyone must converge on one leader and one history ----
  w.calm();
  for (const id of ids) w.restart(id);
  for (const c of clients) c.stopped = true;
  const run = (pred: () => boolean, what: string): void => {
    for (let i = 0; i < livenessTicksMax; i++) {
      if (pred()) return;
      w.tick();
      for (const c of clients) c.tick();
    }
    if (!pred()) throw new LivenessError(`seed ${seed}: ${what} within ${livenessTicksMax} ticks of calm`);
  };
  run(() => clients.every((c) => c.idle), "clients' requests did not settle");
  run(
    () => w.activeLeader() !== null && ids.every((id) => w.server(id).node.isUpToDate),
    "no serving leader with every server up to date",
  );
  // A probe through the whole stack: a client session and a write must commit and reach every server.
  const probe = new SimClient(
    99,
    r.nextUint32(),
    w,
    ledger,
    ["/probe"],
    requestTimeoutTicks * 4,
    options.avoid,
  );
  w.clients.set(probe.id, probe);
  const committedBefore = w.committed.length;
  run(() => {
    probe.tick();
    return w.committed.length > committedBefore && probe.idle;
  }, "a new session did not commit");
  const target = w.committed.at(-1)!.zxid;
  run(
    () => ids.every((id) => w.server(id).tree.lastProcessedZxid >= target && w.server(id).inReady === null),
    `servers did not all apply ${zxidHex(target)}`,
  );
  run(() => {
    const z = w.server(ids[0]!).tree.lastProcessedZxid;
    const leader = w.activeLeader();
    return (
      leader !== null &&
      leader.node.lastZxid === z &&
      ids.every((id) => w.server(id).tree.lastProcessedZxid === z && w.server(id).inReady === null)
    );
  }, "servers did not settle on one applied zxid");

  // ---- end-of-run checks ----
  w.checkDurability();
  const final = w.server(ids[0]!).tree;
  for (const id of ids) w.checkDigest(id, w.server(id).tree);
  const last = w.committed.at(-1)!;
  check(
    final.lastProcessedZxid === last.zxid,
    `final trees at ${zxidHex(final.lastProcessedZxid)}, history ends at ${zxidHex(last.zxid)}`,
  );
  for (const a of ledger.acked) {
    const txn = w.committedTxn(a.zxid);
    check(
      txn !== undefined,
      `acknowledged ${a.what} (session ${a.sessionId} xid ${a.xid}) at ${zxidHex(a.zxid)} never committed`,
    );
    check(
      txn.header.clientId === a.sessionId && txn.header.cxid === a.xid,
      `acknowledged ${a.what} (session ${a.sessionId} xid ${a.xid}) but ${zxidHex(a.zxid)} is session ${txn.header.clientId} xid ${txn.header.cxid}`,
    );
  }
  const seqSeen = new Set<string>();
  for (const p of ledger.sequentials) {
    check(!seqSeen.has(p), `sequential ${p} acknowledged twice`);
    seqSeen.add(p);
    check(final.getNode(p) !== undefined, `acknowledged sequential ${p} missing from the final tree`);
  }
  for (const sessionId of final.sessionsWithEphemerals()) {
    check(
      final.sessions.has(sessionId),
      `session ${sessionId} is closed but owns ${final.getEphemerals(sessionId).join(",")}`,
    );
  }
  for (const id of w.closedSessions)
    check(!final.sessions.has(id), `session ${id} closed but still in the tree`);
  for (const id of ledger.closedByClient) {
    check(!final.sessions.has(id), `session ${id}'s close was acknowledged but it is still open`);
    check(
      final.getEphemerals(id).length === 0,
      `session ${id}'s close was acknowledged but its ephemerals remain`,
    );
  }
  for (const e of ledger.ephemerals) {
    if (!final.sessions.has(e.sessionId)) continue;
    const n = final.getNode(e.path);
    check(
      n !== undefined && n.stat.ephemeralOwner === e.sessionId,
      `acknowledged ephemeral ${e.path} of live session ${e.sessionId} missing`,
    );
  }
  // Final reads, after every client stopped: what every server now holds.
  clock.now = ++w.events;
  for (const key of keys) {
    const h = ledger.recorder.invoke("final", key, "read", null);
    const n = final.getNode(key);
    clock.now = ++w.events;
    ledger.recorder.complete(
      h,
      n === undefined
        ? "noNode"
        : {
            exists: true,
            value: n.data === null ? "" : new TextDecoder().decode(n.data),
            version: n.stat.version,
          },
    );
  }
  const history = ledger.recorder.history();
  const lin = checkLinearizable(history, znodeModel(), { timeoutMs: options.linTimeoutMs ?? 2000 });
  if (lin.ok === false)
    throw new InvariantError(`seed ${seed}: client history not linearizable\n${lin.explanation}`);
  let tornDiscarded = 0;
  for (const id of ids) tornDiscarded += w.server(id).disk.tornDiscarded;
  return {
    seed,
    commits: w.committed.length,
    epochs: w.epochsSeen(),
    ops: history.length,
    indeterminate: ledger.indeterminate,
    crashes: w.stats.crashes,
    tornWrites: w.stats.tornWrites,
    tornDiscarded,
    forwarded: w.stats.forwarded,
    syncs: w.stats.syncRequests,
    linUnknown: lin.ok === "unknown",
    description,
  };
}
