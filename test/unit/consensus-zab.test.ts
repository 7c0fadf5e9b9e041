// ZabNode driven through an in-memory network: election, epoch establishment, sync, broadcast.
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeZxid, zxidEpoch } from "../../src/base/zxid.js";
import type { Message } from "../../src/consensus/messages.js";
import type { Ready, ZabNode } from "../../src/consensus/zab-node.js";
import { ZabCluster, type SimServer } from "../sim/zab-cluster.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function elect(c: ZabCluster): number {
  assert.ok(
    c.runUntil(
      () => c.leader() !== null && [...c.servers.values()].every((s) => !s.node || s.node.isUpToDate),
      100,
    ),
    "no leader established",
  );
  return c.leader()!;
}

function commitAll(c: ZabCluster, n: number): bigint[] {
  const zxids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const z = c.propose();
    assert.ok(z !== null, "proposal refused");
    zxids.push(z);
  }
  return zxids;
}

function liveApplied(c: ZabCluster, zxid: bigint): boolean {
  return [...c.servers.values()].every((s) => !s.node || s.applied.some((e) => e.zxid === zxid));
}

function seed(s: SimServer, currentEpoch: number, entries: [number, number][]): void {
  s.epochs = { acceptedEpoch: currentEpoch, currentEpoch };
  s.storage.append(entries.map(([e, n]) => ({ zxid: makeZxid(e, n), data: bytes(`${e}.${n}`) })));
}

test("three fresh voters elect exactly one leader: the highest server id", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  assert.equal(elect(c), 3);
  const roles = [1, 2, 3].map((id) => c.node(id).role).sort();
  assert.deepEqual(roles, ["following", "following", "leading"]);
  assert.equal(c.node(3).epoch, 1);
  for (const id of [1, 2]) assert.equal(c.node(id).leaderId, 3);
});

test("the vote prefers the highest currentEpoch, then the highest last zxid, then the id", () => {
  const byEpoch = new ZabCluster({
    voters: [1, 2, 3],
    init: (s) => {
      if (s.id === 1)
        seed(s, 2, [
          [1, 1],
          [2, 1],
        ]);
      if (s.id === 2)
        seed(s, 1, [
          [1, 1],
          [1, 2],
          [1, 3],
        ]);
    },
  });
  assert.equal(elect(byEpoch), 1);
  assert.equal(byEpoch.node(1).epoch, 3);
  const byZxid = new ZabCluster({
    voters: [1, 2, 3],
    init: (s) => {
      if (s.id === 1) seed(s, 1, [[1, 1]]);
      if (s.id === 2)
        seed(s, 1, [
          [1, 1],
          [1, 2],
        ]);
      if (s.id === 3) seed(s, 1, [[1, 1]]);
    },
  });
  assert.equal(elect(byZxid), 2);
  // The leader's history, uncommitted before, is committed once its epoch is established.
  assert.ok(byZxid.runUntil(() => liveApplied(byZxid, makeZxid(1, 2)), 20));
  byZxid.checkAll();
});

test("proposals commit on a quorum and apply in zxid order everywhere", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  elect(c);
  const zxids = commitAll(c, 20);
  assert.ok(c.runUntil(() => liveApplied(c, zxids[19]!), 20));
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedZxids(id), zxids);
  assert.deepEqual(
    zxids.map((z) => zxidEpoch(z)),
    Array(20).fill(1),
  );
  c.checkAll();
});

test("a leader commits with one follower down, and the follower catches up by DIFF", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  elect(c);
  const before = commitAll(c, 3);
  c.tick(2);
  c.crash(1);
  const during = commitAll(c, 5);
  assert.ok(
    c.runUntil(() => c.server(2).applied.length === 8, 20),
    "two of three commit",
  );
  const diffs = c.messagesByType.get("diff") ?? 0;
  c.restart(1);
  assert.ok(c.runUntil(() => liveApplied(c, during[4]!), 50));
  assert.deepEqual(c.appliedZxids(1), [...before, ...during]);
  assert.ok((c.messagesByType.get("diff") ?? 0) > diffs, "caught up by DIFF");
  assert.equal(c.messagesByType.get("snap") ?? 0, 0);
  assert.equal(c.messagesByType.get("trunc") ?? 0, 0);
  c.checkAll();
});

