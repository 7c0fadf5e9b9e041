// InterProcessReadWriteLock: many readers or one writer, fair, re-entrant (Curator's InterProcessReadWriteLock).
import type { Data, ZooKeeperClient } from "../client/index.js";
import type { LockDriver } from "./lock-internals.js";
import { ReentrantLock } from "./mutex.js";
import { stripProtectedPrefix } from "./protected-create.js";

const readLockName = "__READ__";
const writeLockName = "__WRIT__";

function isWrite(name: string): boolean {
  return stripProtectedPrefix(name).startsWith(writeLockName);
}

/**
 * Readers and writers queue in one sequence at `path`. A writer holds when it is first in line (it watches its
 * predecessor); a reader holds when no writer is ahead of it (it watches the last writer ahead), unless this
 * process holds the write lock already, which may take the read lock too (downgrading: acquire read, then
 * release write). Fair: a waiting writer stops later readers from jumping ahead.
 */
export class InterProcessReadWriteLock {
  readonly writeLock: ReentrantLock;
  readonly readLock: ReentrantLock;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly path: string,
    options: { data?: Data } = {},
  ) {
    const data = options.data ?? null;
    const writeDriver: LockDriver = (sorted, ourName) => {
      const index = sorted.indexOf(ourName);
      return index === 0 ? { acquired: true } : { acquired: false, watch: sorted[index - 1]! };
    };
    this.writeLock = new ReentrantLock(zk, path, writeLockName, writeDriver, data);
    const readDriver: LockDriver = (sorted, ourName) => {
      if (this.writeLock.isAcquiredInThisProcess) return { acquired: true };
      const index = sorted.indexOf(ourName);
      let lastWriter = -1;
      for (let i = 0; i < index; i++) if (isWrite(sorted[i]!)) lastWriter = i;
      return lastWriter < 0 ? { acquired: true } : { acquired: false, watch: sorted[lastWriter]! };
    };
    this.readLock = new ReentrantLock(zk, path, readLockName, readDriver, data);
  }
}
