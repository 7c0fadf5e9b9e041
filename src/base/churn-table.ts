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

/**
 * get/set/delete/has over string or number keys, like a Map<K, V>; values() in the object's key order (integer
 * keys ascending, then the others as inserted). A number key is the property named by its string, as Map's -0
 * and 0 are one key.
 */
export class ChurnTable<K extends string | number, V> {
  private entries: Record<K, V> = newEntries<K, V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    return this.entries[key];
  }

  has(key: K): boolean {
    return key in this.entries;
  }

  set(key: K, value: V): void {
    if (!(key in this.entries)) this.count++;
    this.entries[key] = value;
  }

  delete(key: K): boolean {
    if (!(key in this.entries)) return false;
    delete this.entries[key];
    this.count--;
    return true;
  }

  clear(): void {
    this.entries = newEntries<K, V>();
    this.count = 0;
  }

  /** The values, as of the call (changes while iterating are not seen). */
  values(): V[] {
    const out: V[] = [];
    for (const k in this.entries) out.push(this.entries[k]);
    return out;
  }
}

interface BigIntEntry<V> {
  readonly key: bigint;
  value: V;
  next: BigIntEntry<V> | undefined;
}

/**
 * A ChurnTable for bigint keys (session ids). Converting a 64-bit key to a string costs more than the lookup
 * (about 100 ns), so a key's slot is its low 32 bits, a number, and keys that share a slot are chained there.
 */
export class BigIntChurnTable<V> {
  private readonly slots = new ChurnTable<number, BigIntEntry<V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: bigint): V | undefined {
    return find(this.slots.get(slotOf(key)), key)?.value;
  }

  has(key: bigint): boolean {
    return find(this.slots.get(slotOf(key)), key) !== undefined;
  }

  set(key: bigint, value: V): void {
    const slot = slotOf(key);
    const head = this.slots.get(slot);
    const found = find(head, key);
    if (found !== undefined) {
      found.value = value;
      return;
    }
    this.slots.set(slot, { key, value, next: head });
    this.count++;
  }

  delete(key: bigint): boolean {
    const slot = slotOf(key);
    let prev: BigIntEntry<V> | undefined;
    for (let e = this.slots.get(slot); e !== undefined; prev = e, e = e.next) {
      if (e.key !== key) continue;
      if (prev !== undefined) prev.next = e.next;
      else if (e.next !== undefined) this.slots.set(slot, e.next);
      else this.slots.delete(slot);
      this.count--;
      return true;
    }
    return false;
  }

  clear(): void {
    this.slots.clear();
    this.count = 0;
  }

  /** The values, as of the call (changes while iterating are not seen). */
  values(): V[] {
    const out: V[] = [];
    for (const head of this.slots.values())
      for (let e: BigIntEntry<V> | undefined = head; e !== undefined; e = e.next) out.push(e.value);
    return out;
  }
}

/** The entry for `key` in the chain from `e`. */
function find<V>(e: BigIntEntry<V> | undefined, key: bigint): BigIntEntry<V> | undefined {
  while (e !== undefined && e.key !== key) e = e.next;
  return e;
}

function slotOf(key: bigint): number {
  return Number(BigInt.asUintN(32, key));
}

function newEntries<K extends string | number, V>(): Record<K, V> {
  return Object.create(null) as Record<K, V>;
}