test("a former leader's uncommitted proposals are TRUNCated when it rejoins", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  assert.equal(elect(c), 3);
  const committed = commitAll(c, 2);
  c.tick(2);
  c.isolate(3);
  const lost = commitAll(c, 2); // logged by 3 alone
  c.crash(3);
  c.heal();
  assert.ok(
    c.runUntil(() => c.leader() === 2, 100),
    "the others elect 2",
  );
  assert.ok(c.node(2).epoch > 1);
  const later = commitAll(c, 2);
  assert.ok(c.runUntil(() => liveApplied(c, later[1]!), 20));
  c.restart(3);
  assert.ok(c.runUntil(() => c.node(3).isUpToDate && liveApplied(c, later[1]!), 100));
  assert.ok((c.messagesByType.get("trunc") ?? 0) > 0, "TRUNC sent");
  const log3 = c
    .server(3)
    .storage.all()
    .map((e) => e.zxid);
  for (const z of lost) assert.ok(!log3.includes(z), "uncommitted entry dropped");
  assert.deepEqual(c.appliedZxids(3), [...committed, ...later]);
  c.checkAll();
});

test("a follower behind the leader's snapshot is brought up by SNAP", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  elect(c);
  commitAll(c, 2);
  c.tick(2);
  c.crash(1);
  const during = commitAll(c, 10);
  assert.ok(c.runUntil(() => c.server(3).applied.length === 12 && c.server(2).applied.length === 12, 20));
  c.compact(2);
  c.compact(3);
  c.restart(1);
  assert.ok(c.runUntil(() => liveApplied(c, during[9]!), 100));
  assert.ok((c.messagesByType.get("snap") ?? 0) > 0, "SNAP sent");
  assert.equal(c.server(1).storage.snapshotZxid(), during[9]!);
  const after = commitAll(c, 1);
  assert.ok(c.runUntil(() => liveApplied(c, after[0]!), 20));
  c.checkAll();
});

test("after the leader crashes a new leader takes a higher epoch and every committed entry survives", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  const first = elect(c);
  const committed = commitAll(c, 5);
  assert.ok(c.runUntil(() => liveApplied(c, committed[4]!), 20));
  c.crash(first);
  assert.ok(c.runUntil(() => c.leader() !== null && c.leader() !== first, 100));
  const second = c.leader()!;
  assert.ok(c.node(second).epoch > 1);
  const more = commitAll(c, 3);
  assert.equal(zxidEpoch(more[0]!), c.node(second).epoch);
  assert.ok(c.runUntil(() => liveApplied(c, more[2]!), 20));
  c.restart(first);
  assert.ok(c.runUntil(() => liveApplied(c, more[2]!) && c.node(first).isUpToDate, 100));
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedZxids(id), [...committed, ...more]);
  c.checkAll();
});

test("a leader cut off with a minority steps down after syncLimit ticks and commits nothing", () => {
  const c = new ZabCluster({ voters: [1, 2, 3], syncLimitTicks: 5 });
  const old = elect(c);
  const committed = commitAll(c, 1);
  c.tick(2);
  c.isolate(old);
  const stranded = c.node(old).propose(bytes("stranded"));
  assert.equal(typeof stranded, "bigint");
  c.flush(c.server(old));
  let ticks = 0;
  while (c.node(old).role === "leading" && ticks < 20) {
    c.tick();
    ticks++;
  }
  assert.equal(c.node(old).role, "looking");
  assert.ok(ticks <= 5 + 2, `stepped down after ${ticks} ticks`);
  assert.ok(c.node(old).committedZxid < (stranded as bigint));
  assert.ok(c.runUntil(() => c.leader() !== null && c.leader() !== old, 100));
  c.heal();
  const more = commitAll(c, 1);
  assert.ok(c.runUntil(() => liveApplied(c, more[0]!) && c.node(old).isUpToDate, 100));
  assert.ok(!c.history.some((e) => e.zxid === stranded), "the stranded proposal never commits");
  assert.deepEqual(c.appliedZxids(old), [...committed, ...more]);
  c.checkAll();
});

