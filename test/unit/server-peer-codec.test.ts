// Peer frames: every consensus message and shell message survives encode → decode, and garbage is a
// DecodeError (the network closes that connection), never a crash or a wrong message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/base/errors.js";
import { makeZxid } from "../../src/base/zxid.js";
import type { Message } from "../../src/consensus/messages.js";
import { FrameDecoder } from "../../src/protocol/frame-decoder.js";
import {
  decodeHandshake,
  decodePeerFrame,
  encodeApp,
  encodeHandshake,
  encodeZab,
  type AppMessage,
} from "../../src/server/peer-codec.js";

const body = (frame: Uint8Array): Uint8Array => {
  const d = new FrameDecoder({ maxBuffer: 1 << 24 });
  d.push(frame);
  const f = d.next();
  assert.ok(f !== undefined);
  return f;
};
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const e = (c: number): { zxid: bigint; data: Uint8Array } => ({
  zxid: makeZxid(2, c),
  data: bytes(`txn${c}`),
});
const env = { from: 1, to: 3 };

const messages: Message[] = [
  {
    ...env,
    type: "notification",
    round: 7,
    state: "looking",
    vote: { leader: 2, epoch: 3, zxid: makeZxid(3, 9) },
  },
  { ...env, type: "notification", round: 1, state: "observing", vote: { leader: -1, epoch: -1, zxid: 0n } },
  { ...env, type: "followerInfo", attempt: 0xfffffffe, acceptedEpoch: 4, observer: true },
  { ...env, type: "newEpoch", attempt: 12, epoch: 5 },
  {
    ...env,
    type: "ackEpoch",
    attempt: 12,
    epoch: 5,
    fresh: false,
    currentEpoch: 4,
    lastZxid: makeZxid(4, 2),
    committedZxid: makeZxid(4, 1),
  },
  { ...env, type: "diff", attempt: 1, epoch: 2, committedZxid: makeZxid(2, 1), entries: [e(1), e(2)] },
  { ...env, type: "trunc", attempt: 1, epoch: 2, committedZxid: 0n, entries: [], truncZxid: makeZxid(1, 5) },
  {
    ...env,
    type: "snap",
    attempt: 1,
    epoch: 2,
    committedZxid: makeZxid(2, 3),
    entries: [e(4)],
    snapshot: { zxid: makeZxid(2, 3), data: bytes("tree") },
  },
  { ...env, type: "newLeader", attempt: 9, epoch: 2, zxid: makeZxid(2, 4) },
  { ...env, type: "ack", epoch: 2, zxid: makeZxid(2, 4) },
  { ...env, type: "ack", epoch: 2, zxid: makeZxid(2, 4), attempt: 9 },
  { ...env, type: "upToDate", attempt: 9, epoch: 2 },
  { ...env, type: "proposal", epoch: 2, prevZxid: makeZxid(2, 4), zxid: makeZxid(2, 5), data: bytes("p") },
  { ...env, type: "commit", epoch: 2, zxid: makeZxid(2, 5) },
  {
    ...env,
    type: "inform",
    epoch: 2,
    prevZxid: makeZxid(2, 5),
    zxid: makeZxid(2, 6),
    data: new Uint8Array(0),
  },
  {
    ...env,
    type: "ping",
    sender: "leader",
    epoch: 2,
    committedZxid: makeZxid(2, 5),
    lastZxid: makeZxid(2, 6),
  },
  { ...env, type: "ping", sender: "learner", epoch: 2, committedZxid: 0n, lastZxid: 0n },
];

const appMessages: AppMessage[] = [
  {
    type: "request",
    sessionId: -0x1234567890n,
    cxid: 42,
    op: 1,
    timeOut: 0,
    frame: bytes("frame"),
    authInfo: [{ scheme: "digest", id: "u:x" }],
  },
  { type: "sessionsAlive", sessionIds: [1n, (1n << 62n) + 5n] },
  { type: "syncRequest", id: 3 },
  { type: "syncReply", id: 3, zxid: makeZxid(2, 6) },
];

test("every consensus message round-trips through a peer frame", () => {
  for (const m of messages) {
    const f = decodePeerFrame(body(encodeZab(m)));
    assert.equal(f.kind, "zab");
    assert.deepEqual(f.kind === "zab" ? f.msg : null, m);
  }
});

test("every shell message round-trips with its sender and addressee", () => {
  for (const m of appMessages) {
    const f = decodePeerFrame(body(encodeApp(2, 1, m)));
    assert.deepEqual(f, { kind: "app", from: 2, to: 1, msg: m });
  }
});

test("the handshake names the caller and refuses anything else", () => {
  assert.deepEqual(decodeHandshake(body(encodeHandshake({ serverId: 5 }))), { serverId: 5 });
  assert.throws(() => decodeHandshake(bytes("GET / HTTP/1.1")), DecodeError);
});

test("truncated, extended or unknown frames are DecodeErrors", () => {
  for (const m of messages) {
    const b = body(encodeZab(m));
    for (const cut of [0, 3, 8, b.length - 1])
      assert.throws(() => decodePeerFrame(b.subarray(0, cut)), DecodeError);
    const longer = new Uint8Array(b.length + 1);
    longer.set(b);
    assert.throws(() => decodePeerFrame(longer), DecodeError);
  }
  const unknown = new Uint8Array(12);
  new DataView(unknown.buffer).setInt32(0, 77);
  assert.throws(() => decodePeerFrame(unknown), DecodeError);
});
