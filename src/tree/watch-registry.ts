// The watch registry: ZooKeeper's two WatchManagers (data and child watches) with standard, persistent and
// persistent-recursive modes, trigger semantics, removal and the counts the four-letter words report.
// Pure: no I/O, no clock, no randomness.
import type { ACL } from "../protocol/types.js";
import { AddWatchMode, EventType, WatcherType, type EventTypeValue } from "../protocol/opcodes.js";
import { Code } from "../protocol/error-codes.js";
import { rootPath } from "./path.js";

/** A connection (ServerCnxn) that watches: the server's connection id. */
export type WatcherId = number;

/** WatcherMode: one per (watcher, path) in each table; the latest registration wins, as in ZooKeeper 3.8. */
export type WatcherMode = "standard" | "persistent" | "persistentRecursive";

/**
 * One event for one watcher. `acl` is the ACL ZooKeeper passes to ServerCnxn.process(event, znodeAcl): the
 * node's for created/deleted/dataChanged, the parent's for childrenChanged, empty for setWatches replays. The
 * server delivers only if checkACL(acl, Perms.READ, the connection's authInfo) is ok (ZooKeeper 3.8.4+).
 */
export interface WatchDelivery {
  watcher: WatcherId;
  type: EventTypeValue;
  path: string;
  acl: readonly ACL[];
}

/** WatchesSummary: what `wchs` prints. */
export interface WatchesSummary {
  connections: number;
  paths: number;
  watches: number;
}

/** PathParentIterator: the path, then (only when `all`) each ancestor up to "/". */
function* pathAndParents(path: string, all: boolean): Generator<string> {
  let p = path;
  let first = true;
  while (p.length > 0 && (first || all)) {
    yield p;
    first = false;
    if (p === rootPath) break;
    const lastSlash = p.lastIndexOf("/");
    p = lastSlash <= 0 ? rootPath : p.substring(0, lastSlash);
  }
}

/** One WatchManager: path → watchers (with their mode) and watcher → paths. */
export class WatchTable {
  private readonly table = new Map<string, Map<WatcherId, WatcherMode>>();
  private readonly watch2Paths = new Map<WatcherId, Set<string>>();
  /** WatcherModeManager.recursiveQty: ancestors are only walked when some recursive watch exists. */
  private recursiveCount = 0;

  /** WatchManager.addWatch: true when the watcher did not yet watch this path. */
  add(path: string, watcher: WatcherId, mode: WatcherMode = "standard"): boolean {
    let watchers = this.table.get(path);
    if (watchers === undefined) this.table.set(path, (watchers = new Map()));
    const old = watchers.get(watcher);
    if (old === "persistentRecursive") this.recursiveCount--;
    if (mode === "persistentRecursive") this.recursiveCount++;
    watchers.set(watcher, mode);
    let paths = this.watch2Paths.get(watcher);
    if (paths === undefined) this.watch2Paths.set(watcher, (paths = new Set()));
    const added = !paths.has(path);
    paths.add(path);
    return added;
  }

  /**
   * WatchManager.triggerWatch: the watchers to notify, each once, in a stable order (the path's watchers in
   * registration order, then each ancestor's recursive watchers). Standard watches are removed as they fire;
   * persistent ones stay; recursive ones cover the subtree but never receive NodeChildrenChanged.
   */
  trigger(path: string, type: EventTypeValue): WatcherId[] {
    // Most writes: no watch on the path and no recursive watch anywhere.
    if (this.recursiveCount === 0 && !this.table.has(path)) return [];
    const out: WatcherId[] = [];
    const seen = new Set<WatcherId>();
    let atParent = false;
    for (const localPath of pathAndParents(path, this.recursiveCount > 0)) {
      const watchers = this.table.get(localPath);
      if (watchers !== undefined) {
        for (const [watcher, mode] of watchers) {
          if (mode === "persistentRecursive") {
            if (type !== EventType.nodeChildrenChanged && !seen.has(watcher)) {
              seen.add(watcher);
              out.push(watcher);
            }
          } else if (!atParent) {
            if (!seen.has(watcher)) {
              seen.add(watcher);
              out.push(watcher);
            }
            if (mode === "standard") {
              watchers.delete(watcher);
              this.watch2Paths.get(watcher)?.delete(localPath);
            }
          }
        }
        if (watchers.size === 0) this.table.delete(localPath);
      }
      atParent = true;
    }
    return out;
  }