test("a leadership check is confirmed once a quorum of followers answers it, and never by observers", () => {
  const c = new ZabCluster({ voters: [1, 2, 3], observers: [4, 5] });
  const l = elect(c);
  const r = c.node(l).confirmLeadership();
  assert.ok(r > 0);
  c.flush(c.server(l));
  assert.ok(c.node(l).confirmedRound < r, "confirmed before any follower answered");
  assert.ok(
    c.runUntil(() => c.node(l).confirmedRound >= r, 5),
    "a healthy quorum confirms within a few ticks",
  );
  // One follower is enough with the leader; cut both and no check confirms even though observers answer.
  for (const f of [1, 2, 3].filter((id) => id !== l)) c.cutLink(l, f);
  const r2 = c.node(l).confirmLeadership();
  c.flush(c.server(l));
  c.tick(3);
  assert.ok(c.node(l).confirmedRound < r2);
  assert.equal(c.node(1 === l ? 2 : 1).confirmLeadership(), 0, "a follower cannot start a check");
});

test("a deposed leader never confirms a check issued after it was cut off, while a new leader commits", () => {
  for (const seedNo of [1, 2, 3, 4, 5]) {
    const c = new ZabCluster({ voters: [1, 2, 3, 4, 5], syncLimitTicks: 5, seed: seedNo, maxDelayTicks: 1 });
    const old = elect(c);
    commitAll(c, 2);
    c.tick(3);
    c.isolate(old);
    const r = c.node(old).confirmLeadership();
    c.flush(c.server(old));
    let newLeaderCommitted = false;
    for (let t = 0; t < 100 && !newLeaderCommitted; t++) {
      c.tick();
      assert.ok(c.node(old).confirmedRound < r, `seed ${seedNo}: the cut-off leader confirmed round ${r}`);
      const now = c.leader();
      if (now !== null && now !== old) {
        const z = c.propose();
        newLeaderCommitted = z !== null && c.runUntil(() => c.node(now).committedZxid >= z, 20);
      }
    }
    assert.ok(newLeaderCommitted, `seed ${seedNo}: the majority elected a leader and committed`);
    assert.ok(c.node(old).confirmedRound < r);
    c.checkAll();
  }
});

test("the counters metrics read: proposals and DIFFs at the leader, proposals and commits at followers", () => {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  const l = elect(c);
  const zxids = commitAll(c, 5);
  assert.ok(c.runUntil(() => liveApplied(c, zxids[4]!), 20));
  const leader = c.node(l).counters;
  assert.equal(leader.proposals, 5);
  assert.equal(leader.commits, 5);
  assert.equal(leader.diffs + leader.truncs + leader.snaps, 2, "each follower synced once");
  for (const id of [1, 2, 3].filter((x) => x !== l)) {
    const f = c.node(id).counters;
    assert.equal(f.proposals, 0);
    assert.equal(f.learnerProposalsReceived, 5);
    assert.equal(f.commits, 5);
    assert.ok(f.lookings >= 1);
  }
});

