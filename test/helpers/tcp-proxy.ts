// TcpProxy: a loopback TCP proxy a test controls: cut() drops connections, stop() refuses new ones, hold()
// stops forwarding replies; counts connections and client pings. Test helper.
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { freePort } from "./free-port.js";

/** A ZooKeeper ping request frame (xid -2, OpCode.ping), as clients send it. */
const pingFrame = Buffer.from("00000008fffffffe0000000b", "hex");
const live = new Set<TcpProxy>();

/** Stops every proxy still running (for after()). */
export async function stopAllProxies(): Promise<void> {
  for (const p of live) await p.stop();
  live.clear();
}

export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private holding = false;
  pings = 0;
  connections = 0;

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async create(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), targetPort);
    live.add(proxy);
    await proxy.start();
    return proxy;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    const srv = createServer((client) => this.accept(client));
    this.server = srv;
    return new Promise((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(this.port, "127.0.0.1", () => resolve());
    });
  }

  private accept(client: Socket): void {
    if (this.server === undefined) {
      // Stopped: a connection accepted before close() took effect is refused too.
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = tcpConnect({ host: "127.0.0.1", port: this.targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.on("data", (chunk: Buffer) => {
      if (chunk.includes(pingFrame)) this.pings++;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!this.holding) client.write(chunk);
    });
  }

  /** Replies from the server are dropped from now on (the connection stays up). */
  hold(): void {
    this.holding = true;
  }

  cut(): void {
    this.holding = false;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Refuses new connections and cuts the current ones. */
  async stop(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    this.cut();
    if (srv !== undefined) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}
