// A full garbage collection once the server has gone quiet after writes or a restart, so the memory that loading
// or a burst of writes left behind goes back to the OS (as a JVM's periodic collection gives its heap back)
// instead of waiting on V8's own heuristics, which may hold it for good on a server that stays idle.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** One full, synchronous collection. */
export type Collect = () => void;

/** V8's gc(), made available at run time (as --expose-gc would); undefined where V8 refuses. */
export function loadCollector(): Collect | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    if (typeof gc !== "function") return undefined;
    return () => {
      // Compacting moves live objects out of sparse pages so that whole pages go back to the OS: after a long
      // run of creates the old generation is mostly such pages.
      setFlagsFromString("--compact-on-every-full-gc");
      try {
        (gc as () => unknown)();
      } finally {
        setFlagsFromString("--no-compact-on-every-full-gc");
      }
    };
  } catch {
    return undefined;
  }
}

/**
 * Looked at once a period: when the server's activity count (requests other than pings, txns applied) has not
 * moved for a whole period after it had moved (or since start), collects once. A collection of a large heap
 * stops the server for a while (about 0.9 s at a million znodes), so it must only happen when nothing is asked.
 */
export class IdleCollector {
  private lastSeen: number | null = null;
  private dirty = true;

  constructor(
    private readonly collect: Collect,
    private readonly progress: () => number,
  ) {}

  /** True when it collected. */
  check(): boolean {
    const now = this.progress();
    if (now !== this.lastSeen) {
      this.lastSeen = now;
      this.dirty = true;
      return false;
    }
    if (!this.dirty) return false;
    this.dirty = false;
    this.collect();
    return true;
  }
}
