// Time and randomness enter the pure layers only through these interfaces. Pure.

export interface Clock {
  /** Milliseconds since the epoch (wall clock, for ctime/mtime). */
  nowMs(): number;
  /** Monotonic milliseconds (for timeouts). */
  monotonicMs(): number;
}

export interface Prng {
  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number;
}

/** A small seeded generator (sfc32 seeded by splitmix32), deterministic across platforms. */
export class SeededPrng implements Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return this.nextUint32() % n;
  }
}
