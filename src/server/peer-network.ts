// TCP between ensemble members on their quorumPorts: one listener per server for inbound frames, one
// outbound connection per peer for sends, reconnecting with backoff. Consensus tolerates loss, so a
// frame for a peer that is down (or too far behind) is dropped, never buffered without bound.
import { createServer, connect, type Server, type Socket } from "node:net";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import { decodeHandshake, decodePeerFrame, encodeHandshake, type PeerFrame } from "./peer-codec.js";
import type { PeerTls } from "./tls-config.js";

export interface PeerAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface PeerNetworkOptions {
  readonly myid: number;
  readonly listen: PeerAddress;
  readonly peers: readonly PeerAddress[];
  readonly onFrame: (from: number, frame: PeerFrame) => void;
  /** A connection to this peer that was up has closed (the peer crashed, or the link broke). */
  readonly onPeerLost?: (id: number) => void;
  readonly log: (level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>) => void;
  /** sslQuorum: connections in both directions are TLS with mutual authentication. */
  readonly tls?: PeerTls | undefined;
}

/** Largest peer frame: a SNAP carries the whole tree (DESIGN: trees up to a few hundred MiB are out of scope). */
export const peerFrameBytesMax = 256 * 1024 * 1024;
/** Bytes queued for one peer (socket buffer included) before further frames to it are dropped. */
export const peerSendQueueBytesMax = 64 * 1024 * 1024;
/** Frames queued while a connection to the peer is being made; beyond this they are dropped. */
export const peerConnectingFramesMax = 1024;
const reconnectDelayMinMs = 50;
const reconnectDelayMaxMs = 1000;
const connectTimeoutMs = 2000;

class Outbound {
  socket: Socket | null = null;
  connected = false;
  queued: Uint8Array[] = [];
  /** Frames sent in the current task, written together at its end. */
  pending: Uint8Array[] = [];
  pendingBytes = 0;
  delayMs = reconnectDelayMinMs;
  timer: NodeJS.Timeout | null = null;
  dropped = 0;
  constructor(readonly peer: PeerAddress) {}
}

export class PeerNetwork {
  private readonly server: Server;
  private readonly outbound = new Map<number, Outbound>();
  private readonly inbound = new Set<Socket>();
  private stopped = false;
  private flushScheduled = false;

  constructor(private readonly opts: PeerNetworkOptions) {
    this.server =
      opts.tls === undefined
        ? createServer({ noDelay: true }, (s) => this.accept(s))
        : opts.tls.createServer((s) => this.accept(s));
    for (const p of opts.peers) if (p.id !== opts.myid) this.outbound.set(p.id, new Outbound(p));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    for (const o of this.outbound.values()) this.dial(o);
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const o of this.outbound.values()) {
      if (o.timer) clearTimeout(o.timer);
      o.socket?.destroy();
    }
    for (const s of this.inbound) s.destroy();
    this.opts.tls?.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Queues a whole frame (length prefix included) for `to`; dropped if the peer is unreachable. */
  send(to: number, frame: Uint8Array): void {
    const o = this.outbound.get(to);
    if (o === undefined || this.stopped) return;
    if (o.connected && o.socket !== null) {
      if (o.socket.writableLength + o.pendingBytes + frame.length > peerSendQueueBytesMax) {
        o.dropped++;
        return;
      }
      o.pending.push(frame);
      o.pendingBytes += frame.length;
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // At the end of the current task: what one Ready sends (a group commit's proposals, commits, acks)
        // leaves in one write per peer, without waiting for another turn of the event loop.
        queueMicrotask(() => this.flush());
      }
      return;
    }
    if (o.queued.length >= peerConnectingFramesMax) {
      o.dropped++;
      return;
    }
    o.queued.push(frame);
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const o of this.outbound.values()) {
      if (o.pending.length === 0) continue;
      const frames = o.pending;
      o.pending = [];
      o.pendingBytes = 0;
      const socket = o.socket;
      if (!o.connected || socket === null || this.stopped) continue; // lost meanwhile: as if sent and lost
      if (frames.length === 1) {
        socket.write(frames[0]!);
        continue;
      }
      socket.cork(); // one writev for the lot, without copying a large frame
      for (const f of frames) socket.write(f);
      socket.uncork();
    }
  }

  /** Which peers have an outbound connection up (for diagnostics). */
  connectedPeers(): number[] {
    return [...this.outbound.values()].filter((o) => o.connected).map((o) => o.peer.id);
  }

  private dial(o: Outbound): void {
    if (this.stopped) return;
    o.timer = null;
    const tls = this.opts.tls;
    const socket =
      tls === undefined
        ? connect({ host: o.peer.host, port: o.peer.port, noDelay: true })
        : tls.connect(o.peer.host, o.peer.port);
    o.socket = socket;
    socket.setTimeout(connectTimeoutMs, () => socket.destroy(new Error("connect timeout")));
    // A TLS link is up once the handshake has verified the peer's certificate.
    socket.on(tls === undefined ? "connect" : "secureConnect", () => {
      socket.setTimeout(0);
      socket.setKeepAlive(true, 1000);
      o.connected = true;
      o.delayMs = reconnectDelayMinMs;
      socket.write(encodeHandshake({ serverId: this.opts.myid }));
      const q = o.queued;
      o.queued = [];
      for (const f of q) socket.write(f);
      this.opts.log("info", "connected to peer", { peer: o.peer.id });
    });
    socket.on("data", () => undefined); // peers never answer on our outbound connection
    socket.on("error", (err) =>
      this.opts.log("debug", "peer connection error", { peer: o.peer.id, err: err.message }),
    );
    socket.on("close", () => {
      if (o.socket !== socket) return;
      if (o.connected) {
        this.opts.log("info", "lost connection to peer", { peer: o.peer.id });
        if (!this.stopped) this.opts.onPeerLost?.(o.peer.id);
      }
      o.socket = null;
      o.connected = false;
      o.queued = []; // stale by the time we reconnect; consensus resends what matters
      o.pending = [];
      o.pendingBytes = 0;
      if (this.stopped) return;
      o.timer = setTimeout(() => this.dial(o), o.delayMs);
      o.timer.unref();
      o.delayMs = Math.min(o.delayMs * 2, reconnectDelayMaxMs);
    });
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    const decoder = new FrameDecoder({ maxBuffer: peerFrameBytesMax });
    let from: number | null = null;
    socket.on("data", (chunk: Buffer) => {
      try {
        decoder.push(chunk);
        for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
          if (from === null) {
            const h = decodeHandshake(f);
            if (!this.outbound.has(h.serverId)) throw new Error(`unknown server id ${h.serverId}`);
            from = h.serverId;
            continue;
          }
          const frame = decodePeerFrame(f);
          const env = frame.kind === "zab" ? frame.msg : frame;
          if (env.from !== from || env.to !== this.opts.myid) continue; // misaddressed: drop
          this.opts.onFrame(from, frame);
          if (socket.destroyed) return;
        }
      } catch (e) {
        this.opts.log("warn", "closing peer connection on bad input", {
          peer: from,
          remote: socket.remoteAddress,
          err: (e as Error).message,
        });
        socket.destroy();
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => this.inbound.delete(socket));
  }
}