  /** Whether this watcher watches exactly this path (any mode), or a recursive watch of it covers the path. */
  contains(path: string, watcher: WatcherId): boolean {
    let atParent = false;
    for (const localPath of pathAndParents(path, this.recursiveCount > 0)) {
      const mode = this.table.get(localPath)?.get(watcher);
      if (mode !== undefined && (!atParent || mode === "persistentRecursive")) return true;
      atParent = true;
    }
    return false;
  }

  /** WatchManager.removeWatcher(path, watcher): removes the registration on exactly this path. */
  remove(path: string, watcher: WatcherId): boolean {
    const paths = this.watch2Paths.get(watcher);
    // An emptied set stays, as in WatchManager: `wchs` counts the connection until it closes.
    if (paths === undefined || !paths.delete(path)) return false;
    const watchers = this.table.get(path);
    const mode = watchers?.get(watcher);
    if (watchers === undefined || mode === undefined) return false;
    watchers.delete(watcher);
    if (mode === "persistentRecursive") this.recursiveCount--;
    if (watchers.size === 0) this.table.delete(path);
    return true;
  }

  /** WatchManager.removeWatcher(watcher): the connection closed. O(its own watches). */
  removeWatcher(watcher: WatcherId): void {
    const paths = this.watch2Paths.get(watcher);
    if (paths === undefined) return;
    this.watch2Paths.delete(watcher);
    for (const p of paths) {
      const watchers = this.table.get(p);
      if (watchers === undefined) continue;
      if (watchers.get(watcher) === "persistentRecursive") this.recursiveCount--;
      watchers.delete(watcher);
      if (watchers.size === 0) this.table.delete(p);
    }
  }

  /** WatchManager.size: (path, watcher) registrations. */
  get size(): number {
    let n = 0;
    for (const w of this.table.values()) n += w.size;
    return n;
  }

  summary(): WatchesSummary {
    let watches = 0;
    for (const paths of this.watch2Paths.values()) watches += paths.size;
    return { connections: this.watch2Paths.size, paths: this.table.size, watches };
  }

  /** `wchc`: each watcher's paths. */
  byWatcher(): Map<WatcherId, string[]> {
    const out = new Map<WatcherId, string[]>();
    for (const [w, paths] of this.watch2Paths) if (paths.size > 0) out.set(w, [...paths].sort());
    return out;
  }

  /** `wchp`: each path's watchers. */
  byPath(): Map<string, WatcherId[]> {
    const out = new Map<string, WatcherId[]>();
    for (const [p, watchers] of this.table) out.set(p, [...watchers.keys()]);
    return out;
  }
}

/** DataTree's pair of watch managers and the operations on both. */
export class WatchRegistry {
  readonly dataWatches = new WatchTable();
  readonly childWatches = new WatchTable();

  /** getData / exists with watch=true (exists registers even on a missing node). */
  addDataWatch(path: string, watcher: WatcherId): void {
    this.dataWatches.add(path, watcher);
  }

  /** getChildren with watch=true. */
  addChildWatch(path: string, watcher: WatcherId): void {
    this.childWatches.add(path, watcher);
  }

  /** DataTree.addWatch (addWatch request): the mode goes into both tables. Unknown modes: BadArguments. */
  addWatch(path: string, watcher: WatcherId, mode: number): number {
    let m: WatcherMode;
    if (mode === AddWatchMode.persistent) m = "persistent";
    else if (mode === AddWatchMode.persistentRecursive) m = "persistentRecursive";
    else return Code.badArguments;
    this.dataWatches.add(path, watcher, m);
    this.childWatches.add(path, watcher, m);
    return Code.ok;
  }

