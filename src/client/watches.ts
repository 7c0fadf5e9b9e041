// The client's watch tables (ZKWatchManager): one-shot data/exist/child watches, persistent and recursive ones.
import { EventType } from "../protocol/opcodes.js";
import { InvalidArgumentError, WatchStreamOverflowError } from "./errors.js";

export type WatchEventType =
  | "nodeCreated"
  | "nodeDeleted"
  | "nodeDataChanged"
  | "nodeChildrenChanged"
  | "dataWatchRemoved"
  | "childWatchRemoved"
  | "persistentWatchRemoved";

/** A watch firing: what happened, to which path (as the client sees it, chroot stripped). */
export interface WatchEvent {
  type: WatchEventType;
  path: string;
  /** The zxid the server put in the notification's header; -1n when it sends none (ZooKeeper 3.8). */
  zxid: bigint;
}

export type WatchCallback = (event: WatchEvent) => void;

/** The watch kinds removeWatches/checkWatches take (Watcher.WatcherType). */
export type WatcherKind = "children" | "data" | "any" | "persistent" | "persistent-recursive";

const eventTypeNames = new Map<number, WatchEventType>([
  [EventType.nodeCreated, "nodeCreated"],
  [EventType.nodeDeleted, "nodeDeleted"],
  [EventType.nodeDataChanged, "nodeDataChanged"],
  [EventType.nodeChildrenChanged, "nodeChildrenChanged"],
  [EventType.dataWatchRemoved, "dataWatchRemoved"],
  [EventType.childWatchRemoved, "childWatchRemoved"],
  [EventType.persistentWatchRemoved, "persistentWatchRemoved"],
]);

/** The name for a wire EventType, or undefined for None and unknown types. */
export function watchEventType(type: number): WatchEventType | undefined {
  return eventTypeNames.get(type);
}

type Table = Map<string, Set<WatchCallback>>;

function add(table: Table, path: string, cb: WatchCallback): void {
  let set = table.get(path);
  if (set === undefined) table.set(path, (set = new Set()));
  set.add(cb);
}

function takeAll(table: Table, path: string, into: Set<WatchCallback>): void {
  const set = table.get(path);
  if (set === undefined) return;
  table.delete(path);
  for (const cb of set) into.add(cb);
}

function copyAll(table: Table, path: string, into: Set<WatchCallback>): void {
  const set = table.get(path);
  if (set !== undefined) for (const cb of set) into.add(cb);
}

/** "/a/b/c" → "/a/b/c", "/a/b", "/a", "/" (PathParentIterator.forAll). */
function* selfAndAncestors(path: string): Generator<string> {
  let p = path;
  for (;;) {
    yield p;
    if (p === "/") return;
    const slash = p.lastIndexOf("/");
    p = slash === 0 ? "/" : p.slice(0, slash);
  }
}

/** The paths to re-arm with setWatches/setWatches2, client paths (chroot not yet applied). */
export interface WatchLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

/** Removed callbacks and the event each is told (dataWatchRemoved, childWatchRemoved, persistentWatchRemoved). */
export type Removed = Array<{ callback: WatchCallback; type: WatchEventType }>;

/**
 * Keys are client paths. A one-shot callback is registered after a successful reply (exists with NoNode arms
 * an exist watch) and removed when it fires, so it fires at most once; the same callback registered twice for
 * one event fires once (ZooKeeper keeps Sets too).
 */
export class WatchRegistry {
  private readonly data: Table = new Map();
  private readonly exist: Table = new Map();
  private readonly child: Table = new Map();
  private readonly persistent: Table = new Map();
  private readonly persistentRecursive: Table = new Map();

  addData(path: string, cb: WatchCallback): void {
    add(this.data, path, cb);
  }
  addExist(path: string, cb: WatchCallback): void {
    add(this.exist, path, cb);
  }
  addChild(path: string, cb: WatchCallback): void {
    add(this.child, path, cb);
  }
  addPersistent(path: string, cb: WatchCallback, recursive: boolean): void {
    add(recursive ? this.persistentRecursive : this.persistent, path, cb);
  }

  get isEmpty(): boolean {
    return (
      this.data.size +
        this.exist.size +
        this.child.size +
        this.persistent.size +
        this.persistentRecursive.size ===
      0
    );
  }

  /**
   * The callbacks an event from the server fires (ZKWatchManager.materialize), one-shot ones removed. A
   * persistent-recursive watch is not told of child changes: ZooKeeper documents it never gets them.
   */
  materialize(type: WatchEventType, path: string): Set<WatchCallback> {
    const out = new Set<WatchCallback>();
    switch (type) {
      case "nodeCreated":
      case "nodeDataChanged":
        takeAll(this.data, path, out);
        takeAll(this.exist, path, out);
        break;
      case "nodeChildrenChanged":
        takeAll(this.child, path, out);
        break;
      case "nodeDeleted":
        takeAll(this.data, path, out);
        takeAll(this.exist, path, out);
        takeAll(this.child, path, out);
        break;
      default:
        return out;
    }
    copyAll(this.persistent, path, out);
    if (type !== "nodeChildrenChanged") {
      for (const p of selfAndAncestors(path)) copyAll(this.persistentRecursive, p, out);
    }
    return out;
  }

