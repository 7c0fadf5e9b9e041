// Frames between ensemble members: consensus Messages and the shell's own (forwarded requests, session
// liveness, sync), jute-encoded behind a 4-byte length. Encoding only; sockets live in peer-network.ts.
import { JuteReader } from "../protocol/jute-reader.js";
import { JuteWriter } from "../protocol/jute-writer.js";
import { DecodeError } from "../base/errors.js";
import type { LogEntry, Message, PeerState, Snapshot, Vote } from "../consensus/messages.js";
import type { Id } from "../protocol/types.js";

/** Follower → leader: a client's write (or createSession) to prepare and propose (Learner.request). */
export interface ForwardedRequest {
  readonly type: "request";
  readonly sessionId: bigint;
  readonly cxid: number;
  readonly op: number;
  /** createSession only: the negotiated session timeout. */
  readonly timeOut: number;
  /** The client's frame (RequestHeader + body); for createSession, the session's password. */
  readonly frame: Uint8Array;
  readonly authInfo: readonly Id[];
}

/** Follower → leader: sessions its clients were heard from since the last one (Learner's PING payload). */
export interface SessionsAlive {
  readonly type: "sessionsAlive";
  readonly sessionIds: readonly bigint[];
}

/** Follower → leader: what is your commit point? (for a client's `sync`). */
export interface SyncRequest {
  readonly type: "syncRequest";
  readonly id: number;
}

/** Leader → follower: the commit point a sync must wait to apply. */
export interface SyncReply {
  readonly type: "syncReply";
  readonly id: number;
  readonly zxid: bigint;
}

export type AppMessage = ForwardedRequest | SessionsAlive | SyncRequest | SyncReply;

/** A frame's content after the handshake: a consensus message, or one of the shell's own. */
export type PeerFrame = { readonly kind: "zab"; readonly msg: Message } | AppFrame;
export interface AppFrame {
  readonly kind: "app";
  readonly from: number;
  readonly to: number;
  readonly msg: AppMessage;
}

/** First frame on every connection: who is calling. */
export interface Handshake {
  readonly serverId: number;
}

const handshakeMagic = 0x43525052; // "CRPR"
/** 2: pings and acks carry the leadership-check round. */
const protocolVersion = 2;

const zabTypes = [
  "notification",
  "followerInfo",
  "newEpoch",
  "ackEpoch",
  "diff",
  "trunc",
  "snap",
  "newLeader",
  "ack",
  "upToDate",
  "proposal",
  "commit",
  "inform",
  "ping",
] as const satisfies readonly Message["type"][];
const appTypes = [
  "request",
  "sessionsAlive",
  "syncRequest",
  "syncReply",
] as const satisfies readonly AppMessage["type"][];
/** App message tags start here, after the consensus ones. */
const appTagBase = 100;
const peerStates: readonly PeerState[] = ["looking", "following", "leading", "observing"];

export function encodeHandshake(h: Handshake): Uint8Array {
  const w = JuteWriter.frame(16);
  w.writeInt(handshakeMagic);
  w.writeInt(protocolVersion);
  w.writeInt(h.serverId);
  return w.finishFrame();
}

export function decodeHandshake(frame: Uint8Array): Handshake {
  const r = new JuteReader(frame);
  if (r.readInt() !== handshakeMagic) throw new DecodeError("peer handshake: bad magic");
  const v = r.readInt();
  if (v !== protocolVersion) throw new DecodeError(`peer handshake: unsupported version ${v}`);
  const serverId = r.readInt();
  r.expectEnd("peer handshake");
  return { serverId };
}

// Numbers that may exceed 2^31 (epochs, rounds, attempt nonces) travel as longs.
function writeNum(w: JuteWriter, n: number): void {
  w.writeLong(BigInt(n));
}
function readNum(r: JuteReader): number {
  const v = r.readLong();
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
    throw new DecodeError(`number out of range: ${v}`);
  return Number(v);
}
function readBytes(r: JuteReader): Uint8Array {
  return r.readBuffer() ?? new Uint8Array(0);
}
function writeEntries(w: JuteWriter, entries: readonly LogEntry[]): void {
  w.writeVector(entries, (w2, e) => {
    w2.writeLong(e.zxid);
    w2.writeBuffer(e.data);
  });
}
function readEntries(r: JuteReader): LogEntry[] {
  return r.readVector((r2) => ({ zxid: r2.readLong(), data: readBytes(r2) })) ?? [];
}

