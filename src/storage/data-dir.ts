// Data directory housekeeping: version-2 dirs, myid, and a lock file so two servers never share a dir. No txn I/O.
import { open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, CorralError } from "../base/errors.js";
import { ensureDir, fsyncDir, writeAt } from "./fs-util.js";
import { versionDirName } from "./format.js";

export const myidFileName = "myid";
export const lockFileName = "corral.lock";

/** Another live process holds the data dir's lock. */
export class DataDirLockedError extends CorralError {
  readonly file: string;
  readonly pid: number;
  constructor(file: string, pid: number) {
    super("DATA_DIR_LOCKED", `${file} is held by process ${pid}; is another server using this data dir?`);
    this.file = file;
    this.pid = pid;
  }
}

/** Creates `<dataDir>/version-2` and `<dataLogDir>/version-2` (fsyncing their parents); returns them. */
export async function ensureDataDirs(
  dataDir: string,
  dataLogDir: string,
): Promise<{ snapDir: string; logDir: string }> {
  const snapDir = join(dataDir, versionDirName);
  const logDir = join(dataLogDir, versionDirName);
  await ensureDir(snapDir);
  await ensureDir(logDir);
  return { snapDir, logDir };
}

/** The server id in `<dataDir>/myid`, or null when there is no such file. Same range as zoo.cfg's server.N. */
export async function readMyid(dataDir: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, myidFileName), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const trimmed = text.trim();
  const id = /^\d{1,3}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(id >= 0 && id <= 255))
    throw new ConfigError(
      "myid",
      `${join(dataDir, myidFileName)} must hold 0..255, has "${trimmed.slice(0, 20)}"`,
    );
  return id;
}

/** Writes `myid` atomically (temp, fsync, rename, fsync dir). */
export async function writeMyid(dataDir: string, id: number): Promise<void> {
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new ConfigError("myid", `must be 0..255, got ${id}`);
  await ensureDir(dataDir);
  const file = join(dataDir, myidFileName);
  const temp = `${file}.tmp.${process.pid}`;
  const fh = await open(temp, "w");
  try {
    await writeAt(fh, Buffer.from(`${id}\n`), 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, file);
  await fsyncDir(dataDir);
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/**
 * Takes `<dir>/corral.lock` (created with O_EXCL, holding our pid). A lock whose pid is not a live
 * process is stale (a crashed server) and is replaced once. A live pid, or our own, is refused: a reused
 * pid errs on the side of refusing, and the message names the file to remove by hand.
 * Lock dataDir and, when different, dataLogDir.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  await ensureDir(dir);
  const file = join(dir, lockFileName);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(file, "wx");
      try {
        await writeAt(fh, Buffer.from(`${process.pid}\n`), 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsyncDir(dir);
      return makeLock(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = await readLockPid(file);
    if (holder === null) continue; // removed between our create and our read: try again
    if (holder === process.pid || processAlive(holder) || attempt >= 3)
      throw new DataDirLockedError(file, holder);
    // Stale: move it aside rather than unlink, so a racing server that already replaced it is not undone
    // by us (rename takes whatever is there; we then check it was the stale one).
    const aside = `${file}.stale.${process.pid}`;
    try {
      await rename(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    const moved = await readLockPid(aside);
    if (moved !== holder) {
      await rename(aside, file); // we took a live lock from a racing server: give it back
      throw new DataDirLockedError(file, moved ?? -1);
    }
    await unlink(aside);
  }
}

function makeLock(file: string): DataDirLock {
  let released = false;
  return {
    file,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      if ((await readLockPid(file)) === process.pid) await unlink(file);
    },
  };
}

async function readLockPid(file: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const pid = Number(text.trim());
  // An empty or garbled lock (crash while writing it) counts as held by no live process.
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