test("a follower acks a batch of proposals once, and the leader commits it to each follower once", () => {
  const sent: Message[] = [];
  const c = new ZabCluster({ voters: [1, 2, 3], stepAllThenReady: true, onSend: (m) => sent.push(m) });
  const l = elect(c);
  const leader = c.server(l);
  sent.length = 0;
  const zxids: bigint[] = [];
  for (let i = 0; i < 10; i++) zxids.push(leader.node!.propose(bytes(`batch ${i}`)) as bigint);
  c.flush(leader); // one Ready: ten proposals to each follower, stepped by each before its next Ready
  assert.ok(c.runUntil(() => liveApplied(c, zxids[9]!), 20));
  const last = zxids[9]!;
  // Answers to the leader's pings are acks of the last zxid too: what matters is that none is per proposal.
  const acks = sent.filter((m) => m.type === "ack");
  const commits = sent.filter((m) => m.type === "commit");
  assert.equal(sent.filter((m) => m.type === "proposal").length, 20);
  assert.deepEqual(
    [...new Set(acks.map((m) => `${m.from}@${m.type === "ack" && m.zxid}`))].sort(),
    [1, 2, 3].filter((id) => id !== l).map((id) => `${id}@${last}`),
    "followers ack the last zxid only",
  );
  assert.deepEqual(
    commits.map((m) => m.type === "commit" && m.zxid),
    [last, last],
    "one commit per follower",
  );
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedZxids(id), zxids);
  c.checkAll();
});

test("observers learn commits by INFORM, and their acks never make a quorum", () => {
  const c = new ZabCluster({ voters: [1, 2, 3], observers: [4, 5] });
  elect(c);
  assert.equal(c.node(4).role, "observing");
  const zxids = commitAll(c, 4);
  assert.ok(c.runUntil(() => liveApplied(c, zxids[3]!), 20));
  assert.deepEqual(c.appliedZxids(4), zxids);
  assert.ok((c.messagesByType.get("inform") ?? 0) > 0);
  const leader = c.leader()!;
  for (const id of [1, 2, 3]) if (id !== leader) c.crash(id);
  const z = c.node(leader).propose(bytes("needs a voter"));
  assert.equal(typeof z, "bigint");
  c.tick(3);
  for (const id of [leader, 4, 5])
    assert.ok(!c.server(id).applied.some((e) => e.zxid === z), "observers do not count");
  c.checkAll();
});

test("five voters commit with two down, and not with three down", () => {
  const c = new ZabCluster({ voters: [1, 2, 3, 4, 5] });
  const leader = elect(c);
  const others = [1, 2, 3, 4, 5].filter((id) => id !== leader);
  c.crash(others[0]!);
  c.crash(others[1]!);
  const ok = commitAll(c, 2);
  assert.ok(
    c.runUntil(() => liveApplied(c, ok[1]!), 20),
    "three of five commit",
  );
  c.crash(others[2]!);
  const z = c.node(leader).propose(bytes("two of five"));
  assert.equal(typeof z, "bigint");
  c.tick(3);
  assert.ok(c.node(leader).committedZxid < (z as bigint), "two of five do not commit");
  c.tick(10);
  assert.notEqual(c.node(leader).role, "leading");
  c.checkAll();
});

test("a single voter is an ensemble of one: it leads and commits its own log", () => {
  const c = new ZabCluster({
    voters: [7],
    init: (s) =>
      seed(s, 1, [
        [1, 1],
        [1, 2],
      ]),
  });
  assert.equal(c.leader(), 7);
  assert.deepEqual(c.appliedZxids(7), [makeZxid(1, 1), makeZxid(1, 2)]);
  const z = c.propose()!;
  assert.equal(z, makeZxid(2, 1));
  assert.deepEqual(c.appliedZxids(7).at(-1), z);
});

/** Three voters with a leader, one committed entry everywhere, and one follower to drive by hand. */
function settledTrio(): { c: ZabCluster; l: number; f: number; leader: ZabNode; follower: ZabNode } {
  const c = new ZabCluster({ voters: [1, 2, 3] });
  const l = elect(c);
  const f = [1, 2, 3].find((id) => id !== l)!;
  const [z0] = commitAll(c, 1);
  assert.ok(c.runUntil(() => liveApplied(c, z0!), 20));
  return { c, l, f, leader: c.node(l), follower: c.node(f) };
}

