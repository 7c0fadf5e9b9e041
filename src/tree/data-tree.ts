// The replicated data tree (ZooKeeper's DataTree): znodes by full path, ephemerals per session, containers,
// TTL nodes, the sessions table, reads that register watches, and apply() of committed txns (processTxn).
// Pure: no I/O, no clock, no randomness.
import type {
  ACL,
  NodeKind,
  OpResult,
  SetWatchesRequest,
  Stat,
  Txn,
  TxnBody,
  TxnHeader,
} from "../protocol/types.js";
import { EventType, OpCode } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { assert } from "../base/assert.js";
import { AclCache, openAclUnsafe, readAclUnsafe } from "./acl.js";
import { DataArena } from "./data-arena.js";
import {
  clientEphemeralOwner,
  kindOfEphemeralOwner,
  ttlOfEphemeralOwner,
} from "../protocol/ephemeral-type.js";
import {
  childNameOf,
  configZookeeper,
  joinPath,
  parentOf,
  procZookeeper,
  quotaZookeeper,
  rootPath,
} from "./path.js";
import { WatchRegistry, type WatchDelivery, type WatcherId } from "./watch-registry.js";
import { QuotaTracker } from "./quota.js";
import { SnapshotView, type SnapshotHead } from "./snapshot-view.js";

export type { WatchDelivery, WatcherId } from "./watch-registry.js";

/** StatPersisted: what a node keeps; dataLength and numChildren are derived, cversion counts creates only. */
/** A replicated session: its negotiated timeout and the password a client must show to resume it on any server. */
export interface SessionRecord {
  readonly timeOut: number;
  readonly passwd: Uint8Array;
}

export interface StatPersisted {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  /** Children created under this node (ZooKeeper persists creates; clients see creates + deletes). */
  cversion: number;
  aversion: number;
  /** As persisted: the session, Long.MIN_VALUE for a container, the TTL encoding, or 0. */
  ephemeralOwner: bigint;
  pzxid: bigint;
}

/** The children of every leaf: a node gets a set of its own at its first child. Never mutated. */
const noChildren: ReadonlySet<string> = new Set<string>();
/** Every node that no session owns shares this owner (most nodes). */
const noOwner = 0n;
/** DataNode's kind is kept as its index here. */
const nodeKinds: readonly NodeKind[] = ["persistent", "ephemeral", "container", "ttl"];
/** Snapshot marks stay below this (they share a small integer with the kind); the tree starts over at 1. */
export const snapshotMarkLimit = 1 << 28;
/** DataNode.dataSlice: the whole array. Otherwise start << sliceLengthBits | length. */
const sliceWhole = -1;
const sliceLengthBits = 12;
const sliceLengthMask = (1 << sliceLengthBits) - 1;
const sliceStartLimit = 1 << (30 - sliceLengthBits);

/**
 * A znode. Its persisted stat lives in its own fields (`stat` is the node itself), a leaf shares one empty
 * children set, equal zxids and times share one bigint, and small data sits in the tree's DataArena: a million
 * znodes cost about a third of what a Set, a stat object, six bigints and an ArrayBuffer per node did.
 */
export class DataNode implements StatPersisted {
  /** Shared with every node that has an identical list (AclCache); never mutate. */
  acl: readonly ACL[];
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: bigint;
  private childNames: Set<string> | null = null;
  /** snapshotMark × 4 + the kind's index in nodeKinds: one small integer instead of two fields. */
  private markAndKind: number;
  /** The data: all of `dataBytes`, or the slice `dataSlice` encodes (sliceWhole, or start × 4096 + length). */
  private dataBytes: Uint8Array | null = null;
  private dataSlice = sliceWhole;

  /** The stat's fields are copied: `stat` may be a reused scratch record. Equal values share one bigint. */
  constructor(data: Uint8Array | null, acl: readonly ACL[], stat: StatPersisted, kind: NodeKind) {
    this.markAndKind = nodeKinds.indexOf(kind);
    this.acl = acl;
    const czxid = stat.czxid;
    const ctime = stat.ctime;
    this.czxid = czxid;
    this.mzxid = stat.mzxid === czxid ? czxid : stat.mzxid;
    this.ctime = ctime;
    this.mtime = stat.mtime === ctime ? ctime : stat.mtime;
    this.version = stat.version;
    this.cversion = stat.cversion;
    this.aversion = stat.aversion;
    this.ephemeralOwner = stat.ephemeralOwner === noOwner ? noOwner : stat.ephemeralOwner;
    this.pzxid = stat.pzxid === czxid ? czxid : stat.pzxid;
    this.data = data;
  }

  get kind(): NodeKind {
    return nodeKinds[this.markAndKind & 3]!;
  }

