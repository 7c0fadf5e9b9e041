// The record types of ZooKeeper's client protocol and txn log (zookeeper.jute), as plain data.
// Pure: types only. Every jute `long` (zxids, session ids, times, ttl) is a bigint; every `int` a number.

export interface Id {
  scheme: string;
  id: string;
}

export interface ACL {
  perms: number;
  id: Id;
}

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export interface ClientInfo {
  authScheme: string;
  user: string;
}

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  /** Absent for clients of 3.3 and older, which then must get a reply without it. */
  readOnly: boolean | undefined;
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  /** Written only when the request carried it. */
  readOnly: boolean | undefined;
}

export interface RequestHeader {
  xid: number;
  type: number;
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

// ---- requests (the body after the RequestHeader), tagged by opcode name ----

export interface CreateRequest {
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  flags: number;
  /** Only for createTTL; otherwise 0n. */
  ttl: bigint;
}
export interface DeleteRequest {
  path: string;
  version: number;
}
export interface PathWatchRequest {
  path: string;
  watch: boolean;
}
export interface SetDataRequest {
  path: string;
  data: Uint8Array | null;
  version: number;
}
export interface PathRequest {
  path: string;
}
export interface SetACLRequest {
  path: string;
  acl: ACL[];
  version: number;
}
export interface CheckVersionRequest {
  path: string;
  version: number;
}
export interface SetWatchesRequest {
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  /** Empty for setWatches (v1). */
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export interface AddWatchRequest {
  path: string;
  mode: number;
}
export interface WatchesRequest {
  path: string;
  type: number;
}
export interface AuthPacket {
  type: number;
  scheme: string;
  auth: Uint8Array | null;
}
export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}

/** One op inside multi / multiRead. */
export type MultiOp =
  | { type: "create"; op: number; req: CreateRequest }
  | { type: "delete"; op: number; req: DeleteRequest }
  | { type: "setData"; op: number; req: SetDataRequest }
  | { type: "check"; op: number; req: CheckVersionRequest }
  | { type: "getChildren"; op: number; req: PathRequest }
  | { type: "getData"; op: number; req: PathRequest };

/** A decoded client request: the opcode's name, the raw opcode, and its body. */
export type Request =
  | { type: "create"; op: number; req: CreateRequest } // create, create2, createContainer, createTTL
  | { type: "delete"; op: number; req: DeleteRequest } // delete, deleteContainer
  | { type: "exists"; op: number; req: PathWatchRequest }
  | { type: "getData"; op: number; req: PathWatchRequest }
  | { type: "setData"; op: number; req: SetDataRequest }
  | { type: "getACL"; op: number; req: PathRequest }
  | { type: "setACL"; op: number; req: SetACLRequest }
  | { type: "getChildren"; op: number; req: PathWatchRequest } // getChildren, getChildren2
  | { type: "sync"; op: number; req: PathRequest }
  | { type: "ping"; op: number }
  | { type: "check"; op: number; req: CheckVersionRequest }
  | { type: "multi"; op: number; ops: MultiOp[] } // multi, multiRead
  | { type: "reconfig"; op: number; req: ReconfigRequest }
  | { type: "checkWatches"; op: number; req: WatchesRequest } // checkWatches, removeWatches
  | { type: "auth"; op: number; req: AuthPacket }
  | { type: "setWatches"; op: number; req: SetWatchesRequest } // setWatches, setWatches2
  | { type: "getEphemerals"; op: number; req: PathRequest }
  | { type: "getAllChildrenNumber"; op: number; req: PathRequest }
  | { type: "addWatch"; op: number; req: AddWatchRequest }
  | { type: "whoAmI"; op: number }
  | { type: "closeSession"; op: number }
  | { type: "sasl"; op: number; token: Uint8Array | null }; // GetSASLRequest

// ---- responses ----

/** One result inside a multi / multiRead response. */
export type OpResult =
  | { type: "create"; path: string; stat: Stat | null } // stat present for create2-style results
  | { type: "delete" }
  | { type: "setData"; stat: Stat }
  | { type: "check" }
  | { type: "getData"; data: Uint8Array | null; stat: Stat }
  | { type: "getChildren"; children: string[] }
  | { type: "error"; err: number };

export type Response =
  | { type: "empty" } // delete, setWatches, check, removeWatches, addWatch, ping, auth, closeSession
  | { type: "create"; path: string } // create, createContainer? (see encodeCreateResponse)
  | { type: "create2"; path: string; stat: Stat }
  | { type: "stat"; stat: Stat } // exists, setData, setACL
  | { type: "getData"; data: Uint8Array | null; stat: Stat }
  | { type: "getACL"; acl: ACL[]; stat: Stat }
  | { type: "getChildren"; children: string[] }
  | { type: "getChildren2"; children: string[]; stat: Stat }
  | { type: "sync"; path: string }
  | { type: "multi"; results: OpResult[] }
  | { type: "getAllChildrenNumber"; totalNumber: number }
  | { type: "getEphemerals"; ephemerals: string[] }
  | { type: "whoAmI"; clientInfo: ClientInfo[] }
  | { type: "sasl"; token: Uint8Array | null } // SetSASLResponse
  | { type: "getConfig"; data: Uint8Array | null; stat: Stat };

// ---- txns: what prepare decides and apply executes (TxnHeader + body) ----

export interface TxnHeader {
  clientId: bigint;
  cxid: number;
  zxid: bigint;
  /** Milliseconds since the epoch, decided once by the leader in prepare. */
  time: bigint;
  type: number;
}

export type TxnBody =
  /** OpCode.create (ephemeral flag), createContainer, createTTL; parentCVersion is the parent's cversion after. */
  | {
      type: "create";
      path: string;
      /** null when the client sent none: ZooKeeper keeps and returns null, not empty. */
      data: Uint8Array | null;
      acl: ACL[];
      ephemeralOwner: bigint;
      parentCVersion: number;
      /** "persistent" | "ephemeral" | "container" | "ttl" */
      kind: NodeKind;
      ttl: bigint;
    }
  | { type: "delete"; path: string }
  | { type: "setData"; path: string; data: Uint8Array | null; version: number }
  | { type: "setACL"; path: string; acl: ACL[]; version: number }
  | { type: "check"; path: string; version: number }
  | { type: "createSession"; timeOut: number; passwd: Uint8Array }
  | { type: "closeSession"; paths2Delete: string[] }
  | { type: "error"; err: number }
  | { type: "multi"; txns: TxnBody[] };

export type NodeKind = "persistent" | "ephemeral" | "container" | "ttl";

export interface Txn {
  header: TxnHeader;
  body: TxnBody;
}