/** One frame (length prefix included) for a consensus message. */
export function encodeZab(m: Message): Uint8Array {
  const size = "data" in m ? m.data.length : m.type === "snap" ? m.snapshot.data.length : 0;
  const w = JuteWriter.frame(128 + size + ("entries" in m ? m.entries.length * 64 : 0));
  w.writeInt(zabTypes.indexOf(m.type));
  w.writeInt(m.from);
  w.writeInt(m.to);
  switch (m.type) {
    case "notification":
      writeNum(w, m.round);
      w.writeInt(peerStates.indexOf(m.state));
      w.writeInt(m.vote.leader);
      writeNum(w, m.vote.epoch);
      w.writeLong(m.vote.zxid);
      break;
    case "followerInfo":
      writeNum(w, m.attempt);
      writeNum(w, m.acceptedEpoch);
      w.writeBool(m.observer);
      break;
    case "newEpoch":
      writeNum(w, m.attempt);
      writeNum(w, m.epoch);
      break;
    case "ackEpoch":
      writeNum(w, m.attempt);
      writeNum(w, m.epoch);
      w.writeBool(m.fresh);
      writeNum(w, m.currentEpoch);
      w.writeLong(m.lastZxid);
      w.writeLong(m.committedZxid);
      break;
    case "diff":
    case "trunc":
    case "snap":
      writeNum(w, m.attempt);
      writeNum(w, m.epoch);
      w.writeLong(m.committedZxid);
      writeEntries(w, m.entries);
      if (m.type === "trunc") w.writeLong(m.truncZxid);
      if (m.type === "snap") {
        w.writeLong(m.snapshot.zxid);
        w.writeBuffer(m.snapshot.data);
      }
      break;
    case "newLeader":
      writeNum(w, m.attempt);
      writeNum(w, m.epoch);
      w.writeLong(m.zxid);
      break;
    case "ack":
      writeNum(w, m.epoch);
      w.writeLong(m.zxid);
      w.writeBool(m.attempt !== undefined);
      writeNum(w, m.attempt ?? 0);
      writeNum(w, m.round ?? 0);
      break;
    case "upToDate":
      writeNum(w, m.attempt);
      writeNum(w, m.epoch);
      break;
    case "proposal":
    case "inform":
      writeNum(w, m.epoch);
      w.writeLong(m.prevZxid);
      w.writeLong(m.zxid);
      w.writeBuffer(m.data);
      break;
    case "commit":
      writeNum(w, m.epoch);
      w.writeLong(m.zxid);
      break;
    case "ping":
      w.writeBool(m.sender === "leader");
      writeNum(w, m.epoch);
      w.writeLong(m.committedZxid);
      w.writeLong(m.lastZxid);
      writeNum(w, m.round ?? 0);
      break;
  }
  return w.finishFrame();
}

/** One frame (length prefix included) for a shell message. */
export function encodeApp(from: number, to: number, m: AppMessage): Uint8Array {
  const w = JuteWriter.frame(m.type === "request" ? 64 + m.frame.length : 64);
  w.writeInt(appTagBase + appTypes.indexOf(m.type));
  w.writeInt(from);
  w.writeInt(to);
  switch (m.type) {
    case "request":
      w.writeLong(m.sessionId);
      w.writeInt(m.cxid);
      w.writeInt(m.op);
      w.writeInt(m.timeOut);
      w.writeBuffer(m.frame);
      w.writeVector(m.authInfo, (w2, id) => {
        w2.writeString(id.scheme);
        w2.writeString(id.id);
      });
      break;
    case "sessionsAlive":
      w.writeVector(m.sessionIds, (w2, id) => w2.writeLong(id));
      break;
    case "syncRequest":
      writeNum(w, m.id);
      break;
    case "syncReply":
      writeNum(w, m.id);
      w.writeLong(m.zxid);
      break;
  }
  return w.finishFrame();
}