  /** The SnapshotView that last handed this node out or kept its pre-image (0: none; below snapshotMarkLimit). */
  get snapshotMark(): number {
    return this.markAndKind >>> 2;
  }

  set snapshotMark(mark: number) {
    this.markAndKind = (mark << 2) | (this.markAndKind & 3);
  }

  /** The persisted stat: the node's own fields, so writes through it change the node. */
  get stat(): StatPersisted {
    return this;
  }

  /** Child names (not paths). */
  get children(): ReadonlySet<string> {
    return this.childNames ?? noChildren;
  }

  addChild(name: string): void {
    (this.childNames ??= new Set()).add(name);
  }

  removeChild(name: string): void {
    const names = this.childNames;
    if (names !== null && names.delete(name) && names.size === 0) this.childNames = null;
  }

  /** The data, as a view when it sits in an arena chunk. Never write into it. */
  get data(): Uint8Array | null {
    const bytes = this.dataBytes;
    const slice = this.dataSlice;
    if (bytes === null || slice === sliceWhole) return bytes;
    const start = slice >>> sliceLengthBits;
    return bytes.subarray(start, start + (slice & sliceLengthMask));
  }

  /** Keeps `data` itself (no copy); DataArena.store keeps a copy in a shared chunk instead. */
  set data(data: Uint8Array | null) {
    this.setDataSlice(data, 0, data === null ? 0 : data.length);
  }

  get dataLength(): number {
    const bytes = this.dataBytes;
    if (bytes === null) return 0;
    const slice = this.dataSlice;
    return slice === sliceWhole ? bytes.length : slice & sliceLengthMask;
  }

  /** `length` bytes of `chunk` from `offset`: all of it, or a slice shorter than 4096 bytes starting below 2^18. */
  setDataSlice(chunk: Uint8Array | null, offset: number, length: number): void {
    assert(chunk === null ? length === 0 : offset >= 0 && offset + length <= chunk.length, "bad data slice");
    this.dataBytes = chunk;
    if (chunk === null || (offset === 0 && length === chunk.length)) {
      this.dataSlice = sliceWhole;
      return;
    }
    assert(length <= sliceLengthMask && offset < sliceStartLimit, "data slice out of range");
    this.dataSlice = (offset << sliceLengthBits) | length;
  }
}

/** A copy of a node's persisted stat (DataNode.stat is the node itself). */
export function copyStat(s: StatPersisted): StatPersisted {
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner,
    pzxid: s.pzxid,
  };
}

/** A node as a snapshot holds it, for DataTree.restore / loadNode (which copy it: a record may be reused). */
export interface NodeRecord {
  data: Uint8Array | null;
  acl: readonly ACL[];
  stat: StatPersisted;
  /** Derived from stat.ephemeralOwner when absent (kindOfEphemeralOwner). */
  kind?: NodeKind;
}

/** What applying one txn did (ProcessTxnResult), plus the watch events it fired, in firing order. */
export interface ApplyResult {
  err: number;
  /** The path the txn touched (for a create: the created name, with any sequential suffix). */
  path?: string;
  /** The node's Stat after create, setData or setACL. */
  stat?: Stat;
  /** For multi: one result per op; creates always carry their stat (a plain `create` op's reply drops it). */
  multiResults?: OpResult[];
  events: WatchDelivery[];
}

type SubResult = Omit<ApplyResult, "events">;

export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    pzxid: zxid,
  };
}

/** DataNode.copyStat: the client's Stat, with cversion as creates*2 - live children (int arithmetic). */
export function statOfNode(n: DataNode): Stat {
  const s = n.stat;
  const numChildren = n.children.size;
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    cversion: (Math.imul(s.cversion, 2) - numChildren) | 0,
    aversion: s.aversion,
    ephemeralOwner: clientEphemeralOwner(n.kind, s.ephemeralOwner),
    dataLength: n.dataLength,
    numChildren,
    pzxid: s.pzxid,
  };
}

const emptyData = new Uint8Array(0);

interface SortedChildren {
  cversion: number;
  pzxid: bigint;
  size: number;
  names: string[];
}

/**
 * Sorted child names per node, reused by later reads while the node's children stay the same: applying a
 * create moves the parent's cversion and a delete its pzxid (and either changes the count), so the key
 * (cversion, pzxid, size) changes with every change a reader can see. A node replaced by a snapshot load is a
 * new object, a new key. The arrays are shared between replies: never mutate one.
 */
const sortedChildrenCache = new WeakMap<DataNode, SortedChildren>();

/** Child lists shorter than this are sorted each time: caching them costs more than it saves. */
const sortedChildrenCacheMin = 16;

