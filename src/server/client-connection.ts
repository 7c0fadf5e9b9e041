// One client TCP connection: framing, the connect handshake, per-session FIFO of requests, batched writes
// and backpressure. Protocol decisions live in RequestPipeline; this file only moves bytes.
import type { Socket } from "node:net";
import { FrameDecoder } from "../protocol/frame-decoder.js";
import { FrameTooLargeError } from "../base/errors.js";
import { connectionRequestsOutstandingLowWater, connectionRequestsOutstandingMax } from "../base/limits.js";
import type { RequestThrottle } from "./throttle.js";

export interface ConnectionHost {
  /** A four-letter word arrived in place of the first frame; returns the text to send before closing. */
  fourLetterWord(word: string, conn: ClientConnection, arg?: Uint8Array): string | Promise<string>;
  /** The first frame: a ConnectRequest. */
  onConnectFrame(conn: ClientConnection, frame: Uint8Array): void;
  /** Any later frame: RequestHeader + body. */
  onRequestFrame(conn: ClientConnection, frame: Uint8Array): void;
  onClose(conn: ClientConnection): void;
  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void;
}

let nextConnectionId = 1;

export class ClientConnection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly establishedMs = Date.now();
  /** The session this connection carries once the handshake completes (0n before). */
  sessionId = 0n;
  packetsReceived = 0;
  packetsSent = 0;
  lastZxid = 0n;
  /** The xid of the last request answered (cons' lcxid); -1 before any. */
  lastCxid = -1;
  sessionTimeoutMs = 0;
  lastResponseMs = 0;
  lastOpName = "NA";
  lastLatencyMs = 0;
  closed = false;
  private handshakeDone = false;
  private firstBytes = true;
  private head: Buffer | null = null;
  private readonly decoder: FrameDecoder;
  private pending: Uint8Array[] = [];
  private flushScheduled = false;
  private paused = false;
  /** True while readFrames() runs: a resume from inside a frame's handler lets that loop go on. */
  private reading = false;
  private stallTimer: NodeJS.Timeout | null = null;
  /**
   * After close(), destroys a socket whose peer has not closed its side within a second. Cleared once the socket
   * closes: left running, it kept every closed connection (socket, streams, decoder) alive for that second,
   * long enough to be copied and promoted by the young collections of a server churning sessions.
   */
  private destroyTimer: NodeJS.Timeout | null = null;
  /** This connection's outstanding requests are in the throttle's count until its socket closes. */
  private throttleCounted = true;
  /** When each request not yet answered arrived, oldest first (replies leave in request order). */
  private readonly startTimes: number[] = [];

  /** Requests received and not yet answered; the socket pauses above a high-water mark. */
  get outstanding(): number {
    return this.startTimes.length;
  }

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
    maxBuffer: number,
    /** The server's throttle (globalOutstandingLimit, requestThrottleLimit), and how often a paused socket looks again. */
    private readonly throttle: RequestThrottle | null = null,
    private readonly stallTimeMs = 100,
  ) {
    this.remoteAddress = normaliseAddress(socket.remoteAddress ?? "");
    this.remotePort = socket.remotePort ?? 0;
    this.decoder = new FrameDecoder({ maxBuffer });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) =>
      host.log("debug", "client socket error", { err: err.message, conn: this.id }),
    );
    socket.on("close", () => this.onSocketClose());
    socket.on("drain", () => this.maybeResume());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      if (this.firstBytes) {
        // A four-letter word arrives in place of the first length; wait for four bytes to tell.
        this.head = this.head === null ? chunk : Buffer.concat([this.head, chunk]);
        if (this.head.length < 4) return;
        chunk = this.head;
        this.head = null;
        this.firstBytes = false;
        const word = FrameDecoder.fourLetterWord(chunk.subarray(0, 4));
        if (word !== undefined) {
          // stmk carries the new trace mask in the 8 bytes after the word, read from the same packet as
          // NIOServerCnxn does; when they are not there ZooKeeper closes without a reply, and so do we.
          const arg = word === "stmk" ? (chunk.length >= 12 ? chunk.subarray(4, 12) : null) : undefined;
          if (arg === null) {
            this.closed = true;
            this.socket.destroy();
            return;
          }
          void this.answerFourLetterWord(word, arg);
          return;
        }
      }
      this.decoder.push(chunk);
      if (!this.reading) this.readFrames();
    } catch (e) {
      if (e instanceof FrameTooLargeError) {
        this.host.log("warn", "closing connection: " + e.message, { remote: this.remoteAddress });
      } else {
        this.host.log("warn", "closing connection on bad input", { err: (e as Error).message });
      }
      this.close();
    }
  }

  /** Hands on whole frames until none is left, or the connection is paused (throttled) or closed. */
  private readFrames(): void {
    this.reading = true;
    try {
      for (let frame = this.decoder.next(); frame !== undefined; frame = this.decoder.next()) {
        this.packetsReceived++;
        if (!this.handshakeDone) {
          this.handshakeDone = true;
          this.host.onConnectFrame(this, frame);
        } else {
          this.host.onRequestFrame(this, frame);
        }
        if (this.closed || this.paused) return;
      }
    } finally {
      this.reading = false;
    }
  }

  private async answerFourLetterWord(word: string, arg: Uint8Array | undefined): Promise<void> {
    try {
      const text = await this.host.fourLetterWord(word, this, arg);
      this.socket.end(text);
    } catch (e) {
      this.host.log("warn", "four-letter word failed", { word, err: (e as Error).message });
      this.socket.destroy();
    }
    this.closed = true;
  }

  /** Queues a whole frame; frames queued in one turn of the event loop go out in one write. */
  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.packetsSent++;
    this.pending.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Once per turn of the event loop: the replies of one group commit leave in one write.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.pending.length === 0) return;
    const frames = this.pending;
    this.pending = [];
    const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    this.socket.write(data);
  }

  /** Counts a request in; pauses reading when too many are outstanding (backpressure). */
  requestStarted(nowMs: number): void {
    this.startTimes.push(nowMs);
    if (this.throttleCounted) this.throttle?.requestStarted();
    const throttled = this.throttle?.shouldThrottle(this.outstanding) === true;
    if (!this.paused && (this.outstanding >= connectionRequestsOutstandingMax || throttled)) {
      this.paused = true;
      this.socket.pause();
      if (throttled) this.armStallTimer();
    }
  }

  /** Counts a reply out (replies leave in request order); returns when its request arrived. */
  requestFinished(): number | undefined {
    const started = this.startTimes.shift();
    if (started !== undefined && this.throttleCounted) this.throttle?.requestFinished();
    this.maybeResume();
    return started;
  }

  private maybeResume(): void {
    if (
      this.paused &&
      this.outstanding <= connectionRequestsOutstandingLowWater &&
      !this.socket.writableNeedDrain &&
      this.throttle?.shouldThrottle(this.outstanding) !== true
    ) {
      this.paused = false;
      this.socket.resume();
      this.onData(noBytes); // frames already buffered when reading stopped
    }
  }

  /** RequestThrottler's stall: a throttled connection looks again every stallTimeMs until it may read. */
  private armStallTimer(): void {
    if (this.stallTimer !== null) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      this.maybeResume();
      if (this.paused && !this.closed && this.throttle?.shouldThrottle(this.outstanding) === true)
        this.armStallTimer();
    }, this.stallTimeMs);
    this.stallTimer.unref();
  }

  /** Sends what is queued, then closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.socket.end();
    this.socket.destroySoon?.();
    this.destroyTimer = setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onSocketClose(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    if (this.destroyTimer !== null) clearTimeout(this.destroyTimer);
    // Requests never to be answered here leave the server-wide count.
    if (this.throttleCounted) this.throttle?.connectionClosed(this.outstanding);
    this.throttleCounted = false;
    this.closed = true;
    this.host.onClose(this);
  }
}

const noBytes = Buffer.alloc(0);

function normaliseAddress(a: string): string {
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}