/** Decodes a frame body (without its length prefix). Throws DecodeError on anything malformed. */
export function decodePeerFrame(frame: Uint8Array): PeerFrame {
  const r = new JuteReader(frame);
  const tag = r.readInt();
  const from = r.readInt();
  const to = r.readInt();
  if (tag >= appTagBase) {
    const type = appTypes[tag - appTagBase];
    if (type === undefined) throw new DecodeError(`unknown peer message tag ${tag}`);
    const msg = decodeApp(type, r);
    r.expectEnd(`peer ${type}`);
    return { kind: "app", from, to, msg };
  }
  const type = zabTypes[tag];
  if (type === undefined) throw new DecodeError(`unknown peer message tag ${tag}`);
  const msg = decodeZab(type, from, to, r);
  r.expectEnd(`peer ${type}`);
  return { kind: "zab", msg };
}

function decodeApp(type: AppMessage["type"], r: JuteReader): AppMessage {
  switch (type) {
    case "request": {
      const sessionId = r.readLong();
      const cxid = r.readInt();
      const op = r.readInt();
      const timeOut = r.readInt();
      const frame = readBytes(r);
      const authInfo =
        r.readVector((r2) => ({ scheme: r2.readNonNullString(), id: r2.readNonNullString() })) ?? [];
      return { type, sessionId, cxid, op, timeOut, frame, authInfo };
    }
    case "sessionsAlive":
      return { type, sessionIds: r.readVector((r2) => r2.readLong()) ?? [] };
    case "syncRequest":
      return { type, id: readNum(r) };
    case "syncReply":
      return { type, id: readNum(r), zxid: r.readLong() };
  }
}

function decodeZab(type: Message["type"], from: number, to: number, r: JuteReader): Message {
  switch (type) {
    case "notification": {
      const round = readNum(r);
      const state = peerStates[r.readInt()];
      if (state === undefined) throw new DecodeError("notification: bad state");
      const vote: Vote = { leader: r.readInt(), epoch: readNum(r), zxid: r.readLong() };
      return { type, from, to, round, state, vote };
    }
    case "followerInfo":
      return { type, from, to, attempt: readNum(r), acceptedEpoch: readNum(r), observer: r.readBool() };
    case "newEpoch":
      return { type, from, to, attempt: readNum(r), epoch: readNum(r) };
    case "ackEpoch":
      return {
        type,
        from,
        to,
        attempt: readNum(r),
        epoch: readNum(r),
        fresh: r.readBool(),
        currentEpoch: readNum(r),
        lastZxid: r.readLong(),
        committedZxid: r.readLong(),
      };
    case "diff":
    case "trunc":
    case "snap": {
      const attempt = readNum(r);
      const epoch = readNum(r);
      const committedZxid = r.readLong();
      const entries = readEntries(r);
      const base = { from, to, attempt, epoch, committedZxid, entries };
      if (type === "diff") return { type, ...base };
      if (type === "trunc") return { type, ...base, truncZxid: r.readLong() };
      const snapshot: Snapshot = { zxid: r.readLong(), data: readBytes(r) };
      return { type, ...base, snapshot };
    }
    case "newLeader":
      return { type, from, to, attempt: readNum(r), epoch: readNum(r), zxid: r.readLong() };
    case "ack": {
      const epoch = readNum(r);
      const zxid = r.readLong();
      const hasAttempt = r.readBool();
      const attempt = readNum(r);
      return { type, from, to, epoch, zxid, ...(hasAttempt ? { attempt } : {}), ...readRound(r) };
    }
    case "upToDate":
      return { type, from, to, attempt: readNum(r), epoch: readNum(r) };
    case "proposal":
    case "inform":
      return {
        type,
        from,
        to,
        epoch: readNum(r),
        prevZxid: r.readLong(),
        zxid: r.readLong(),
        data: readBytes(r),
      };
    case "commit":
      return { type, from, to, epoch: readNum(r), zxid: r.readLong() };
    case "ping":
      return {
        type,
        from,
        to,
        sender: r.readBool() ? "leader" : "learner",
        epoch: readNum(r),
        committedZxid: r.readLong(),
        lastZxid: r.readLong(),
        ...readRound(r),
      };
  }
}

function readRound(r: JuteReader): { round?: number } {
  const round = readNum(r);
  return round > 0 ? { round } : {};
}