function sortedChildren(n: DataNode): string[] {
  const { cversion, pzxid } = n.stat;
  const size = n.children.size;
  if (size < sortedChildrenCacheMin) return [...n.children].sort();
  const hit = sortedChildrenCache.get(n);
  if (hit !== undefined && hit.cversion === cversion && hit.pzxid === pzxid && hit.size === size)
    return hit.names;
  const names = [...n.children].sort();
  sortedChildrenCache.set(n, { cversion, pzxid, size, names });
  return names;
}

export class DataTree {
  readonly watches = new WatchRegistry();
  /** The zxid of the last txn applied (ZooKeeper's lastProcessedZxid); a multi counts once, after all its ops. */
  lastProcessedZxid = 0n;
  /** Replicated sessions with their timeouts (ZKDatabase.sessionsWithTimeouts) and passwords, kept by createSession/closeSession txns. */
  readonly sessions = new Map<bigint, SessionRecord>();

  private readonly nodeMap = new Map<string, DataNode>();
  private readonly ephemerals = new Map<bigint, Set<string>>();
  private readonly containerPaths = new Set<string>();
  private readonly ttlPaths = new Set<string>();
  private readonly aclCache = new AclCache();
  /** Holds the bytes of small node data (creates, setData and snapshot loads copy into it). */
  private readonly arena = new DataArena();
  /** The last create's time: creates in the same millisecond share one bigint. */
  private recentTime = 0n;
  /** The parent path loadNode looked up last. */
  private lastLoadedParent = rootPath;
  private dataSize = 0;
  /** The open snapshot view, told before every change of a node. */
  private view: SnapshotView | null = null;
  private viewMarks = 0;
  /** Quota roots and their zookeeper_stats accounting (DataTree's pTrie and updateQuotaStat). */
  readonly quotas = new QuotaTracker({
    getNode: (path) => this.getNode(path),
    setDataWithoutTxn: (path, data) => {
      const node = this.nodeMap.get(path)!;
      this.view?.preserve(path, node);
      this.dataSize += data.length - (node.data?.length ?? 0);
      node.data = data;
    },
  });

  /** A tree as ZooKeeper 3.8 starts one: /, /zookeeper, /zookeeper/quota and /zookeeper/config (READ for world, aversion -1). */
  constructor() {
    this.putSystemNode(rootPath, openAclUnsafe, 0);
    this.putSystemNode(procZookeeper, openAclUnsafe, 0);
    this.putSystemNode(quotaZookeeper, openAclUnsafe, 0);
    // DataTree.addConfigNode: setACL(configZookeeper, READ_ACL_UNSAFE, -1) leaves aversion -1.
    this.putSystemNode(configZookeeper, readAclUnsafe, -1);
  }

  /**
   * ZKDatabase.initConfigInZKDatabase: an ensemble member writes its configuration into /zookeeper/config
   * (setData with version -1 and mzxid = the config version). Not a txn: every member writes the same bytes.
   * mtime stays 0 (ZooKeeper uses the wall clock) so that every member's tree is byte-identical.
   */
  setConfigData(data: Uint8Array, configVersion: bigint): void {
    const node = this.nodeMap.get(configZookeeper)!;
    this.view?.preserve(configZookeeper, node);
    this.dataSize += data.length - (node.data?.length ?? 0);
    node.data = data;
    node.stat.version = -1;
    node.stat.mzxid = configVersion;
  }

  private putSystemNode(path: string, acl: readonly ACL[], aversion: number): void {
    const stat = createStat(0n, 0n, 0n);
    stat.aversion = aversion;
    const node = new DataNode(emptyData, this.aclCache.intern(acl), stat, "persistent");
    this.nodeMap.set(path, node);
    if (path !== rootPath) this.nodeMap.get(parentOf(path))!.addChild(childNameOf(path));
    this.dataSize += path.length;
  }

  // ------------------------------------------------------------------ reads

  /** The node at a path; "" is the root, as ZooKeeper's alias. */
  getNode(path: string): DataNode | undefined {
    return this.nodeMap.get(path === "" ? rootPath : path);
  }

  statOf(path: string): Stat | undefined {
    const n = this.getNode(path);
    return n === undefined ? undefined : statOfNode(n);
  }

  /** DataTree.statNode: the watcher (if any) gets a data watch even when the node does not exist. */
  exists(path: string, watcher?: WatcherId): Stat | undefined {
    if (watcher !== undefined) this.watches.addDataWatch(path, watcher);
    return this.statOf(path);
  }

  /** DataTree.getData: undefined (NoNode) registers no watch. */
  getData(path: string, watcher?: WatcherId): { data: Uint8Array | null; stat: Stat } | undefined {
    const n = this.getNode(path);
    if (n === undefined) return undefined;
    if (watcher !== undefined) this.watches.addDataWatch(path, watcher);
    return { data: n.data, stat: statOfNode(n) };
  }

