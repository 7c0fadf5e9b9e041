// Quotas as ZooKeeper 3.8 keeps them: /zookeeper/quota/<path>/zookeeper_limits holds a subtree's limits and
// /zookeeper/quota/<path>/zookeeper_stats its usage, both in StatsTrack's text; a PathTrie of quota roots finds a
// path's quota in O(depth) (DataTree.getMaxPrefixWithQuota); QuotaTracker is DataTree's bookkeeping
// (updateQuotaStat, updateQuotaForPath, setupQuota); checkQuota is ZooKeeperServer.checkQuota's arithmetic.
// Pure: no I/O, no clock, no randomness.
import { quotaZookeeper } from "./path.js";

export const limitNode = "zookeeper_limits";
export const statNode = "zookeeper_stats";

/** Quotas.quotaPath: the quota node of a path. */
export function quotaPath(path: string): string {
  return quotaZookeeper + path;
}

/** Quotas.limitPath. */
export function limitPath(path: string): string {
  return `${quotaZookeeper}${path}/${limitNode}`;
}

/** Quotas.statPath. */
export function statPath(path: string): string {
  return `${quotaZookeeper}${path}/${statNode}`;
}

const countKey = "count";
const bytesKey = "bytes";
const countHardLimitKey = "countHardLimit";
const byteHardLimitKey = "byteHardLimit";

const longMin = -(1n << 63n);
const longMax = (1n << 63n) - 1n;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Long.parseLong for ASCII digits; undefined where Java throws NumberFormatException. */
function parseLong(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < longMin || n > longMax ? undefined : n;
}

/** Java's long arithmetic wraps. */
function wrapLong(n: bigint): bigint {
  return BigInt.asIntN(64, n);
}

/**
 * StatsTrack: `key=long` pairs separated by "," or ";" (count and bytes first, for 3.4's parser). A missing
 * value reads as -1. Where ZooKeeper would throw on a malformed pair (no "=", not a long), the pair is skipped:
 * a client can write anything into these nodes, and the tree must not fail on it.
 */
export class StatsTrack {
  private readonly stats = new Map<string, bigint>();

  constructor(text = "") {
    if (text.length === 0) return;
    for (const pair of text.split(/[,;]+/)) {
      // String.split("=") drops trailing empty strings.
      const kv = pair.split("=");
      while (kv.length > 0 && kv[kv.length - 1] === "") kv.pop();
      if (kv.length < 2) continue;
      const value = kv[1] === "" ? -1n : parseLong(kv[1]!);
      if (value !== undefined) this.stats.set(kv[0]!, value);
    }
  }

  static fromBytes(data: Uint8Array | null): StatsTrack {
    return new StatsTrack(data === null ? "" : decoder.decode(data));
  }

  /** A value, or -1 when absent. */
  get(key: string): bigint {
    return this.stats.get(key) ?? -1n;
  }

  set(key: string, value: bigint): this {
    this.stats.set(key, wrapLong(value));
    return this;
  }

  get count(): bigint {
    return this.get(countKey);
  }
  set count(v: bigint) {
    this.set(countKey, v);
  }
  get bytes(): bigint {
    return this.get(bytesKey);
  }
  set bytes(v: bigint) {
    this.set(bytesKey, v);
  }
  get countHardLimit(): bigint {
    return this.get(countHardLimitKey);
  }
  set countHardLimit(v: bigint) {
    this.set(countHardLimitKey, v);
  }
  get byteHardLimit(): bigint {
    return this.get(byteHardLimitKey);
  }
  set byteHardLimit(v: bigint) {
    this.set(byteHardLimitKey, v);
  }

  /**
   * StatsTrack.toString: "count=C,bytes=B", then, if there are other keys, "=" and ";key=value" for each in
   * sorted order ("count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3").
   */
  toString(): string {
    let out = `${countKey}=${this.count},${bytesKey}=${this.bytes}`;
    const others = [...this.stats.keys()].filter((k) => k !== countKey && k !== bytesKey).sort();
    if (others.length > 0) {
      out += "=";
      for (const k of others) out += `;${k}=${this.stats.get(k)}`;
    }
    return out;
  }

  toBytes(): Uint8Array {
    return encoder.encode(this.toString());
  }
}

/** PathTrie.split: the components, without those that String.trim() leaves empty. */
function trieComponents(path: string): string[] {
  return path.split("/").filter((t) => !isJavaBlank(t));
}

/** String.trim().isEmpty(): every character is at most U+0020. */
function isJavaBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x20) return false;
  return true;
}

