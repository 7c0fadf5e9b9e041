// serverFixture(): one server of the interop target for a test file, the clients and proxies its tests open,
// all closed in after(). Test helper.
import { after, before } from "node:test";
import { ZooKeeperClient } from "../../src/client/index.js";
import { interopTarget, skipReason, startServer, type ManagedServer, type ServerKind } from "./servers.js";
import type { TcpProxy } from "./tcp-proxy.js";

export interface ServerFixture {
  readonly kind: ServerKind;
  /** Why the file's tests skip (tools missing outside CI), or undefined. */
  readonly skip: string | undefined;
  /** The running server; only valid inside a test that did not skip. */
  readonly server: ManagedServer;
  readonly clients: ZooKeeperClient[];
  /** Proxies a test made; stopped in after(). */
  readonly proxies: TcpProxy[];
  /** A client on the server (or on `connectString`), closed in after(). */
  connect(connectString?: string): Promise<ZooKeeperClient>;
}

export function serverFixture(sessionTimeoutMs = 10_000): ServerFixture {
  const kind = interopTarget();
  const skip = skipReason(kind);
  let server: ManagedServer | undefined;
  const clients: ZooKeeperClient[] = [];
  const proxies: TcpProxy[] = [];
  before(async () => {
    if (skip === undefined) server = await startServer(kind);
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const p of proxies) await p.stop();
    await server?.stop();
  });
  const running = (): ManagedServer => {
    if (server === undefined) throw new Error(`no ${kind} server: ${skip ?? "not started"}`);
    return server;
  };
  // A plain function, not a method: tests destructure it.
  const connect = async (connectString?: string): Promise<ZooKeeperClient> => {
    const zk = await ZooKeeperClient.connect(connectString ?? running().connectString, { sessionTimeoutMs });
    clients.push(zk);
    return zk;
  };
  return {
    kind,
    skip,
    get server(): ManagedServer {
      return running();
    },
    clients,
    proxies,
    connect,
  };
}
