// A session's authenticated ids, kept in the order ZooKeeper's ServerCnxn.authInfo yields them.
// ZooKeeper holds them in a ConcurrentHashMap-backed set, so "auth" ACL expansion and whoAmI list them
// in hash-bucket order, not in the order they were added; clients can see that order in getACL.
import type { Id } from "../protocol/types.js";

/** java.lang.String.hashCode over UTF-16 code units, with int overflow. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The jute-generated Id.hashCode: 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(). */
export function idHash(id: Id): number {
  let result = 17;
  result = (Math.imul(37, result) + javaStringHash(id.scheme)) | 0;
  result = (Math.imul(37, result) + javaStringHash(id.id)) | 0;
  return result;
}

/** ConcurrentHashMap.spread, then the bin index for a table of `size` slots. */
function binOf(id: Id, size: number): number {
  const h = idHash(id);
  return (h ^ (h >>> 16)) & 0x7fffffff & (size - 1);
}

/** Adds an id (if new) and returns the set in ConcurrentHashMap iteration order: by bin, then insertion. */
export class AuthInfo {
  private readonly inserted: Id[] = [];
  private ordered: Id[] = [];

  constructor(initial: Id[] = []) {
    for (const id of initial) this.add(id);
  }

  add(id: Id): boolean {
    if (this.inserted.some((x) => x.scheme === id.scheme && x.id === id.id)) return false;
    this.inserted.push(id);
    // Table size: 16, doubled whenever the count passes three quarters of it.
    let size = 16;
    while (this.inserted.length > size * 0.75) size *= 2;
    this.ordered = this.inserted
      .map((x, i) => ({ x, i, bin: binOf(x, size) }))
      .sort((a, b) => a.bin - b.bin || a.i - b.i)
      .map((e) => e.x);
    return true;
  }

  get ids(): Id[] {
    return this.ordered;
  }
}