interface TrieNode {
  property: boolean;
  readonly children: Map<string, TrieNode>;
}

/** ZooKeeper's PathTrie: paths with a property (a quota), found by their deepest marked prefix. */
export class PathTrie {
  private readonly root: TrieNode = { property: false, children: new Map() };

  get empty(): boolean {
    return this.root.children.size === 0;
  }

  addPath(path: string): void {
    let node = this.root;
    for (const part of trieComponents(path)) {
      let child = node.children.get(part);
      if (child === undefined) node.children.set(part, (child = { property: false, children: new Map() }));
      node = child;
    }
    node.property = true;
  }

  /** PathTrie.deletePath: removes the path's trie node and everything below it (nested quotas included). */
  deletePath(path: string): void {
    const parts = trieComponents(path);
    if (parts.length === 0) return;
    let parent = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const child = parent.children.get(parts[i]!);
      if (child === undefined) return;
      parent = child;
    }
    parent.children.delete(parts[parts.length - 1]!);
  }

  /** PathTrie.findMaxPrefix: the deepest marked prefix of `path` as "/a/b", or "/" when there is none. */
  findMaxPrefix(path: string): string {
    let node = this.root;
    const seen: string[] = [];
    let deepest = -1;
    for (const part of trieComponents(path)) {
      const child = node.children.get(part);
      if (child === undefined) break;
      seen.push(part);
      node = child;
      if (child.property) deepest = seen.length;
    }
    return deepest < 0 ? "/" : `/${seen.slice(0, deepest).join("/")}`;
  }
}

/** What QuotaTracker needs of the tree's nodes. */
export interface QuotaNodes {
  getNode(
    path: string,
  ): { readonly data: Uint8Array | null; readonly children: ReadonlySet<string> } | undefined;
  /** Replaces a node's data without a txn: its Stat (mzxid, version) stays and no watch fires, as in ZooKeeper. */
  setDataWithoutTxn(path: string, data: Uint8Array): void;
}

/**
 * DataTree's quota bookkeeping. The tree calls nodeCreated/nodeDeleted/dataChanged after each change; a change
 * under a quota root rewrites that root's zookeeper_stats data (updateQuotaStat). Creating a zookeeper_limits
 * node marks its path in the trie, creating a zookeeper_stats node counts the subtree once (updateQuotaForPath).
 */
export class QuotaTracker {
  private readonly trie = new PathTrie();

  constructor(private readonly nodes: QuotaNodes) {}

  /** DataTree.getMaxPrefixWithQuota: the quota root covering `path`, or undefined. O(depth). */
  maxPrefixWithQuota(path: string): string | undefined {
    if (this.trie.empty) return undefined;
    const prefix = this.trie.findMaxPrefix(path);
    return prefix === "/" || prefix === "" ? undefined : prefix;
  }

  /** The end of DataTree.createNode. */
  nodeCreated(path: string, data: Uint8Array | null): void {
    const lastSlash = path.lastIndexOf("/");
    const parentName = path.substring(0, lastSlash);
    const childName = path.substring(lastSlash + 1);
    if (parentName.startsWith(quotaZookeeper)) {
      const realPath = parentName.substring(quotaZookeeper.length);
      // ZooKeeper's PathTrie refuses "" (a zookeeper_limits directly under /zookeeper/quota) with an exception.
      if (childName === limitNode && realPath !== "") this.trie.addPath(realPath);
      if (childName === statNode) this.updateQuotaForPath(realPath);
    }
    const prefix = this.maxPrefixWithQuota(path);
    if (prefix !== undefined) this.updateQuotaStat(prefix, BigInt(data?.length ?? 0), 1n);
  }

  /** The end of DataTree.deleteNode. */
  nodeDeleted(path: string, data: Uint8Array | null): void {
    const lastSlash = path.lastIndexOf("/");
    const parentName = path.substring(0, lastSlash);
    // ZooKeeper tests the /zookeeper prefix here but trims /zookeeper/quota's length (as this does).
    if (
      parentName.startsWith("/zookeeper") &&
      parentName.length > quotaZookeeper.length &&
      path.substring(lastSlash + 1) === limitNode
    ) {
      this.trie.deletePath(parentName.substring(quotaZookeeper.length));
    }
    const prefix = this.maxPrefixWithQuota(path);
    if (prefix !== undefined) this.updateQuotaStat(prefix, -BigInt(data?.length ?? 0), -1n);
  }

