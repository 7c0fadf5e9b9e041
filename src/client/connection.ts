// Connection: one TCP connection to a server, split into frames by FrameDecoder, with writes that respect backpressure.
import { connect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from "node:tls";
import { FrameDecoder } from "../protocol/frame-decoder.js";

/** Frames queued behind a full socket before the connection is dropped: a client that outruns it is stuck. */
export const writeQueueBytesMax = 64 * 1024 * 1024;
/** Frames are joined into writes of up to this many bytes (a larger frame is a write of its own). */
const writeBytesMax = 1024 * 1024;

export interface ConnectionHandlers {
  onFrame(frame: Uint8Array): void;
  /** Called once, when the socket closes for any reason (`error` is why, when known). */
  onClose(error: Error | undefined): void;
}

/**
 * Frames sent in one turn (the requests that the replies of one read set off, say) leave in one write, at the
 * end of the turn's callbacks and promise reactions. After a write returns false, frames queue until 'drain'.
 * Frames are handed to onFrame in order; a frame past `maxBuffer` closes the connection before it is buffered.
 */
export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private flushScheduled = false;
  private closed = false;
  private closeError: Error | undefined;
  private handlers: ConnectionHandlers | undefined;

  private constructor(
    private readonly socket: Socket,
    maxBuffer: number,
  ) {
    this.decoder = new FrameDecoder({ maxBuffer });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.onDrain());
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy(undefined));
  }

  /**
   * Opens a TCP connection (TLS with `tls`, up once its handshake is done); rejects on error, when `signal`
   * aborts, or when it is not up within timeoutMs.
   */
  static open(
    host: string,
    port: number,
    timeoutMs: number,
    maxBuffer: number,
    signal?: AbortSignal,
    tls?: TlsOptions,
  ): Promise<Connection> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new Error("aborted"));
        return;
      }
      const socket =
        tls === undefined
          ? connect({ host, port })
          : tlsConnect({ ...(isIP(host) === 0 ? { servername: host } : {}), ...tls, host, port });
      const fail = (err: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        socket.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(new Error("aborted"));
      const timer = setTimeout(
        () => fail(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
      socket.once("error", fail);
      socket.once(tls === undefined ? "connect" : "secureConnect", () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        socket.off("error", fail);
        resolve(new Connection(socket, maxBuffer));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Installs the handlers; frames that arrived before are delivered now. */
  start(handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    if (this.closed) handlers.onClose(this.closeError);
    else this.drainFrames();
  }

  /** Sends one whole frame (length prefix included), with the others of this turn. Ignored once closed. */
  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes > writeQueueBytesMax) {
      this.destroy(new Error(`write queue past ${writeQueueBytesMax} bytes`));
      return;
    }
    if (!this.flushScheduled && !this.blocked) {
      this.flushScheduled = true;
      // Sent from a promise reaction, the tick runs once the pending reactions are done: theirs join this write.
      process.nextTick(() => this.flush());
    }
  }

  /** Closes the socket at once; onClose runs (once) with `error`. */
  destroy(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.socket.destroy();
    this.handlers?.onClose(error);
  }

  private onDrain(): void {
    this.blocked = false;
    this.flush();
  }

  /** Writes what is queued, up to `writeBytesMax` per write, until the socket is full. */
  private flush(): void {
    this.flushScheduled = false;
    while (!this.closed && !this.blocked && this.queue.length > 0) {
      let n = 1;
      let bytes = this.queue[0]!.length;
      while (n < this.queue.length && bytes + this.queue[n]!.length <= writeBytesMax)
        bytes += this.queue[n++]!.length;
      const frames = this.queue.splice(0, n);
      this.queuedBytes -= bytes;
      if (!this.socket.write(n === 1 ? frames[0]! : Buffer.concat(frames, bytes))) this.blocked = true;
    }
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    this.drainFrames();
  }

  private drainFrames(): void {
    if (this.handlers === undefined) return;
    while (!this.closed) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (frame === undefined) return;
      this.handlers.onFrame(frame);
    }
  }
}