  /**
   * DataTree.getChildren. Children come sorted (UTF-16 code unit order, as Java's String.compareTo): ZooKeeper
   * returns HashSet order, which clients must not rely on; sorted is stable across servers and restarts. The
   * array may be shared with other readers (sortedChildren): never mutate it.
   */
  getChildren(path: string, watcher?: WatcherId): { children: string[]; stat: Stat } | undefined {
    const n = this.getNode(path);
    if (n === undefined) return undefined;
    if (watcher !== undefined) this.watches.addChildWatch(path, watcher);
    return { children: sortedChildren(n), stat: statOfNode(n) };
  }

  getACL(path: string): { acl: readonly ACL[]; stat: Stat } | undefined {
    const n = this.getNode(path);
    return n === undefined ? undefined : { acl: n.acl, stat: statOfNode(n) };
  }

  /** DataTree.getAllChildrenNumber: every descendant (for "/", every node but the root). O(subtree). */
  getAllChildrenNumber(path: string): number {
    if (path === "") return this.nodeMap.size;
    if (path === rootPath) return this.nodeMap.size - 1;
    const start = this.nodeMap.get(path);
    if (start === undefined) return 0;
    let count = 0;
    const stack: [string, DataNode][] = [[path, start]];
    while (stack.length > 0) {
      const [p, n] = stack.pop()!;
      for (const c of n.children) {
        const cp = joinPath(p, c);
        const child = this.nodeMap.get(cp);
        if (child === undefined) continue;
        count++;
        stack.push([cp, child]);
      }
    }
    return count;
  }

  /** DataTree.getEphemerals: the session's ephemeral paths, sorted. */
  getEphemerals(sessionId: bigint): string[] {
    return [...(this.ephemerals.get(sessionId) ?? [])].sort();
  }

  /** Sessions that own ephemerals (DataTree.getSessions). */
  sessionsWithEphemerals(): bigint[] {
    return [...this.ephemerals.keys()];
  }

  get containers(): ReadonlySet<string> {
    return this.containerPaths;
  }

  get ttls(): ReadonlySet<string> {
    return this.ttlPaths;
  }

  /** Znodes in the tree. */
  get size(): number {
    return this.nodeMap.size;
  }

  /** DataTree.getNodeCount as ZooKeeper reports it (mntr zk_znode_count, srvr "Node count"): it counts the root's "" alias too. */
  get nodeCount(): number {
    return this.nodeMap.size + 1;
  }

  /** DataTree.approximateDataSize: path lengths plus data lengths (the root counted under "" and "/"). */
  get approximateDataSize(): number {
    return this.dataSize + (this.nodeMap.get(rootPath)!.data?.length ?? 0);
  }