  /** DataTree.setData's quota step. */
  dataChanged(path: string, lastData: Uint8Array | null, data: Uint8Array | null): void {
    const prefix = this.maxPrefixWithQuota(path);
    if (prefix === undefined) return;
    this.updateQuotaStat(prefix, BigInt((data?.length ?? 0) - (lastData?.length ?? 0)), 0n);
  }

  /**
   * DataTree.setupQuota after a snapshot is loaded: every zookeeper_limits leaf under /zookeeper/quota marks
   * its path and has its stats recounted (O(quota subtrees)).
   */
  setup(): void {
    this.traverse(quotaZookeeper);
  }

  private traverse(root: string): void {
    const stack = [root];
    while (stack.length > 0) {
      const path = stack.pop()!;
      const node = this.nodes.getNode(path);
      if (node === undefined) continue;
      if (node.children.size === 0) {
        const end = `/${limitNode}`;
        if (path.endsWith(end)) {
          const realPath = path.substring(quotaZookeeper.length, path.indexOf(end));
          this.updateQuotaForPath(realPath);
          if (realPath !== "") this.trie.addPath(realPath);
        }
        continue;
      }
      for (const c of [...node.children].sort().reverse()) stack.push(`${path}/${c}`);
    }
  }

  /** DataTree.updateQuotaStat: adds to count and bytes of the quota root's zookeeper_stats. */
  private updateQuotaStat(prefix: string, bytesDiff: bigint, countDiff: bigint): void {
    const path = statPath(prefix);
    const node = this.nodes.getNode(path);
    if (node === undefined) return; // ZooKeeper logs "Missing node for stat" and goes on.
    const stats = StatsTrack.fromBytes(node.data);
    stats.count = stats.count + countDiff;
    stats.bytes = stats.bytes + bytesDiff;
    this.nodes.setDataWithoutTxn(path, stats.toBytes());
  }

  /** DataTree.updateQuotaForPath: count the subtree at `path` (itself included) into its zookeeper_stats. */
  private updateQuotaForPath(path: string): void {
    let count = 0n;
    let bytes = 0n;
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const node = this.nodes.getNode(p);
      if (node === undefined) continue;
      count += 1n;
      bytes += BigInt(node.data?.length ?? 0);
      for (const c of node.children) stack.push(`${p}/${c}`);
    }
    const stats = new StatsTrack();
    stats.bytes = bytes;
    stats.count = count;
    const sp = statPath(path);
    if (this.nodes.getNode(sp) === undefined) return;
    this.nodes.setDataWithoutTxn(sp, stats.toBytes());
  }
}

/** A limit that a create or setData goes over (ZooKeeperServer.checkQuota's "Quota exceeded" log line). */
export interface QuotaExceeded {
  /** The quota root. */
  prefix: string;
  what: "count" | "bytes";
  /** The count or bytes after the write. */
  current: bigint;
  limit: bigint;
  hard: boolean;
}

/** ZooKeeper's log text for it: "Quota exceeded: /a [current count=4, hardCountLimit=3]". */
export function quotaExceededMessage(e: QuotaExceeded): string {
  const kind = e.hard ? "hard" : "soft";
  const limitName = e.what === "count" ? "CountLimit" : "ByteLimit";
  return `Quota exceeded: ${e.prefix} [current ${e.what}=${e.current}, ${kind}${limitName}=${e.limit}]`;
}

/**
 * ZooKeeperServer.checkQuota(lastPrefix, bytesDiff, countDiff): each limit the change goes over, count first; a
 * hard limit, when set, replaces the soft one. The caller refuses the write at the first hard one (ZooKeeper
 * throws QuotaExceeded there, before looking at bytes).
 */
export function checkQuota(
  limits: StatsTrack,
  stats: StatsTrack,
  prefix: string,
  bytesDiff: bigint,
  countDiff: bigint,
): QuotaExceeded[] {
  const out: QuotaExceeded[] = [];
  const checks: ["count" | "bytes", bigint, bigint, bigint, bigint][] = [
    ["count", countDiff, stats.count, limits.count, limits.countHardLimit],
    ["bytes", bytesDiff, stats.bytes, limits.bytes, limits.byteHardLimit],
  ];
  for (const [what, diff, used, soft, hardLimit] of checks) {
    if (diff === 0n || (soft <= -1n && hardLimit <= -1n)) continue;
    const hard = hardLimit > -1n;
    const limit = hard ? hardLimit : soft;
    const current = wrapLong(used + diff);
    if (current <= limit) continue;
    out.push({ prefix, what, current, limit, hard });
  }
  return out;
}
