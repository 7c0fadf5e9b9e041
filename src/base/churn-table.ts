// ChurnTable: a table for keys that come and go at the request or session rate (the prepare step's pending
// changes, the server's connections and sessions), where a Map makes the young-generation collector keep garbage
// alive.
//
// When a Map or Set rehashes, V8 links the old hash table to the new one so that live iterators can follow; an
// old table that was promoted is scanned as a root by the next young collection even once it is garbage, and its
// link keeps the next table alive, which keeps the one after it, together with every value each table still
// held. A table whose keys churn rehashes every few dozen writes, so the chain grows by a table per few dozen
// requests and all of it is promoted: with 64 creates in flight, the pending-change Map alone doubled the bytes
// promoted per create. A dictionary-mode object rehashes into a new table with no link to it. Pure.

type Key = string | number | bigint;

/**
 * get/set/delete/has over keys of one primitive type, like a Map<K, V>; values() in no particular order. A
 * number or bigint key is stored as its decimal string (one-to-one within the type).
 */
export class ChurnTable<K extends Key, V> {
  private entries: Record<string, V> = newEntries<V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    return this.entries[String(key)];
  }

  has(key: K): boolean {
    return String(key) in this.entries;
  }

  set(key: K, value: V): void {
    const k = String(key);
    if (!(k in this.entries)) this.count++;
    this.entries[k] = value;
  }

  delete(key: K): boolean {
    const k = String(key);
    if (!(k in this.entries)) return false;
    delete this.entries[k];
    this.count--;
    return true;
  }

  clear(): void {
    this.entries = newEntries<V>();
    this.count = 0;
  }

  /** The values, as of the call (changes while iterating are not seen). */
  values(): V[] {
    const out: V[] = [];
    for (const k in this.entries) out.push(this.entries[k]!);
    return out;
  }
}

function newEntries<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