  /** DataTree.getEphemeralsCount (mntr zk_ephemerals_count). */
  get ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemerals.values()) n += s.size;
    return n;
  }

  /** addWatch request: persistent (0) or persistentRecursive (1) on both tables; other modes BadArguments. */
  addWatch(path: string, watcher: WatcherId, mode: number): number {
    return this.watches.addWatch(path, watcher, mode);
  }

  /**
   * DataTree.setWatches (setWatches/setWatches2 on reconnect): events for what changed since relativeZxid,
   * otherwise re-registers the watch. Events carry an empty acl: ZooKeeper delivers these unfiltered.
   */
  setWatches(req: SetWatchesRequest, watcher: WatcherId): WatchDelivery[] {
    const out: WatchDelivery[] = [];
    const fire = (type: WatchDelivery["type"], path: string): void => {
      out.push({ watcher, type, path, acl: [] });
    };
    for (const path of req.dataWatches) {
      const n = this.getNode(path);
      if (n === undefined) fire(EventType.nodeDeleted, path);
      else if (n.stat.mzxid > req.relativeZxid) fire(EventType.nodeDataChanged, path);
      else this.watches.dataWatches.add(path, watcher);
    }
    for (const path of req.existWatches) {
      if (this.getNode(path) !== undefined) fire(EventType.nodeCreated, path);
      else this.watches.dataWatches.add(path, watcher);
    }
    for (const path of req.childWatches) {
      const n = this.getNode(path);
      if (n === undefined) fire(EventType.nodeDeleted, path);
      else if (n.stat.pzxid > req.relativeZxid) fire(EventType.nodeChildrenChanged, path);
      else this.watches.childWatches.add(path, watcher);
    }
    for (const path of req.persistentWatches) {
      this.watches.childWatches.add(path, watcher, "persistent");
      this.watches.dataWatches.add(path, watcher, "persistent");
    }
    for (const path of req.persistentRecursiveWatches) {
      this.watches.childWatches.add(path, watcher, "persistentRecursive");
      this.watches.dataWatches.add(path, watcher, "persistentRecursive");
    }
    return out;
  }

  /**
   * ContainerManager.getCandidates at time `nowMs`: empty containers that have had a child (cversion > 0), or
   * never had one for longer than maxNeverUsedIntervalMs (0 = never), and childless TTL nodes not modified for
   * longer than their ttl. Sorted.
   */
  expiredContainersAndTtls(nowMs: bigint, maxNeverUsedIntervalMs = 0n): string[] {
    const out: string[] = [];
    for (const p of this.containerPaths) {
      const n = this.nodeMap.get(p);
      if (n === undefined || n.children.size > 0) continue;
      if (n.stat.cversion > 0) out.push(p);
      else if (maxNeverUsedIntervalMs !== 0n && nowMs - n.stat.mtime > maxNeverUsedIntervalMs) out.push(p);
    }
    for (const p of this.ttlPaths) {
      const n = this.nodeMap.get(p);
      if (n === undefined || n.children.size > 0) continue;
      const ttl = ttlOfEphemeralOwner(n.stat.ephemeralOwner);
      if (ttl !== 0n && nowMs - n.stat.mtime > ttl) out.push(p);
    }
    return out.sort();
  }

  // ------------------------------------------------------------------ apply

  /**
   * DataTree.processTxn: executes a committed txn. Deterministic: the result and the tree depend only on the
   * txns applied, in order. Errors are values (err), as ZooKeeper's ProcessTxnResult.
   */
  apply(txn: Txn): ApplyResult {
    const events: WatchDelivery[] = [];
    // applyBody's result is always a fresh object: add the events to it (a spread into a new object costs more,
    // as the results come in several shapes).
    const r = this.applyBody(txn.header, txn.body, events, false) as ApplyResult;
    r.events = events;
    if (txn.header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = txn.header.zxid;
    return r;
  }

  private applyBody(h: TxnHeader, body: TxnBody, events: WatchDelivery[], isSub: boolean): SubResult {
    switch (body.type) {
      case "create": {
        const r = this.createNode(body, h.zxid, h.time, events);
        // processTxn: a create that finds its node (a replay over a fuzzy snapshot) still sets the parent's
        // cversion and pzxid.
        const plainCreate = body.kind === "persistent" || body.kind === "ephemeral";
        if (r.err === Code.nodeExists && plainCreate && (isSub || h.type === OpCode.create)) {
          const parent = this.nodeMap.get(parentOf(body.path));
          if (parent === undefined) return { err: Code.noNode, path: body.path };
          this.setCversionPzxid(parentOf(body.path), parent, body.parentCVersion, h.zxid);
        }
        return r;
      }
      case "delete":
        return { err: this.deleteNode(body.path, h.zxid, events), path: body.path };
      case "setData":
        return this.setData(body.path, body.data, body.version, h.zxid, h.time, events);
      case "setACL":
        return this.setACL(body.path, body.acl, body.version);
      case "check":
        return { err: Code.ok, path: body.path };
      case "error":
        return { err: body.err };
      case "createSession":
        this.sessions.set(h.clientId, { timeOut: body.timeOut, passwd: body.passwd });
        return { err: Code.ok };
      case "closeSession":
        this.sessions.delete(h.clientId);
        this.killSession(h.clientId, h.zxid, body.paths2Delete, events);
        return { err: Code.ok };
      case "multi":
        return this.applyMulti(h, body.txns, events);
    }
  }

  /**
   * processTxn's multi: if any op is an error the whole multi failed, and every non-error op is rewritten to
   * an error: Ok before the failing op, RuntimeInconsistency after it. err is the first non-zero op error.
   */
  private applyMulti(h: TxnHeader, txns: readonly TxnBody[], events: WatchDelivery[]): SubResult {
    const failed = txns.some((t) => t.type === "error");
    let postFailed = false;
    let err: number = Code.ok;
    const results: OpResult[] = [];
    for (const sub of txns) {
      assert(
        sub.type !== "multi" && sub.type !== "createSession" && sub.type !== "closeSession",
        `${sub.type} in multi`,
      );
      let op = sub;
      if (sub.type === "error") postFailed = true;
      else if (failed) op = { type: "error", err: postFailed ? Code.runtimeInconsistency : Code.ok };
      const r = this.applyBody(h, op, events, true);
      results.push(opResult(op, r));
      if (r.err !== Code.ok && err === Code.ok) err = r.err;
    }
    return { err, multiResults: results };
  }

  /** DataTree.createNode. */
  private createNode(
    c: Extract<TxnBody, { type: "create" }>,
    zxid: bigint,
    time: bigint,
    events: WatchDelivery[],
  ): SubResult {
    const path = c.path;
    const parentName = parentOf(path);
    const parent = this.nodeMap.get(parentName);
    if (parent === undefined || path === rootPath) return { err: Code.noNode, path };
    if (this.nodeMap.has(path)) return { err: Code.nodeExists, path };
    this.view?.preserve(parentName, parent);
    let parentCVersion = c.parentCVersion;
    if (parentCVersion === -1) parentCVersion = (parent.stat.cversion + 1) | 0;
    // Only forward: a replayed create must not move cversion/pzxid back (and at the int wrap ZooKeeper stops).
    if (parentCVersion > parent.stat.cversion) {
      parent.stat.cversion = parentCVersion;
      parent.stat.pzxid = zxid;
    }
    if (time === this.recentTime) time = this.recentTime;
    else this.recentTime = time;
    const node = new DataNode(
      c.data,
      this.aclCache.intern(c.acl),
      createStat(zxid, time, c.ephemeralOwner),
      c.kind,
    );
    this.view?.born(node);
    this.arena.store(node, c.data);
    parent.addChild(childNameOf(path));
    this.nodeMap.set(path, node);
    this.dataSize += path.length + (c.data?.length ?? 0);
    this.track(path, node);
    // ZooKeeper copies the Stat out before the quota step (which may rewrite a new zookeeper_stats node's data).
    const stat = statOfNode(node);
    this.quotas.nodeCreated(path, c.data);
    events.push(...this.watches.nodeCreated(path, node.acl, parentName, parent.acl));
    return { err: Code.ok, path, stat };
  }

  /** DataTree.deleteNode: the parent's pzxid moves even if the child is already gone. */
  private deleteNode(path: string, zxid: bigint, events: WatchDelivery[]): number {
    const parentName = parentOf(path);
    const parent = this.nodeMap.get(parentName);
    if (parent === undefined || path === rootPath) return Code.noNode;
    this.view?.preserve(parentName, parent);
    parent.removeChild(childNameOf(path));
    if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;
    const node = this.nodeMap.get(path);
    if (node === undefined) return Code.noNode;
    this.view?.preserve(path, node);
    this.nodeMap.delete(path);
    this.aclCache.release(node.acl);
    this.dataSize -= path.length + (node.data?.length ?? 0);
    this.untrack(path, node);
    this.quotas.nodeDeleted(path, node.data);
    events.push(...this.watches.nodeDeleted(path, node.acl, parentName, parent.acl));
    return Code.ok;
  }

  private setData(
    path: string,
    data: Uint8Array | null,
    version: number,
    zxid: bigint,
    time: bigint,
    events: WatchDelivery[],
  ): SubResult {
    const n = this.nodeMap.get(path);
    if (n === undefined) return { err: Code.noNode, path };
    this.view?.preserve(path, n);
    this.dataSize += (data?.length ?? 0) - (n.data?.length ?? 0);
    const lastData = n.data;
    this.arena.store(n, data);
    n.stat.mtime = time;
    n.stat.mzxid = zxid;
    n.stat.version = version;
    const stat = statOfNode(n);
    this.quotas.dataChanged(path, lastData, data);
    events.push(...this.watches.nodeDataChanged(path, n.acl));
    return { err: Code.ok, path, stat };
  }

  private setACL(path: string, acl: readonly ACL[], version: number): SubResult {
    const n = this.nodeMap.get(path);
    if (n === undefined) return { err: Code.noNode, path };
    this.view?.preserve(path, n);
    const shared = this.aclCache.intern(acl);
    this.aclCache.release(n.acl);
    n.acl = shared;
    n.stat.aversion = version;
    return { err: Code.ok, path, stat: statOfNode(n) };
  }

  private setCversionPzxid(path: string, node: DataNode, newCversion: number, zxid: bigint): void {
    if (newCversion === -1) newCversion = (node.stat.cversion + 1) | 0;
    if (newCversion > node.stat.cversion) {
      this.view?.preserve(path, node);
      node.stat.cversion = newCversion;
      node.stat.pzxid = zxid;
    }
  }

  /**
   * DataTree.killSession: deletes the txn's paths, then any ephemeral of the session the txn did not list
   * (ZooKeeper warns about those), in sorted order. Missing nodes are skipped.
   */
  private killSession(
    sessionId: bigint,
    zxid: bigint,
    paths2Delete: readonly string[],
    events: WatchDelivery[],
  ): void {
    const local = this.ephemerals.get(sessionId);
    this.ephemerals.delete(sessionId);
    const leftovers = new Set(local ?? []);
    for (const p of paths2Delete) {
      this.deleteNode(p, zxid, events);
      leftovers.delete(p);
    }
    for (const p of [...leftovers].sort()) this.deleteNode(p, zxid, events);
  }

  private track(path: string, node: DataNode): void {
    switch (node.kind) {
      case "container":
        this.containerPaths.add(path);
        return;
      case "ttl":
        this.ttlPaths.add(path);
        return;
      case "ephemeral": {
        const owner = node.stat.ephemeralOwner;
        let set = this.ephemerals.get(owner);
        if (set === undefined) this.ephemerals.set(owner, (set = new Set()));
        set.add(path);
        return;
      }
      case "persistent":
        return;
    }
  }

  private untrack(path: string, node: DataNode): void {
    switch (node.kind) {
      case "container":
        this.containerPaths.delete(path);
        return;
      case "ttl":
        this.ttlPaths.delete(path);
        return;
      case "ephemeral": {
        const set = this.ephemerals.get(node.stat.ephemeralOwner);
        if (set === undefined) return;
        set.delete(path);
        if (set.size === 0) this.ephemerals.delete(node.stat.ephemeralOwner);
        return;
      }
      case "persistent":
        return;
    }
  }

  // ------------------------------------------------------------------ snapshots and comparison

  /**
   * A view of the tree as it is now that stays exact while later txns apply, for writing a snapshot a slice at
   * a time (see SnapshotView). One at a time; close it when done (a view left open keeps every changed node's
   * pre-image).
   */
  openSnapshotView(): SnapshotView {
    assert(this.view === null, "a snapshot view is already open");
    if (++this.viewMarks === snapshotMarkLimit) {
      // Start the marks over; no node may keep one a later view will use.
      for (const node of this.nodeMap.values()) node.snapshotMark = 0;
      this.viewMarks = 1;
    }
    const view = new SnapshotView(this.viewMarks, this.snapshotHead(), this.nodeMap.entries(), () => {
      if (this.view === view) this.view = null;
    });
    this.view = view;
    return view;
  }

  /** The state besides the nodes, as a snapshot holds it. */
  snapshotHead(): SnapshotHead {
    return {
      zxid: this.lastProcessedZxid,
      sessions: [...this.sessions].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
      acls: this.aclCache.inUse(),
    };
  }

  /**
   * Every node, parent before child, in no canonical order, without building paths or sorting children. The
   * map's insertion order is parent first: a node is added only under an existing parent, and a parent cannot
   * go (and come back later in the order) while it has children.
   */
  nodesParentFirst(): IterableIterator<[string, DataNode]> {
    return this.nodeMap.entries();
  }

  /** Every node, parent before child (pre-order, children sorted): the canonical order digest() uses. */
  *nodes(): Generator<[string, DataNode]> {
    const stack: [string, DataNode][] = [[rootPath, this.nodeMap.get(rootPath)!]];
    while (stack.length > 0) {
      const [p, n] = stack.pop()!;
      yield [p, n];
      const names = [...n.children].sort();
      for (let i = names.length - 1; i >= 0; i--) {
        const cp = joinPath(p, names[i]!);
        const child = this.nodeMap.get(cp);
        if (child === undefined) assert(false, `child ${cp} of ${p} missing`);
        stack.push([cp, child]);
      }
    }
  }

  /**
   * Adds (or, for a node the tree starts with, replaces) one node from a snapshot. Its parent must already be
   * loaded (restore() takes nodes in any order). The record is copied (its data may be a view into a larger
   * buffer).
   */
  loadNode(path: string, rec: NodeRecord): void {
    if (!this.tryLoadNode(path, rec)) assert(false, `snapshot node ${path} before its parent`);
  }

  /** loadNode, or false (and nothing changed) when the node's parent is not loaded yet. */
  private tryLoadNode(path: string, rec: NodeRecord): boolean {
    const old = this.nodeMap.get(path);
    let parent: DataNode | undefined;
    if (old === undefined) {
      assert(path !== rootPath, "root always exists");
      parent = this.loadedParentOf(path);
      if (parent === undefined) return false;
    }
    const kind = rec.kind ?? kindOfEphemeralOwner(rec.stat.ephemeralOwner);
    const node = new DataNode(null, this.aclCache.intern(rec.acl), rec.stat, kind);
    this.arena.store(node, rec.data);
    if (old !== undefined) {
      for (const c of old.children) node.addChild(c);
      this.aclCache.release(old.acl);
      this.dataSize -= path.length + old.dataLength;
      this.untrack(path, old);
    } else {
      parent!.addChild(childNameOf(path));
    }
    this.nodeMap.set(path, node);
    this.dataSize += path.length + node.dataLength;
    this.track(path, node);
    return true;
  }

  /** parentOf(path)'s node, without building the parent's path when it is the previous call's (siblings). */
  private loadedParentOf(path: string): DataNode | undefined {
    const last = this.lastLoadedParent;
    const slash = path.lastIndexOf("/");
    if (slash === last.length && path.startsWith(last)) return this.nodeMap.get(last);
    const parentPath = slash <= 0 ? rootPath : path.substring(0, slash);
    this.lastLoadedParent = parentPath;
    return this.nodeMap.get(parentPath);
  }

  /**
   * A tree rebuilt from a snapshot; the records are copied. `nodes` may also be a function that feeds each node
   * to `load` (a decoder's loop, without an iterator's result and tuple per node). Nodes may come in any order:
   * those whose parent has not come yet wait until the end (few: a snapshot written from a SnapshotView is
   * mostly parent first) and go in by depth.
   */
  static restore(snapshot: {
    lastProcessedZxid: bigint;
    sessions: Iterable<readonly [bigint, SessionRecord]>;
    nodes:
      Iterable<readonly [string, NodeRecord]> | ((load: (path: string, rec: NodeRecord) => void) => void);
  }): DataTree {
    const tree = new DataTree();
    const early: [string, NodeRecord][] = [];
    const load = (path: string, rec: NodeRecord): void => {
      if (tree.tryLoadNode(path, rec)) return;
      // The record and its data may be the decoder's scratch (a window it reads on into): keep copies.
      const data = rec.data === null ? null : rec.data.slice();
      early.push([path, { data, acl: rec.acl, stat: copyStat(rec.stat), kind: rec.kind }]);
    };
    const nodes = snapshot.nodes;
    if (typeof nodes === "function") nodes(load);
    else for (const [path, rec] of nodes) load(path, rec);
    if (early.length > 0) {
      const depth = (p: string): number => {
        let d = 0;
        for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) d++;
        return d;
      };
      early.sort((a, b) => depth(a[0]) - depth(b[0]));
      for (const [path, rec] of early) tree.loadNode(path, rec);
    }
    tree.quotas.setup();
    for (const [id, session] of snapshot.sessions) tree.sessions.set(id, session);
    tree.lastProcessedZxid = snapshot.lastProcessedZxid;
    return tree;
  }

  /**
   * A 64-bit digest (hex) of everything replicated: lastProcessedZxid, sessions, and every node's path, data,
   * ACL, persisted stat and kind, in a canonical order. Equal trees have equal digests. O(n).
   */
  digest(): string {
    const h = new Fnv64();
    h.text(`zxid:${this.lastProcessedZxid}`);
    for (const [id, t] of [...this.sessions].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      h.text(`s:${id}:${t.timeOut}`);
      h.bytes(t.passwd);
    }
    for (const [p, n] of this.nodes()) {
      const s = n.stat;
      h.text(
        `n:${p}|${n.kind}|${s.czxid}|${s.mzxid}|${s.ctime}|${s.mtime}|${s.version}|${s.cversion}|${s.aversion}|${s.ephemeralOwner}|${s.pzxid}|${n.children.size}`,
      );
      for (const a of n.acl) h.text(`a:${a.perms}:${a.id.scheme}:${a.id.id}`);
      if (n.data === null) h.text("null");
      else h.bytes(n.data);
    }
    return h.hex();
  }

  /** Same replicated state (by digest). */
  equals(other: DataTree): boolean {
    return this.size === other.size && this.digest() === other.digest();
  }
}

