// The part of node-zookeeper-client 1.1 (an untyped npm package) that the interop and durability tests use.
declare module "node-zookeeper-client" {
  import type { EventEmitter } from "node:events";

  export interface Stat {
    czxid: Buffer;
    mzxid: Buffer;
    version: number;
    cversion: number;
    aversion: number;
    ephemeralOwner: Buffer;
    dataLength: number;
    numChildren: number;
  }
  export class Exception extends Error {
    static NO_NODE: number;
    static NODE_EXISTS: number;
    static BAD_VERSION: number;
    static NOT_EMPTY: number;
    getCode(): number;
    getName(): string;
  }
  export class Event {
    static NODE_CREATED: number;
    static NODE_DELETED: number;
    static NODE_DATA_CHANGED: number;
    static NODE_CHILDREN_CHANGED: number;
    getType(): number;
    getName(): string;
    getPath(): string;
  }
  export interface ACL {
    permission: number;
  }
  export const ACL: { OPEN_ACL_UNSAFE: ACL[] };
  export const CreateMode: {
    PERSISTENT: number;
    PERSISTENT_SEQUENTIAL: number;
    EPHEMERAL: number;
    EPHEMERAL_SEQUENTIAL: number;
  };
  type Cb<T> = (error: Exception | Error | null, value: T) => void;
  type Watcher = (event: Event) => void;
  export interface TransactionResult {
    type: number;
    path?: string;
    err?: number;
  }
  export interface Transaction {
    create(path: string, data?: Buffer | null, acls?: ACL[], mode?: number): Transaction;
    setData(path: string, data: Buffer | null, version?: number): Transaction;
    check(path: string, version?: number): Transaction;
    remove(path: string, version?: number): Transaction;
    commit(callback: Cb<TransactionResult[]>): void;
  }
  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    getSessionId(): Buffer;
    getSessionPassword(): Buffer;
    getSessionTimeout(): number;
    create(path: string, data: Buffer | null, acls: ACL[], mode: number, callback: Cb<string>): void;
    create(path: string, data: Buffer | null, mode: number, callback: Cb<string>): void;
    create(path: string, callback: Cb<string>): void;
    remove(path: string, version: number, callback: (error: Exception | Error | null) => void): void;
    setData(path: string, data: Buffer | null, version: number, callback: Cb<Stat>): void;
    getData(
      path: string,
      watcher: Watcher | undefined,
      callback: (error: Exception | Error | null, data: Buffer, stat: Stat) => void,
    ): void;
    getChildren(
      path: string,
      watcher: Watcher | undefined,
      callback: (error: Exception | Error | null, children: string[], stat: Stat) => void,
    ): void;
    exists(path: string, watcher: Watcher | undefined, callback: Cb<Stat | null>): void;
    transaction(): Transaction;
  }
  export function createClient(
    connectionString: string,
    options?: { sessionTimeout?: number; spinDelay?: number; retries?: number },
  ): Client;
  const zookeeper: {
    createClient: typeof createClient;
    ACL: typeof ACL;
    CreateMode: typeof CreateMode;
    Event: typeof Event;
    Exception: typeof Exception;
  };
  export default zookeeper;
}