  /** Forget every watch of a connection that closed. */
  removeWatcher(watcher: WatcherId): void {
    this.dataWatches.removeWatcher(watcher);
    this.childWatches.removeWatcher(watcher);
  }

  /**
   * checkWatches (DataTree.containsWatcher): Code.ok or Code.noWatcher. ZooKeeper 3.8 knows WatcherType
   * children(1), data(2), any(3); another type fails to convert there (MarshallingError), and here.
   */
  check(path: string, type: number, watcher: WatcherId): number {
    let found: boolean;
    if (type === WatcherType.children) found = this.childWatches.contains(path, watcher);
    else if (type === WatcherType.data) found = this.dataWatches.contains(path, watcher);
    else if (type === WatcherType.any)
      found = this.childWatches.contains(path, watcher) || this.dataWatches.contains(path, watcher);
    else return Code.marshallingError;
    return found ? Code.ok : Code.noWatcher;
  }

  /** removeWatches (DataTree.removeWatch): Code.ok, Code.noWatcher, or MarshallingError for unknown types. */
  remove(path: string, type: number, watcher: WatcherId): number {
    let removed: boolean;
    if (type === WatcherType.children) removed = this.childWatches.remove(path, watcher);
    else if (type === WatcherType.data) removed = this.dataWatches.remove(path, watcher);
    else if (type === WatcherType.any) {
      const c = this.childWatches.remove(path, watcher);
      const d = this.dataWatches.remove(path, watcher);
      removed = c || d;
    } else return Code.marshallingError;
    return removed ? Code.ok : Code.noWatcher;
  }

  /** DataTree.createNode: NodeCreated on the node (data watches), then NodeChildrenChanged on the parent. */
  nodeCreated(path: string, acl: readonly ACL[], parent: string, parentAcl: readonly ACL[]): WatchDelivery[] {
    const out = deliveries(
      this.dataWatches.trigger(path, EventType.nodeCreated),
      EventType.nodeCreated,
      path,
      acl,
    );
    for (const w of this.childWatches.trigger(parent, EventType.nodeChildrenChanged)) {
      out.push({ watcher: w, type: EventType.nodeChildrenChanged, path: parent, acl: parentAcl });
    }
    return out;
  }

  /**
   * DataTree.deleteNode: NodeDeleted to the node's data watchers, NodeDeleted to its child watchers not
   * already told, then NodeChildrenChanged on the parent.
   */
  nodeDeleted(path: string, acl: readonly ACL[], parent: string, parentAcl: readonly ACL[]): WatchDelivery[] {
    const told = this.dataWatches.trigger(path, EventType.nodeDeleted);
    const out = deliveries(told, EventType.nodeDeleted, path, acl);
    const suppress = new Set(told);
    for (const w of this.childWatches.trigger(path, EventType.nodeDeleted)) {
      if (!suppress.has(w)) out.push({ watcher: w, type: EventType.nodeDeleted, path, acl });
    }
    for (const w of this.childWatches.trigger(parent, EventType.nodeChildrenChanged)) {
      out.push({ watcher: w, type: EventType.nodeChildrenChanged, path: parent, acl: parentAcl });
    }
    return out;
  }

  /** DataTree.setData: NodeDataChanged to the node's data watchers. */
  nodeDataChanged(path: string, acl: readonly ACL[]): WatchDelivery[] {
    return deliveries(
      this.dataWatches.trigger(path, EventType.nodeDataChanged),
      EventType.nodeDataChanged,
      path,
      acl,
    );
  }

  /** DataTree.getWatchCount (mntr zk_watch_count): registrations in both tables. */
  get watchCount(): number {
    return this.dataWatches.size + this.childWatches.size;
  }

  /** DataTree.getWatchesSummary (`wchs`): ZooKeeper reports the data watch table only. */
  summary(): WatchesSummary {
    return this.dataWatches.summary();
  }
}

function deliveries(
  watchers: WatcherId[],
  type: EventTypeValue,
  path: string,
  acl: readonly ACL[],
): WatchDelivery[] {
  return watchers.map((watcher) => ({ watcher, type, path, acl }));
}