/** FinalRequestProcessor's mapping of a multi sub-result to an OpResult. */
function opResult(op: TxnBody, r: SubResult): OpResult {
  if (op.type === "error") return { type: "error", err: r.err };
  if (r.err !== Code.ok) return { type: "error", err: r.err };
  switch (op.type) {
    case "create":
      return { type: "create", path: r.path ?? op.path, stat: r.stat ?? null };
    case "delete":
      return { type: "delete" };
    case "setData":
      return { type: "setData", stat: r.stat! };
    case "check":
      return { type: "check" };
    default:
      return { type: "error", err: Code.runtimeInconsistency };
  }
}

/** FNV-1a 64-bit in two 32-bit lanes (no bigint in the loop). */
class Fnv64 {
  private hi = 0xcbf29ce4;
  private lo = 0x84222325;
  private byte(b: number): void {
    this.lo ^= b;
    // multiply by the FNV prime 0x100000001b3: (hi,lo) * (0x100, 0x1b3)
    const lo = this.lo;
    const hi = this.hi;
    const a = (lo & 0xffff) * 0x1b3;
    const b2 = (lo >>> 16) * 0x1b3 + (a >>> 16);
    const newLo = ((b2 & 0xffff) << 16) | (a & 0xffff);
    const carry = Math.floor(b2 / 0x10000);
    const newHi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + carry) | 0;
    this.lo = newLo >>> 0;
    this.hi = newHi >>> 0;
  }
  text(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.byte(c & 0xff);
      this.byte(c >>> 8);
    }
    this.byte(0);
  }
  bytes(b: Uint8Array): void {
    this.text(`d:${b.length}`);
    for (let i = 0; i < b.length; i++) this.byte(b[i]!);
  }
  hex(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }
}
