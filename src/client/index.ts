// Corral's TypeScript ZooKeeper client: the public API.
export {
  ZooKeeperClient,
  clientMaxBufferBytesDefault,
  setWatchesBatchBytesMax,
  type ConnectOptions,
  type CreateMode,
  type CreateOptions,
  type Data,
  type ReadOp,
  type ReadResult,
  type WatchOptions,
} from "./zookeeper-client.js";
export type { ClientEvents, ClientState } from "./session-events.js";
export { Transaction, type TransactionOp } from "./transaction.js";
export {
  WatchEventStream,
  watchStreamEventsMax,
  type WatchCallback,
  type WatchEvent,
  type WatchEventType,
  type WatcherKind,
} from "./watches.js";
export { CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Perms, digestAcl, digestId } from "./acl.js";
export {
  defaultPort,
  parseConnectString,
  validatePath,
  type ConnectString,
  type HostPort,
} from "./connect-string.js";
export * from "./errors.js";
export type { ACL, ClientInfo, Id, Stat } from "../protocol/types.js";
