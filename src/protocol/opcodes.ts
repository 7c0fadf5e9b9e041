// ZooKeeper request opcodes (ZooDefs.OpCode), watch modes and permission bits. Pure: constants only.

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCodeValue = (typeof OpCode)[keyof typeof OpCode];

/** Special xids (ClientCnxn): notifications, pings, auth and setWatches replies. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

/** ZooDefs.Perms */
export const Perms = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  CREATE: 1 << 2,
  DELETE: 1 << 3,
  ADMIN: 1 << 4,
  ALL: 0x1f,
} as const;

/** AddWatchMode: ZooDefs.AddWatchModes */
export const AddWatchMode = {
  persistent: 0,
  persistentRecursive: 1,
} as const;

/** Watcher.WatcherType, as sent in checkWatches/removeWatches. */
export const WatcherType = {
  children: 1,
  data: 2,
  any: 3,
  persistent: 4,
  persistentRecursive: 5,
} as const;

/** Watcher.Event.EventType */
export const EventType = {
  none: -1,
  nodeCreated: 1,
  nodeDeleted: 2,
  nodeDataChanged: 3,
  nodeChildrenChanged: 4,
  dataWatchRemoved: 5,
  childWatchRemoved: 6,
  persistentWatchRemoved: 7,
} as const;
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];

/** Watcher.Event.KeeperState */
export const KeeperState = {
  disconnected: 0,
  syncConnected: 3,
  authFailed: 4,
  connectedReadOnly: 5,
  saslAuthenticated: 6,
  expired: -112,
  closed: 7,
} as const;

/** CreateMode flags as sent in CreateRequest.flags. */
export const CreateFlags = {
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
  persistentWithTtl: 5,
  persistentSequentialWithTtl: 6,
} as const;
export type CreateFlagsValue = (typeof CreateFlags)[keyof typeof CreateFlags];