  /** Whether a watch of `kind` on `path` exists (and, given `cb`, whether that callback holds one). */
  has(path: string, kind: WatcherKind, cb?: WatchCallback): boolean {
    return this.tablesFor(kind).some(([table]) => {
      const set = table.get(path);
      return set !== undefined && (cb === undefined || set.has(cb));
    });
  }

  /**
   * Whether, once remove(path, kind, cb) has run, a callback would remain that the server's watch of
   * `serverKind` serves. ZooKeeper 3.8 keeps a persistent watch in both its data and child tables and removes
   * by connection and path, so removing a data or child watch there drops a persistent one on that path too.
   */
  stillServed(
    path: string,
    kind: WatcherKind,
    cb: WatchCallback | undefined,
    serverKind: WatcherKind,
  ): boolean {
    const removing = new Set(this.tablesFor(kind).map(([t]) => t));
    const served: Table[] =
      serverKind === "data"
        ? [this.data, this.exist, this.persistent, this.persistentRecursive]
        : serverKind === "children"
          ? [this.child, this.persistent, this.persistentRecursive]
          : [this.data, this.exist, this.child, this.persistent, this.persistentRecursive];
    return served.some((table) => {
      const set = table.get(path);
      if (set === undefined) return false;
      if (!removing.has(table)) return set.size > 0;
      if (cb === undefined) return false;
      for (const c of set) if (c !== cb) return true;
      return false;
    });
  }

  /** Removes `cb` (or every callback) of `kind` on `path`; returns what was removed and the event to tell each. */
  remove(path: string, kind: WatcherKind, cb?: WatchCallback): Removed {
    const removed: Removed = [];
    for (const [table, type] of this.tablesFor(kind)) {
      const set = table.get(path);
      if (set === undefined) continue;
      for (const c of set) {
        if (cb !== undefined && c !== cb) continue;
        removed.push({ callback: c, type });
        set.delete(c);
      }
      if (set.size === 0) table.delete(path);
    }
    return removed;
  }

  lists(): WatchLists {
    return {
      data: [...this.data.keys()],
      exist: [...this.exist.keys()],
      child: [...this.child.keys()],
      persistent: [...this.persistent.keys()],
      persistentRecursive: [...this.persistentRecursive.keys()],
    };
  }

  clear(): void {
    for (const t of [this.data, this.exist, this.child, this.persistent, this.persistentRecursive]) t.clear();
  }

  private tablesFor(kind: WatcherKind): Array<[Table, WatchEventType]> {
    switch (kind) {
      case "data":
        return [
          [this.data, "dataWatchRemoved"],
          [this.exist, "dataWatchRemoved"],
        ];
      case "children":
        return [[this.child, "childWatchRemoved"]];
      case "persistent":
        return [[this.persistent, "persistentWatchRemoved"]];
      case "persistent-recursive":
        return [[this.persistentRecursive, "persistentWatchRemoved"]];
      case "any":
        return [
          [this.data, "dataWatchRemoved"],
          [this.exist, "dataWatchRemoved"],
          [this.child, "childWatchRemoved"],
          [this.persistent, "persistentWatchRemoved"],
          [this.persistentRecursive, "persistentWatchRemoved"],
        ];
      default:
        throw new InvalidArgumentError(`unknown watcher kind ${String(kind)}`);
    }
  }
}

/** Events buffered by a WatchEventStream nobody reads before it fails: a bound, not a guess at a rate. */
export const watchStreamEventsMax = 100_000;

/**
 * The async-iterator form of a persistent watch. Events queue until read; `return()` (a `break` out of
 * `for await`) or `close()` stops it and calls `onStop` once, which removes the watch. The stream ends when
 * the client closes or removeWatches removes its watch, and throws when the session expires.
 */
export class WatchEventStream implements AsyncIterableIterator<WatchEvent> {
  private readonly events: WatchEvent[] = [];
  private waiter: { resolve(r: IteratorResult<WatchEvent>): void; reject(e: unknown): void } | undefined;
  private done = false;
  private failure: unknown;
  readonly callback: WatchCallback = (event) => this.push(event);

  constructor(private readonly onStop: (stream: WatchEventStream) => void) {}

  /** True once the stream will yield nothing new. */
  get ended(): boolean {
    return this.done;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.events.length > 0) return Promise.resolve({ value: this.events.shift()!, done: false });
    if (this.failure !== undefined) {
      const err = this.failure;
      this.failure = undefined;
      return Promise.reject(err);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== undefined)
      return Promise.reject(new InvalidArgumentError("next() called concurrently"));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Stops the stream and removes its watch. */
  close(): void {
    if (this.done) return;
    this.end(undefined);
    this.onStop(this);
  }

  /** The client ends the stream: done after buffered events, or `error` after them. */
  end(error: unknown): void {
    if (this.done) return;
    this.done = true;
    if (error !== undefined) this.failure = error;
    const w = this.waiter;
    if (w === undefined) return;
    this.waiter = undefined;
    if (error !== undefined) {
      this.failure = undefined;
      w.reject(error);
    } else w.resolve({ value: undefined, done: true });
  }

  private push(event: WatchEvent): void {
    if (this.done) return;
    if (event.type === "persistentWatchRemoved") {
      this.end(undefined);
      return;
    }
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w.resolve({ value: event, done: false });
      return;
    }
    if (this.events.length >= watchStreamEventsMax) {
      this.end(new WatchStreamOverflowError(watchStreamEventsMax));
      this.onStop(this);
      return;
    }
    this.events.push(event);
  }
}