test("while the leader's own write is in flight, an ack commits only what it has durably logged", () => {
  const { c, l, f, leader, follower } = settledTrio();
  /** The follower logs what it was sent (its own Ready done at once) and returns its ack. */
  const logAtFollower = (msgs: readonly Message[]): Message => {
    for (const m of msgs) if (m.to === f) follower.step(m);
    const r = follower.ready();
    c.server(f).storage.append(r.entriesToAppend);
    follower.advance(r);
    const ack = r.messages.find((m) => m.type === "ack");
    assert.ok(ack, "the follower acks what it logged");
    return ack;
  };
  const persistAtLeader = (r: Ready): void => {
    c.server(l).storage.append(r.entriesToAppend);
    leader.advance(r);
  };

  // z1 is proposed and the leader's write of it starts; the follower logs it and acks before that write ends.
  const z1 = leader.propose(bytes("one")) as bigint;
  const r1 = leader.ready();
  const ack1 = logAtFollower(r1.earlyMessages);
  assert.equal(leader.canStepDuringReady(ack1), true);
  leader.step(ack1);
  assert.deepEqual(leader.readyEarly(), { messages: [], committed: [] }, "one durable copy is not a quorum");
  assert.ok(leader.committedZxid < z1);
  persistAtLeader(r1);
  assert.equal(leader.committedZxid, z1, "the leader's own write completes the quorum");
  const r2 = leader.ready();
  assert.deepEqual(
    r2.committed.map((e) => e.zxid),
    [z1],
  );
  persistAtLeader(r2);

  // z2 is durable at the leader only; while z3's write is in flight, the follower's ack of z2 commits it
  // at once: COMMITs go out and z2 is applied, without waiting for z3's write.
  const z2 = leader.propose(bytes("two")) as bigint;
  const r3 = leader.ready();
  persistAtLeader(r3);
  assert.ok(leader.committedZxid < z2);
  const z3 = leader.propose(bytes("three")) as bigint;
  const r4 = leader.ready();
  const ack2 = logAtFollower([...r2.earlyMessages, ...r3.earlyMessages]);
  leader.step(ack2);
  const early = leader.readyEarly();
  assert.deepEqual(
    early.committed.map((e) => e.zxid),
    [z2],
  );
  assert.deepEqual(early.messages.map((m) => [m.type, m.type === "commit" && m.zxid]).sort(), [
    ["commit", z2],
    ["commit", z2],
  ]);
  // The follower's ack of z3 too, before the leader's write of it ends: nothing more.
  leader.step(logAtFollower(r4.earlyMessages));
  assert.deepEqual(leader.readyEarly(), { messages: [], committed: [] }, "z3 is in flight here");
  persistAtLeader(r4);
  assert.equal(leader.committedZxid, z3);
  // A step other than an ack or commit still has to wait for advance().
  leader.ready();
  assert.equal(leader.canStepDuringReady({ ...ack2, type: "ping", sender: "learner" } as Message), false);
});

