// Promise wrappers over node-zookeeper-client (callback API), shared by the interop and durability tests.
import zookeeper, { type Client, type Event, type Stat, type TransactionResult } from "node-zookeeper-client";
import { withTimeout } from "./wait.js";

export { zookeeper };
export type { Client, Event, Stat, TransactionResult };

/** Connects and resolves once the client reports `connected`; rejects after timeoutMs. */
export async function connectNzk(
  connectString: string,
  sessionTimeout = 10_000,
  timeoutMs = 15_000,
): Promise<Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout, spinDelay: 100, retries: 0 });
  const connected = new Promise<void>((resolve) => client.once("connected", () => resolve()));
  client.connect();
  try {
    await withTimeout(connected, timeoutMs, `node-zookeeper-client connecting to ${connectString}`);
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/** Promisifies one callback-style call whose callback is (error, value). */
export function call<T>(fn: (cb: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));
}

export const nzk = {
  create: (c: Client, path: string, data: Buffer | null, mode = zookeeper.CreateMode.PERSISTENT) =>
    call<string>((cb) => c.create(path, data, zookeeper.ACL.OPEN_ACL_UNSAFE, mode, cb)),
  getData: (c: Client, path: string, watcher?: (e: Event) => void) =>
    new Promise<{ data: Buffer; stat: Stat }>((resolve, reject) =>
      c.getData(path, watcher, (error, data, stat) => (error ? reject(error) : resolve({ data, stat }))),
    ),
  setData: (c: Client, path: string, data: Buffer | null, version = -1) =>
    call<Stat>((cb) => c.setData(path, data, version, cb)),
  getChildren: (c: Client, path: string, watcher?: (e: Event) => void) =>
    new Promise<string[]>((resolve, reject) =>
      c.getChildren(path, watcher, (error, children) => (error ? reject(error) : resolve(children))),
    ),
  exists: (c: Client, path: string, watcher?: (e: Event) => void) =>
    call<Stat | null>((cb) => c.exists(path, watcher, cb)),
  remove: (c: Client, path: string, version = -1) =>
    call<void>((cb) => c.remove(path, version, (error) => cb(error, undefined))),
  /** Closes and waits for the `disconnected` state (the session is closed on the server by then). */
  close: async (c: Client): Promise<void> => {
    const disconnected = new Promise<void>((resolve) => c.once("disconnected", () => resolve()));
    c.close();
    await withTimeout(disconnected, 10_000, "node-zookeeper-client close").catch(() => undefined);
  },
};
