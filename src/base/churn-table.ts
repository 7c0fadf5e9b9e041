// ChurnTable: a string-keyed table for keys that come and go at the request rate (the prepare step's pending
// changes), where a Map makes the young-generation collector keep garbage alive.
//
// When a Map or Set rehashes, V8 links the old hash table to the new one so that live iterators can follow; an
// old table that was promoted is scanned as a root by the next young collection even once it is garbage, and its
// link keeps the next table alive, which keeps the one after it, together with every value each table still
// held. A table whose keys churn rehashes every few dozen writes, so the chain grows by a table per few dozen
// requests and all of it is promoted: with 64 creates in flight, the pending-change Map alone doubled the bytes
// promoted per create. A dictionary-mode object rehashes into a new table with no link to it. Pure.

/** get/set/delete/has over string keys, like a Map<string, V> without iteration. */
export class ChurnTable<V> {
  private entries: Record<string, V> = Object.create(null) as Record<string, V>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.entries[key];
  }

  has(key: string): boolean {
    return key in this.entries;
  }

  set(key: string, value: V): void {
    if (!(key in this.entries)) this.count++;
    this.entries[key] = value;
  }

  delete(key: string): boolean {
    if (!(key in this.entries)) return false;
    delete this.entries[key];
    this.count--;
    return true;
  }
}
