// A full garbage collection once the server has gone quiet after writes or a restart, so the memory that loading
// or a burst of writes left behind goes back to the OS (as a JVM's periodic collection gives its heap back)
// instead of waiting on V8's own heuristics, which may hold it for good on a server that stays idle.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Synchronous collections: the whole heap (compacting), or the young generation only (a few milliseconds). */
export interface Collector {
  full(): void;
  young(): void;
}

/**
 * Young collections after a full one, one per quiet period. V8 sizes the young generation by the allocation rate
 * it saw at recent collections; the one right after a burst still sees the burst and keeps the young generation
 * at its largest (32 MiB, all of it resident after a load). A later one sees the quiet and shrinks it.
 */
export const youngCollectionsAfterFull = 3;

/** V8's gc(), made available at run time (as --expose-gc would); undefined where V8 refuses. */
export function loadCollector(): Collector | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    if (typeof gc !== "function") return undefined;
    const run = gc as (options?: { type: "minor" | "major" }) => unknown;
    return {
      full: () => {
        // Compacting moves live objects out of sparse pages so that whole pages go back to the OS: after a long
        // run of creates the old generation is mostly such pages.
        setFlagsFromString("--compact-on-every-full-gc");
        try {
          run();
        } finally {
          setFlagsFromString("--no-compact-on-every-full-gc");
        }
      },
      young: () => run({ type: "minor" }),
    };
  } catch {
    return undefined;
  }
}

/**
 * Looked at once a period: when the server's activity count (requests other than pings, txns applied) has not
 * moved for a whole period after it had moved (or since start), collects the whole heap once, then the young
 * generation once per quiet period, `youngCollectionsAfterFull` times. A collection of a large heap stops the
 * server for a while (about 0.9 s at a million znodes), so it must only happen when nothing is asked.
 */
export class IdleCollector {
  private lastSeen: number | null = null;
  private dirty = true;
  private youngLeft = 0;

  constructor(
    private readonly collector: Collector,
    private readonly progress: () => number,
  ) {}

  /** What it collected, if anything. */
  check(): "full" | "young" | null {
    const now = this.progress();
    if (now !== this.lastSeen) {
      this.lastSeen = now;
      this.dirty = true;
      this.youngLeft = 0;
      return null;
    }
    if (this.dirty) {
      this.dirty = false;
      this.youngLeft = youngCollectionsAfterFull;
      this.collector.full();
      return "full";
    }
    if (this.youngLeft === 0) return null;
    this.youngLeft--;
    this.collector.young();
    return "young";
  }
}
