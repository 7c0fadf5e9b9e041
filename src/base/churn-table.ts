// ChurnTable: a table for keys that come and go at the request or session rate (the prepare step's pending
// changes, the server's connections and sessions), where a Map makes the young-generation collector keep garbage
// alive.
//
// When a Map or Set rehashes, V8 links the old hash table to the new one so that live iterators can follow; an
// old table that was promoted is scanned as a root by the next young collection even once it is garbage, and its
// link keeps the next table alive, which keeps the one after it, together with every value each table still
// held. A table whose keys churn rehashes every few dozen writes, so the chain grows by a table per few dozen
// requests and all of it is promoted: with 64 creates in flight, the pending-change Map alone doubled the bytes
// promoted per create.
//
// This table is open addressing with linear probing over plain arrays that are written in place: a delete shifts
// the entries after it back instead of leaving a tombstone, so churn never rehashes, and the arrays are replaced
// only when the table doubles or halves, after the old ones are emptied, so a dead array holds nothing. (A
// null-prototype object rehashes without a link too, but each new string key is internalised, an old-space string
// per key, and a lookup or delete of a non-internalised string costs several times a Map's.) Pure.

/** A key: compared with `===` (strings by content, bigints by value); a number key must not be NaN. */
export type ChurnKey = string | number | bigint;

const capacityMin = 16;
/** Below this many slots a table never shrinks: a table refilled after each drain would rehash every time. */
const shrinkAbove = 1024;

/**
 * get/set/delete/has/size/clear/values() like a Map<K, V>; values() in no particular order. A string key costs a
 * pass over its characters per call (its hash), a bigint key a conversion of its low 32 bits.
 */
export class ChurnTable<K extends ChurnKey, V> {
  private keys: (K | undefined)[] = emptySlots(capacityMin);
  private vals: (V | undefined)[] = emptySlots(capacityMin);
  /** Each occupied slot's hashOf(key). */
  private hashes = new Int32Array(capacityMin);
  private mask = capacityMin - 1;
  /** 32 - log2(capacity): a hash's home slot is its Fibonacci product's top bits. */
  private shift = 32 - Math.log2(capacityMin);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    const i = this.find(key, hashOf(key));
    return i < 0 ? undefined : this.vals[i];
  }

  has(key: K): boolean {
    return this.find(key, hashOf(key)) >= 0;
  }

  set(key: K, value: V): void {
    const h = hashOf(key);
    const found = this.find(key, h);
    if (found >= 0) {
      this.vals[found] = value;
      return;
    }
    if ((this.count + 1) * 2 > this.keys.length) this.resize(this.keys.length * 2);
    this.place(key, value, h);
    this.count++;
  }

  delete(key: K): boolean {
    let hole = this.find(key, hashOf(key));
    if (hole < 0) return false;
    const { keys, vals, hashes, mask } = this;
    // Backward shift: an entry after the hole moves into it unless its home lies between the two.
    for (let j = (hole + 1) & mask; keys[j] !== undefined; j = (j + 1) & mask) {
      if (((j - this.home(hashes[j]!)) & mask) < ((j - hole) & mask)) continue;
      keys[hole] = keys[j];
      vals[hole] = vals[j];
      hashes[hole] = hashes[j]!;
      hole = j;
    }
    keys[hole] = undefined;
    vals[hole] = undefined;
    this.count--;
    if (this.count * 8 < keys.length && keys.length > shrinkAbove) this.resize(keys.length / 2);
    return true;
  }

  clear(): void {
    const old = this.replaceArrays(capacityMin);
    old.keys.fill(undefined);
    old.vals.fill(undefined);
    this.count = 0;
  }

  /** The values, as of the call (changes while iterating are not seen). */
  values(): V[] {
    const out: V[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== undefined) out.push(this.vals[i] as V);
    return out;
  }

  /** The slot holding `key` (whose hash is `h`), or -1. */
  private find(key: K, h: number): number {
    const { keys, hashes, mask } = this;
    for (let i = this.home(h); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === undefined) return -1;
      if (hashes[i] === h && k === key) return i;
    }
  }

  private home(h: number): number {
    return Math.imul(h, 0x9e3779b1) >>> this.shift;
  }

  /** Puts a key that is not in the table into the first free slot from its home. */
  private place(key: K, value: V, h: number): void {
    let i = this.home(h);
    while (this.keys[i] !== undefined) i = (i + 1) & this.mask;
    this.keys[i] = key;
    this.vals[i] = value;
    this.hashes[i] = h;
  }

  /** Rehashes into `capacity` slots (a power of two), emptying the old arrays after. */
  private resize(capacity: number): void {
    const { keys, vals, hashes } = this.replaceArrays(capacity);
    for (let j = 0; j < keys.length; j++)
      if (keys[j] !== undefined) this.place(keys[j]!, vals[j] as V, hashes[j]!);
    // Once promoted, a dropped array would keep what it points at alive through young collections.
    keys.fill(undefined);
    vals.fill(undefined);
  }

  /** Empty arrays of `capacity` slots in place of the current ones, which are returned. */
  private replaceArrays(capacity: number): {
    keys: (K | undefined)[];
    vals: (V | undefined)[];
    hashes: Int32Array;
  } {
    const old = { keys: this.keys, vals: this.vals, hashes: this.hashes };
    this.keys = emptySlots(capacity);
    this.vals = emptySlots(capacity);
    this.hashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    return old;
  }
}

function emptySlots<T>(n: number): (T | undefined)[] {
  return new Array<T | undefined>(n).fill(undefined);
}

/** FNV-1a over a string's UTF-16 units; a number's or bigint's low 32 bits. */
function hashOf(key: ChurnKey): number {
  if (typeof key === "string") {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return h;
  }
  if (typeof key === "number") return key | 0;
  return Number(BigInt.asIntN(32, key));
}