test("a follower applies a commit while its write of a newer proposal is in flight, and one that overtook its proposal", () => {
  const { c, l, f, leader, follower } = settledTrio();
  const to = (msgs: readonly Message[], type: Message["type"]): Message => {
    const m = msgs.find((x) => x.to === f && x.type === type);
    assert.ok(m, `a ${type} to ${f}`);
    return m;
  };
  // The leader proposes z1 and z2 in two Readys and logs them (its followers' acks are not needed here).
  const z1 = leader.propose(bytes("one")) as bigint;
  const r1 = leader.ready();
  c.server(l).storage.append(r1.entriesToAppend);
  leader.advance(r1);
  const z2 = leader.propose(bytes("two")) as bigint;
  const r2 = leader.ready();
  c.server(l).storage.append(r2.entriesToAppend);
  leader.advance(r2);

  // The follower logs z1 durably, then starts writing z2.
  follower.step(to(r1.earlyMessages, "proposal"));
  const fr1 = follower.ready();
  c.server(f).storage.append(fr1.entriesToAppend);
  follower.advance(fr1);
  follower.step(to(r2.earlyMessages, "proposal"));
  const fr2 = follower.ready();
  assert.deepEqual(
    fr2.entriesToAppend.map((e) => e.zxid),
    [z2],
  );
  // COMMIT z2 arrives meanwhile: z1 (durable here) applies at once; z2 waits for its write.
  const commit2: Message = { type: "commit", from: l, to: f, epoch: leader.epoch, zxid: z2 };
  assert.equal(follower.canStepDuringReady(commit2), true);
  follower.step(commit2);
  const early = follower.readyEarly();
  assert.deepEqual(
    early.committed.map((e) => e.zxid),
    [z1],
  );
  assert.deepEqual(early.messages, []);
  c.server(f).storage.append(fr2.entriesToAppend);
  follower.advance(fr2);
  const fr3 = follower.ready();
  assert.deepEqual(
    fr3.committed.map((e) => e.zxid),
    [z2],
  );
  follower.advance(fr3);

  // z3's COMMIT overtakes its PROPOSAL (stepped during a write, ahead of the proposal that waits): the
  // follower remembers the leader's commit point and commits z3 as soon as z3 reaches its log.
  const z3 = leader.propose(bytes("three")) as bigint;
  const r4 = leader.ready();
  c.server(l).storage.append(r4.entriesToAppend);
  leader.advance(r4);
  follower.step({ type: "commit", from: l, to: f, epoch: leader.epoch, zxid: z3 });
  assert.ok(follower.committedZxid < z3);
  follower.step(to(r4.earlyMessages, "proposal"));
  assert.equal(follower.committedZxid, z3);
  const fr4 = follower.ready();
  c.server(f).storage.append(fr4.entriesToAppend);
  assert.deepEqual(
    fr4.committed.map((e) => e.zxid),
    [z3],
  );
  follower.advance(fr4);
});

test("a COMMIT made while a Ready is carried out waits behind that Ready's late messages to the same peer", () => {
  const { c, l, f, leader } = settledTrio();
  const g = [1, 2, 3].find((id) => id !== l && id !== f)!;
  const epoch = leader.epoch;
  const z0 = leader.committedZxid;
  const carryOut = (r: Ready): void => {
    c.server(l).storage.append(r.entriesToAppend);
    leader.advance(r);
  };
  // z1 is durable at the leader; no follower has acked it yet.
  const z1 = leader.propose(bytes("one")) as bigint;
  carryOut(leader.ready());
  // g joins again (a new attempt): the leader answers its epoch ack with DIFF and NEWLEADER, which wait
  // for the Ready's log changes (late messages).
  leader.step({ type: "followerInfo", from: g, to: l, attempt: 99, acceptedEpoch: epoch, observer: false });
  carryOut(leader.ready());
  leader.step({
    type: "ackEpoch",
    from: g,
    to: l,
    attempt: 99,
    epoch,
    fresh: false,
    currentEpoch: epoch,
    lastZxid: z0,
    committedZxid: z0,
  });
  const r = leader.ready();
  assert.deepEqual(
    r.messages.map((m) => [m.type, m.to]),
    [
      ["diff", g],
      ["newLeader", g],
    ],
  );
  // While that Ready is carried out, f's ack commits z1: f's COMMIT goes at once, g's stays behind g's sync.
  const ack: Message = { type: "ack", from: f, to: l, epoch, zxid: z1 };
  assert.equal(leader.canStepDuringReady(ack), true);
  leader.step(ack);
  assert.deepEqual(
    leader.readyEarly().messages.map((m) => [m.type, m.to, m.type === "commit" && m.zxid]),
    [["commit", f, z1]],
  );
  carryOut(r);
  const next = leader.ready();
  assert.deepEqual(
    [...next.earlyMessages, ...next.messages].map((m) => [m.type, m.to, m.type === "commit" && m.zxid]),
    [["commit", g, z1]],
  );
});
